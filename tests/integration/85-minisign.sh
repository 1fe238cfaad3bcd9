#!/usr/bin/env bash
# minisign compatibility, both ways, against Debian's stock minisign 0.11 on local files:
# keys from `appliance keygen` (with and without a password) are read by stock minisign (it
# recreates our public keys byte for byte and signs with our secret keys), stock minisign
# verifies our signatures, and our code (the interop_* tests of build/tests/test_minisign)
# reads stock keys and verifies stock signatures, legacy ones included. Then the keygen verb's
# command line: defaults, modes, refusals and exit statuses. No root, no network.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

TEST_BIN=${TEST_MINISIGN:-$ROOT/build/tests/test_minisign}
for f in "$APPLIANCE" "$TEST_BIN"; do
    if [ ! -x "$f" ]; then
        fail "build first: $f is missing (make build/appliance build/tests/test_minisign)"
        finish
        exit 1
    fi
done
if ! command -v minisign >/dev/null; then
    fail "stock minisign is missing (make deps installs Debian's minisign)"
    finish
    exit 1
fi

out_has() { grep -qF -- "$1" "$TMP/stdout"; }
mode_of() { stat -c %a "$1"; }

# tty_keygen PASSWORD AGAIN ARG...: runs `appliance keygen ARG...` on a pseudo-terminal and
# types each password once its prompt shows; what the terminal showed goes to $TMP/stdout,
# the status to RC.
tty_keygen() {
    local pw=$1 again=$2
    shift 2
    python3 - "$pw" "$again" "$APPLIANCE" keygen "$@" >"$TMP/stdout" 2>"$TMP/stderr" <<'EOF'
import os, pty, select, subprocess, sys, time
pw, again, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
master, slave = pty.openpty()
proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave)
os.close(slave)
seen = b""

def read_until(want, timeout):
    global seen
    deadline = time.time() + timeout
    while want is None or want not in seen:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.time()))
        if not ready:
            return False
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        seen += chunk
    return True

for prompt, answer in ((b"Password for the secret key: ", pw), (b"Password (again): ", again)):
    if not read_until(prompt, 30):
        break
    os.write(master, answer.encode() + b"\n")
read_until(None, 60)
status = proc.wait()
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(status)
EOF
    RC=$?
}

D=$TMP/interop
mkdir -p "$D"
PW='interop password, with spaces'
COMMENT='interop trusted comment'
printf '%s\n' "$PW" >"$D/password"
printf '%s\n%s\n' "$PW" "$PW" >"$TMP/password-twice"
printf 'wrong password\n' >"$TMP/wrong-password"
seq 1 50000 >"$D/data"
printf '\0\1\2\377' >>"$D/data"

# Stock minisign's keys and signatures.
run minisign -G -W -p "$D/stock-w.pub" -s "$D/stock-w.key"
expect_rc 0 "stock minisign -G -W makes a key pair"
run minisign -G -p "$D/stock-e.pub" -s "$D/stock-e.key" <"$TMP/password-twice"
expect_rc 0 "stock minisign -G makes an encrypted key pair"
run minisign -S -s "$D/stock-w.key" -m "$D/data" -x "$D/data.stock-w.minisig" -t "$COMMENT"
expect_rc 0 "stock minisign -S signs (prehashed)"
run minisign -S -l -s "$D/stock-w.key" -m "$D/data" -x "$D/data.stock-legacy.minisig" -t "$COMMENT"
expect_rc 0 "stock minisign -S -l signs (legacy)"
run minisign -S -s "$D/stock-e.key" -m "$D/data" -x "$D/data.stock-e.minisig" -t "$COMMENT" \
    <"$D/password"
expect_rc 0 "stock minisign -S signs with its encrypted key"

