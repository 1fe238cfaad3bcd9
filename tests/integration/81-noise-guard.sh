#!/usr/bin/env bash
# The noise guard judges every run, the short ones together: appliance bench's quick cpu suite on
# fannkuch-redux (Go runs of a few milliseconds, CPython ones of tens: too short to be judged
# alone by /proc/stat's 10 ms ticks), in Go and CPython.
#   control        nothing else on the workload CPU: every run quiet, the short ones judged over
#                  a window of several runs, each block's sum in run.noise_blocks
#   full hog       a busy loop at normal priority on the workload CPU for the whole block: the
#                  windows of short runs see its CPU time (about half of the CPU's) well above
#                  their tick resolution: their samples flagged noisy, with the reason, left out
#                  of the statistics (--allow-noisy). (A loop at idle priority, or one busy a
#                  tenth of the time, is not used: what the first gets beside a sandbox's cgroup
#                  depends on the group weights of the calling session, and the second hides
#                  below the resolution of a 0.1 s window of 10 ms ticks; neither could fail or
#                  pass for sure.)
#   partial hog    a busy loop at normal priority for half a second from the block's start:
#                  the runs it meets are noisy (judged alone: other work, or a CPU slower than
#                  its usual time), the rest quiet
# Every file validates against the schema (each sample's flags those of its run). Needs root and
# the images; a control refused because the machine is busy is a skip that says so.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
command -v jq >/dev/null || { fail "needs jq on the host (make deps)"; finish; exit 1; }
"$APPLIANCE" -q image build go-1.23-static python-3.13 >/dev/null ||
    { fail "building the images"; finish; exit 1; }
VALIDATE=$ROOT/tests/bench/validate-results

HOG=
cleanup() {
    [ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BENCH=(bench --profile quick --suite cpu --only fannkuch --images go-1.23-static,python-3.13)
# hog: a busy loop on the workload CPU, at most 120 s.
hog() { timeout 120 taskset -c "$WL" sh -c 'while :; do :; done' & HOG=$!; }
unhog() { kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; HOG=; }

# ---- control -----------------------------------------------------------------------------------
QUIET=1
run "$APPLIANCE" "${BENCH[@]}" --out "$TMP/control.json"
WL=$(jq -r .environment.cpus.workload "$TMP/control.json" 2>/dev/null)
WL=${WL%%[-,]*}
if [ "$RC" -ne 0 ] && grep -q "too noisy to measure" "$TMP/stderr"; then
    QUIET=
    BUSY=$(grep -m1 'too noisy' "$TMP/stderr")
    skip "control: every run quiet" "the machine is busy: $(grep -m1 'too noisy' "$TMP/stderr")"
else
    expect_rc 0 "control: the block is measured without --allow-noisy"
    C=$TMP/control.json
    check "... every judged run quiet, with its reason" jqe \
        '[.measurements[].runs[].noise] | length > 0 and all(.verdict == "quiet" and (.reason | length) > 0)' "$C"
    check "... the short runs judged over a window of several runs" jqe \
        '[.measurements[].runs[].noise | select(.judged_over == "window")] | length > 0 and all(.window.intervals >= 2)' "$C"
    check "... the block's sum of every run in run.noise_blocks, quiet" jqe \
        '(.run.noise_blocks | map(select(.block == "fannkuchredux")) | length == 1 and .[0].verdict == "quiet") and
         .run.noise_blocks[0].intervals == ([.measurements[].runs[]] | length)' "$C"
    check "... and the file validates" "$VALIDATE" "$C"
fi
[ -n "$WL" ] && [ "$WL" != null ] || WL=$(($(nproc) - 1))

# ---- a hog for the whole block: the windows of short runs see it -------------------------------
hog
sleep 0.3
run "$APPLIANCE" "${BENCH[@]}" --allow-noisy --out "$TMP/full.json"
unhog
I=$TMP/full.json
expect_rc 0 "full hog: measured with --allow-noisy"
check "... short runs judged over a window found noisy, saying other work used the CPU" jqe \
    '[.measurements[].runs[] | select(.noise.judged_over == "window" and .noise.verdict == "noisy")] |
     length > 0 and all(.noisy == true and (.noise.reason | test("other work used")))' "$I"
check "... their samples flagged noisy and left out of the statistics" jqe \
    '[.measurements[].metrics.wall_s | ((.flags // []) | map(select(index("noisy"))) | length) as $f |
      $f > 0 and (.stats == null or .stats.n == (.samples | length) - $f)] | any' "$I"
check "... the metric's warning names the guard's reason" jqe \
    '[.measurements[].metrics.wall_s.warning // "" | test("noise guard: CPUs? [0-9-]+ noisy")] | any' "$I"
check "... and the file validates" "$VALIDATE" "$I"

# ---- a hog for half a second at the start of the block ---------------------------------------------
P=$TMP/partial.json
# The samples reach the results file only once their block is judged, so the start of the
# block's first (warm-up) run, on standard error, is when the hog goes in.
"$APPLIANCE" "${BENCH[@]}" --repeat 8 --allow-noisy --out "$P" >"$TMP/partial.out" 2>"$TMP/partial.err" &
BPID=$!
# The wait below forks a grep every 10 ms: on the load CPU, or it is the other work the bench's
# quiet check waits out before the block (a quarter of a slow vCPU).
HOME_CPUS=$(taskset -pc $$ | sed 's/.*: //')
taskset -pc "$(jq -r .environment.cpus.load_and_orchestrator "$TMP/control.json")" $$ >/dev/null
for _ in $(seq 600); do
    grep -q 'fannkuchredux .* warmup' "$TMP/partial.err" 2>/dev/null && break
    kill -0 "$BPID" 2>/dev/null || break
    sleep 0.01
done
taskset -pc "$HOME_CPUS" $$ >/dev/null
hog
sleep 0.5
unhog
wait "$BPID"
RC=$?
expect_rc 0 "partial hog: measured with --allow-noisy"
check "... the runs it met are noisy, each with its reason" jqe \
    '[.measurements[].runs[].noise | select(.verdict == "noisy")] | length > 0 and
     all(.reason | test("other work used|slower than its usual time"))' "$P"
if [ -n "$QUIET" ]; then
    check "... the others quiet" jqe '[.measurements[].runs[].noise | select(.verdict == "quiet")] | length > 0' "$P"
else
    skip "partial hog: the runs it did not meet are quiet" "the machine is busy: $BUSY"
fi
check "... and the file validates" "$VALIDATE" "$P"

finish
