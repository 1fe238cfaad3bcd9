#!/usr/bin/env bash
# Python images as installed: every Python image ships the bytecode of its standard library (and
# python-3.13-web and the one-service images python-3.13-<framework> that of Debian's python3-*
# packages), compiled at build time by the image's
# own interpreter, unchecked-hash, optimisation level 0, so that no import in the read-only root
# compiles anything; and no image holds what a runtime does not need: a static library,
# bytecode of other optimisation levels, ensurepip, idle, tkinter, the standard library's
# test suite. Each check has a control that makes it fail. The Debian images' bytecode stage
# (builder "self") is run again from scratch and must give the same digests.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

FRAMEWORKS=(fastapi starlette flask django)
DEBIAN=(python-3.13 python-3.13-web "${FRAMEWORKS[@]/#/python-3.13-}")
IMAGES=("${DEBIAN[@]}" python-3.13-src python-3.13t python-3.13-jit)
python_of() {
    case $1 in
    python-3.13 | python-3.13-web | python-3.13-fastapi | python-3.13-starlette | \
        python-3.13-flask | python-3.13-django) echo /usr/bin/python3.13 ;;
    python-3.13t) echo /usr/local/bin/python3.13t ;;
    *) echo /usr/local/bin/python3.13 ;;
    esac
}
# The folders the bytecode stage compiles (as the recipes and images/cpython/build.sh name them).
libdirs_of() {
    case $1 in
    python-3.13 | python-3.13-web | python-3.13-fastapi | python-3.13-starlette | \
        python-3.13-flask | python-3.13-django)
        echo /usr/lib/python3.13 /usr/lib/python3/dist-packages ;;
    python-3.13t) echo /usr/local/lib/python3.13t ;;
    *) echo /usr/local/lib/python3.13 ;;
    esac
}

# The standard library a JSON server on the standard library imports, beyond the interpreter's
# start (which the hello program covers).
STDLIB='import argparse, asyncio, concurrent.futures, datetime, decimal, email.utils, http.server, json, logging, selectors, socketserver, ssl, urllib.parse, uuid'
# web FRAMEWORK...: Python that runs each framework's app.py as a module (its server is not
# started) and imports what its server imports when it starts.
web() {
    local fw
    echo "import runpy"
    for fw in "$@"; do
        echo "runpy.run_path('/tmp/workloads/servers/python/$fw/app.py', run_name='app')"
        case $fw in
        fastapi | starlette)
            echo "import uvicorn.main, uvicorn.loops.uvloop, uvicorn.protocols.http.httptools_impl" ;;
        *) echo "import gunicorn.app.base, gunicorn.workers.gthread" ;;
        esac
        [ "$fw" = fastapi ] && echo "import orjson"
    done
}
# The frameworks of an image: all four in python-3.13-web, one in python-3.13-<framework>.
frameworks_of() {
    case $1 in
    python-3.13-web) echo "${FRAMEWORKS[*]}" ;;
    python-3.13-*) [[ " ${FRAMEWORKS[*]} " == *" ${1#python-3.13-} "* ]] && echo "${1#python-3.13-}" ;;
    esac
}