# Our keys.
run "$APPLIANCE" keygen -W -p "$D/ours-w.pub" -s "$D/ours-w.key"
expect_rc 0 "appliance keygen -W makes a key pair"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$D/ours-w.pub")
check "keygen prints the key id of the public key file ($keyid)" out_has "key id:     $keyid"
check "keygen prints the public key path" out_has "public key: $D/ours-w.pub"
check "keygen prints how to verify with stock minisign" out_has "minisign -Vm FILE -p $D/ours-w.pub"
sk_line=$(sed -n 2p "$D/ours-w.key")
check "keygen never prints the secret key" \
    bash -c '! grep -qF -- "$1" "$2" "$3"' _ "$sk_line" "$TMP/stdout" "$TMP/stderr"
same "the secret key is mode 0600" "$(mode_of "$D/ours-w.key")" 600
same "the public key is mode 0644" "$(mode_of "$D/ours-w.pub")" 644
run "$APPLIANCE" keygen --password-file "$D/password" -p "$D/ours-e.pub" -s "$D/ours-e.key"
expect_rc 0 "appliance keygen --password-file makes an encrypted key pair"
check "keygen says the key is encrypted" out_has "(encrypted, mode 0600"
same "the encrypted key's header is Ed Sc B2" \
    "$(sed -n 2p "$D/ours-e.key" | base64 -d | head -c 6)" "EdScB2"
same "the encrypted key stores minisign's opslimit and memlimit" \
    "$(sed -n 2p "$D/ours-e.key" | base64 -d | od -An -tx1 -j38 -N16 | tr -d ' \n')" \
    "00000002000000000000004000000000"

# Stock minisign reads our secret keys: it recreates our public keys byte for byte...
run minisign -R -s "$D/ours-w.key" -p "$TMP/regen-w.pub"
expect_rc 0 "stock minisign -R reads our unencrypted secret key"
check "... and recreates our public key file byte for byte" \
    cmp -s "$D/ours-w.pub" "$TMP/regen-w.pub"
run minisign -R -s "$D/ours-e.key" -p "$TMP/regen-e.pub" <"$D/password"
expect_rc 0 "stock minisign -R decrypts our encrypted secret key"
check "... and recreates its public key file byte for byte" \
    cmp -s "$D/ours-e.pub" "$TMP/regen-e.pub"
run minisign -R -s "$D/ours-e.key" -p "$TMP/regen-x.pub" <"$TMP/wrong-password"
check "stock minisign refuses our encrypted key with a wrong password" test "$RC" -ne 0
check "... saying the password is wrong" err_has "Wrong password"
# ... and signs with them, for our code and itself to verify.
run minisign -S -s "$D/ours-w.key" -m "$D/data" -x "$D/data.stock-by-ours-w.minisig" -t "$COMMENT"
expect_rc 0 "stock minisign signs with our unencrypted key"
run minisign -S -s "$D/ours-e.key" -m "$D/data" -x "$D/data.stock-by-ours-e.minisig" -t "$COMMENT" \
    <"$D/password"
expect_rc 0 "stock minisign signs with our encrypted key"
for k in w e; do
    run minisign -Vm "$D/data" -x "$D/data.stock-by-ours-$k.minisig" -p "$D/ours-$k.pub"
    expect_rc 0 "stock minisign verifies what it signed with our key ($k) against our public key"
done

# Our code against stock files (and signing with every key, for the checks below).
run env MINISIGN_INTEROP_DIR="$D" "$TEST_BIN" interop
expect_rc 0 "our code loads stock keys, verifies stock signatures and signs (test_minisign interop)"
closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/stdout" | tail -n 1)
check "the interop tests ran their checks ($closing)" \
    bash -c '[[ "$1" =~ ^([0-9]+)\ passed,\ 0\ failed ]] && [ "${BASH_REMATCH[1]}" -ge 20 ]' \
    _ "$closing"
grep '^FAIL\|^    ' "$TMP/stdout" | sed 's/^/#   /' | head -n 20

# Stock minisign verifies what we signed, with stock keys and with ours.
for k in stock-w stock-e ours-w ours-e; do
    sig=$D/data.ours-by-$k.minisig
    run minisign -Vm "$D/data" -x "$sig" -p "$D/$k.pub"
    expect_rc 0 "stock minisign -V verifies our signature made with $k.key"
    check "... and shows our trusted comment" out_has "Trusted comment: $COMMENT"
    run minisign -V -H -m "$D/data" -x "$sig" -p "$D/$k.pub"
    expect_rc 0 "stock minisign -V -H (prehashed only) accepts it ($k)"
