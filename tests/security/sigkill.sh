#!/usr/bin/env bash
# Nothing outlives the appliance: SIGKILL (which it cannot catch) in the middle of `run`, of
# the http suite (servers in sandboxes of their own) and of a build stage leaves no process
# behind at once (each sandbox's init dies with the thread that started it); the next start
# removes the dead run's cgroups; no mount of the run is left. Needs root and the built images.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ROOT" || exit 1

ESCAPE=$ROOT/build/static/security/escape
require_root_and "$APPLIANCE" "$ESCAPE"

RUN_ID=apkill$$x$RANDOM
RFS=$TMP/root
scratch_root "$RFS"

APID=
cleanup() {
    [ -n "$APID" ] && kill -KILL "$APID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The cgroups named after appliance process $1.
groups_of() { find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name "appliance-$1-*" 2>/dev/null; }
# The processes in the cgroups of appliance $1 (v1: every controller's tasks; v2: cgroup.procs).
members_of() {
    local d
    for d in $(groups_of "$1"); do
        cat "$d/cgroup.procs" 2>/dev/null
    done | sort -u
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds; 1 when it never did.
wait_for() {
    local n=$(($1 * 10))
    shift
    for _ in $(seq "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
has_members() { [ -n "$(members_of "$1")" ]; }
no_members() { [ -z "$(members_of "$1")" ]; }

# killed DESCRIPTION APPLIANCE-PID MOUNT-MARKER: the appliance was just SIGKILLed; checks
# that its sandboxes' processes went with it, and that the next start removes its cgroups.
killed() {
    local desc=$1 pid=$2 marker=$3
    wait "$pid" 2>/dev/null
    APID=
    check "$desc: every sandbox process is gone within 3 s" wait_for 3 no_members "$pid"
    local left
    left=$(members_of "$pid" | tr '\n' ' ')
    [ -n "$left" ] && echo "# left: $left" && ps -o pid,ppid,args -p "${left// /,}" 2>/dev/null
    check "$desc: no mount of the run is left" sh -c "! grep -qF -- '$marker' /proc/self/mountinfo"
    "$APPLIANCE" run "$RFS/" -- /usr/bin/escape true >/dev/null 2>&1
    left=$(groups_of "$pid" | tr '\n' ' ')
    check "$desc: the next start removed the dead run's cgroups${left:+ (left: $left)}" [ -z "$left" ]
}

# ---- appliance run -------------------------------------------------------------------------
"$APPLIANCE" run "$RFS/" -- /usr/bin/escape sleep "$RUN_ID-run" 60 >/dev/null 2>&1 &
APID=$!
check "run: control: the command runs in the sandbox" wait_for 5 sh -c "pgrep -f '^/usr/bin/escape sleep $RUN_ID-run' >/dev/null"
check "run: control: its cgroup holds it" has_members "$APID"
kill -KILL "$APID"
killed "run" "$APID" "$RFS"
check "run: the command is gone" sh -c "! pgrep -f '^/usr/bin/escape sleep $RUN_ID-run' >/dev/null"

# ---- the http suite: ten servers, each in a sandbox of its own ------------------------------
if [ -d build/images/go-1.23-static ] && [ -d build/images/python-3.13-web ]; then
    "$APPLIANCE" bench --profile quick --suite http --images go-1.23-static,python-3.13-web \
        --allow-noisy --out "$TMP/http/results.json" >"$TMP/http.out" 2>"$TMP/http.err" &
    APID=$!
    check "http suite: control: a server runs in a sandbox" wait_for 60 has_members "$APID"
    # Well into the suite: a server answering load.
    sleep 5
    check "http suite: control: its sandbox still runs 5 s on" has_members "$APID"
    kill -KILL "$APID"
    killed "http suite" "$APID" "$ROOT/build"
else
    fail "http suite: the images go-1.23-static and python-3.13-web are not built (make images)"
fi

# ---- a build stage --------------------------------------------------------------------------
# A copy of the recipes with the hello source edited, so that the stage must run.
mkdir -p "$TMP/tree"
cp -r images "$TMP/tree/images"
sed -i "s/Hello, World!/Hello, $RUN_ID!/" "$TMP/tree/images/workloads/hello/main.go"
APPLIANCE_IMAGES="$TMP/tree/images" "$APPLIANCE" image build go-1.23-static --out "$TMP/out" \
    >"$TMP/stage.out" 2>"$TMP/stage.err" &
APID=$!
check "build stage: control: the hello stage runs in a sandbox" \
    wait_for 120 sh -c "grep -q 'stage hello of go-1.23-static: running' '$TMP/stage.err' && [ -n \"\$(find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name 'appliance-$APID-*' 2>/dev/null)\" ]"
check "build stage: control: its cgroup holds the compiler" has_members "$APID"
kill -KILL "$APID"
killed "build stage" "$APID" "$TMP/tree"
finish
