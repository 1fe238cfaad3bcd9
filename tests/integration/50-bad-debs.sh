#!/usr/bin/env bash
# Hostile packages: crafted .debs whose data.tar tries to write outside the image root (".."
# names, absolute names, escaping or followed symbolic links, hard links through links) or to
# create device nodes. Each must fail the build with a message naming the entry and leave
# nothing behind, inside or outside the test folder. A valid crafted package is the positive
# control. Fixtures are made here with python3 (tarfile and a small ar writer) and served from a
# file:// mirror, so this test needs no network.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
export APPLIANCE_IMAGES=$TMP/images APPLIANCE_CACHE=$TMP/cache APPLIANCE_OUT=$TMP/out
unset APPLIANCE_MIRROR


# Paths on the host that an escape would create; none may exist before or after.
HOST_TARGETS=(/etc/evil /tmp/pwned /tmp/escape /escape /tmp/pwned-good /tmp/pwned-xii)

# --- The fixtures. ----------------------------------------------------------------------------
mkdir -p "$TMP/fixtures"
python3 - "$TMP/fixtures" <<'EOF'
import io, os, sys, tarfile

out = sys.argv[1]

def ar(members):
    b = bytearray(b"!<arch>\n")
    for name, data in members:
        hdr = "%-16s%-12s%-6s%-6s%-8s%-10s" % (name, "0", "0", "0", "100644", len(data))
        b += hdr.encode() + b"`\n" + data
        if len(data) % 2:
            b += b"\n"
    return bytes(b)

def tar(entries, mode="w:xz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            kind, name = e[0], e[1]
            ti = tarfile.TarInfo(name)  # kept exactly as given: no stripping of "/" or ".."
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 1735689600, 0, 0, "root", "root"
            data = None
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "file":
                data = e[2].encode()
                ti.type, ti.mode, ti.size = tarfile.REGTYPE, 0o644, len(data)
            elif kind == "symlink":
                ti.type, ti.mode, ti.linkname = tarfile.SYMTYPE, 0o777, e[2]
            elif kind == "hardlink":
                ti.type, ti.mode, ti.linkname = tarfile.LNKTYPE, 0o644, e[2]
            elif kind == "chr":
                ti.type, ti.mode, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 0o666, 1, 3
            elif kind == "fifo":
                ti.type, ti.mode = tarfile.FIFOTYPE, 0o644
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def deb(fixture, package, entries):
    control = ("Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: Test <test@example.org>\n"
               "Installed-Size: 1\nDescription: crafted test package\n" % package)
    members = [("debian-binary", b"2.0\n"),
               ("control.tar.xz", tar([("dir", "./"), ("file", "./control", control)])),
               ("data.tar.xz", tar(entries))]
    with open(os.path.join(out, fixture + ".deb"), "wb") as f:
        f.write(ar(members))

usr = [("dir", "./"), ("dir", "./usr/")]
# The escapes are aimed so that, if unpacked literally, they land where this test looks:
# the build tree is CACHE/builds/<work>/rootfs, so "../../../../" is the test folder.
deb("i", "bad", usr + [("file", "../../../../escape", "escaped\n"), ("file", "../escape", "escaped\n")])
deb("ii", "bad", usr + [("file", "/etc/evil", "evil\n")])
deb("iii", "bad", usr + [("symlink", "usr/evil", "../../../../tmp"), ("file", "usr/evil/pwned", "pwned\n")])
deb("iv", "bad", usr + [("dir", "./dev/"), ("chr", "./dev/evilnull")])
deb("v", "bad", usr + [("symlink", "./usr/d", "/"), ("file", "./usr/d/tmp/pwned", "pwned\n")])
deb("vi", "bad", usr + [("file", "./usr/share/../../../../../escape", "escaped\n")])
deb("vii", "bad", usr + [("hardlink", "./usr/passwd", "/etc/passwd")])
deb("viii", "bad", usr + [("symlink", "./usr/etc", "/etc"), ("hardlink", "./usr/passwd", "usr/etc/passwd")])
deb("ix", "bad", usr + [("fifo", "./usr/evilfifo")])
deb("x", "bad", usr + [("symlink", "./usr/evil", "../../../../../../../../../../../../../../tmp")])
deb("xi", "bad", usr + [("dir", "./usr/d/"), ("symlink", "./usr/d", "/tmp"), ("file", "./usr/d/pwned", "pwned\n")])
# An OCI whiteout: image tools read usr/.wh.bin in a layer as "delete /usr/bin below".
deb("xii", "bad", usr + [("file", "./usr/.wh.bin", "")])
# A name that would recolour the terminal and start a line of its own if printed raw.
deb("xiii", "bad", usr + [("file", "./usr/\x1b[31mred\nHint: all is well", "x\n")])

# The positive control: plain files, a directory shipped as ./bin/ (merged-/usr), relative and
# absolute symbolic links inside the tree, a hard link, and a file replacing a symbolic link
# (which must not be followed).
deb("good", "good", [
    ("dir", "./"), ("dir", "./bin/"), ("file", "./bin/good-tool", "#!tool\n"),
    ("dir", "./usr/"), ("dir", "./usr/share/"), ("dir", "./usr/share/good/"),
    ("file", "./usr/share/good/hello.txt", "hello from a crafted package\n"),
    ("hardlink", "./usr/share/good/hello-link.txt", "./usr/share/good/hello.txt"),
    ("dir", "./usr/bin/"),
    ("symlink", "./usr/bin/good-hello", "../share/good/hello.txt"),
    ("symlink", "./usr/share/good/abs", "/usr/share/good/hello.txt"),
    ("symlink", "./usr/share/good/replaced", "/tmp/pwned-good"),
    ("file", "./usr/share/good/replaced", "a file now\n"),
])
EOF
check "python3 wrote the 14 fixtures" test "$(ls "$TMP/fixtures" | wc -l)" -eq 14
check "the positive control is a valid .deb to dpkg-deb" \
    bash -c 'dpkg-deb --info "$1" >/dev/null && dpkg-deb --contents "$1" 2>/dev/null | grep -q hello.txt' _ "$TMP/fixtures/good.deb"
check "fixture i keeps its \"..\" member name" bash -c 'dpkg-deb --contents "$1" 2>/dev/null | grep -qF "../escape"' _ "$TMP/fixtures/i.deb"
check "fixture ii keeps its absolute member name" bash -c 'dpkg-deb --fsys-tarfile "$1" | tar -tf - 2>/dev/null | grep -qx "/etc/evil"' _ "$TMP/fixtures/ii.deb"

BEFORE_HOST=$(for t in "${HOST_TARGETS[@]}"; do { [ -e "$t" ] || [ -L "$t" ]; } && echo "$t"; done)
for t in $BEFORE_HOST; do skip "host path $t stays absent" "it exists before the test"; done

# make_image NAME FIXTURE PACKAGE: an image folder whose lock pins the fixture, and a file://
# mirror holding it.
make_image() {
    local name=$1 fixture=$TMP/fixtures/$2.deb package=$3
    local file="pool/main/${package:0:1}/$package/${package}_1_all.deb"
    mkdir -p "$TMP/images/$name" "$TMP/mirror-$name/$(dirname "$file")"
    cp "$fixture" "$TMP/mirror-$name/$file"
    jq -n --arg n "$name" --arg p "$package" \
        '{name: $n, description: "crafted", source_date_epoch: 1735689600, suites: ["trixie"],
          packages: [$p], env: ["PATH=/usr/bin"], entrypoint: [], cmd: [], workdir: "/", files: []}' \
        >"$TMP/images/$name/image.json"
    jq -n --arg n "$name" --arg p "$package" --arg f "$file" \
        --arg sha "$(sha256sum <"$fixture" | cut -d' ' -f1)" --argjson size "$(stat -c %s "$fixture")" \
        '{lock_version: 1, image: $n, architecture: "amd64", mirror: "file:///",
          releases: [], packages: [{name: $p, version: "1", architecture: "all", suite: "trixie",
          filename: $f, sha256: $sha, size: $size}]}' >"$TMP/images/$name/lock.json"
}

