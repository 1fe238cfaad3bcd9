"""fannkuch-redux: for every permutation of 1..n, in a fixed order, count the prefix reversals
("pancake flips") until 1 comes first; print a signed checksum and the maximum count.
"""

import sys


def flips(perm):
    """Count the reversals that bring 0 to the front of a copy of perm."""
    work = perm[:]
    count = 0
    k = work[0]
    while k:
        work[:k + 1] = work[k::-1]
        count += 1
        k = work[0]
    return count


def fannkuch(n):
    perm = list(range(n))
    # rotations[r]: how many times level r has rotated the first r+1 elements.
    rotations = [0] * n
    checksum = max_flips = 0
    index = 0
    while True:
        f = flips(perm)
        if f > max_flips:
            max_flips = f
        if index % 2 == 0:
            checksum += f
        else:
            checksum -= f

        # Next permutation: rotate the first r+1 elements left by one at the lowest level r
        # that has done fewer than r+1 rotations, resetting the levels below it.
        r = 1
        while r < n:
            perm.insert(r, perm.pop(0))
            rotations[r] += 1
            if rotations[r] <= r:
                break
            rotations[r] = 0
            r += 1
        if r >= n:
            return checksum, max_flips
        index += 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    checksum, max_flips = fannkuch(n)
    print("%d\nPfannkuchen(%d) = %d" % (checksum, n, max_flips))


main()
