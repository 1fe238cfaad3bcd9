#!/usr/bin/env bash
# report.html in a real browser: the article's claims (results/published/go-vs-python-2026)
# judged by `appliance verdict --out DIR` against real results (REPORT_RESULTS=FILE, copied, or
# else a quick run of the size and startup suites made here; most of its figures are too few
# samples for a verdict, which is fine: this test checks the rendering, not the verdicts), and a
# small claims file made here whose quote and untestable entry hold markup and a pipe (no quote
# of the article holds markup), judged the same way. Debian's chromium, headless, in fresh
# network and PID namespaces (it can reach nothing and dies with the namespace, under a
# timeout), takes a phone-width screenshot (a 412x915 PNG) and dumps the DOM: one table row per
# claim of the verdicts file, one <svg> per chart, the markup of a quote as text. Needs root
# (namespaces), chromium and jq (make deps); without REPORT_RESULTS, the images go-1.23-static,
# go-1.23-hello and python-3.13.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
CLAIMS_FILE=results/published/go-vs-python-2026.claims.json
require_root_and "$APPLIANCE"
command -v chromium >/dev/null || { fail "chromium is missing (make deps installs it)"; finish; exit 1; }

# ---- results --------------------------------------------------------------------------------
if [ -n "${REPORT_RESULTS:-}" ]; then
    cp "$REPORT_RESULTS" "$TMP/results.json"
else
    "$APPLIANCE" -q image build go-1.23-static go-1.23-hello python-3.13 >/dev/null ||
        { fail "building the images the run measures"; finish; exit 1; }
    run "$APPLIANCE" -q bench --profile quick --suite size,startup \
        --images go-1.23-static,go-1.23-hello,python-3.13 --allow-noisy --out "$TMP/results.json"
    expect_rc 0 "a quick run of the size and startup suites"
fi
[ -s "$TMP/results.json" ] || { fail "no results to report"; finish; exit 1; }

# ---- the article's claims judged ------------------------------------------------------------
run "$APPLIANCE" verdict "$TMP/results.json" --claims "$CLAIMS_FILE" --out "$TMP/out"
expect_rc 0 "appliance verdict judged the article's claims"
for f in verdicts.json report.md report.html; do
    check "... $f written" test -s "$TMP/out/$f"
done
CLAIMS=$(jq '.verdicts | length' "$TMP/out/verdicts.json")
same "... one verdict per claim of the claims file" "$CLAIMS" "$(jq '.claims | length' "$CLAIMS_FILE")"
check "... some of them judged on a measured figure" \
    jqe '[.verdicts[] | select(.measured.value != null)] | length > 0' "$TMP/out/verdicts.json"
ROWS=0
for id in $(jq -r '.verdicts[].id' "$TMP/out/verdicts.json"); do
    ROWS=$((ROWS + $(grep -c "^| $id |" "$TMP/out/report.md")))
done
same "report.md has one row per claim" "$ROWS" "$CLAIMS"
# The article's table rows are quoted with their pipes: each stays inside its cell.
check "... a quote's pipes escaped in its cell" \
    grep -qF '| spec-go-version | \| Specification \| Go (1.23)' "$TMP/out/report.md"
run "$APPLIANCE" verdict "$TMP/results.json" --claims "$CLAIMS_FILE" --out "$TMP/again"
expect_rc 0 "judging again"
for f in verdicts.json report.md report.html; do
    check "... gives the same $f byte for byte" cmp -s "$TMP/out/$f" "$TMP/again/$f"
done