# verbose ROOT PYTHON ARG...: runs `PYTHON -v ARG...` in the sandbox (read-only root, this
# tree's images/workloads at /tmp/workloads), output in $TMP/stdout and $TMP/stderr.
verbose() {
    local root=$1 py=$2
    shift 2
    run "$APPLIANCE" run --bind "$ROOT/images/workloads:/tmp/workloads:ro" "$root" -- "$py" -v "$@"
}
# counts LOG: from `python -v` output, "S P C": modules the source file loader imported, code
# objects read from a .pyc, code objects compiled from a source. An import that finds a good
# .pyc logs "code object from '<.pyc>'", one that compiles logs "code object from <.py>".
counts() {
    awk -v q="'" '
        /^import / && index($0, "# <_frozen_importlib_external.SourceFileLoader object") { s++ }
        index($0, "# code object from " q) == 1 && $0 ~ ("\\.pyc" q "$") { p++ }
        /^# code object from \// { c++ }
        END { print s + 0, p + 0, c + 0 }' "$1"
}
# all_from_pyc LOG: some modules came from source files, none was compiled, and there are at
# least as many code objects read from a .pyc (a module whose own imports fail, such as
# uvicorn's optional reloaders, reads its .pyc but logs no "import" line).
all_from_pyc() {
    local s p c
    read -r s p c < <(counts "$1")
    [ "$s" -gt 0 ] && [ "$p" -ge "$s" ] && [ "$c" -eq 0 ]
}
# reports_compiles LOG: the control's expectation, all_from_pyc fails because of compiles.
reports_compiles() {
    local s p c
    read -r s p c < <(counts "$1")
    ! all_from_pyc "$1" && [ "$c" -gt 0 ]
}
describe() {
    local s p c
    read -r s p c < <(counts "$1")
    echo "$s modules from source files, $p read from .pyc, $c compiled"
}
# import_checks LABEL ROOT PYTHON "FRAMEWORK..." pass|control: the hello program, a JSON
# server's standard library and the frameworks named (none: "-"); each must pass all_from_pyc
# (or, for a control, report compiles).
import_checks() {
    local label=$1 root=$2 py=$3 web=$4 expect=$5 i what
    local -a args
    for i in 0 1 2; do
        case $i in
        0) what="the hello program" args=(/tmp/workloads/hello/hello.py) ;;
        1) what="a JSON server's standard library" args=(-c "$STDLIB") ;;
        2)
            [ "$web" != - ] || continue
            # shellcheck disable=SC2086 # one word per framework
            what="$web and what its server imports" args=(-c "$(web $web)")
            ;;
        esac
        verbose "$root" "$py" "${args[@]}"
        expect_rc 0 "$label: $what runs"
        [ $i -eq 0 ] && same "$label: the hello program greets" "$(cat "$TMP/stdout")" "Hello, World!"
        if [ "$expect" = pass ]; then
            check "$label: $what: every module read its .pyc ($(describe "$TMP/stderr"))" \
                all_from_pyc "$TMP/stderr"
        else
            check "control: $label: $what: the check reports compiles ($(describe "$TMP/stderr"))" \
                reports_compiles "$TMP/stderr"
        fi
    done
}
# bytecode_check ROOT PYTHON DIR...: python-bytecode-check.py in the sandbox; JSON in $TMP/check.json.
bytecode_check() {
    local root=$1 py=$2
    shift 2
    run "$APPLIANCE" run --bind "$ROOT/tests/integration:/tmp/check:ro" "$root" -- \
        "$py" -S /tmp/check/python-bytecode-check.py "$@"
    cp "$TMP/stdout" "$TMP/check.json"
}
# forbidden ROOT: what a runtime image must not hold, one path a line. The standard library's
# test suite is its regression tests, test/test_*; Debian's libpython3.13-stdlib ships the
# test package's support modules (test.support, libregrtest, typinganndata) with the test of
# test.support, test/test_support.py, and keeps the suite in libpython3.13-testsuite.
forbidden() {
    (cd "$1" && find . \( -name '*.a' -o -name '*.opt-1.pyc' -o -name '*.opt-2.pyc' \
        -o -name ensurepip -o -name idlelib -o -name tkinter -o -name turtledemo \
        -o \( -path './usr/*lib/python3.13*/test/test_*' \
        ! -path './usr/*lib/python3.13*/test/test_support.py' \) \) -print -prune | sort)
}

for img in "${IMAGES[@]}"; do
    start=$SECONDS
    run "$APPLIANCE" image build "$img"
    expect_rc 0 "$img builds ($((SECONDS - start)) s)"
done

for img in "${IMAGES[@]}"; do
    py=$(python_of "$img")
    web=$(frameworks_of "$img")
    import_checks "$img" "$img" "$py" "${web:--}" pass
    # shellcheck disable=SC2046 # one word per folder
    bytecode_check "$img" "$py" $(libdirs_of "$img")
    expect_rc 0 "$img: python-bytecode-check.py runs"
    check "$img: every source in $(libdirs_of "$img") has a current unchecked-hash .pyc of level 0 naming it ($(jq -c . "$TMP/check.json" 2>/dev/null))" \
        jqe '.sources > 0 and .missing == 0 and .bad_magic == 0 and .not_unchecked == 0 and .stale == 0 and .wrong_filename == 0 and .optimised == 0' "$TMP/check.json"
    run "$APPLIANCE" image unpack "$img" "$TMP/root"
    expect_rc 0 "$img unpacks"
    forbidden "$TMP/root" >"$TMP/forbidden"
    check "$img: no static library, optimised bytecode, ensurepip, idle, tkinter or test suite ($(head -c 300 "$TMP/forbidden" | tr '\n' ' '))" \
        test ! -s "$TMP/forbidden"
    rm -rf "$TMP/root"
