"""n-body: the Sun and the four Jovian planets moved by a simple symplectic integrator.

Prints the total energy before and after N steps of 0.01 days.
"""

import sys
from math import pi, sqrt

SOLAR_MASS = 4 * pi * pi
DAYS_PER_YEAR = 365.24
DT = 0.01


def new_body(x, y, z, vx, vy, vz, mass):
    """A body is [position, velocity, mass]; position and velocity are [x, y, z] lists."""
    return [[x, y, z], [vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR, vz * DAYS_PER_YEAR], mass * SOLAR_MASS]


def system():
    # The order matters for bit-identical results: Sun, Jupiter, Saturn, Uranus, Neptune.
    return [
        new_body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        new_body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
                 1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
                 9.54791938424326609e-04),
        new_body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
                 -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
                 2.85885980666130812e-04),
        new_body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
                 2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
                 4.36624404335156298e-05),
        new_body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
                 2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
                 5.15138902046611451e-05),
    ]


def offset_momentum(bodies):
    """Give the Sun the velocity that makes the system's total momentum zero."""
    px = py = pz = 0.0
    for _, (vx, vy, vz), mass in bodies:
        px += vx * mass
        py += vy * mass
        pz += vz * mass
    sun_v = bodies[0][1]
    sun_v[0] = -px / SOLAR_MASS
    sun_v[1] = -py / SOLAR_MASS
    sun_v[2] = -pz / SOLAR_MASS


def energy(bodies):
    e = 0.0
    for i, ((x1, y1, z1), (vx, vy, vz), m1) in enumerate(bodies):
        e += 0.5 * m1 * (vx * vx + vy * vy + vz * vz)
        for (x2, y2, z2), _, m2 in bodies[i + 1:]:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            e -= m1 * m2 / sqrt(dx * dx + dy * dy + dz * dz)
    return e


def advance(bodies, pairs, steps):
    for _ in range(steps):
        for (r1, v1, m1), (r2, v2, m2) in pairs:
            dx, dy, dz = r1[0] - r2[0], r1[1] - r2[1], r1[2] - r2[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = DT / (d2 * sqrt(d2))
            v1[0] -= dx * m2 * mag
            v1[1] -= dy * m2 * mag
            v1[2] -= dz * m2 * mag
            v2[0] += dx * m1 * mag
            v2[1] += dy * m1 * mag
            v2[2] += dz * m1 * mag
        for r, (vx, vy, vz), _ in bodies:
            r[0] += DT * vx
            r[1] += DT * vy
            r[2] += DT * vz


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bodies = system()
    # Every pair i < j, in body order.
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    offset_momentum(bodies)
    print("%.9f" % energy(bodies))
    advance(bodies, pairs, n)
    print("%.9f" % energy(bodies))


main()
