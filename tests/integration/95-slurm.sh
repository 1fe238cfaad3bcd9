#!/usr/bin/env bash
# The campaign's engine adapters. Kubernetes: the rendered manifests against the golden files
# (tests/golden/k8s, regenerated as docs/scale-out.md says) and against the Kubernetes API
# schema of batch/v1 Job (tests/k8s, fetched by npm into the download cache). Slurm: the scripts of
# `slurm submit --dry-run` (a hostile partition stays a value); then, on a real loopback
# cluster (lib-slurm.sh), a campaign whose tasks fail fast (its claims file is broken): status
# reports them failed, and resume submits exactly the shards without a part.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-slurm.sh"
cd "$ROOT" || exit 1

# ---- Kubernetes ----
run "$APPLIANCE" k8s render --shards 3 --profile quick --image appliance:test \
    --results-claim appliance-results --out "$TMP/k8s"
expect_rc 0 "k8s render writes the manifests"
for f in shards-job.json merge-job.json; do
    check "k8s $f is the golden one" cmp -s "$TMP/k8s/$f" "tests/golden/k8s/$f"
done
S=$TMP/k8s/shards-job.json
check "the shards Job is an Indexed batch/v1 Job of 3 completions" jqe \
    '.apiVersion == "batch/v1" and .kind == "Job" and .spec.completionMode == "Indexed" and .spec.completions == 3 and .spec.parallelism == 3' "$S"
check "pod I runs shard \$(JOB_COMPLETION_INDEX)/3, privileged, with the results volume" jqe \
    '.spec.template.spec.containers[0] | (.args[0] == "$(JOB_COMPLETION_INDEX)/3") and .securityContext.privileged and (.volumeMounts[0].mountPath == "/results")' "$S"
check "the merge Job expects 3 parts and is not privileged" jqe \
    '.spec.template.spec.containers[0] | (.args == ["3"]) and (.securityContext == null)' "$TMP/k8s/merge-job.json"
check "the merge Job gives up after two days by default (activeDeadlineSeconds)" jqe \
    '.spec.activeDeadlineSeconds == 172800' "$TMP/k8s/merge-job.json"
run "$APPLIANCE" k8s render --shards 2 --profile quick --image appliance:test --out "$TMP/k8s2" \
    --claims 'x$(HOME)' --merge-deadline 3600
expect_rc 0 "k8s render --shards 2"
check "--merge-deadline 3600 is the merge Job's deadline" jqe \
    '.spec.activeDeadlineSeconds == 3600' "$TMP/k8s2/merge-job.json"
run "$APPLIANCE" k8s render --shards 2 --merge-deadline 0 --out "$TMP/k8s-bad"
expect_rc 2 "--merge-deadline 0 is a usage error"
check "control: 2 shards differ from the golden 3" bash -c "! cmp -s '$TMP/k8s2/shards-job.json' tests/golden/k8s/shards-job.json"
check "a '\$(' in a value is escaped from Kubernetes' expansion" jqe \
    '.spec.template.spec.containers[0].args[2] == "x$$(HOME)"' "$TMP/k8s2/shards-job.json"
