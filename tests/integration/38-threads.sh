#!/usr/bin/env bash
# The thread-scaling workload gives the right answer with 1, 2, 4 and 8 workers: goroutines
# in go-1.23-static, threads in Debian's python-3.13 and in the free-threaded python-3.13t.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

run "$APPLIANCE" image build go-1.23-static python-3.13 python-3.13t
expect_rc 0 "the images build"
n=$(jq -r .check.n images/workloads/threads/workload.json)
want=$(jq -r .check.expected.text images/workloads/threads/workload.json | tr -d '\n')
for w in 1 2 4 8; do
    out=$("$APPLIANCE" run --cpus 2 --memory 256M --timeout 120 go-1.23-static -- /usr/local/bin/threads "$n" "$w" 2>/dev/null)
    same "go, $w goroutines: $want primes below $n" "$out" "$want"
    for img in python-3.13 python-3.13t; do
        exe=python3.13
        [ "$img" = python-3.13t ] && exe=python3.13t
        out=$("$APPLIANCE" run --cpus 2 --memory 256M --timeout 300 \
            --bind "$ROOT/images/workloads:/workloads" "$img" -- \
            "$exe" /workloads/threads/threads.py "$n" "$w" 2>/dev/null)
        same "$img, $w threads: $want primes below $n" "$out" "$want"
    done
done
finish
