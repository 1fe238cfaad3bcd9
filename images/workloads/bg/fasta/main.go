// fasta: write three DNA records, a cycled ALU sequence and two weighted-random sequences
// drawn with a linear congruential generator (seed 42), in lines of at most 60 letters.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

const lineWidth = 60

const alu = "GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGACCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGCTACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGGGCGACAGAGCGAGACTCCGTCTCAAAAA"

type weighted struct {
	letter byte
	p      float64
}

var iub = []weighted{
	{'a', 0.27}, {'c', 0.12}, {'g', 0.12}, {'t', 0.27},
	{'B', 0.02}, {'D', 0.02}, {'H', 0.02}, {'K', 0.02}, {'M', 0.02},
	{'N', 0.02}, {'R', 0.02}, {'S', 0.02}, {'V', 0.02}, {'W', 0.02}, {'Y', 0.02},
}

var homoSapiens = []weighted{
	{'a', 0.3029549426680}, {'c', 0.1979883004921}, {'g', 0.1975473066391}, {'t', 0.3015094502008},
}

// The generator: seed = (seed*IA + IC) mod IM, random = max*seed/IM.
const (
	im = 139968
	ia = 3877
	ic = 29573
)

var seed = 42

func random(max float64) float64 {
	seed = (seed*ia + ic) % im
	return max * float64(seed) / im
}

// repeatFasta writes n letters of s, cycled, after the header.
func repeatFasta(out *bufio.Writer, header, s string, n int) {
	out.WriteString(header)
	ext := s + s[:lineWidth]
	pos := 0
	for n > 0 {
		w := min(n, lineWidth)
		out.WriteString(ext[pos : pos+w])
		out.WriteByte('\n')
		pos = (pos + w) % len(s)
		n -= w
	}
}

// pick returns the first index whose cumulative probability is greater than r, or the last
// index when there is none (rounding can leave the last sum just under 1).
func pick(cum []float64, r float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// randomFasta writes n letters drawn from the table after the header.
func randomFasta(out *bufio.Writer, header string, table []weighted, n int) {
	out.WriteString(header)
	letters := make([]byte, len(table))
	cum := make([]float64, len(table))
	sum := 0.0
	for i, e := range table {
		sum += e.p
		letters[i] = e.letter
		cum[i] = sum
	}
	line := make([]byte, lineWidth+1)
	for n > 0 {
		w := min(n, lineWidth)
		for i := 0; i < w; i++ {
			line[i] = letters[pick(cum, random(1.0))]
		}
		line[w] = '\n'
		out.Write(line[:w+1])
		n -= w
	}
}

func main() {
	n := 1000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: fasta N")
			os.Exit(2)
		}
		n = v
	}
	out := bufio.NewWriterSize(os.Stdout, 64*1024)
	defer out.Flush()
	repeatFasta(out, ">ONE Homo sapiens alu\n", alu, 2*n)
	randomFasta(out, ">TWO IUB ambiguity codes\n", iub, 3*n)
	randomFasta(out, ">THREE Homo sapiens frequency\n", homoSapiens, 5*n)
}
