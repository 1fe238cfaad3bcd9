// pidigits: the first N decimal digits of pi from Gibbons' streaming spigot (the step-by-step
// version with linear fractional transforms), 10 digits per line followed by "\t:count".
package main

import (
	"bufio"
	"fmt"
	"math/big"
	"os"
	"strconv"
)

func main() {
	n := 30
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: pidigits N")
			os.Exit(2)
		}
		n = v
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	// The transform (q*x + r) / t.
	q, r, t := big.NewInt(1), big.NewInt(0), big.NewInt(1)
	two, three, four, ten := big.NewInt(2), big.NewInt(3), big.NewInt(4), big.NewInt(10)
	bk, bm := new(big.Int), new(big.Int)
	d3, d4, tmp := new(big.Int), new(big.Int), new(big.Int)

	line := make([]byte, 0, 10)
	printed := 0
	for k := int64(1); printed < n; k++ {
		// Compose with the next term.
		bk.SetInt64(k)
		bm.SetInt64(2*k + 1)
		tmp.Mul(q, two)
		r.Add(r, tmp)
		r.Mul(r, bm)
		q.Mul(q, bk)
		t.Mul(t, bm)
		if q.Cmp(r) > 0 {
			continue
		}

		// Extract: the digit is safe when floor((3q+r)/t) == floor((4q+r)/t).
		d3.Mul(q, three)
		d3.Add(d3, r)
		d3.Quo(d3, t)
		d4.Mul(q, four)
		d4.Add(d4, r)
		d4.Quo(d4, t)
		if d3.Cmp(d4) != 0 {
			continue
		}

		line = append(line, byte('0'+d3.Int64()))
		printed++
		if len(line) == 10 || printed == n {
			fmt.Fprintf(out, "%-10s\t:%d\n", line, printed)
			line = line[:0]
		}

		// Produce: r = 10 (r - d t), q = 10 q.
		tmp.Mul(d3, t)
		r.Sub(r, tmp)
		r.Mul(r, ten)
		q.Mul(q, ten)
	}
}
