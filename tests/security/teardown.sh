#!/usr/bin/env bash
# SIGTERM and SIGINT to a running `appliance run` tear the sandbox down: the appliance exits
# within 2 s with status 130 and nothing of the sandbox (processes, cgroups, mounts) is left,
# whatever the command does with signals or children. Needs root.
. "$(dirname "$0")/../integration/lib.sh"

ESCAPE=$ROOT/build/static/security/escape
require_root_and "$APPLIANCE" "$ESCAPE"

RUN_ID=aptear$$x$RANDOM
RFS=$TMP/root
scratch_root "$RFS"
echo "a file of the image" >"$RFS/etc/visible"

APID=
cleanup() {
    [ -n "$APID" ] && kill -KILL "$APID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


now_ms() { echo $(($(date +%s%N) / 1000000)); }

# interrupt SIGNAL DESCRIPTION PATTERN ESCAPE-ARGS...: starts the sandbox, waits until a
# process matching PATTERN (anchored at the start of its command line) runs in it, sends
# SIGNAL to the appliance and checks the teardown.
interrupt() {
    local sig=$1 desc=$2 pattern=$3
    shift 3
    # Default dispositions, as on a terminal (background jobs of a script ignore SIGINT).
    env --default-signal=INT,TERM "$APPLIANCE" run --seccomp default --json \
        --stdout "$TMP/out" "$RFS/" -- /usr/bin/escape "$@" >"$TMP/json" 2>"$TMP/err" &
    APID=$!
    local seen=0
    for _ in $(seq 50); do
        if pgrep -f "$pattern" >/dev/null; then
            seen=1
            break
        fi
        sleep 0.1
    done
    check "$desc: control: the command runs in the sandbox" [ $seen -eq 1 ]
    sleep 0.2
    local t0 t1 rc
    t0=$(now_ms)
    kill -s "$sig" "$APID"
    # Wait at most 5 s, so a hanging appliance fails the check rather than the suite.
    for _ in $(seq 100); do
        kill -0 "$APID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$APID" 2>/dev/null; then
        kill -KILL "$APID"
    fi
    wait "$APID"
    rc=$?
    t1=$(now_ms)
    APID=
    check "$desc: the appliance exits with 130 (got $rc)" [ "$rc" -eq 130 ]
    check "$desc: within 2 s of $sig ($((t1 - t0)) ms)" [ $((t1 - t0)) -le 2000 ]
    local interrupted
    interrupted=$(jq -r '.interrupted' "$TMP/json" 2>/dev/null)
    check "$desc: the run record says interrupted ($interrupted)" [ "$interrupted" = true ]
    if pgrep -f "$pattern" >/dev/null; then
        fail "$desc: no process of the sandbox left: $(pgrep -af "$pattern" | tr '\n' ' ')"
    else
        pass "$desc: no process of the sandbox left"
    fi
}

interrupt TERM "SIGTERM, sleeping command" "^/usr/bin/escape sleep $RUN_ID-term" \
    sleep "$RUN_ID-term"
interrupt INT "SIGINT, sleeping command" "^/usr/bin/escape sleep $RUN_ID-int" \
    sleep "$RUN_ID-int"
interrupt TERM "SIGTERM, command ignoring SIGTERM" "^/usr/bin/escape ignore-term $RUN_ID-ign" \
    ignore-term "$RUN_ID-ign"
interrupt INT "SIGINT, double-forked grandchild" "^/usr/bin/escape sleep $RUN_ID-df-grandchild" \
    doublefork "$RUN_ID-df" 3600

left=$(cgroup_leftovers)
check "no appliance-* cgroup left${left:+: $left}" [ -z "$left" ]
if grep -qF "$RFS" /proc/self/mountinfo; then fail "no mount of the scratch root left"; else
    pass "no mount of the scratch root left"; fi
if pgrep -f "$RUN_ID" >/dev/null; then fail "no process with the run's markers left"; else
    pass "no process with the run's markers left"; fi

finish
