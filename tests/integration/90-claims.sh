#!/usr/bin/env bash
# The claims files of results/published/ (docs/claims.md): each is valid against
# appliance/report/claims.schema.json (when that schema exists), names a document whose sha256
# it records, quotes only text of that document, and leaves no number of the document outside a
# quote (tests/claims_coverage.py). The documents are not part of the repository: they are looked
# up in $CLAIMS_SOURCE_DIR (default: shared/published beside the checkout) and, for the Benchmarks
# Game timings, $BG_DATA_DIR (default: shared/benchmarksgame beside it); a missing one is a skip.
# Also: scripts/claims-from-bg-timings regenerates its committed output byte for byte, and a
# claims file with one untestable entry taken out fails, naming the number left uncovered.
# Fast: builds nothing, runs no appliance.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

CLAIMS_SOURCE_DIR=${CLAIMS_SOURCE_DIR:-$ROOT/../shared/published}
BG_DATA_DIR=${BG_DATA_DIR:-$ROOT/../shared/benchmarksgame}
SCHEMA=appliance/report/claims.schema.json
COVER=tests/claims_coverage.py
ARTICLE=results/published/go-vs-python-2026.claims.json
BG=results/published/benchmarksgame-2022-05.claims.json

# doc_of CLAIMS: where the document a claims file names is looked up.
doc_of() {
    local name
    name=$(jq -r '.source.document' "$1")
    case $1 in
    */benchmarksgame-*) echo "$BG_DATA_DIR/$name" ;;
    *) echo "$CLAIMS_SOURCE_DIR/$name" ;;
    esac
}

# Schema: every claims file of results/published/ and tests/claims/.
shopt -s nullglob
files=(results/published/*.claims.json tests/claims/*.claims.json)
shopt -u nullglob
check "there are claims files under results/published/" [ ${#files[@]} -ge 2 ]
for f in "${files[@]}"; do
    check "$f is JSON with schema appliance-claims-1" jqe '.schema == "appliance-claims-1"' "$f"
    check "$f: ids are unique and every section is declared" jqe '
        ([.claims[], .untestable[]] | map(.id)) as $ids | ($ids | length) == ($ids | unique | length)
        and ([.sections[].id] as $s | all(.claims[], .untestable[]; .section as $x | $s | index($x)))' "$f"
    if [ -f "$SCHEMA" ]; then
        run python3 - "$SCHEMA" "$f" <<'EOF'
import json, sys, jsonschema
schema, doc = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))
for e in errors[:10]:
    print("/".join(map(str, e.path)) or "(top)", e.message, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
        expect_rc 0 "$f is valid against $SCHEMA"
    else
        skip "$f against $SCHEMA" "the schema is not in the tree yet (report/ owns it)"
    fi
done

# Coverage, sha256 and quotes: each committed claims file against its document.
for f in "$ARTICLE" "$BG"; do
    doc=$(doc_of "$f")
    if [ ! -f "$doc" ]; then
        skip "$f: quotes, sha256 and number coverage" "its document $(basename "$doc") is not in $(dirname "$doc") (set CLAIMS_SOURCE_DIR or BG_DATA_DIR)"
        continue
    fi
    run python3 "$COVER" "$f" "$doc"
    expect_rc 0 "$f covers every number of $(basename "$doc"), its quotes occur and its sha256 matches"
done

# The claims the article file must hold (a reading the brief fixed, not what the tool decides).
check "article: all ten Benchmarks Game rows give a CPython and a JIT ratio and time" jqe '
    [.claims[] | select(.id | test("^bg-[a-z]+-(cpython|jit)-(ratio|s)$"))] | length == 40' "$ARTICLE"
check "article: every time of the table is judged through Go's time of its row" jqe '
    all(.claims[] | select(.id | test("^bg-.*-s$")); .portable == false and .transfer.rule == "scale-by-reference"
        and (.transfer.reference | test("^cpu/[a-z]+/go-1.23-static$")) and (.conditions.n > 0))' "$ARTICLE"
check "article: Litestar is not reproducible, with its reason" jqe '
    .claims[] | select(.id == "http-table-litestar") | .not_reproducible | test("Debian")' "$ARTICLE"
check "article: the keyword counts are exact (tolerance 0)" jqe '
    [.claims[] | select(.metric == "keywords") | .tolerance_pct] == [0, 0]' "$ARTICLE"

# The Benchmarks Game file is the script's output, byte for byte.
csv=$BG_DATA_DIR/timings-2022-05-go-python3.csv
if [ -f "$csv" ]; then
    run scripts/claims-from-bg-timings "$csv"
    expect_rc 0 "scripts/claims-from-bg-timings reads the timings CSV"
    if cmp -s "$TMP/stdout" "$BG"; then pass "$BG is what the script makes of the CSV"; else
        fail "$BG differs from the script's output (run scripts/claims-from-bg-timings CSV > $BG)"
        diff "$BG" "$TMP/stdout" | head -n 10 | sed 's/^/#   /'
    fi
    # Control: a CSV without a Python row of a task is refused, naming the task.
    grep -v '^nbody,python3,' "$csv" >"$TMP/no-nbody-python.csv"
    run scripts/claims-from-bg-timings "$TMP/no-nbody-python.csv"
    expect_rc 1 "a CSV without a successful Python n-body row is refused"
    check "the refusal names the task and the language" err_has "task nbody has no successful python3 program"
else
    skip "scripts/claims-from-bg-timings regenerates $BG" "the CSV $(basename "$csv") is not in $BG_DATA_DIR"
fi

# The coverage test can fail: take one untestable entry out, and the number it covered is named;
# change the recorded sha256, and that is named; quote text the document does not hold, and the
# quote is named.
doc=$(doc_of "$ARTICLE")
if [ -f "$doc" ]; then
    jq 'del(.untestable[] | select(.id == "salary-median-us"))' "$ARTICLE" >"$TMP/less.json"
    run python3 "$COVER" "$TMP/less.json" "$doc"
    expect_rc 1 "without the untestable entry salary-median-us the coverage check fails"
    check "it names the number left uncovered" grep -qF "'\$162,000' (line 73)" "$TMP/stdout"
    check "and only that sentence's numbers" jqe 'length == 2' <(grep -oE "^  '[^']*' \(line [0-9]+\)" "$TMP/stdout" | jq -Rn '[inputs]')
    jq '.source.sha256 = ("0" * 64)' "$ARTICLE" >"$TMP/sha.json"
    run python3 "$COVER" "$TMP/sha.json" "$doc"
    expect_rc 1 "a claims file with another sha256 fails"
    check "it says the sha256 differs" grep -qF "FAIL - sha.json: sha256 of" "$TMP/stdout"
    jq '.claims[0].quote |= sub("200,000"; "210,000")' "$ARTICLE" >"$TMP/quote.json"
    run python3 "$COVER" "$TMP/quote.json" "$doc"
    expect_rc 1 "a quote the document does not hold fails"
    check "it names the claim whose quote is not found" grep -qF "claim 'http-intro-python-25000': quote not found" "$TMP/stdout"
else
    skip "the coverage check fails when an entry is missing" "the document $(basename "$doc") is not in $(dirname "$doc")"
fi

finish