# The Kubernetes API schema of batch/v1 Job (kubernetes-models, pinned by tests/k8s/package-lock.json
# and installed into the download cache by the script of `make k8s-schema`), strict about fields
# the schema does not name; each denial beside the valid manifests as its control.
if K8S_MODULES=$(tests/k8s/install-schema 2>"$TMP/k8s-install.err"); then
    run_job() { node tests/k8s/validate-job.mjs --modules "$K8S_MODULES" "$@" >"$TMP/k8s-valid.out" 2>&1; }
    valid_job() { run_job "$@" || { sed 's/^/#   /' "$TMP/k8s-valid.out"; return 1; }; }
    invalid_job() { ! run_job "$@" && grep -q "^invalid " "$TMP/k8s-valid.out"; }
    check "the shards Job and the merge Job validate against the batch/v1 Job schema" \
        valid_job "$TMP/k8s/shards-job.json" "$TMP/k8s/merge-job.json"
    check "... and the 2-shard render (an escaped value) too" valid_job "$TMP/k8s2/shards-job.json"
    jq '.spec.completions = "3"' "$S" >"$TMP/k8s-string.json"
    check "denied: spec.completions as a string" invalid_job "$TMP/k8s-string.json"
    check "... named in the errors" grep -q '^  /spec/completions: type' "$TMP/k8s-valid.out"
    jq '.spec.completionz = 3' "$S" >"$TMP/k8s-typo.json"
    check "denied: a misspelt field (spec.completionz)" invalid_job "$TMP/k8s-typo.json"
    check "... named in the errors" grep -q '^  /spec/completionz: not a field' "$TMP/k8s-valid.out"
    jq '.spec.template.spec.containers[0].imagePullPolicyy = "Always"' "$S" >"$TMP/k8s-typo2.json"
    check "denied: a misspelt field deep in the pod (imagePullPolicyy)" invalid_job "$TMP/k8s-typo2.json"
    jq '.spec.template.metadata.labels["example.org/any-key"] = "v"' "$S" >"$TMP/k8s-label.json"
    check "control: a new label is no unknown field (labels is a map)" valid_job "$TMP/k8s-label.json"
else
    fail "the Kubernetes schema of batch/v1 Job is installed (make k8s-schema)"
    sed 's/^/#   /' "$TMP/k8s-install.err" | tail -n 20
fi

# ---- Slurm, no cluster needed ----
HOSTILE='x; rm -rf /'
run "$APPLIANCE" slurm submit --dry-run --profile quick --shards 3 --max-parallel 2 \
    --partition "$HOSTILE" --constraint a --results "$TMP/dry"
expect_rc 0 "slurm submit --dry-run prints the scripts"
check "--dry-run submits and writes nothing" test ! -e "$TMP/dry"
awk '/^# .*shards.sbatch$/ {on = 1; next} /^# .*merge.sbatch$/ {on = 0} on' "$TMP/stdout" >"$TMP/array.sh"
check "the array covers shards 0-2, 2 at a time" grep -qx '#SBATCH --array=0-2%2' "$TMP/array.sh"
check "the tasks run alone on one node with the constraint" bash -c \
    "grep -qx '#SBATCH --exclusive' '$TMP/array.sh' && grep -qx '#SBATCH --nodes=1' '$TMP/array.sh' && grep -qx '#SBATCH --constraint=\"a\"' '$TMP/array.sh'"
check "the hostile partition is a quoted #SBATCH value" grep -qxF "#SBATCH --partition=\"$HOSTILE\"" "$TMP/array.sh"
check "the hostile partition is nowhere in the shell part" bash -c "! grep -v '^#' '$TMP/array.sh' | grep -qF 'x; rm -rf /'"
check "task I runs reproduce --shard I/N" grep -qF -- "--shard \"\$i/\$n\" --out \"\$out\" \$resume" "$TMP/array.sh"
check "the array script is valid sh" sh -n "$TMP/array.sh"
check "the merge runs merge --expect 3 --sign" grep -qF -- 'merge "$dir"/parts/*.tar.zst --expect 3 --out "$dir/merged" --sign --archive-dir "$dir"' "$TMP/stdout"
run "$APPLIANCE" slurm submit --dry-run --partition 'a"b' --results "$TMP/dry"
expect_rc 1 "a partition holding '\"' is refused"
check "the refusal names it and says what to do" err_has 'Hint: give the partition'
mkdir -p "$TMP/nopath"
run env PATH="$TMP/nopath" "$APPLIANCE" slurm submit --profile quick --results "$TMP/nopath-dir"
expect_rc 1 "submit without sbatch on PATH fails"
check "the error says sbatch is not on PATH and how to fix it" \
    bash -c "grep -qF 'sbatch is not on PATH' '$TMP/stderr' && grep -qF 'Hint:' '$TMP/stderr'"

# ---- Slurm, on a loopback cluster ----
if ! slurm_start; then
    fail "the loopback Slurm cluster starts: $SLURM_WHY"
    finish
    exit 1
