#!/usr/bin/env bash
# appliance merge: the signed parts of a sharded campaign into one results file. Two parts of a
# real quick run (sizes and the lang suite of a Go and a Python image), packed and signed with a
# key made here, are merged: the merged results validate against the schema, list both parts'
# archives and sha256, keep every measurement once with its shard and host, and appliance
# verify accepts the archive merge --sign makes. Each refusal, with its control: a part signed
# by a key that is not trusted, a part of another plan, a part given twice, a missing shard,
# another count than --expect, and a run that is not sharded.
# Needs root and the images go-1.23-static and python-3.13 (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

run "$APPLIANCE" merge
expect_rc 2 "merge without parts is a usage error"
run "$APPLIANCE" merge x.tar.zst
expect_rc 2 "merge without --expect is a usage error"
run "$APPLIANCE" merge x.tar.zst --expect 65
expect_rc 2 "--expect beyond 64 shards is a usage error"

# ---- one real run, and two parts of it --------------------------------------------------------
run "$APPLIANCE" keygen -p "$TMP/k.pub" -s "$TMP/k.key" -W
expect_rc 0 "a key pair for the parts"
run "$APPLIANCE" keygen -p "$TMP/other.pub" -s "$TMP/other.key" -W
expect_rc 0 "a second key pair, not trusted"
mkdir -p "$TMP/work/results"
(cd "$TMP/work" && ln -s "$ROOT/images" images && ln -s "$ROOT/build" build)
run env -C "$TMP/work" APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q bench --profile quick \
    --suite size,lang --images go-1.23-static,python-3.13 --out "$TMP/work/run/results.json" \
    --allow-noisy
expect_rc 0 "a real quick run of the size and lang suites"
RUN="$TMP/work/run/results.json"
check "the run measured sizes and the lang suite" \
    jqe '([.measurements[].suite] | unique) == ["lang", "size"]' "$RUN"

# Until `appliance bench --shard I/N` exists, the parts are made from the real run by writing
# with jq only what a sharded run adds to its results (the campaign contract): run.plan_sha256,
# run.shard, environment.host and each measurement's group. Shard 0 holds the size group,
# shard 1 the lang group; each part has a run id of its own, as each shard's run does.
PLAN=$(printf 'plan of this test' | sha256sum | cut -d' ' -f1)
HOST=$(uname -n)
part() { # INDEX COUNT SUITE PLAN RUN-ID-SUFFIX KEY OUTDIR: a signed part into OUTDIR
    local dir="$TMP/parts/run-$1-$5"
    rm -rf "$dir" && mkdir -p "$dir" "$7"
    jq --argjson i "$1" --argjson n "$2" --arg suite "$3" --arg plan "$4" --arg host "$HOST" \
        --arg sfx "$5" '
        .run.id = (.run.id | sub("-[0-9a-f]{8}$"; "-" + $sfx))
        | .run.plan_sha256 = $plan
        | .run.shard = {index: $i, count: $n, groups: [$suite], estimate_s: 1}
        | .environment.host = $host
        | .measurements = [.measurements[] | select(.suite == $suite) | .group = $suite]
        | if $suite == "size" then . else del(.size_pairs) end' "$RUN" >"$dir/results.json" ||
        return 1
    (cd "$TMP/work" && APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q pack "$dir" \
        --key "$6" --out "$7") >/dev/null
}
check "part 0/2 (the size group) packed and signed" \
    part 0 2 size "$PLAN" 0000aaaa "$TMP/k.key" "$TMP/p"
check "part 1/2 (the lang group) packed and signed" \
    part 1 2 lang "$PLAN" 1111bbbb "$TMP/k.key" "$TMP/p"
