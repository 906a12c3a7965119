# moat - the small Makefile in front of meson.
#
#   make run    install what is missing, build, run moat on the demo in examples/
#   make test   install what is missing, build, run every test (unit, e2e, fuzz),
#               each also under ASan + UBSan; ends with "N passed, M failed"
#   make        build the product binary into build/moat
#   make fuzz FUZZ_SECONDS=60   run each libFuzzer target for that long
#   make install [PREFIX=/usr/local] [DESTDIR=]   the binary, modules, schema,
#               man pages, completions, systemd unit, example config
#   make uninstall [PREFIX=...] [DESTDIR=]   remove exactly what install put there
#   make deb    the Debian package moat_VERSION_ARCH.deb into build-deb/
#   make image  the container image (FROM scratch) with podman, else docker
#   make package-test  only the packaging tests (tests/package), part of make test
#   make conformance  the official MCP conformance suite (0.1.16 --suite all, and
#               0.2.0-alpha.12 for 2025-11-25 and 2026-07-28) against the test build

FUZZ_SECONDS ?= 20
MESON_FLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

.PHONY: all deps build build-test build-asan build-fuzz run test fuzz conformance bench clean \
	install uninstall deb image package-test

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@[ -f build/build.ninja ] || meson setup build --buildtype=release -Dtests=false $(MESON_FLAGS) >/dev/null
	@ninja -C build >/dev/null

build-test: deps
	@[ -f build-test/build.ninja ] || meson setup build-test -Dtest_provider=true $(MESON_FLAGS) >/dev/null
	@ninja -C build-test >/dev/null

build-asan: deps
	@[ -f build-asan/build.ninja ] || meson setup build-asan -Dtest_provider=true \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug $(MESON_FLAGS) >/dev/null
	@ninja -C build-asan >/dev/null

build-fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link \
		--buildtype=debugoptimized $(MESON_FLAGS) >/dev/null
	@ninja -C build-fuzz >/dev/null

run: build
	@scripts/demo.sh build/moat

test: build build-test build-asan build-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/test-all.sh

fuzz: build-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/test-all.sh --fuzz-only

install: build
	@scripts/install.sh install build "$(PREFIX)" "$(SYSCONFDIR)" "$(DESTDIR)"

uninstall:
	@[ -f build/build.ninja ] || meson setup build --buildtype=release -Dtests=false $(MESON_FLAGS) >/dev/null
	@scripts/install.sh uninstall build "$(PREFIX)" "$(SYSCONFDIR)" "$(DESTDIR)"

deb: deps
	@scripts/deb.sh

image: build
	@scripts/image.sh

package-test: build build-test
	@scripts/test-all.sh --package-only

conformance: build-test
	@MOAT=build-test/moat scripts/conformance.sh

bench: deps
	@bench/run.sh
	@bench/fs.sh
	@bench/http.sh
	@bench/sql.sh
	@bench/git.sh
	@bench/cluster.sh

clean:
	rm -rf build build-test build-asan build-fuzz build-deb build-image bench/out