fi
pass "the loopback Slurm cluster starts (n1 and n2 idle)"
run "$APPLIANCE" slurm submit --profile quick --shards 2 --partition "$HOSTILE" --results "$TMP/hostile"
expect_rc 1 "a submit to the hostile partition fails"
check "the error carries sbatch's own words" err_has 'invalid partition'
check "nothing was submitted" test -z "$(squeue --noheader --states=all --format=%i)"

printf '{ not json\n' >"$TMP/broken.claims.json"
C=$TMP/campaign
run "$APPLIANCE" slurm submit --profile quick --shards 3 --claims "$TMP/broken.claims.json" --results "$C"
expect_rc 0 "slurm submit submits the array and the merge"
ARRAY=$(jq -r '.submissions[0].array_job' "$C/campaign.json")
MERGE=$(jq -r '.merge_job' "$C/campaign.json")
check "submit prints the job ids it recorded" bash -c \
    "grep -qx 'shards: job array $ARRAY (3 tasks)' '$TMP/stdout' && grep -qx 'merge: job $MERGE (after $ARRAY)' '$TMP/stdout'"
check "the merge job depends on the array" bash -c \
    "squeue --noheader --jobs=$MERGE --format=%E | grep -q 'afterok:$ARRAY'"
check "campaign.json records the plan" jqe \
    '.profile == "quick" and .shards == 3 and (.commands.shard | length) > 0 and (.checkout | startswith("/"))' "$C/campaign.json"
check "the array's tasks end" slurm_wait_gone "$ARRAY" 60
run "$APPLIANCE" slurm status --results "$C"
expect_rc 0 "slurm status"
check "status reports every shard failed, read from squeue (no accounting storage)" \
    test "$(grep -cE '^shard [0-2]/3 .* FAILED .*\(from squeue\)' "$TMP/stdout")" -eq 3
check "status reports the merge pending" grep -qE "^merge +job $MERGE +PENDING" "$TMP/stdout"
cp "$TMP/stdout" "$TMP/status1"; sed "s/^/#   /" "$TMP/status1"

# Shard 1 leaves a part (as a task that ended well does): resume submits 0 and 2 only.
: >"$C/parts/shard-1-of-3.tar.zst"
: >"$C/parts/shard-1-of-3.tar.zst.minisig"
run "$APPLIANCE" slurm resume --results "$C"
expect_rc 0 "slurm resume"
ARRAY2=$(jq -r '.submissions[1].array_job' "$C/campaign.json")
MERGE2=$(jq -r '.merge_job' "$C/campaign.json")
check "resume submits exactly the shards without a part" jqe '.submissions[1].indices == [0, 2]' "$C/campaign.json"
check "its script's array is 0,2" grep -qx '#SBATCH --array=0,2' "$C/$(jq -r '.submissions[1].script' "$C/campaign.json")"
check "resume prints the new ids" bash -c \
    "grep -qx 'resubmitted shards 0,2 of 3: array job $ARRAY2' '$TMP/stdout' && grep -qF 'merge job $MERGE2 (after $ARRAY2; replaces job $MERGE)' '$TMP/stdout'"
check "the old merge job is cancelled" bash -c \
    "squeue --noheader --states=all --jobs=$MERGE --format=%T | grep -qx CANCELLED"
check "the new merge depends on the new array" bash -c \
    "squeue --noheader --jobs=$MERGE2 --format=%E | grep -q 'afterok:$ARRAY2'"
check "the new tasks end" slurm_wait_gone "$ARRAY2" 60
run "$APPLIANCE" slurm status --results "$C"
check "status: shard 1 has its part, 0 and 2 failed again in the new array" bash -c \
    "grep -qE '^shard 1/3 .*part: present' '$TMP/stdout' && grep -qE '^shard 0/3 +job ${ARRAY2}_0 +FAILED' '$TMP/stdout' && grep -qE '^shard 2/3 +job ${ARRAY2}_2 +FAILED' '$TMP/stdout'"
run "$APPLIANCE" slurm submit --profile quick --shards 3 --claims "$TMP/broken.claims.json" --results "$C"
expect_rc 1 "a second submit into the same DIR is refused"
check "the refusal points at status and resume" err_has 'appliance slurm resume'
slurm_stop
check "the cluster is stopped: no daemon of its pid files is left" test -z "${SLURM_DIR:-}"
finish