# ---- a claims file with markup in its quotes ------------------------------------------------
export QUOTE='the runtime is <b>~30 MB</b> & <script>alert(1)</script> | on disk'
jq -n --arg q "$QUOTE" '{
  schema: "appliance-claims-1",
  source: {title: "Markup <article> & more", url: "https://example.invalid/article",
           date: "2026-04-10", document: "markup.txt", sha256: ("0" * 64)},
  defaults: {tolerance_pct: 10},
  sections: [{id: "size", title: "Sizes <i>in</i> MB"}],
  claims: [{id: "markup-quote", section: "size", where: "line 1", quote: $q, kind: "value",
            metric: "unpacked_bytes", subject: "size/image/python-3.13",
            published: {value: 30, unit: "MB"}, portable: true}],
  untestable: [{id: "markup-untestable", section: "size", where: "line 2",
                quote: "<img src=x onerror=alert(2)> $162,000 | a year", reason: "salary"}]}' \
    >"$TMP/markup.claims.json"
run "$APPLIANCE" verdict "$TMP/results.json" --claims "$TMP/markup.claims.json" --out "$TMP/markup"
expect_rc 0 "appliance verdict judged a claims file with markup in its quotes"
# Control: the markup reaches the renderer as it was written.
check "... the verdicts file holds the quote's markup as written" \
    jqe '.verdicts[0].quote == $ENV.QUOTE' "$TMP/markup/verdicts.json"
check "... no raw markup in report.html or report.md" \
    sh -c "! grep -qE '<script|<img|<b>|<i>in' '$TMP/markup/report.html' '$TMP/markup/report.md'"

# ---- chromium, headless, with no network ----------------------------------------------------
# A fresh network namespace (nothing to reach) and PID namespace (every process it starts dies
# with it), under a timeout. browse PAGE ARGS...
browse() {
    local page=$1
    shift
    timeout -k 5 120 unshare --net --pid --fork --mount-proc --kill-child \
        env HOME="$TMP/home" chromium --headless --no-sandbox --disable-gpu \
        --disable-background-networking --no-first-run --disable-component-update \
        --disable-sync --disable-extensions --disable-default-apps --no-default-browser-check \
        --hide-scrollbars --user-data-dir="$TMP/profile" "$@" "file://$page"
}
mkdir -p "$TMP/home"
browse "$TMP/out/report.html" --screenshot="$TMP/shot.png" --window-size=412,915 \
    >"$TMP/chromium.log" 2>&1
check "chromium took a screenshot" test -s "$TMP/shot.png"
same "... a PNG" "$(head -c 8 "$TMP/shot.png" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a"
same "... 412 x 915 (a phone's width)" \
    "$(od -An -tu1 -j16 -N8 "$TMP/shot.png" | awk '{print $3*256+$4 "x" $7*256+$8}')" "412x915"
browse "$TMP/out/report.html" --dump-dom >"$TMP/dom.html" 2>"$TMP/chromium.log"
same "the DOM has one table row per claim" "$(grep -o '<tr class="claim"' "$TMP/dom.html" | wc -l)" "$CLAIMS"
same "... one <svg> per chart" "$(grep -o '<svg ' "$TMP/dom.html" | wc -l)" 7
for c in claims cpu http latency memory size startup; do
    check "... chart $c" grep -q "id=\"chart-$c\"" "$TMP/dom.html"
done
browse "$TMP/markup/report.html" --dump-dom >"$TMP/markup-dom.html" 2>"$TMP/chromium.log"
same "the markup page's DOM has its one claim row" \
    "$(grep -o '<tr class="claim"' "$TMP/markup-dom.html" | wc -l)" 1
check "... the quote's markup is text, not an element" grep -qF \
    'the runtime is &lt;b&gt;~30 MB&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; | on disk' \
    "$TMP/markup-dom.html"
check "... so is the untestable entry's" \
    grep -qF '&lt;img src=x onerror=alert(2)&gt; $162,000 | a year' "$TMP/markup-dom.html"
check "... no script, img or b element" sh -c "! grep -qE '<(script|img|b)[ >]' '$TMP/markup-dom.html'"
# (The bracket keeps the pattern from matching the shell that runs pgrep.)
check "no chromium process is left" sh -c "! pgrep -f -- 'user-data-dir=$TMP/profil[e]' >/dev/null"
finish
