#!/usr/bin/env bash
# The real images run inside the sandbox: Python from python-3.13, and a Go program compiled
# inside the go-1.23 image (network off, sources read-only, output bound writable) and then
# run as a static binary from a bare root, each under a memory limit and the default seccomp
# profile.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$APPLIANCE" -q image build python-3.13 go-1.23 >/dev/null || { fail "building the images"; finish; exit 1; }

run_json() { "$APPLIANCE" run --json "$@" 2>"$TMP/stderr"; }
field() { jq -r ".$1" "$TMP/rec.json"; }

# Python: stdlib modules that load C extensions, output captured through --stdout.
run_json --memory 256M --stdout "$TMP/py.out" python-3.13 -- python3.13 -c \
    'import json, ssl, sqlite3, asyncio; print(sum(range(10)))' >"$TMP/rec.json"
check "python-3.13 runs in the sandbox (exit 0)" test "$(field exit_code)" = 0
check "python output is correct" test "$(cat "$TMP/py.out")" = 45
check "cgroup backend is reported" grep -Eq '"cgroup":[[:space:]]*"v[12]"' "$TMP/rec.json"
peak=$(field memory_peak_bytes)
check "memory peak is measured (1 MiB < $peak < 256 MiB)" test "$peak" -gt 1048576 -a "$peak" -lt 268435456
check "clone-to-exec is shorter than clone-to-reap" test "$(field start_ns)" -lt "$(field wall_ns)"
check "python's peak RSS is plausible (4-200 MiB)" test "$(field maxrss_bytes)" -gt 4194304 -a "$(field maxrss_bytes)" -lt 209715200

# stdin from a file, --env on top of the image's environment, the image's workdir.
printf '1\n2\n3\n' >"$TMP/in.txt"
out=$("$APPLIANCE" run --stdin "$TMP/in.txt" --env GREETING=hi python-3.13 -- python3.13 -c \
    'import os, sys; print(os.environ["GREETING"], os.environ["LANG"], sum(int(l) for l in sys.stdin), os.getcwd(), os.getuid())' 2>/dev/null)
check "stdin, --env, image env, workdir and the unprivileged uid ($out)" test "$out" = "hi C.UTF-8 6 / 65534"

