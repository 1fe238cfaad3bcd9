#!/usr/bin/env bash
# appliance compare and rerun: two real quick runs (sizes and nbody, Go and CPython, 5 samples
# each) compared; a run against itself shows no change; a copy of a run with every
# CPU-suite sample doubled is significantly slower (and its memory larger), and the reverse
# faster; a copy 3 % slower is no change by the minimum effect unless --min-effect lowers it; --json is one valid object; differing runs are warned about; bad input is an error
# and bad usage exit 2. Then a signed archive of a run (appliance pack) is compared by content
# and rerun: verified first, the recorded plan run again, and compared.
# The bench runs pass --allow-noisy: a shared machine's steal must not fail a functional check.
# Needs root, stock minisign and the images go-1.23-static, go-1.23-hello and python-3.13
# (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

"$APPLIANCE" -q image build go-1.23-static go-1.23-hello python-3.13 >/dev/null ||
    { fail "building the images the runs measure"; finish; exit 1; }

# ---- usage errors and bad input ---------------------------------------------------------------
run "$APPLIANCE" compare
expect_rc 2 "compare without runs is a usage error"
run "$APPLIANCE" compare "$TMP/a.json"
expect_rc 2 "compare with one run is a usage error"
run "$APPLIANCE" compare a b c
expect_rc 2 "compare with three runs is a usage error"
run "$APPLIANCE" compare --alpha 1.5 a b
expect_rc 2 "--alpha outside (0, 1) is a usage error"
run "$APPLIANCE" compare --frobnicate a b
expect_rc 2 "an unknown option is a usage error"
for bad in -1 abc 5x 1001 nan ""; do
    run "$APPLIANCE" compare --min-effect "$bad" a b
    expect_rc 2 "--min-effect '$bad' is a usage error"
    check "... naming the option" err_has "--min-effect: '$bad' is not a percentage from 0 to 1000"
done
run "$APPLIANCE" rerun --min-effect -3 x.tar.zst
expect_rc 2 "rerun --min-effect -3 is a usage error too"
run "$APPLIANCE" rerun
expect_rc 2 "rerun without an archive is a usage error"
run "$APPLIANCE" rerun x.tar.zst y.tar.zst
expect_rc 2 "rerun with two archives is a usage error"
run "$APPLIANCE" compare --help
expect_rc 0 "compare --help"
check "... states the rule" grep -q "Mann-Whitney U" "$TMP/stdout"
run "$APPLIANCE" compare "$TMP/missing.json" "$TMP/missing.json"
expect_rc 1 "a missing file is an error"
check "... naming it" err_has "missing.json"
printf 'PK\003\004 not results' >"$TMP/junk.tar.zst"
run "$APPLIANCE" compare "$TMP/junk.tar.zst" "$TMP/junk.tar.zst"
expect_rc 1 "a file that is neither JSON nor zstd is an error"
check "... saying so" err_has "neither a results file (JSON) nor a result archive (zstd)"
echo '{"schema": "something-else"}' >"$TMP/other.json"
run "$APPLIANCE" compare "$TMP/other.json" "$TMP/other.json"
expect_rc 1 "JSON that is not a results file is an error"

# ---- two real runs ----------------------------------------------------------------------------
BENCH=(bench --profile quick --suite size,cpu --images go-1.23-static,go-1.23-hello,python-3.13
    --only nbody --repeat 5 --allow-noisy)
for r in r1 r2; do
    run "$APPLIANCE" -q "${BENCH[@]}" --out "$TMP/$r/results.json"
    expect_rc 0 "bench run $r"
done
R1=$TMP/r1/results.json
R2=$TMP/r2/results.json
[ -s "$R1" ] && [ -s "$R2" ] || { fail "the runs left no results"; finish; exit 1; }

run "$APPLIANCE" compare --all "$R1" "$R2"
expect_rc 0 "compare two runs"
check "... lists every measurement of the runs" sh -c "
    jq -r '.measurements[].id' '$R1' | while read -r id; do grep -qF \"\$id\" '$TMP/stdout' || exit 1; done"
check "... with the table's columns" grep -q "A median.*B median.*change.*p.*test.*verdict" \
    "$TMP/stdout"
