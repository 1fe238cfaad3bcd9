#!/usr/bin/env bash
# The Benchmarks Game workloads (images/workloads/bg) and the hello workload give the expected
# output in both languages at the check sizes of their manifests. The Go programs are built
# with one `go build` inside the go-1.23 image (no network) and run as static binaries from a
# bare root; the Python programs run in python-3.13 with the workloads bound read-only. Every
# run has a memory limit, a timeout and the default seccomp profile; the tasks that read stdin
# get the output of our own fasta. Ends with the wall times of every run, Go beside Python.
source "$(dirname "$0")/lib.sh"
source "$ROOT/tests/workloads/lib.sh"
cd "$ROOT" || exit 1
require_root_and "$APPLIANCE"

"$APPLIANCE" -q image build python-3.13 go-1.23 >/dev/null || { fail "building the images"; finish; exit 1; }

# manifest_ok TASK: the manifest holds what the runs below rely on.
manifest_ok() {
    jq -e --arg t "$1" '
        .name == $t and .suite == "cpu" and .threads == 1
        and .languages.go.command[0] == "/bin/" + $t
        and (.languages.go.build | test("-o /out/" + $t + " ./bg/" + $t + "$"))
        and .languages.python.command[0:2] == ["python3.13", "/workloads/bg/" + $t + "/" + $t + ".py"]
        and (.check.n | type == "number") and (.published.n | type == "number")
        and (.check.expected | has("file") or has("md5"))
        and (.published.expected | has("file") or has("md5"))
        and (.notes | startswith("single-threaded in both languages"))' "$(wl_manifest "$1")" >/dev/null
}
# hashes_ok TASK: every profile is named and has a standard entry; every input and every output
# given by md5 also has its sha256 and length; the standard output is given by md5, sha256 and
# length, and its stdin (if any) is fasta's output at the standard size.
hashes_ok() {
    jq -e '
        def md5: type == "string" and test("^[0-9a-f]{32}$");
        def sha: type == "string" and test("^[0-9a-f]{64}$");
        def hashed: (.md5 | md5) and (.sha256 | sha) and (.length | type == "number" and . > 0);
        .profiles == {"quick": "check", "standard": "standard", "published": "published"}
        and (.standard.n | type == "number" and . > 0)
        and (.standard.expected | hashed)
        and (.standard_note | type == "string" and length > 0)
        and ([.check, .standard, .published]
             | all((.stdin == null or (.stdin.generator == "fasta" and (.stdin.n | type == "number") and (.stdin | hashed)))
                   and ((.expected | has("md5") | not) or (.expected | hashed))))
        and ((.check.stdin == null) == (.standard.stdin == null))
        and (.standard.stdin == null or .standard.stdin.n == .standard.n)' "$(wl_manifest "$1")" >/dev/null
}
# file_hashes_ok TASK WHICH: the stored expected file of WHICH has the md5, sha256 and length
# the manifest gives beside it.
file_hashes_ok() {
    local f md5 sha len
    f=$(wl_dir "$1")/$(wl_get "$1" ".$2.expected.file")
    md5=$(wl_get "$1" ".$2.expected.md5 // empty")
    sha=$(wl_get "$1" ".$2.expected.sha256 // empty")
    len=$(wl_get "$1" ".$2.expected.length // empty")
    { [ -z "$md5" ] || [ "$(md5sum <"$f" | cut -d' ' -f1)" = "$md5" ]; } &&
        { [ -z "$sha" ] || [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ]; } &&
        { [ -z "$len" ] || [ "$(stat -c %s "$f")" = "$len" ]; }
}
for task in "${WL_TASKS[@]}"; do
    check "$task: workload.json is valid JSON with the fields every workload has" manifest_ok "$task"
    check "$task: workload.json names its profiles, has a standard entry and gives sha256 beside every md5" hashes_ok "$task"
    for which in check standard published; do
        f=$(wl_get "$task" ".$which.expected.file // empty")
        [ -n "$f" ] && check "$task: the $which output $f is stored beside the manifest" test -s "$(wl_dir "$task")/$f"
        [ -n "$f" ] && [ -n "$(wl_get "$task" ".$which.expected.sha256 // empty")" ] &&
            check "$task: the $which output $f has the hashes and length of the manifest" file_hashes_ok "$task" "$which"
    done
    check "$task: main.go and $task.py exist" test -s "$(wl_dir "$task")/main.go" -a -s "$(wl_dir "$task")/$task.py"
done

# quiet COMMAND...: runs it with its output dropped; fails COMMAND...: the same, succeeding
# when the command fails.
quiet() { "$@" >/dev/null 2>&1; }
fails() { ! "$@" >/dev/null 2>&1; }

# The comparisons themselves: numbers within the tolerance pass, beyond it or reworded fail.
printf -- '-0.169075164\n-0.169087605\n' >"$TMP/want.txt"
printf -- '-0.169075164\n-0.169087614\n' >"$TMP/near.txt"
printf -- '-0.169075164\n-0.169087625\n' >"$TMP/far.txt"
printf -- '-0.169075164\n' >"$TMP/short.txt"
printf -- '-0.169075164\nx0.169087605\n' >"$TMP/word.txt"
check "a number 9e-9 away passes a 1e-8 tolerance" wl_float_same "$TMP/want.txt" "$TMP/near.txt" 1e-8
check "a number 2e-8 away fails a 1e-8 tolerance" fails wl_float_same "$TMP/want.txt" "$TMP/far.txt" 1e-8
check "a missing line fails the tolerance comparison" fails wl_float_same "$TMP/want.txt" "$TMP/short.txt" 1e-8
check "a word in place of a number fails the tolerance comparison" fails wl_float_same "$TMP/want.txt" "$TMP/word.txt" 1e-8
printf 'Hello, World!\n' >"$TMP/hello.txt"
check "the md5 and length comparison accepts the right output" quiet wl_compare hello check "$TMP/hello.txt"
same "hello: the manifest's sha256 is that of the expected output" \
    "$(wl_get hello .check.expected.sha256)" "$(sha256sum <"$TMP/hello.txt" | cut -d' ' -f1)"
printf 'Hello, World\n' >"$TMP/hello.txt"
check "the md5 and length comparison refuses another output" fails wl_compare hello check "$TMP/hello.txt"

# The thread-scaling manifest: the profiles it names exist and give n and the exact output.
threads_manifest_ok() {
    jq -e '
        (.profiles | type == "object") and (.workers | type == "array" and length > 0)
        and ([.profiles[]] | all(. as $k | ["check", "standard"] | index($k)))
        and ([.check, .standard] | all((.n | type == "number" and . > 0) and (.expected.text | type == "string" and endswith("\n"))))
        and (.standard_note | type == "string" and length > 0)' "$WORKLOADS/threads/workload.json" >/dev/null
}
check "threads: workload.json names its profiles and gives n and the expected text for check and standard" threads_manifest_ok

# One go build for every Go workload.
wl_build "$TMP/bin" "$TMP/build.json"
check "go build of every workload runs in go-1.23 (exit $(jq -r .exit_code "$TMP/build.json" 2>/dev/null); $(tail -n 3 "$TMP/build.json.err" | tr '\n' ' '))" \
    wl_rec_ok "$TMP/build.json"
for task in "${WL_TASKS[@]}" hello; do
    check "go build made a static binary for $task" \
        sh -c "file -b '$TMP/bin/$task' | grep -q 'ELF.*statically linked'"
done
wl_scratch_root "$TMP/bin" "$TMP/root" || { fail "making the bare root"; finish; exit 1; }

declare -A WALL CPU
# run_one TASK LANG: one run at the check size, checked against the expected output.
run_one() {
    local task=$1 lang=$2 n input out rec why
    n=$(wl_get "$task" '.check.n // empty')
    out=$TMP/$task.$lang.out rec=$TMP/$task.$lang.json
    if ! input=$(wl_input "$task" check "$TMP" --memory 256M --timeout 120 2>"$TMP/input.err"); then
        fail "$task ($lang): the fasta input: $(cat "$TMP/input.err")"
        return
    fi
    wl_run "$task" "$lang" "$n" "$input" "$out" "$rec" --memory 256M --timeout 120
    if ! wl_rec_ok "$rec"; then
        fail "$task ($lang) at n=${n:-none} exits 0 within 256M and 120 s ($(jq -c '{exit_code, signal, oom_killed, timed_out}' "$rec" 2>/dev/null); $(tail -n 3 "$rec.err" | tr '\n' ' '))"
        return
    fi
    WALL[$task.$lang]=$(jq -r .wall_ns "$rec")
    CPU[$task.$lang]=$(jq -r .cpu_total_ns "$rec")
    if why=$(wl_compare "$task" check "$out"); then
        pass "$task ($lang) at n=${n:-none}${input:+ (stdin: our fasta $(wl_get "$task" .check.stdin.n))} gives the expected output"
    else
        fail "$task ($lang) at n=${n:-none}: $why"
    fi
}

for task in "${WL_TASKS[@]}" hello; do
    for lang in go python; do run_one "$task" "$lang"; done
done

# Our fasta is the generator of the stdin inputs: both languages wrote the same bytes.
check "fasta's Go and Python outputs are byte-identical" cmp -s "$TMP/fasta.go.out" "$TMP/fasta.python.out"

echo "# time at the check size, Go vs Python 3.13 (wall: clone to reap; cpu: the cgroup's):"
printf '# %-14s %11s %11s %7s %11s %11s\n' task go_wall python_wall ratio go_cpu python_cpu
for task in "${WL_TASKS[@]}" hello; do
    if [ -z "${WALL[$task.go]:-}" ] || [ -z "${WALL[$task.python]:-}" ]; then continue; fi
    awk -v t="$task" -v g="${WALL[$task.go]}" -v p="${WALL[$task.python]}" \
        -v gc="${CPU[$task.go]}" -v pc="${CPU[$task.python]}" \
        'BEGIN { printf "# %-14s %9.1fms %9.1fms %6.1fx %9.1fms %9.1fms\n", t, g / 1e6, p / 1e6, p / g, gc / 1e6, pc / 1e6 }'
done
finish
