// reverse-complement: read a FASTA file on stdin line by line and write, for every record, its
// header unchanged and the reverse complement of its sequence in lines of 60. Arguments are
// ignored.
package main

import (
	"bufio"
	"fmt"
	"os"
)

const lineWidth = 60

// complement maps every IUPAC code, upper or lower case, to its complement in upper case;
// other bytes map to themselves.
var complement = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	const from, to = "ACGTUMRWSYKVHDBN", "TGCAAKYWSRMBDHVN"
	for i := 0; i < len(from); i++ {
		t[from[i]] = to[i]
		t[from[i]+'a'-'A'] = to[i]
	}
	return t
}()

// reverseComplement reverses seq in place and complements every letter.
func reverseComplement(seq []byte) {
	i, j := 0, len(seq)-1
	for i < j {
		seq[i], seq[j] = complement[seq[j]], complement[seq[i]]
		i++
		j--
	}
	if i == j {
		seq[i] = complement[seq[i]]
	}
}

func writeRecord(out *bufio.Writer, header, seq []byte) {
	out.Write(header)
	out.WriteByte('\n')
	reverseComplement(seq)
	for i := 0; i < len(seq); i += lineWidth {
		out.Write(seq[i:min(i+lineWidth, len(seq))])
		out.WriteByte('\n')
	}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<30)
	out := bufio.NewWriterSize(os.Stdout, 64*1024)
	defer out.Flush()

	var header, seq []byte
	inRecord := false
	for in.Scan() {
		line := in.Bytes()
		if len(line) > 0 && line[0] == '>' {
			if inRecord {
				writeRecord(out, header, seq)
			}
			header = append(header[:0], line...)
			seq = seq[:0]
			inRecord = true
		} else {
			seq = append(seq, line...)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "revcomp: reading stdin:", err)
		os.Exit(1)
	}
	if inRecord {
		writeRecord(out, header, seq)
	}
}
