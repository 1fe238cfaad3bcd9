// threads counts the primes below N by trial division, split across W goroutines: the
// thread-scaling workload. Worker w takes the odd candidates w, w+W, ... of the list of odd
// numbers, so every worker gets a similar share of large and small candidates.
//
// Usage: threads N W
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// count returns how many of the odd numbers 3+2k (k = w, w+workers, ...) below n are prime.
func count(n, w, workers int) int {
	c := 0
	for k := w; 3+2*k < n; k += workers {
		if isPrime(3 + 2*k) {
			c++
		}
	}
	return c
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: threads N WORKERS")
		os.Exit(2)
	}
	n, err1 := strconv.Atoi(os.Args[1])
	workers, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil || n < 0 || workers < 1 {
		fmt.Fprintln(os.Stderr, "threads: N must be >= 0 and WORKERS >= 1")
		os.Exit(2)
	}
	counts := make([]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			counts[w] = count(n, w, workers)
		}(w)
	}
	wg.Wait()
	total := 0
	if n > 2 {
		total = 1 // the prime 2
	}
	for _, c := range counts {
		total += c
	}
	fmt.Println(total)
}
