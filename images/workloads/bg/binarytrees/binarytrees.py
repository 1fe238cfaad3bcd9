"""binary-trees: allocate, walk and drop many perfect binary trees, one allocation per node.

A node is a (left, right) tuple; a leaf is (None, None).
"""

import sys

MIN_DEPTH = 4


def bottom_up(depth):
    """Build a perfect tree of the given depth; depth 0 is a single leaf."""
    if depth <= 0:
        return (None, None)
    return (bottom_up(depth - 1), bottom_up(depth - 1))


def check(node):
    """Count the nodes of a tree."""
    left, right = node
    if left is None:
        return 1
    return 1 + check(left) + check(right)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    max_depth = max(MIN_DEPTH + 2, n)
    stretch_depth = max_depth + 1

    print("stretch tree of depth %d\t check: %d" % (stretch_depth, check(bottom_up(stretch_depth))))

    long_lived = bottom_up(max_depth)

    for d in range(MIN_DEPTH, max_depth + 1, 2):
        iterations = 1 << (max_depth - d + MIN_DEPTH)
        total = 0
        for _ in range(iterations):
            total += check(bottom_up(d))
        print("%d\t trees of depth %d\t check: %d" % (iterations, d, total))

    print("long lived tree of depth %d\t check: %d" % (max_depth, check(long_lived)))


main()
