#!/usr/bin/env bash
# The tree's shape: the include graph against the layer order of docs/hacking.md, no cycle, no
# function over 120 lines, no .c file over 900, no block of six lines twice (tests/structure.py).
# A second run on a copy with one rule broken shows that each check can fail.
. "$(dirname "$0")/lib.sh"

if python3 "$ROOT/tests/structure.py" "$ROOT" >"$TMP/out" 2>&1; then
    pass "the tree keeps its structure rules"
else
    fail "the tree keeps its structure rules"
    sed 's/^/#   /' "$TMP/out"
fi

# Controls: a copy of the tree, broken one way at a time, is refused for that reason.
broken() {
    rm -rf "$TMP/copy" && mkdir -p "$TMP/copy" && cp -r "$ROOT/appliance" "$ROOT/docs" "$TMP/copy/"
}
refused_for() {
    if python3 "$ROOT/tests/structure.py" "$TMP/copy" >"$TMP/out" 2>&1; then
        fail "$1: not refused"
    elif grep -q "^FAIL - $2" "$TMP/out"; then
        pass "$1: refused ($2)"
    else
        fail "$1: refused for another reason"
        sed 's/^/#   /' "$TMP/out"
    fi
}
broken
printf '#include "../bench/bench.h"\n' >>"$TMP/copy/appliance/core/error.h"
refused_for "core/ including a bench/ header" "no include against the layer order"
broken
printf '#include "log.h"\n' >>"$TMP/copy/appliance/core/error.h"
printf '#include "error.h"\n' >>"$TMP/copy/appliance/core/log.h"
refused_for "two core headers including each other" "the include graph has no cycle"
broken
{
    printf 'int ap_long_function(void);\nint ap_long_function(void)\n{\n    int x = 0;\n'
    for i in $(seq 1 121); do printf '    x += %d;\n' "$i"; done
    printf '    return x;\n}\n'
} >>"$TMP/copy/appliance/core/error.c"
refused_for "a function of 123 lines" "no function over 120 lines"
broken
seq 1 901 | sed 's/.*/\/\* & \*\//' >>"$TMP/copy/appliance/core/log.c"
refused_for "a file of over 900 lines" "no .c file over 900 lines"
broken
sed -n '/^int ap_fs_write_all/,/^}/p' "$ROOT/appliance/core/fs.c" | sed 's/ap_fs_write_all/ap_fs_write_again/' >>"$TMP/copy/appliance/core/fs.c"
refused_for "a function written twice" "no block of 6 lines stands twice"
broken
printf '\nint ap_after_the_guard(void);\n' >>"$TMP/copy/appliance/core/log.h"
refused_for "a declaration after a header's #endif" "every header is enclosed in its include guard"
broken
sed -i 's/^Layer order/The order/' "$TMP/copy/docs/hacking.md"
refused_for "docs/hacking.md without the layer order" "the layer order is stated"
finish
