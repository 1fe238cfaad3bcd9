#!/usr/bin/env bash
# appliance bench: the quick profile end to end (every suite, on every image of the plan, with
# real servers under a real load) within its time budget, a summary table, a results file that
# validates against its schema and agrees with its raw samples, and a CSV; then the guards: a
# wrong answer is an error and never a number, a CPU hog on the workload's CPU trips the noise
# guard (and --allow-noisy keeps the samples, flagged), an interrupted run keeps its finished
# samples and --resume completes it without redoing them, and bad options are usage errors.
# Runs other than the noise guard's own pass --allow-noisy: they test what the engine does,
# and a shared machine's steal must not fail them (the noise they saw is in their results).
# Needs root and the built images (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

mapfile -t PLAN_IMAGES < <(jq -r '.images | [.go, .python_web, .python[], .size[]] | unique[]' \
    images/workloads/bench.json)
"$APPLIANCE" -q image build "${PLAN_IMAGES[@]}" >/dev/null ||
    { fail "building the images the plan measures (${PLAN_IMAGES[*]})"; finish; exit 1; }

HOG=
cleanup() {
    [ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
VALIDATE=$ROOT/tests/bench/validate-results

# ---- the ETA counts what --only leaves ------------------------------------------------------
# eta_s ARGS...: the seconds of the estimate bench prints before it starts (then interrupted).
eta_s() {
    "$APPLIANCE" bench "$@" --out "$TMP/eta/results.json" 2>"$TMP/eta.err" >/dev/null &
    local pid=$! i
    for i in $(seq 300); do grep -q estimated "$TMP/eta.err" && break; sleep 0.1; done
    kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    grep -o 'estimated [0-9hms]*' "$TMP/eta.err" | head -n 1 |
        awk '{ t = 0; s = $2; while (match(s, /^[0-9]+[hms]/)) { v = substr(s, 1, RLENGTH - 1)
               u = substr(s, RLENGTH, 1); t += v * (u == "h" ? 3600 : u == "m" ? 60 : 1)
               s = substr(s, RLENGTH + 1) } print t }'
}
ETA_ALL=$(eta_s --profile standard --suite http,latency)
ETA_ONE=$(eta_s --profile standard --suite http,latency --only nethttp)
NSERVERS=$(jq -s "map(select(.available == true)) | length" images/workloads/servers/*/*/workload.json)
check "the ETA of one server (--only nethttp, ${ETA_ONE:-?} s) is the whole plan's (${ETA_ALL:-?} s) over its $NSERVERS servers" \
    awk -v a="${ETA_ALL:-0}" -v o="${ETA_ONE:-0}" -v n="$NSERVERS" 'BEGIN { exit !(o > 0 && a > 0 && o * n <= a * 1.1 && o * n >= a * 0.9) }'
# --only takes a list: each word picks the workloads whose name holds it.
ETA_TWO=$(eta_s --profile standard --suite http,latency --only nethttp,flask)
check "the ETA of two servers (--only nethttp,flask, ${ETA_TWO:-?} s) is twice one's (${ETA_ONE:-?} s)" \
    awk -v t="${ETA_TWO:-0}" -v o="${ETA_ONE:-0}" 'BEGIN { exit !(o > 0 && t >= 2 * o * 0.9 && t <= 2 * o * 1.1) }'

# ---- usage errors ----------------------------------------------------------------------------
# The load generator never shares a CPU with the workload when the machine has a choice.
run "$APPLIANCE" bench --suite size --workload-cpus 0-1 --load-cpus 0 --out "$TMP/overlap/results.json"
check "overlapping --workload-cpus and --load-cpus are refused, naming the CPU" \
    sh -c "[ $RC -ne 0 ] && grep -q 'CPU 0 is in both' '$TMP/stderr' && [ ! -e '$TMP/overlap/results.json' ]"
