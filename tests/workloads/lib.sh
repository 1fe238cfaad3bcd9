# Helpers for running the workloads under images/workloads (sourced by
# tests/integration/60-workloads.sh and tests/workloads/check-published; ROOT and APPLIANCE
# must be set). Go programs are built inside the go-1.23 image and run as static binaries from
# a bare root; Python programs run in the python-3.13 image with the workloads bound read-only
# at /workloads. Every run has the default seccomp profile and the limits the caller passes.

WORKLOADS=$ROOT/images/workloads
# shellcheck disable=SC2034  # used by the scripts that source this file
WL_TASKS=(nbody binarytrees mandelbrot regexredux fannkuchredux spectralnorm pidigits revcomp knucleotide fasta)

# wl_dir TASK: the task's folder.
wl_dir() {
    if [ "$1" = hello ]; then echo "$WORKLOADS/hello"; else echo "$WORKLOADS/bg/$1"; fi
}
# wl_manifest TASK: the task's workload.json.
wl_manifest() { echo "$(wl_dir "$1")/workload.json"; }
# wl_get TASK JQ-FILTER: one value from the task's manifest (raw).
wl_get() { jq -r "$2" "$(wl_manifest "$1")"; }

# wl_build OUT RECORD: builds every Go workload with one `go build` in the go-1.23 image (no
# network, sources read-only) into the folder OUT, which is made writable for the sandbox's uid.
# The run record goes to RECORD and go's messages to RECORD.err.
wl_build() {
    mkdir -p "$1" && chmod 0777 "$1" || return 1
    "$APPLIANCE" run --json --memory 2G --tmp-size 2G --timeout 900 --seccomp default \
        --bind "$WORKLOADS:/src" --bind "$1:/out:rw" --workdir /src go-1.23 -- \
        go build -trimpath -ldflags=-buildid= -o /out/ ./bg/... ./hello >"$2" 2>"$2.err"
}

