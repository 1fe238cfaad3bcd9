#!/usr/bin/env bash
# The cgroup v2 backend, for real: boots Debian's kernel with cgroup_no_v1=all under qemu
# (software emulation, no KVM needed) and runs the sandbox inside that VM.
#
# How it works:
#  1. The kernel: tests/vm/linux-image is an image recipe whose lock pins Debian bookworm's
#     linux-image-6.1 package (the lock is trimmed by hand to that one package: only the kernel
#     file is used). The appliance itself builds and unpacks it, so the .deb is fetched once,
#     checked against the lock's sha256 and cached. boot/vmlinuz and the uncompressed vmlinux
#     (decompressed from vmlinuz's xz payload) are kept under $APPLIANCE_CACHE/vm-kernel/<the
#     .deb's sha256>/, so later runs skip the build. qemu boots vmlinux directly through its
#     PVH note (faster), and vmlinuz when that fails.
#  2. The initramfs (cpio newc, built in a temp dir each run): busybox-static with its applets,
#     the appliance and build/vm/figures with every shared library ldd names (at the same
#     paths), the scratch root /sbx for the sandbox (empty proc dev tmp sys and tests/vm/probe.c
#     built with gcc -static), the roots of the figures' real programs (/go: go-1.23-static's
#     hello and net/http server; /py: the python-3.13 image; /scripts: the test HTTP server),
#     and tests/vm/init.sh as /init. Before packing, build/vm/figures measures the same
#     workloads on the host (tests/vm/figures.c: the figures the bench reads, through its calls).
#  3. /init mounts cgroup2 on /sys/fs/cgroup, runs each check through `appliance run --json`
#     and the figures through build/vm/figures, checking them against the workloads' known
#     sizes, and prints "ok - ..." / "FAIL - ..." lines and "# ..." details (the figures among
#     them) on the serial console, which qemu writes to a file; then it stops the VM through
#     the isa-debug-exit device.
#  4. This script turns the VM's lines into its own checks and also checks qemu's exit status:
#     33 when the VM saw every check pass, 35 when one failed ((code << 1) | 1 for the codes 0x10
#     and 0x11 that /init writes), anything else when the VM never got that far.
#  5. It compares the VM's figures (cgroup v2) with the host's (v1 on a hybrid host).
# No network device in the VM; a hard 480 s timeout around qemu (a loaded host slows the
# emulation down several times). The VM part takes ~2 min under
# emulation (half of it the figures and the larger initramfs); the first run also downloads and
# builds the ~70 MB kernel package (~45 s) and the images, when they are not built yet.
# Needs root (mknod of /dev/console), qemu-system-x86, busybox-static, cpio, xz-utils, gcc with
# the static libc and jq (`make deps` installs them), and build/vm/figures (`make test` builds it).
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

KERNEL_PKG_PREFIX=linux-image-6.
LOCK=tests/vm/linux-image/lock.json
CACHE=${APPLIANCE_CACHE:-${HOME:-/root}/.cache/appliance}
PASS_CODE=33
FAIL_CODE=35

# --- what the test needs ------------------------------------------------------------------
missing=()
for tool in qemu-system-x86_64 cpio xz jq gcc sha256sum timeout; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
BUSYBOX=/bin/busybox
if ! "$BUSYBOX" --list >/dev/null 2>&1 || ldd "$BUSYBOX" >/dev/null 2>&1; then
    missing+=("busybox-static")
