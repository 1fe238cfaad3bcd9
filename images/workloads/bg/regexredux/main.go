// regex-redux: read a FASTA file on stdin, strip headers and line ends with a regex, count the
// matches of nine DNA patterns, apply five substitutions in order and print the lengths.
// Uses the standard regexp package. Arguments are ignored.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
)

var variants = []string{
	`agggtaaa|tttaccct`,
	`[cgt]gggtaaa|tttaccc[acg]`,
	`a[act]ggtaaa|tttacc[agt]t`,
	`ag[act]gtaaa|tttac[agt]ct`,
	`agg[act]taaa|ttta[agt]cct`,
	`aggg[acg]aaa|ttt[cgt]ccct`,
	`agggt[cgt]aa|tt[acg]accct`,
	`agggta[cgt]a|t[acg]taccct`,
	`agggtaa[cgt]|[acg]ttaccct`,
}

var substitutions = []struct{ pattern, replacement string }{
	{`tHa[Nt]`, `<4>`},
	{`aND|caN|Ha[DS]|WaS`, `<3>`},
	{`a[NSt]|BY`, `<2>`},
	{`<[^>]*>`, `|`},
	{`\|[^|][^|]*\|`, `-`},
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "regexredux: reading stdin:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	seq := regexp.MustCompile(`>.*\n|\n`).ReplaceAllLiteral(input, nil)

	for _, v := range variants {
		fmt.Fprintf(out, "%s %d\n", v, len(regexp.MustCompile(v).FindAllIndex(seq, -1)))
	}

	s := seq
	for _, sub := range substitutions {
		s = regexp.MustCompile(sub.pattern).ReplaceAllLiteral(s, []byte(sub.replacement))
	}

	fmt.Fprintf(out, "\n%d\n%d\n%d\n", len(input), len(seq), len(s))
}
