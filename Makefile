# appliance: build, test and reproduce. `make reproduce` and `make test` do all set-up
# themselves on a fresh Debian 12 (run as root).

VERSION := 0.1.0
CC ?= cc
PKG_CONFIG ?= pkg-config
LIBS_PC := libcjson libseccomp libsodium
# Loaded on first use (appliance/core/dynlib.h), not linked: only their headers at build time.
LAZY_PC := libcurl libarchive

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wswitch-enum -Wimplicit-fallthrough -Wcast-qual -Wundef -Wwrite-strings -Wvla \
        -Wno-missing-field-initializers
# C11 has no declaration right after a case label; gcc accepts one silently and
# clang (the fuzz build) refuses it, so gcc is asked to say so.
C11_WARN := $(shell $(CC) -Werror -Wc11-c2x-compat -fsyntax-only -x c /dev/null 2>/dev/null && \
              echo -Wc11-c2x-compat)
WARN += $(C11_WARN)
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif

PC_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) $(LAZY_PC) 2>/dev/null)
PC_LIBS = $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null) -lm -pthread
# Tests and fuzzers also build archives with libarchive themselves.
TEST_LIBS = $(PC_LIBS) $(shell $(PKG_CONFIG) --libs $(LAZY_PC) 2>/dev/null)
# The soname of lib$(1).so, the library the development package links against.
soname = $(shell readelf -d "$$($(CC) -print-file-name=lib$(1).so)" 2>/dev/null | \
    sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
CURL_SONAME := $(call soname,curl)
ARCHIVE_SONAME := $(call soname,archive)
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DAP_VERSION='"$(VERSION)"' $(WARN)
CFLAGS ?= -O2 -g
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SRC := $(sort $(wildcard appliance/core/*.c appliance/image/*.c appliance/sandbox/*.c appliance/bench/*.c appliance/report/*.c appliance/bundle/*.c appliance/campaign/*.c appliance/cmd/*.c))
MAIN := appliance/main.c
OBJ := $(SRC:appliance/%.c=build/obj/%.o)
ASAN_OBJ := $(SRC:appliance/%.c=build/asan/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# Static helper programs that run inside sandboxes (no libc in the root they run in).
STATIC_SRC := $(sort $(wildcard tests/security/*.c $(filter-out tests/bench/startbench.c tests/bench/procmem-probe.c,$(wildcard tests/bench/*.c))))
STATIC_BIN := $(patsubst tests/%.c,build/static/%,$(STATIC_SRC))
HEADERS := $(wildcard appliance/*/*.h) appliance/sandbox/seccomp-default.json

.PHONY: all deps lock test test-unit test-asan test-fuzz test-integration test-security \
        bench-image bench-sandbox bench-loadgen bench-cross-check bench-ratio-transfer check-reproducible check-published \
        reproduce images clean format check-format k8s-schema

all: build/appliance

build/appliance: $(OBJ) build/obj/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(PC_LIBS)

# ap-exec: the libc-free program the sandbox runs last, linked into the appliance (embed.c).
build/ap-exec: appliance/sandbox/exec/ap-exec.c appliance/sandbox/report.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -static -nostdlib -ffreestanding -fno-stack-protector \
	    -fno-asynchronous-unwind-tables -fno-pie -no-pie -Wl,--build-id=none -o $@ $<

build/obj/sandbox/embed.o build/asan/obj/sandbox/embed.o $(FUZZ_BIN): build/ap-exec

# The commit the binary was built from goes into results files; document.o is rebuilt when it
# changes (build/commit.txt is rewritten only then).
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
build/commit.txt: FORCE
	@mkdir -p build; echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' > $@
build/obj/bench/document.o build/asan/obj/bench/document.o: build/commit.txt
build/obj/bench/document.o build/asan/obj/bench/document.o: BASE_CFLAGS += -DAP_COMMIT='"$(COMMIT)"'
build/obj/core/dynlib-curl.o build/asan/obj/core/dynlib-curl.o: BASE_CFLAGS += \
    $(if $(CURL_SONAME),-DAP_LIBCURL_SONAME='"$(CURL_SONAME)"')
build/obj/core/dynlib-archive.o build/asan/obj/core/dynlib-archive.o: BASE_CFLAGS += \
    $(if $(ARCHIVE_SONAME),-DAP_LIBARCHIVE_SONAME='"$(ARCHIVE_SONAME)"')
# A cached seccomp program is one this very compiler made (sandbox/seccomp.c).
build/obj/sandbox/seccomp.o build/asan/obj/sandbox/seccomp.o: BASE_CFLAGS += \
    -DAP_SECCOMP_SOURCE_DIGEST='"$(firstword $(shell sha256sum appliance/sandbox/seccomp.c))"'
.PHONY: FORCE
# Objects the test programs link stay after a build (make would delete them as intermediates).
.SECONDARY:
FORCE:

build/obj/%.o: appliance/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PC_CFLAGS) -c -o $@ $<

build/asan/obj/%.o: appliance/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) $(PC_CFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PC_CFLAGS) -Iappliance -o $@ $< $(OBJ) $(TEST_LIBS)

