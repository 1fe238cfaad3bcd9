#!/usr/bin/env bash
# The lang suite: what each language's runtime in the images says about the language. First the
# Go probe's own output (/usr/local/bin/lang in go-1.23-static): its version is the one the
# go-1.23 toolchain that built it reports, its keywords those of the Go specification, its
# goroutine figures one line each, its usage errors refused. Then `bench --profile quick --suite
# lang`: every measurement id, the figures (Go 25 keywords, Python 35 in keyword.kwlist on
# 3.13, versions 1.23.x and 3.13.x, the stack of a blocked goroutine between 1 and 64 KiB), the
# statuses (counted figures ok at n = 1, sampled ones by the statistics' rules), a results file
# the validator accepts (and refuses once a counted measurement is no longer marked counted, or
# a version is no version), the catalog of bench --list, the summary, --only, and a probe whose
# output is no version failing the run instead of giving a number. Needs root and the built
# images.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
command -v jq >/dev/null || { fail "needs jq on the host (make deps)"; finish; exit 1; }

PLAN=images/workloads/bench.json
mapfile -t PLAN_IMAGES < <(jq -r '.images | [.go, .python_web, .python[], .size[]] | unique[]' "$PLAN")
"$APPLIANCE" -q image build "${PLAN_IMAGES[@]}" go-1.23 >/dev/null ||
    { fail "building the images the plan measures (${PLAN_IMAGES[*]}) and go-1.23"; finish; exit 1; }
VALIDATE=$ROOT/tests/bench/validate-results
GO=$(jq -r .images.go "$PLAN")
PROG=$(jq -r .go_binaries.lang "$PLAN")
mapfile -t PY < <(jq -r '.images.python[]' "$PLAN")

# ---- the Go probe's output ---------------------------------------------------------------------
lang() { "$APPLIANCE" run --timeout 60 "$GO" -- "$PROG" "$@" 2>"$TMP/lang.err"; }
TOOLCHAIN=$("$APPLIANCE" run --timeout 60 go-1.23 -- go version 2>/dev/null | awk '{print $3}')
same "lang version: the runtime's version is the go-1.23 toolchain's (go version)" \
    "$(lang version)" "$TOOLCHAIN"
# The Go specification's keywords (https://go.dev/ref/spec#Keywords), in go/token's order.
SPEC="break case chan const continue default defer else fallthrough for func go goto if import
interface map package range return select struct switch type var"
same "lang keywords: the 25 keywords of the Go specification, on one line" \
    "$(lang keywords)" "$(echo $SPEC)"
lang stack 1000 >"$TMP/stack.out"
check "lang stack 1000: five lines 'name value', 1000 goroutines more, neither figure shrinking" \
    awk '{ v[$1] = $2; n++ } END { exit !(n == 5 && v["goroutines"] == 1000 &&
        v["stack_inuse_after"] > v["stack_inuse_before"] && v["private_after"] > v["private_before"]) }' \
    "$TMP/stack.out"
for bad in "stack 0" "stack x" "stack" "nonsense" ""; do
    # shellcheck disable=SC2086
    lang $bad >/dev/null
    rc=$?
    check "lang ${bad:-(no argument)}: a usage error (exit 2), saying how it is used" \
        sh -c "[ $rc -eq 2 ] && grep -q 'lang' '$TMP/lang.err'"
done

# ---- bench --suite lang --------------------------------------------------------------------------
R=$TMP/quick/results.json
run "$APPLIANCE" bench --profile quick --suite lang --out "$R"
expect_rc 0 "bench --profile quick --suite lang completes"
check "results.json validates against the schema and agrees with its samples" "$VALIDATE" "$R"
check "the run names the lang suite alone, and holds lang measurements only" jqe '
    .run.suites == ["lang"] and (.measurements | length > 0 and all(.suite == "lang"))' "$R"
WANT=$( { echo "lang/version/$GO"; echo "lang/keywords/$GO"; echo "lang/goroutine-stack/$GO"
    for p in "${PY[@]}"; do echo "lang/version/$p"; echo "lang/keywords/$p"; done; } | sort)
same "every measurement id: version and keywords of Go and of each Python image, Go's goroutine stack" \
    "$(jq -r '.measurements[].id' "$R" | sort)" "$WANT"
