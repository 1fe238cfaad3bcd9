#!/usr/bin/env bash
# appliance bench --shard I/N: a quick plan cut small (size, lang and two cpu tasks on the Go image
# and CPython) run whole and in 2 shards. The shards measure exactly the whole run's measurements
# between them, each group in exactly one shard, all with the same plan digest; --dry-run prints
# the partition that then runs; --resume refuses another shard's or another plan's file; bad
# --shard values are usage errors (with a control that is accepted); the balance table of
# docs/scale-out.md is what --dry-run estimates for the published profile. Needs root and the built
# images go-1.23-static and python-3.13 (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
jqa() { local out; out=$(jq -e "$@" 2>/dev/null) && [ -n "$out" ]; }
OUT=${APPLIANCE_OUT:-build/images}
for img in go-1.23-static python-3.13; do
    if [ ! -f "$OUT/$img/index.json" ]; then
        fail "build first: image $img is not in $OUT (make test builds it)"
        finish
        exit 1
    fi
done

PLAN=(--profile quick --suite size,lang,cpu --images go-1.23-static,python-3.13
    --only nbody,pidigits,version)
RUNOPTS=(--repeat 1 --warmup 0 --allow-noisy)

# ---- the balance table of docs/scale-out.md is what --dry-run estimates today -------------------
# Each row: N, then the largest shard's seconds and its ratio to total/N, for the whole published
# plan (bench) and for the article's claims (reproduce).
doc_row() { # N: the row of the table for N shards, as "s1 r1 s2 r2" (commas dropped)
    awk -F'|' -v n="$1" '$2 + 0 == n && $2 ~ /^ *[0-9]+ *$/ {
        gsub(/,/, ""); split($3, a, " "); split($5, b, " ");
        printf "%s %.2f %s %.2f\n", a[1], $4, b[1], $6; exit }' docs/scale-out.md
}
dry_row() { # VERB N: "seconds ratio" of --dry-run's largest shard
    "$APPLIANCE" "$1" --profile published --shard "0/$2" --dry-run 2>/dev/null |
        sed -nE 's/^largest shard estimated ([0-9]+) s .*, ([0-9.]+) x total\/[0-9]+$/\1 \2/p'
}
for n in 1 2 4 8 16; do
    want=$(doc_row "$n")
    got="$(dry_row bench "$n") $(dry_row reproduce "$n")"
    check "docs/scale-out.md's row for N = $n ($want) is --dry-run's estimate ($got)" \
        test -n "$want" -a "$want" = "$got"
done

# ---- bad --shard values ---------------------------------------------------------------------
for bad in 5/3 -1/2 0/0 1/2x 0/65 2/2 /2 x; do
    run "$APPLIANCE" bench "${PLAN[@]}" --shard "$bad" --dry-run
    expect_rc 2 "bench --shard $bad is a usage error"
    check "bench --shard $bad says what is wrong and how to fix it" \
        grep -q -- "--shard: .*'$bad'.*" "$TMP/stderr"
done
run "$APPLIANCE" bench "${PLAN[@]}" --shard 5/3 --dry-run
check "5/3 is refused for its index" err_has "the index 5 is not below the count 3"
run "$APPLIANCE" bench "${PLAN[@]}" --shard 0/0 --dry-run
check "0/0 is refused for its count, naming the range" err_has "the count 0 is not between 1 and 64"
run "$APPLIANCE" reproduce --profile quick --shard 3/3 --dry-run
expect_rc 2 "reproduce --shard 3/3 is a usage error"
check "reproduce says shards count from 0" err_has "the last of 3 is 2/3"
run "$APPLIANCE" bench "${PLAN[@]}" --shard 1/2 --dry-run
expect_rc 0 "control: bench --shard 1/2 --dry-run is accepted"
run "$APPLIANCE" bench "${PLAN[@]}" --shard 63/64 --dry-run
expect_rc 0 "control: bench --shard 63/64 --dry-run is accepted (N = 64, the most)"
check "64 shards for 4 groups: the empty shards say so" grep -q "no group: 64 shards for 4 groups" \
    "$TMP/stdout"

