#!/bin/sh
# Builds CPython from Debian's pinned source tarball (bound at /in/Python.tar.xz) with
# $CONFIGURE_FLAGS into /out/usr/local, then keeps what a runtime needs, as Debian's python3.13
# runtime packages do: no test suite, idle, tkinter, turtledemo or ensurepip, no static library
# nor what links against it (config-3.13*/, python3.13-config, headers, pkg-config files), no
# manual pages, binaries stripped; bytecode at optimisation level 0 only, in unchecked-hash
# mode, compiled by /src/compile.py with the interpreter just installed.
set -eu
# Debian's alternatives (awk, cc) come from maintainer scripts, which never ran in the image.
mkdir -p /tmp/bin
ln -sf /usr/bin/mawk /tmp/bin/awk
ln -sf /usr/bin/gcc /tmp/bin/cc
PATH=/tmp/bin:$PATH
export PATH

cd /tmp
tar -xJf /in/Python.tar.xz
cd Python-3.13.5
# shellcheck disable=SC2086 # the flags are words
./configure --prefix=/usr/local $CONFIGURE_FLAGS >/tmp/configure.log 2>&1 || {
    tail -n 40 /tmp/configure.log
    exit 1
}
make -j"$(nproc)" >/tmp/make.log 2>&1 || {
    tail -n 60 /tmp/make.log
    exit 1
}
make install DESTDIR=/out >/tmp/install.log 2>&1 || {
    tail -n 40 /tmp/install.log
    exit 1
}

cd /out/usr/local
for d in lib/python3.13*; do
    rm -rf "$d/test" "$d/idlelib" "$d/tkinter" "$d/turtledemo" "$d/turtle.py" "$d/ensurepip" \
        "$d"/config-3.13*
done
# make install compiled three optimisation levels in checked-hash mode (SOURCE_DATE_EPOCH):
# all of it goes, and one level is compiled again below.
find lib -name __pycache__ -type d -prune -exec rm -rf {} +
find lib -name '*.a' -delete
rm -rf share/man lib/pkgconfig include bin/idle3* bin/python3*-config
find bin lib -type f \( -name 'python3.13*' -o -name '*.so' \) -exec strip --strip-unneeded {} + 2>/dev/null || true
dirs=""
for d in /out/usr/local/lib/python3.13*; do
    dirs="$dirs ${d#/out}"
done
# The installed interpreter, told where it lies for now; -B: its own imports write nothing.
# shellcheck disable=SC2086 # one word per folder
PYTHONHOME=/out/usr/local PYTHONHASHSEED=0 /out/usr/local/bin/python3 -B -S /src/compile.py \
    --root /out $dirs
mkdir -p share/appliance
{
    printf 'configure: %s\n' "--prefix=/usr/local $CONFIGURE_FLAGS"
    printf 'compiler: %s\n' "$(gcc --version | head -n 1)"
} >share/appliance/build-info.txt