done
b64=$(sed -n 2p "$D/ours-w.pub")
run minisign -Vm "$D/data" -x "$D/data.ours-by-ours-w.minisig" -P "$b64"
expect_rc 0 "stock minisign -V -P with our bare public key verifies"
cp "$D/data" "$TMP/data-changed"
printf 'x' >>"$TMP/data-changed"
run minisign -Vm "$TMP/data-changed" -x "$D/data.ours-by-ours-w.minisig" -p "$D/ours-w.pub"
expect_rc 1 "stock minisign rejects our signature of a changed file"
sed '3s/$/ edited/' "$D/data.ours-by-ours-w.minisig" >"$TMP/edited.minisig"
run minisign -Vm "$D/data" -x "$TMP/edited.minisig" -p "$D/ours-w.pub"
expect_rc 1 "stock minisign rejects our signature with an edited trusted comment"
run minisign -Vm "$D/data" -x "$D/data.ours-by-ours-w.minisig" -p "$D/ours-e.pub"
expect_rc 1 "stock minisign rejects our signature against another public key"

# The keygen verb: defaults, modes, refusals, exit statuses.
run "$APPLIANCE" keygen --help
expect_rc 0 "keygen --help exits 0"
check "keygen --help names -W and --password-file" \
    bash -c 'grep -q -- "-W" "$1" && grep -q -- "--password-file" "$1"' _ "$TMP/stdout"
run "$APPLIANCE" --help
check "appliance --help lists keygen" out_has "keygen"
run "$APPLIANCE" keygen -p "$TMP/x.pub" -s "$TMP/x.key" </dev/null
expect_rc 2 "keygen without -W, --password-file or a terminal exits 2"
check "... telling to pass -W or --password-file" \
    bash -c 'grep -qF -- "-W" "$1" && grep -qF -- "--password-file" "$1"' _ "$TMP/stderr"
check "... and writes no key" test ! -e "$TMP/x.key" -a ! -e "$TMP/x.pub"
run "$APPLIANCE" keygen -W --password-file "$D/password" -p "$TMP/x.pub" -s "$TMP/x.key"
expect_rc 2 "keygen -W with --password-file exits 2"
run "$APPLIANCE" keygen -W --frob
expect_rc 2 "keygen with an unknown option exits 2"
run "$APPLIANCE" keygen -W extra
expect_rc 2 "keygen with an argument exits 2"
run "$APPLIANCE" keygen -W -p "$TMP/same" -s "$TMP/same"
expect_rc 2 "keygen with the same path for both keys exits 2"
: >"$TMP/empty-password"
run "$APPLIANCE" keygen --password-file "$TMP/empty-password" -p "$TMP/x.pub" -s "$TMP/x.key"
expect_rc 1 "keygen with an empty password file exits 1"
check "... naming the file and -W" \
    bash -c 'grep -qF -- "$2" "$1" && grep -qF -- "-W" "$1"' _ "$TMP/stderr" "$TMP/empty-password"
run "$APPLIANCE" keygen --password-file "$TMP/no-such-file" -p "$TMP/x.pub" -s "$TMP/x.key"
expect_rc 1 "keygen with a missing password file exits 1"
check "... naming it" err_has "$TMP/no-such-file"

# On a terminal: the password is asked for twice, with echo off.
tty_keygen "typed password" "typed password" -p "$TMP/tty.pub" -s "$TMP/tty.key"
expect_rc 0 "keygen on a terminal asks for the password twice"
check "... with echo off (the password never shows)" bash -c '! grep -q "typed password" "$1"' _ \
    "$TMP/stdout"
printf 'typed password\n' >"$TMP/typed"
run minisign -R -s "$TMP/tty.key" -p "$TMP/tty-regen.pub" <"$TMP/typed"
check "stock minisign opens the key with the typed password" \
    cmp -s "$TMP/tty.pub" "$TMP/tty-regen.pub"