check "... and the counts: tests made, significant after the correction, by the minimum effect" \
    grep -q "^[0-9]* tests made: [0-9]* significant after Benjamini-Hochberg at q 0.05, [0-9]* of them by at least the minimum effect; without the correction [0-9]* had p <= 0.05, where about [0-9.]* would by chance alone$" \
    "$TMP/stdout"
check "... 5 samples a side: Mann-Whitney decides" grep -q "cpu/nbody/python-3.13 .*cpu_s .*mann-whitney" \
    "$TMP/stdout"

# A crafted measurement id with escape sequences and a newline: refused, named escaped, and
# nothing raw reaches the terminal.
jq '.measurements[0].id = "cpu/\u001b[2J\u001b[31mevil\nline"' "$R1" >"$TMP/evil.json"
run "$APPLIANCE" compare "$R1" "$TMP/evil.json"
expect_rc 1 "a run whose measurement id holds control characters is refused"
check "... naming the id escaped" err_has 'its id "cpu/\033[2J\033[31mevil\nline" holds a control character'
check "... with no raw escape on the terminal" sh -c "! LC_ALL=C grep -q \"\$(printf '\033')\" '$TMP/stdout' '$TMP/stderr'"

run "$APPLIANCE" compare "$R1" "$R1"
expect_rc 0 "compare a run with itself"
check "... no change" grep -q "^no change$" "$TMP/stdout"
check "... 0 significant" grep -q "^[0-9]* tests made: 0 significant after Benjamini-Hochberg" "$TMP/stdout"
# The one warning a run compared with itself may carry is about the host it ran on: that its
# caches were shared (environment.memory_latency), which depends on the machine's state.
check "... and no warning but one about the host's shared caches" sh -c \
    "! grep -v \"measured while the host's caches were shared\" '$TMP/stderr' | grep -q ."
if jq -e '.environment.memory_latency.verdict == "shared"' "$R1" >/dev/null; then
    check "... which it gives, for both runs, as the run's verdict says" sh -c \
        "grep -q 'run A measured while the host' '$TMP/stderr' && grep -q 'run B measured while the host' '$TMP/stderr'"
else
    check "... which it does not give, as the run's verdict says" sh -c "! grep -q 'caches were shared' '$TMP/stderr'"
fi

run "$APPLIANCE" compare --json "$R1" "$R1"
expect_rc 0 "compare --json"
J=$TMP/self.json
cp "$TMP/stdout" "$J"
check "... is one JSON object of the documented schema" jqe '
    .schema == "appliance-compare-2" and .alpha == 0.05 and .rule.mann_whitney_min_n == 5
    and .correction == "benjamini-hochberg" and .min_effect.default_pct == 5
    and .min_effect.override_pct == null
    and (.comparisons | length) > 0 and .only_in_a == [] and .only_in_b == []' "$J"
check "... with nothing significant and every ratio 1" jqe '
    [.comparisons[] | (.significant == false) and (.ratio == 1)] | all' "$J"
check "... every row with its fields" jqe '
    [.comparisons[] | has("id", "metric", "unit", "n_a", "n_b", "median_a", "median_b",
     "change_pct", "test", "p", "p_adjusted", "p_mann_whitney", "p_welch", "verdict",
     "direction", "significant_uncorrected", "min_effect_pct", "reaches_min_effect")] | all' "$J"
# (cJSON writes 15 digits when they read back within a rounding step: compare with a margin.)
check "... the summary counts the tests made" jqe '
    .summary.tested == ([.comparisons[] | select(.test == "mann-whitney" or .test == "welch")] | length)
    and .summary.significant == 0
    and ((.summary.expected_by_chance - 0.05 * .summary.tested) | . * . < 1e-18)' "$J"

# A run whose CPU-suite samples are all doubled: slower, larger.
X2=$TMP/x2/results.json
mkdir -p "$TMP/x2"
# (A metric with no counted sample has stats null: it stays as it is.)
jq '(.measurements[] | select(.suite == "cpu") | .metrics[]) |=
    (.samples |= map(if type == "number" then . * 2 else . end)
     | if (.stats | type) == "object" and (.stats.median | type) == "number"
       then .stats.median *= 2 else . end)' "$R1" >"$X2"
