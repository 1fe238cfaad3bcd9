#!/usr/bin/env bash
# Escape attempts against the sandbox. Every attempt is a subcommand of the static program
# tests/security/escape.c, run by `appliance run` with the default seccomp profile in a
# scratch root filesystem; each must print one "DENIED ..." line and exit 0. Resource bombs
# must be contained by the limits, and nothing of ours (processes, cgroups, mounts, the test
# network) may be left behind. Needs root.
. "$(dirname "$0")/../integration/lib.sh"

ESCAPE=$ROOT/build/static/security/escape
require_root_and "$APPLIANCE" "$ESCAPE"

RUN_ID=apesc$$x$RANDOM            # in every marker, so leftovers can be found
RFS=$TMP/root                     # the scratch root filesystem
HOST_MARKER=
NS=apesc-$$                       # test network namespace
VH=apesc$$h VP=apesc$$n           # veth pair: root-namespace end, test-namespace end
PORT=47011
LISTENER_PID=

net_down() {
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null && wait "$LISTENER_PID" 2>/dev/null
    LISTENER_PID=
    ip netns del "$NS" 2>/dev/null
    ip link del "$VH" 2>/dev/null
    return 0
}
cleanup() {
    net_down
    [ -n "$HOST_MARKER" ] && rm -f "$HOST_MARKER"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the scratch root ------------------------------------------------------------------
scratch_root "$RFS"
install -m 4755 -o root -g root "$ESCAPE" "$RFS/usr/bin/escape-suid"
echo "a file of the image" >"$RFS/etc/visible"
chmod 644 "$RFS/etc/visible"
echo "root only" >"$RFS/etc/secret"
chmod 600 "$RFS/etc/secret"
# A file of the host's that the sandbox must not be able to read.
HOST_MARKER=$(mktemp /tmp/ap-host-marker-XXXXXXXX)
echo "host secret $RUN_ID" >"$HOST_MARKER"
chmod 644 "$HOST_MARKER"
MARKER_NAME=$(basename "$HOST_MARKER")


LAST_OUT= LAST_RC= LAST_JSON=
# run [APPLIANCE OPTIONS...] -- ESCAPE ARGS...: one run; sets LAST_OUT (the command's
# stdout), LAST_RC and LAST_JSON (the run record when --json was given).
run() {
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    : >"$TMP/out"
    LAST_JSON=$(timeout 60 "$APPLIANCE" run --seccomp default --stdout "$TMP/out" \
        "${opts[@]}" "$RFS/" -- /usr/bin/escape "$@" 2>"$TMP/err")
    LAST_RC=$?
    LAST_OUT=$(cat "$TMP/out")
}

# attempt DESCRIPTION [APPLIANCE OPTIONS...] -- ESCAPE ARGS...: must be denied.
attempt() {
    local desc=$1
    shift
    run "$@"
    if [ "$LAST_RC" -eq 0 ] && [[ $LAST_OUT == DENIED* ]] && [ "$(printf '%s\n' "$LAST_OUT" | wc -l)" -eq 1 ]; then
        pass "$desc: $LAST_OUT"
    else
        fail "$desc: exit $LAST_RC: ${LAST_OUT:-no output} $(tail -n 2 "$TMP/err" | tr '\n' ' ')"
    fi
}

# expect DESCRIPTION 'SHELL CONDITION': passes when the condition (evaluated here) holds.
expect() {
    local d=$1
    shift
    if eval "$*"; then pass "$d"; else fail "$d"; fi
}

# jnum KEY: a field of the last run record ("" when absent).
jnum() { printf '%s' "$LAST_JSON" | jq -r ".$1 | if . == null then empty else tostring end" 2>/dev/null; }
# between VALUE LOW HIGH: LOW <= VALUE <= HIGH (integers or decimals).
between() { [ -n "$1" ] && awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

# ---- system calls and kernel interfaces, as the default user and as uid 0 --------------
SYSCALL_ATTEMPTS=(mount mount-api umount2 pivot-root chroot mknod
    ptrace-pid1 ptrace-child process-vm
    unshare-user unshare-ns unshare-other setns clone-newuser clone-newnet clone3 int80 x32
    bpf kexec-load kexec-file-load keyctl add-key request-key reboot
    init-module finit-module delete-module perf-event-open userfaultfd open-by-handle
    iopl ioperm acct settimeofday clock-settime swapon io-uring
    raw-socket packet-socket vsock lo-up write-root write-sys write-proc-sys caps fds)
# Some kernels offer no 32-bit system calls at all (int 0x80 faults with SIGSEGV even without
# a filter): there the attempt cannot tell our filter's denial from the kernel's, so it is
# skipped, with the unfiltered control as the reason.
run --seccomp unconfined -- int80
if [[ $LAST_OUT == *"killed by signal 11"* ]]; then
    skip "int80 (default user and uid 0)" "this kernel has no int 0x80 system calls: without any filter the probe faults ($LAST_OUT)"
    SYSCALL_ATTEMPTS=("${SYSCALL_ATTEMPTS[@]/int80/}")
fi
for a in "${SYSCALL_ATTEMPTS[@]}"; do
    [ -n "$a" ] || continue
    attempt "$a" -- "$a"
done
for a in "${SYSCALL_ATTEMPTS[@]}"; do
    [ -n "$a" ] || continue
    attempt "$a as uid 0" --user 0:0 -- "$a"
done
for a in mount unshare-user setns ptrace-pid1 write-root caps; do
    attempt "$a as uid 0 of a user namespace" --userns --user 0:0 -- "$a"
done

# uid 0 without capabilities: file modes alone guard much of /proc.
attempt "host-wide /proc files as uid 0" --user 0:0 -- proc-write
attempt "host-wide /proc files" -- proc-write
# The read-only root must answer EROFS even where file modes would allow the change.
run --user 0:0 -- write-root
expect "the root filesystem is read-only for uid 0 (EROFS)" \
    '[ "$LAST_RC" -eq 0 ] && [[ $LAST_OUT == *"EROFS for create, mkdir, open, chmod, rename, unlink, symlink"* ]]'
run --user 0:0 -- write-proc-sys
expect "/proc/sys is read-only for uid 0 (EROFS): $LAST_OUT" \
    '[ "$LAST_RC" -eq 0 ] && [[ $LAST_OUT == *"hostname EROFS, core_pattern EROFS, drop_caches EROFS"* ]]'

# ---- binds: read-only all the way down --------------------------------------------------
# A bind of the host's / brings its /proc, /sys, /dev, /run and cgroup mounts along; each must
# be read-only, nosuid and nodev in the sandbox. Mount flags are read (mountinfo, statvfs);
# nothing is written to the host. The writable mounts a sandbox has are its own: /proc (whose
# host-wide files are guarded above), /tmp and /dev/shm.
OWN_RW=(--rw-ok /proc --rw-ok /tmp --rw-ok /dev/shm)
HOST_SUBMOUNTS=(/mnt/proc/sys /mnt/dev/shm /mnt/run /mnt/sys/fs/cgroup)
for d in /sys/fs/cgroup/memory /sys/fs/cgroup/pids; do
    [ -d "$d" ] && HOST_SUBMOUNTS+=("/mnt$d")
done
attempt "every mount under --bind /:/mnt is read-only, nosuid, nodev" --bind /:/mnt -- \
    mount-audit "${OWN_RW[@]}"
attempt "... as uid 0" --bind /:/mnt --user 0:0 -- mount-audit "${OWN_RW[@]}"
attempt "... in a user namespace as its uid 0" --bind /:/mnt --userns --user 0:0 -- \
    mount-audit "${OWN_RW[@]}"
attempt "statvfs: the host's /proc/sys, /dev/shm, /run and cgroups under the bind are read-only" \
    --bind /:/mnt -- statvfs-ro "${HOST_SUBMOUNTS[@]}"
attempt "a bind of /sys/fs/cgroup as uid 0 is read-only to the bottom" \
    --bind /sys/fs/cgroup:/mnt --user 0:0 --pids 20 --memory 64M -- mount-audit "${OWN_RW[@]}"
# Control: the probe sees writable mounts where there are some.
run --bind /:/mnt:rw -- mount-audit "${OWN_RW[@]}"
expect "control: with --bind /:/mnt:rw the audit finds the host's mounts writable" \
    '[ "$LAST_RC" -eq 1 ] && [[ $LAST_OUT == *"/mnt/proc:writable"* ]]'
attempt "a :rw bind is still nosuid and nodev all the way down" --bind /:/mnt:rw -- \
    mount-audit "${OWN_RW[@]}" --rw-ok /mnt
run --bind /:/mnt -- mount-audit --rw-ok /proc --rw-ok /tmp
expect "control: the audit counts /dev/shm as writable when it is not allowed" \
    '[ "$LAST_RC" -eq 1 ] && [[ $LAST_OUT == *"/dev/shm:writable"* ]]'

# Targets the sandbox provides itself, or its root, are refused before anything runs.
mkdir -p "$TMP/bindsrc"
chmod 755 "$TMP/bindsrc"
for t in / /proc /proc/sys /sys /sys/fs/cgroup /dev /dev/shm //proc /mnt/../proc /./dev /proc/; do
    run --bind "$TMP/bindsrc:$t:rw" -- true
    expect "bind target $t is refused (exit 2: $(head -n 1 "$TMP/err" | cut -c1-90))" \
        '[ "$LAST_RC" -eq 2 ] && grep -qE "bind target" "$TMP/err"'
done
run --bind "$TMP/bindsrc:/mnt:rw" -- true
expect "control: the same bind to /mnt runs" '[ "$LAST_RC" -eq 0 ]'
# A symbolic link in the image cannot lead a bind target there either.
ln -s /proc "$RFS/to-proc"
ln -s / "$RFS/to-root"
ln -s /dev/shm "$RFS/to-shm"
for l in to-proc to-root to-shm; do
    run --bind "$TMP/bindsrc:/$l" -- true
    expect "bind target /$l (a link to $(readlink "$RFS/$l")) is refused (exit 125: $(tail -n 1 "$TMP/err" | cut -c1-100))" \
        '[ "$LAST_RC" -eq 125 ] && grep -q "bind target /$l" "$TMP/err"'
done
ln -s /etc "$RFS/to-etc"
run --bind "$TMP/bindsrc:/to-etc" -- true
expect "control: a link to /etc as bind target runs" '[ "$LAST_RC" -eq 0 ]'
rm -f "$RFS"/to-proc "$RFS"/to-root "$RFS"/to-shm "$RFS"/to-etc

# uid 0 outside a user namespace owns every root-owned file: no writable bind for it.
run --bind "$TMP/bindsrc:/mnt:rw" --user 0:0 -- true
expect "a :rw bind for uid 0 without --userns is refused (exit 2)" \
    '[ "$LAST_RC" -eq 2 ] && grep -q "userns" "$TMP/err"'
run --bind "$TMP/bindsrc:/mnt:rw" --user 0:0 --userns -- true
expect "control: the same bind with --userns runs" '[ "$LAST_RC" -eq 0 ]'
run --bind "$TMP/bindsrc:/mnt" --user 0:0 -- true
expect "control: a read-only bind for uid 0 runs" '[ "$LAST_RC" -eq 0 ]'

# /dev is read-only once populated; /dev/shm is a tmpfs of its own, sized by --tmp-size.
attempt "/dev and /dev/shm (default size)" -- dev-audit $((64 << 20))
attempt "/dev and /dev/shm as uid 0, --tmp-size 8M" --user 0:0 --tmp-size 8M -- dev-audit $((8 << 20))
attempt "/dev and /dev/shm in a user namespace" --userns --user 0:0 --tmp-size 8M -- \
    dev-audit $((8 << 20))

# ---- the host's files through /proc ------------------------------------------------------
check "control: the host marker is readable on the host" grep -q "$RUN_ID" "$HOST_MARKER"
attempt "read the host marker via /proc/1/root, /proc/self/root/../.., /tmp" -- host-read "$MARKER_NAME"
attempt "read the host marker as uid 0" --user 0:0 -- host-read "$MARKER_NAME"

# ---- a setuid-root binary ----------------------------------------------------------------
ctl=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$RFS/usr/bin/escape-suid" setuid-control 2>&1)
check "control: outside the sandbox the setuid copy gains euid 0 ($ctl)" [ "$ctl" = "SETUP euid 0" ]
: >"$TMP/out"
timeout 60 "$APPLIANCE" run --seccomp default --stdout "$TMP/out" "$RFS/" -- \
    /usr/bin/escape-suid setuid 2>"$TMP/err"
rc=$?
out=$(cat "$TMP/out")
if [ "$rc" -eq 0 ] && [[ $out == DENIED* ]]; then pass "setuid-root binary: $out"; else
    fail "setuid-root binary: exit $rc: ${out:-no output} $(tail -n 2 "$TMP/err" | tr '\n' ' ')"; fi

# ---- a terminal: TIOCSTI must not push input into the terminal the appliance runs on ---
out=$(timeout 60 /usr/bin/python3 - "$APPLIANCE" "$RFS/" <<'EOF' 2>&1
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "--seccomp", "default", sys.argv[2], "--",
                           "/usr/bin/escape", "tiocsti"])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(st))