# The root is read-only, /tmp is a writable tmpfs.
out=$("$APPLIANCE" run python-3.13 -- python3.13 -c '
import errno
try:
    open("/usr/pwned", "w"); print("wrote")
except OSError as e:
    print(errno.errorcode[e.errno])
open("/tmp/ok", "w").write("x"); print("tmp ok")' 2>/dev/null | tr '\n' ' ')
check "root is read-only, /tmp writable ($out)" test "$out" = "EROFS tmp ok "

# --net loopback: 127.0.0.1 works inside; --net none: lo is down.
prog='import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname(), timeout=2); a, _ = s.accept()
c.sendall(b"ping"); print(a.recv(4).decode())'
out=$("$APPLIANCE" run --net loopback --timeout 20 python-3.13 -- python3.13 -c "$prog" 2>/dev/null)
check "loopback works with --net loopback" test "$out" = ping
"$APPLIANCE" run --net none --timeout 20 python-3.13 -- python3.13 -c "$prog" >/dev/null 2>&1
check "loopback is down with --net none" test $? -ne 0

# --pid-file: a client outside joins the sandbox's network namespace (how a load generator
# reaches a server that has only lo).
"$APPLIANCE" run --pid-file "$TMP/pid" --net loopback --timeout 20 python-3.13 -- \
    python3.13 -m http.server --bind 127.0.0.1 8099 >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do [ -s "$TMP/pid" ] && break; sleep 0.1; done
code=""
for _ in $(seq 50); do
    code=$(nsenter --net="/proc/$(cat "$TMP/pid" 2>/dev/null)/ns/net" python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:8099/", timeout=2).status)' 2>/dev/null) && break
    sleep 0.1
done
check "a client in the sandbox's network namespace (--pid-file) gets HTTP 200 ($code)" test "$code" = 200
kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null
check "the pid file is removed when the run ends" test ! -e "$TMP/pid"

# Go: compile inside the go-1.23 image, offline, then run the static binary from a bare root.
mkdir -p "$TMP/src" "$TMP/out" "$TMP/scratch"/{proc,dev,tmp,sys}
chmod 0777 "$TMP/out"
cat >"$TMP/src/main.go" <<'GO'
package main

import (
	"fmt"
	"runtime"
)

func main() { fmt.Println("hello from go", runtime.Version()) }
GO
run_json --memory 2G --tmp-size 2G --timeout 600 --bind "$TMP/src:/tmp/src" --bind "$TMP/out:/tmp/out:rw" \
    --workdir /tmp/src go-1.23 -- go build -trimpath -o /tmp/out/hello main.go >"$TMP/rec.json"
check "go build runs in the sandbox (exit $(field exit_code); $(tail -n 3 "$TMP/stderr" | tr '\n' ' '))" test "$(field exit_code)" = 0
check "go build produced a static binary" sh -c "file '$TMP/out/hello' | grep -q 'statically linked'"
cp "$TMP/out/hello" "$TMP/scratch/hello"
run_json --memory 32M --stdout "$TMP/go.out" "$TMP/scratch/" -- /hello >"$TMP/rec.json"
check "the Go binary runs from a bare root under 32M" test "$(field exit_code)" = 0
check "Go output is correct ($(cat "$TMP/go.out"))" grep -q '^hello from go go1\.23' "$TMP/go.out"
rss=$(field maxrss_bytes)
check "a small static program's peak RSS is its own (< 16 MiB, got $rss)" test "$rss" -gt 0 -a "$rss" -lt 16777216
out=$("$APPLIANCE" run go-1.23 -- go version 2>/dev/null)
check "go version in the sandbox says go1.23 ($out)" sh -c "echo '$out' | grep -q 'go1\.23'"

# Groups left by an appliance that died are removed by the next run (v1 hierarchies here).
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; then
    sleep 0 & dead=$!; wait $dead
    stale=()
    for c in memory pids; do
        self=$(awk -F: -v c="$c" '$2 == c {print $3}' /proc/self/cgroup)
        d="/sys/fs/cgroup/$c${self%/}/appliance-$dead-1"
        mkdir -p "$d" && stale+=("$d")
    done
    # A pid taken by a later process: its groups carry the dead appliance's start time.
    sleep 60 & live=$!
    start=$(proc_start_ticks "$live")
    reused=() kept=()
    for c in memory pids; do
        self=$(awk -F: -v c="$c" '$2 == c {print $3}' /proc/self/cgroup)
        d="/sys/fs/cgroup/$c${self%/}/appliance-$live-$((start - 1))-1"
        mkdir -p "$d" && reused+=("$d")
        d="/sys/fs/cgroup/$c${self%/}/appliance-$live-$start-1"
        mkdir -p "$d" && kept+=("$d")
    done
    "$APPLIANCE" run python-3.13 -- python3.13 -c pass >/dev/null 2>&1
    left=0
    for d in "${stale[@]}"; do [ -d "$d" ] && left=$((left + 1)) && rmdir "$d"; done
    check "stale groups of a dead appliance are removed (${#stale[@]} made, $left left)" test "${#stale[@]}" -eq 2 -a "$left" -eq 0
    left=0
    for d in "${reused[@]}"; do [ -d "$d" ] && left=$((left + 1)) && rmdir "$d"; done
    check "groups whose pid now belongs to a later process are removed (${#reused[@]} made, $left left)" test "${#reused[@]}" -eq 2 -a "$left" -eq 0
    left=0
    for d in "${kept[@]}"; do [ -d "$d" ] && left=$((left + 1)) && rmdir "$d"; done
    check "control: groups of a live process with its own start time are kept (${#kept[@]} made, $left kept)" test "${#kept[@]}" -eq 2 -a "$left" -eq 2
    kill "$live" 2>/dev/null
    wait "$live" 2>/dev/null
else
    skip "stale v1 groups" "no cgroup v1 memory and pids hierarchies on this host (the VM test covers v2)"
fi

# A missing command is the sandbox's failure (125), with a message naming it.
"$APPLIANCE" run python-3.13 -- /no/such/program >/dev/null 2>"$TMP/err"
rc=$?
check "a missing command exits 125 and is named" sh -c "test $rc = 125 && grep -q '/no/such/program' '$TMP/err'"
finish
