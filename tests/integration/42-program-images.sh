#!/usr/bin/env bash
# One program or one service per image, as users ship them (what the size suite measures).
# Each Go image (go-1.23-hello, go-1.23-<server>) holds exactly its static binary, the very
# file go-1.23-static builds, plus /etc/passwd and /etc/group naming root and nobody, in the
# skeleton's empty directories: no shell, no libc, no other file. Its entrypoint runs in the
# sandbox: hello prints, a server answers GET /json on loopback inside its network namespace.
# Each Python service image (python-3.13-<framework>) holds its framework's closure and not the
# other frameworks, and its server answers from it; python-3.13 is the runtime alone. A copy
# stage refuses a symbolic link and a missing file. The contents checks have controls. Root.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
require_root_and "$APPLIANCE"
HOSTPY=/usr/bin/python3
[ -x "$HOSTPY" ] || HOSTPY=$(command -v python3)
for tool in nsenter file jq "$HOSTPY"; do
    command -v "$tool" >/dev/null || { fail "needs $tool on the host"; finish; exit 1; }
done

GO_PROGRAMS=(hello nethttp gin echo chi fasthttp fiber)
FRAMEWORKS=(fastapi starlette flask django)
IMAGES=(go-1.23-static python-3.13)
for p in "${GO_PROGRAMS[@]}"; do IMAGES+=("go-1.23-$p"); done
for f in "${FRAMEWORKS[@]}"; do IMAGES+=("python-3.13-$f"); done
start=$SECONDS
run "$APPLIANCE" image build "${IMAGES[@]}"
expect_rc 0 "the one-program images build ($((SECONDS - start)) s)"

