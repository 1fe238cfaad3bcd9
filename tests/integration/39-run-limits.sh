#!/usr/bin/env bash
# appliance run checks every limit before it creates anything: what does not fit the kernel
# or the sandbox is a usage error (exit 2) naming the smallest or largest accepted value, and
# a failure before the command's exec is the sandbox's (exit 125 with the reason), never a
# signal of the command's. Each case sits beside a control that runs.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

ESCAPE=$ROOT/build/static/security/escape
require_root_and "$APPLIANCE" "$ESCAPE"
RFS=$TMP/root
scratch_root "$RFS"
printf 'not a program\n' >"$RFS/usr/bin/data"
chmod 0644 "$RFS/usr/bin/data"

# usage DESCRIPTION WANTED-TEXT OPTIONS...: exit 2, a message holding WANTED-TEXT, and no
# cgroup or run created (the run would print its record).
usage() {
    local desc=$1 want=$2
    shift 2
    run timeout 20 "$APPLIANCE" run "$@" "$RFS/" -- /usr/bin/escape true
    if [ "$RC" -eq 2 ] && err_has "$want" && ! err_has "run: exit"; then
        pass "$desc: exit 2 ($(head -n 1 "$TMP/stderr" | cut -c1-110))"
    else
        fail "$desc: exit $RC: $(head -n 3 "$TMP/stderr" | tr '\n' ' ')"
    fi
}
# works DESCRIPTION OPTIONS...: the same command runs (exit 0).
works() {
    local desc=$1
    shift
    run timeout 20 "$APPLIANCE" run "$@" "$RFS/" -- /usr/bin/escape true
    if [ "$RC" -eq 0 ]; then pass "control: $desc"; else
        fail "control: $desc: exit $RC: $(head -n 3 "$TMP/stderr" | tr '\n' ' ')"; fi
}

# ---- time -----------------------------------------------------------------------------------
usage "--timeout 1e10 (beyond what fits)" "from 0 to 100000000" --timeout 1e10
usage "--timeout 9.3e9" "from 0 to" --timeout 9.3e9
usage "--timeout nan" "--timeout" --timeout nan
usage "--timeout -1" "--timeout" --timeout -1
works "--timeout 1e8 (the largest) runs" --timeout 1e8
works "--timeout 30s runs" --timeout 30s

# ---- CPU ------------------------------------------------------------------------------------
for v in nan inf 1e-300 0.0000001 0.001 0 -1 5000 0x10; do
    usage "--cpus $v" "from 0.01 to 4096" --cpus "$v"
done
works "--cpus 0.01 (the smallest) runs" --cpus 0.01
works "--cpus 1.5 runs" --cpus 1.5
usage "--cpuset ''" "the CPU list is empty" --cpuset ''
usage "--cpuset ," "expected a CPU number" --cpuset ,
usage "--cpuset 0,,1" "expected a CPU number" --cpuset 0,,1
usage "--cpuset 0-" "has no end" --cpuset 0-
usage "--cpuset 1-0" "runs backwards" --cpuset 1-0
usage "--cpuset 1000 (not online)" "is not online here" --cpuset 1000
usage "--cpuset 99999 (beyond any machine)" "beyond the" --cpuset 99999
works "--cpuset 0 runs" --cpuset 0

# ---- memory and processes -----------------------------------------------------------------------
for v in 0 1K 1 3M 3.9M nan -5M 1e30G 12Q ""; do
    usage "--memory '$v'" "at least 4M" --memory "$v"
done
works "--memory 4M (the smallest) runs" --memory 4M
works "--memory 1.5G runs" --memory 1.5G
usage "--pids 1" "at least 2" --pids 1
usage "--pids 0" "at least 2" --pids 0
usage "--pids 99999999999999999999" "at least 2" --pids 99999999999999999999
works "--pids 2 (the smallest: init and the command) runs" --pids 2