EOF
)
rc=$?
line=$(printf '%s\n' "$out" | grep -E '^(DENIED|ESCAPED|BROKEN)' | head -n 1)
if [ "$rc" -eq 0 ] && [[ $line == DENIED* ]]; then pass "on a terminal: $line"; else
    fail "on a terminal: exit $rc: $out"; fi

# ---- the network ---------------------------------------------------------------------------
attempt "bring lo up under --net none" --net none -- lo-up
run --net loopback -- loopback
expect "control: 127.0.0.1 works under --net loopback ($LAST_OUT)" \
    '[ "$LAST_RC" -eq 0 ] && [[ $LAST_OUT == WORKS* ]]'
run --net none -- loopback
expect "127.0.0.1 is unusable under --net none ($LAST_OUT)" \
    '[ "$LAST_RC" -eq 1 ] && [[ $LAST_OUT == BROKEN* ]]'

# A real non-loopback peer: a veth pair to a namespace of our own, the root side .1 and the
# namespace side .2 of a /30 from a documentation range (TEST-NET-1, or TEST-NET-2/3 when the
# host already uses TEST-NET-1, as VMs whose own network is 192.0.2.0/24 do), with a listener
# bound to .2 only. The route is checked before any packet is sent; nothing goes elsewhere.
net_ok=1 NET= PEER= LOCAL=
for n in 192.0.2 198.51.100 203.0.113; do
    # Free: no host address in the /24, and nothing but the default route covers the peer.
    if [ -z "$(ip -o addr show to "$n.0/24" 2>/dev/null)" ] &&
        [ -z "$(ip route show to match "$n.2" 2>/dev/null | grep -v '^default ')" ]; then
        NET=$n
        break
    fi
