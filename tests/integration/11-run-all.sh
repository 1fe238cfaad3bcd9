#!/usr/bin/env bash
# tests/run-all itself: a suite whose test programs were not built fails, naming the suite, the
# number it expected (one per source) and the programs missing; with every program present it
# passes; closing lines are added up, skips included; a program that fails fails the run.
# The programs are stand-ins in a scratch build directory (RUN_ALL_BUILD), one per real source,
# each printing a closing line: nothing real is run, and the real build directory is not touched.
# Fast: builds nothing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

B=$TMP/build
mkdir -p "$B"
count() { ls "$@" 2>/dev/null | wc -l; }
NUNIT=$(count tests/unit/test_*.c)
NFUZZ=$(count tests/fuzz/fuzz_*.c)
check "there are unit and fuzz sources to expect programs for ($NUNIT, $NFUZZ)" \
    test "$NUNIT" -gt 0 -a "$NFUZZ" -gt 0
out_has() { grep -qF -- "$1" "$TMP/stdout"; }
total_is() { grep -qx -- "total: $1" "$TMP/stdout"; }
# stand_ins DIR GLOB LINE: one executable in DIR per source matching GLOB, printing LINE.
stand_ins() {
    local dir=$1 glob=$2 line=$3 src
    mkdir -p "$dir"
    for src in $glob; do
        printf '#!/bin/sh\necho "%s"\n' "$line" >"$dir/$(basename "$src" .c)"
        chmod 755 "$dir/$(basename "$src" .c)"
    done
}

# ---- nothing built ----------------------------------------------------------------------------
for suite in unit asan fuzz; do
    n=$NUNIT what="tests/unit/test_*.c" dir=$B/tests
    [ $suite = asan ] && dir=$B/asan/tests
    [ $suite = fuzz ] && n=$NFUZZ what="tests/fuzz/fuzz_*.c" dir=$B/fuzz
    run env RUN_ALL_BUILD="$B" tests/run-all $suite
    expect_rc 1 "$suite with nothing built fails"
    check "... naming the suite and the count it expected ($n)" \
        out_has "--- $suite: expected $n test programs (one per $what), found 0 in $dir;"
    check "... counting each missing program as a failure" total_is "0 passed, $n failed, 0 skipped"
done

# ---- every program present ----------------------------------------------------------------------
stand_ins "$B/tests" "tests/unit/test_*.c" "2 passed, 0 failed"
run env RUN_ALL_BUILD="$B" tests/run-all unit
expect_rc 0 "unit with a program for every source passes"
check "... adding up their closing lines" total_is "$((2 * NUNIT)) passed, 0 failed, 0 skipped"
check "... and says nothing is missing" sh -c "! grep -q 'missing' '$TMP/stdout'"
first=$(basename "$(ls tests/unit/test_*.c | head -n 1)" .c)
check "... with its logs in RUN_ALL_BUILD" test -s "$B/test-logs/unit-$first.log"
slowest=$((NUNIT < 10 ? NUNIT : 10))
check "... and the seconds of its $slowest slowest programs" \
    sh -c "grep -qx 'slowest test programs (seconds):' '$TMP/stdout' &&
           test \$(grep -Ec '^  [0-9]+ unit-test_[a-z0-9_]+\$' '$TMP/stdout') -eq $slowest"
stand_ins "$B/fuzz" "tests/fuzz/fuzz_*.c" "fuzzed"
run env RUN_ALL_BUILD="$B" FUZZ_SECONDS=1 tests/run-all fuzz
expect_rc 0 "fuzz with a program for every source passes"
check "... each counted once" total_is "$NFUZZ passed, 0 failed, 0 skipped"

# ---- one missing ------------------------------------------------------------------------------
gone=$(basename "$(ls tests/unit/test_*.c | tail -n 1)" .c)
rm "$B/tests/$gone"
run env RUN_ALL_BUILD="$B" tests/run-all unit
expect_rc 1 "unit with one program missing fails"
check "... naming it ($gone)" out_has "expected $NUNIT test programs (one per \
tests/unit/test_*.c), found $((NUNIT - 1)) in $B/tests; missing: $gone:"
check "... the others still run" total_is "$((2 * (NUNIT - 1))) passed, 1 failed, 0 skipped"

# ---- closing lines: skips, failures -------------------------------------------------------------
stand_ins "$B/tests" "tests/unit/test_*.c" "t: 1 passed, 0 failed, 2 skipped"
run env RUN_ALL_BUILD="$B" tests/run-all unit
expect_rc 0 "closing lines with skips pass"
check "... and their skips are added up as skips" \
    total_is "$NUNIT passed, 0 failed, $((2 * NUNIT)) skipped"
printf '#!/bin/sh\necho "1 passed, 1 failed"\nexit 1\n' >"$B/tests/$gone"
run env RUN_ALL_BUILD="$B" tests/run-all unit
expect_rc 1 "control: one program that fails fails the run"
check "... counted as its closing line says" \
    total_is "$NUNIT passed, 1 failed, $((2 * (NUNIT - 1))) skipped"

# ---- a glob that matches nothing --------------------------------------------------------------
# A copy of the runner in a tree with no test sources: every suite finds nothing to run.
mkdir -p "$TMP/tree/tests/unit" "$TMP/tree/tests/integration" "$TMP/tree/tests/security"
cp tests/run-all "$TMP/tree/tests/run-all"
for suite in unit integration security; do
    case $suite in
    unit) what="tests/unit/test_*.c" ;;
    integration) what="tests/integration/[0-9]*.sh" ;;
    security) what="tests/security/*.sh" ;;
    esac
    run env RUN_ALL_BUILD="$B" "$TMP/tree/tests/run-all" $suite
    expect_rc 1 "$suite with no sources at all fails"
    check "... saying it found no $what" out_has "--- $suite: found no $what: counted as 1 failed"
done

finish