APID=
cleanup() {
    [ -n "$APID" ] && kill -TERM "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Go: exactly the binary, /etc/passwd and /etc/group ------------------------------------
# The skeleton every image has: empty mount points and folders, and merged-/usr links.
SKELETON_DIRS=". ./dev ./etc ./home ./proc ./root ./run ./sys ./tmp ./usr ./usr/bin ./usr/lib ./usr/lib64 ./usr/sbin ./var ./var/tmp"
SKELETON_LINKS="./bin->usr/bin ./lib->usr/lib ./lib64->usr/lib64 ./sbin->usr/sbin"
# go_root_ok DIR PROGRAM: DIR holds the regular files etc/group, etc/passwd and
# usr/local/bin/PROGRAM and nothing else but the skeleton and usr/local/bin's folders.
go_root_ok() {
    local files dirs links
    files=$(cd "$1" && find . -type f | sort | xargs)
    dirs=$(cd "$1" && find . -type d | sort | xargs)
    links=$(cd "$1" && find . -type l -printf '%p->%l\n' | sort | xargs)
    [ "$files" = "./etc/group ./etc/passwd ./usr/local/bin/$2" ] &&
        [ "$dirs" = "$(echo $SKELETON_DIRS ./usr/local ./usr/local/bin | xargs -n1 | sort | xargs)" ] &&
        [ "$links" = "$SKELETON_LINKS" ] &&
        [ -z "$(cd "$1" && find . ! -type f ! -type d ! -type l)" ]
}
users_ok() {
    grep -qx 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' "$1/etc/passwd" &&
        grep -qx 'root:x:0:0:root:/root:/sbin/nologin' "$1/etc/passwd" &&
        [ "$(wc -l <"$1/etc/passwd")" -eq 2 ] &&
        grep -qx 'nobody:x:65534:' "$1/etc/group" && grep -qx 'root:x:0:' "$1/etc/group" &&
        [ "$(wc -l <"$1/etc/group")" -eq 2 ]
}
run "$APPLIANCE" image unpack go-1.23-static "$TMP/static"
expect_rc 0 "go-1.23-static unpacks"
for p in "${GO_PROGRAMS[@]}"; do
    img=go-1.23-$p root=$TMP/$img
    run "$APPLIANCE" image unpack "$img" "$root"
    expect_rc 0 "$img unpacks"
    check "$img: the binary, /etc/passwd, /etc/group and the empty skeleton, nothing else ($(cd "$root" && find . -type f | xargs))" \
        go_root_ok "$root" "$p"
    check "$img: /etc/passwd and /etc/group name root and nobody (65534), no one else" users_ok "$root"
    check "$img: /usr/local/bin/$p is a static executable" \
        sh -c "[ -x '$root/usr/local/bin/$p' ] && file '$root/usr/local/bin/$p' | grep -q 'statically linked'"
    src=$TMP/static/usr/local/bin/$p
    [ "$p" = hello ] || src=$TMP/static/usr/local/bin/servers/$p
    check "$img: its binary is the one go-1.23-static builds (what the other suites measure)" \
        cmp -s "$src" "$root/usr/local/bin/$p"
    check "$img: its entrypoint is the binary" \
        jqe ".entrypoint == [\"/usr/local/bin/$p\"]" "images/$img/image.json"
done
# Controls: a shell, a library, another program, a link or a missing binary each fail the check.
fails() { ! "$@"; }
cp -a "$TMP/go-1.23-nethttp" "$TMP/ctl"
check "control: the untouched copy passes" go_root_ok "$TMP/ctl" nethttp
for extra in usr/bin/sh usr/lib/x86_64-linux-gnu/libc.so.6 usr/local/bin/gin etc/ssl/certs/ca-certificates.crt; do
    mkdir -p "$TMP/ctl/$(dirname "$extra")"
    touch "$TMP/ctl/$extra"
    check "control: an added /$extra fails the check" fails go_root_ok "$TMP/ctl" nethttp
    rm -rf "$TMP/ctl" && cp -a "$TMP/go-1.23-nethttp" "$TMP/ctl"
done
ln -s /bin/busybox "$TMP/ctl/usr/local/bin/sh"
check "control: an added symbolic link fails the check" fails go_root_ok "$TMP/ctl" nethttp
rm -f "$TMP/ctl/usr/local/bin/sh" "$TMP/ctl/usr/local/bin/nethttp"
check "control: without its binary the check fails" fails go_root_ok "$TMP/ctl" nethttp
printf 'daemon:x:1:1::/:/sbin/nologin\n' >>"$TMP/ctl/etc/passwd"
check "control: a third user fails the users check" fails users_ok "$TMP/ctl"
rm -rf "$TMP/ctl"

out=$("$APPLIANCE" run go-1.23-hello 2>"$TMP/stderr")
same "go-1.23-hello: its entrypoint prints the greeting in the sandbox" "$out" "Hello, World!"

# ---- servers answer on loopback ------------------------------------------------------------
cat >"$TMP/get.py" <<'PY'
"""get.py PORT PID1 SECONDS: GET /json on 127.0.0.1:PORT until it answers (one try every 50 ms,
at most SECONDS, and no longer than the sandbox's pid 1 lives); prints the status and the body."""
import http.client, os, sys, time
port, pid1 = int(sys.argv[1]), sys.argv[2]
deadline = time.monotonic() + min(float(sys.argv[3]), 20)
for _ in range(400):
    if time.monotonic() > deadline or not os.path.exists("/proc/" + pid1):
        break
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/json")
        r = c.getresponse()
        print(r.status, r.read().decode())
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
print("no answer")
sys.exit(1)
PY
# answers LABEL [RUN-OPTIONS...] IMAGE [-- CMD...]: starts IMAGE (its entrypoint, or CMD) in the
# sandbox with loopback up and checks that GET /json answers 200 with the JSON message from
# inside its network namespace; then stops it (SIGTERM: the appliance exits with 130).
answers() {
    local label=$1 pidf=$TMP/srv.pid pid1="" rc
    shift
    rm -f "$pidf"
    "$APPLIANCE" run --net loopback --memory 512M --timeout 60 --pid-file "$pidf" \
        --stdout "$TMP/srv.log" --stderr "$TMP/srv.log" "$@" >/dev/null 2>"$TMP/srv.err" &
    APID=$!
    for _ in $(seq 100); do
        [ -s "$pidf" ] && pid1=$(cat "$pidf") && break
        kill -0 "$APID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$pid1" ]; then
        fail "$label: the sandbox started ($(tail -n 3 "$TMP/srv.err" | xargs))"
    else
        timeout 30 nsenter --net="/proc/$pid1/ns/net" "$HOSTPY" "$TMP/get.py" 8080 "$pid1" 20 \
            >"$TMP/get.out" 2>&1
        check "$label: answers GET /json on 127.0.0.1:8080 in its sandbox ($(head -c 120 "$TMP/get.out"))" \
            grep -qxE '200 \{"message": ?"Hello, World!"\}' "$TMP/get.out"
    fi
    kill -TERM "$APID" 2>/dev/null
    wait "$APID"
    rc=$?
    APID=
    check "$label: stops on SIGTERM (exit $rc)" test "$rc" -eq 130
    [ -n "$pid1" ] && grep -q . "$TMP/get.out" && ! grep -q '^200' "$TMP/get.out" &&
        sed 's/^/#   /' "$TMP/srv.log" | tail -n 10
}
# Control: where nothing listens, the client reports no answer.
timeout 10 unshare --net "$HOSTPY" "$TMP/get.py" 8080 1 1 >"$TMP/get.out" 2>&1
check "control: with nothing listening the client says so ($(head -c 60 "$TMP/get.out"))" \
    grep -qx 'no answer' "$TMP/get.out"
for p in "${GO_PROGRAMS[@]}"; do
    [ "$p" = hello ] && continue
    answers "go-1.23-$p" "go-1.23-$p"
done

