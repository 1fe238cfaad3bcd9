#!/usr/bin/env bash
# Result archives end to end: a small real run (bench's size suite on go-1.23-hello, plus a
# log) packed twice gives the same bytes; appliance verify and stock minisign accept it; every
# single-byte change of its signature file and of the archive is caught (and the check that
# caught it named); a signature by another key, members added, removed or changed (re-signed
# so that the signature passes) fail with the check that sees them; SIGKILL while a large
# archive is written leaves nothing under the final names; --with-inputs carries the layouts
# and the pinned .debs with their digests, and the tree files the recipes name. Needs root and
# the built images.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
require_root_and "$APPLIANCE"
if ! command -v minisign >/dev/null || ! command -v zstd >/dev/null; then
    fail "stock minisign and zstd are needed (make deps installs them)"
    finish
    exit 1
fi
"$APPLIANCE" -q image build go-1.23-hello >/dev/null ||
    { fail "building go-1.23-hello"; finish; exit 1; }

out_has() { grep -qF -- "$1" "$TMP/stdout"; }
field() { sed -n "s/^$1: *//p" "$TMP/stdout"; }
# A GNU tar of DIR's files (named relative to DIR, sorted, no directories) as zstd.
retar() {
    local dir=$1 out=$2
    (cd "$dir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort >"$TMP/list") &&
        tar --zstd --format=pax --owner=0 --group=0 --numeric-owner --mtime=@0 \
            -C "$dir" -cf "$out" -T "$TMP/list"
}
# sign_as KEY ARCHIVE SIG ID: signs the way appliance pack does, with stock minisign.
sign_as() {
    local hex
    hex=$(sha256sum "$2" | cut -d' ' -f1)
    minisign -S -s "$1" -m "$2" -x "$3" -c "signature from appliance secret key" \
        -t "appliance run $4 sha256:$hex" >/dev/null 2>&1 </dev/null
}

# ---- a small real run and keys -------------------------------------------------------------
RUN=$TMP/run
run "$APPLIANCE" -q bench --profile quick --suite size --images go-1.23-hello --allow-noisy \
    --out "$RUN/results.json" --csv "$RUN/results.csv"
expect_rc 0 "bench writes a small run directory"
mkdir -p "$RUN/logs" && printf 'bench started\nbench done\n' >"$RUN/logs/bench.log"
ID=$(jq -r .run.id "$RUN/results.json")
STARTED=$(jq -r .run.started "$RUN/results.json")

KEY=$TMP/keys/appliance.key PUB=$TMP/keys/appliance.pub
run "$APPLIANCE" keygen -W -p "$PUB" -s "$KEY"
expect_rc 0 "appliance keygen makes the signing key pair"
minisign -G -W -p "$TMP/keys/other.pub" -s "$TMP/keys/other.key" >/dev/null 2>&1 </dev/null
check "stock minisign makes another key pair" test -s "$TMP/keys/other.key"

# ---- usage and refusals ----------------------------------------------------------------------
run "$APPLIANCE" pack
expect_rc 2 "pack without a run directory is a usage error"
run "$APPLIANCE" pack "$RUN" --unsigned --key "$KEY"
expect_rc 2 "--unsigned with --key is a usage error"
run env HOME="$TMP/nohome" APPLIANCE_KEY= "$APPLIANCE" pack "$RUN" --out "$TMP/o0"
expect_rc 1 "pack without any key fails"
check "... with a hint to run appliance keygen or pass --unsigned" \
    sh -c "grep -qF 'appliance keygen' '$TMP/stderr' && grep -qF -- '--unsigned' '$TMP/stderr'"
check "... and writes nothing" test ! -e "$TMP/o0/$ID.tar.zst"
run "$APPLIANCE" verify "$RUN/results.json"
expect_rc 2 "verify without a public key is a usage error"
mkdir -p "$TMP/linked" && cp "$RUN/results.json" "$TMP/linked/" &&
    ln -s /etc/hostname "$TMP/linked/hostname"
run "$APPLIANCE" pack "$TMP/linked" --unsigned --out "$TMP/o1"
expect_rc 1 "a symbolic link in the run directory is refused"
check "... naming it" err_has "linked/hostname is a symbolic link"
mkfifo "$TMP/fifo-run-fifo" && mkdir -p "$TMP/fiforun" && mv "$TMP/fifo-run-fifo" "$TMP/fiforun/f"
run "$APPLIANCE" pack "$TMP/fiforun" --unsigned --out "$TMP/o2"
expect_rc 1 "a FIFO in the run directory is refused"
check "... as not a regular file" err_has "is not a regular file"

# ---- deterministic, signed, verified -------------------------------------------------------
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/a"
expect_rc 0 "pack signs the run"
A=$(field archive)
same "... into OUT/<run id>.tar.zst" "$A" "$TMP/a/$ID.tar.zst"
same "... printing its sha256" "$(field sha256)" "$(sha256sum "$A" | cut -d' ' -f1)"
same "... and the signature's path" "$(field signature)" "$A.minisig"
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/b"
check "packing the same run twice gives byte-identical archives" cmp "$A" "$TMP/b/$ID.tar.zst"
check "... and signatures" cmp "$A.minisig" "$TMP/b/$ID.tar.zst.minisig"
run env APPLIANCE_KEY="$KEY" "$APPLIANCE" pack "$RUN" --out "$TMP/c"
expect_rc 0 "the key defaults to \$APPLIANCE_KEY"
check "... same bytes again" cmp "$A" "$TMP/c/$ID.tar.zst"
sleep 1
touch "$RUN/results.json" "$RUN/logs/bench.log"
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/d"
check "the files' own times do not change the bytes" cmp "$A" "$TMP/d/$ID.tar.zst"

run "$APPLIANCE" verify "$A" -p "$PUB"
expect_rc 0 "appliance verify accepts it"
check "... naming the run" out_has "run:       $ID"
run "$APPLIANCE" verify "$A" -P "$(tail -n 1 "$PUB")"
expect_rc 0 "... with the key given as text (-P) too"
run minisign -Vm "$A" -p "$PUB"
expect_rc 0 "stock minisign -Vm accepts it"
check "... showing the run id and the archive's sha256 as the trusted comment" \
    out_has "Trusted comment: appliance run $ID sha256:$(sha256sum "$A" | cut -d' ' -f1)"

tar --zstd -tvf "$A" >"$TMP/listing"
LIST=$(awk '{print $6}' "$TMP/listing" | tr '\n' ' ')
same "members: the run's files, manifest, provenance and SHA256SUMS, sorted" "$LIST" \
    "SHA256SUMS logs/bench.log manifest.json provenance.json results.csv results.json "
check "every member is owned by 0/0 with mode 0644" \
    sh -c "awk '{print \$1, \$2}' '$TMP/listing' | grep -qv '^-rw-r--r-- 0/0$' && exit 1 || exit 0"
check "every mtime is the run's start ($STARTED)" sh -c "
    TZ=UTC tar --zstd --full-time -tvf '$A' | awk '{print \$4\"T\"\$5\"Z\"}' | sort -u | grep -qx '$STARTED'"
X=$TMP/x && mkdir -p "$X" && tar --zstd -xf "$A" -C "$X"
check "sha256sum -c SHA256SUMS passes on the unpacked archive" \
    sh -c "cd '$X' && sha256sum --quiet -c SHA256SUMS"
check "manifest.json: schema, run id, times, profile, image digest, lock, version, claims" jqe "
    .schema == \"appliance-archive-manifest-1\" and .run_id == \"$ID\"
    and .started == \"$STARTED\" and .profile == \"quick\"
    and (.images[\"go-1.23-hello\"].digest | startswith(\"sha256:\"))
    and (.images[\"go-1.23-hello\"] | has(\"lock_sha256\"))
    and (.appliance_version | length > 0) and .claims_sha256 == null
    and .with_inputs == false and .environment.arch != null" "$X/manifest.json"
check "provenance.json: an in-toto Statement v1 with our predicate" jqe "
    ._type == \"https://in-toto.io/Statement/v1\"
    and .predicateType == \"urn:appliance:benchmark-results:v1\"
    and .predicate.run.id == \"$ID\" and (.predicate.run.command | length > 0)
    and ([.subject[].name] == [\"logs/bench.log\", \"manifest.json\", \"results.csv\",
                               \"results.json\"])" "$X/provenance.json"
check "... whose subjects carry the files' sha256" sh -c "
    cd '$X' && jq -r '.subject[] | .digest.sha256 + \"  \" + .name' provenance.json |
    sha256sum --quiet -c -"

# ---- no results.json: an id from the content -------------------------------------------------
mkdir -p "$TMP/plain" && printf 'x\n' >"$TMP/plain/notes.txt"
run "$APPLIANCE" pack "$TMP/plain" --unsigned --out "$TMP/p1"
expect_rc 0 "a directory without results.json is packed (unsigned)"
P1=$(field archive)
run "$APPLIANCE" pack "$TMP/plain" --unsigned --out "$TMP/p2"
check "... under an id derived from its content, the same each time" \
    sh -c "[ '$(basename "$P1")' = \"\$(basename '$(field archive)')\" ] && cmp '$P1' '$(field archive)'"
check "... dir-<16 hex>" sh -c "basename '$P1' | grep -Eq '^dir-[0-9a-f]{16}\.tar\.zst$'"
run "$APPLIANCE" verify "$P1" -p "$PUB"
expect_rc 1 "an unsigned archive does not verify"
check "... the signature check fails" err_has "signature check failed"

# ---- every byte of the signature, every (or 500) byte(s) of the archive -------------------------
# flip FILE POSITIONS...: for each position, a copy of FILE with that byte XORed with 0x01 is
# verified; prints "pos check" for each, where check is the name of the failed check or "OK".
cat >"$TMP/flip.py" <<'EOF'
import os, re, shutil, subprocess, sys
appliance, archive, sig, pub, which, work = sys.argv[1:7]
positions = [int(p) for p in sys.argv[7:]]
target = archive if which == "archive" else sig
data = open(target, "rb").read()
os.makedirs(work, exist_ok=True)
a = os.path.join(work, "a.tar.zst")
s = os.path.join(work, "a.tar.zst.minisig")
shutil.copyfile(archive, a)
shutil.copyfile(sig, s)
dest = a if which == "archive" else s
for p in positions:
    b = bytearray(data)
    b[p] ^= 0x01
    with open(dest, "wb") as f:
        f.write(b)
    r = subprocess.run([appliance, "verify", a, "-p", pub], capture_output=True, text=True)
    m = re.search(r"(\S+) check failed", r.stderr)
    print(p, "OK" if r.returncode == 0 else (m.group(1) if m else "rc%d" % r.returncode))
    sys.stdout.flush()
EOF
SIGSIZE=$(stat -c %s "$A.minisig")
python3 "$TMP/flip.py" "$APPLIANCE" "$A" "$A.minisig" "$PUB" sig "$TMP/flip-sig" \
    $(seq 0 $((SIGSIZE - 1))) >"$TMP/flip-sig.txt"
same "all $SIGSIZE single-byte changes of the signature file were tried" \
    "$(wc -l <"$TMP/flip-sig.txt")" "$SIGSIZE"
same "... every one fails verify" "$(grep -c ' OK$' "$TMP/flip-sig.txt")" 0
same "... at the signature check" "$(grep -vc ' signature$' "$TMP/flip-sig.txt")" 0
ASIZE=$(stat -c %s "$A")
if [ "$ASIZE" -le 20000 ]; then
    POS=$(seq 0 $((ASIZE - 1)))
else
    POS=$(python3 -c "import random; random.seed(86); print(*random.sample(range($ASIZE), 500))")
fi
python3 "$TMP/flip.py" "$APPLIANCE" "$A" "$A.minisig" "$PUB" archive "$TMP/flip-arc" $POS \
    >"$TMP/flip-arc.txt"
same "$(wc -l <"$TMP/flip-arc.txt") single-byte changes of the archive (of $ASIZE bytes) tried" \
    "$(wc -l <"$TMP/flip-arc.txt")" "$(echo $POS | wc -w)"
same "... every one fails verify" "$(grep -c ' OK$' "$TMP/flip-arc.txt")" 0
same "... at the signature check" "$(grep -vc ' signature$' "$TMP/flip-arc.txt")" 0

# ---- other keys, other members -----------------------------------------------------------------
sign_as "$TMP/keys/other.key" "$A" "$TMP/other.minisig" "$ID"
run "$APPLIANCE" verify "$A" -p "$PUB" --sig "$TMP/other.minisig"
expect_rc 1 "a signature by another key fails"
check "... at the signature check, saying so" \
    sh -c "grep -qF 'signature check failed' '$TMP/stderr' && grep -qF 'another key' '$TMP/stderr'"
run "$APPLIANCE" verify "$A" -p "$TMP/keys/other.pub"
expect_rc 1 "the archive's own signature fails against another public key"
run "$APPLIANCE" verify "$TMP/b/$ID.tar.zst" -p "$PUB" --sig "$TMP/none.minisig"
expect_rc 1 "a missing signature fails"
check "... at the signature check" err_has "signature check failed"
sign_as "$KEY" "$A" "$TMP/wrongid.minisig" "another-run"
run "$APPLIANCE" verify "$A" -p "$PUB" --sig "$TMP/wrongid.minisig"
expect_rc 1 "a signature naming another run fails"
check "... at the manifest check" err_has "manifest check failed"

# tamper NAME: re-tars $TMP/t (a copy of the unpacked archive) and signs it with our key, so
# the signature passes and the later checks are reached.
tamper() {
    retar "$TMP/t" "$TMP/t.tar.zst" && sign_as "$KEY" "$TMP/t.tar.zst" "$TMP/t.tar.zst.minisig" "$ID"
    run "$APPLIANCE" verify "$TMP/t.tar.zst" -p "$PUB"
}
fresh() { rm -rf "$TMP/t" && cp -a "$X" "$TMP/t"; }
fresh
tamper
expect_rc 0 "the archive re-made with GNU tar and re-signed still verifies (control)"
fresh && printf 'extra\n' >"$TMP/t/logs/zzz.log"
tamper
expect_rc 1 "an extra member fails"
check "... at the SHA256SUMS check, naming it" \
    sh -c "grep -qF 'SHA256SUMS check failed' '$TMP/stderr' && grep -qF 'logs/zzz.log' '$TMP/stderr'"
fresh && rm "$TMP/t/results.csv"
tamper
expect_rc 1 "a missing member fails"
check "... at the SHA256SUMS check, naming it" \
    sh -c "grep -qF 'SHA256SUMS check failed' '$TMP/stderr' && grep -qF 'results.csv' '$TMP/stderr'"
fresh && printf 'bench started\nbench failed\n' >"$TMP/t/logs/bench.log"
tamper
expect_rc 1 "a member that does not match SHA256SUMS fails"
check "... at the SHA256SUMS check, naming it" \
    sh -c "grep -qF 'SHA256SUMS check failed' '$TMP/stderr' && grep -qF 'logs/bench.log' '$TMP/stderr'"
# sums: SHA256SUMS made again for what $TMP/t now holds.
sums() { (cd "$TMP/t" && sha256sum $(sed 's/^.*  //' SHA256SUMS) >S && mv S SHA256SUMS); }
fresh && printf 'bench started\nbench failed\n' >"$TMP/t/logs/bench.log" && sums
tamper
expect_rc 1 "a member changed along with SHA256SUMS fails"
check "... at the provenance check" err_has "provenance check failed"
fresh && jq '.run.id = "other"' "$X/results.json" >"$TMP/t/results.json" &&
    (cd "$TMP/t" && jq --arg h "$(sha256sum results.json | cut -d' ' -f1)" \
        '(.subject[] | select(.name == "results.json") | .digest.sha256) = $h' \
        provenance.json >P && mv P provenance.json) && sums
tamper
expect_rc 1 "results.json naming another run fails"
check "... at the results check" err_has "results check failed"
fresh && (cd "$TMP/t" && tar --zstd -cf "$TMP/t.tar.zst" --format=pax $(sed 's/^.*  //' SHA256SUMS | sort -r)) &&
    sign_as "$KEY" "$TMP/t.tar.zst" "$TMP/t.tar.zst.minisig" "$ID"
run "$APPLIANCE" verify "$TMP/t.tar.zst" -p "$PUB"
expect_rc 1 "members out of order fail"
check "... at the archive check" err_has "archive check failed"
fresh && (cd "$TMP/t" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
    tar -czf "$TMP/t.tar.zst" --format=pax -T -) &&
    sign_as "$KEY" "$TMP/t.tar.zst" "$TMP/t.tar.zst.minisig" "$ID"
run "$APPLIANCE" verify "$TMP/t.tar.zst" -p "$PUB"
expect_rc 1 "gzip instead of zstd fails"
check "... at the archive check" err_has "not a zstd-compressed stream"

# ---- --with-inputs, and SIGKILL while writing it -----------------------------------------------
printf '{"claims": []}\n' >"$TMP/claims.json"
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/in" --with-inputs --claims "$TMP/claims.json"
expect_rc 0 "pack --with-inputs"
I=$(field archive)
run "$APPLIANCE" verify "$I" -p "$PUB"
expect_rc 0 "... verifies"
check "... reporting its inputs" out_has "with inputs"
XI=$TMP/xi && mkdir -p "$XI" && tar --zstd -xf "$I" -C "$XI"
DIGEST=$(jq -r '.environment.images["go-1.23-hello"].digest' "$RUN/results.json")
check "the layout of the run's image is there, with the digest the run measured" sh -c "
    jq -e --arg d '$DIGEST' '.manifests[0].digest == \$d' '$XI/inputs/images/go-1.23-hello/index.json' >/dev/null &&
    test -s '$XI/inputs/images/go-1.23-hello/oci-layout'"
check "... every blob of it matching its name" sh -c "
    cd '$XI/inputs/images/go-1.23-hello/blobs/sha256' &&
    for f in *; do echo \"\$f  \$f\"; done | sha256sum --quiet -c -"
NDEBS=$(jq '[.packages[]] | length' images/go-1.23/lock.json)
check "every pinned .deb of the builder's lock ($NDEBS) is there" sh -c "
    jq -r '.packages[].sha256' images/go-1.23/lock.json | while read -r h; do
        test -f '$XI/inputs/blobs/sha256/'\$h || exit 1; done"
check "... and every pinned input matches its digest" sh -c "
    cd '$XI/inputs/blobs/sha256' && for f in *; do echo \"\$f  \$f\"; done | sha256sum --quiet -c -"
check "... the .debs are Debian packages" sh -c "
    h=\$(jq -r '.packages[0].sha256' images/go-1.23/lock.json)
    head -c 8 '$XI/inputs/blobs/sha256/'\$h | grep -q '^!<arch>'"
check "the recipes and locks are there" sh -c "
    cmp '$XI/inputs/recipes/go-1.23/lock.json' images/go-1.23/lock.json &&
    cmp '$XI/inputs/recipes/go-1.23-hello/image.json' images/go-1.23-hello/image.json &&
    cmp '$XI/inputs/recipes/go-1.23-static/image.json' images/go-1.23-static/image.json"
check "... and the tree files a recipe names by path, as sources" sh -c "
    cmp '$XI/inputs/sources/images/static-root/etc/passwd' images/static-root/etc/passwd &&
    jq -e '.inputs.sources | index(\"images/static-root/etc/group\")' '$XI/manifest.json' >/dev/null"
check "the claims file is packed and its sha256 in the manifest" sh -c "
    cmp '$XI/inputs/claims/claims.json' '$TMP/claims.json' &&
    jq -e --arg h \"sha256:\$(sha256sum '$TMP/claims.json' | cut -d' ' -f1)\" \
        '.claims_sha256 == \$h and .with_inputs == true' '$XI/manifest.json' >/dev/null"

# A pinned input missing from the download cache, or damaged there: refused, nothing written.
FIRST=$(jq -r '.inputs.blobs[0].sha256' "$XI/manifest.json")
mkdir -p "$TMP/cache/blobs/sha256"
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/nocache" --with-inputs --cache "$TMP/cache"
expect_rc 1 "a pinned input missing from the cache is an error"
check "... saying so, with a hint" err_has "is a pinned input that is not in the download cache"
cp "$XI/inputs/blobs/sha256/$FIRST" "$TMP/cache/blobs/sha256/$FIRST"
flip_byte "$TMP/cache/blobs/sha256/$FIRST" 100
run "$APPLIANCE" pack "$RUN" --key "$KEY" --out "$TMP/nocache" --with-inputs --cache "$TMP/cache"
expect_rc 1 "a damaged pinned input is an error"
check "... naming the digest the lock pins" err_has "but the lock pins $FIRST"
same "... and nothing is written" "$(ls -A "$TMP/nocache" | wc -l)" 0

# SIGKILL once the archive is being written (its anonymous file is open), and once early.
OUT=$TMP/kill
for when in writing hashing; do
    rm -rf "$OUT" && mkdir -p "$OUT"
    "$APPLIANCE" -q pack "$RUN" --key "$KEY" --out "$OUT" --with-inputs >/dev/null 2>&1 &
    PID=$!
    seen=no
    for _ in $(seq 1 400); do
        if [ "$when" = hashing ] || ls -l "/proc/$PID/fd" 2>/dev/null | grep -q "$OUT/#.*(deleted)\|$OUT/\.$ID"; then
            seen=yes
            break
        fi
        sleep 0.01
    done
    sleep 0.2
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    rc=$?
    if [ "$seen" = yes ] && [ "$rc" -eq 137 ]; then
        same "SIGKILL while $when leaves no file in the output directory" "$(ls -A "$OUT" | wc -l)" 0
        check "... none under the final name, no .minisig" \
            sh -c "test ! -e '$OUT/$ID.tar.zst' && test ! -e '$OUT/$ID.tar.zst.minisig'"
    else
        fail "SIGKILL while $when: the pack was not caught in the act (seen $seen, exit $rc)"
    fi
done

finish
