#!/usr/bin/env bash
# Build stages: go-1.23-static is made of two stages run in the go-1.23 builder through the
# sandbox (network off, sources read-only); its layers hold only the static binaries, a
# stage re-runs only when one of its inputs changes, and its inputs are recorded.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

run "$APPLIANCE" image build go-1.23-static --json
expect_rc 0 "go-1.23-static builds"
cp "$TMP/stdout" "$TMP/build.json"
nstages=$(jq '.stages | length' images/go-1.23-static/image.json)
check "go-1.23-static has the packages' layer and one per stage ($((nstages + 1)))" \
    jqe ".[0].layers == $((nstages + 1))" "$TMP/build.json"

run "$APPLIANCE" image build go-1.23-static --json
expect_rc 0 "a second build exits 0"
check "a second build runs no stage (inputs unchanged)" sh -c "! grep -q 'running go' '$TMP/stderr'"
same "a second build gives the same digest" "$(jq -r '.[0].manifest_digest' "$TMP/stdout")" \
    "$(jq -r '.[0].manifest_digest' "$TMP/build.json")"

run "$APPLIANCE" image unpack go-1.23-static "$TMP/root"
expect_rc 0 "go-1.23-static unpacks"
check "the image holds the default hello binary" test -x "$TMP/root/usr/local/bin/hello"
check "the image holds the stripped hello binary" test -x "$TMP/root/usr/local/bin/hello-stripped"
check "no shell in the image" test ! -e "$TMP/root/usr/bin/sh"
check "no libc in the image" sh -c "! find '$TMP/root' -name 'libc.so*' | grep -q ."
check "the binaries are static" sh -c "file '$TMP/root/usr/local/bin/hello' | grep -q 'statically linked'"
for b in nbody binarytrees mandelbrot regexredux fannkuchredux spectralnorm pidigits revcomp knucleotide fasta threads \
    servers/nethttp servers/gin servers/echo servers/chi servers/fasthttp servers/fiber; do
    check "the image holds $b, static" sh -c "file '$TMP/root/usr/local/bin/$b' | grep -q 'statically linked'"
done
full=$(stat -c %s "$TMP/root/usr/local/bin/hello")
stripped=$(stat -c %s "$TMP/root/usr/local/bin/hello-stripped")
check "the stripped hello ($stripped B) is smaller than the default one ($full B)" test "$stripped" -lt "$full"

out=$("$APPLIANCE" run go-1.23-static 2>/dev/null)
check "the image's entrypoint runs in the sandbox ($out)" test "$out" = "Hello, World!"
out=$("$APPLIANCE" run go-1.23-static -- /usr/local/bin/hello-stripped 2>/dev/null)
check "the stripped variant runs too ($out)" test "$out" = "Hello, World!"

# The stage inputs are in the manifest: the builder's digest and the inputs' digest.
layout=build/images/go-1.23-static
mdig=$(jq -r '.manifests[0].digest' "$layout/index.json")
manifest="$layout/blobs/sha256/${mdig#sha256:}"
builder=$("$APPLIANCE" image inspect go-1.23 --json | jq -r .manifest_digest)
same "the manifest names the builder's digest" \
    "$(jq -r '.annotations["appliance.stage.hello.builder"]' "$manifest")" "$builder"
check "the manifest records the stage's inputs digest" \
    jqe '.annotations["appliance.stage.hello.inputs.sha256"] | test("^[0-9a-f]{64}$")' "$manifest"
check "the manifest records the stage's definition" \
    jqe '.annotations["appliance.stage.hello-stripped.definition"] | fromjson | .builder == "go-1.23"' "$manifest"

# A changed input re-runs the stage: a copy of the tree with the hello source edited.
mkdir -p "$TMP/tree"
cp -r images "$TMP/tree/images"
# A greeting no earlier run has used, so the stage cannot come from the cache.
greeting="Hello, stages $(date +%s%N)!"
sed -i "s/Hello, World!/$greeting/" "$TMP/tree/images/workloads/hello/main.go"
run env APPLIANCE_IMAGES="$TMP/tree/images" "$APPLIANCE" image build go-1.23-static --json --out "$TMP/out"
expect_rc 0 "the edited tree builds"
check "the edited source re-ran the stage" err_has "stage hello of go-1.23-static: running go"
out=$("$APPLIANCE" run --out "$TMP/out" go-1.23-static 2>/dev/null)
check "the rebuilt binary has the change ($out)" test "$out" = "$greeting"

# Builder "self": python-3.13's bytecode stage runs in the image's own layers before it. Its
# builder digest covers those layers and the recipe's env and workdir only: an edited
# description runs nothing again, a changed packages' layer runs the stage again.
run "$APPLIANCE" image build python-3.13 --json
expect_rc 0 "python-3.13 (a stage with builder \"self\") builds"
mkdir -p "$TMP/self"
cp -r images "$TMP/self/images"
jq --arg d "edited $(date +%s%N)" '.description = $d' images/python-3.13/image.json \
    >"$TMP/self/images/python-3.13/image.json"
run env APPLIANCE_IMAGES="$TMP/self/images" "$APPLIANCE" image build python-3.13 --json --out "$TMP/self-out"
expect_rc 0 "python-3.13 with an edited description builds"
check "an edited description does not run the self stage again" \
    sh -c "! grep -q 'stage bytecode of python-3.13: running' '$TMP/stderr'"
echo "an extra file $(date +%s%N)" >"$TMP/self/images/python-3.13/extra.txt"
jq '.files = [{"src": "extra.txt", "dst": "/etc/appliance-extra.txt"}]' \
    "$TMP/self/images/python-3.13/image.json" >"$TMP/recipe.json" &&
    mv "$TMP/recipe.json" "$TMP/self/images/python-3.13/image.json"
run env APPLIANCE_IMAGES="$TMP/self/images" "$APPLIANCE" image build python-3.13 --json --out "$TMP/self-out"
expect_rc 0 "python-3.13 with an extra file builds"
check "a changed packages' layer runs the self stage again" \
    err_has "stage bytecode of python-3.13: running /usr/bin/python3.13 in python-3.13 (its layers before this stage)"
finish