# leftovers: names of files an escape would have created anywhere in the test folder (outside
# the fixtures, mirrors and cached downloads, which hold the .debs themselves) or on the host.
leftovers() {
    find "$TMP" \( -path "$TMP/fixtures" -o -path "$TMP/mirror-*" -o -path "$TMP/cache/blobs" \) -prune \
        -o \( -name 'escape*' -o -name '*evil*' -o -name 'pwned*' -o -name passwd \) -print
    local t
    for t in "${HOST_TARGETS[@]}"; do
        { [ -e "$t" ] || [ -L "$t" ]; } && ! grep -qxF -- "$t" <<<"$BEFORE_HOST" && echo "$t"
    done
    [ -e "$TMP/cache/tmp" ] && echo "$TMP/cache/tmp"
    return 0
}

# --- Each hostile package fails, naming the entry, and leaves nothing. -------------------------
# fixture | what the message must contain | what it is
cases=(
    "i|../../../../escape|a \"..\" name"
    "ii|/etc/evil|an absolute name"
    "iii|usr/evil|a symbolic link escaping the root (../../../../tmp)"
    "iv|dev/evilnull|a character device"
    "v|usr/d/tmp/pwned|a file through an absolute symbolic link to /"
    "vi|./usr/share/../../../../../escape|a \"..\" inside a name"
    "vii|/etc/passwd|a hard link to an absolute path"
    "viii|usr/etc/passwd|a hard link through a symbolic link"
    "ix|usr/evilfifo|a FIFO"
    "x|usr/evil|a symbolic link climbing to the host's /tmp"
    "xi|usr/d|a symbolic link replacing a directory"
    "xii|./usr/.wh.bin|an OCI whiteout name"
    'xiii|./usr/\033[31mred\nHint: all is well|a name with an escape sequence and a newline'
)
declare -A WHY=([i]='".." component' [ii]='absolute path' [iii]='escapes the root' [iv]='character device'
    [v]='symbolic link' [vi]='".." component' [vii]='absolute path' [viii]='symbolic link'
    [ix]='FIFO' [x]='escapes the root' [xi]='directory' [xii]='OCI whiteout'
    [xiii]='control character')
