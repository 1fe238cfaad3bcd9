#!/usr/bin/env bash
# The TechEmpower-style JSON servers under images/workloads/servers: the Go ones are built in
# one run of the go-1.23-web-src sandbox (offline, GOPATH mode, static), then every available
# server is started from its workload.json in a sandbox of its own (Go binaries from a bare
# root, Python ones in python-3.13-web with the workloads bound read-only), with --net
# loopback, --memory 512M, the default seccomp profile and a timeout. A client on the host
# joins the sandbox's network namespace (--pid-file, nsenter) and checks, over 127.0.0.1
# only: status 200, a body equal to {"message":"Hello, World!"} as JSON, Content-Type
# application/json, Server and Date headers, and two requests on one kept-alive connection.
# SIGTERM to the appliance must then tear the sandbox down with nothing left. Needs root.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

SERVERS=$ROOT/images/workloads/servers
HOSTPY=/usr/bin/python3
[ -x "$HOSTPY" ] || HOSTPY=$(command -v python3)
for tool in nsenter jq file "$HOSTPY"; do
    command -v "$tool" >/dev/null || { fail "needs $tool on the host"; finish; exit 1; }
done

"$APPLIANCE" -q image build python-3.13-web go-1.23-web-src >/dev/null ||
    { fail "building the images python-3.13-web and go-1.23-web-src"; finish; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
APID=
cleanup() {
    [ -n "$APID" ] && kill -TERM "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the manifests --------------------------------------------------------------------------
manifests=()
while IFS= read -r m; do manifests+=("$m"); done < <(find "$SERVERS" -name workload.json | sort)
check "workload manifests found (${#manifests[@]})" test "${#manifests[@]}" -ge 11
# manifest_ok FILE LANGUAGE: the fields every manifest has, and those of an available server.
manifest_ok() {
    jq -e --arg lang "$2" '
        (.name | type == "string") and .suite == "http" and .language == $lang and
        (.framework | type == "string") and (.image | type == "string") and
        (.command | type == "array") and has("workers_param") and .port == 8080 and
        (.available | type == "boolean") and (.notes | type == "string" and length > 0) and
        (if .available then (.command | length) > 0 and (.workers_param | type == "object")
         else true end) and
        (if .language == "go" then .image == "go-1.23-web-src" and (.build | type == "object")
         else .image == "python-3.13-web" end)' "$1" >/dev/null 2>&1
}
for m in "${manifests[@]}"; do
    check "${m#"$ROOT"/}: has every field, suite http, a language matching its folder" \
        manifest_ok "$m" "$(basename "$(dirname "$(dirname "$m")")")"
done

# ---- build the Go servers, all in one sandbox run -------------------------------------------
t0=$(now_ms)
run "$SERVERS/build-go.sh" "$TMP/bin"
build_ms=$(($(now_ms) - t0))
expect_rc 0 "the Go servers build in one sandbox run ($((build_ms / 1000)) s)"
for m in "$SERVERS"/go/*/workload.json; do
    out=$(jq -r .build.output "$m")
    check "go $out: a static binary was built" sh -c \
        "file '$TMP/bin/$out' 2>/dev/null | grep -q 'statically linked'"
done

# ---- the client, run inside a sandbox's network namespace -----------------------------------
cat >"$TMP/client.py" <<'PY'
"""client.py PORT DEADLINE PID1: waits until 127.0.0.1:PORT answers GET /json (at most
DEADLINE seconds, and no longer than the sandbox's pid 1 lives), then checks the TechEmpower
JSON rules and keep-alive. Prints one "ok|what" or "fail|what" line a check."""
import http.client, json, os, sys, time

port, deadline = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
pid1 = sys.argv[3]
results = []
def check(ok, what):
    results.append(("ok" if ok else "fail") + "|" + what)

# Wait: one try every 0.1 s, bounded in count and in time.
answered, last = False, ""
for _ in range(600):
    if time.monotonic() > deadline:
        break
    if not os.path.exists("/proc/" + pid1):
        last = "the sandbox has ended"
        break
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/json")
        c.getresponse().read()
        c.close()
        answered = True
        break
    except OSError as e:
        last = repr(e)
        time.sleep(0.1)
check(answered, "answers on 127.0.0.1:%d%s" % (port, "" if answered else " (" + last + ")"))
if answered:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        local = []
        for i in (1, 2):
            c.request("GET", "/json")
            r = c.getresponse()
            body = r.read()
            local.append(c.sock.getsockname() if c.sock else None)
            if i == 1:
                check(r.status == 200, "status 200 (%d)" % r.status)
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                check(doc == {"message": "Hello, World!"}, "body is the JSON message (%r)" % body)
                ctype = r.getheader("Content-Type") or ""
                check(ctype.lower().startswith("application/json"),
                      "Content-Type application/json (%s)" % ctype)
                check(bool(r.getheader("Server")), "Server header (%s)" % r.getheader("Server"))
                check(bool(r.getheader("Date")), "Date header (%s)" % r.getheader("Date"))
                check(r.getheader("Content-Length") is not None or
                      "chunked" in (r.getheader("Transfer-Encoding") or ""),
                      "framed by Content-Length (%s)" % r.getheader("Content-Length"))
                check(r.version == 11 and not r.will_close,
                      "HTTP/1.1 keeps the connection open (Connection: %s)"
                      % r.getheader("Connection"))
            else:
                check(r.status == 200 and json.loads(body) == {"message": "Hello, World!"},
                      "second request on the connection answered (%d)" % r.status)
        check(local[0] is not None and local[0] == local[1],
              "both requests went over one connection (%s)" % local)
    except (OSError, http.client.HTTPException, ValueError) as e:
        check(False, "two requests on one connection (%r)" % e)
    finally:
        c.close()
print("\n".join(results))
PY

# Cgroups of a given appliance process, which must all be gone once it has exited.
cgroups_of() { find /sys/fs/cgroup -mindepth 1 -maxdepth 7 -type d -name "appliance-$1-*" 2>/dev/null; }

# serve NAME MANIFEST ROOT [APPLIANCE-OPTIONS...] [-- EXTRA-ARGS...]: starts the server the
# manifest describes in ROOT (an image or a directory), checks it with the client and tears it
# down. Sets SERVE_OK to 1 when every check passed, SERVE_PROCS to the number of processes
# that ran in the sandbox (its pid 1 included) while it answered.
serve() {
    local name=$1 m=$2 root=$3
    shift 3
    local opts=() extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift && extra=("$@")
    local port cmd=() e
    port=$(jq -r '.port' "$m")
    while IFS= read -r e; do cmd+=("$e"); done < <(jq -r '.command[]' "$m")
    while IFS= read -r e; do opts+=(--env "$e"); done < <(jq -r '(.env // {}) | to_entries[] | "\(.key)=\(.value)"' "$m")
    local pidf="$TMP/$name.pid" rec="$TMP/$name.json" log="$TMP/$name.log"
    rm -f "$pidf"
    local t0 t1 before=$FAILED
    SERVE_OK=0
    SERVE_PROCS=0
    t0=$(now_ms)
    "$APPLIANCE" run --json --net loopback --memory 512M --seccomp default --timeout 90 \
        --pid-file "$pidf" --stdout "$log" --stderr "$log" "${opts[@]}" "$root" -- \
        "${cmd[@]}" "${extra[@]}" >"$rec" 2>"$TMP/$name.err" &
    APID=$!
    local pid1=""
    for _ in $(seq 100); do
        [ -s "$pidf" ] && pid1=$(cat "$pidf") && break
        kill -0 "$APID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$pid1" ]; then
        fail "$name: the sandbox started (no pid file)"
        sed 's/^/#   /' "$TMP/$name.err" | tail -n 10
        kill -TERM "$APID" 2>/dev/null
        wait "$APID"
    else
        local pidns line p
        # Empty when pid 1 has already gone; "none" then matches no process.
        pidns=$(readlink "/proc/$pid1/ns/pid" 2>/dev/null)
        pidns=${pidns:-none}
        timeout 60 nsenter --net="/proc/$pid1/ns/net" "$HOSTPY" "$TMP/client.py" "$port" 30 \
            "$pid1" >"$TMP/$name.client" 2>&1
        t1=$(now_ms)
        while IFS= read -r line; do
            case $line in
            ok\|*) pass "$name: ${line#ok|}" ;;
            fail\|*) fail "$name: ${line#fail|}" ;;
            *) fail "$name: client: $line" ;;
            esac
        done <"$TMP/$name.client"
        [ -s "$TMP/$name.client" ] || fail "$name: the client printed nothing"
        SERVE_PROCS=0
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && SERVE_PROCS=$((SERVE_PROCS + 1))
        done
        local rc
        if ! kill -0 "$APID" 2>/dev/null; then
            wait "$APID"
            rc=$?
            fail "$name: the server still runs after the checks (the appliance ended with $rc)"
        else
            # Tear down: SIGTERM to the appliance, which must exit at once with 130.
            kill -TERM "$APID" 2>/dev/null
            for _ in $(seq 100); do kill -0 "$APID" 2>/dev/null || break; sleep 0.05; done
            kill -0 "$APID" 2>/dev/null && kill -KILL "$APID"
            wait "$APID"
            rc=$?
            check "$name: the appliance exits with 130 on SIGTERM (got $rc)" test "$rc" -eq 130
            check "$name: the run record says interrupted" jqe '.interrupted == true' "$rec"
        fi
        local left=""
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && left="$left ${p#/proc/}"
        done
        check "$name: no process left in the sandbox's pid namespace${left:+:$left}" test -z "$left"
        check "$name: the sandbox's pid 1 is gone" test ! -e "/proc/$pid1"
        check "$name: the pid file is removed" test ! -e "$pidf"
        left=$(cgroups_of "$APID")
        check "$name: no cgroup of the run left${left:+: $left}" test -z "$left"
        echo "# $name: started and checked in $((t1 - t0)) ms; memory peak" \
            "$(jq -r '.memory_peak_bytes' "$rec" 2>/dev/null) B, pids peak" \
            "$(jq -r '.pids_peak' "$rec" 2>/dev/null)"
    fi
    APID=
    if [ "$FAILED" -ne "$before" ]; then
        echo "#   server output:"
        tail -n 15 "$log" 2>/dev/null | sed 's/^/#   /'
    else
        SERVE_OK=1
    fi
}

# seccomp_hint NAME MANIFEST ROOT OPTS...: after a failure, runs the same server without the
# seccomp filter: when every client check passes there, the default profile denies something
# the server needs.
seccomp_hint() {
    local name=$1 m=$2 root=$3 port cmd=() env=() e
    shift 3
    port=$(jq -r '.port' "$m")
    while IFS= read -r e; do cmd+=("$e"); done < <(jq -r '.command[]' "$m")
    while IFS= read -r e; do env+=(--env "$e"); done < <(jq -r '(.env // {}) | to_entries[] | "\(.key)=\(.value)"' "$m")
    rm -f "$TMP/hint.pid"
    "$APPLIANCE" run --net loopback --memory 512M --seccomp unconfined --timeout 60 \
        --pid-file "$TMP/hint.pid" "${env[@]}" "$@" "$root" -- "${cmd[@]}" >/dev/null 2>&1 &
    local hp=$! h1=""
    for _ in $(seq 100); do [ -s "$TMP/hint.pid" ] && h1=$(cat "$TMP/hint.pid") && break; sleep 0.1; done
    if [ -n "$h1" ]; then
        timeout 60 nsenter --net="/proc/$h1/ns/net" "$HOSTPY" "$TMP/client.py" "$port" 30 "$h1" \
            >"$TMP/hint.client" 2>&1
    fi
    if [ -n "$h1" ] && [ -s "$TMP/hint.client" ] && ! grep -qv '^ok|' "$TMP/hint.client"; then
        echo "#   $name passes every check under --seccomp unconfined: the default profile denies a syscall it needs"
    else
        echo "#   $name fails under --seccomp unconfined too: not the seccomp profile"
    fi
    kill -TERM "$hp" 2>/dev/null
    wait "$hp" 2>/dev/null
}

# ---- run every available server --------------------------------------------------------------
t_all=$(now_ms)
for m in "${manifests[@]}"; do
    lang=$(jq -r .language "$m")
    fw=$(basename "$(dirname "$m")")
    name="$lang-$fw"
    if [ "$(jq -r .available "$m")" != true ]; then
        skip "$name" "marked unavailable: $(jq -r .notes "$m" | cut -c1-100)"
        continue
    fi
    if [ "$lang" = go ]; then
        out=$(jq -r .build.output "$m")
        if [ ! -x "$TMP/bin/$out" ]; then
            fail "$name: no binary to run"
            continue
        fi
        root="$TMP/root-$fw"
        mkdir -p "$root"/{proc,dev,tmp,sys}
        while IFS=$'\t' read -r dst src; do
            install -m 0755 "$TMP/bin/$src" "$root$dst"
        done < <(jq -r '.run.files | to_entries[] | "\(.key)\t\(.value)"' "$m")
        opts=()
    else
        root=$(jq -r .image "$m")
        opts=()
        while IFS=$'\t' read -r src dst mode; do
            opts+=(--bind "$ROOT/$src:$dst:$mode")
        done < <(jq -r '.run.binds[] | "\(.src)\t\(.dst)\t\(.mode)"' "$m")
    fi
    serve "$name" "$m" "$root" "${opts[@]}"
    [ "$SERVE_OK" -eq 1 ] || seccomp_hint "$name" "$m" "$root" "${opts[@]}"
done

# The parameters: another address and two workers, for one server of each language
# (GOMAXPROCS for Go, through the environment; two uvicorn worker processes for Python,
# through the arguments).
jq '.port = 8181' "$SERVERS/go/fasthttp/workload.json" >"$TMP/fasthttp-8181.json"
serve go-fasthttp-addr-workers "$TMP/fasthttp-8181.json" "$TMP/root-fasthttp" \
    --env ADDR=127.0.0.1:8181 --env WORKERS=2
check "go-fasthttp-addr-workers: one process besides the sandbox's pid 1 ($SERVE_PROCS in all)" \
    test "$SERVE_PROCS" -eq 2
jq '.port = 8181' "$SERVERS/python/starlette/workload.json" >"$TMP/starlette-8181.json"
serve python-starlette-addr-workers "$TMP/starlette-8181.json" python-3.13-web \
    --bind "$SERVERS:/tmp/workloads:ro" -- --addr 127.0.0.1:8181 --workers 2
check "python-starlette-addr-workers: a supervisor and two workers ($SERVE_PROCS processes in all)" \
    test "$SERVE_PROCS" -ge 4
echo "# build $((build_ms / 1000)) s, servers $((($(now_ms) - t_all) / 1000)) s"
finish