run "$APPLIANCE" compare --json "$R1" "$X2"
expect_rc 0 "compare with a doubled copy"
cp "$TMP/stdout" "$TMP/x2.json"
check "... python cpu_s: significantly slower, twice the median, by Mann-Whitney" jqe '
    .comparisons[] | select(.id == "cpu/nbody/python-3.13" and .metric == "cpu_s")
    | .significant and .verdict == "slower" and .ratio == 2 and .change_pct == 100
      and .test == "mann-whitney" and .p < 0.01 and .better == "a"
      and .direction == "lower_is_better"' "$TMP/x2.json"
check "... python peak memory: significantly larger" jqe '
    .comparisons[] | select(.id == "cpu/nbody/python-3.13" and .metric == "peak_bytes")
    | .significant and .verdict == "larger"' "$TMP/x2.json"
check "... sizes unchanged" jqe '
    [.comparisons[] | select(.id | startswith("size/")) | .test == "exact" and
     (.significant | not)] | all' "$TMP/x2.json"
check "... no row is called faster" jqe '[.comparisons[] | .verdict != "faster"] | all' \
    "$TMP/x2.json"
run "$APPLIANCE" compare "$R1" "$X2"
check "the table says slower (worse)" grep -q "cpu/nbody/python-3.13 .*cpu_s .*+100.0%.*slower (worse)" \
    "$TMP/stdout"
run "$APPLIANCE" compare "$X2" "$R1"
check "the reverse comparison says faster (better)" \
    grep -q "cpu/nbody/python-3.13 .*cpu_s .*-50.0%.*faster (better)" "$TMP/stdout"
run "$APPLIANCE" compare --json --metric cpu_s "$R1" "$X2"
check "--metric keeps that metric only" jqe '
    (.comparisons | length) == 2 and ([.comparisons[].metric == "cpu_s"] | all)' "$TMP/stdout"
run "$APPLIANCE" compare --json --alpha 0.001 "$R1" "$X2"
# The smallest two-sided p of Mann-Whitney with m against n samples is 2/C(m+n, m) (2/252 for
# 5 against 5). Noisy samples are run again and kept flagged (--allow-noisy), so a side may hold
# more than --repeat; each row is judged by its own counts.
check "--alpha 0.001: a row is significant only when its counts can reach it (2/C(m+n,m))" jqe '
    def choose($n; $k): reduce range(0; $k) as $i (1; . * ($n - $i) / ($i + 1));
    ([.comparisons[] | select(.test == "mann-whitney")
      | .significant == ((2 / choose(.n_a + .n_b; .n_a)) <= 0.001 and .p_adjusted <= 0.001)]
     | all)
    and ([.comparisons[] | select(.test == "mann-whitney")] | length) > 0' "$TMP/stdout"
check "... and the adjusted p is never below the raw one" jqe '
    [.comparisons[] | select(.p_adjusted != null) | .p_adjusted >= .p and .p_adjusted <= 1]
    | all' "$TMP/stdout"

# Two runs whose CPU-suite samples sit 3 % apart (each side its run's median, spread by 0.01 %
# steps, so every B sample is above every A sample): every Mann-Whitney row significant, none a
# change at the default 5 %; with --min-effect 2 they are.
A3=$TMP/x3/a.json
X3=$TMP/x3/results.json
mkdir -p "$TMP/x3"
spread() {
    jq --argjson f "$1" '(.measurements[] | select(.suite == "cpu") | .metrics[]) |=
        (.samples |= ((sort | .[length / 2 | floor]) as $m
            | [range(0; length) | $m * $f * (1 + . * 0.0001)]))' "$R1"
}
spread 1 >"$A3"
spread 1.03 >"$X3"
run "$APPLIANCE" compare --json "$A3" "$X3"
expect_rc 0 "compare with a copy 3 % higher"
cp "$TMP/stdout" "$TMP/x3.json"
check "... python cpu_s: significant, below the minimum effect, so no change" jqe '
    .comparisons[] | select(.id == "cpu/nbody/python-3.13" and .metric == "cpu_s")
    | .significant and (.reaches_min_effect | not) and .min_effect_pct == 5
      and .verdict == "no change" and .better == null' "$TMP/x3.json"
check "... no row a change" jqe '.summary.changed == 0 and .summary.significant > 0' "$TMP/x3.json"
run "$APPLIANCE" compare --json --min-effect 2 "$A3" "$X3"
check "--min-effect 2: the same row is slower" jqe '
    .min_effect.override_pct == 2 and (.comparisons[]
    | select(.id == "cpu/nbody/python-3.13" and .metric == "cpu_s")
    | .min_effect_pct == 2 and .verdict == "slower")' "$TMP/stdout"
