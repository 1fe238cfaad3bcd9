#!/usr/bin/env bash
# appliance verdict: tests/claims/kinds.claims.json validates against claims.schema.json; a real
# quick run (sizes and start-up of go-1.23-hello, go-1.23-static and python-3.13) is judged
# against a claims file about those figures; verdicts.json validates against
# verdicts.schema.json and judging twice gives the same bytes; --json prints the same document;
# usage errors, a bad claims file, a source text whose sha256 differs and a quote the text lacks
# fail with exit status 2 and a message naming the claim.
# Needs root, python3-jsonschema and the images go-1.23-hello, go-1.23-static and python-3.13.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

validate() { # SCHEMA DOC
    python3 - "$1" "$2" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors[:5]:
    print("%s: %s" % (list(e.path), e.message[:300]))
sys.exit(1 if errors else 0)
PY
}

check "kinds.claims.json validates against claims.schema.json" \
    validate appliance/report/claims.schema.json tests/claims/kinds.claims.json

# ---- usage errors ------------------------------------------------------------------------------
run "$APPLIANCE" verdict
expect_rc 2 "verdict without results is a usage error"
run "$APPLIANCE" verdict a.json b.json
expect_rc 2 "verdict with two results is a usage error"
run "$APPLIANCE" verdict --help
expect_rc 0 "verdict --help"
check "... names the claims option" grep -q -- "--claims FILE" "$TMP/stdout"

# ---- a real quick run ----------------------------------------------------------------------------
for i in go-1.23-hello go-1.23-static python-3.13; do
    if [ ! -d "build/images/$i" ]; then
        fail "image $i is not built (make test builds it)"
        finish
        exit 1
    fi
done
run "$APPLIANCE" -q bench --profile quick --suite size,startup --allow-noisy \
    --images go-1.23-hello,go-1.23-static,python-3.13 --only hello --out "$TMP/run/results.json"
expect_rc 0 "a quick run of sizes and start-up"

run "$APPLIANCE" verdict "$TMP/run/results.json" --out "$TMP/v0"
expect_rc 2 "a results file without --claims is a usage error"
check "... naming the option" err_has "--claims"

mkdir -p "$TMP/claims"
cat >"$TMP/claims/real.txt" <<'TXT'
A Go hello world image is about 2 MB.
The Python image is 30x the size of the Go one.
Python starts 5x slower than Go.
Go starts in 5 ms.
Go starts in under a second.
TXT
SHA=$(sha256sum "$TMP/claims/real.txt" | cut -d' ' -f1)
cat >"$TMP/claims/real.claims.json" <<JSON
{"schema": "appliance-claims-1",
 "source": {"title": "Real figures", "document": "real.txt", "sha256": "$SHA"},
 "defaults": {"tolerance_pct": 10},
 "sections": [{"id": "size", "title": "Sizes"}, {"id": "start", "title": "Start-up"}],
 "claims": [
  {"id": "go-hello-size", "section": "size", "where": "line 1", "quote": "about 2 MB", "kind": "value",
   "metric": "unpacked_bytes", "subject": "size/image/go-1.23-hello", "published": {"value": 2, "unit": "MB"}, "portable": true},
  {"id": "size-ratio", "section": "size", "where": "line 2", "quote": "30x the size", "kind": "ratio",
   "metric": "unpacked_bytes", "numerator": "size/image/python-3.13", "denominator": "size/image/go-1.23-hello",
   "published": {"value": 30, "unit": "x"}, "portable": true},
  {"id": "start-ratio", "section": "start", "where": "line 3", "quote": "5x slower", "kind": "ratio",
   "metric": "wall_s", "numerator": "startup/process/python-3.13/hello", "denominator": "startup/process/go-1.23-static/hello",
   "published": {"value": 5, "unit": "x"}, "portable": true},
  {"id": "go-start-time", "section": "start", "where": "line 4", "quote": "Go starts in 5 ms", "kind": "value",
   "metric": "wall_s", "subject": "startup/process/go-1.23-static/hello", "published": {"value": 5, "unit": "ms"},
   "portable": false, "transfer": {"rule": "none"}},
  {"id": "go-start-bound", "section": "start", "where": "line 5", "quote": "under a second", "kind": "bound",
   "metric": "wall_s", "subject": "startup/process/go-1.23-static/hello", "published": {"upper": 1, "unit": "s"},
   "portable": true}
 ]}
JSON
check "the test's claims file validates against claims.schema.json" \
    validate appliance/report/claims.schema.json "$TMP/claims/real.claims.json"

run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/real.claims.json" --out "$TMP/v1"
expect_rc 0 "verdict on a real run"
check "... prints the table with every claim" grep -q "go-start-bound" "$TMP/stdout"
check "... and the counts" grep -q "holds, .* contradicted" "$TMP/stdout"
check "... the source was checked" sh -c '! grep -q "source text not checked" "$0"' "$TMP/stdout"
check "verdicts.json validates against verdicts.schema.json" \
    validate appliance/report/verdicts.schema.json "$TMP/v1/verdicts.json"
check "... the size is judged (a counted figure)" \
    jqe '.verdicts[0].measured.interval | startswith("counted")' "$TMP/v1/verdicts.json"
check "... absolute time is not comparable" \
    jqe '.verdicts[3].verdict == "not comparable"' "$TMP/v1/verdicts.json"
check "... the source is recorded as checked" jqe '.source.checked == true' "$TMP/v1/verdicts.json"

run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/real.claims.json" --out "$TMP/v2" --json
expect_rc 0 "judging again, --json"
check "judging twice gives identical bytes" cmp -s "$TMP/v1/verdicts.json" "$TMP/v2/verdicts.json"
check "--json prints the verdicts document" cmp -s "$TMP/stdout" "$TMP/v1/verdicts.json"

# ---- a bad claims file, a wrong source -----------------------------------------------------------
sed 's/"id": "start-ratio", "section": "start", "where": "line 3", "quote": "5x slower", "kind": "ratio"/"id": "start-ratio", "section": "start", "where": "line 3", "quote": "5x slower", "kind": "ratios"/' \
    "$TMP/claims/real.claims.json" >"$TMP/claims/bad.claims.json"
run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/bad.claims.json" --out "$TMP/v3"
expect_rc 2 "a bad claims file fails with exit status 2"
check "... naming the claim and the field" sh -c 'grep -q "start-ratio" "$0" && grep -q "\"kind\"" "$0"' "$TMP/stderr"
check "... and writes no verdicts" test ! -e "$TMP/v3/verdicts.json"

sed 's/5x slower/6x slower/' "$TMP/claims/real.txt" >"$TMP/claims/other.txt"
run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/real.claims.json" \
    --source "$TMP/claims/other.txt" --out "$TMP/v4"
expect_rc 2 "a source text whose sha256 differs fails with exit status 2"
check "... naming the sha256" err_has "sha256"

OTHER=$(sha256sum "$TMP/claims/other.txt" | cut -d' ' -f1)
sed "s/$SHA/$OTHER/" "$TMP/claims/real.claims.json" >"$TMP/claims/other.claims.json"
run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/other.claims.json" \
    --source "$TMP/claims/other.txt" --out "$TMP/v5"
expect_rc 2 "a quote the text lacks fails with exit status 2"
check "... naming the claim" err_has "start-ratio"

# The control: the same text beside the claims, its sha256 right, is accepted.
run "$APPLIANCE" verdict "$TMP/run/results.json" --claims "$TMP/claims/real.claims.json" \
    --source "$TMP/claims/real.txt" --out "$TMP/v6"
expect_rc 0 "the right source text is accepted"

finish
