"""mandelbrot: an N x N bitmap of the Mandelbrot set over [-1.5-i, 0.5+i], written as a
binary PBM (P4). At most 50 iterations per point, escape when |z|^2 > 4.
"""

import sys

MAX_ITER = 50


def in_set(cr, ci):
    """Iterate z = z^2 + c from z = 0 and tell whether z stayed within radius 2."""
    zr = zi = tr = ti = 0.0
    for _ in range(MAX_ITER):
        zi = 2.0 * zr * zi + ci
        zr = tr - ti + cr
        tr = zr * zr
        ti = zi * zi
        if tr + ti > 4.0:
            return False
    return True


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    out = sys.stdout.buffer
    out.write(b"P4\n%d %d\n" % (n, n))

    crs = [2.0 * x / n - 1.5 for x in range(n)]
    pad = (8 - n % 8) % 8
    for y in range(n):
        ci = 2.0 * y / n - 1.0
        row = bytearray()
        acc = 0
        bits = 0
        for cr in crs:
            acc <<= 1
            if in_set(cr, ci):
                acc |= 1
            bits += 1
            if bits == 8:
                row.append(acc)
                acc = bits = 0
        if bits:
            row.append((acc << pad) & 0xFF)
        out.write(row)
    out.flush()


main()