run "$APPLIANCE" compare --all "$A3" "$X3"
check "the table says why a significant row is no change" \
    grep -q "cpu/nbody/python-3.13 .*cpu_s .*+3.0%.*no change (significant, below the 5% minimum effect)" \
    "$TMP/stdout"

# Runs that differ: another profile, another N, another image digest, another kernel, and a
# measurement in one run only.
D=$TMP/d/results.json
mkdir -p "$TMP/d"
jq '.run.profile = "standard" | .environment.kernel = "Linux 0.01"
    | .environment.images["python-3.13"].digest = "sha256:" + ("0" * 64)
    | (.measurements[] | select(.id == "cpu/nbody/python-3.13") | .params.n) = 50000000
    | .measurements |= map(select(.id != "cpu/nbody/go-1.23-static"))' "$R1" >"$D"
run "$APPLIANCE" compare "$R1" "$D"
expect_rc 0 "compare runs that differ"
check "... warns about the profile" err_has "different profiles (A quick, B standard)"
check "... about N" err_has "parameter n differs in 1 matched measurement"
check "... about the image" err_has "image python-3.13 differs"
check "... about the kernel" err_has "kernel"
check "... and lists the measurement in A only" grep -q "^only in A: cpu/nbody/go-1.23-static" \
    "$TMP/stdout"

run "$APPLIANCE" compare "$TMP/r1" "$R1"
expect_rc 0 "a run directory is read as its results.json"

