#!/usr/bin/env bash
# CPython 3.13.5 built from Debian's pinned source tarball in three variants with the same
# configure flags: GIL (python-3.13-src), free-threaded (python-3.13t) and experimental JIT
# (python-3.13-jit). Cold, each compile takes minutes; warm, the stage outputs are reused.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

py() { local img=$1; shift; "$APPLIANCE" run "$img" -- "$@" 2>/dev/null; }

for img in python-3.13-src python-3.13t python-3.13-jit; do
    start=$SECONDS
    run "$APPLIANCE" image build "$img"
    expect_rc 0 "$img builds ($((SECONDS - start)) s)"
done

exe() { case $1 in python-3.13t) echo python3.13t ;; *) echo python3.13 ;; esac; }
for img in python-3.13-src python-3.13t python-3.13-jit; do
    p=$(exe "$img")
    out=$(py "$img" "$p" -c 'import sys; print(sys.version.split()[0])')
    same "$img: CPython 3.13.5" "$out" "3.13.5"
    out=$(py "$img" "$p" -c 'import json, ssl, sqlite3, asyncio, decimal, ctypes, lzma, bz2, zlib, uuid, readline, dbm.gnu; print("ok")')
    same "$img: the standard library's C extensions load" "$out" ok
    out=$(py "$img" "$p" -c 'import importlib.util, os
try:
    import test.support; print("test suite present")
except ImportError:
    print("no test suite")')
    same "$img: slim (no test suite)" "$out" "no test suite"
    out=$(py "$img" "$p" -c 'import json, importlib.util
with open(importlib.util.cache_from_source(json.__file__), "rb") as f:
    print(int.from_bytes(f.read(8)[4:8], "little"))')
    same "$img: .pyc files are unchecked-hash (flags 1)" "$out" 1
    py "$img" "$p" -c 'print(open("/usr/local/share/appliance/build-info.txt").read(), end="")' >"$TMP/$img.info"
    check "$img: records its compiler" grep -q '^compiler: gcc' "$TMP/$img.info"
done

same "python-3.13-src: the GIL is on" "$(py python-3.13-src python3.13 -c 'import sys; print(sys._is_gil_enabled())')" True
same "python-3.13t: sys._is_gil_enabled() is False" \
    "$(py python-3.13t python3.13t -c 'import sys; print(sys._is_gil_enabled())')" False
same "python-3.13-jit: PYTHON_JIT=1 reports an optimizer" \
    "$("$APPLIANCE" run --env PYTHON_JIT=1 python-3.13-jit -- python3.13 -c 'import _testinternalcapi; print(_testinternalcapi.get_optimizer() is not None)' 2>/dev/null)" True

# Identical configure flags but for the variant's own.
flags() { sed -n 's/^configure: //p' "$TMP/$1.info" | sed -e 's/ --disable-gil//' -e 's/ --enable-experimental-jit//'; }
same "python-3.13t: same configure flags as python-3.13-src but --disable-gil" "$(flags python-3.13t)" "$(flags python-3.13-src)"
same "python-3.13-jit: same configure flags as python-3.13-src but the JIT" "$(flags python-3.13-jit)" "$(flags python-3.13-src)"
check "python-3.13t was configured with --disable-gil" grep -q -- '--disable-gil' "$TMP/python-3.13t.info"
check "python-3.13-jit was configured with --enable-experimental-jit" grep -q -- '--enable-experimental-jit' "$TMP/python-3.13-jit.info"
finish
