#!/usr/bin/env bash
# The images work: python-3.13 and go-1.23 are built (cached layers when present), unpacked
# with `image unpack`, and their programs run in a chroot in fresh mount and pid namespaces
# with /proc mounted and the environment from the image configuration.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
export APPLIANCE_IMAGES=$ROOT/images APPLIANCE_OUT=$TMP/out


UNSHARE=$(command -v unshare) CHROOT=$(command -v chroot) MOUNT=$(command -v mount)
BASH_BIN=$(command -v bash)
# Runs inside the new namespaces: a private /dev with the four harmless devices bound in, then
# chroot. /proc comes from unshare --mount-proc. Nothing outlives the mount namespace.
cat >"$TMP/in-root.sh" <<EOF
root=\$1; shift
$MOUNT -t tmpfs -o mode=0755,nosuid,noexec tmpfs "\$root/dev" || exit 111
for d in null zero random urandom; do
    : >"\$root/dev/\$d" && $MOUNT --bind "/dev/\$d" "\$root/dev/\$d" || exit 111
done
exec $CHROOT "\$root" "\$@"
EOF

# config_env LAYOUT: the Env lines of the image configuration, read from the layout itself.
config_json() {
    local m c
    m=$(jq -r '.manifests[0].digest' "$1/index.json") || return 1
    c=$(jq -r '.config.digest' "$1/blobs/sha256/${m#sha256:}") || return 1
    cat "$1/blobs/sha256/${c#sha256:}"
}
# in_image NAME CMD...: runs CMD in the unpacked image NAME with only the image's Env.
in_image() {
    local name=$1; shift
    local -a env
    mapfile -t env < <(config_json "$TMP/out/$name" | jq -r '.config.Env[]')
    [ "${#env[@]}" -gt 0 ] || return 1
    env -i "${env[@]}" "$UNSHARE" --mount --pid --fork --mount-proc="$TMP/root-$name/proc" \
        "$BASH_BIN" "$TMP/in-root.sh" "$TMP/root-$name" "$@"
}

for name in python-3.13 go-1.23; do
    root=$TMP/root-$name
    run "$APPLIANCE" image build "$name"
    expect_rc 0 "$name: image build exits 0"
    run "$APPLIANCE" image unpack "$name" "$root"
    expect_rc 0 "$name: image unpack into a new directory exits 0"
    check "$name: bin is a symlink to usr/bin" test -L "$root/bin" -a "$(readlink "$root/bin")" = usr/bin
    check "$name: lib is a symlink to usr/lib" test -L "$root/lib" -a "$(readlink "$root/lib")" = usr/lib
    same "$name: tmp has mode 1777" "$(stat -c %a "$root/tmp")" 1777
    entry=$(config_json "$TMP/out/$name" | jq -r '.config.Entrypoint[0]')
    check "$name: the entrypoint $entry is an executable in the tree" test -x "$root$entry"

    # var/lib/dpkg/status lists exactly the locked packages.
    status=$root/var/lib/dpkg/status
    check "$name: var/lib/dpkg/status exists" test -s "$status"
    same "$name: dpkg status lists as many packages as lock.json" \
        "$(grep -c '^Package: ' "$status")" "$(jq '.packages | length' "images/$name/lock.json")"
    same "$name: dpkg status lists the locked packages by name" \
        "$(sed -n 's/^Package: //p' "$status" | sort | xargs)" \
        "$(jq -r '.packages[].name' "images/$name/lock.json" | sort | xargs)"
    same "$name: every package in dpkg status is 'install ok installed'" \
        "$(grep -c '^Status: install ok installed$' "$status")" "$(grep -c '^Package: ' "$status")"
done

# unpack refuses a DEST that is not an empty directory, and leaves it alone (before anything
# runs in the unpacked trees, which may write to them).
mkdir -p "$TMP/nonempty" && echo keep >"$TMP/nonempty/file"
run "$APPLIANCE" image unpack python-3.13 "$TMP/nonempty"
expect_rc 2 "image unpack into a non-empty directory exits 2"
check "image unpack into a non-empty directory says so" grep -q 'not an empty directory' "$TMP/stderr"
check "image unpack left the non-empty directory as it was" \
    test "$(ls -A "$TMP/nonempty")" = file -a "$(cat "$TMP/nonempty/file")" = keep
echo data >"$TMP/a-file"
run "$APPLIANCE" image unpack python-3.13 "$TMP/a-file"
expect_rc 2 "image unpack onto an existing file exits 2"
mkdir "$TMP/empty"
run "$APPLIANCE" image unpack python-3.13 "$TMP/empty"
expect_rc 0 "image unpack into an existing empty directory exits 0"
check "image unpack into an empty directory gives the same tree" \
    diff -r --no-dereference "$TMP/root-python-3.13" "$TMP/empty"
run "$APPLIANCE" image unpack go-1.23-web-src "$TMP/not-built"
expect_rc 1 "image unpack of an image not built exits 1"
check "image unpack of an image not built creates no DEST" test ! -e "$TMP/not-built"

# Python: the standard library's C extensions load.
run in_image python-3.13 python3.13 -c 'import json, ssl, sqlite3, asyncio; print("ok")'
expect_rc 0 "python-3.13: python3.13 -c 'import json, ssl, sqlite3, asyncio' exits 0"
same "python-3.13: it prints ok" "$(cat "$TMP/stdout")" "ok"
run in_image python-3.13 python3.13 -c 'import os; print(os.getpid(), os.path.exists("/proc/self/status"), os.environ["LANG"])'
expect_rc 0 "python-3.13: python runs as pid 1 of its namespace"
same "python-3.13: pid 1, /proc mounted, LANG from the image config" "$(cat "$TMP/stdout")" "1 True C.UTF-8"
run in_image python-3.13 python3.13 -c 'import ssl, sqlite3, zlib, lzma, bz2; print(ssl.OPENSSL_VERSION.split()[0], sqlite3.sqlite_version_info >= (3, 0, 0))'
same "python-3.13: ssl is OpenSSL and sqlite3 works" "$(cat "$TMP/stdout")" "OpenSSL True"

# Go: the toolchain runs and builds a static program.
run in_image go-1.23 go version
expect_rc 0 "go-1.23: go version exits 0"
check "go-1.23: go version prints go1.23" grep -q 'go version go1\.23' "$TMP/stdout"
mkdir -p "$TMP/root-go-1.23/tmp/hello"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from go") }\n' \
    >"$TMP/root-go-1.23/tmp/hello/main.go"
run in_image go-1.23 go run /tmp/hello/main.go
expect_rc 0 "go-1.23: go run of a hello-world program exits 0"
same "go-1.23: the program prints its greeting" "$(cat "$TMP/stdout")" "hello from go"
run in_image go-1.23 go env GOROOT CGO_ENABLED
same "go-1.23: GOROOT and CGO_ENABLED come from the image config" "$(cat "$TMP/stdout" | xargs)" \
    "/usr/lib/go-1.23 0"

# The namespaces left nothing mounted under the unpacked trees.
check "no mount is left under the test folder" bash -c '! grep -qF " $1/" /proc/self/mounts' _ "$TMP"

finish