metric() { jq -r --arg id "$1" --arg k "$2" '.measurements[] | select(.id == $id) | .metrics[$k].samples[0]' "$R"; }
same "Go: 25 keywords from go/token" "$(metric "lang/keywords/$GO" keywords)" 25
# shellcheck disable=SC2086
same "Go: the keyword list recorded is the specification's" \
    "$(jq -r --arg id "lang/keywords/$GO" '.measurements[] | select(.id == $id) | .params.keywords | join(" ")' "$R")" \
    "$(echo $SPEC)"
check "Go: no soft keywords metric (Go has none)" jqe ".measurements[] | select(.id == \"lang/keywords/$GO\") | .metrics.soft_keywords == null" "$R"
for p in "${PY[@]}"; do
    same "$p: 35 keywords in keyword.kwlist" "$(metric "lang/keywords/$p" keywords)" 35
    same "$p: 4 soft keywords apart (_ case match type)" \
        "$(jq -r --arg id "lang/keywords/$p" '.measurements[] | select(.id == $id) | "\(.metrics.soft_keywords.samples[0]) \(.params.soft_keywords | join(" "))"' "$R")" \
        "4 _ case match type"
    check "$p: version 3.13.x, its major, minor and patch metrics agreeing with it" jqe '
        .measurements[] | select(.id == "lang/version/'"$p"'") | .params.version as $v |
        ($v | test("^3\\.13\\.[0-9]+$")) and (.params.reported | startswith($v + " ")) and
        ([.metrics.major, .metrics.minor, .metrics.patch | .samples[0] | tostring] | join(".")) == $v' "$R"
done
check "Go: version 1.23.x, the runtime's go1.23.x without its go, agreeing with major, minor, patch" jqe '
    .measurements[] | select(.id == "lang/version/'"$GO"'") | .params.version as $v |
    ($v | test("^1\\.23\\.[0-9]+$")) and (.params.reported | split(" ")[0]) == "go" + $v and
    ([.metrics.major, .metrics.minor, .metrics.patch | .samples[0] | tostring] | join(".")) == $v' "$R"
same "Go: the version bench read is the probe's own" \
    "go$(jq -r '.measurements[] | select(.id | startswith("lang/version/go")) | .params.version' "$R")" "$TOOLCHAIN"
check "counted figures (versions, keywords): params.counted, one sample, status ok, unit count" jqe '
    [.measurements[] | select(.workload == "version" or .workload == "keywords") |
     .params.counted == true and (.metrics | length > 0) and
     all(.metrics[]; .status == "ok" and .stats.n == 1 and .unit == "count" and (.samples | length) == 1)] | all' "$R"
REPEAT=$(jq .profiles.quick.lang_repeat "$PLAN")
NG=$(jq .profiles.quick.lang_goroutines "$PLAN")
check "goroutine stack: $REPEAT samples each of stack_bytes and private_bytes (B), N = $NG in params, a run per sample" jqe '
    .measurements[] | select(.id == "lang/goroutine-stack/'"$GO"'") |
    .params.goroutines == '"$NG"' and (.params.counted | not) and (.runs | length) == '"$REPEAT"' and
    all(.metrics.stack_bytes, .metrics.private_bytes; .unit == "B" and (.samples | length) == '"$REPEAT"')' "$R"
check "goroutine stack: every sample between 1 KiB and 64 KiB" jqe '
    .measurements[] | select(.id == "lang/goroutine-stack/'"$GO"'") |
    [.metrics.stack_bytes.samples[], .metrics.private_bytes.samples[]] | length > 0 and all(. >= 1024 and . <= 65536)' "$R"
check "goroutine stack: each sample is its run's raw figures over N" jqe '
    .measurements[] | select(.id == "lang/goroutine-stack/'"$GO"'") | . as $m |
    [range(0; .runs | length) | . as $i | $m.runs[$i].probe as $p |
     (($p.stack_inuse_after - $p.stack_inuse_before) / '"$NG"' - $m.metrics.stack_bytes.samples[$i] | fabs) < 1e-6 and
     (($p.private_after - $p.private_before) / '"$NG"' - $m.metrics.private_bytes.samples[$i] | fabs) < 1e-6] | all' "$R"
