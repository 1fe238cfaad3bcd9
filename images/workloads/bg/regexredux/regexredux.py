"""regex-redux: read a FASTA file on stdin, strip headers and line ends with a regex, count the
matches of nine DNA patterns, apply five substitutions in order and print the lengths.
Uses the standard re module. Arguments are ignored.
"""

import re
import sys

VARIANTS = (
    rb"agggtaaa|tttaccct",
    rb"[cgt]gggtaaa|tttaccc[acg]",
    rb"a[act]ggtaaa|tttacc[agt]t",
    rb"ag[act]gtaaa|tttac[agt]ct",
    rb"agg[act]taaa|ttta[agt]cct",
    rb"aggg[acg]aaa|ttt[cgt]ccct",
    rb"agggt[cgt]aa|tt[acg]accct",
    rb"agggta[cgt]a|t[acg]taccct",
    rb"agggtaa[cgt]|[acg]ttaccct",
)

SUBSTITUTIONS = (
    (rb"tHa[Nt]", b"<4>"),
    (rb"aND|caN|Ha[DS]|WaS", b"<3>"),
    (rb"a[NSt]|BY", b"<2>"),
    (rb"<[^>]*>", b"|"),
    (rb"\|[^|][^|]*\|", b"-"),
)


def main():
    data = sys.stdin.buffer.read()
    out = []

    seq = re.sub(rb">.*\n|\n", b"", data)

    for v in VARIANTS:
        out.append("%s %d\n" % (v.decode(), len(re.findall(v, seq))))

    s = seq
    for pattern, replacement in SUBSTITUTIONS:
        s = re.sub(pattern, replacement, s)

    out.append("\n%d\n%d\n%d\n" % (len(data), len(seq), len(s)))
    sys.stdout.write("".join(out))


main()
