#!/usr/bin/env bash
# report.html in a real browser: the reports of real results (REPORT_RESULTS=FILE, copied, or
# else a quick run of the size and startup suites made here) and of a verdicts file made from
# them by the jq program below (a fixture: ratio claims on the size pairs, value claims on
# bare-process startup, judged by the band rule alone, one claim not comparable, one not
# reproducible here, one untestable entry with markup and a pipe in its quote), rendered by
# build/tests/report-render (report/output.h, what `appliance verdict --out DIR` calls).
# Debian's chromium, headless, in fresh network and PID namespaces (it can reach nothing and
# dies with the namespace, under a timeout), takes a phone-width screenshot (a 412x915 PNG)
# and dumps the DOM: one table row per claim, one <svg> per chart. Needs root (namespaces),
# chromium and jq (make deps); without REPORT_RESULTS, the images go-1.23-static,
# go-1.23-hello and python-3.13.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
RENDER=$ROOT/build/tests/report-render
make -s WERROR=1 build/tests/report-render >/dev/null 2>&1 || true
require_root_and "$APPLIANCE" "$RENDER"
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

# ---- a verdicts file over them --------------------------------------------------------------
cat >"$TMP/verdicts.jq" <<'JQ'
def band($p): {low: ($p / 1.1), high: ($p * 1.1)};
def judge($lo; $hi; $b): if $lo >= $b.low and $hi <= $b.high then "holds"
    elif $hi < $b.low or $lo > $b.high then "contradicted" else "inconclusive" end;
