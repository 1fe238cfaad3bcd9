#!/usr/bin/env bash
# appliance reproduce: a claims file is checked before anything runs (an unknown subject, a
# source text whose sha256 differs: exit 2, nothing measured); --dry-run says what a claims file
# about sizes and start-up needs (those two suites, their images, the hello workloads); a real
# quick reproduce of it measures those suites only, judges, writes the six files and packs
# them, signed; verify judges the archive's claims again and accepts it; verdict ARCHIVE judges
# without --claims and gives the run's verdicts; the same run packed with one
# verdict changed is refused by verify, while the unchanged run packed the same way passes.
# Needs root and the images go-1.23-static and go-1.23-hello (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"

# A claims file of two claims over sizes and start-up, with its source text beside it.
mkdir -p "$TMP/c"
printf 'Go starts in 10-50 ms. Its hello binary is about 1.8 MB.\n' >"$TMP/c/doc.txt"
SHA=$(sha256sum "$TMP/c/doc.txt" | cut -d' ' -f1)
claims() { # SUBJECT SHA256
    cat <<EOF
{"schema": "appliance-claims-1",
 "source": {"title": "a test document", "url": "unknown", "date": "2026-01-01",
            "document": "doc.txt", "sha256": "$2"},
 "defaults": {"tolerance_pct": 10},
 "sections": [{"id": "s", "title": "Start-up and size"}],
 "claims": [
  {"id": "go-start", "section": "s", "where": "line 1", "quote": "Go starts in 10-50 ms.",
   "kind": "range", "metric": "wall_s", "subject": "$1",
   "published": {"low": 10, "high": 50, "unit": "ms"}, "portable": true},
  {"id": "go-hello-size", "section": "s", "where": "line 1",
   "quote": "Its hello binary is about 1.8 MB.", "kind": "value", "metric": "bytes",
   "subject": "size/binary/go-1.23-hello/hello", "published": {"value": 1.8, "unit": "MB"},
   "portable": true}],
 "untestable": []}
EOF
}
claims startup/container/go-1.23-static/hello "$SHA" >"$TMP/c/small.claims.json"

# ---- usage errors and claims refused before anything runs ---------------------------------------
run "$APPLIANCE" reproduce --profile fast
expect_rc 2 "an unknown profile is a usage error"
run "$APPLIANCE" reproduce --key k
expect_rc 2 "--key without --sign is a usage error"
run "$APPLIANCE" reproduce nonsense
expect_rc 2 "an argument is a usage error"

claims startup/container/go-1.23-static/goodbye "$SHA" >"$TMP/c/unknown.claims.json"
cp "$TMP/c/doc.txt" "$TMP/c/doc2.txt"
run "$APPLIANCE" reproduce --claims "$TMP/c/unknown.claims.json" --profile quick --out "$TMP/u"
expect_rc 2 "a claim over a measurement no suite makes is refused"
check "the refusal names the claim and the subject" \
    grep -q 'claim "go-start".*startup/container/go-1.23-static/goodbye' "$TMP/stderr"
check "nothing was measured for it (no results file)" test ! -e "$TMP/u/results.json"
# Control: the same file with a subject the quick profile makes passes the check.
run "$APPLIANCE" reproduce --claims "$TMP/c/small.claims.json" --profile quick --dry-run
expect_rc 0 "the claims file with real subjects passes the check (--dry-run)"

claims startup/container/go-1.23-static/hello "$(printf '%064d' 0)" >"$TMP/c/badsha.claims.json"
run "$APPLIANCE" reproduce --claims "$TMP/c/badsha.claims.json" --profile quick --out "$TMP/b"
expect_rc 2 "a source text whose sha256 differs from the claims file's is refused"
check "nothing was measured for it" test ! -e "$TMP/b/results.json"

# ---- what the claims need ------------------------------------------------------------------------
run "$APPLIANCE" reproduce --claims "$TMP/c/small.claims.json" --profile quick --dry-run
same "--dry-run: the two suites the claims need" "$(grep '^suites:' "$TMP/stdout")" \
    "suites: size startup"
same "--dry-run: the two images the claims need" "$(grep '^images:' "$TMP/stdout")" \
    "images: go-1.23-static go-1.23-hello"
same "--dry-run: the one workload the claims need" "$(grep '^workloads:' "$TMP/stdout")" \
    "workloads: hello"

# The published claims files pass the same check against every profile's catalog (a measurement
# renamed in a suite fails here, naming the claim), and say what they need.
for profile in quick standard published; do
    run "$APPLIANCE" reproduce --profile "$profile" --dry-run
    expect_rc 0 "the article's claims file fits what the $profile profile measures"
done
check "the article's claims need every suite but threads" \
    grep -qx 'suites: size startup memory cpu http latency lang' "$TMP/stdout"
run "$APPLIANCE" reproduce --claims results/published/benchmarksgame-2022-05.claims.json \
    --profile quick --dry-run
expect_rc 0 "the Benchmarks Game's 2022 timings go through the same code"
same "they need the cpu suite alone, Go and CPython" \
    "$(grep -E '^(suites|images):' "$TMP/stdout" | tr '\n' ' ')" \
    "suites: cpu images: python-3.13 go-1.23-static "