# ---- archives: compare by content, then rerun ---------------------------------------------------
run "$APPLIANCE" keygen -p "$TMP/k.pub" -s "$TMP/k.key" -W
expect_rc 0 "a key pair to sign with"
run "$APPLIANCE" pack "$TMP/r1" --key "$TMP/k.key" --out "$TMP/packed"
expect_rc 0 "pack run r1"
ARCHIVE=$(ls "$TMP"/packed/*.tar.zst 2>/dev/null | head -n 1)
if [ -z "$ARCHIVE" ]; then
    fail "pack left no archive"
    finish
    exit 1
fi
cp "$ARCHIVE" "$TMP/packed/archive.json" # a name that lies: content decides
run "$APPLIANCE" compare --json "$TMP/packed/archive.json" "$R1"
expect_rc 0 "compare an archive (named .json) with its own results"
check "... reads the archive's results: nothing changed" jqe '
    (.comparisons | length) > 0 and ([.comparisons[].significant] | any | not)' "$TMP/stdout"

# Archives that verify refuses for their members, compare refuses with verify's own words: one
# walk over the members serves both. Each is the packed run's members written again by Python's
# tarfile, then one more after results.json (a second results.json, a FIFO, a character device,
# a header claiming 8 GiB + 1 bytes with no data behind it), or results.json's header claiming
# 512 MiB + 1; compressed with zstd and signed with the run's key, so that verify gets past the
# signature to the members.
if command -v minisign >/dev/null; then
    ID=$(jq -r .run.id "$R1")
    zstd -q -d -c "$ARCHIVE" >"$TMP/packed.tar"
    cat >"$TMP/craft.py" <<'PY'
import io, sys, tarfile
src, out, case = sys.argv[1:4]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
def claim(f, name, size):
    # The header alone: the walk must refuse it before it looks for the data.
    ti = tarfile.TarInfo(name)
    ti.size = size
    f.write(ti.tobuf(tarfile.PAX_FORMAT))
with open(out, "wb") as f:
    w = tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT)
    for m, data in members:
        if case == "big-results" and m.name == "results.json":
            claim(f, m.name, (512 << 20) + 1)
            sys.exit(0)
        w.addfile(m, io.BytesIO(data))
    if case == "second-results":
        m, data = members[-1]
        w.addfile(m, io.BytesIO(data))
    elif case in ("fifo", "chardev"):
        ti = tarfile.TarInfo("zz-" + case)
        ti.type = tarfile.FIFOTYPE if case == "fifo" else tarfile.CHRTYPE
        ti.devmajor, ti.devminor = (0, 0) if case == "fifo" else (1, 3)
        w.addfile(ti)
    elif case == "big-member":
        claim(f, "zz-big", (8 << 30) + 1)
        sys.exit(0)
    w.close()
PY
    # craft CASE: $TMP/craft-CASE.tar.zst, signed as appliance pack signs.
    craft() {
        local a=$TMP/craft-$1.tar.zst
        python3 "$TMP/craft.py" "$TMP/packed.tar" "$TMP/craft-$1.tar" "$1" &&
            zstd -q -f --rm "$TMP/craft-$1.tar" -o "$a" &&
            minisign -S -s "$TMP/k.key" -m "$a" -x "$a.minisig" \
                -c "signature from appliance secret key" \
                -t "appliance run $ID sha256:$(sha256sum "$a" | cut -d' ' -f1)" \
                >/dev/null 2>&1 </dev/null
    }
    check "the packed run written again by Python's tarfile and signed (control)" craft control
    run "$APPLIANCE" verify "$TMP/craft-control.tar.zst" -p "$TMP/k.pub"
    expect_rc 0 "... verifies"
    run "$APPLIANCE" compare "$TMP/craft-control.tar.zst" "$R1"
    expect_rc 0 "... and compares"
    for c in "second-results:member \"results.json\" is out of order or repeated" \
        "fifo:refusing member \"zz-fifo\": it is a FIFO" \
        "chardev:refusing member \"zz-chardev\": it is a character device" \
        "big-member:member \"zz-big\" is 8589934593 bytes, more than the 8589934592 allowed" \
        "big-results:member \"results.json\" is 536870913 bytes, more than the 536870912 allowed"; do
        kind=${c%%:*} why=${c#*:}
        check "$kind: crafted and signed" craft "$kind"
        run "$APPLIANCE" verify "$TMP/craft-$kind.tar.zst" -p "$TMP/k.pub"
        expect_rc 1 "$kind: verify refuses it"
        check "... at the archive check: $why" sh -c \
            "grep -qF 'archive check failed' '$TMP/stderr' && grep -qF -- '$why' '$TMP/stderr'"
        cp "$TMP/stderr" "$TMP/verify.err"
        run "$APPLIANCE" compare "$TMP/craft-$kind.tar.zst" "$R1"
        expect_rc 1 "$kind: compare refuses it too"
        check "... with the message verify gives" cmp -s "$TMP/verify.err" "$TMP/stderr"
    done
else
    fail "compare refusing what verify refuses: stock minisign signs the crafted archives and is missing (make deps installs it)"
fi

run "$APPLIANCE" rerun "$ARCHIVE" -p "$TMP/k.pub" --out "$TMP/rerun" --allow-noisy
expect_rc 0 "rerun a verified archive"
NEW=$TMP/rerun/results.json
check "... writes new results" test -s "$NEW"
same_plan() {
    jq -e --slurpfile old "$R1" '
        .run.profile == $old[0].run.profile and .run.suites == $old[0].run.suites
        and .run.repeat == $old[0].run.repeat and .run.warmup == $old[0].run.warmup
        and .run.only == $old[0].run.only
        and (.environment.images | keys) == ($old[0].environment.images | keys)' "$NEW" >/dev/null
}
check "... with the recorded plan" same_plan
check "... the same measurements" sh -c "
    [ \"\$(jq -c '[.measurements[].id] | sort' '$NEW')\" = \"\$(jq -c '[.measurements[].id] | sort' '$R1')\" ]"
check "... and prints the comparison, counting the tests made" \
    grep -q "^[0-9]* tests made: [0-9]* significant after Benjamini-Hochberg" "$TMP/stdout"
check "... saying it verified the archive" err_has "verified"

cp "$ARCHIVE" "$TMP/tampered.tar.zst"
cp "$ARCHIVE.minisig" "$TMP/tampered.tar.zst.minisig"
flip_byte "$TMP/tampered.tar.zst" 100
check "the tampered copy differs from the archive" sh -c "! cmp -s '$ARCHIVE' '$TMP/tampered.tar.zst'"
run "$APPLIANCE" rerun "$TMP/tampered.tar.zst" -p "$TMP/k.pub" --out "$TMP/rerun2" --allow-noisy
expect_rc 1 "a tampered archive is refused before anything runs"
check "... with no new results" test ! -e "$TMP/rerun2/results.json"

finish