build/asan/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) $(PC_CFLAGS) -Iappliance -o $@ $< $(ASAN_OBJ) $(TEST_LIBS)

# libFuzzer harnesses, built with clang against the library sources.
build/fuzz/%: tests/fuzz/%.c $(SRC) $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	clang $(filter-out $(C11_WARN),$(BASE_CFLAGS)) -Wno-unused-command-line-argument -O1 -g -fsanitize=fuzzer,address,undefined \
	    $(PC_CFLAGS) -Iappliance -o $@ $< $(SRC) $(TEST_LIBS)

# The start benchmark calls the sandbox as a library, as the appliance's benchmarks do; the
# memory probe calls the bench's own reader.
build/bench/procmem-probe: tests/bench/procmem-probe.c $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PC_CFLAGS) -Iappliance -o $@ $< $(OBJ) $(PC_LIBS)

# The figures the bench reads, read through the same calls, on the host and in the cgroup v2 VM
# (tests/integration/70-cgroup-v2-vm.sh).
build/vm/figures: tests/vm/figures.c $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PC_CFLAGS) -Iappliance -o $@ $< $(OBJ) $(PC_LIBS)

build/bench/startbench: tests/bench/startbench.c $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(PC_CFLAGS) -Iappliance -o $@ $< $(OBJ) $(PC_LIBS)

build/static/%: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $<

# Installs every Debian package the project needs (apt-get update first; idempotent).
deps:
	scripts/install-deps

# The Kubernetes API schema of batch/v1 Job that 95-slurm.sh checks the rendered manifests
# against: the npm packages pinned by tests/k8s/package-lock.json (kubernetes-models), installed
# with npm ci into the download cache once per lock file (needs node 18 or later and npm).
k8s-schema:
	tests/k8s/install-schema

# Re-pins every image against the mirror (commit the result on its own).
lock:
	scripts/lock-all

images: build/appliance
	build/appliance image build

# The main job: the published article's claims judged on this machine. `appliance reproduce`
# checks the claims file, builds the images it needs, measures them with the standard profile
# (progress bar and ETA on a terminal), judges every claim, writes results/latest/ (results.json
# and .csv, claims.json, verdicts.json, report.md, report.html) and packs it into the signed
# archive results/<run-id>.tar.zst (a key pair is made on first use: the secret key at KEY, the
# public one at results/appliance.pub). `make reproduce PROFILE=quick` is the short version
# (minutes); CLAIMS=FILE judges another claims file.
PROFILE ?= standard
CLAIMS ?= results/published/go-vs-python-2026.claims.json
KEY ?= $(or $(APPLIANCE_KEY),$(HOME)/.config/appliance/appliance.key)
reproduce: deps
	$(MAKE) build/appliance
	@if [ ! -f "$(KEY)" ]; then build/appliance keygen -W -s "$(KEY)" -p results/appliance.pub; fi
	build/appliance reproduce --claims "$(CLAIMS)" --profile $(PROFILE) --out results/latest \
	    --sign --key "$(KEY)"

test: deps
	$(MAKE) build/appliance build/vm/figures $(UNIT_BIN) $(ASAN_UNIT_BIN) $(FUZZ_BIN) $(STATIC_BIN)
	tests/run-all

test-unit: $(UNIT_BIN)
	tests/run-all unit

test-asan: $(ASAN_UNIT_BIN)
	tests/run-all asan

test-fuzz: $(FUZZ_BIN)
	tests/run-all fuzz

test-integration: build/appliance build/vm/figures $(STATIC_BIN)
	tests/run-all integration

test-security: build/appliance $(STATIC_BIN)
	tests/run-all security

bench-sandbox: build/appliance build/bench/startbench $(STATIC_BIN)
	tests/bench/sandbox-start
	tests/bench/sandbox-overhead

# Every image, stages included, built twice from scratch: slow (CPython compiles three times
# per round), so not part of make test.
check-reproducible: build/appliance
	REBUILD_SLOW=1 bash tests/integration/20-reproducible.sh

# Each Benchmarks Game task once at its published size, in Go and in one Python image, outputs
# checked against the specs (CPython needs about an hour: not part of make test).
check-published: build/appliance
	tests/workloads/check-published

bench-image: build/appliance
	tests/bench/image-build

# Our load generator against Debian's wrk on the same servers, interleaved.
bench-loadgen: build/appliance
	tests/bench/loadgen-vs-wrk

# The standard profile's Python/Go ratios against the published sizes' (a stored reference).
bench-ratio-transfer: build/appliance
	tests/bench/ratio-transfer

# Our process start and peak memory against hyperfine -N and /usr/bin/time -v.
bench-cross-check: build/appliance build/bench/procmem-probe
	tests/bench/cross-check

format:
	clang-format -i $(wildcard appliance/*.c appliance/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c)

check-format:
	clang-format --dry-run --Werror $(wildcard appliance/*.c appliance/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c)

clean:
	rm -rf build