fi
[ -x "$APPLIANCE" ] || missing+=("$APPLIANCE (make build/appliance)")
FIGURES=$ROOT/build/vm/figures
[ -x "$FIGURES" ] || missing+=("$FIGURES (make build/vm/figures)")
[ "$(id -u)" -eq 0 ] || missing+=("root")
if [ ${#missing[@]} -gt 0 ]; then
    fail "the VM test's requirements are there (missing: ${missing[*]}; run make deps as root)"
    finish
    exit 1
fi

# --- 1. the kernel ------------------------------------------------------------------------
t0=$(date +%s.%N)
deb_sha=$(jq -r --arg p "$KERNEL_PKG_PREFIX" \
    '[.packages[] | select(.name | startswith($p))][0].sha256 // empty' "$LOCK" 2>/dev/null)
if [ -z "$deb_sha" ]; then
    fail "$LOCK pins a $KERNEL_PKG_PREFIX* package"
    finish
    exit 1
fi
KDIR=$CACHE/vm-kernel/$deb_sha

# extract_vmlinux VMLINUZ OUT: decompresses the xz payload of a bzImage into an ELF vmlinux.
extract_vmlinux() {
    local off
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -n 1 | cut -d: -f1)
    [ -n "$off" ] || return 1
    tail -c +"$((off + 1))" "$1" | xz -dc --single-stream >"$2" 2>/dev/null
    [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
}

kernel_cached() {
    [ -s "$KDIR/vmlinuz" ] && [ -s "$KDIR/SHA256SUMS" ] &&
        (cd "$KDIR" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1
}

if kernel_cached; then
    pass "the pinned kernel is in the cache ($KDIR)"
else
    images=$TMP/vm-images kroot=$TMP/kroot
    if APPLIANCE_IMAGES=tests/vm "$APPLIANCE" --quiet image build linux-image --out "$images" \
        >"$TMP/build.log" 2>&1 &&
        "$APPLIANCE" --quiet image unpack linux-image "$kroot" --out "$images" >>"$TMP/build.log" 2>&1; then
        pass "the appliance builds and unpacks the pinned linux-image"
    else
        fail "the appliance builds and unpacks the pinned linux-image"
        sed 's/^/#   /' "$TMP/build.log" | tail -n 20
        finish
        exit 1
    fi
    vmlinuz=$(ls "$kroot"/boot/vmlinuz-* 2>/dev/null | head -n 1)
    if [ -z "$vmlinuz" ]; then
        fail "the linux-image package holds boot/vmlinuz-*"
        finish
        exit 1
    fi
    new=$KDIR.tmp.$$
    rm -rf "$new"
    mkdir -p "$new"
    cp "$vmlinuz" "$new/vmlinuz"
    basename "$vmlinuz" >"$new/version"
    if ! extract_vmlinux "$new/vmlinuz" "$new/vmlinux"; then
        echo "# no xz payload could be decompressed from $(basename "$vmlinuz"): booting it as is"
        rm -f "$new/vmlinux"
    fi
    (cd "$new" && sha256sum -- * >SHA256SUMS)
    rm -rf "$KDIR"
    mv "$new" "$KDIR"
    rm -rf "$kroot" "$images"
    check "the kernel is cached under $KDIR" kernel_cached
fi
t_kernel=$(date +%s.%N)

# --- 2. the initramfs ---------------------------------------------------------------------
S=$TMP/initramfs
mkdir -p "$S"/{bin,dev,proc,sys,tmp,root,newroot} "$S"/sbx/{proc,dev,tmp,sys}
chmod 1777 "$S/tmp"
cp "$BUSYBOX" "$S/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [ -e "$S/bin/$applet" ] || ln -s busybox "$S/bin/$applet"
done
cp "$APPLIANCE" "$S/bin/appliance"
cp "$FIGURES" "$S/bin/figures"
libs_ok=1
# Every library and the dynamic loader, at the paths ldd resolves them to.
while read -r lib; do
    mkdir -p "$S$(dirname "$lib")"
    cp -L "$lib" "$S$lib" || libs_ok=0
done < <(ldd "$APPLIANCE" "$FIGURES" | grep -v ':$' | grep -o '/[^ ]*' | sort -u)
check "the appliance's shared libraries are copied into the initramfs" [ "$libs_ok" -eq 1 ]
if gcc -static -O2 -Wall -o "$S/sbx/probe" tests/vm/probe.c 2>"$TMP/gcc.log"; then
    pass "tests/vm/probe.c builds as a static program"
else
    fail "tests/vm/probe.c builds as a static program"
    sed 's/^/#   /' "$TMP/gcc.log" | head -n 20
    finish
    exit 1
fi
chmod 755 "$S/sbx" "$S/sbx/probe"

# The roots of the figures' workloads (tests/vm/figures.c): the scratch root with the probe,
# go-1.23-static's hello and net/http server at their paths in that image, the python-3.13
# image, and the test HTTP server the Python one runs. The host measures them too, here,
# before they go into the initramfs: its cgroup figures against the VM's.
# figure_roots: makes them under $S; 0 when every one is there.
figure_roots() {
    "$APPLIANCE" -q image build go-1.23-static python-3.13 >"$TMP/images.log" 2>&1 &&
        "$APPLIANCE" -q image unpack go-1.23-static "$TMP/go-image" >>"$TMP/images.log" 2>&1 &&
        "$APPLIANCE" -q image unpack python-3.13 "$S/py" >>"$TMP/images.log" 2>&1 || return 1
    mkdir -p "$S"/go/{proc,dev,tmp,sys} "$S/go/usr/local/bin/servers" "$S/scripts"
    cp "$TMP/go-image/usr/local/bin/hello" "$S/go/usr/local/bin/" &&
        cp "$TMP/go-image/usr/local/bin/servers/nethttp" "$S/go/usr/local/bin/servers/" &&
        cp tests/integration/status-http-server.py "$S/scripts/" || return 1
    rm -rf "$TMP/go-image"
    chmod -R a+rX "$S/go" "$S/py" "$S/scripts"
}
if figure_roots; then
    pass "the figures' roots are made (go-1.23-static's hello and nethttp, python-3.13)"
else
    fail "the figures' roots are made (go-1.23-static's hello and nethttp, python-3.13)"
    sed 's/^/#   /' "$TMP/images.log" | tail -n 20
fi
t_roots=$(date +%s.%N)
"$FIGURES" --scratch "$S/sbx" --go "$S/go" --python "$S/py" --scripts "$S/scripts" \
    >"$TMP/host-figures.txt" 2>"$TMP/host-figures.err"
FIG_RC=$?
t_host=$(date +%s.%N)
HOST_CG=$(awk '$1 == "figure" { sub("cgroup=", "", $3); print $3; exit }' "$TMP/host-figures.txt")
check "on the host (cgroup ${HOST_CG:-?}), every figures case ran (exit $FIG_RC)" [ "$FIG_RC" -eq 0 ]
sed 's/^/#   host: /' "$TMP/host-figures.txt" "$TMP/host-figures.err"
cp tests/vm/init.sh "$S/init"
chmod 755 "$S/init"
mknod "$S/dev/console" c 5 1
(cd "$S" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$TMP/initrd.cpio"
rm -rf "$S"
t_initrd=$(date +%s.%N)
echo "# initramfs $(($(stat -c %s "$TMP/initrd.cpio") / 1048576)) MiB"

# --- 3. boot ------------------------------------------------------------------------------
# The host's transparent huge page mode, for the VM's kernel too (Debian's default is
# "always"): a Go heap backed by a huge page there would hold ~1.5 MiB more than here, and the
# figures compared are to differ only by the cgroup version and the kernel.
THP=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
# boot KERNEL: boots the VM, leaving the serial console in $TMP/serial.log and qemu's exit
# status in QRC.
boot() {
    : >"$TMP/serial.log"
    timeout 480 qemu-system-x86_64 -accel tcg -m 768 -smp 2 -nographic -no-reboot \
        -kernel "$1" -initrd "$TMP/initrd.cpio" \
        -append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet${THP:+ transparent_hugepage=$THP}" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -serial "file:$TMP/serial.log" -display none -monitor none -nic none \
        </dev/null >"$TMP/qemu.log" 2>&1
    QRC=$?
}
booted=""
if [ -s "$KDIR/vmlinux" ]; then
    boot "$KDIR/vmlinux"
    booted=vmlinux
    if [ "$QRC" -ne "$PASS_CODE" ] && [ "$QRC" -ne "$FAIL_CODE" ] && [ ! -s "$TMP/serial.log" ]; then
        echo "# booting vmlinux through PVH failed (qemu exit $QRC): trying vmlinuz"
        sed 's/^/#   qemu: /' "$TMP/qemu.log" | head -n 5
        booted=""
    fi
fi
if [ -z "$booted" ]; then
    boot "$KDIR/vmlinuz"
    booted=vmlinuz
fi
t_boot=$(date +%s.%N)

# --- 4. the VM's verdicts -----------------------------------------------------------------
tr -d '\r' <"$TMP/serial.log" >"$TMP/serial.txt"
grep -E '^# ' "$TMP/serial.txt" | sed 's/^/#   vm: /'
n_vm=0
while IFS= read -r line; do
    case $line in
    "ok - "*) pass "vm: ${line#ok - }"; n_vm=$((n_vm + 1)) ;;
    "FAIL - "*) fail "vm: ${line#FAIL - }"; n_vm=$((n_vm + 1)) ;;
    esac
done <"$TMP/serial.txt"
n_want=$(grep -c '^expect ' tests/vm/init.sh)
check "the VM reported all its checks ($n_vm of $n_want)" [ "$n_vm" -eq "$n_want" ]
case $QRC in
"$PASS_CODE") pass "qemu's exit status says every check in the VM passed ($booted)" ;;
"$FAIL_CODE") fail "qemu's exit status says every check in the VM passed (a check failed; $booted)" ;;
124) fail "the VM finished within 480 s (timed out; $booted)" ;;
*) fail "the VM stopped through isa-debug-exit (qemu exit $QRC; $booted)" ;;
esac
if [ "$QRC" -ne "$PASS_CODE" ]; then
    echo "# last lines of the serial console:"
    tail -n 40 "$TMP/serial.txt" | sed 's/^/#   /'
    sed 's/^/#   qemu: /' "$TMP/qemu.log" | head -n 10
