#!/usr/bin/env bash
# A whole campaign on a real loopback Slurm cluster (lib-slurm.sh: slurmctld and two slurmd,
# n1 and n2): the quick profile of the article's claims in 2 and in 3 shards, each shard a job
# array task that packs and signs its part, then the merge job. Checked against an unsharded
# quick run of the same claims: the same measurements, every group exactly once and measured
# by one shard on one node, the merged results valid, the decisive verdicts the same, and the
# merged archive accepted by `appliance verify`. Faults: a shard cancelled with scancel leaves
# the merge waiting and `appliance merge` names the missing shard, `slurm resume` completes
# the campaign; a part re-signed by an unknown key, a part of another plan and a duplicated
# part are each refused (with the accepted merge as their control).
#
# The array runs one task at a time (--max-parallel 1): both fake nodes share this machine's
# CPUs, and two shards measured at once would each be the other's noise.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-slurm.sh"
cd "$ROOT" || exit 1
require_root_and "$APPLIANCE"
export APPLIANCE_KEY=$TMP/k.key
run "$APPLIANCE" keygen -p "$TMP/k.pub" -s "$TMP/k.key" -W
expect_rc 0 "a signing key for the campaign"
run "$APPLIANCE" keygen -p "$TMP/other.pub" -s "$TMP/other.key" -W
expect_rc 0 "a second key, trusted by nobody"
VALIDATE=$ROOT/tests/bench/validate-results

# The unsharded reference: the same claims, the same profile, on this machine.
run "$APPLIANCE" reproduce --profile quick --allow-noisy --out "$TMP/whole"
expect_rc 0 "the unsharded quick run of the article's claims"
W=$TMP/whole/results.json

if ! slurm_start; then
    fail "the loopback Slurm cluster starts: $SLURM_WHY"
    finish
    exit 1
fi
pass "the loopback Slurm cluster starts (n1 and n2 idle)"

# wait_job JOBID SECONDS: until Slurm lists the job no more (pending or running).
wait_job() { slurm_wait_gone "$1" "$2"; }

# merged_checks DIR N: the checks of a finished campaign of N shards in DIR.
merged_checks() {
    local dir=$1 n=$2 m=$1/merged/results.json
    check "$n shards: the merge job wrote the merged results" test -s "$m"
    [ -s "$m" ] || return
    check "$n shards: the merged results validate against the schema" "$VALIDATE" "$m"
    same "$n shards: the merged run lists $n parts, each with its archive's sha256" \
        "$(jq -r '[.run.merged.parts[] | select(.sha256 | test("^[0-9a-f]{64}$")) | .shard] | sort | map(tostring) | join(",")' "$m")" \
        "$(seq -s, 0 $((n - 1)))"
    local p
    for p in "$dir"/parts/shard-*-of-"$n".tar.zst; do
        same "$n shards: the provenance holds the sha256 of $(basename "$p")" \
            "$(jq -r --arg f "$(basename "$p")" '.run.merged.parts[] | select(.archive == $f) | .sha256' "$m")" \
            "$(sha256sum "$p" | cut -d' ' -f1)"
    done
    same "$n shards: the same measurements as the unsharded run" \
        "$(jq -r '[.measurements[].id] | sort | join(" ")' "$m")" \
        "$(jq -r '[.measurements[].id] | sort | join(" ")' "$W")"
    same "$n shards: the same groups as the unsharded run" \
        "$(jq -r '[.measurements[].group] | unique | join(" ")' "$m")" \
        "$(jq -r '[.measurements[].group] | unique | join(" ")' "$W")"
    check "$n shards: every group measured by exactly one shard" jqe \
        '[.measurements | group_by(.group)[] | map(.shard) | unique | length] | all(. == 1)' "$m"
    check "$n shards: every shard ran on one Slurm node" jqe \
        '[.run.merged.parts[] | .node] | all(. == "n1" or . == "n2")' "$m"
    same "$n shards: one plan digest, the unsharded run's" \
        "$(jq -r '[.run.merged.plan_sha256]|unique|join(" ")' "$m")" "$(jq -r '.run.plan_sha256' "$W")"
    # A decisive verdict (holds or contradicted) on both sides must agree; a claim inconclusive
    # on either side has intervals that allow no comparison.
    local flips
    flips=$(jq -rn --slurpfile a "$dir/merged/verdicts.json" --slurpfile b "$TMP/whole/verdicts.json" '
        def d: [.verdicts[]? // .claims[]? | select(.verdict == "holds" or .verdict == "contradicted")
                | {key: .id, value: .verdict}] | from_entries;
        ($a[0] | d) as $x | ($b[0] | d) as $y
        | [$x | keys[] | select($y[.] != null and $y[.] != $x[.])] | join(" ")')
    local both
    both=$(jq -rn --slurpfile a "$dir/merged/verdicts.json" --slurpfile b "$TMP/whole/verdicts.json" '
        def d: [.verdicts[]? // .claims[]? | select(.verdict == "holds" or .verdict == "contradicted")
                | {key: .id, value: .verdict}] | from_entries;
        ($a[0] | d) as $x | ($b[0] | d) as $y | [$x | keys[] | select($y[.] != null)] | length')
    check "$n shards: decisive verdicts on both sides exist ($both claims)" test "${both:-0}" -gt 0
    same "$n shards: no decisive verdict differs from the unsharded run's" "none${flips}" "none"
    local archive
    archive=$(sed -n "s/^archive: *\([^ ]*\.tar\.zst\).*/\1/p" "$dir/logs/merge.out" | head -n 1)
    check "$n shards: the merge job signed the merged run ($archive)" test -s "$archive"
    run "$APPLIANCE" verify "$archive" -p "$TMP/k.pub"
    expect_rc 0 "$n shards: appliance verify accepts the merged archive"
}

# ---- 2 shards: one task cancelled, then resumed ----
C2=$TMP/c2
run "$APPLIANCE" slurm submit --profile quick --shards 2 --max-parallel 1 --allow-noisy --results "$C2"
expect_rc 0 "slurm submit: 2 shards and the merge"
ARRAY=$(jq -r '.submissions[0].array_job' "$C2/campaign.json")
MERGE=$(jq -r '.merge_job' "$C2/campaign.json")
# Task 1 waits for task 0 (one at a time): cancel it before it starts.
run scancel "${ARRAY}_1"
expect_rc 0 "scancel of array task 1"
check "the surviving task ends" wait_job "$ARRAY" 900
check "shard 0 left its part" test -s "$C2/parts/shard-0-of-2.tar.zst"
check "shard 1 left none" test ! -e "$C2/parts/shard-1-of-2.tar.zst"
# Slurm drops a pending array task that is cancelled (it leaves no record), so the array ends
# "well" without it: the merge job either still waits on its dependency, or runs and fails,
# naming the missing shard.
MSTATE=
for _ in $(seq 1 90); do
    MSTATE=$(squeue --noheader --states=all --jobs="$MERGE" --format='%T %r' 2>/dev/null)
    case $MSTATE in
    "PENDING DependencyNeverSatisfied" | COMPLETED* | FAILED* | CANCELLED*) break ;;
    esac
    sleep 1
done
case $MSTATE in
"PENDING DependencyNeverSatisfied") pass "the merge job waits: its dependency is never satisfied" ;;
*) check "the merge job ended ($MSTATE) naming the missing shard" \
    grep -qF 'shard 1/2 is missing' "$C2/logs/merge.err" ;;
