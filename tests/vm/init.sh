#!/bin/sh
# /init of the cgroup v2 test VM (built into its initramfs by tests/integration/70-cgroup-v2-vm.sh;
# runs under busybox sh as pid 1 of a kernel booted with cgroup_no_v1=all).
#
# Stage 1 copies the initramfs into a tmpfs and switch_roots into it: pivot_root (which the
# sandbox uses) refuses to work while the namespace's root is the initramfs itself.
# Stage 2 mounts proc, sys, devtmpfs and cgroup2 on /sys/fs/cgroup, runs each check through
# `appliance run` on the scratch root /sbx, prints "ok - ..." / "FAIL - ..." lines and "# ..."
# details on the serial console, and powers the machine off through the isa-debug-exit device:
# code 0x10 when every check passed, 0x11 when one failed (qemu exits with (code << 1) | 1).
# shellcheck disable=SC2016,SC2034 # expect() evals its single-quoted conditions, which use MiB
export PATH=/bin
export HOME=/root APPLIANCE_CACHE=/tmp/appliance-cache

poweroff_with() {
    /sbx/probe exit "$1"
    echo "# isa-debug-exit did not stop the machine"
    while :; do sleep 3600; done
}

if [ ! -e /.stage2 ]; then
    mount -t tmpfs -o mode=0755,size=400m root /newroot || poweroff_with 17
    for f in /*; do
        case $f in /newroot | /proc | /sys | /dev) ;; *) cp -a "$f" /newroot/ ;; esac
    done
    mkdir -p /newroot/proc /newroot/sys /newroot/dev
    : >/newroot/.stage2
    exec switch_root /newroot /init
fi

echo # the firmware's last line has no newline
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t cgroup2 none /sys/fs/cgroup
# Keep kernel messages (the OOM killer's report) off the console the results go to.
echo 1 >/proc/sys/kernel/printk

R=/sbx
CG=/sys/fs/cgroup
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# expect DESCRIPTION CONDITION...: ok when the shell condition holds.
expect() {
    d=$1
    shift
    if eval "$*"; then ok "$d"; else bad "$d [$*]"; fi
}
# jget KEY FILE: the value of "KEY" in the appliance's JSON record (one key per line).
jget() {
    sed -n 's/^[[:space:]]*"'"$1"'":[[:space:]]*"\{0,1\}\([^",]*\)"\{0,1\},\{0,1\}[[:space:]]*$/\1/p' "$2" |
        head -n 1
}
# num KEY NAME: a numeric field of run NAME's record, -1 when it is missing.
num() {
    v=$(jget "$1" "/tmp/$2.json")
    case $v in '' | *[!0-9]*) echo -1 ;; *) echo "$v" ;; esac
}
field() { jget "$1" "/tmp/$2.json"; }
out() { cat "/tmp/$1.out"; }
# fstype DIR: the type of the file system mounted on DIR.
fstype() { awk -v d="$1" '$2 == d { t = $3 } END { print t }' /proc/mounts; }
# sbx NAME [OPTION...] ROOT -- CMD...: runs CMD in the sandbox (the appliance is stopped after
# 30 s, so a hang fails one check instead of the whole VM) with the run record in
# /tmp/NAME.json, the command's stdout and stderr in /tmp/NAME.out and .err, the appliance's
# own messages in /tmp/NAME.log and its exit status in RC; prints a summary line.
sbx() {
    n=$1
    shift
    timeout 30 appliance run --json --stdout "/tmp/$n.out" --stderr "/tmp/$n.err" "$@" \
        >"/tmp/$n.json" 2>"/tmp/$n.log"
    RC=$?
    echo "# $n: rc $RC, out '$(head -c 120 "/tmp/$n.out" | tr '\n' ' ')'," \
        "wall $(($(num wall_ns "$n") / 1000000)) ms, cgroup $(field cgroup "$n")," \
        "memory_peak $(num memory_peak_bytes "$n"), oom $(field oom_killed "$n")," \
        "pids_peak $(num pids_peak "$n"), cpu $(($(num cpu_total_ns "$n") / 1000000)) ms," \
        "throttled $(num cpu_throttled_periods "$n")/$(num cpu_periods "$n")," \
        "timed_out $(field timed_out "$n")"
    if [ "$RC" -eq 125 ] || [ ! -s "/tmp/$n.json" ]; then
        sed 's/^/#   appliance: /' "/tmp/$n.log" | head -n 10
    fi
}
MiB=1048576

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
    "$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB, up $(cut -d' ' -f1 /proc/uptime) s"
echo "# cgroup.controllers: $(cat $CG/cgroup.controllers)"
echo "# transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
expect "/sys/fs/cgroup is a pure cgroup v2 mount" \
    '[ "$(fstype $CG)" = cgroup2 ] && ! grep -q " cgroup " /proc/mounts'

# The backend, and a plain command.
sbx hello $R -- /probe hello
expect "the appliance picks the v2 backend (run record's cgroup is v2)" '[ "$(field cgroup hello)" = v2 ]'
expect "a plain command prints hello and exits 0" '[ "$RC" -eq 0 ] && [ "$(out hello)" = hello ]'
expect "the appliance/ group delegates memory, cpu, cpuset and pids" \
    '(for c in memory cpu cpuset pids; do grep -qw $c $CG/appliance/cgroup.subtree_control || exit 1; done)'
echo "# $CG/appliance/cgroup.subtree_control: $(cat $CG/appliance/cgroup.subtree_control 2>&1)"

# memory.max and the OOM killer, read from memory.events.
sbx oom --memory 32M $R -- /probe alloc 128
expect "--memory 32M, allocating 128 MiB: oom_killed is true" '[ "$(field oom_killed oom)" = true ]'
expect "--memory 32M, allocating 128 MiB: the command is killed (exit 137)" '[ "$RC" -eq 137 ]'
expect "--memory 32M, allocating 128 MiB: memory_peak_bytes is near the limit (24-40 MiB)" \
    '[ $(num memory_peak_bytes oom) -ge $((24 * MiB)) ] && [ $(num memory_peak_bytes oom) -le $((40 * MiB)) ]'
sbx mem8 --memory 32M $R -- /probe alloc 8
expect "--memory 32M, allocating 8 MiB: exits 0, not oom_killed" \
    '[ "$RC" -eq 0 ] && [ "$(field oom_killed mem8)" = false ] && [ "$(out mem8)" = "allocated 8 MiB" ]'
expect "--memory 32M, allocating 8 MiB: memory_peak_bytes >= 8 MiB" \
    '[ $(num memory_peak_bytes mem8) -ge $((8 * MiB)) ]'

# pids.max and pids.peak.
sbx pids --pids 16 $R -- /probe fork 64 1
expect "--pids 16, forking 64: forks fail with EAGAIN" \
    'case "$(out pids)" in "forked "*" of 64 (EAGAIN)") true ;; *) false ;; esac'
expect "--pids 16, forking 64: pids_peak is between 10 and 16" \
    '[ $(num pids_peak pids) -ge 10 ] && [ $(num pids_peak pids) -le 16 ]'

# cpu.max: half a CPU for 1 s of CPU time takes about 2 s and throttles.
sbx cpu --cpus 0.5 $R -- /probe spin 1000
expect "--cpus 0.5, 1 s of CPU: exits 0 with cpu_total_ns >= 0.9 s" \
    '[ "$RC" -eq 0 ] && [ $(num cpu_total_ns cpu) -ge 900000000 ]'
expect "--cpus 0.5, 1 s of CPU: cpu_throttled_periods > 0" '[ $(num cpu_throttled_periods cpu) -gt 0 ]'
expect "--cpus 0.5, 1 s of CPU: wall >= 1.6 s" '[ $(num wall_ns cpu) -ge 1600000000 ]'

# cpuset.cpus.
sbx cpus $R -- /probe cpus
expect "without --cpuset the command may run on CPUs 0 and 1" '[ "$(out cpus)" = "cpus 0,1" ]'
sbx cpuset0 --cpuset 0 $R -- /probe cpus
expect "--cpuset 0: the command's affinity is {0}" '[ "$RC" -eq 0 ] && [ "$(out cpuset0)" = "cpus 0" ]'
sbx cpuset1 --cpuset 1 $R -- /probe cpus
expect "--cpuset 1: the command's affinity is {1}" '[ "$RC" -eq 0 ] && [ "$(out cpuset1)" = "cpus 1" ]'

# --timeout and cgroup.kill: children that ignore SIGTERM and leave their parent.
sbx hang --timeout 1s --pids 64 $R -- /probe hang 4
expect "--timeout 1s on a tree ignoring SIGTERM: timed_out is true, killed (exit 137)" \
    '[ "$(field timed_out hang)" = true ] && [ "$RC" -eq 137 ]'
expect "--timeout 1s: the run ends within 5 s" '[ $(num wall_ns hang) -lt 5000000000 ]'
expect "--timeout 1s: the tree had started (pids_peak >= 9)" '[ $(num pids_peak hang) -ge 9 ]'
expect "--timeout 1s: no process of the sandbox is left" '[ "$(/sbx/probe count probe)" = 0 ]'

# The default seccomp profile.
sbx denied $R -- /probe denied
expect "default seccomp profile: unshare(CLONE_NEWUSER) fails with EPERM" \
    'case "$(out denied)" in "unshare=EPERM "*) true ;; *) false ;; esac'
sbx allowed --seccomp unconfined $R -- /probe denied
expect "--seccomp unconfined: the same unshare succeeds (the filter is what refused it)" \
    'case "$(out allowed)" in "unshare=ok "*) true ;; *) false ;; esac'

# Without CLONE_INTO_CGROUP: in a user namespace the child joins through cgroup.procs.
sbx userns --userns --memory 32M $R -- /probe alloc 128
expect "--userns --memory 32M, allocating 128 MiB: oom_killed is true (joined through cgroup.procs)" \
    '[ "$(field oom_killed userns)" = true ] && [ "$RC" -eq 137 ]'

# Set-up failures leave nothing behind and say why.
sbx badcpuset --cpuset 7 $R -- /probe cpus
expect "--cpuset 7 on a 2-CPU machine: refused before any cgroup is made (exit 2, not online)" \
    '[ "$RC" -eq 2 ] && grep -q "CPU 7 is not online" /tmp/badcpuset.log'
expect "--cpuset 7: its group is removed" '[ -z "$(ls -d $CG/appliance/appliance-* 2>/dev/null)" ]'
APPLIANCE_CGROUP=v1 sbx forcev1 $R -- /probe hello
expect "APPLIANCE_CGROUP=v1 on a pure v2 machine: exit 125 naming the missing v1 controller" \
    '[ "$RC" -eq 125 ] && grep -q "controller memory" /tmp/forcev1.log'

# A group of a dead appliance, still holding a process, is killed and removed by the next run.
stale=$CG/appliance/appliance-4000000-1
mkdir "$stale"
sleep 1000 &
sleeper=$!
echo "$sleeper" >"$stale/cgroup.procs"
sbx stale $R -- /probe hello
expect "a dead appliance's group is removed by the next run" '[ "$RC" -eq 0 ] && [ ! -d "$stale" ]'
expect "the process left in it is killed" \
    '[ ! -d /proc/$sleeper ] || [ "$(cut -d" " -f3 /proc/$sleeper/stat)" = Z ]'
kill -9 "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null

# The figures the bench reads, through its own calls (tests/vm/figures.c), for workloads of
# known size; printed as "# figure ..." lines, which the host compares with its own.
timeout 240 figures --scratch $R --go /go --python /py --scripts /scripts >/tmp/figures.txt 2>/tmp/figures.err
FIG_RC=$?
sed 's/^/# /' /tmp/figures.txt
sed 's/^/#   figures: /' /tmp/figures.err | head -n 20
# fig CASE KEY: figure KEY of case CASE, -1 when it is missing.
fig() {
    v=$(awk -v c="$1" -v k="$2=" '$1 == "figure" && $2 == c {
        for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' /tmp/figures.txt)
    case $v in '' | *[!0-9]*) echo -1 ;; *) echo "$v" ;; esac
}
# within V LO HI: LO <= V <= HI, for a figure that was read (not -1).
within() { [ "$1" -ge 0 ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
ms=1000000
expect "figures: each of the 11 cases ran and read the v2 backend (exit 0)" \
    '[ "$FIG_RC" -eq 0 ] && [ "$(grep -c "^figure .* cgroup=v2 " /tmp/figures.txt)" -eq 11 ]'
# A task's record: memory.peak and the command's maxrss against known allocations.
expect "figures: alloc 64 MiB: memory.peak and maxrss are 64-66 MiB" \
    'within $(fig alloc64 peak) $((64 * MiB)) $((66 * MiB)) && within $(fig alloc64 maxrss) $((64 * MiB)) $((66 * MiB))'
expect "figures: alloc 16 MiB then 64 MiB: memory.peak and maxrss grow by 48 MiB (+-1 MiB)" \
    'within $(($(fig alloc64 peak) - $(fig alloc16 peak))) $((47 * MiB)) $((49 * MiB)) &&
     within $(($(fig alloc64 maxrss) - $(fig alloc16 maxrss))) $((47 * MiB)) $((49 * MiB))'
# CPU time from cpu.stat: the spin is user time, the sandbox's own set-up system time.
expect "figures: spin 300 ms: the cgroup's user CPU time is 250-360 ms (spin 0: under 30 ms)" \
    'within $(fig spin300 cpu_user_ns) $((250 * ms)) $((360 * ms)) && within $(fig spin0 cpu_user_ns) 0 $((30 * ms))'
expect "figures: spin 300 ms: cgroup CPU >= the command's own (rusage, >= 300 ms), at most 400 ms more" \
    '[ $(fig spin300 ru_cpu_ns) -ge $((300 * ms)) ] &&
     within $(fig spin300 cpu_ns) $(fig spin300 ru_cpu_ns) $(($(fig spin300 ru_cpu_ns) + 400 * ms))'
expect "figures: spin 300 ms: exec to exit (run_ns) is >= 300 ms and within clone to reap" \
    'within $(fig spin300 run_ns) $((300 * ms)) $(fig spin300 wall_ns)'
# The noise guard over the spin on every CPU: cgroup v2 has no per-CPU figure, so the tasks'
# time comes from /proc/schedstat (Debian's kernel has CONFIG_SCHEDSTATS), and it saw the spin.
noise() {
    v=$(awk -v k="$1=" '$1 == "noise" && $2 == "spin300" {
        for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' /tmp/figures.txt)
    case $v in '' | *[!0-9a-z]*) echo -1 ;; *) echo "$v" ;; esac
}
expect "figures: the noise guard counts tasks by /proc/schedstat under cgroup v2" \
    '[ -r /proc/schedstat ] && [ "$(noise source)" = schedstat ]'
expect "figures: the noise guard saw the 300 ms spin among the tasks' time (>= its cgroup CPU - 10 ms)" \
    '[ $(noise own_ns) -ge $((300 * ms)) ] && [ $(noise tasks_ns) -ge $(($(noise own_ns) - 10 * ms)) ]'
expect "figures: /proc/schedstat's own count saw the spin too (>= its cgroup CPU - 10 ms), not only the ticks" \
    '[ $(noise schedstat_ns) -ge $(($(noise own_ns) - 10 * ms)) ]'
# While a process holds memory: memory.current, memory.stat's inactive_file, the live peak,
# and PSS/USS/RSS from smaps_rollup, summed over the sandbox's processes but its init.
expect "figures: hold 64 MiB: memory.current is 64-66 MiB, the working set the same (no file cache on tmpfs)" \
    'within $(fig hold64 live_current) $((64 * MiB)) $((66 * MiB)) && within $(fig hold64 live_inactive_file) 0 $MiB &&
     [ $(fig hold64 live_working_set) -eq $(($(fig hold64 live_current) - $(fig hold64 live_inactive_file))) ]'
expect "figures: hold 64 MiB: the live memory.peak is >= memory.current" \
    '[ $(fig hold64 live_peak) -ge $(fig hold64 live_current) ] && [ $(fig hold64 live_current) -gt 0 ]'
expect "figures: hold 64 MiB: PSS, USS and RSS are 64-66 MiB each, of 1 process" \
    '(for k in pss uss rss; do within $(fig hold64 $k) $((64 * MiB)) $((66 * MiB)) || exit 1; done) &&
     [ $(fig hold64 processes) -eq 1 ]'
expect "figures: 32 MiB shared by 2 processes: RSS counts it twice (64-67 MiB), PSS once (32-34), USS not (< 2)" \
    'within $(fig share32 rss) $((64 * MiB)) $((67 * MiB)) && within $(fig share32 pss) $((32 * MiB)) $((34 * MiB)) &&
     within $(fig share32 uss) 0 $((2 * MiB)) && [ $(fig share32 processes) -eq 2 ]'
expect "figures: 32 MiB shared by 2 processes: memory.current charges it once (32-34 MiB)" \
    'within $(fig share32 live_current) $((32 * MiB)) $((34 * MiB))'
# Real programs: go-1.23-static's hello and net/http server, python-3.13.
expect "figures: go hello prints Hello, World!, maxrss and memory.peak 0.5-16 MiB, CPU time > 0" \
    'grep -q "^figure go-hello .* exit=0 .*out=Hello,_World!" /tmp/figures.txt &&
     within $(fig go-hello maxrss) $((MiB / 2)) $((16 * MiB)) && within $(fig go-hello peak) $((MiB / 2)) $((16 * MiB)) &&
     [ $(fig go-hello cpu_ns) -gt 0 ]'
expect "figures: go nethttp idle: RSS >= PSS >= USS >= 1 MiB, RSS < 32 MiB, 1 process" \
    '[ $(fig go-nethttp rss) -ge $(fig go-nethttp pss) ] && [ $(fig go-nethttp pss) -ge $(fig go-nethttp uss) ] &&
     within $(fig go-nethttp uss) $MiB $((32 * MiB)) && [ $(fig go-nethttp rss) -lt $((32 * MiB)) ] && [ $(fig go-nethttp processes) -eq 1 ]'
expect "figures: go nethttp idle: memory.current 0.5-32 MiB, live CPU > 0 and <= the CPU at its end" \
    'within $(fig go-nethttp live_current) $((MiB / 2)) $((32 * MiB)) &&
     within $(fig go-nethttp live_cpu_ns) 1 $(fig go-nethttp cpu_ns)'
expect "figures: python alloc 64 MiB: memory.peak and maxrss are 64-80 MiB" \
    'within $(fig py-alloc64 peak) $((64 * MiB)) $((80 * MiB)) && within $(fig py-alloc64 maxrss) $((64 * MiB)) $((80 * MiB))'
expect "figures: python alloc 16 MiB then 64 MiB: memory.peak and maxrss grow by 48 MiB (+-2 MiB)" \
    'within $(($(fig py-alloc64 peak) - $(fig py-alloc16 peak))) $((46 * MiB)) $((50 * MiB)) &&
     within $(($(fig py-alloc64 maxrss) - $(fig py-alloc16 maxrss))) $((46 * MiB)) $((50 * MiB))'
expect "figures: python server idle: RSS >= PSS >= USS, PSS 4-64 MiB, 1 process, memory.current 1-64 MiB" \
    '[ $(fig py-server rss) -ge $(fig py-server pss) ] && [ $(fig py-server pss) -ge $(fig py-server uss) ] &&
     within $(fig py-server pss) $((4 * MiB)) $((64 * MiB)) && [ $(fig py-server processes) -eq 1 ] &&
     within $(fig py-server live_current) $MiB $((64 * MiB))'

# Nothing left behind.
left=$(ls -d $CG/appliance/appliance-* 2>/dev/null)
expect "no appliance-* group is left under $CG/appliance" '[ -z "$left" ]'
[ -z "$left" ] || echo "# left: $left"

echo "# vm-summary: $PASSED ok, $FAILED FAIL, up $(cut -d' ' -f1 /proc/uptime) s"
if [ "$FAILED" -eq 0 ]; then poweroff_with 16; else poweroff_with 17; fi
