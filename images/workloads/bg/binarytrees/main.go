// binary-trees: allocate, walk and drop many perfect binary trees, one allocation per node.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

type node struct {
	left, right *node
}

// bottomUp builds a perfect tree of the given depth; depth 0 is a single leaf.
func bottomUp(depth int) *node {
	if depth <= 0 {
		return &node{}
	}
	return &node{bottomUp(depth - 1), bottomUp(depth - 1)}
}

// check counts the nodes of a tree.
func (n *node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

const minDepth = 4

func main() {
	n := 10
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: binarytrees N")
			os.Exit(2)
		}
		n = v
	}
	maxDepth := max(minDepth+2, n)
	stretchDepth := maxDepth + 1

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	fmt.Fprintf(out, "stretch tree of depth %d\t check: %d\n", stretchDepth, bottomUp(stretchDepth).check())

	longLived := bottomUp(maxDepth)

	for d := minDepth; d <= maxDepth; d += 2 {
		iterations := 1 << (maxDepth - d + minDepth)
		sum := 0
		for i := 0; i < iterations; i++ {
			sum += bottomUp(d).check()
		}
		fmt.Fprintf(out, "%d\t trees of depth %d\t check: %d\n", iterations, d, sum)
	}

	fmt.Fprintf(out, "long lived tree of depth %d\t check: %d\n", maxDepth, longLived.check())
}
