#!/usr/bin/env bash
# A number never hides its status: appliance load against real servers that misbehave in one
# known way each, every one in a sandbox of its own (python3.13 from the python-3.13 image running
# tests/integration/status-http-server.py, --net loopback), the load joining its network
# namespace through --pid: all traffic goes to 127.0.0.1 inside those namespaces.
#   ok     (control)  status ok, latency percentiles, and the histogram holds every valid
#                     response plus the requests unanswered at the end (counted as their wait)
#   503               status errors, no valid response, no latency figure (null, never 0 ms)
#   stall             accepts, never answers: with timeouts in the window, errors; without,
#                     no-valid-response, no latency figure, every request in flight at the end
#                     in the histogram as its wait (about the window)
#   slow              10 ms a request at 5,000 req/s open loop: unsustained, the achieved rate
#                     reported, no percentile
# Every wait is bounded in count and time; the servers end by themselves after a minute and
# are killed on exit. Needs root.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
command -v jq >/dev/null || { fail "needs jq on the host (make deps)"; finish; exit 1; }

IMAGE=python-3.13
OUT=${APPLIANCE_OUT:-$ROOT/build/images}
if [ ! -d "$OUT/$IMAGE" ]; then
    "$APPLIANCE" -q image build "$IMAGE" >/dev/null || { fail "building $IMAGE"; finish; exit 1; }
fi

APIDS=()
cleanup() {
    local p
    for p in "${APIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=http://127.0.0.1:8080/json

# start MODE: starts the test server in MODE in a sandbox and sets PID1 to the sandbox's pid 1
# once the server listens, empty when it did not within 20 s.
start() {
    local mode=$1 pidf="$TMP/$1.pid" log="$TMP/$1.log"
    rm -f "$pidf" "$log"
    "$APPLIANCE" run --net loopback --memory 256M --seccomp default --timeout 90 \
        --bind "$ROOT/tests/integration:/tmp/t:ro" --env PYTHONDONTWRITEBYTECODE=1 \
        --pid-file "$pidf" --stdout "$log" --stderr "$TMP/$mode.err" \
        "$IMAGE" -- python3.13 /tmp/t/status-http-server.py "$mode" 8080 60 \
        >/dev/null 2>>"$TMP/$mode.err" &
    APIDS+=($!)
    PID1=
    local i
    for i in $(seq 200); do
        if [ -s "$pidf" ] && grep -q '^listening' "$log" 2>/dev/null; then
            PID1=$(cat "$pidf")
            break
        fi
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$PID1" ] || sed 's/^/#   /' "$TMP/$mode.err" | tail -n 5
}

# stop: ends the last server started.
stop() {
    local p=${APIDS[-1]}
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
}

# load OUT ARGS...: appliance load --json, bounded by `timeout`, its JSON in $TMP/OUT.json.
load() {
    local out=$1
    shift
    timeout 60 "$APPLIANCE" load --pid "$PID1" --json "$@" >"$TMP/$out.json" 2>"$TMP/stderr"
    RC=$?
    echo "# $out: $(jq -c '{status, requests, responses, in_flight, errors, invalid,
        lat: (.latency_ns | {count, censored, p50, p99}), open: (.open_loop // {} |
        {achieved_rate, backlog, sustained})}' "$TMP/$out.json" 2>/dev/null)"
}

