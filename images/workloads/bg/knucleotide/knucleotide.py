"""k-nucleotide: read a FASTA file on stdin, take the sequence of record THREE and count its
k-mers with the standard hash table (a dict, through collections.Counter), one reading frame
at a time. Prints the 1-mer and 2-mer frequencies and the counts of five given sequences.
Arguments are ignored.
"""

import sys
from collections import Counter


def read_three():
    """Return the uppercased sequence of the record whose header starts with ">THREE"."""
    lines = iter(sys.stdin.buffer)
    for line in lines:
        if line.startswith(b">THREE"):
            break
    parts = []
    for line in lines:
        if line.startswith(b">"):
            break
        parts.append(line.rstrip(b"\r\n"))
    return b"".join(parts).upper().decode("ascii")


def count_frame(seq, k, frame, counts):
    """Add the k-mers that start at frame, frame+k, frame+2k, ... to counts."""
    counts.update(seq[i:i + k] for i in range(frame, len(seq) - k + 1, k))


def count(seq, k):
    """Return the counts of every k-mer of seq, overlapping ones included."""
    counts = Counter()
    for frame in range(k):
        count_frame(seq, k, frame, counts)
    return counts


def frequencies(seq, k):
    """Every k-mer with its share in percent, most frequent first, then an empty line."""
    counts = count(seq, k)
    total = len(seq) - k + 1
    lines = ["%s %.3f" % (kmer, 100 * c / total)
             for kmer, c in sorted(counts.items(), key=lambda e: (-e[1], e[0]))]
    return "\n".join(lines) + "\n\n"


def main():
    seq = read_three()
    out = [frequencies(seq, 1), frequencies(seq, 2)]
    for s in ("GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT"):
        out.append("%d\t%s\n" % (count(seq, len(s))[s], s))
    sys.stdout.write("".join(out))


main()
