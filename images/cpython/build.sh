#!/bin/sh
# Builds CPython from Debian's pinned source tarball (bound at /in/Python.tar.xz) with
# $CONFIGURE_FLAGS into /out/usr/local, then slims it: no test suite, idle, tkinter or static
# library, binaries stripped, .pyc compiled in checked-hash mode (SOURCE_DATE_EPOCH is set).
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
    rm -rf "$d/test" "$d/idlelib" "$d/tkinter" "$d/turtledemo" "$d/turtle.py" \
        "$d/__pycache__/turtle."*
    find "$d" -name '*.a' -delete
done
rm -rf share/man lib/pkgconfig
find bin lib -type f \( -name 'python3.13*' -o -name '*.so' \) -exec strip --strip-unneeded {} + 2>/dev/null || true
mkdir -p share/appliance
{
    printf 'configure: %s\n' "--prefix=/usr/local $CONFIGURE_FLAGS"
    printf 'compiler: %s\n' "$(gcc --version | head -n 1)"
} >share/appliance/build-info.txt