def ms($x): ($x // null) | if . == null then null else . * 1000 end;
[.size_pairs[] | .unpacked_bytes.ratio as $r | {
    id: ("size-" + (.label | ascii_downcase | gsub("[^a-z0-9]+"; "-"))), section: "size",
    where: "fixture", quote: ("| " + .label + " | 10x |"), kind: "ratio",
    metric: "unpacked_bytes", unit: "x", published: {value: 10, unit: "x"}, band: band(10),
    measured: {value: $r, low: $r, high: $r, coverage: 1, interval: "exact: counted sizes"},
    measured_over_published: ($r / 10), verdict: judge($r; $r; band(10)),
    rule: "fixture", why: "fixture"}] as $sizes
| [.measurements[] | select(.id | startswith("startup/process/")) | .metrics.wall_s as $w
  | (ms($w.stats.ci95_lo) // ms($w.stats.median)) as $lo
  | (ms($w.stats.ci95_hi) // ms($w.stats.median)) as $hi | {
    id: ("startup-" + .image + "-" + .workload), section: "startup", where: "fixture",
    quote: "starts in 20 ms", kind: "value", metric: "wall_s", unit: "ms",
    published: {value: 20, unit: "ms"}, band: band(20),
    measured: {value: ms($w.stats.median), low: $lo, high: $hi,
               coverage: ($w.stats.ci95_coverage // 0)},
    measured_over_published: (ms($w.stats.median) / 20),
    verdict: (if $w.status != "ok" then "inconclusive" else judge($lo; $hi; band(20)) end),
    rule: "fixture", why: ("status " + $w.status)}] as $starts
| {schema: "appliance-verdicts-1",
   claims: {path: "fixture.claims.json", sha256: "fixture"},
   results: {sha256: "fixture", run: .run.id, profile: .run.profile},
   source: {title: "Fixture <article> & more", url: "https://example.invalid/article",
            date: "2026-04-10", sha256: "fixture", checked: false},
   sections: [{id: "startup", title: "Startup"}, {id: "size", title: "Image sizes"}],
   fdr: {method: "benjamini-hochberg", q: 0.05, m: 0},
   verdicts: ($sizes + $starts + [
     {id: "rps-absolute", section: "startup", where: "fixture",
      quote: "serves <script>45,000</script> req/s | on 4 cores", kind: "value",
      metric: "rps", unit: "req/s", published: {value: 45000, unit: "req/s"},
      measured: {value: 30000}, verdict: "not comparable", rule: "not comparable",
      why: "not comparable across machines"},
     {id: "django-workers", section: "size", where: "fixture", quote: "Django, 4 workers",
      kind: "value", metric: "rps", unit: "req/s", published: {value: 1200, unit: "req/s"},
      verdict: "not reproducible here", rule: "not reproducible here",
      why: "measurement http/python-django-json/c64 is not in the results"}]),
   untestable: [{id: "salary", section: "size", quote: "$162,000 | a year", reason: "salary"}],
   counts: {}}
JQ
jq -f "$TMP/verdicts.jq" "$TMP/results.json" >"$TMP/verdicts.json" ||
    { fail "making the verdicts file"; finish; exit 1; }
CLAIMS=$(jq '.verdicts | length' "$TMP/verdicts.json")
check "the verdicts hold claims over the results (more than the two fixed ones)" \
    test "$CLAIMS" -gt 2

run "$RENDER" "$TMP/verdicts.json" "$TMP/results.json" "$TMP/out"
expect_rc 0 "report.md and report.html rendered"
check "... report.md written" test -s "$TMP/out/report.md"
check "... report.html written" test -s "$TMP/out/report.html"
ROWS=0
for id in $(jq -r '.verdicts[].id' "$TMP/verdicts.json"); do
    ROWS=$((ROWS + $(grep -c "^| $id |" "$TMP/out/report.md")))
done
same "report.md has one row per claim" "$ROWS" "$CLAIMS"
check "... no raw markup from a quote" sh -c "! grep -q '<script' '$TMP/out/report.html' '$TMP/out/report.md'"
cp -r "$TMP/out" "$TMP/again"
run "$RENDER" "$TMP/verdicts.json" "$TMP/results.json" "$TMP/again"
check "rendering again gives the same bytes" cmp -s "$TMP/out/report.html" "$TMP/again/report.html"

# ---- chromium, headless, with no network ----------------------------------------------------
# A fresh network namespace (nothing to reach) and PID namespace (every process it starts dies
# with it), under a timeout.
browse() {
    timeout -k 5 120 unshare --net --pid --fork --mount-proc --kill-child \
        env HOME="$TMP/home" chromium --headless --no-sandbox --disable-gpu \
        --disable-background-networking --no-first-run --disable-component-update \
        --disable-sync --disable-extensions --disable-default-apps --no-default-browser-check \
        --hide-scrollbars --user-data-dir="$TMP/profile" "$@" "file://$TMP/out/report.html"
}
mkdir -p "$TMP/home"
browse --screenshot="$TMP/shot.png" --window-size=412,915 >"$TMP/chromium.log" 2>&1
check "chromium took a screenshot" test -s "$TMP/shot.png"
same "... a PNG" "$(head -c 8 "$TMP/shot.png" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a"
same "... 412 x 915 (a phone's width)" \
    "$(od -An -tu1 -j16 -N8 "$TMP/shot.png" | awk '{print $3*256+$4 "x" $7*256+$8}')" "412x915"
browse --dump-dom >"$TMP/dom.html" 2>"$TMP/chromium.log"
same "the DOM has one table row per claim" "$(grep -o '<tr class="claim"' "$TMP/dom.html" | wc -l)" "$CLAIMS"
same "... one <svg> per chart" "$(grep -o '<svg ' "$TMP/dom.html" | wc -l)" 7
for c in claims cpu http latency memory size startup; do
    check "... chart $c" grep -q "id=\"chart-$c\"" "$TMP/dom.html"
done
check "... the quote's markup is text, not an element" \
    grep -q '&lt;script&gt;45,000&lt;/script&gt; req/s | on 4 cores' "$TMP/dom.html"
check "... no script element" sh -c "! grep -q '<script' '$TMP/dom.html'"
# (The bracket keeps the pattern from matching the shell that runs pgrep.)
check "no chromium process is left" sh -c "! pgrep -f -- 'user-data-dir=$TMP/profil[e]' >/dev/null"
finish
