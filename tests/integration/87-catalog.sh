#!/usr/bin/env bash
# appliance bench --list: the catalog of a profile (every measurement id with its suite, image
# and metrics) is what a real run of that profile measures. A quick run of every suite, cut
# down with --images and --only to a few workloads of each, must make exactly the catalog's
# measurements for those (no more, no fewer), each metric it holds listed with the same unit.
# Needs root and the images go-1.23-static, go-1.23-hello, python-3.13 and python-3.13-web
# (make test builds them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
require_root_and "$APPLIANCE"
# jqa ARGS...: jq -e with options before the filter and file; passes on output neither false
# nor null (and not empty).
jqa() { local out; out=$(jq -e "$@" 2>/dev/null) && [ -n "$out" ]; }

# ---- the catalog itself -------------------------------------------------------------------------
run "$APPLIANCE" bench --profile quick --list
expect_rc 0 "bench --list prints the quick profile's catalog"
cp "$TMP/stdout" "$TMP/quick.json"
check "the catalog is one JSON document of schema appliance-bench-catalog-1" \
    jqe '.schema == "appliance-bench-catalog-1" and (.measurements | length) > 100' "$TMP/quick.json"
check "every id in it is unique" \
    jqe '[.measurements[].id] | length == (unique | length)' "$TMP/quick.json"
run "$APPLIANCE" bench --profile standard --list
cp "$TMP/stdout" "$TMP/standard.json"
check "the standard profile lists the same ids (its levels and rates are the quick profile's)" \
    jqa --slurpfile q "$TMP/quick.json" '[.measurements[].id] == [$q[0].measurements[].id]' \
    "$TMP/standard.json"
run "$APPLIANCE" bench --profile nosuch --list
expect_rc 2 "an unknown profile is a usage error"

# ---- against a real run -------------------------------------------------------------------------
"$APPLIANCE" -q image build go-1.23-static go-1.23-hello python-3.13 python-3.13-web >/dev/null ||
    { fail "building the images the run measures"; finish; exit 1; }
IMAGES=go-1.23-static,go-1.23-hello,python-3.13,python-3.13-web
ONLY=pidigits,hello,threads,nethttp,flask,version,keywords,goroutine-stack
run "$APPLIANCE" -q bench --profile quick --images "$IMAGES" --only "$ONLY" --repeat 1 \
    --warmup 0 --allow-noisy --out "$TMP/run/results.json"
expect_rc 0 "a quick run of every suite over a few images and workloads"

# The catalog cut down the way --images and --only cut the run: an image among IMAGES (a server's
# measurements run on its language's server image) and a workload holding one of the words.
cut_catalog() {
    jq --arg images "$IMAGES" --arg only "$ONLY" '
        ($images | split(",")) as $imgs | ($only | split(",")) as $words
        | [.measurements[]
           | select(.image as $i | $imgs | index($i))
           | select(.workload as $w | .suite == "size" or any($words[]; . as $x | $w | contains($x)))
           | {id, metrics: (.metrics | map_values(.unit))}]
        | sort_by(.id)' "$TMP/quick.json"
}
cut_catalog >"$TMP/cut.json"
jq '[.measurements[] | {id, metrics: (.metrics | map_values(.unit))}] | sort_by(.id)' \
    "$TMP/run/results.json" >"$TMP/measured.json"
same "the run made exactly the catalog's measurements" \
    "$(jq -c '[.[].id]' "$TMP/measured.json")" "$(jq -c '[.[].id]' "$TMP/cut.json")"
check "every metric the run holds is in the catalog, with the same unit" \
    jqa --slurpfile c "$TMP/cut.json" '
        ($c[0] | map({(.id): .metrics}) | add) as $cat
        | all(.[]; .id as $id | .metrics | to_entries
              | all(.[]; $cat[$id][.key] == .value))' "$TMP/measured.json"
check "the run's sampled measurements hold every metric the catalog lists (latency levels a server did not sustain hold fewer)" \
    jqa --slurpfile c "$TMP/cut.json" '
        ($c[0] | map({(.id): .metrics}) | add) as $cat
        | all(.[] | select(.id | startswith("latency/") | not);
              .id as $id | ($cat[$id] | keys) == (.metrics | keys))' "$TMP/measured.json"
n=$(jq length "$TMP/measured.json")
check "the comparison covered the suites (size, startup, cpu, memory, threads, http, latency, lang: $n measurements)" \
    jqe '[.[].id | split("/")[0]] | unique == ["cpu","http","lang","latency","memory","size","startup","threads"]' \
    "$TMP/measured.json"

finish
