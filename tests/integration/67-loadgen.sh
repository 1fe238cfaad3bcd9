#!/usr/bin/env bash
# appliance load, the project's HTTP load generator, against real servers in sandboxes: Go
# net/http from go-1.23-static and FastAPI on uvicorn from python-3.13-web, each in a network
# namespace of its own (--net loopback) that the load joins through --pid. Closed loop with
# every response checked, an open-loop rate the server sustains and one it cannot, a path
# that answers 404, a port where nothing listens, a stopped server (timeouts), a bound on
# requests, the readiness wait and usage errors. Traffic goes to 127.0.0.1 inside the
# sandboxes' namespaces only. Needs root.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
command -v jq >/dev/null || { fail "needs jq on the host"; finish; exit 1; }

"$APPLIANCE" -q image build go-1.23-static python-3.13-web >/dev/null ||
    { fail "building the images go-1.23-static and python-3.13-web"; finish; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
APIDS=()
cleanup() {
    local p
    for p in "${APIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME APPLIANCE-RUN-ARGS...: starts a server in a sandbox (a timeout bounds it) and
# sets PID1 to the sandbox's pid 1, empty when it did not start within 10 s.
start() {
    local name=$1
    shift
    local pidf="$TMP/$name.pid"
    rm -f "$pidf"
    "$APPLIANCE" run --net loopback --memory 256M --seccomp default --timeout 120 \
        --pid-file "$pidf" --stdout "$TMP/$name.log" --stderr "$TMP/$name.log" "$@" \
        >/dev/null 2>"$TMP/$name.err" &
    APIDS+=($!)
    PID1=
    for _ in $(seq 100); do
        [ -s "$pidf" ] && PID1=$(cat "$pidf") && break
        kill -0 "$!" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$PID1" ] || sed 's/^/#   /' "$TMP/$name.err" | tail -n 5
}

# load OUT ARGS...: runs appliance load, bounded by `timeout`, its JSON in $TMP/OUT.json;
# RC its status, LOAD_MS how long it took.
load() {
    local out=$1
    shift
    local t0
    t0=$(now_ms)
    timeout 60 "$APPLIANCE" load "$@" >"$TMP/$out.json" 2>"$TMP/stderr"
    RC=$?
    LOAD_MS=$(($(now_ms) - t0))
}

ordered='.latency_ns | .min <= .p50 and .p50 <= .p90 and .p90 <= .p95 and .p95 <= .p99
         and .p99 <= .p99_9 and .p99_9 <= .max and .min > 0'
no_errors='([.errors[]] | add) == 0 and ([.invalid[]] | add) == 0'

# ---- Go net/http ------------------------------------------------------------------------------
start nethttp go-1.23-static -- /usr/local/bin/servers/nethttp -addr 127.0.0.1:8080
if [ -z "$PID1" ]; then
    fail "net/http: the sandbox started (no pid file)"
else
    pass "net/http: the sandbox started (pid 1 is $PID1)"
    URL=http://127.0.0.1:8080/json

    load wait --pid "$PID1" --wait 10 --json -c 2 -d 0.2 "$URL"
    expect_rc 0 "net/http: --wait then a short load exits 0"
    check "net/http: --wait reports the first valid answer" err_has "first valid answer after"

    load closed --pid "$PID1" --json -c 8 -t 1 -d 1 "$URL"
    expect_rc 0 "net/http: closed loop, 8 connections, 1 s exits 0"
    check "net/http: requests > 0 ($(jq -r .requests "$TMP/closed.json" 2>/dev/null) valid)" \
        jqe '.requests > 0 and .requests_per_s > 0' "$TMP/closed.json"
    check "net/http: no error and no invalid response" jqe "$no_errors" "$TMP/closed.json"
    check "net/http: every response valid (responses == requests)" \
        jqe '.responses == .requests' "$TMP/closed.json"
    check "net/http: latency percentiles ordered (min <= p50 <= ... <= max)" \
        jqe "$ordered" "$TMP/closed.json"
    check "net/http: the histogram holds every valid request and those unanswered at the end" \
        jqe '([.histogram.buckets[][2]] | add) == .latency_ns.count and
             .latency_ns.count == .requests + .latency_ns.censored and
             .latency_ns.censored == .in_flight and .in_flight <= 8' "$TMP/closed.json"
    check "net/http: status ok" jqe '.status == "ok"' "$TMP/closed.json"
    check "net/http: 8 connections, each connected once" jqe '.connects == 8' "$TMP/closed.json"
    check "net/http: the window lasted 1 s" \
        jqe '.duration_s > 0.95 and .duration_s < 1.05' "$TMP/closed.json"
    check "net/http: client CPU measured (share in (0, 1])" \
        jqe '.client.cpu_ns > 0 and .client.cpu_share > 0 and .client.cpu_share <= 1.05' \
        "$TMP/closed.json"

    load threads --pid "$PID1" --json -c 8 -t 2 -d 0.5 --warmup 0.3 --timeout 1 "$URL"
    expect_rc 0 "net/http: two threads, warmup, timeout: exits 0"
    check "net/http: two threads: requests > 0, no error, percentiles ordered" \
        jqe ".requests > 0 and $no_errors and ($ordered)" "$TMP/threads.json"

    load open --pid "$PID1" --json -c 4 -d 1 --rate 500 "$URL"
    expect_rc 0 "net/http: open loop at 500 req/s exits 0"
    check "net/http: 500 req/s sustained ($(jq -c '.open_loop | {achieved_rate, backlog}' \
        "$TMP/open.json" 2>/dev/null))" \
        jqe '.open_loop.sustained == true and .open_loop.achieved_rate > 475 and
             .open_loop.achieved_rate < 525 and .requests >= 475' "$TMP/open.json"
    check "net/http: open loop without error" jqe "$no_errors" "$TMP/open.json"

    load flood --pid "$PID1" --json -c 8 -d 1 --rate 2000000 "$URL"
    expect_rc 0 "net/http: open loop at 2M req/s exits 0"
    check "net/http: 2M req/s reported as not sustained ($(jq -c \
        '.open_loop | {achieved_rate, backlog}' "$TMP/flood.json" 2>/dev/null))" \
        jqe '.open_loop.sustained == false and .open_loop.backlog > 0' "$TMP/flood.json"
    check "net/http: 2M req/s: status unsustained (or errors, which ranks above), no percentile" \
        jqe '(.status == "unsustained" or .status == "errors") and .latency_ns.p99 == null' \
        "$TMP/flood.json"

    load notfound --pid "$PID1" --json -c 4 -d 0.5 http://127.0.0.1:8080/no-such-path
    expect_rc 0 "net/http: a 404 path exits 0"
    check "net/http: 404 counts invalid status, no valid request" \
        jqe '.invalid.status > 0 and .requests == 0 and .responses == .invalid.status' \
        "$TMP/notfound.json"

    load closedport --pid "$PID1" --json -c 8 -d 1 http://127.0.0.1:9/json
    expect_rc 0 "nothing listening: exits 0"
    check "nothing listening: connect errors counted, no request" \
        jqe '.errors.connect > 0 and .requests == 0 and .responses == 0' "$TMP/closedport.json"
    check "nothing listening: done within 3 s ($LOAD_MS ms)" test "$LOAD_MS" -lt 3000

    load bounded --pid "$PID1" --json -c 4 -d 10 -n 100 "$URL"
    expect_rc 0 "net/http: -n 100 exits 0"
    check "net/http: -n 100 sends 100 requests and ends early ($LOAD_MS ms)" \
        sh -c "jq -e '.requests == 100 and .responses == 100' '$TMP/bounded.json' >/dev/null &&
               test $LOAD_MS -lt 5000"

    timeout 60 "$APPLIANCE" load --pid "$PID1" -c 2 -d 0.3 "$URL" >"$TMP/text.out" 2>&1
    RC=$?
    expect_rc 0 "net/http: the text summary exits 0"
    check "net/http: the text summary has latency, req/s and error lines" \
        sh -c "grep -q 'p99.9' '$TMP/text.out' && grep -q 'req/s' '$TMP/text.out' &&
               grep -q 'errors' '$TMP/text.out'"

    # A server that accepts (the kernel does) but never answers: its process stopped.
    child=$(cat "/proc/$PID1/task/$PID1/children" 2>/dev/null | awk '{print $1}')
    if [ -n "$child" ] && kill -STOP "$child" 2>/dev/null; then
        load stopped --pid "$PID1" --json -c 2 -d 1 --timeout 0.2 "$URL"
        kill -CONT "$child"
        expect_rc 0 "a stopped server: exits 0"
        check "a stopped server: timeouts counted, no request ($(jq -c .errors \
            "$TMP/stopped.json" 2>/dev/null))" \
            jqe '.errors.timeout >= 2 and .requests == 0' "$TMP/stopped.json"
        load resumed --pid "$PID1" --json -c 2 -d 0.3 "$URL"
        check "the server answers again once resumed" jqe '.requests > 0' "$TMP/resumed.json"
    else
        fail "found the server process under the sandbox's pid 1"
    fi

    load waitdead --pid "$PID1" --wait 0.3 --json -c 1 -d 0.1 http://127.0.0.1:9/json
    expect_rc 1 "--wait on a port where nothing listens fails after the wait"
    check "--wait names the last failure" err_has "Connection refused"
    check "--wait is bounded ($LOAD_MS ms)" test "$LOAD_MS" -lt 3000
fi

# ---- usage and set-up errors ----------------------------------------------------------------
load u1 --json
expect_rc 2 "no URL: usage error"
load u2 -c 1 http://localhost:8080/json
expect_rc 2 "a host name: usage error (no name is resolved)"
check "a host name: the message says to give an IP address" err_has "IP address"
load u3 -c 1 -t 2 http://127.0.0.1:8080/json
expect_rc 2 "fewer connections than threads: usage error"
load u4 --rate 0 http://127.0.0.1:8080/json
expect_rc 2 "--rate 0: usage error"
load u5 --cpuset x http://127.0.0.1:8080/json
expect_rc 2 "--cpuset x: usage error"
load u6 --pid 999999999 -d 0.1 http://127.0.0.1:8080/json
expect_rc 1 "--pid of no process: cannot run (exit 1)"
check "--pid of no process: names the namespace" err_has "/proc/999999999/ns/net"

# ---- Python FastAPI on uvicorn ------------------------------------------------------------------
start fastapi --bind "$ROOT/images/workloads/servers:/tmp/workloads:ro" \
    --env PYTHONDONTWRITEBYTECODE=1 --env JSON_LIB=orjson python-3.13-web -- \
    python3.13 /tmp/workloads/python/fastapi/app.py --addr 127.0.0.1:8080
if [ -z "$PID1" ]; then
    fail "fastapi: the sandbox started (no pid file)"
else
    load fastapi --pid "$PID1" --wait 30 --json -c 8 -d 1 http://127.0.0.1:8080/json
    expect_rc 0 "fastapi: --wait then closed loop exits 0"
    check "fastapi: requests > 0 ($(jq -r .requests_per_s "$TMP/fastapi.json" 2>/dev/null) req/s), \
no error, no invalid response" jqe ".requests > 0 and $no_errors" "$TMP/fastapi.json"
    check "fastapi: latency percentiles ordered" jqe "$ordered" "$TMP/fastapi.json"
    load fastapi-open --pid "$PID1" --json -c 4 -d 1 --rate 200 http://127.0.0.1:8080/json
    check "fastapi: 200 req/s sustained" jqe '.open_loop.sustained == true' \
        "$TMP/fastapi-open.json"
fi
finish
