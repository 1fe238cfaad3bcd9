#!/usr/bin/env bash
# The command line: help, exit statuses for misuse and for missing images, `image ls --json`.
# Fast: builds nothing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
export APPLIANCE_OUT=$TMP/out APPLIANCE_IMAGES=$ROOT/images

out_has() { grep -qF -- "$1" "$TMP/stdout"; }

# Help.
run "$APPLIANCE" --help
expect_rc 0 "appliance --help exits 0"
check "appliance --help lists the image verb on stdout" out_has "image"
check "appliance --help says first what the appliance is for" \
    bash -c 'head -n 1 "$1" | grep -q "Go-vs-Python performance claims"' _ "$TMP/stdout"
check "... builds, runs in a sandbox, measures, writes signed archives verified offline" \
    bash -c 'for w in "builds pinned" sandbox measures "signed result archives" verify offline; do
        grep -q "$w" "$1" || exit 1; done' _ "$TMP/stdout"
check "... and lists every verb" \
    bash -c 'for v in image run load bench keygen compare rerun pack verify version; do
        grep -Eq "^  $v " "$1" || exit 1; done' _ "$TMP/stdout"
run "$APPLIANCE" image --help
expect_rc 0 "appliance image --help exits 0"
check "appliance image --help describes build, ls, inspect and unpack" \
    bash -c 'for v in build ls inspect unpack; do grep -q "appliance image $v" "$1" || exit 1; done' _ "$TMP/stdout"
run "$APPLIANCE" image build --help
expect_rc 0 "appliance image build --help exits 0"
run "$APPLIANCE" version --help
expect_rc 0 "appliance version --help exits 0"
run "$APPLIANCE" version
expect_rc 0 "appliance version exits 0"
check "appliance version prints a version number" grep -qE '^appliance [0-9]+\.[0-9]+\.[0-9]+' "$TMP/stdout"

# Usage errors: exit 2 with a message on stderr.
run "$APPLIANCE"
expect_rc 2 "no verb exits 2"
run "$APPLIANCE" frobnicate
expect_rc 2 "unknown verb exits 2"
check "unknown verb is named in the message" err_has "frobnicate"
run "$APPLIANCE" --no-such-option image ls
expect_rc 2 "unknown global option exits 2"
check "unknown global option is named in the message" err_has "--no-such-option"
run "$APPLIANCE" image build --no-such-option
expect_rc 2 "unknown image build option exits 2"
check "unknown image build option is named in the message" err_has "--no-such-option"
run "$APPLIANCE" image ls --frob
expect_rc 2 "unknown image ls option exits 2"
run "$APPLIANCE" image build --out
expect_rc 2 "image build --out without its argument exits 2"
run "$APPLIANCE" image frob
expect_rc 2 "unknown image sub-verb exits 2"
run "$APPLIANCE" image
expect_rc 2 "image without a sub-verb exits 2"
run "$APPLIANCE" image inspect
expect_rc 2 "image inspect without a name exits 2"
run "$APPLIANCE" image inspect python-3.13 go-1.23
expect_rc 2 "image inspect with two names exits 2"
run "$APPLIANCE" image unpack python-3.13
expect_rc 2 "image unpack without DEST exits 2"
run "$APPLIANCE" image ls extra-argument
expect_rc 2 "image ls with an argument exits 2"
run "$APPLIANCE" version extra-argument
expect_rc 2 "version with an argument exits 2"

# bench: what does not fit --images or --repeat is refused naming the limit; nothing is cut.
# Each control passes the parser and fails later, on an image outside the plan (exit 1).
run "$APPLIANCE" bench --images "$(seq -s, 33)"
expect_rc 2 "bench --images with 33 names exits 2"
check "... naming the limit of 32" err_has "--images: at most 32 images"
run "$APPLIANCE" bench --images "$(seq -s, 32)" --out "$TMP/bench/results.json"
expect_rc 1 "control: bench --images with 32 names gets past the options"
long=$(printf 'x%.0s' $(seq 1100))
run "$APPLIANCE" bench --images "$long" --out "$TMP/bench/results.json"
expect_rc 1 "bench --images with a name of 1100 bytes exits 1 (not in the plan)"
check "... naming the whole name, not a cut one" err_has "--images: $long is not an image"
run "$APPLIANCE" bench --repeat 100001
expect_rc 2 "bench --repeat 100001 exits 2"
check "... naming the limit of 100000" err_has "at most 100000"
run "$APPLIANCE" bench --repeat 100000 --images no-such-image --out "$TMP/bench/results.json"
expect_rc 1 "control: bench --repeat 100000 gets past the options"

# Paths built from the environment: one longer than its buffer (4096 bytes) is an error naming
# what it was for, never a cut path; each control is the same call with a short path.
longpath=/$(printf 'p/%.0s' $(seq 2100))
run env -u APPLIANCE_CACHE -u XDG_CACHE_HOME HOME="$longpath" "$APPLIANCE" image ls
expect_rc 1 "a HOME of 4201 bytes exits 1"
check "... naming the cache folder under HOME, too long" \
    bash -c 'grep -qF "the cache folder under HOME" "$1" && grep -qF "File name too long" "$1"' \
    _ "$TMP/stderr"
