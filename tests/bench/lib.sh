# shellcheck shell=bash
# Helpers shared by the benchmark scripts (sourced).

# stats < NUMBERS: "median min max" of the numbers on stdin (one a line), each printed with
# STATS_FORMAT (default %.0f).
stats() {
    sort -g | awk -v f="${STATS_FORMAT:-%.0f}" '{v[NR] = $1} END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf f " " f " " f "\n", m, v[1], v[NR]}'
}