# ---- the partition ----------------------------------------------------------------------------
run "$APPLIANCE" bench "${PLAN[@]}" "${RUNOPTS[@]}" --shard 0/2 --dry-run \
    --out "$TMP/dry/results.json"
expect_rc 0 "bench --dry-run prints the partition into 2 shards"
cp "$TMP/stdout" "$TMP/dry.txt"
check "--dry-run runs nothing and writes no results" test ! -e "$TMP/dry"
# dry_groups I: the group ids listed under shard I/2 in the dry run, sorted, comma-separated.
dry_groups() {
    awk -v s="shard $1/2 " 'index($0, s) == 1 { on = 1; next } /^shard / { on = 0 }
        on && /^  [a-z]/ { print $1 }' "$TMP/dry.txt" | sort | paste -sd, -
}
DRY_SHA=$(awk '$1 == "plan_sha256" { print $2 }' "$TMP/dry.txt")
check "the dry run names the plan's digest" test "${#DRY_SHA}" -eq 64
same "the dry run lists the 4 groups: size, lang, task/nbody, task/pidigits" \
    "$(printf '%s\n' "$(dry_groups 0)" "$(dry_groups 1)" | tr ',' '\n' | sed '/^$/d' | sort |
        paste -sd, -)" "lang,size,task/nbody,task/pidigits"
run "$APPLIANCE" bench "${PLAN[@]}" "${RUNOPTS[@]}" --dry-run
check "unsharded, the dry run has one shard" grep -q "^shard 0/1 " "$TMP/stdout"
same "the plan's digest does not depend on the shard" \
    "$(awk '$1 == "plan_sha256" { print $2 }' "$TMP/stdout")" "$DRY_SHA"
run "$APPLIANCE" bench "${PLAN[@]}" --only nbody,version "${RUNOPTS[@]}" --dry-run
check "control: another --only is another plan digest" \
    test "$(awk '$1 == "plan_sha256" { print $2 }' "$TMP/stdout")" != "$DRY_SHA"

# ---- the runs: whole, and in 2 shards -----------------------------------------------------------
for part in whole 0 1; do
    shard=()
    [ "$part" != whole ] && shard=(--shard "$part/2")
    run "$APPLIANCE" -q bench "${PLAN[@]}" "${RUNOPTS[@]}" "${shard[@]}" \
        --out "$TMP/$part/results.json"
    expect_rc 0 "the $part run"
done
R0=$TMP/0/results.json R1=$TMP/1/results.json RW=$TMP/whole/results.json
ids() { jq -r '.measurements[].id' "$@" | sort; }
check "each shard measured something" \
    test "$(ids "$R0" | wc -l)" -gt 0 -a "$(ids "$R1" | wc -l)" -gt 0
same "the shards' measurements together are the whole run's" \
    "$(ids "$R0" "$R1" | paste -sd, -)" "$(ids "$RW" | paste -sd, -)"
check "no measurement is in both shards" test -z "$(comm -12 <(ids "$R0") <(ids "$R1"))"
check "the whole run's measurements are of the groups size, lang, task/nbody and task/pidigits" \
    jqe '[.measurements[].group] | unique == ["lang","size","task/nbody","task/pidigits"]' "$RW"
same "each group is in exactly one shard (run.shard.groups)" \
    "$(jq -r '.run.shard.groups[]' "$R0" "$R1" | sort | paste -sd, -)" \
    "$(jq -r '.measurements[].group' "$RW" | sort -u | paste -sd, -)"