done
if [ -z "$NET" ]; then
    fail "every documentation range is in use on this host: not touching the network"
    net_ok=0
elif ip netns list | grep -qw "$NS"; then
    fail "namespace $NS exists already"
    net_ok=0
else
    PEER=$NET.2 LOCAL=$NET.1
    [ "$NET" != 192.0.2 ] && echo "# TEST-NET-1 for the peer: the host uses 192.0.2.0/24 itself: $NET.0/30 instead"
fi
if [ $net_ok -eq 1 ]; then
    if ! { ip netns add "$NS" &&
        ip link add "$VH" type veth peer name "$VP" &&
        ip link set "$VP" netns "$NS" &&
        ip addr add "$LOCAL/30" dev "$VH" &&
        ip link set "$VH" up &&
        ip -n "$NS" addr add "$PEER/30" dev "$VP" &&
        ip -n "$NS" link set "$VP" up &&
        ip -n "$NS" link set lo up; } 2>"$TMP/ip.err"; then
        fail "setting up the test network: $(tr '\n' ' ' <"$TMP/ip.err")"
        net_ok=0
    fi
fi
if [ $net_ok -eq 1 ]; then
    route=$(ip route get "$PEER" 2>&1 | tr -s " \n" "  ")
    if [[ " $route " == *" dev $VH "* ]] && [[ $route != local* ]]; then
        pass "$PEER routes through $VH ($route)"
    else
        fail "$PEER does not route through $VH ($route): no traffic sent"
        net_ok=0
    fi
