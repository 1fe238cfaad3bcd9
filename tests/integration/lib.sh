# Shared helpers for the integration tests (sourced). Each test script counts its checks and
# ends with the closing line "N passed, N failed, N skipped".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
APPLIANCE=${APPLIANCE:-$ROOT/build/appliance}
PASSED=0
FAILED=0
SKIPPED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/appliance-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# skip DESCRIPTION REASON: a check that did not run, and why: counted as skipped, never as
# passed (nor as failed).
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $1: $2"; }
# run COMMAND...: runs it with its output in $TMP/stdout and $TMP/stderr, its status in RC.
run() { "$@" >"$TMP/stdout" 2>"$TMP/stderr"; RC=$?; }
# expect_rc CODE DESCRIPTION: checks RC, showing the end of stderr when it differs.
expect_rc() {
    if [ "$RC" -eq "$1" ]; then pass "$2"; else
        fail "$2 (exit $RC, expected $1)"
        sed 's/^/#   /' "$TMP/stderr" | tail -n 20
    fi
}
# same DESCRIPTION GOT WANT: passes when both are equal and not empty.
same() {
    if [ -n "$2" ] && [ "$2" = "$3" ]; then pass "$1"; else fail "$1 ('$2' vs '$3')"; fi
}
# flip_byte FILE [OFFSET]: inverts one byte in place (the middle one by default), so the file
# surely changes (writing a fixed byte leaves it as it was when that byte was already there).
flip_byte() {
    python3 - "$1" "${2:--1}" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    data = bytearray(f.read())
    i = len(data) // 2 if off < 0 else off
    data[i] ^= 0xFF
    f.seek(0)
    f.write(data)
EOF
}
err_has() { grep -qF -- "$1" "$TMP/stderr"; }
# jqe FILTER FILE: passes when the filter's last output is neither false nor null. An empty
# FILE fails: jq -e (1.6) exits 0 when it reads no input at all.
jqe() { local out; out=$(jq -e "$1" "$2" 2>/dev/null) && [ -n "$out" ]; }
# require_root_and VAR...: ends the script with a failure unless running as root and every
# named file is an executable that was built.
require_root_and() {
    if [ "$(id -u)" -ne 0 ]; then
        fail "the sandbox needs root"
        finish
        exit 1
    fi
    local f
    for f in "$@"; do
        if [ ! -x "$f" ]; then
            fail "build first: $f is missing (make test builds it)"
            finish
            exit 1
        fi
    done
}
# scratch_root DIR: a root filesystem for the sandbox with the static escape program at
# /usr/bin/escape and the empty mount points it needs, readable by the sandbox's user.
scratch_root() {
    mkdir -p "$1"/{proc,dev,tmp,sys,etc,usr/bin}
    chmod 755 "$(dirname "$1")" "$1"
    install -m 0755 -o root -g root "$ROOT/build/static/security/escape" "$1/usr/bin/escape"
}
# proc_start_ticks PID: the process's start time in clock ticks after boot (field 22 of
# /proc/PID/stat, counted after the command name, which may hold spaces); nothing when it is gone.
proc_start_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }
# cgroup_leftovers: the appliance-* cgroups named after appliances that no longer run (leaks).
cgroup_leftovers() {
    local d name pid rest start now
    while IFS= read -r d; do
        name=$(basename "$d")
        pid=${name#appliance-}
        rest=${pid#*-}
        pid=${pid%%-*}
        # appliance-<pid>-<start>-<n>: the pid is its appliance's only while it has that start
        # time (field 22 of /proc/PID/stat; pids wrap); appliance-<pid>-<n> in older names.
        start=
        [[ $rest == *-* ]] && start=${rest%%-*}
        now=$(proc_start_ticks "$pid")
        if ! [[ $pid =~ ^[0-9]+$ ]] || [ ! -d "/proc/$pid" ] ||
            { [ -n "$start" ] && [ -n "$now" ] && [ "$start" != "$now" ]; }; then
            echo "$d (its cgroup.procs: $(tr '\n' ' ' <"$d/cgroup.procs" 2>/dev/null))"
        fi
    done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name 'appliance-*' 2>/dev/null)
}
finish() {
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped ($(basename "$0" .sh))"
    [ "$FAILED" -eq 0 ]
}
