// spectral-norm: the largest singular value of the infinite matrix
// A(i,j) = 1/((i+j)(i+j+1)/2 + i + 1), truncated to N x N, by 10 rounds of the power method.
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
)

// a is the matrix entry, 0-based.
func a(i, j int) float64 {
	return 1.0 / float64((i+j)*(i+j+1)/2+i+1)
}

// multAv sets out = A v.
func multAv(v, out []float64) {
	for i := range out {
		sum := 0.0
		for j, vj := range v {
			sum += a(i, j) * vj
		}
		out[i] = sum
	}
}

// multAtv sets out = A^T v.
func multAtv(v, out []float64) {
	for i := range out {
		sum := 0.0
		for j, vj := range v {
			sum += a(j, i) * vj
		}
		out[i] = sum
	}
}

// multAtAv sets out = A^T A v, using tmp for A v.
func multAtAv(v, out, tmp []float64) {
	multAv(v, tmp)
	multAtv(tmp, out)
}

func spectralNorm(n int) float64 {
	u := make([]float64, n)
	for i := range u {
		u[i] = 1
	}
	v := make([]float64, n)
	tmp := make([]float64, n)
	for i := 0; i < 10; i++ {
		multAtAv(u, v, tmp)
		multAtAv(v, u, tmp)
	}
	var vBv, vv float64
	for i := range v {
		vBv += u[i] * v[i]
		vv += v[i] * v[i]
	}
	return math.Sqrt(vBv / vv)
}

func main() {
	n := 100
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: spectralnorm N")
			os.Exit(2)
		}
		n = v
	}
	fmt.Printf("%.9f\n", spectralNorm(n))
}
