"""pidigits: the first N decimal digits of pi from Gibbons' streaming spigot (the step-by-step
version with linear fractional transforms), 10 digits per line followed by "\\t:count".
"""

import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    write = sys.stdout.write

    # The transform (q*x + r) / t.
    q, r, t = 1, 0, 1
    line = []
    printed = 0
    k = 0
    while printed < n:
        # Compose with the next term.
        k += 1
        m = 2 * k + 1
        r = (2 * q + r) * m
        q *= k
        t *= m
        if q > r:
            continue

        # Extract: the digit is safe when floor((3q+r)/t) == floor((4q+r)/t).
        d = (3 * q + r) // t
        if d != (4 * q + r) // t:
            continue

        line.append(chr(48 + d))
        printed += 1
        if len(line) == 10 or printed == n:
            write("%-10s\t:%d\n" % ("".join(line), printed))
            line.clear()

        # Produce: r = 10 (r - d t), q = 10 q.
        r = 10 * (r - d * t)
        q *= 10


main()