# ---- a real run ------------------------------------------------------------------------------------
run "$APPLIANCE" keygen -p "$TMP/k.pub" -s "$TMP/k.key" -W
expect_rc 0 "a key pair for the run"
mkdir -p "$TMP/work/results"
(cd "$TMP/work" && ln -s "$ROOT/images" images && ln -s "$ROOT/build" build)
run env -C "$TMP/work" APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q reproduce \
    --claims "$TMP/c/small.claims.json" --profile quick --out "$TMP/work/run" --allow-noisy \
    --sign --key "$TMP/k.key"
expect_rc 0 "reproduce --profile quick --sign of the small claims file"
for f in results.json results.csv claims.json verdicts.json report.md report.html; do
    check "the run directory holds $f" test -s "$TMP/work/run/$f"
done
check "only the suites the claims need were measured (size and startup)" \
    jqe '[.measurements[].suite] | unique == ["size", "startup"]' "$TMP/work/run/results.json"
check "the run's claims.json is the claims file, byte for byte" \
    cmp -s "$TMP/work/run/claims.json" "$TMP/c/small.claims.json"
check "the verdicts judged both claims and checked the source text" \
    jqe '(.verdicts | length) == 2 and .source.checked == true' "$TMP/work/run/verdicts.json"
check "the terminal ends with the counts and the claims furthest off" \
    grep -q 'Furthest off:' "$TMP/stdout"
ARCHIVE=$(ls "$TMP"/work/results/*.tar.zst 2>/dev/null | head -n 1)
check "the run was packed into a signed archive" test -s "${ARCHIVE:-/nonexistent}.minisig"

run "$APPLIANCE" verify "$ARCHIVE" -p "$TMP/k.pub"
expect_rc 0 "verify accepts the archive"
check "verify judged the archived claims again and found the same verdicts" \
    grep -q 'verdicts:  judged again' "$TMP/stdout"
run "$APPLIANCE" verdict "$ARCHIVE" --out "$TMP/again"
expect_rc 0 "verdict ARCHIVE judges without --claims (the archive's claims.json)"
# It names the claims file by its member and did not check the source text (it has none): the
# rest is the run's judgement.
check "judging the archive again gives the run's verdicts, counts and false-discovery control" \
    bash -c "cmp -s <(jq -S 'del(.claims.path, .source)' '$TMP/again/verdicts.json') \
                    <(jq -S 'del(.claims.path, .source)' '$TMP/work/run/verdicts.json')"
check "and says the source text was not checked" \
    jqe '.source.checked == false and .source.note == "source text not checked"' \
    "$TMP/again/verdicts.json"

# ---- the README's verdict table is generated from a run ----------------------------------------
cp README.md "$TMP/README.md"
run scripts/readme-verdicts "$TMP/work/run" "$ARCHIVE" "$TMP/README.md"
expect_rc 0 "scripts/readme-verdicts writes the run's verdicts into a copy of the README"
check "the table names the run's profile and its archive's sha256" \
    grep -q "profile quick.*sha256 \`$(sha256sum "$ARCHIVE" | cut -d' ' -f1)\`" "$TMP/README.md"
check "its totals row adds up to the claims judged (2)" \
    awk -F'|' '/^[|] [*][*]all[*][*] /{ s = $3 + $4 + $5 + $6 + $7; f = 1 } END { exit !(f && s == 2) }' \
    "$TMP/README.md"
same "the rest of the README is untouched" \
    "$(sed '/^<!-- verdicts:begin -->$/,/^<!-- verdicts:end -->$/d' "$TMP/README.md" | sha256sum)" \
    "$(sed '/^<!-- verdicts:begin -->$/,/^<!-- verdicts:end -->$/d' README.md | sha256sum)"
run scripts/readme-verdicts "$TMP/work/run" "$TMP/k.pub" "$TMP/README.md"
expect_rc 1 "another run's archive is refused"

# ---- a changed verdict is refused --------------------------------------------------------------
cp -r "$TMP/work/run" "$TMP/same"
cp -r "$TMP/work/run" "$TMP/forged"
jq '.verdicts[1].verdict = "holds"' "$TMP/work/run/verdicts.json" >"$TMP/forged/verdicts.json"
check "the forged verdicts differ from the run's" \
    bash -c "! cmp -s '$TMP/forged/verdicts.json' '$TMP/work/run/verdicts.json'"
pack_verify() { # DIR: packs DIR signed (as the run's claims file) and verifies the archive
    rm -rf "$TMP/p" && mkdir -p "$TMP/p"
    (cd "$TMP/work" && APPLIANCE_OUT="$ROOT/build/images" "$APPLIANCE" -q pack "$1" \
        --key "$TMP/k.key" --out "$TMP/p" --claims "$TMP/c/small.claims.json") >/dev/null ||
        return 2
    run "$APPLIANCE" verify "$(ls "$TMP"/p/*.tar.zst | head -n 1)" -p "$TMP/k.pub"
}
pack_verify "$TMP/same"
expect_rc 0 "control: the unchanged run, packed again, verifies"
pack_verify "$TMP/forged"
expect_rc 1 "the run packed with one verdict changed is refused by verify"
check "the refusal names the verdicts check" grep -q 'verdicts check failed' "$TMP/stderr"

finish
