#!/usr/bin/env bash
# Fetching: a corrupt cached package is fetched again; a package missing from the mirror, a
# mirror serving wrong bytes and a bad mirror URL fail with messages that say what to do, and
# leave nothing under a blob's final name. Fake mirrors are a loopback HTTP server (127.0.0.1
# only); the only other traffic is the normal build's fetches from the default mirror.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
export APPLIANCE_IMAGES=$ROOT/images
unset APPLIANCE_MIRROR
USER_CACHE=${APPLIANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/appliance}
IMAGE=python-3.13
LOCK=images/$IMAGE/lock.json

sha_of() { sha256sum <"$1" | cut -d' ' -f1; }
# pkg FIELD INDEX: a field of the INDEX-th package of the lock (sorted by size when INDEX is
# "smallest" or "second-smallest").
pkg() {
    case $2 in
    smallest) jq -r ".packages | sort_by(.size) | .[0].$1" "$LOCK" ;;
    second-smallest) jq -r ".packages | sort_by(.size) | .[1].$1" "$LOCK" ;;
    *) jq -r ".packages[$2].$1" "$LOCK" ;;
    esac
}
# no_partials DIR: true when no temporary download (*.part-*) is left under DIR.
no_partials() { [ -z "$(find "$1" -name '*.part-*' 2>/dev/null)" ]; }

# The reference digest: a normal build with the user's cache (a cached layer when present).
run "$APPLIANCE" image build "$IMAGE" --json --out "$TMP/ref"
expect_rc 0 "reference build of $IMAGE exits 0"
REF=$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)

# --- (a) A corrupt cached package is detected, removed and fetched again. -------------------
# A private cache, seeded with copies (never links: one gets corrupted) of what the user's
# cache holds; the build fetches whatever is missing from the default mirror.
CACHE=$TMP/cache
mkdir -p "$CACHE/blobs/sha256"
for sha in $(jq -r '.packages[].sha256' "$LOCK"); do
    [ -f "$USER_CACHE/blobs/sha256/$sha" ] && cp "$USER_CACHE/blobs/sha256/$sha" "$CACHE/blobs/sha256/"
done
run env APPLIANCE_CACHE="$CACHE" "$APPLIANCE" image build "$IMAGE" --json --out "$TMP/out-a1"
expect_rc 0 "(a) build with a private cache exits 0"
same "(a) the private cache's build has the reference digest" \
    "$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)" "$REF"

name1=$(pkg name smallest) sha1=$(pkg sha256 smallest) size1=$(pkg size smallest)
name2=$(pkg name second-smallest) sha2=$(pkg sha256 second-smallest)
blob1=$CACHE/blobs/sha256/$sha1 blob2=$CACHE/blobs/sha256/$sha2
check "(a) the cache holds $name1 under its sha256" test -f "$blob1"
check "(a) cached packages are read-only (mode 0444)" test "$(stat -c %a "$blob1")" = 444
chmod u+w "$blob1" "$blob2"
flip_byte "$blob1"
: >"$blob2" # truncated to nothing
check "(a) $name1 is now corrupt in the cache" test "$(sha_of "$blob1")" != "$sha1"
check "(a) its size is unchanged (only the hash can tell)" test "$(stat -c %s "$blob1")" -eq "$size1"
rm -rf "$CACHE/builds"
run env APPLIANCE_CACHE="$CACHE" "$APPLIANCE" image build "$IMAGE" --rebuild --json --out "$TMP/out-a2"
expect_rc 0 "(a) rebuild over the corrupt cache exits 0"
check "(a) a warning names $name1 and says corrupt" grep -q "$name1.*corrupt" "$TMP/stderr"
check "(a) a warning names the emptied $name2 and says corrupt" grep -q "$name2.*corrupt" "$TMP/stderr"
same "(a) the cached $name1 matches the lock again" "$(sha_of "$blob1")" "$sha1"
same "(a) the cached $name2 matches the lock again" "$(sha_of "$blob2")" "$sha2"
same "(a) the rebuilt image has the reference digest" \
    "$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)" "$REF"
check "(a) no temporary download is left in the cache" no_partials "$CACHE"

# --- A loopback mirror: empty/ (nothing), good/ (the real packages), bad/ (wrong bytes). -----
WWW=$TMP/www
mkdir -p "$WWW/empty" "$WWW/good" "$WWW/bad" "$WWW/big"
while read -r file sha; do
    mkdir -p "$WWW/good/$(dirname "$file")"
    cp "$CACHE/blobs/sha256/$sha" "$WWW/good/$file"
done < <(jq -r '.packages[] | "\(.filename) \(.sha256)"' "$LOCK")
chmod -R u+w "$WWW"
first=$(pkg name 0) first_ver=$(pkg version 0) first_sha=$(pkg sha256 0) first_file=$(pkg filename 0)
mkdir -p "$WWW/bad/$(dirname "$first_file")" "$WWW/big/$(dirname "$first_file")"
cp "$WWW/good/$first_file" "$WWW/bad/$first_file"
flip_byte "$WWW/bad/$first_file" 4000
{ cat "$WWW/good/$first_file"; printf 'x'; } >"$WWW/big/$first_file"

