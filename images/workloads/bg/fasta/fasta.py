"""fasta: write three DNA records, a cycled ALU sequence and two weighted-random sequences
drawn with a linear congruential generator (seed 42), in lines of at most 60 letters.
"""

import sys
from bisect import bisect_right

LINE_WIDTH = 60

ALU = (
    b"GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGACC"
    b"AGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGCTACT"
    b"CGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGGGCG"
    b"ACAGAGCGAGACTCCGTCTCAAAAA"
)

IUB = [
    ("a", 0.27), ("c", 0.12), ("g", 0.12), ("t", 0.27),
    ("B", 0.02), ("D", 0.02), ("H", 0.02), ("K", 0.02), ("M", 0.02),
    ("N", 0.02), ("R", 0.02), ("S", 0.02), ("V", 0.02), ("W", 0.02), ("Y", 0.02),
]

HOMO_SAPIENS = [
    ("a", 0.3029549426680), ("c", 0.1979883004921), ("g", 0.1975473066391), ("t", 0.3015094502008),
]

# The generator: seed = (seed*IA + IC) mod IM, random = max*seed/IM.
IM = 139968
IA = 3877
IC = 29573


def repeat_fasta(out, header, s, n):
    """Write n letters of s, cycled, after the header."""
    out.write(header)
    ext = s + s[:LINE_WIDTH]
    pos = 0
    while n > 0:
        w = min(n, LINE_WIDTH)
        out.write(ext[pos:pos + w] + b"\n")
        pos = (pos + w) % len(s)
        n -= w


def random_fasta(out, header, table, n, seed):
    """Write n letters drawn from the table after the header; return the generator's seed."""
    out.write(header)
    letters = [ord(letter) for letter, _ in table]
    cum = []
    total = 0.0
    for _, p in table:
        total += p
        cum.append(total)
    # The first index whose cumulative probability is greater than r, or the last index
    # when there is none (rounding can leave the last sum just under 1).
    last = len(cum) - 1
    line = bytearray(LINE_WIDTH + 1)
    while n > 0:
        w = min(n, LINE_WIDTH)
        for i in range(w):
            # One draw of random(1.0) per letter, written out in the loop.
            seed = (seed * IA + IC) % IM
            line[i] = letters[bisect_right(cum, 1.0 * seed / IM, 0, last)]
        line[w] = 10
        out.write(line[:w + 1])
        n -= w
    return seed


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = sys.stdout.buffer
    repeat_fasta(out, b">ONE Homo sapiens alu\n", ALU, 2 * n)
    seed = random_fasta(out, b">TWO IUB ambiguity codes\n", IUB, 3 * n, 42)
    random_fasta(out, b">THREE Homo sapiens frequency\n", HOMO_SAPIENS, 5 * n, seed)
    out.flush()


main()