run "$APPLIANCE" bench --suite size --workload-cpus 1 --load-cpus 1000 --out "$TMP/overlap/results.json"
check "a CPU this run may not use is refused" sh -c "[ $RC -ne 0 ] && grep -q 'CPU 1000 is not one' '$TMP/stderr'"

run "$APPLIANCE" bench --suite cpu,nonsense
expect_rc 2 "an unknown suite is a usage error"
check "... naming the suite" err_has "nonsense"
run "$APPLIANCE" bench --profile huge
expect_rc 2 "an unknown profile is a usage error"
run "$APPLIANCE" bench --repeat 0
expect_rc 2 "--repeat 0 is a usage error"
run "$APPLIANCE" bench --images no-such-image --out "$TMP/x.json"
expect_rc 1 "an image outside the plan is an error"
check "... naming it" err_has "no-such-image"

# ---- a pinned caller does not narrow a sandbox's CPU set ---------------------------------------
# bench pins itself apart from the workloads; the threads suite's sandboxes take every CPU.
if [ "$(nproc)" -ge 2 ]; then
    taskset -c 0 "$APPLIANCE" run --json --cpuset 0-1 go-1.23-static -- /usr/local/bin/threads 1700000 2 \
        >"$TMP/par.out" 2>"$TMP/stderr"
    check "a sandbox started from a CPU-pinned appliance runs on its whole --cpuset (2 workers, 2 CPUs)" \
        jq -se '.[1] as $r | ($r.cpu_total_ns / $r.wall_ns) > 1.5' "$TMP/par.out"
else
    skip "a sandbox's whole --cpuset" "one CPU online"
fi

# ---- --sign: the run's folder packed and signed once it is complete -----------------------------
"$APPLIANCE" keygen -W -p "$TMP/k.pub" -s "$TMP/k.key" >/dev/null
APPLIANCE_KEY=$TMP/none.key run "$APPLIANCE" bench --sign --profile quick --suite size --images go-1.23-static \
    --out "$TMP/r/results.json"
expect_rc 1 "--sign without a key there fails before measuring"
check "... saying there is no secret key" sh -c "grep -q 'secret key' '$TMP/stderr' && [ ! -e '$TMP/r/results.json' ]"
(cd "$TMP" && APPLIANCE_IMAGES=$ROOT/images APPLIANCE_OUT=$ROOT/build/images \
    "$APPLIANCE" bench --sign --key "$TMP/k.key" --profile quick --suite size,startup \
    --images go-1.23-static --allow-noisy --out run/results.json >"$TMP/stdout" 2>"$TMP/stderr")
RC=$?
expect_rc 0 "bench --sign measures and signs"
ARCHIVE=$(sed -n 's/^archive: //p' "$TMP/stdout")
check "... an archive results/<run-id>.tar.zst named by the run's id" sh -c \
    "[ -f '$TMP/$ARCHIVE' ] && [ -f '$TMP/$ARCHIVE.minisig' ] && [ \"\$(basename '$ARCHIVE' .tar.zst)\" = \"\$(jq -r .run.id '$TMP/run/results.json')\" ]"
check "... that appliance verify accepts with the public key" "$APPLIANCE" verify "$TMP/$ARCHIVE" -p "$TMP/k.pub"
check "... and stock minisign too" minisign -q -Vm "$TMP/$ARCHIVE" -p "$TMP/k.pub"

# ---- the quick profile, whole ------------------------------------------------------------------
t0=$(date +%s)
run "$APPLIANCE" bench --profile quick --allow-noisy --out "$TMP/quick/results.json" \
    --csv "$TMP/quick/results.csv"
secs=$(($(date +%s) - t0))
expect_rc 0 "bench --profile quick completes ($secs s)"
check "... within 5 minutes" test "$secs" -le 300
check "... prints a summary table of every suite" sh -c \
    "for s in size startup memory cpu http latency threads lang; do grep -q \"^\$s: median\" '$TMP/stdout' || exit 1; done"