# ---- names ----------------------------------------------------------------------------------
usage "--hostname ''" "hostname must be 1 to 64" --hostname ''
usage "--hostname of 65 characters" "hostname must be 1 to 64" --hostname "$(printf 'h%.0s' $(seq 65))"
usage "--hostname with a space" "is not a letter" --hostname 'a b'
usage "--hostname starting with -" "is not a letter" --hostname -x
works "--hostname box-1.example runs" --hostname box-1.example
run timeout 20 "$APPLIANCE" run ''
if [ "$RC" -eq 2 ] && err_has "IMAGE is empty" && ! err_has "index.json"; then
    pass "appliance run '': exit 2, IMAGE is empty"
else
    fail "appliance run '': exit $RC: $(head -n 2 "$TMP/stderr" | tr '\n' ' ')"
fi

# ---- list lengths: what does not fit is refused, never cut -------------------------------------
# The command line: CMD and its arguments fill at most 255 slots.
run timeout 20 "$APPLIANCE" run "$RFS/" -- /usr/bin/escape true $(seq 254)
if [ "$RC" -eq 2 ] && err_has "256 command arguments; at most 255 are supported" && ! err_has "run: exit"; then
    pass "256 command arguments: exit 2 naming the limit"
else
    fail "256 command arguments: exit $RC: $(head -n 2 "$TMP/stderr" | tr '\n' ' ')"
fi
run timeout 20 "$APPLIANCE" run "$RFS/" -- /usr/bin/escape true $(seq 253)
expect_rc 0 "control: 255 command arguments run"
env_opts() { local i; for i in $(seq "$1"); do printf -- '--env\nV%d=1\n' "$i"; done; }
mapfile -t many < <(env_opts 256)
usage "256 --env" "too many --env: at most 255 are supported" "${many[@]}"
# A root directory brings PATH: with 255 --env the environment holds 256 variables.
mapfile -t many < <(env_opts 255)
usage "255 --env beside PATH" "too many environment variables (the image's and --env): at most 255" "${many[@]}"
mapfile -t many < <(env_opts 254)
works "254 --env beside PATH run" "${many[@]}"
mapfile -t many < <(for i in $(seq 65); do printf -- '--bind\n/tmp:/b%d\n' "$i"; done)
usage "65 --bind" "too many --bind: at most 64 are supported" "${many[@]}"
mkdir -p "$TMP/bindsrc" "$RFS"/mnt/b{1..64}
mapfile -t many < <(for i in $(seq 64); do printf -- '--bind\n%s:/mnt/b%d\n' "$TMP/bindsrc" "$i"; done)
works "64 --bind run" "${many[@]}"

# An image's entrypoint: a layout written by hand as the image builder writes one (one layer
# holding the scratch root), its config's Entrypoint given.
oci_layout() {
    local dir=$1 ep=$2 blobs=$1/blobs/sha256 layer cfg man
    mkdir -p "$blobs"
    tar -C "$RFS" --numeric-owner --owner=0 --group=0 -cf "$dir/layer.tar" .
    layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
    mv "$dir/layer.tar" "$blobs/$layer"
    jq -cn --argjson ep "$ep" --arg l "sha256:$layer" \
        '{architecture: "amd64", os: "linux", config: {Env: ["PATH=/usr/bin"], Entrypoint: $ep},
          rootfs: {type: "layers", diff_ids: [$l]}}' >"$dir/config.json"
    cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    jq -cn --arg c "sha256:$cfg" --argjson cs "$(stat -c %s "$dir/config.json")" \
        --arg l "sha256:$layer" --argjson ls "$(stat -c %s "$blobs/$layer")" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
          layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
        >"$dir/manifest.json"
    mv "$dir/config.json" "$blobs/$cfg"
    man=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
    jq -cn --arg m "sha256:$man" --argjson ms "$(stat -c %s "$dir/manifest.json")" \
        '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: $m, size: $ms}]}' >"$dir/index.json"
    mv "$dir/manifest.json" "$blobs/$man"
    printf '{"imageLayoutVersion":"1.0.0"}\n' >"$dir/oci-layout"
}
oci_layout "$TMP/out/ep-255" "$(jq -cn '["/usr/bin/escape", "true"] + [range(253) | tostring]')"
oci_layout "$TMP/out/ep-256" "$(jq -cn '["/usr/bin/escape", "true"] + [range(254) | tostring]')"
oci_layout "$TMP/out/ep-number" '["/usr/bin/escape", 1]'
image_run() { run timeout 20 "$APPLIANCE" run --out "$TMP/out" --cache "$TMP/cache" "$@"; }
image_run ep-256
if [ "$RC" -eq 2 ] && err_has "image ep-256: its entrypoint and cmd have more than 255 words; at most 255 are supported" \
    && ! err_has "run: exit"; then
    pass "an entrypoint of 256 words: exit 2 naming the limit"