fi
if [ $net_ok -eq 1 ]; then
    ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[3], int(sys.argv[1])))
s.listen(16)
open(sys.argv[2], "w").write("ready\n")
while True:
    c, a = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection from %s\n" % a[0])
    c.close()
' "$PORT" "$TMP/listener.log" "$PEER" &
    LISTENER_PID=$!
    for _ in $(seq 50); do
        grep -q ready "$TMP/listener.log" 2>/dev/null && break
        sleep 0.1
    done
    check "control: the listener on $PEER:$PORT is up" grep -q ready "$TMP/listener.log"
    check "control: the root namespace reaches $PEER:$PORT" \
        timeout 3 bash -c "exec 3<>/dev/tcp/$PEER/$PORT"
    sleep 0.2
    conns_before=$(grep -c '^connection' "$TMP/listener.log")
    check "control: the listener saw that connection" [ "$conns_before" -eq 1 ]
    attempt "reach $PEER under --net none" --net none -- connect "$PEER" "$PORT"
    attempt "reach $PEER under --net loopback" --net loopback -- connect "$PEER" "$PORT"
    attempt "reach $PEER under --net loopback as uid 0" --net loopback --user 0:0 -- \
        connect "$PEER" "$PORT"
    sleep 0.2
    expect "the listener saw no connection from a sandbox" \
        '[ "$(grep -c "^connection" "$TMP/listener.log")" -eq "$conns_before" ]'