R=$TMP/quick/results.json
check "results.json validates against the schema and agrees with its samples" "$VALIDATE" "$R"
check "the run is marked complete" jqe '.run.complete == true and .run.profile == "quick"' "$R"
check "environment: kernel, CPU, cgroup, commit, image digests and locks, seccomp digest" jqe '
    (.environment.kernel | length > 0) and (.environment.cgroup == "v1" or .environment.cgroup == "v2")
    and (.environment.appliance.commit | length > 0)
    and ([.environment.images[] | .digest, .lock_sha256] | all(startswith("sha256:")))
    and (.environment.seccomp.sha256 | startswith("sha256:"))' "$R"
check "environment: the CPU topology from sysfs, and the load kept off the workload's cores unless the warnings say so" jqe '
    .environment.topology.source == "sysfs" and
    (.environment.topology.placement.workload_load_share_core == false or
     (.warnings | any(test("SMT siblings|share CPU"))))' "$R"
check "environment: nine chases through the caches at the start and nine at the end, each a step a positive time, beside the register loop, with a verdict" jqe '
    .environment.memory_latency | (.calibrations | map(.when) == ["start", "end"] and
        all(.ns_per_step | length == 9 and all(. > 0)) and all(.loop_ms > 0)) and
        (.verdict | IN("steady", "shared"))' "$R"
count() { jq "[.measurements[] | select(.id | test(\"$1\"))] | length" "$R"; }
check "cpu: a size known not to predict the published ratio is not warned about in quick, nor its ratio withheld" jqe '
    ([.measurements[] | select(.id | test("^cpu/binarytrees/")) | .warnings[] | select(test("does not predict"))] | length == 0) and
    all(.measurements[] | select(.id | test("^cpu/")); .params.ratio_withheld == null)' "$R"
# (Not through run: the checks below read the quick run's $TMP/stdout.)
"$APPLIANCE" -q bench --profile standard --suite cpu --only binarytrees --images go-1.23-static,python-3.13 \
    --repeat 1 --allow-noisy --out "$TMP/transfer.json" >"$TMP/transfer.out" 2>&1
check "cpu: ... and is in standard, with every figure of the task (its manifest's transfer_warning), its ratio withheld" jqe '
    [.measurements[] | select(.id | test("^cpu/binarytrees/"))] | length > 0 and
    all((.warnings | any(test("does not predict the published size"))) and
        (.params.ratio_withheld | type) == "string")' "$TMP/transfer.json"
check "... and the summary prints no ratio to Go for it, saying why" \
    grep -q "binarytrees/python-3.13 .*no ratio: does not predict the published size" "$TMP/transfer.out"