# ---- Python: the runtime, and one framework's closure per image ----------------------------
# modules IMAGE: "name=0|1 ..." for each module, whether the image's Python finds it.
MODULES="fastapi starlette uvicorn uvloop httptools orjson pydantic flask werkzeug jinja2 django gunicorn"
modules() {
    "$APPLIANCE" run "$1" -- /usr/bin/python3.13 -c "
import importlib.util
print(' '.join('%s=%d' % (m, importlib.util.find_spec(m) is not None) for m in '$MODULES'.split()))" 2>/dev/null
}
# expect_modules IMAGE PRESENT...: those are found, every other of MODULES is not.
expect_modules() {
    local img=$1 got want="" m
    shift
    got=$(modules "$img")
    for m in $MODULES; do
        if [[ " $* " == *" $m "* ]]; then want="$want $m=1"; else want="$want $m=0"; fi
    done
    same "$img: finds ${*:-none} of the framework modules, not the others" "$got" "${want# }"
}
expect_modules python-3.13
expect_modules python-3.13-fastapi fastapi starlette uvicorn uvloop httptools orjson pydantic
expect_modules python-3.13-starlette starlette uvicorn uvloop httptools
expect_modules python-3.13-flask flask werkzeug jinja2 gunicorn
expect_modules python-3.13-django django gunicorn
# Control: python-3.13-web holds every framework, and the check says so.
got=$(modules python-3.13-web)
check "control: python-3.13-web finds every framework ($got)" test "$got" = "$(for m in $MODULES; do printf '%s=1 ' "$m"; done | sed 's/ $//')"

run "$APPLIANCE" image unpack python-3.13 "$TMP/py"
expect_rc 0 "python-3.13 unpacks"
check "python-3.13: no third-party Python package (dist-packages empty)" \
    test -z "$(ls -A "$TMP/py/usr/lib/python3/dist-packages" 2>/dev/null)"
same "python-3.13: its packages are python3.13's closure as locked" \
    "$(awk '/^Package: /{print $2}' "$TMP/py/var/lib/dpkg/status" | sort | xargs)" \
    "$(jq -r '.packages[].name' images/python-3.13/lock.json | sort | xargs)"
check "python-3.13: requests python3.13 and libgcc-s1 only" \
    jqe '.packages == ["python3.13", "libgcc-s1"]' images/python-3.13/image.json
# has_shell ROOT: a shell (sh, dash, bash, ...) or busybox in ROOT's /usr/bin (/bin links there).
has_shell() { [ -n "$(find "$1/usr/bin" -maxdepth 1 \( -name '*sh' -o -name busybox \) -print -quit)" ]; }
for img in python-3.13 "${FRAMEWORKS[@]/#/python-3.13-}"; do
    rm -rf "$TMP/py"
    "$APPLIANCE" image unpack "$img" "$TMP/py" >/dev/null 2>&1
    check "$img: no shell" fails has_shell "$TMP/py"
done
touch "$TMP/py/usr/bin/dash"
check "control: a dash added to the last one is found" has_shell "$TMP/py"
rm -rf "$TMP/py"

# Each service runs from its own image, as its manifest says, and answers.
for f in "${FRAMEWORKS[@]}"; do
    m=images/workloads/servers/python/$f/workload.json
    env_opts=()
    while IFS= read -r e; do env_opts+=(--env "$e"); done < <(jq -r '(.env // {}) | to_entries[] | "\(.key)=\(.value)"' "$m")
    mapfile -t cmd < <(jq -r '.command[]' "$m")
    answers "python-3.13-$f: its server" "${env_opts[@]}" \
        --bind "$ROOT/images/workloads/servers:/tmp/workloads:ro" "python-3.13-$f" -- "${cmd[@]}"
done

run "$APPLIANCE" run --bind "$ROOT/images/workloads/servers:/tmp/workloads:ro" python-3.13-flask -- \
    /usr/bin/python3.13 /tmp/workloads/python/fastapi/app.py
check "control: the FastAPI server cannot start from python-3.13-flask (exit $RC)" \
    sh -c "[ $RC -ne 0 ] && grep -q \"No module named 'fastapi'\" '$TMP/stderr'"

# ---- a copy stage takes regular files only ---------------------------------------------------
mkdir -p "$TMP/tree"
cp -r images "$TMP/tree/images"
for case in "symlink /bin/hello is a symbolic link" "missing /usr/local/bin/nope No such file"; do
    read -r name from why <<<"$case"
    mkdir -p "$TMP/tree/images/copy-$name"
    jq --arg n "copy-$name" --arg from "$from" \
        '.name = $n | .stages[0].copy[0].from = $from' images/go-1.23-hello/image.json \
        >"$TMP/tree/images/copy-$name/image.json"
    run env APPLIANCE_IMAGES="$TMP/tree/images" "$APPLIANCE" image build "copy-$name" --out "$TMP/out"
    expect_rc 1 "a copy stage of $from ($name) fails"
    check "... saying what and why ($(grep -m1 -o 'copying.*' "$TMP/stderr" | head -c 200))" \
        sh -c "grep -q 'copying $from out of go-1.23-static' '$TMP/stderr' && grep -q '$why' '$TMP/stderr'"
done
finish
