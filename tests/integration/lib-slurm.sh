# A loopback Slurm cluster for the integration tests (sourced, after lib.sh): munged,
# slurmctld and two slurmd (fake nodes n1 and n2 on the loopback, each on a port of its own),
# with a generated slurm.conf and munge key in a temporary directory; nothing under /etc is
# read or written. Debian's slurm-wlm and munge (make deps) provide the daemons.
#
#   slurm_start [EXTRA_CONF_LINE...]  starts the cluster, waits until sinfo shows n1 and n2
#                                     idle and exports SLURM_CONF; returns 1 (with the reason in
#                                     SLURM_WHY and the daemons' logs shown) when it cannot.
#   slurm_stop                        stops every daemon by its pid file and waits for it to end;
#                                     slurm_start arranges for it to run at exit, even on failure.
#   slurm_wait_gone JOBID SECONDS     waits until squeue lists no pending or running job of JOBID.
#   slurm_missing                     the missing programs among those the cluster needs.
#
# SLURM_DIR is the cluster's directory (logs: slurmctld.log, slurmd-n1.log, munged.log).
# The nodes have Feature=a (n1) and Feature=b (n2), so that a test can ask for a machine type.

SLURM_PROGRAMS=(munged slurmctld slurmd sbatch squeue sinfo scancel)

slurm_missing() {
    local p out=()
    for p in "${SLURM_PROGRAMS[@]}"; do
        command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || out+=("$p")
    done
    echo "${out[*]}"
}

# _slurm_bin NAME: the program's path (the daemons live in /usr/sbin, often not on PATH).
_slurm_bin() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }

# _slurm_free_ports N: N free TCP ports of the loopback, one a line (bound, then released).
_slurm_free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

_slurm_show_logs() {
    local f
    for f in "$SLURM_DIR"/*.log; do
        [ -f "$f" ] || continue
        echo "# --- $(basename "$f") (last lines)"
        tail -n 15 "$f" | sed 's/^/#   /'
    done
}

slurm_stop() {
    [ -n "${SLURM_DIR:-}" ] && [ -d "$SLURM_DIR" ] || return 0
    local f pid i jobs
    # Jobs first (their steps are slurmstepd processes of the nodes), while the daemons still
    # run to end them.
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ] && [ -f "$SLURM_DIR/slurmctld.pid" ]; then
        jobs=$(squeue --noheader --format=%A 2>/dev/null | sort -u | tr '\n' ' ')
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null
            for i in $(seq 1 40); do
                [ -z "$(squeue --noheader --format=%A 2>/dev/null)" ] && break
                sleep 0.25
            done
        fi
    fi
    # The nodes first, then the controller, then munge (the others authenticate through it).
    for f in "$SLURM_DIR"/slurmd-n1.pid "$SLURM_DIR"/slurmd-n2.pid "$SLURM_DIR"/slurmctld.pid \
        "$SLURM_DIR"/munged.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        [[ $pid =~ ^[0-9]+$ ]] || continue
        kill -TERM "$pid" 2>/dev/null || continue
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$SLURM_DIR"
    SLURM_DIR=
}

# slurm_wait_gone JOBID SECONDS: 0 when no task of JOBID is pending or running any more.
slurm_wait_gone() {
    local i
    for i in $(seq 1 "$(($2 * 2))"); do
        [ -z "$(squeue --noheader --jobs="$1" --states=PENDING,RUNNING,CONFIGURING,COMPLETING \
            --format=%i 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    return 1
}

slurm_start() {
    SLURM_WHY=
    local missing
    missing=$(slurm_missing)
    if [ -n "$missing" ]; then
        SLURM_WHY="missing programs: $missing (make deps installs slurm-wlm and munge)"
        return 1
    fi
    SLURM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/appliance-slurm.XXXXXX")
    # munged wants its socket's folders searchable by all, its key's folder private.
    chmod 0711 "$SLURM_DIR"
    # A TERM or an INT ends the script through its EXIT trap, and the trap, once begun, is
    # not cut short by another one: no daemon outlives the test.
    trap 'trap "" INT TERM; slurm_stop; rm -rf "$TMP"' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    local d=$SLURM_DIR host ports
    host=$(hostname)
    mkdir -p "$d/munge" "$d/key" "$d/state" "$d/spooln1" "$d/spooln2"
    chmod 0755 "$d/munge"
    chmod 0700 "$d/key"
    head -c 1024 /dev/urandom >"$d/key/munge.key"
    chmod 0400 "$d/key/munge.key"
    mapfile -t ports < <(_slurm_free_ports 3)
    if [ "${#ports[@]}" -ne 3 ]; then
        SLURM_WHY="found no free ports on the loopback"
        return 1
    fi
    cat >"$d/slurm.conf" <<EOF
ClusterName=appliance-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd-%n.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
InactiveLimit=0
KillWait=5
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=${ports[1]} CPUs=1 Feature=a State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=${ports[2]} CPUs=1 Feature=b State=UNKNOWN
PartitionName=test Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
    local line
    for line in "$@"; do
        echo "$line" >>"$d/slurm.conf"
    done
    export SLURM_CONF=$d/slurm.conf
    if ! "$(_slurm_bin munged)" --key-file="$d/key/munge.key" --socket="$d/munge/munge.socket" \
        --pid-file="$d/munged.pid" --log-file="$d/munged.log" --seed-file="$d/key/munge.seed" \
        >"$d/munged.out" 2>&1; then
        SLURM_WHY="munged did not start: $(tr '\n' ' ' <"$d/munged.out")"
        return 1
    fi
    if ! "$(_slurm_bin slurmctld)" -i >"$d/slurmctld.out" 2>&1; then
        SLURM_WHY="slurmctld did not start: $(tr '\n' ' ' <"$d/slurmctld.out")"
        _slurm_show_logs
        return 1
    fi
    local n
    for n in n1 n2; do
        if ! "$(_slurm_bin slurmd)" -N "$n" >"$d/slurmd-$n.out" 2>&1; then
            SLURM_WHY="slurmd -N $n did not start: $(tr '\n' ' ' <"$d/slurmd-$n.out")"
            _slurm_show_logs
            return 1
        fi
    done
    local i idle
    for i in $(seq 1 60); do
        idle=$(sinfo --noheader --nodes=n1,n2 --states=idle --format=%N --Node 2>/dev/null | sort -u |
            tr '\n' ' ')
        [ "$idle" = "n1 n2 " ] && return 0
        sleep 0.5
    done
    SLURM_WHY="n1 and n2 are not idle after 30 s (sinfo: $(sinfo --Node --noheader 2>&1 | tr '\n' ' '))"
    _slurm_show_logs
    return 1
}