same "cpu: ten tasks x five images" "$(count '^cpu/')" 50
same "memory: a peak for each CPU task" "$(count '^memory/task/')" 50
# clean(N): a metric holds N samples, or, when the noise guard flagged some, at most N it did
# not flag and at most two more rounds' worth in all (the flagged ones measured again, kept
# flagged with --allow-noisy).
clean='def clean($n): (.samples | length) as $all |
    ([(.flags // [])[] | select(index("noisy"))] | length) as $noisy |
    if $noisy == 0 then $all == $n else $all - $noisy <= $n and $all <= $n + 2 end;'
check "cpu: wall and CPU time, raw samples kept (3 each, or noisy ones measured again)" jqe "$clean"'
    [.measurements[] | select(.suite == "cpu") | .metrics.wall_s, .metrics.cpu_s | clean(3)] | all' "$R"
check "cpu: every timed run's output was checked" jqe '
    [.measurements[] | select(.suite == "cpu") | .runs[] | .output_checked] | all' "$R"
check "cpu: N recorded with every figure" jqe '
    [.measurements[] | select(.suite == "cpu") | .params.n | numbers] | length == 50' "$R"
servers=$(count '^startup/service/')
check "startup: service start of the available servers ($servers)" test "$servers" -ge 8
check "startup: process and container start of hello world and -c pass" jqe '
    ([.measurements[] | select(.id | test("^startup/process/"))] | length) ==
    ([.measurements[] | select(.id | test("^startup/container/"))] | length)' "$R"
# Medians of the raw samples: the noise guard may leave container runs out on a busy machine.
check "startup: the sandbox costs more than the bare process" jqe '
    def med: .metrics.wall_s.samples | sort | .[length / 2 | floor];
    ([.measurements[] | select(.id == "startup/process/go-1.23-static/hello")][0] | med) <
    ([.measurements[] | select(.id == "startup/container/go-1.23-static/hello")][0] | med)' "$R"
same "http: every server at 16, 64, 256, 512 connections" "$(count '^http/')" "$((servers * 4))"
# Raw samples: the noise guard may leave some out of the statistics on a busy machine.
check "http: every level of every server answered, with no error" jqe '
    [.measurements[] | select(.suite == "http") | (.metrics.rps.samples | all(. > 0)) and
     (.metrics.errors.samples | all(. == 0))] | all' "$R"
check "http: the server's CPU comes from its cgroup" jqe '
    [.measurements[] | select(.suite == "http") | .metrics.server_cpu_cores.samples | max > 0.1] | all' "$R"
check "http: every load judged by the noise guard, with its reason" jqe '
    [.measurements[] | select(.suite == "http") | .runs[].noise |
     (.verdict | IN("quiet", "noisy")) and .judged_over == "run" and (.reason | length > 0)] | all' "$R"
check "every block's noise summed in run.noise_blocks (cpu tasks, threads, servers)" jqe '
    (.run.noise_blocks | map(.block)) as $b | ($b | length >= 10 + 4) and
    ($b | any(startswith("threads with"))) and ($b | any(startswith("the server ")))' "$R"
same "latency: three rates per server" "$(count '^latency/')" "$((servers * 3))"
check "latency: percentiles ordered, each rate sustained or flagged" jqe '
    [.measurements[] | select(.suite == "latency") | .metrics as $m |
     ($m.p50_ms.samples[0] <= $m.p90_ms.samples[0]) and ($m.p90_ms.samples[0] <= $m.p99_ms.samples[0])
     and ($m.p99_ms.samples[0] <= $m.max_ms.samples[0]) and
     (($m.sustained.samples[0] == 1) or (.warnings | any(test("did not sustain"))))] | all' "$R"
check "latency: a rate not sustained has its achieved rate and status, and no percentile" jqe '
    [.measurements[] | select(.suite == "latency") | select(.metrics.sustained.samples[0] == 0) |
     (.metrics.p99_ms == null) and (.metrics.achieved_rps.samples | length == 1) and
     (.metrics.achieved_rps.status | IN("unsustained", "errors"))] | all' "$R"
check "every metric has a status" jqe '[.measurements[].metrics[] | has("status")] | all' "$R"
check "latency: Go net/http sustains 1,000 req/s" jqe '
    [.measurements[] | select(.id == "latency/go-nethttp-json/r1000")][0].metrics.sustained.samples[0] == 1' "$R"
same "memory: each server idle and under 1,000 connections" "$(count '^memory/server/')" "$servers"
check "memory: under load above idle, with 1,000 connections made" jqe '
    [.measurements[] | select(.id | test("^memory/server/")) |
     (.metrics.loaded_peak_bytes.samples[0] >= .metrics.idle_bytes.samples[0]) and
     (.metrics.loaded_peak_pss_bytes.samples[0] >= .metrics.idle_pss_bytes.samples[0]) and
     (.runs[0].connects >= 1000)] | all' "$R"
check "memory: each server's idle PSS, USS and RSS, USS <= PSS <= RSS, PSS over 1 MiB" jqe '
    [.measurements[] | select(.id | test("^memory/server/")) | .metrics as $m |
     ($m.idle_uss_bytes.samples[0] <= $m.idle_pss_bytes.samples[0]) and
     ($m.idle_pss_bytes.samples[0] <= $m.idle_rss_bytes.samples[0]) and
     ($m.idle_pss_bytes.samples[0] > 1048576)] | all' "$R"
# The lang suite's own figures are checked by 82-lang.sh; here, that the whole profile runs it.
same "lang: version and keywords of Go and every Python image, Go's goroutine stack" "$(count '^lang/')" \
    "$(jq '3 + 2 * (.images.python | length)' images/workloads/bench.json)"
check "threads: 1, 2, 4, 8 workers on Go and every Python image" jqe '
    ([.measurements[] | select(.suite == "threads")] | length) == 20' "$R"
# size: one program or one service per image, each in the plan's pairs beside its counterpart.
SIZED=$(jq -r '.images.size | length' images/workloads/bench.json)
same "size: each image of images.size, none else ($SIZED)" "$(count '^size/image/')" "$SIZED"
check "size: not the bundles go-1.23-static and python-3.13-web" jqe '
    [.measurements[] | select(.suite == "size" and (.image == "go-1.23-static" or .image == "python-3.13-web"))] | length == 0' "$R"
same "size: the program file of each Go image" "$(count '^size/binary/')" \
    "$(jq '[.images.size[] | select(startswith("go"))] | length' images/workloads/bench.json)"
check "size: counted figures, exact, status ok" jqe '
    [.measurements[] | select(.suite == "size") | .metrics[] | .status == "ok" and .stats.n == 1] | all' "$R"
same "size: every pair of the plan" "$(jq -c '[.size_pairs[] | [.label, .go, .python]]' "$R")" \
    "$(jq -c '[.size_pairs[] | [.label, .go, .python]]' images/workloads/bench.json)"
check "size: each pair compressed and unpacked, status ok, ratio Python/Go over 1" jqe '
    [.size_pairs[] | .compressed_bytes, .unpacked_bytes | .status == "ok" and .ratio > 1 and
     (.ratio - .python / .go | fabs) < 1e-9 * .ratio] | all' "$R"
check "size: the summary shows the pairs with their ratios" sh -c \
    "grep -q '^size pairs' '$TMP/stdout' && grep -E '^  net/http vs FastAPI +go-1.23-nethttp +python-3.13-fastapi .* ok +[0-9.]+x' '$TMP/stdout' >/dev/null"
check "the CSV has a header and a row per metric" sh -c \
    "head -n 1 '$TMP/quick/results.csv' | grep -q '^id,suite,workload,image.*,status\$' && [ \$(wc -l <'$TMP/quick/results.csv') -gt 300 ]"

# ---- a wrong answer is an error, never a number ----------------------------------------------
cp -r images "$TMP/images"
jq '.check.expected = {"sha256": "'"$(printf 'not the answer' | sha256sum | cut -d' ' -f1)"'", "length": 14}' \
    images/workloads/bg/nbody/workload.json >"$TMP/images/workloads/bg/nbody/workload.json"
APPLIANCE_IMAGES=$TMP/images run "$APPLIANCE" bench --profile quick --suite cpu --only nbody \
    --images go-1.23-static --allow-noisy --out "$TMP/wrong.json"
expect_rc 1 "a program whose output differs from the expected one fails the run"
check "... saying it is a wrong output, not measured" err_has "wrong output, not measured"
check "... and no sample of it was kept" jqe '
    [.measurements[] | select(.id == "cpu/nbody/go-1.23-static") | .metrics.wall_s.samples // [] | length] | add // 0 | . == 0' "$TMP/wrong.json"

# ---- the noise guard ---------------------------------------------------------------------------
WL=$(jq -r .environment.cpus.workload "$R")
timeout 120 taskset -c "${WL%%[-,]*}" sh -c 'while :; do :; done' &
HOG=$!
sleep 0.5
run "$APPLIANCE" bench --profile quick --suite cpu --only fannkuch --images go-1.23-static,python-3.13 \
    --out "$TMP/noisy.json"
expect_rc 1 "a CPU hog on the workload's CPU makes bench refuse"
check "... saying the machine is too noisy, and what it saw" err_has "too noisy to measure"
run "$APPLIANCE" bench --profile quick --suite cpu --only fannkuch --images go-1.23-static,python-3.13 \
    --out "$TMP/noisy.json" --allow-noisy
expect_rc 0 "--allow-noisy measures anyway"
check "... and records the noise in the results" jqe '.warnings | any(test("noisy"))' "$TMP/noisy.json"
kill "$HOG" 2>/dev/null
wait "$HOG" 2>/dev/null
HOG=

# ---- interrupt and resume ----------------------------------------------------------------------
I=$TMP/resume.json
"$APPLIANCE" bench --profile quick --suite cpu --images go-1.23-static,python-3.13,python-3.13t \
    --repeat 5 --allow-noisy --out "$I" >"$TMP/stdout" 2>"$TMP/stderr" &
BP=$!
for _ in $(seq 1 100); do
    [ -s "$I" ] && [ "$(jq '[.measurements[].metrics.wall_s.samples // [] | length] | add // 0' "$I" 2>/dev/null)" -ge 4 ] && break
    sleep 0.1
done
kill -INT "$BP"
wait "$BP"
RC=$?
expect_rc 130 "SIGINT stops bench with status 130"
check "... leaving the results marked incomplete, with its finished samples" jqe '
    (.run.complete == false) and ([.measurements[].metrics.wall_s.samples // [] | length] | add > 0)' "$I"
kept=$(jq -c '[.measurements[] | select(.suite == "cpu") | {id, s: .metrics.wall_s.samples}]' "$I")
run "$APPLIANCE" bench --profile quick --suite cpu --images go-1.23-static,python-3.13,python-3.13t \
    --repeat 5 --allow-noisy --out "$I" --resume
expect_rc 0 "--resume completes the run"
check "... complete now, and valid" sh -c "jq -e '.run.complete and (.run.resumed | length == 1)' '$I' >/dev/null && '$VALIDATE' '$I' >/dev/null"
check "... every sample kept from before is still there, first" jq -e --argjson kept "$kept" '
    [.measurements[] | select(.suite == "cpu") | {id, s: .metrics.wall_s.samples}] as $now |
    [$kept[] | select(.s != null) | . as $k | ($now[] | select(.id == $k.id) | .s[0:($k.s | length)]) == $k.s] | all' "$I"
check "... with 5 samples everywhere (or noisy ones measured again)" jqe "$clean"'
    [.measurements[] | select(.suite == "cpu") | .metrics.wall_s | clean(5)] | all' "$I"
run "$APPLIANCE" bench --profile standard --suite cpu --allow-noisy --out "$I" --resume
expect_rc 1 "--resume refuses a results file of another profile"
# Samples of another machine or build are never mixed in: each fact that differs is named.
for f in '.environment.kernel = "Linux 0.0.1"' '.environment.cpu_model = "another CPU"' \
    '.environment.appliance.commit = "0123456789ab"' '.environment.cpus.workload = "0"'; do
    jq "$f | .run.complete = false" "$I" >"$TMP/other.json"
    # The file's own plan (suite, images, repeats): only the fact differs.
    run "$APPLIANCE" bench --profile quick --suite cpu --images go-1.23-static,python-3.13,python-3.13t \
        --repeat 5 --allow-noisy --out "$TMP/other.json" --resume
    key=$(printf '%s' "$f" | sed -E 's/^\.environment\.([a-z_.]+) =.*/\1/')
    check "--resume refuses a file whose $key differs, naming it" \
        sh -c "[ $RC -eq 1 ] && grep -q 'its $key was' '$TMP/stderr'"
done
finish