done

# The Debian images compile their bytecode in a stage of their own layers (builder "self"),
# which the manifest records; a rebuild from scratch (package layer and stage run again) gives
# the same digest (here for two of them; tests/integration/20-reproducible.sh rebuilds all).
for img in "${DEBIAN[@]}"; do
    layout=build/images/$img
    mdig=$(jq -r '.manifests[0].digest' "$layout/index.json")
    manifest="$layout/blobs/sha256/${mdig#sha256:}"
    check "$img: the manifest records the bytecode stage's builder \"self\"" \
        jqe '.annotations["appliance.stage.bytecode.definition"] | fromjson | .builder == "self"' "$manifest"
    bdig=$(jq -r '.annotations["appliance.stage.bytecode.builder"]' "$manifest")
    check "$img: ... and the digest of the image before it ($bdig)" \
        sh -c "echo '$bdig' | grep -qE '^sha256:[0-9a-f]{64}$' && [ '$bdig' != '$mdig' ]"
    [ "$img" = python-3.13 ] || [ "$img" = python-3.13-web ] || continue
    run "$APPLIANCE" image build --rebuild --json --out "$TMP/rebuilt" "$img"
    expect_rc 0 "$img: image build --rebuild exits 0"
    check "$img: the rebuild ran the bytecode stage again" err_has "stage bytecode of $img: running"
    same "$img: the rebuild gives the same manifest digest" \
        "$(jq -r '.[0].manifest_digest' "$TMP/stdout" 2>/dev/null)" "$mdig"
done
rm -rf "$TMP/rebuilt"

# Controls. A copy of python-3.13's root: with one source edited, its .pyc is stale; with every
# __pycache__ removed, the imports compile and the .pyc are missing.
run "$APPLIANCE" image unpack python-3.13 "$TMP/ctl"
expect_rc 0 "control: python-3.13 unpacks"
echo "# edited" >>"$TMP/ctl/usr/lib/python3.13/json/__init__.py"
bytecode_check "$TMP/ctl" /usr/bin/python3.13 /usr/lib/python3.13
check "control: an edited source's .pyc is reported stale ($(jq -c . "$TMP/check.json" 2>/dev/null))" \
    jqe '.stale == 1' "$TMP/check.json"
find "$TMP/ctl" -name __pycache__ -type d -prune -exec rm -rf {} +
import_checks "python-3.13 without __pycache__" "$TMP/ctl" /usr/bin/python3.13 - control
bytecode_check "$TMP/ctl" /usr/bin/python3.13 /usr/lib/python3.13
check "control: without __pycache__, every .pyc is reported missing ($(jq -c '.sources, .missing' "$TMP/check.json" 2>/dev/null | xargs))" \
    jqe '.sources > 0 and .missing == .sources' "$TMP/check.json"
rm -rf "$TMP/ctl"

# Controls of forbidden: a folder seeded with one such file at a time.
seed() {
    rm -rf "$TMP/seed"
    mkdir -p "$TMP/seed/$(dirname "$1")"
    touch "$TMP/seed/$1"
}
finds() { [ "$(forbidden "$TMP/seed")" = "./$1" ]; }
for f in usr/local/lib/libpython3.13.a \
    usr/lib/python3.13/json/__pycache__/decoder.cpython-313.opt-1.pyc \
    usr/local/lib/python3.13t/__pycache__/os.cpython-313.opt-2.pyc \
    usr/local/lib/python3.13/ensurepip \
    usr/local/lib/python3.13/idlelib \
    usr/lib/python3.13/tkinter \
    usr/local/lib/python3.13/test/test_grammar.py \
    usr/local/lib/python3.13t/test/test_asyncio; do
    seed "$f"
    check "control: forbidden finds $f" finds "$f"
done
seed usr/lib/python3.13/test/support/__init__.py
touch "$TMP/seed/usr/lib/python3.13/test/test_support.py" "$TMP/seed/usr/lib/python3.13/test/__init__.py"
check "control: forbidden lets Debian's test.support and its test_support.py pass" \
    test -z "$(forbidden "$TMP/seed")"
finish