check "goroutine stack: statuses by the statistics' rules (n-too-small below 6, else ok or unstable with its cv)" jqe '
    .measurements[] | select(.id == "lang/goroutine-stack/'"$GO"'") | [.metrics[] |
    if .stats.n < 6 then .status == "n-too-small" elif .stats.cv > 0.10 then .status == "unstable"
    else .status == "ok" end] | all' "$R"
check "the summary prints the lang rows and the versions' block" sh -c "
    grep -q '^lang: median' '$TMP/stdout' && grep -Eq 'lang/keywords/$GO +keywords +25 +ok +exact' '$TMP/stdout' &&
    grep -Eq 'lang/goroutine-stack/$GO +stack per goroutine +[0-9.]+ +KiB' '$TMP/stdout' &&
    grep -q '^lang versions' '$TMP/stdout' && grep -Eq '^  $GO +1\.23\.[0-9]+ +go1\.23' '$TMP/stdout' &&
    grep -Eq '^  ${PY[0]} +3\.13\.[0-9]+ +3\.13' '$TMP/stdout'"

"$APPLIANCE" bench --profile quick --list >"$TMP/catalog.json" 2>/dev/null
same "the catalog (bench --list) lists exactly these measurements, with the same metrics and units" \
    "$(jq -cS '[.measurements[] | select(.suite == "lang") | {id, m: (.metrics | map_values(.unit))}] | sort_by(.id)' "$TMP/catalog.json")" \
    "$(jq -cS '[.measurements[] | {id, m: (.metrics | map_values(.unit))}] | sort_by(.id)' "$R")"

# ---- the validator holds the counted figures to their mark ----------------------------------------
jq '(.measurements[] | select(.id == "lang/keywords/'"$GO"'") | .params) |= del(.counted)' "$R" >"$TMP/uncounted.json"
run "$VALIDATE" "$TMP/uncounted.json"
check "the validator refuses a keyword count at n = 1 not marked counted (its status would be n-too-small)" \
    sh -c "[ $RC -ne 0 ] && grep -q 'lang/keywords/$GO keywords: status' '$TMP/stdout'"
jq '(.measurements[] | select(.id == "lang/version/'"$GO"'") | .params.version) = "go1.23"' "$R" >"$TMP/badversion.json"
run "$VALIDATE" "$TMP/badversion.json"
check "the validator refuses a params.version that is not MAJOR.MINOR.PATCH" \
    sh -c "[ $RC -ne 0 ] && grep -q 'params/version' '$TMP/stdout'"

# ---- --only, every profile, and a wrong probe ------------------------------------------------------
run "$APPLIANCE" bench --profile quick --suite lang --only keywords --out "$TMP/only.json"
check "--only keywords measures the keyword counts alone" jqe '
    [.measurements[].workload] | unique == ["keywords"]' "$TMP/only.json"
check "every profile sets lang_repeat and lang_goroutines" jqe '
    [.profiles[] | (.lang_repeat | type == "number" and . >= 1) and (.lang_goroutines | type == "number" and . >= 1)] | all' "$PLAN"
P=$(jq .profiles.published.lang_repeat "$PLAN")
run "$APPLIANCE" bench --profile published --suite lang --only goroutine-stack --images "$GO" --out "$TMP/pub.json"
check "the published profile runs it too: $P samples of the stack, with an interval" jqe '
    .measurements[] | select(.id == "lang/goroutine-stack/'"$GO"'") | .metrics.stack_bytes |
    (.samples | length) == '"$P"' and (.stats.ci95_lo | type) == "number"' "$TMP/pub.json"
cp -r images "$TMP/images"
jq '.go_binaries.lang = "/usr/local/bin/hello"' "$PLAN" >"$TMP/images/workloads/bench.json"
APPLIANCE_IMAGES=$TMP/images run "$APPLIANCE" bench --profile quick --suite lang --only version \
    --images "$GO" --out "$TMP/wrong.json"
expect_rc 1 "a probe that prints no version fails the run"
check "... saying what it printed and what was expected" err_has "does not start with a version"
check "... and no version of it was kept" jqe '
    [.measurements[] | select(.id == "lang/version/'"$GO"'") | .metrics.major.samples // [] | length] | add // 0 | . == 0' "$TMP/wrong.json"
finish
