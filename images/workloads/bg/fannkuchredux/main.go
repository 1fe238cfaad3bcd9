// fannkuch-redux: for every permutation of 1..n, in a fixed order, count the prefix reversals
// ("pancake flips") until 1 comes first; print a signed checksum and the maximum count.
package main

import (
	"fmt"
	"os"
	"strconv"
)

// flips counts the reversals that bring 0 to the front of a copy of perm.
func flips(perm, work []int) int {
	copy(work, perm)
	count := 0
	for k := work[0]; k != 0; k = work[0] {
		for i, j := 0, k; i < j; i, j = i+1, j-1 {
			work[i], work[j] = work[j], work[i]
		}
		count++
	}
	return count
}

func fannkuch(n int) (checksum, maxFlips int) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	work := make([]int, n)
	// rotations[r]: how many times level r has rotated the first r+1 elements.
	rotations := make([]int, n)
	for index := 0; ; index++ {
		f := flips(perm, work)
		maxFlips = max(maxFlips, f)
		if index%2 == 0 {
			checksum += f
		} else {
			checksum -= f
		}

		// Next permutation: rotate the first r+1 elements left by one at the lowest level r
		// that has done fewer than r+1 rotations, resetting the levels below it.
		r := 1
		for ; r < n; r++ {
			first := perm[0]
			copy(perm, perm[1:r+1])
			perm[r] = first
			rotations[r]++
			if rotations[r] <= r {
				break
			}
			rotations[r] = 0
		}
		if r >= n {
			return checksum, maxFlips
		}
	}
}

func main() {
	n := 7
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: fannkuchredux N")
			os.Exit(2)
		}
		n = v
	}
	checksum, maxFlips := fannkuch(n)
	fmt.Printf("%d\nPfannkuchen(%d) = %d\n", checksum, n, maxFlips)
}
