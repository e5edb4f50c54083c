# Custody — build, test, demo, benchmark, install.
#
#   make demo    build, then check SampleLogs/ with the shipped policy; results under out/
#   make test    the whole test suite (what CI runs)
#   make bench   throughput and memory against pigz -dc (see Benchmarks/RESULTS.md)
#   make install custody (stripped), policies, man pages and shell completions under $(PREFIX)
#   make man     regenerate docs/man/ from the command definitions (commit the result)
#
# System libraries (libz-dev, libisal-dev, libsqlite3-dev) are installed with apt-get when missing,
# saying so; without libisal-dev the package still builds and zlib inflates every gzip file.
# Tests that drive a real logrotate skip without it: `make test-deps` installs it (CI does).

SWIFT   ?= swift
PREFIX  ?= /usr/local
SHELL   := /bin/bash
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE := .build/release/custody
DEBUG   := .build/debug/custody
AS_OF   := 2026-11-19
# The Swift runtime and Foundation linked in: the binary runs on machines without the Swift
# toolchain, and starts in 4 ms instead of 9 (dynamic loading; Benchmarks/RESULTS.md). Linked
# with the toolchain's lld: GNU ld warns about mktemp inside the toolchain's static Foundation.
# Relative relocations packed (DT_RELR, glibc 2.36 and later): the loader applied 95,000 of them
# from a 2.3 MB table at every start; packed, 18 KB, and a check starts ~0.5-1 ms sooner.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs
POLICY  := Policies/cn-apps.yaml

APT_PACKAGES := libz-dev libisal-dev libsqlite3-dev pkg-config

.PHONY: all deps test-deps build release test demo bench install install-files uninstall samples clean man man-check format format-check

all: build

# Installs only what is missing, so repeated runs cost nothing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  case $$p in \
	    libz-dev) pkg-config --exists zlib 2>/dev/null || missing="$$missing $$p" ;; \
	    libisal-dev) [ -f /usr/include/isa-l/igzip_lib.h ] || missing="$$missing $$p" ;; \
	    libsqlite3-dev) [ -f /usr/include/sqlite3.h ] || missing="$$missing $$p" ;; \
	    *) command -v $$p >/dev/null 2>&1 || missing="$$missing $$p" ;; \
	  esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing with apt-get:$$missing (zlib, ISA-L and SQLite headers and pkg-config, needed to build custody)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Only for the tests that drive a real logrotate (they skip, saying so, without it).
test-deps:
	@command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || { \
	  echo "make: installing with apt-get: logrotate (for LogrotateTests only)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq logrotate; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product custody
	@# SQLite is compiled in (Sources/CSQLite): no sqlite3_ function may come from a shared library,
	@# or two copies of SQLite would run in one process.
	@if nm -D --undefined-only $(RELEASE) | grep -q ' sqlite3_'; then \
	  echo "make: $(RELEASE) takes SQLite functions from a shared library (Sources/CSQLite/README.md); removed"; \
	  rm -f $(RELEASE); exit 1; fi

test: deps
	$(SWIFT) build
	$(SWIFT) test
	@$(MAKE) --no-print-directory man-check

demo: release
	@BIN=$(RELEASE) bash scripts/demo.sh

# Regenerates SampleLogs/logs deterministically (only needed when the generator changes).
samples: deps
	$(SWIFT) build --product custody-loggen
	rm -rf SampleLogs/logs
	.build/debug/custody-loggen sample --out SampleLogs/logs

bench: deps
	bash Benchmarks/run.sh

# `make release && sudo make install`: the build runs as you, the install only copies (root's
# PATH under sudo usually has no swift). A missing release binary is built first.
install: $(RELEASE)
	@$(MAKE) --no-print-directory install-files CUSTODY=$(RELEASE)

$(RELEASE):
	@$(MAKE) --no-print-directory release

# The install itself, for a custody already built (the test suite runs it on the debug build).
# The binary is stripped: symbols and debug information are for developers, not for hosts.
CUSTODY ?= $(RELEASE)
STRIP   ?= strip
MAN1    := $(DESTDIR)$(PREFIX)/share/man/man1
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/custody/policies $(MAN1) \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(CUSTODY) $(DESTDIR)$(PREFIX)/bin/custody
	$(STRIP) $(DESTDIR)$(PREFIX)/bin/custody
	install -m 0644 Policies/*.yaml $(DESTDIR)$(PREFIX)/share/custody/policies/
	install -m 0644 docs/man/*.1 $(MAN1)/
	$(CUSTODY) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/custody
	$(CUSTODY) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_custody
	$(CUSTODY) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/custody.fish
	@echo "installed $(DESTDIR)$(PREFIX)/bin/custody ($$(du -k $(DESTDIR)$(PREFIX)/bin/custody | cut -f1) KiB, stripped), policies, man pages, completions"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/custody
	rm -rf $(DESTDIR)$(PREFIX)/share/custody
	rm -f $(MAN1)/custody.1 $(MAN1)/custody-*.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/custody \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_custody $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/custody.fish

# Man pages from the command definitions (swift-argument-parser's generate-manual), one per
# command; the date in them is fixed in the script, so unchanged commands give unchanged pages.
man: build
	bash scripts/generate-man.sh $(DEBUG) docs/man

# Fails when docs/man/ is not what the command definitions generate (run `make man`).
man-check: build
	bash scripts/generate-man.sh $(DEBUG) --check docs/man

# The toolchain's swift-format with .swift-format (CI runs it after `make test`; `make format`
# rewrites the tree).
format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format Package.swift Sources Tests

format-check:
	$(SWIFT) format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests

clean:
	rm -rf .build out
