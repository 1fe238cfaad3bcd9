#!/usr/bin/env bash
# appliance merge: the signed parts of a sharded campaign into one results file. Two parts of a
# real quick plan (sizes and the lang suite of a Go and a Python image), run as shard 0/2 and
# 1/2 and packed and signed with a key made here, are merged: the merged results validate against the schema, list both parts'
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

# The parts: the same plan run as shard 0/2 and shard 1/2 (bench --shard), each in a folder of
# its own, packed and signed with KEY into OUTDIR. The partition is bench's: which shard holds
# the size group and which the lang group is read from each part's run.shard.
HOST=$(uname -n)
shard_run() { # INDEX SUITES DIR: a real sharded run of the plan (SUITES on both images)
    rm -rf "$3" && mkdir -p "$3"
    env -C "$TMP/work" APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q bench --profile quick \
        --suite "$2" --images go-1.23-static,python-3.13 --shard "$1/2" --allow-noisy \
        --out "$3/results.json" >/dev/null 2>"$3.err"
}
sign_part() { # DIR KEY OUTDIR: DIR packed and signed with KEY into OUTDIR
    mkdir -p "$3"
    (cd "$TMP/work" && APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q pack "$1" \
        --key "$2" --out "$3") >/dev/null
}
check "shard 0/2 of the plan runs" shard_run 0 size,lang "$TMP/parts/s0"
check "shard 1/2 of the plan runs" shard_run 1 size,lang "$TMP/parts/s1"
check "part 0/2 packed and signed" sign_part "$TMP/parts/s0" "$TMP/k.key" "$TMP/p0"
check "part 1/2 packed and signed" sign_part "$TMP/parts/s1" "$TMP/k.key" "$TMP/p1"
P0=$(ls "$TMP"/p0/*.tar.zst)
P1=$(ls "$TMP"/p1/*.tar.zst)
PLAN=$(jq -r '.run.plan_sha256' "$TMP/parts/s0/results.json")
same "both shards and the unsharded run are of one plan" \
    "$(jq -r '.run.plan_sha256' "$TMP/parts/s1/results.json") $(jq -r '.run.plan_sha256' "$RUN")" "$PLAN $PLAN"
G0=$(jq -r '.run.shard.groups | join(",")' "$TMP/parts/s0/results.json")
G1=$(jq -r '.run.shard.groups | join(",")' "$TMP/parts/s1/results.json")
check "the two shards hold one group each: size and lang ($G0 / $G1)" \
    bash -c "[ '$G0,$G1' = 'size,lang' ] || [ '$G0,$G1' = 'lang,size' ]"

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
check "each measurement carries its shard (its group's) and host, and no machine (one machine type)" \
    jqe "all(.measurements[]; .host == \"$HOST\" and has(\"machine\") == false and
         .shard == (if .group == \"$G0\" then 0 else 1 end))" "$M"
check "environment.machines: one machine type with both shards" \
    jqe '.environment.machines == [.environment.machines[0]] and .environment.machines[0].shards == [0, 1]
         and .environment.machines[0].id == "m1"' "$M"
check "the statistics are the parts' own (nothing pooled)" \
    bash -c "cmp -s <(jq -s -S '[.[].measurements[] | {id, metrics}] | sort_by(.id)' \
                         '$TMP/parts/s0/results.json' '$TMP/parts/s1/results.json') \
                    <(jq -S '[.measurements[] | {id, metrics}] | sort_by(.id)' '$M')"
CSV="$TMP/work/merged/results.csv"
check "results.csv beside it, with bench's header (no machine column: one machine type)" bash -c \
    "head -n 1 '$CSV' | grep -qx 'id,suite,workload,image,language,metric,unit,n,median,min,max,mad,cv,ci95_lo,ci95_hi,unstable,ci95_coverage,ci95_status,status'"
same "... and one row per measurement and metric of the merged results" \
    "$(tail -n +2 "$CSV" | cut -d, -f1,6 | sort)" \
    "$(jq -r '.measurements[] | .id as $id | .metrics | to_entries[] |
              select(.value.stats != null) | "\($id),\(.key)"' "$M" | sort)"

run python3 tests/bench/validate-results "$M"
expect_rc 0 "the merged results validate against the schema (tests/bench/validate-results)"
ARCHIVE=$(ls "$TMP"/work/results/*.tar.zst 2>/dev/null | head -n 1)
check "merge --sign packed the merged run into a signed archive" test -s "${ARCHIVE:-/nonexistent}.minisig"
run "$APPLIANCE" verify "$ARCHIVE" -p "$TMP/k.pub"
expect_rc 0 "appliance verify accepts the merged archive"

# ---- refusals, each with its control ------------------------------------------------------------
merge() { run env -C "$TMP/work" "$APPLIANCE" merge "$@" --out "$TMP/work/m2"; }

check "shard 1 packed again, signed by another key" sign_part "$TMP/parts/s1" "$TMP/other.key" "$TMP/q"
Q1=$(ls "$TMP"/q/*.tar.zst)
merge "$P0" "$Q1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a part signed by a key that is not trusted is refused"
KEYID=$(sed -n 's/^untrusted comment: minisign public key //p' "$TMP/other.pub")
check "the refusal names the part and the key id" err_has "part $Q1 is signed by key $KEYID"
cat "$TMP/k.pub" "$TMP/other.pub" >"$TMP/both.pub"
merge "$P0" "$Q1" --expect 2 --trusted-keys "$TMP/both.pub"
expect_rc 0 "control: with that key trusted too, the same parts merge"

check "shard 1/2 of another plan (the size suite alone) runs" shard_run 1 size "$TMP/parts/other"
check "and is packed and signed" sign_part "$TMP/parts/other" "$TMP/k.key" "$TMP/r"
R1=$(ls "$TMP"/r/*.tar.zst)
merge "$P0" "$R1" --expect 2 --trusted-keys "$TMP/k.pub"
expect_rc 1 "a part of another plan is refused"
check "the refusal names the part and the plan" grep -q "part $(basename "$R1") is of another plan\|part $(basename "$P0") is of another plan" "$TMP/stderr"

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