tty_keygen "one password" "another one" -p "$TMP/tty2.pub" -s "$TMP/tty2.key"
expect_rc 1 "keygen on a terminal with two different passwords exits 1"
check "... saying they differ" out_has "differ"
check "... and writes no key" test ! -e "$TMP/tty2.key" -a ! -e "$TMP/tty2.pub"
tty_keygen "" "" -p "$TMP/tty3.pub" -s "$TMP/tty3.key"
expect_rc 1 "keygen on a terminal with an empty password exits 1"
check "... pointing to -W" out_has "-W"
run "$APPLIANCE" keygen --password-file <(printf 'piped password\nsecond line\n') \
    -p "$TMP/pipe.pub" -s "$TMP/pipe.key"
expect_rc 0 "keygen --password-file reads a pipe"
printf 'piped password\n' >"$TMP/piped"
run minisign -R -s "$TMP/pipe.key" -p "$TMP/pipe-regen.pub" <"$TMP/piped"
check "... its first line is the password" cmp -s "$TMP/pipe.pub" "$TMP/pipe-regen.pub"

before=$(cat "$D/ours-w.pub")
run "$APPLIANCE" keygen -W -p "$D/ours-w.pub" -s "$D/ours-w.key"
expect_rc 1 "keygen refuses to replace an existing key pair"
check "... saying it exists and how to force it" \
    bash -c 'grep -q "already exists" "$1" && grep -qF -- "-f" "$1"' _ "$TMP/stderr"
same "... and leaves the public key alone" "$(cat "$D/ours-w.pub")" "$before"
run "$APPLIANCE" keygen -W -f -p "$D/ours-w.pub" -s "$D/ours-w.key"
expect_rc 0 "keygen -f replaces the key pair"
check "... with a new key" test "$(cat "$D/ours-w.pub")" != "$before"
same "... still mode 0600" "$(mode_of "$D/ours-w.key")" 600

# Defaults: appliance.pub here, the secret key under ~/.config/appliance (made 0700), or
# $APPLIANCE_KEY. A permissive umask changes neither mode.
mkdir -p "$TMP/home" "$TMP/cwd"
run bash -c 'cd "$1" && umask 000 && HOME="$2" APPLIANCE_KEY= "$3" keygen -W' _ \
    "$TMP/cwd" "$TMP/home" "$APPLIANCE"
expect_rc 0 "keygen -W with the default paths"
check "the public key is appliance.pub in the current directory" test -f "$TMP/cwd/appliance.pub"
check "the secret key is ~/.config/appliance/appliance.key" \
    test -f "$TMP/home/.config/appliance/appliance.key"
same "~/.config is made 0700" "$(mode_of "$TMP/home/.config")" 700
same "~/.config/appliance is made 0700" "$(mode_of "$TMP/home/.config/appliance")" 700
same "the secret key is 0600 under umask 000" \
    "$(mode_of "$TMP/home/.config/appliance/appliance.key")" 600
same "the public key is 0644 under umask 000" "$(mode_of "$TMP/cwd/appliance.pub")" 644
run minisign -R -s "$TMP/home/.config/appliance/appliance.key" -p "$TMP/cwd/regen.pub"
check "stock minisign recreates the default public key" \
    cmp -s "$TMP/cwd/appliance.pub" "$TMP/cwd/regen.pub"
run bash -c 'cd "$1" && APPLIANCE_KEY="$2" "$3" keygen -W -p env.pub' _ \
    "$TMP/cwd" "$TMP/keys/from-env.key" "$APPLIANCE"
expect_rc 0 "keygen -W with APPLIANCE_KEY"
check "the secret key goes to \$APPLIANCE_KEY" test -f "$TMP/keys/from-env.key"
same "its new directory is 0700" "$(mode_of "$TMP/keys")" 700
check "no temporary file is left beside the keys" \
    bash -c '! ls -a "$1" "$2" | grep -q "tmp-"' _ "$TMP/keys" "$D"

finish