# wl_scratch_root BINARIES ROOTDIR: a bare root filesystem (proc, dev, tmp, sys) with the
# binaries from the folder BINARIES in bin/. WL_ROOT names it for wl_run.
wl_scratch_root() {
    mkdir -p "$2"/proc "$2"/dev "$2"/tmp "$2"/sys "$2"/bin && cp "$1"/* "$2/bin/" && WL_ROOT=$2
}

# wl_run TASK LANG N STDIN OUT RECORD [RUN-OPTION...]: runs the task's LANG (go|python)
# command with N in place of the word N, its standard input from the file STDIN (none when
# empty) and its standard output into OUT. The run record goes to RECORD, the command's
# standard error and the appliance's messages to RECORD.err. Returns the appliance's status.
wl_run() {
    local task=$1 lang=$2 n=$3 stdin=$4 out=$5 rec=$6 image
    shift 6
    local -a cmd opts=("$@")
    mapfile -t cmd < <(jq -r --arg l "$lang" --arg n "$n" \
        '.languages[$l].command[] | if . == "N" then $n else . end' "$(wl_manifest "$task")")
    [ "${#cmd[@]}" -gt 0 ] || return 1
    [ -n "$stdin" ] && opts+=(--stdin "$stdin")
    if [ "$lang" = go ]; then
        image=$WL_ROOT
    else
        image=python-3.13
        opts+=(--bind "$WORKLOADS:/workloads:ro")
    fi
    "$APPLIANCE" run --json --seccomp default "${opts[@]}" --stdout "$out" "$image" -- "${cmd[@]}" \
        >"$rec" 2>"$rec.err"
}

# wl_rec_ok RECORD: the run exited 0 and was neither killed by the OOM killer nor timed out.
wl_rec_ok() {
    jq -e '.exit_code == 0 and (.oom_killed | not) and (.timed_out | not)' "$1" >/dev/null 2>&1
}

# wl_float_same WANT GOT TOLERANCE: same lines and words; numbers may differ by TOLERANCE.
wl_float_same() {
    awk -v tol="$3" '
        function isnum(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
        NR == FNR { want[FNR] = $0; nwant = FNR; next }
        {
            ngot = FNR
            if (FNR > nwant) { bad = 1; exit }
            nw = split(want[FNR], w)
            if (NF != nw) bad = 1
            for (i = 1; i <= NF && i <= nw; i++) {
                if ($i == w[i]) continue
                d = $i - w[i]
                if (d < 0) d = -d
                if (!isnum($i) || !isnum(w[i]) || d > tol) bad = 1
            }
        }
        END { exit (bad || ngot != nwant) }' "$1" "$2"
}

# wl_compare TASK WHICH OUT: succeeds when OUT is the output the manifest expects for WHICH
# (check or published): exact bytes of the stored file, numbers within a tolerance, or an md5
# and a length. Otherwise prints why.
wl_compare() {
    local task=$1 which=$2 out=$3 file tol md5 len got_md5 got_len
    file=$(wl_get "$task" ".$which.expected.file // empty")
    tol=$(wl_get "$task" ".$which.expected.float_tolerance // empty")
    md5=$(wl_get "$task" ".$which.expected.md5 // empty")
    len=$(wl_get "$task" ".$which.expected.length // empty")
    if [ -n "$file" ] && [ -n "$tol" ]; then
        wl_float_same "$(wl_dir "$task")/$file" "$out" "$tol" && return 0
        echo "output differs from $file by more than $tol: $(head -c 200 "$out" | tr '\n' ' ')"
        return 1
    elif [ -n "$file" ]; then
        cmp -s "$(wl_dir "$task")/$file" "$out" && return 0
        echo "output differs from $file: $(cmp "$(wl_dir "$task")/$file" "$out" 2>&1 | head -n 1)"
        return 1
    elif [ -n "$md5" ]; then
        got_md5=$(md5sum <"$out" | cut -d' ' -f1)
        got_len=$(stat -c %s "$out")
        [ "$got_md5" = "$md5" ] && { [ -z "$len" ] || [ "$got_len" = "$len" ]; } && return 0
        echo "output md5 $got_md5 length $got_len, expected md5 $md5 length ${len:-any}"
        return 1
    fi
    echo "the manifest gives no expected output for $which"
    return 1
}

# wl_input TASK WHICH DIR [RUN-OPTION...]: for a task that reads stdin, generates its input in
# DIR with our own Go fasta at the manifest's size (once per size), checks its md5 and length
# against the manifest and prints its path; prints nothing for a task without stdin. Fails,
# saying why on stderr, when the input cannot be made or does not match.
wl_input() {
    local task=$1 which=$2 dir=$3 gen n md5 len f
    shift 3
    gen=$(wl_get "$task" ".$which.stdin.generator // empty")
    [ -z "$gen" ] && return 0
    n=$(wl_get "$task" ".$which.stdin.n")
    md5=$(wl_get "$task" ".$which.stdin.md5 // empty")
    len=$(wl_get "$task" ".$which.stdin.length // empty")
    f=$dir/$gen-$n.in
    if [ ! -s "$f" ]; then
        if ! wl_run "$gen" go "$n" "" "$f.tmp" "$f.json" "$@" || ! wl_rec_ok "$f.json"; then
            echo "generating $gen $n failed: $(tail -n 3 "$f.json.err" | tr '\n' ' ')" >&2
            return 1
        fi
        mv "$f.tmp" "$f"
    fi
    if [ -n "$md5" ] && [ "$(md5sum <"$f" | cut -d' ' -f1)" != "$md5" ]; then
        echo "$gen $n output has the wrong md5 (expected $md5)" >&2
        return 1
    fi
    if [ -n "$len" ] && [ "$(stat -c %s "$f")" != "$len" ]; then
        echo "$gen $n output has the wrong length (expected $len)" >&2
        return 1
    fi
    echo "$f"
}
