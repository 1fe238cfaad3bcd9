// k-nucleotide: read a FASTA file on stdin, take the sequence of record THREE and count its
// k-mers with the standard hash table (map), one reading frame at a time. Prints the 1-mer and
// 2-mer frequencies and the counts of five given sequences. Arguments are ignored.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
)

// readThree returns the uppercased sequence of the record whose header starts with ">THREE".
func readThree() string {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<30)
	for in.Scan() {
		if bytes.HasPrefix(in.Bytes(), []byte(">THREE")) {
			break
		}
	}
	var seq []byte
	for in.Scan() {
		line := in.Bytes()
		if len(line) > 0 && line[0] == '>' {
			break
		}
		seq = append(seq, line...)
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "knucleotide: reading stdin:", err)
		os.Exit(1)
	}
	return string(bytes.ToUpper(seq))
}

// countFrame adds the k-mers that start at frame, frame+k, frame+2k, ... to counts.
func countFrame(seq string, k, frame int, counts map[string]int) {
	for i := frame; i+k <= len(seq); i += k {
		counts[seq[i:i+k]]++
	}
}

// count returns the counts of every k-mer of seq, overlapping ones included.
func count(seq string, k int) map[string]int {
	counts := make(map[string]int)
	for frame := 0; frame < k; frame++ {
		countFrame(seq, k, frame, counts)
	}
	return counts
}

type kmerCount struct {
	kmer  string
	count int
}

// writeFrequencies prints every k-mer with its share in percent, most frequent first.
func writeFrequencies(out *bufio.Writer, seq string, k int) {
	counts := count(seq, k)
	list := make([]kmerCount, 0, len(counts))
	for kmer, c := range counts {
		list = append(list, kmerCount{kmer, c})
	}
	slices.SortFunc(list, func(a, b kmerCount) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return cmp.Compare(a.kmer, b.kmer)
	})
	total := len(seq) - k + 1
	for _, e := range list {
		fmt.Fprintf(out, "%s %.3f\n", e.kmer, 100*float64(e.count)/float64(total))
	}
	out.WriteByte('\n')
}

func main() {
	seq := readThree()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	writeFrequencies(out, seq, 1)
	writeFrequencies(out, seq, 2)
	for _, s := range []string{"GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT"} {
		fmt.Fprintf(out, "%d\t%s\n", count(seq, len(s))[s], s)
	}
}
