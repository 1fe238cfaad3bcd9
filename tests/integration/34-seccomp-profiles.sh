#!/usr/bin/env bash
# appliance run --seccomp FILE refuses a profile the command could never start under (one that
# does not allow execve) and a profile past the compiler's limits, quickly, as the sandbox's
# failure (exit 125, as docker run does for a profile it cannot use: the profile is an input the
# sandbox could not use, not a malformed command line, so not the usage error 2). Each refusal
# sits beside a control that runs the same command.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

TRUE_BIN=$ROOT/build/static/bench/trivial
require_root_and "$APPLIANCE" "$TRUE_BIN"
RFS=$TMP/root
mkdir -p "$RFS"/{proc,dev,tmp,sys}
chmod 755 "$TMP" "$RFS"
install -m 0755 "$TRUE_BIN" "$RFS/true"

# run_with PROFILE: runs /true in the bare root under PROFILE (a file, or default); the
# status in RC, the messages in $TMP/stderr, the seconds it took in SECS.
run_with() {
    local t0 t1
    t0=$(date +%s%N)
    run timeout 20 "$APPLIANCE" run --seccomp "$1" "$RFS/" -- /true
    t1=$(date +%s%N)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}
first_line() { head -n 1 "$TMP/stderr" | cut -c1-160; }

# refused DESCRIPTION PROFILE TEXT...: exit 125 with every TEXT (and the profile's path) in
# the message.
refused() {
    local desc=$1 profile=$2 t
    shift 2
    run_with "$profile"
    local ok=1
    [ "$RC" -eq 125 ] || ok=0
    err_has "$profile" || ok=0
    for t in "$@"; do err_has "$t" || ok=0; done
    if [ "$ok" -eq 1 ]; then pass "$desc: exit 125 in ${SECS} s ($(first_line))"; else
        fail "$desc: exit $RC in ${SECS} s, wanted 125 and: $*"
        sed 's/^/#   /' "$TMP/stderr" | tail -n 5
    fi
}
# runs DESCRIPTION PROFILE: the command runs under it (exit 0).
runs() {
    run_with "$2"
    if [ "$RC" -eq 0 ]; then pass "control: $1"; else
        fail "control: $1: exit $RC: $(head -n 3 "$TMP/stderr" | tr '\n' ' ')"; fi
}

# ---- execve ---------------------------------------------------------------------------------
runs "the default profile runs /true" default
printf '{"defaultAction": "SCMP_ACT_ALLOW"}\n' >"$TMP/allow.json"
runs "a profile file that allows everything runs /true" "$TMP/allow.json"

printf '{"defaultAction": "SCMP_ACT_ERRNO"}\n' >"$TMP/deny-all.json"
refused "a deny-all profile is refused for execve" "$TMP/deny-all.json" \
    "does not allow execve, so no command can start under it" 'add "execve" to a rule'

cat >"$TMP/kill-execve.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"},
              {"names": ["execve"], "action": "SCMP_ACT_KILL_PROCESS"}]}
JSON
refused "a profile that kills execve is refused, naming the rule" "$TMP/kill-execve.json" \
    "does not allow execve" "syscalls[1] gives it SCMP_ACT_KILL_PROCESS"
sed 's/"execve"/"keyctl"/' "$TMP/kill-execve.json" >"$TMP/kill-keyctl.json"
runs "the same profile killing keyctl instead runs /true" "$TMP/kill-keyctl.json"

cat >"$TMP/execve-args.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ERRNO",
 "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 2, "value": 0, "op": "SCMP_CMP_NE"}]}]}
JSON
refused "execve allowed only under an argument check is refused" "$TMP/execve-args.json" \
    "does not allow execve" "argument checks of syscalls[0]"

# ---- limits ---------------------------------------------------------------------------------
# 100,000 names: some 25 s of libseccomp's time before the limits; now refused on counting.
{
    printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO", "names": ['
    yes '"mount"' | head -n 100000 | paste -sd, -
    printf ']}]}\n'
} >"$TMP/names-100k.json"
refused "a profile of 100,000 names is refused by the name limit" "$TMP/names-100k.json" \
    "syscalls[0]: more than 4096 system call names" "100000 up to and including this rule"
check "... within 5 s (took ${SECS} s)" awk -v s="$SECS" 'BEGIN { exit !(s < 5) }'

# rules N: a profile of N rules, each denying mount.
rules() {
    printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ['
    yes '{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}' | head -n "$1" | paste -sd, -
    printf ']}\n'
}
rules 1025 >"$TMP/rules-1025.json"
refused "a profile of 1025 rules is refused by the rule limit" "$TMP/rules-1025.json" \
    "syscalls[1024]: more than 1024 rules"
rules 1024 >"$TMP/rules-1024.json"
runs "the same profile at 1024 rules runs /true" "$TMP/rules-1024.json"
finish
