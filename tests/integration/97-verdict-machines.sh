#!/usr/bin/env bash
# Verdicts of results merged from two machine types (docs/claims.md, "Several machine types"):
# synthetic merged results (environment.machines m1 and m2, every measurement naming its
# machine) where Python is 20x slower than Go on m1 and 40x on m2, judged against a claim of
# 20x: it holds on m1 and is contradicted on m2; appliance verdict prints the counts per
# machine; verdicts.json validates against verdicts.schema.json and names the machine of every
# verdict; report.md and report.html give the claim one row with a column group per machine,
# headed by its CPU model and kernel; judging again gives the same bytes; a signed archive of
# the run is accepted by appliance verify (which judges it again) and refused once its
# verdicts are edited. Controls: the same measurements of one machine judge as a single run
# (no machine keys), and a measurement naming an unlisted machine is refused (exit 1, naming
# it). No root, no images; needs jq and python3-jsonschema (make deps).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -x "$APPLIANCE" ] || { fail "build first: $APPLIANCE is missing"; finish; exit 1; }

validate() { # SCHEMA DOC
    python3 - "$1" "$2" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors[:5]:
    print("%s: %s" % (list(e.path), e.message[:300]))
sys.exit(1 if errors else 0)
PY
}
invalid() { ! validate "$@" >/dev/null; }

# ---- merged results of two machine types ------------------------------------------------------
# times CENTRE: six samples around it; figure ID MACHINE CENTRE: one cpu measurement.
jq -n '
  def samples(c): [0.98, 0.99, 1.0, 1.0, 1.01, 1.02] | map(. * c);
  def figure(id; machine; c): {id: id, suite: "cpu", workload: "a", machine: machine, shard: 0,
    host: ("node-" + machine), params: {n: 10},
    metrics: {wall_s: {unit: "s", samples: samples(c), status: "ok",
      stats: {n: 6, median: c, ci95_lo: (0.98 * c), ci95_hi: (1.02 * c), ci95_coverage: 0.96875,
              n_too_small: false}}}};
  {schema: "appliance-results-2",
   run: {id: "20260101T000000Z-00000001", profile: "quick", started: "2026-01-01T00:00:00Z",
         ended: "2026-01-01T01:00:00Z", repeat: 6, warmup: 1, suites: ["cpu"]},
   plan: {}, warnings: [],
   environment: {cpu_model: "CPU A", kernel: "6.1.0", cgroup: "v2", cpus_online: 2,
     machines: [
       {id: "m1", cpu_model: "CPU A", kernel: "6.1.0", cgroup: "v2", cpus_online: 2,
        hosts: ["node-m1"], shards: [0]},
       {id: "m2", cpu_model: "CPU B <fast>", kernel: "6.12.0", cgroup: "v2", cpus_online: 4,
        hosts: ["node-m2"], shards: [0]}]},
   measurements: [figure("cpu/a/go"; "m1"; 1), figure("cpu/a/python"; "m1"; 20),
                  figure("cpu/a/go"; "m2"; 1), figure("cpu/a/python"; "m2"; 40)]}' \
    >"$TMP/merged.json"
jq -n '{
  schema: "appliance-claims-1",
  source: {title: "Two machines", url: "https://example.invalid/two", date: "2026-01-01",
           document: "two.txt", sha256: ("0" * 64)},
  defaults: {tolerance_pct: 10},
  sections: [{id: "cpu", title: "CPU"}],
  claims: [{id: "python-20x", section: "cpu", where: "line 1", quote: "Python is 20x slower.",
            kind: "ratio", metric: "wall_s", numerator: "cpu/a/python", denominator: "cpu/a/go",
            published: {value: 20, unit: "x"}, portable: true}],
  untestable: []}' >"$TMP/two.claims.json"

run "$APPLIANCE" verdict "$TMP/merged.json" --claims "$TMP/two.claims.json" --out "$TMP/out"
expect_rc 0 "appliance verdict judged results of two machine types"
check "... prints m1's counts: the claim holds there" \
    grep -qF "m1 (CPU A, kernel 6.1.0): 1 holds, 0 contradicted" "$TMP/stdout"
check "... and m2's: contradicted there" \
    grep -qF "m2 (CPU B <fast>, kernel 6.12.0): 0 holds, 1 contradicted" "$TMP/stdout"
check "... the table names the claim on each machine" \
    sh -c "grep -q 'python-20x on m1' '$TMP/stdout' && grep -q 'python-20x on m2' '$TMP/stdout'"
V=$TMP/out/verdicts.json
check "verdicts.json validates against verdicts.schema.json" \
    validate appliance/report/verdicts.schema.json "$V"
same "... two verdicts, m1 then m2" "$(jq -c '[.verdicts[] | [.machine, .verdict]]' "$V")" \
    '[["m1","holds"],["m2","contradicted"]]'
same "... the machines with their CPU model, kernel and counts" \
    "$(jq -c '[.machines[] | [.id, .cpu_model, .kernel, .counts.holds, .counts.contradicted]]' "$V")" \
    '[["m1","CPU A","6.1.0",1,0],["m2","CPU B <fast>","6.12.0",0,1]]'
same "... false-discovery control within each machine" "$(jq -r '.fdr.within' "$V")" machine
# A verdicts file that says machines but whose verdicts name none is refused by the schema.
jq 'del(.verdicts[].machine)' "$V" >"$TMP/bad-verdicts.json"
check "... (control: verdicts without their machine do not validate)" \
    invalid appliance/report/verdicts.schema.json "$TMP/bad-verdicts.json"