else
    fail "an entrypoint of 256 words: exit $RC: $(head -n 2 "$TMP/stderr" | tr '\n' ' ')"
fi
image_run ep-255
expect_rc 0 "control: an entrypoint of 255 words runs"
image_run ep-256 -- /usr/bin/escape true
expect_rc 0 "control: the same image with the command given after -- runs"
image_run ep-number
if [ "$RC" -eq 2 ] && err_has "an entry of its Entrypoint is not a string"; then
    pass "an entrypoint entry that is not a string: exit 2"
else
    fail "an entrypoint entry that is not a string: exit $RC: $(head -n 2 "$TMP/stderr" | tr '\n' ' ')"
fi

# ---- failures before the command's exec are the sandbox's -------------------------------------------
run timeout 20 "$APPLIANCE" run "$RFS/" -- /usr/bin/data
check "a file that is not executable: exit 125 naming it ($(tail -n 2 "$TMP/stderr" | head -n 1 | cut -c1-80))" \
    sh -c "[ $RC -eq 125 ] && grep -q '/usr/bin/data' '$TMP/stderr'"
run timeout 20 "$APPLIANCE" run "$RFS/" -- /dev/shm/nothing
check "a command on a noexec or missing path: exit 125" [ "$RC" -eq 125 ]
# --pids 2 leaves the command no room to fork: its own failure, after its exec (exit 0 with
# the fork bomb's verdict), not the sandbox's.
run timeout 20 "$APPLIANCE" run --pids 2 --json "$RFS/" -- /usr/bin/escape forkbomb
check "--pids 2: the command runs and its forks fail (exit $RC)" \
    sh -c "[ $RC -eq 0 ] && grep -q 'EAGAIN' '$TMP/stdout'"
# ---- the root's path -------------------------------------------------------------------------
# A root named by a path of 1,024 bytes or more is refused before anything is created, naming
# the limit; one named through a short symbolic link whose real path is that long is refused
# by the sandbox, naming the root, rather than bound under a cut path. The control: the same
# tree through a short link of a short path runs.
DEEP=$TMP/deep
for i in $(seq 1 11); do DEEP=$DEEP/$(printf 'd%.0s' $(seq 1 95)); done
mkdir -p "$DEEP"
chmod -R 755 "$TMP/deep"
cp -a "$RFS/." "$DEEP/"
run timeout 20 "$APPLIANCE" run "$DEEP/" -- /usr/bin/escape true
check "a root path of ${#DEEP} bytes: exit 2 naming the limit (exit $RC)" \
    sh -c "[ $RC -eq 2 ] && grep -q 'longer than 1023 bytes' '$TMP/stderr'"
ln -s "$DEEP" "$TMP/short"
run timeout 20 "$APPLIANCE" run "$TMP/short/" -- /usr/bin/escape true
check "a short link to a root whose real path is ${#DEEP} bytes: exit 125 naming the root (exit $RC)" \
    sh -c "[ $RC -eq 125 ] && grep -q 'the root: its real path is longer than' '$TMP/stderr'"
ln -s "$RFS" "$TMP/short-ok"
run timeout 20 "$APPLIANCE" run "$TMP/short-ok/" -- /usr/bin/escape true
check "control: a short link to a short root runs (exit $RC)" test "$RC" -eq 0
finish