python3 -u -m http.server --bind 127.0.0.1 --directory "$WWW" 0 >"$TMP/http.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$TMP/http.log" | head -n 1)
    [ -n "$PORT" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    PORT=
    sleep 0.1
done
check "the loopback mirror answers on 127.0.0.1" test -n "$PORT"
MIRROR=http://127.0.0.1:${PORT:-1}

# Positive control: the first mirror lacks everything, the second has it all.
run env APPLIANCE_CACHE="$TMP/cache-ok" "$APPLIANCE" image build "$IMAGE" --rebuild --json \
    --out "$TMP/out-ok" --mirror "$MIRROR/empty,$MIRROR/good"
expect_rc 0 "a build from the loopback mirror list (empty, then good) exits 0"
same "it gives the reference digest" "$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)" "$REF"

# --- (b) A package the mirror does not have (404). -------------------------------------------
CB=$TMP/cache-b
run env APPLIANCE_CACHE="$CB" "$APPLIANCE" image build "$IMAGE" --rebuild --out "$TMP/out-b" \
    --mirror "$MIRROR/empty"
expect_rc 1 "(b) build against a mirror without the packages exits 1"
check "(b) the message names $first $first_ver" err_has "$first $first_ver"
check "(b) the message says 404" err_has "404"
check "(b) the message says to re-pin with make lock" err_has "make lock"
check "(b) the message mentions a snapshot archive" err_has "snapshot"
check "(b) no file under the package's final cache name" test ! -e "$CB/blobs/sha256/$first_sha"
check "(b) no temporary download is left in the cache" no_partials "$CB"
check "(b) the blob folder is empty" test -z "$(ls -A "$CB/blobs/sha256" 2>/dev/null)"
check "(b) no layout was written" test ! -e "$TMP/out-b/$IMAGE"
check "(b) no build folder is left in the cache" test -z "$(ls -A "$CB/builds" 2>/dev/null)"

# --- (c) A mirror that serves wrong bytes. -------------------------------------------------
CC=$TMP/cache-c
run env APPLIANCE_CACHE="$CC" "$APPLIANCE" image build "$IMAGE" --rebuild --out "$TMP/out-c" \
    --mirror "$MIRROR/bad"
expect_rc 1 "(c) build against a mirror serving a corrupt $first exits 1"
check "(c) the message names $first" err_has "$first $first_ver"
check "(c) the message says the sha256 differs from the pin" grep -q "sha256 .*the pin says $first_sha" "$TMP/stderr"
check "(c) the corrupt file is not under the package's cache name" test ! -e "$CC/blobs/sha256/$first_sha"
check "(c) no temporary download is left in the cache" no_partials "$CC"
check "(c) the blob folder is empty" test -z "$(ls -A "$CC/blobs/sha256" 2>/dev/null)"
check "(c) no layout was written" test ! -e "$TMP/out-c/$IMAGE"
# The same with one byte too many: refused while downloading.
run env APPLIANCE_CACHE="$CC" "$APPLIANCE" image build "$IMAGE" --rebuild --out "$TMP/out-c" \
    --mirror "$MIRROR/big"
expect_rc 1 "(c) build against a mirror serving $first with an extra byte exits 1"
check "(c) the message names $first and the pinned size" \
    grep -q "$first $first_ver.*more than the pinned $(pkg size 0) bytes" "$TMP/stderr"
check "(c) nothing is stored for the oversized download" \
    test -z "$(ls -A "$CC/blobs/sha256" 2>/dev/null)"
# A wrong mirror first, the good one second: wrong bytes are not accepted, the next mirror is.
run env APPLIANCE_CACHE="$CC" "$APPLIANCE" image build "$IMAGE" --rebuild --json --out "$TMP/out-c2" \
    --mirror "$MIRROR/bad,$MIRROR/good"
expect_rc 0 "(c) with the good mirror after the bad one the build exits 0"
same "(c) the cached $first is the pinned one" "$(sha_of "$CC/blobs/sha256/$first_sha" 2>/dev/null)" "$first_sha"
same "(c) and the image has the reference digest" \
    "$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)" "$REF"

# --- (d) Bad mirror URLs. ---------------------------------------------------------------------
run env APPLIANCE_CACHE="$TMP/cache-d" "$APPLIANCE" image build "$IMAGE" --out "$TMP/out-d" --mirror ftp://x
expect_rc 1 "(d) --mirror ftp://x exits 1"
check "(d) the message names ftp://x" err_has "ftp://x"
check "(d) the message says which URL schemes work" err_has "http://"
run env APPLIANCE_CACHE="$TMP/cache-d" APPLIANCE_MIRROR=ftp://x "$APPLIANCE" image build "$IMAGE" --out "$TMP/out-d"
expect_rc 1 "(d) APPLIANCE_MIRROR=ftp://x exits 1"
check "(d) the message names ftp://x" err_has "ftp://x"
run env APPLIANCE_CACHE="$TMP/cache-d" "$APPLIANCE" image build "$IMAGE" --out "$TMP/out-d" --mirror ","
expect_rc 1 "(d) an empty mirror list exits 1"
check "(d) the message says the mirror list is empty" err_has "empty"
check "(d) no layout was written" test ! -e "$TMP/out-d/$IMAGE"

finish
