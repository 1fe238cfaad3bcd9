#!/usr/bin/env bash
# Builds the Go JSON servers (every folder under go/, or the frameworks named) into OUT_DIR
# with one `go build` in one run of the go-1.23-web-src sandbox: offline, GOPATH mode against
# Debian's sources, static (CGO_ENABLED=0), -trimpath, the local toolchain only.
#
# The servers are bound read-only at /tmp/gopath/src/servers/go (inside the sandbox's tmpfs,
# so nothing is created in the image's root) with GOPATH=/tmp/gopath:/usr/share/gocode. Code
# in a GOPATH entry under a go.mod (go/go.mod) gets the go command's "minimal module
# compatibility": echo and chi import github.com/labstack/echo/v4 and github.com/go-chi/chi/v5,
# which Debian ships as github.com/labstack/echo and github.com/go-chi/chi. Module mode does
# not work offline with these sources (gin's go.mod requires modules Debian does not ship, and
# `replace` refuses folders without a go.mod, such as valyala/bytebufferpool).
#
# Usage: build-go.sh [--cache DIR] OUT_DIR [FRAMEWORK...]
#   --cache DIR   keep the Go build cache in DIR between builds (default: a fresh one)
# Prints the binaries built, one "FRAMEWORK PATH" a line, and exits 1 unless all were built.
# APPLIANCE overrides the appliance binary (default build/appliance of this repository).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
APPLIANCE=${APPLIANCE:-$ROOT/build/appliance}

usage() { echo "usage: $0 [--cache DIR] OUT_DIR [FRAMEWORK...]" >&2; exit 2; }
cache=
while [ $# -gt 0 ]; do
    case $1 in
    --cache) [ $# -ge 2 ] || usage; cache=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || usage
out=$1
shift
frameworks=("$@")
if [ ${#frameworks[@]} -eq 0 ]; then
    for d in "$HERE"/go/*/main.go; do frameworks+=("$(basename "$(dirname "$d")")"); done
fi
pkgs=()
for f in "${frameworks[@]}"; do
    [ -f "$HERE/go/$f/main.go" ] || { echo "build-go: no server $HERE/go/$f/main.go" >&2; exit 2; }
    pkgs+=("./$f")
done

mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
# The sandbox runs as uid 65534.
chmod 0777 "$out" || exit 1
binds=(--bind "$HERE/go:/tmp/gopath/src/servers/go" --bind "$out:/tmp/out:rw")
if [ -n "$cache" ]; then
    mkdir -p "$cache" && chmod 0777 "$cache" || exit 1
    binds+=(--bind "$(cd "$cache" && pwd):/tmp/go-cache:rw")
fi
for f in "${frameworks[@]}"; do rm -f "$out/$f"; done
# The appliance finds built images relative to the repository (build/images).
cd "$ROOT" || exit 1

"$APPLIANCE" run --memory 2G --tmp-size 2G --timeout 900 --seccomp default "${binds[@]}" \
    --env GOPATH=/tmp/gopath:/usr/share/gocode --env GO111MODULE=off --env GOPROXY=off \
    --env GOFLAGS= --env GOTOOLCHAIN=local --env CGO_ENABLED=0 --env GOCACHE=/tmp/go-cache \
    --workdir /tmp/gopath/src/servers/go go-1.23-web-src -- \
    go build -trimpath -ldflags=-buildid= -o /tmp/out/ "${pkgs[@]}"
rc=$?

missing=0
for f in "${frameworks[@]}"; do
    if [ -x "$out/$f" ]; then echo "$f $out/$f"; else
        echo "build-go: $f was not built" >&2
        missing=$((missing + 1))
    fi
done
[ "$rc" -eq 0 ] && [ "$missing" -eq 0 ]