fi
net_down
expect "the test network namespace is gone" '! ip netns list | grep -qw "$NS"'
expect "the test veth is gone" '! ip link show "$VH" >/dev/null 2>&1'

# ---- resources ------------------------------------------------------------------------------
run --pids 64 --json --timeout 20s -- forkbomb
peak=$(jnum pids_peak)
expect "fork bomb under --pids 64 ends by itself ($LAST_OUT)" \
    '[ "$LAST_RC" -eq 0 ] && [ "$(jnum timed_out)" = false ]'
expect "fork bomb: fork failed with EAGAIN" '[[ $LAST_OUT == "DENIED fork bomb (EAGAIN after "* ]]'
check "fork bomb: pids_peak $peak <= 64" between "$peak" 2 64

run --memory 64M --json --timeout 20s -- membomb
peak=$(jnum memory_peak_bytes)
expect "memory bomb under --memory 64M: OOM killed (exit $LAST_RC, oom_killed $(jnum oom_killed))" \
    '[ "$(jnum oom_killed)" = true ] && [ "$LAST_RC" -eq 137 ] && [ -z "$LAST_OUT" ]'
check "memory bomb: memory_peak_bytes $peak within 48-72 MiB" \
    between "$peak" $((48 << 20)) $((72 << 20))

run --timeout 2s --json -- cpuhog
wall=$(jnum wall_ns)
expect "CPU hog under --timeout 2s: timed out and killed (exit $LAST_RC)" \
    '[ "$(jnum timed_out)" = true ] && [ "$LAST_RC" -eq 137 ] && [ -z "$LAST_OUT" ]'
check "CPU hog: wall_ns $wall within 1.9-4 s" between "$wall" 1900000000 4000000000

run --timeout 1s --json -- ignore-term
wall=$(jnum wall_ns)
expect "SIGTERM ignored, --timeout 1s: killed anyway (exit $LAST_RC, signal $(jnum signal))" \
    '[ "$(jnum timed_out)" = true ] && [ "$(jnum signal)" = 9 ] && [ -z "$LAST_OUT" ]'
check "SIGTERM ignored: wall_ns $wall within 0.9-3 s" between "$wall" 900000000 3000000000

# A double fork: the grandchild leaves its parent and session and sleeps forever.
gc="^/usr/bin/escape sleep $RUN_ID-df-grandchild"
: >"$TMP/out"
timeout 60 "$APPLIANCE" run --seccomp default --stdout "$TMP/out" "$RFS/" -- \
    /usr/bin/escape doublefork "$RUN_ID-df" 1.5 2>"$TMP/err" &
apid=$!
seen=0
for _ in $(seq 30); do
    if pgrep -f "$gc" >/dev/null; then
        seen=1
        break
    fi
    sleep 0.1
done
wait "$apid"
rc=$?
check "control: the grandchild ran (seen by pgrep while the sandbox ran)" [ $seen -eq 1 ]
expect "double fork: the command exited 0 ($(cat "$TMP/out"))" \
    '[ "$rc" -eq 0 ] && grep -q "^STARTED" "$TMP/out"'
expect "double fork: no grandchild left after the run" '! pgrep -f "$gc" >/dev/null'

# ---- nothing of ours is left ----------------------------------------------------------------
left=$(cgroup_leftovers)
check "no appliance-* cgroup left${left:+: $left}" [ -z "$left" ]
expect "no mount of the scratch root left" '! grep -qF "$RFS" /proc/self/mountinfo'
expect "no process with the run's markers left" '! pgrep -f "$RUN_ID" >/dev/null'
expect "no process running from the scratch root left" '! pgrep -f "$RFS" >/dev/null'

finish
