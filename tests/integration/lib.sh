# Shared helpers for the integration tests (sourced). Each test script counts its checks and
# ends with the closing line "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
APPLIANCE=${APPLIANCE:-$ROOT/build/appliance}
PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/appliance-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# skip DESCRIPTION REASON: says why a check did not run (counted neither way).
skip() { echo "skip - $1: $2"; }
finish() {
    echo "$PASSED passed, $FAILED failed ($(basename "$0" .sh))"
    [ "$FAILED" -eq 0 ]
}