P0=$(ls "$TMP"/p/*-0000aaaa.tar.zst)
P1=$(ls "$TMP"/p/*-1111bbbb.tar.zst)

# ---- the merge ---------------------------------------------------------------------------------
run env -C "$TMP/work" "$APPLIANCE" merge "$P1" "$P0" --expect 2 --trusted-keys "$TMP/k.pub" \
    --out "$TMP/work/merged" --sign --key "$TMP/k.key"
expect_rc 0 "merge accepts the two parts"
M="$TMP/work/merged/results.json"
check "it says what it merged: 2 parts, 1 machine type, 2 groups" \
    bash -c "grep -q '^merged 2 parts of 2 shards' '$TMP/stdout' &&
             grep -q '^  machine m1: ' '$TMP/stdout' && grep -q '^  groups: 2; measurements: ' '$TMP/stdout'"
S0=$(sha256sum "$P0" | cut -d' ' -f1)
S1=$(sha256sum "$P1" | cut -d' ' -f1)
check "the merged file lists both parts with their archives' sha256, sorted by shard" \
    jqe "[.run.merged.parts[] | [.shard, .sha256, .archive]] ==
         [[0, \"$S0\", \"$(basename "$P0")\"], [1, \"$S1\", \"$(basename "$P1")\"]]" "$M"
check "run.merged names the plan, the count, and no pooling" \
    jqe ".run.merged.plan_sha256 == \"$PLAN\" and .run.merged.count == 2 and .run.merged.pooled == false" "$M"
check "a new run id, neither part's" \
    jqe '.run.id as $id | [.run.merged.parts[].run_id] | index($id) == null' "$M"
same "every measurement of the run is there once" \
    "$(jq -c '[.measurements[].id] | sort' "$M")" "$(jq -c '[.measurements[].id] | sort' "$RUN")"
check "each measurement carries its shard and host, and no machine (one machine type)" \
    jqe "all(.measurements[]; .host == \"$HOST\" and has(\"machine\") == false and
         .shard == (if .suite == \"size\" then 0 else 1 end))" "$M"
check "environment.machines: one machine type with both shards" \
    jqe '.environment.machines == [.environment.machines[0]] and .environment.machines[0].shards == [0, 1]
         and .environment.machines[0].id == "m1"' "$M"
check "the statistics are the parts' own (nothing pooled)" \
    bash -c "cmp -s <(jq -S '[.measurements[] | {id, metrics}] | sort_by(.id)' '$RUN') \
                    <(jq -S '[.measurements[] | {id, metrics}] | sort_by(.id)' '$M')"

# The schema: the merge's fields are in it; the shard fields bench writes (run.plan_sha256,
# run.shard, environment.host, a measurement's group) are added here while the schema lacks them.
SCHEMA="$TMP/schema.json"
jq 'if .["$defs"].measurement.properties | has("group") then . else
      .["$defs"].measurement.properties.group = {"type": "string"} end' \
    appliance/bench/results.schema.json >"$SCHEMA"
run python3 tests/bench/validate-results "$M" "$SCHEMA"
expect_rc 0 "the merged results validate against the schema (tests/bench/validate-results)"
ARCHIVE=$(ls "$TMP"/work/results/*.tar.zst 2>/dev/null | head -n 1)
check "merge --sign packed the merged run into a signed archive" test -s "${ARCHIVE:-/nonexistent}.minisig"
run "$APPLIANCE" verify "$ARCHIVE" -p "$TMP/k.pub"
expect_rc 0 "appliance verify accepts the merged archive"

# ---- refusals, each with its control ------------------------------------------------------------
merge() { run env -C "$TMP/work" "$APPLIANCE" merge "$@" --out "$TMP/work/m2"; }

check "a part re-signed by another key" part 1 2 lang "$PLAN" 1111bbbb "$TMP/other.key" "$TMP/q"
Q1=$(ls "$TMP"/q/*-1111bbbb.tar.zst)
merge "$P0" "$Q1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a part signed by a key that is not trusted is refused"
KEYID=$(sed -n 's/^untrusted comment: minisign public key //p' "$TMP/other.pub")
check "the refusal names the part and the key id" err_has "part $Q1 is signed by key $KEYID"
cat "$TMP/k.pub" "$TMP/other.pub" >"$TMP/both.pub"
merge "$P0" "$Q1" --expect 2 --trusted-keys "$TMP/both.pub"
expect_rc 0 "control: with that key trusted too, the same parts merge"

check "a part of another plan" part 1 2 lang "$(printf other | sha256sum | cut -d' ' -f1)" \
    2222cccc "$TMP/k.key" "$TMP/r"
R1=$(ls "$TMP"/r/*-2222cccc.tar.zst)
merge "$P0" "$R1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a part of another plan is refused"
check "the refusal names the part and the plan" grep -q "part .*2222cccc.tar.zst is of another plan" "$TMP/stderr"

mkdir -p "$TMP/copy" && cp "$P0" "$P0.minisig" "$TMP/copy/"
merge "$P0" "$TMP/copy/$(basename "$P0")" "$P1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a part given twice is refused"
check "the refusal names the shard and both parts" \
    grep -q "shard 0/2 is given twice: $(basename "$P0") and $(basename "$P0")" "$TMP/stderr"

rm -rf "$TMP/work/m2"
merge "$P0" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a missing shard is refused"
check "the refusal names the missing shard" grep -q "shard 1/2 is missing" "$TMP/stderr"
check "nothing was written for a refused merge" test ! -e "$TMP/work/m2/results.json"

merge "$P0" "$P1" --expect 3 --trusted-keys "$TMP/k.pub"
expect_rc 1 "another count than --expect is refused"
check "the refusal names the part, its shard and --expect" \
    grep -q "is shard 1/2, but --expect is 3\|is shard 0/2, but --expect is 3" "$TMP/stderr"
merge "$P0" "$P1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 0 "control: --expect 2 merges them"
check "and writes the merged results" test -s "$TMP/work/m2/results.json"

mkdir -p "$TMP/whole"
(cd "$TMP/work" && APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q pack "$TMP/work/run" \
    --key "$TMP/k.key" --out "$TMP/whole") >/dev/null
merge "$(ls "$TMP"/whole/*.tar.zst)" --expect 1 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a run that is not sharded is refused"
check "the refusal says so" grep -q "is not a sharded run" "$TMP/stderr"

finish