for i in 0 1; do
    r=$TMP/$i/results.json
    check "shard $i: every measurement's group is one of its run.shard.groups" \
        jqe '.run.shard.groups as $g | all(.measurements[]; .group as $x | $g | index($x))' "$r"
    check "shard $i: run.shard says $i/2" jqe ".run.shard.index == $i and .run.shard.count == 2" "$r"
    same "shard $i ran the groups its dry run listed" \
        "$(jq -r '.run.shard.groups | join(",")' "$r")" "$(dry_groups "$i")"
    check "shard $i's estimate is its dry run's" awk -v a="$(jq -r .run.shard.estimate_s "$r")" \
        -v b="$(awk -v s="shard $i/2" 'index($0, s) == 1 { print $4 }' "$TMP/dry.txt")" \
        'BEGIN { d = a - b; exit !(b != "" && d <= 0.5 && d >= -0.5) }'
done
check "the whole run has no run.shard" jqe '.run | has("shard") | not' "$RW"
same "plan_sha256 is the same in both shards" \
    "$(jq -r .run.plan_sha256 "$R0")" "$(jq -r .run.plan_sha256 "$R1")"
same "plan_sha256 is the same in the whole run and the dry run" \
    "$(jq -r .run.plan_sha256 "$RW")" "$DRY_SHA"
same "environment.host is the host's name" "$(jq -r .environment.host "$R0")" "$(uname -n)"
if python3 -c 'import jsonschema' 2>/dev/null; then
    for r in "$RW" "$R0" "$R1"; do
        check "$(basename "$(dirname "$r")"): the results validate (schema and invariants)" \
            python3 tests/bench/validate-results "$r"
    done
    # Control: a measurement moved to a group of the other shard is caught.
    jq '.measurements[0].group = "task/nosuch"' "$R0" >"$TMP/moved.json"
    check "control: validate-results refuses a measurement outside its shard's groups" \
        bash -c '! python3 tests/bench/validate-results "$1" >/dev/null' _ "$TMP/moved.json"
else
    skip "the results validate against the schema" "python3 jsonschema is not installed"
fi

# ---- --resume -----------------------------------------------------------------------------------
cp "$R0" "$TMP/r0-kept.json"
run "$APPLIANCE" -q bench "${PLAN[@]}" "${RUNOPTS[@]}" --shard 1/2 --resume --out "$R0"
expect_rc 1 "--resume refuses to continue another shard's file"
check "it names both shards" err_has "it holds the results of shard 0/2, and this run is shard 1/2"
run "$APPLIANCE" -q bench "${PLAN[@]}" "${RUNOPTS[@]}" --resume --out "$R0"
expect_rc 1 "--resume refuses to continue a shard's file unsharded"
run "$APPLIANCE" -q bench "${PLAN[@]}" --only nbody,version "${RUNOPTS[@]}" --shard 0/2 --resume \
    --out "$R0"
expect_rc 1 "--resume refuses to continue another plan's file"
check "it says the plan differs" err_has "it was made from another plan"
same "the refused resumes left the file as it was" "$(sha256sum <"$R0")" \
    "$(sha256sum <"$TMP/r0-kept.json")"
run "$APPLIANCE" -q bench "${PLAN[@]}" "${RUNOPTS[@]}" --shard 0/2 --resume --out "$R0"
expect_rc 0 "control: --resume of the same shard and plan goes on"
same "and keeps its measurements" "$(ids "$R0" | paste -sd, -)" \
    "$(ids "$TMP/r0-kept.json" | paste -sd, -)"

# ---- reproduce --shard --dry-run ----------------------------------------------------------------
run "$APPLIANCE" reproduce --profile quick --shard 1/2 --dry-run
expect_rc 0 "reproduce --shard 1/2 --dry-run prints the plan and its partition"
check "it marks shard 1/2 as this run's" grep -q "^shard 1/2 .*(this run)" "$TMP/stdout"
check "it names the plan's digest" grep -qE "^plan_sha256 [0-9a-f]{64}$" "$TMP/stdout"

finish