check "... with a hint to set APPLIANCE_CACHE" err_has "set APPLIANCE_CACHE"
run env -u APPLIANCE_CACHE -u XDG_CACHE_HOME HOME="$TMP/home" "$APPLIANCE" image ls
expect_rc 0 "control: the same image ls with a short HOME exits 0"
run env APPLIANCE_OUT="$longpath" "$APPLIANCE" image inspect python-3.13
expect_rc 2 "image inspect with an APPLIANCE_OUT of 4201 bytes exits 2"
check "... naming the layout and the limit" err_has "the layout of image python-3.13 under"
check "... the limit" err_has "longer than 4095 bytes"
run "$APPLIANCE" image inspect python-3.13
expect_rc 1 "control: the same image inspect with a short APPLIANCE_OUT gets to the layout (not built)"
check "... and says which image" err_has "image python-3.13"

# Failures: exit 1 with a message that says what and how to fix it.
run "$APPLIANCE" image inspect no-such-image
expect_rc 1 "image inspect no-such-image exits 1"
check "image inspect no-such-image names the image" err_has "no-such-image"
check "image inspect no-such-image prints nothing on stdout" test ! -s "$TMP/stdout"
run "$APPLIANCE" image build no-such-image --out "$TMP/out"
expect_rc 1 "image build no-such-image exits 1"
check "image build no-such-image names the image" err_has "no-such-image"
check "image build no-such-image hints at \`appliance image ls\`" err_has "appliance image ls"
check "image build no-such-image leaves no layout" test ! -e "$TMP/out/no-such-image"

# image ls --json: valid JSON listing exactly the images defined under images/.
expected=$(cd images && for d in */; do [ -f "$d/image.json" ] && echo "${d%/}"; done | sort)
run "$APPLIANCE" image ls --json --out "$TMP/empty-out"
expect_rc 0 "image ls --json exits 0"
check "image ls --json is valid JSON (an array)" jqe 'type == "array"' "$TMP/stdout"
got=$(jq -r '.[].name' "$TMP/stdout" 2>/dev/null | sort)
check "image ls --json lists at least the 5 images" test "$(echo "$got" | wc -l)" -ge 5
check "image ls --json names match images/ ($(echo $expected))" test "$got" = "$expected"
for want in python-3.13 python-3.13-web go-1.23 go-1.23-web-src go-1.23-static python-3.13-src \
    python-3.13t python-3.13-jit; do
    check "image ls --json lists $want" grep -qx "$want" <<<"$got"
done
check "image ls --json in an empty --out reports nothing built" \
    jqe 'all(.[]; .built == false and .manifest_digest == null)' "$TMP/stdout"
run "$APPLIANCE" image ls --out "$TMP/empty-out"
expect_rc 0 "image ls (table) exits 0"
check "image ls table has a header and one row per image" \
    test "$(wc -l <"$TMP/stdout")" -eq "$(($(echo "$expected" | wc -l) + 1))"

# image ls (table): the columns are sized from their content, so a name longer than the header's
# field (cpython-jit-builder) pushes the second column right on every line, header included.
# second_col FILE: the offset of each line's second field, one a line.
second_col() { awk '{ match($0, /^[^ ]+ +/); print RLENGTH }' "$1"; }
longest=$(echo "$expected" | awk '{ if (length($0) > m) m = length($0) } END { print m }')
check "image ls lists a name longer than 18 characters (else this test proves nothing)" \
    test "$longest" -gt 18
check "image ls (nothing built): '(not built)' starts at the same offset as DIGEST on every line" \
    test "$(second_col "$TMP/stdout" | sort -u | wc -l)" -eq 1
check "... and after the longest name" test "$(second_col "$TMP/stdout" | head -n 1)" -gt "$longest"
check "image ls (nothing built) ends no line in spaces" bash -c '! grep -q " $" "$1"' _ "$TMP/stdout"
if ls "$ROOT"/build/images/*/index.json >/dev/null 2>&1; then
    run "$APPLIANCE" image ls --out "$ROOT/build/images"
    expect_rc 0 "image ls of the built images exits 0"
    built=$TMP/built.txt
    grep -e '^NAME ' -e ' sha256:' "$TMP/stdout" >"$built"
    check "image ls (built): at least one built image besides the header" \
        test "$(wc -l <"$built")" -ge 2
    check "image ls (built): the digest starts at the same offset as DIGEST on every line" \
        test "$(second_col "$built" | sort -u | wc -l)" -eq 1
    check "image ls (built): the right-aligned FILES column ends at the same offset on every line" \
        test "$(awk '{ print length($0) }' "$built" | sort -u | wc -l)" -eq 1
else
    skip "image ls of built images" "no image built under build/images"
fi

# Words from the command line are quoted escaped: a verb or option holding an escape sequence
# and a newline reaches the terminal as \033 and \n, never raw.
run "$APPLIANCE" "$(printf 'x\033[2J\nnext')"
expect_rc 2 "an unknown verb holding ESC[2J and a newline"
check "... is named escaped" err_has "unknown verb 'x\\033[2J\\nnext'"
check "... with no raw escape" sh -c "! LC_ALL=C grep -q \"\$(printf '\033')\" '$TMP/stderr'"
run "$APPLIANCE" run "--x$(printf '\033')[31m" /
expect_rc 2 "an unknown option of a verb holding ESC[31m"
check "... is named escaped" err_has "'--x\\033[31m'"

finish