no_figure='.latency_ns | [.min, .mean, .stdev, .p50, .p90, .p95, .p99, .p99_9, .max] | all(. == null)'
accounted='.latency_ns.count == .requests + .latency_ns.censored and
           ([.histogram.buckets[][2]] | add // 0) == .latency_ns.count'

# ---- control: a server that answers -----------------------------------------------------------
start ok
if [ -z "$PID1" ]; then
    fail "ok: the server started in its sandbox"
else
    load ok-closed -c 4 -d 0.5 "$URL"
    expect_rc 0 "ok: closed loop exits 0"
    check "ok: closed loop is ok, with latency percentiles" \
        jqe '.status == "ok" and .requests > 0 and (.latency_ns.p99 | numbers) > 0' "$TMP/ok-closed.json"
    check "ok: the histogram holds every valid response and the ones in flight at the end" \
        jqe "$accounted and .in_flight <= 4 and .latency_ns.censored == .in_flight" \
        "$TMP/ok-closed.json"
    load ok-open -c 4 -d 1 --rate 100 "$URL"
    check "ok: 100 req/s open loop is sustained and ok, with percentiles" \
        jqe '.status == "ok" and .open_loop.sustained and (.latency_ns.p50 | numbers) > 0' \
        "$TMP/ok-open.json"
    check "ok: open loop, the histogram accounts for every request" jqe "$accounted" \
        "$TMP/ok-open.json"
    stop
fi

# ---- 503 -------------------------------------------------------------------------------------
start 503
if [ -z "$PID1" ]; then
    fail "503: the server started in its sandbox"
else
    load s503 -c 4 -d 0.5 "$URL"
    expect_rc 0 "503: the load ran (exit 0)"
    check "503: status errors, invalid statuses counted, no valid response" \
        jqe '.status == "errors" and .invalid.status > 0 and .requests == 0' "$TMP/s503.json"
    check "503: no latency figure (null, never 0)" jqe "$no_figure" "$TMP/s503.json"
    timeout 60 "$APPLIANCE" load --pid "$PID1" -c 2 -d 0.3 "$URL" >"$TMP/s503.txt" 2>&1
    check "503: the text summary says so" sh -c \
        "grep -q 'status    errors' '$TMP/s503.txt' && grep -q 'latency   none: no valid response' '$TMP/s503.txt'"
    stop
fi

# ---- stall: accepts, never answers -----------------------------------------------------------
start stall
if [ -z "$PID1" ]; then
    fail "stall: the server started in its sandbox"
else
    load stall-timeout -c 4 -d 1 --timeout 0.2 "$URL"
    expect_rc 0 "stall: the load ran (exit 0)"
    check "stall, 0.2 s timeout: status errors (timeouts), no valid response, no latency figure" \
        jqe ".status == \"errors\" and .errors.timeout > 0 and .requests == 0 and ($no_figure)" \
        "$TMP/stall-timeout.json"
    load stall -c 4 -d 0.5 --timeout 5 "$URL"
    check "stall, no timeout in the window: status no-valid-response, no latency figure" \
        jqe ".status == \"no-valid-response\" and ([.errors[]] | add) == 0 and ($no_figure)" \
        "$TMP/stall.json"
    check "stall: the 4 requests in flight at the end are in the histogram" \
        jqe ".in_flight == 4 and .latency_ns.censored == 4 and .latency_ns.count == 4 and $accounted" \
        "$TMP/stall.json"
    check "stall: ... each as its wait, about the 0.5 s window" \
        jqe '[.histogram.buckets[] | .[0] >= 400000000 and .[1] <= 510000000] | all' \
        "$TMP/stall.json"
    load stall-open -c 4 -d 0.5 --rate 40 --timeout 5 "$URL"
    check "stall, open loop: every request due in the window is in the histogram, sent or not" \
        jqe ".status == \"no-valid-response\" and .in_flight == 4 and .open_loop.backlog > 0 and
             .latency_ns.censored == .in_flight + .open_loop.backlog and $accounted and ($no_figure)" \
        "$TMP/stall-open.json"
    stop
fi

# ---- slow: a rate it cannot hold ---------------------------------------------------------------
start slow
if [ -z "$PID1" ]; then
    fail "slow: the server started in its sandbox"
else
    load slow -c 8 -d 1 --rate 5000 --timeout 10 "$URL"
    expect_rc 0 "slow: the load ran (exit 0)"
    check "slow, 5,000 req/s: status unsustained, without errors" \
        jqe '.status == "unsustained" and .open_loop.sustained == false and ([.errors[]] | add) == 0
             and ([.invalid[]] | add) == 0' "$TMP/slow.json"
    check "slow: the achieved rate is reported ($(jq -r .open_loop.achieved_rate "$TMP/slow.json" 2>/dev/null) req/s)" \
        jqe '.requests > 0 and .open_loop.achieved_rate > 0 and .open_loop.achieved_rate < 4750' \
        "$TMP/slow.json"
    check "slow: no latency percentile" jqe "$no_figure" "$TMP/slow.json"
    check "slow: the backlog is in the histogram" \
        jqe ".open_loop.backlog > 0 and .latency_ns.censored == .in_flight + .open_loop.backlog and $accounted" \
        "$TMP/slow.json"
    load slow-ok -c 8 -d 1 --rate 50 --timeout 10 "$URL"
    check "slow, 50 req/s (control): sustained, ok, with percentiles of 10 ms or more" \
        jqe '.status == "ok" and .open_loop.sustained and .latency_ns.p50 >= 10000000' \
        "$TMP/slow-ok.json"
    stop
fi
finish
