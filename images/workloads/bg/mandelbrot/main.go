// mandelbrot: an N x N bitmap of the Mandelbrot set over [-1.5-i, 0.5+i], written as a
// binary PBM (P4). At most 50 iterations per point, escape when |z|^2 > 4.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

const maxIter = 50

// inSet iterates z = z^2 + c from z = 0 and tells whether z stayed within radius 2.
func inSet(cr, ci float64) bool {
	var zr, zi, tr, ti float64
	for i := 0; i < maxIter; i++ {
		zi = 2*zr*zi + ci
		zr = tr - ti + cr
		tr = zr * zr
		ti = zi * zi
		if tr+ti > 4 {
			return false
		}
	}
	return true
}

func main() {
	n := 200
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: mandelbrot N")
			os.Exit(2)
		}
		n = v
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprintf(out, "P4\n%d %d\n", n, n)

	crs := make([]float64, n)
	for x := range crs {
		crs[x] = 2*float64(x)/float64(n) - 1.5
	}
	pad := (8 - n%8) % 8
	row := make([]byte, 0, (n+7)/8)
	for y := 0; y < n; y++ {
		ci := 2*float64(y)/float64(n) - 1
		row = row[:0]
		var acc byte
		bits := 0
		for _, cr := range crs {
			acc <<= 1
			if inSet(cr, ci) {
				acc |= 1
			}
			bits++
			if bits == 8 {
				row = append(row, acc)
				acc, bits = 0, 0
			}
		}
		if bits > 0 {
			row = append(row, acc<<pad)
		}
		out.Write(row)
	}
}
