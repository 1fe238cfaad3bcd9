"""spectral-norm: the largest singular value of the infinite matrix
A(i,j) = 1/((i+j)(i+j+1)/2 + i + 1), truncated to N x N, by 10 rounds of the power method.
"""

import sys
from math import sqrt


def a(i, j):
    """The matrix entry, 0-based."""
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def mult_av(v, out):
    """Set out = A v."""
    for i in range(len(out)):
        total = 0.0
        for j, vj in enumerate(v):
            total += a(i, j) * vj
        out[i] = total


def mult_atv(v, out):
    """Set out = A^T v."""
    for i in range(len(out)):
        total = 0.0
        for j, vj in enumerate(v):
            total += a(j, i) * vj
        out[i] = total


def mult_atav(v, out, tmp):
    """Set out = A^T A v, using tmp for A v."""
    mult_av(v, tmp)
    mult_atv(tmp, out)


def spectral_norm(n):
    u = [1.0] * n
    v = [0.0] * n
    tmp = [0.0] * n
    for _ in range(10):
        mult_atav(u, v, tmp)
        mult_atav(v, u, tmp)
    vbv = vv = 0.0
    for ui, vi in zip(u, v):
        vbv += ui * vi
        vv += vi * vi
    return sqrt(vbv / vv)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    print("%.9f" % spectral_norm(n))


main()