for c in "${cases[@]}"; do [ -n "${ONLY:-}" ] && [[ $c != "$ONLY|"* ]] && continue
    IFS='|' read -r fx entry what <<<"$c"
    name=bad-$fx
    make_image "$name" "$fx" bad
    run "$APPLIANCE" image build "$name" --mirror "file://$TMP/mirror-$name"
    expect_rc 1 "$name ($what): image build exits 1"
    check "$name: the message names the entry $entry" err_has "$entry"
    check "$name: the message names the package" err_has "bad 1 (all)"
    check "$name: the message says why (${WHY[$fx]})" err_has "${WHY[$fx]}"
    check "$name: the message holds no raw control character but its line ends" \
        bash -c '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$1")' _ "$TMP/stderr"
    check "$name: no line of the message comes from the entry's name" \
        bash -c '! grep -q "^Hint: all is well" "$1"' _ "$TMP/stderr"
    check "$name: no layout $name was written" test ! -e "$TMP/out/$name"
    check "$name: no build folder is left in the cache" test -z "$(ls -A "$TMP/cache/builds" 2>/dev/null)"
    found=$(leftovers)
    check "$name: nothing was written outside the image root${found:+ (found: $(echo $found))}" \
        test -z "$found"
    check "$name: the fixture was fetched and verified (in the cache)" \
        test -f "$TMP/cache/blobs/sha256/$(jq -r '.packages[0].sha256' "$TMP/images/$name/lock.json")"
done

# --- The positive control builds, unpacks and holds its files. ---------------------------------
make_image good good good
run "$APPLIANCE" image build good --json --mirror "file://$TMP/mirror-good"
expect_rc 0 "good: the valid crafted package builds"
check "good: image build reports 1 package" jqe '.[0].packages == 1' "$TMP/stdout"
run "$APPLIANCE" image build good --json --rebuild --mirror "file://$TMP/mirror-good"
cp "$TMP/stdout" "$TMP/good2.json"
run "$APPLIANCE" image inspect good --json
expect_rc 0 "good: image inspect exits 0"
same "good: a second --rebuild gives the same digest" \
    "$(jq -r '.manifest_digest' "$TMP/stdout" 2>/dev/null)" "$(jq -r '.[0].manifest_digest' "$TMP/good2.json" 2>/dev/null)"
U=$TMP/unpacked-good
run "$APPLIANCE" image unpack good "$U"
expect_rc 0 "good: image unpack exits 0"
same "good: usr/share/good/hello.txt holds its content" "$(cat "$U/usr/share/good/hello.txt" 2>/dev/null)" \
    "hello from a crafted package"
check "good: ./bin/good-tool landed in usr/bin (merged /usr)" test -f "$U/usr/bin/good-tool" -a ! -L "$U/usr/bin/good-tool"
check "good: bin is still the symlink to usr/bin" test -L "$U/bin" -a "$(readlink "$U/bin")" = usr/bin
same "good: the relative symlink is kept" "$(readlink "$U/usr/bin/good-hello")" "../share/good/hello.txt"
same "good: the absolute symlink inside the tree is kept" "$(readlink "$U/usr/share/good/abs")" \
    "/usr/share/good/hello.txt"
check "good: the hard link shares the file's inode" test "$U/usr/share/good/hello-link.txt" -ef "$U/usr/share/good/hello.txt"
check "good: a file replacing a symlink is a regular file" test -f "$U/usr/share/good/replaced" -a ! -L "$U/usr/share/good/replaced"
same "good: ... with the file's content" "$(cat "$U/usr/share/good/replaced" 2>/dev/null)" "a file now"
check "good: the replaced symlink's target on the host was not created" test ! -e /tmp/pwned-good
check "good: var/lib/dpkg/status lists the package" grep -qx 'Package: good' "$U/var/lib/dpkg/status"
same "good: the file mode is the one in the package" "$(stat -c %a "$U/usr/share/good/hello.txt")" 644

AFTER_HOST=$(for t in "${HOST_TARGETS[@]}"; do { [ -e "$t" ] || [ -L "$t" ]; } && echo "$t"; done)
same "no host path an escape would create appeared" "${AFTER_HOST:-none}" "${BEFORE_HOST:-none}"

finish