MD=$TMP/out/report.md
same "report.md: one row for the claim" "$(grep -c '^| python-20x |' "$MD")" 1
check "... a column group per machine, headed by its CPU model and kernel" grep -qF \
    '| claim | quote | published | m1: CPU A, kernel 6.1.0<br>measured [interval] coverage | m1: measured / published | m1: verdict | m1: why | m2: CPU B &lt;fast&gt;, kernel 6.12.0<br>measured [interval] coverage |' \
    "$MD"
check "... the row: holds on m1, then contradicted on m2" \
    grep -qE '^\| python-20x \|.*\| 20\.0 x .*✓ holds .*\| 40\.0 x .*✗ contradicted' "$MD"
check "... the summary counts each machine in its column" \
    grep -qF '| verdict | m1: CPU A, kernel 6.1.0 | m2: CPU B &lt;fast&gt;, kernel 6.12.0 |' "$MD"
check "... the conditions list each machine type" \
    grep -qF '| machine m2 | CPU B &lt;fast&gt;, kernel 6.12.0, cgroup v2, 4 CPUs online; hosts: node-m2; shards: 0 |' "$MD"
HTML=$TMP/out/report.html
same "report.html: one claim row" "$(grep -o '<tr class="claim"' "$HTML" | wc -l)" 1
check "... a column group per machine, its CPU model and kernel escaped" grep -qF \
    '<th colspan="4" class="machine" scope="colgroup" data-machine="m2">m2: CPU B &lt;fast&gt;, kernel 6.12.0</th>' \
    "$HTML"
check "... holds in m1's group, contradicted in m2's" sh -c \
    "grep -qF 'class=\"v holds\" data-machine=\"m1\"' '$HTML' && grep -qF 'class=\"v contradicted\" data-machine=\"m2\"' '$HTML'"
run "$APPLIANCE" verdict "$TMP/merged.json" --claims "$TMP/two.claims.json" --out "$TMP/again"
expect_rc 0 "judging again"
for f in verdicts.json report.md report.html; do
    check "... gives the same $f byte for byte" cmp -s "$TMP/out/$f" "$TMP/again/$f"
done

# ---- appliance verify judges the archive again -------------------------------------------------
KEY=$TMP/keys/appliance.key
PUB=$TMP/keys/appliance.pub
mkdir -p "$TMP/keys" "$TMP/run"
run "$APPLIANCE" keygen -W -p "$PUB" -s "$KEY"
expect_rc 0 "a signing key pair"
cp "$TMP/merged.json" "$TMP/run/results.json"
cp "$TMP/two.claims.json" "$TMP/run/claims.json"
cp "$TMP/out/verdicts.json" "$TMP/out/report.md" "$TMP/out/report.html" "$TMP/run/"
run "$APPLIANCE" pack "$TMP/run" --key "$KEY" --out "$TMP/packed"
expect_rc 0 "pack the judged run"
ARCHIVE=$(ls "$TMP"/packed/*.tar.zst 2>/dev/null | head -n 1)
run "$APPLIANCE" verify "$ARCHIVE" -p "$PUB"
expect_rc 0 "appliance verify accepts it: judging again gives its verdicts"
jq '.verdicts[1].verdict = "holds"' "$TMP/out/verdicts.json" >"$TMP/run/verdicts.json"
run "$APPLIANCE" pack "$TMP/run" --key "$KEY" --out "$TMP/edited"
expect_rc 0 "pack it again with m2's verdict edited"
run "$APPLIANCE" verify "$(ls "$TMP"/edited/*.tar.zst | head -n 1)" -p "$PUB"
expect_rc 1 "... verify refuses it"
check "... naming the verdicts check" err_has "verdicts check failed"

# ---- controls ----------------------------------------------------------------------------------
jq 'del(.environment.machines) | .measurements |= map(select(.machine == "m1") | del(.machine))' \
    "$TMP/merged.json" >"$TMP/single.json"
run "$APPLIANCE" verdict "$TMP/single.json" --claims "$TMP/two.claims.json" --out "$TMP/single"
expect_rc 0 "one machine's measurements judge as a single run"
check "... no machine keys in its verdicts.json" \
    jqe '(has("machines") | not) and (.fdr | has("within") | not) and (.verdicts[0] | has("machine") | not) and .verdicts[0].verdict == "holds"' \
    "$TMP/single/verdicts.json"
check "... which validates" validate appliance/report/verdicts.schema.json "$TMP/single/verdicts.json"
check "... and prints the counts as a single run does" \
    grep -qE '^1 holds, 0 contradicted, 0 inconclusive' "$TMP/stdout"
jq '.measurements[3].machine = "m9"' "$TMP/merged.json" >"$TMP/unlisted.json"
run "$APPLIANCE" verdict "$TMP/unlisted.json" --claims "$TMP/two.claims.json" --out "$TMP/unlisted"
expect_rc 1 "a measurement naming an unlisted machine is refused"
check "... naming the machine and the measurement" \
    sh -c "grep -qF 'machine m9' '$TMP/stderr' && grep -qF 'cpu/a/python' '$TMP/stderr'"
check "... and nothing is written" test ! -e "$TMP/unlisted/verdicts.json"
finish