esac
run "$APPLIANCE" slurm status --results "$C2"
check "slurm status shows shard 0 done and shard 1 without a part" bash -c \
    "grep -qE '^shard 0/2 .*part: present' '$TMP/stdout' && grep -qE '^shard 1/2 .*part: none' '$TMP/stdout'"
sed 's/^/#   /' "$TMP/stdout"
run "$APPLIANCE" merge "$C2"/parts/*.tar.zst --expect 2 --trusted-keys "$TMP/k.pub" --out "$TMP/m-missing"
expect_rc 1 "merge of the parts present is refused"
check "the refusal names the missing shard" err_has 'shard 1/2 is missing'
check "a refused merge writes no results" test ! -e "$TMP/m-missing/results.json"
run "$APPLIANCE" slurm resume --results "$C2"
expect_rc 0 "slurm resume"
check "resume resubmits shard 1 alone" jqe '.submissions[1].indices == [1]' "$C2/campaign.json"
MERGE2=$(jq -r '.merge_job' "$C2/campaign.json")
check "the new merge job ends" wait_job "$MERGE2" 900
check "shard 1 left its part after resume" test -s "$C2/parts/shard-1-of-2.tar.zst"
merged_checks "$C2" 2

# ---- 3 shards ----
C3=$TMP/c3
run "$APPLIANCE" slurm submit --profile quick --shards 3 --max-parallel 1 --allow-noisy --results "$C3"
expect_rc 0 "slurm submit: 3 shards and the merge"
MERGE3=$(jq -r '.merge_job' "$C3/campaign.json")
check "the 3-shard campaign's merge job ends" wait_job "$MERGE3" 900
merged_checks "$C3" 3
slurm_stop

# ---- Parts refused (the accepted 2-shard merge above is the control) ----
P0=$C2/parts/shard-0-of-2.tar.zst
P1=$C2/parts/shard-1-of-2.tar.zst
run "$APPLIANCE" merge "$P0" "$P1" --expect 2 --trusted-keys "$TMP/k.pub" --out "$TMP/m-ok"
expect_rc 0 "control: the two real parts merge"
# Re-signed by an unknown key: the same run packed again with the other key.
mkdir -p "$TMP/resign"
run "$APPLIANCE" pack "$C2/shard-1-of-2" --key "$TMP/other.key" --out "$TMP/resign"
expect_rc 0 "shard 1 packed again with a key nobody trusts"
OTHER=$(ls "$TMP"/resign/*.tar.zst)
run "$APPLIANCE" merge "$P0" "$OTHER" --expect 2 --trusted-keys "$TMP/k.pub" --out "$TMP/m-key"
expect_rc 1 "a part signed by an unknown key is refused"
check "the refusal names the part" err_has "$(basename "$OTHER")"
# Another plan: shard 1 of 3 is of the same plan but another count; a shard 1/2 of another
# plan comes from a run of the size suite alone.
mkdir -p "$TMP/size-run"
run "$APPLIANCE" bench --profile quick --suite size --allow-noisy --shard 1/2 \
    --out "$TMP/size-run/results.json"
expect_rc 0 "a shard of another plan (the size suite alone)"
run "$APPLIANCE" pack "$TMP/size-run" --out "$TMP/size-part"
expect_rc 0 "packed and signed with the trusted key"
run "$APPLIANCE" merge "$P0" "$TMP"/size-part/*.tar.zst --expect 2 --trusted-keys "$TMP/k.pub" --out "$TMP/m-plan"
expect_rc 1 "a part of another plan is refused"
check "the refusal says the plans differ" err_has 'plan'
run "$APPLIANCE" merge "$P0" "$P0" "$P1" --expect 2 --trusted-keys "$TMP/k.pub" --out "$TMP/m-dup"
expect_rc 1 "a duplicated part is refused"
check "the refusal names shard 0 given twice" err_has 'shard 0/2 is given twice'
check "no refused merge left results" bash -c \
    "! ls '$TMP'/m-key/results.json '$TMP'/m-plan/results.json '$TMP'/m-dup/results.json 2>/dev/null"
finish