fi
# --- 5. the VM's figures against the host's ----------------------------------------------
# The same workloads in the same roots, read through the same calls under the host's cgroups
# and the VM's v2 (with the host's huge page mode): memory figures agree within 1 MiB for the
# probe's allocations, 1.5 MiB for the Go and Python programs (0.7 MiB apart at most here).
sed -n 's/^# figure /figure /p' "$TMP/serial.txt" >"$TMP/vm-figures.txt"
# figure_of FILE CASE KEY: the figure, empty when it is missing; "CASE - CASE0" for the figure
# of CASE less that of CASE0 (its control).
figure_of() {
    awk -v c="${2% - *}" -v c0="${2#* - }" -v k="$3=" -v diff="$([ "${2% - *}" != "$2" ] && echo 1)" '
        $1 == "figure" { for (i = 3; i <= NF; i++) if (index($i, k) == 1) v[$2] = substr($i, length(k) + 1) }
        END { if (!(c in v) || (diff && !(c0 in v))) exit; print diff ? v[c] - v[c0] : v[c] }' "$1"
}
# in_unit VALUE SCALE UNIT: VALUE / SCALE with its unit, "missing" when VALUE is empty.
in_unit() {
    if [ -z "$1" ]; then echo missing; else awk -v x="$1" -v s="$2" -v u="$3" 'BEGIN { printf "%.2f %s", x / s, u }'; fi
}
# alike CASE KEY TOL UNIT: the VM's figure is within TOL UNIT (MiB or ms) of the host's.
alike() {
    local h v scale=1048576 d
    [ "$4" = ms ] && scale=1000000
    h=$(figure_of "$TMP/host-figures.txt" "$1" "$2")
    v=$(figure_of "$TMP/vm-figures.txt" "$1" "$2")
    d="$1 $2: VM (v2) $(in_unit "$v" $scale "$4"), host (${HOST_CG:-?}) $(in_unit "$h" $scale "$4"),"
    d+=" within $3 $4"
    if [[ $h =~ ^-?[0-9]+$ && $v =~ ^-?[0-9]+$ ]] &&
        awk -v a="$v" -v b="$h" -v t="$3" -v s=$scale 'BEGIN { exit !((a > b ? a - b : b - a) <= t * s) }'; then
        pass "$d"
    else
        fail "$d"
    fi
}
alike alloc64 peak 1 MiB
alike alloc64 maxrss 1 MiB
# The sandbox's own set-up, charged to the group too, costs ~100 ms of CPU under emulation and
# a few ms on the host: spin 0 ms is the control taken off.
alike "spin300 - spin0" cpu_ns 100 ms
for k in live_current pss uss rss; do
    alike hold64 $k 1 MiB
    alike share32 $k 1 MiB
done
for c in go-hello py-alloc64; do
    alike $c peak 1.5 MiB
    alike $c maxrss 1.5 MiB
done
for c in go-nethttp py-server; do
    alike $c live_current 1.5 MiB
    alike $c pss 1.5 MiB
done

awk -v a="$t0" -v b="$t_kernel" -v c="$t_initrd" -v d="$t_boot" -v r="$t_roots" -v h="$t_host" 'BEGIN {
    printf "# timings: kernel %.1f s, initramfs %.1f s, figures on the host %.1f s, VM (%s) %.1f s\n",
        b - a, c - b - (h - r), h - r, "'"$booted"'", d - c }'
finish
