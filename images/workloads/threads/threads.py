"""threads: counts the primes below N by trial division, split across W threads: the
thread-scaling workload. Worker w takes the odd candidates w, w+W, ... of the list of odd
numbers, as the Go program does. On a GIL build the threads take turns; on a free-threaded
build they run in parallel.

Usage: threads.py N W
"""
import sys
import threading


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count(n, w, workers, out):
    c = 0
    k = w
    while 3 + 2 * k < n:
        if is_prime(3 + 2 * k):
            c += 1
        k += workers
    out[w] = c


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: threads.py N WORKERS")
    n, workers = int(sys.argv[1]), int(sys.argv[2])
    if n < 0 or workers < 1:
        sys.exit("threads: N must be >= 0 and WORKERS >= 1")
    counts = [0] * workers
    threads = [threading.Thread(target=count, args=(n, w, workers, counts))
               for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(counts) + (1 if n > 2 else 0))


if __name__ == "__main__":
    main()
