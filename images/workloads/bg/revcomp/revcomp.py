"""reverse-complement: read a FASTA file on stdin line by line and write, for every record, its
header unchanged and the reverse complement of its sequence in lines of 60. Arguments are
ignored.
"""

import sys

LINE_WIDTH = 60

# Every IUPAC code, upper or lower case, to its complement in upper case; other bytes are kept.
COMPLEMENT = bytes.maketrans(
    b"ACGTUMRWSYKVHDBN" + b"acgtumrwsykvhdbn",
    b"TGCAAKYWSRMBDHVN" + b"TGCAAKYWSRMBDHVN",
)


def write_record(out, header, parts):
    out.write(header + b"\n")
    seq = b"".join(parts).translate(COMPLEMENT)[::-1]
    if seq:
        out.write(b"\n".join(seq[i:i + LINE_WIDTH] for i in range(0, len(seq), LINE_WIDTH)))
        out.write(b"\n")


def main():
    out = sys.stdout.buffer
    header = None
    parts = []
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\r\n")
        if line.startswith(b">"):
            if header is not None:
                write_record(out, header, parts)
            header = line
            parts = []
        else:
            parts.append(line)
    if header is not None:
        write_record(out, header, parts)
    out.flush()


main()
