#!/usr/bin/env bash
# A service with several workers is ready when every worker waits for connections, not when the
# first one answers: appliance load --wait --workers N (the readiness wait bench's service start
# uses) against servers in sandboxes of their own (--net loopback; the load joins their network
# namespace through --pid, all traffic to 127.0.0.1 inside them).
#   late worker  tests/integration/prefork-http-server.py with its second worker accepting 4 s
#                after the first: --workers 2 returns only once it accepts (its log says so by
#                then); control: --workers 1 returns while it still sleeps
#   gunicorn     Flask on gunicorn with --workers 2 (python-3.13-web): two workers found; a
#                wait for three gives up at its deadline, naming 2 of 3
#   usage        --workers without --pid and --wait is a usage error
# Every wait is bounded; the servers end by themselves and are killed on exit. Needs root.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

OUT=${APPLIANCE_OUT:-$ROOT/build/images}
for image in python-3.13 python-3.13-web; do
    if [ ! -d "$OUT/$image" ]; then
        "$APPLIANCE" -q image build "$image" >/dev/null || { fail "building $image"; finish; exit 1; }
    fi
done

APIDS=()
cleanup() {
    for p in "${APIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=http://127.0.0.1:8080/json

# start NAME IMAGE BIND ARGS...: starts ARGS in a sandbox of IMAGE with BIND (SRC:DST) and sets
# PID1 to its pid 1 once the sandbox runs (empty when it did not within 10 s). Its stdout is in
# $TMP/NAME.log.
start() {
    local name=$1 image=$2 bind=$3
    shift 3
    local pidf="$TMP/$name.pid"
    rm -f "$pidf"
    "$APPLIANCE" run --net loopback --memory 512M --seccomp default --timeout 90 \
        --bind "$bind" --env PYTHONDONTWRITEBYTECODE=1 --pid-file "$pidf" \
        --stdout "$TMP/$name.log" --stderr "$TMP/$name.err" "$image" -- "$@" \
        >/dev/null 2>>"$TMP/$name.err" &
    APIDS+=($!)
    PID1=
    local i
    for i in $(seq 100); do
        if [ -s "$pidf" ]; then
            PID1=$(cat "$pidf")
            break
        fi
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$PID1" ] || sed 's/^/#   /' "$TMP/$name.err" | tail -n 5
}

stop() {
    local p=${APIDS[-1]}
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
}

# load NAME ARGS...: appliance load --pid PID1 ARGS... URL, bounded; stderr in $TMP/NAME.stderr.
load() {
    local name=$1
    shift
    timeout 60 "$APPLIANCE" load --pid "$PID1" -c 2 -d 0.2 "$@" "$URL" >/dev/null \
        2>"$TMP/$name.stderr"
    RC=$?
    sed 's/^/#   /' "$TMP/$name.stderr"
}

PREFORK="$ROOT/tests/integration:/tmp/t:ro"

# ---- a worker that starts late -----------------------------------------------------------------
start late python-3.13 "$PREFORK" python3.13 /tmp/t/prefork-http-server.py 8080 0 4 --lifetime 40
if [ -z "$PID1" ]; then
    fail "late: the prefork server started in its sandbox"
else
    load late --wait 30 --workers 2
    expect_rc 0 "late: --wait --workers 2 is ready and loads"
    check "... only once the late worker accepts (its log says so when the load is over)" \
        grep -q '^worker 2 accepting' "$TMP/late.log"
    ms=$(sed -n 's/.*2 workers wait for connections after \([0-9.]*\) ms.*/\1/p' "$TMP/late.stderr")
    first=$(sed -n 's/.*first valid answer after \([0-9.]*\) ms.*/\1/p' "$TMP/late.stderr")
    check "... seconds after the first answer (first ${first:-?} ms, all ${ms:-?} ms)" \
        awk -v a="${ms:-0}" -v f="${first:-0}" 'BEGIN { exit !(a - f >= 2000) }'
    stop
fi

start control python-3.13 "$PREFORK" python3.13 /tmp/t/prefork-http-server.py 8080 0 4 --lifetime 40
if [ -z "$PID1" ]; then
    fail "control: the prefork server started in its sandbox"
else
    load control --wait 30
    expect_rc 0 "control: --wait alone is ready at the first answer and loads"
    check "... while the late worker still sleeps (the test can tell the two apart)" \
        sh -c "grep -q '^worker 1 accepting' '$TMP/control.log' && ! grep -q '^worker 2' '$TMP/control.log'"
    stop
fi

# ---- gunicorn ----------------------------------------------------------------------------------
start flask python-3.13-web "$ROOT/images/workloads/servers:/tmp/workloads:ro" \
    python3.13 /tmp/workloads/python/flask/app.py --workers 2
if [ -z "$PID1" ]; then
    fail "flask: gunicorn started in its sandbox"
else
    load flask --wait 60 --workers 2
    expect_rc 0 "flask on gunicorn, 2 workers: --workers 2 is ready and loads"
    check "... having found both" grep -q '2 workers wait for connections' "$TMP/flask.stderr"
    load flask3 --wait 2 --workers 3
    expect_rc 1 "... a wait for 3 gives up at its deadline"
    check "... saying 2 of 3 workers wait (gunicorn's arbiter does not count)" \
        grep -q '2 of 3 workers wait for connections on port 8080' "$TMP/flask3.stderr"
    stop
fi

# ---- usage -------------------------------------------------------------------------------------
"$APPLIANCE" load --workers 2 -d 0.1 "$URL" >/dev/null 2>"$TMP/usage.stderr"
RC=$?
expect_rc 2 "--workers without --pid and --wait is a usage error"
check "... saying what it needs" grep -q -- '--workers needs --pid' "$TMP/usage.stderr"

finish
