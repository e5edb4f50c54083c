# Custody — build, test, demo, benchmark, install.
#
#   make demo    build, then check SampleLogs/ with the shipped policy; results under out/
#   make test    the whole test suite (what CI runs)
#   make bench   throughput and memory against pigz -dc (see Benchmarks/RESULTS.md)
#
# System libraries (libz-dev, libisal-dev, libsqlite3-dev) are installed with apt-get when missing;
# without libisal-dev the package still builds and zlib inflates every gzip file.

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
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld
POLICY  := Policies/cn-cac-2016-apps.yaml

APT_PACKAGES := libz-dev libisal-dev libsqlite3-dev pkg-config logrotate

.PHONY: all deps build release test demo bench install uninstall samples clean

all: build

# Installs only what is missing, so repeated runs cost nothing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  case $$p in \
	    libz-dev) pkg-config --exists zlib 2>/dev/null || missing="$$missing $$p" ;; \
	    libisal-dev) [ -f /usr/include/isa-l/igzip_lib.h ] || missing="$$missing $$p" ;; \
	    libsqlite3-dev) [ -f /usr/include/sqlite3.h ] || missing="$$missing $$p" ;; \
	    logrotate) command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || missing="$$missing $$p" ;; \
	    *) command -v $$p >/dev/null 2>&1 || missing="$$missing $$p" ;; \
	  esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product custody

test: deps
	$(SWIFT) build
	$(SWIFT) test

demo: release
	@BIN=$(RELEASE) bash scripts/demo.sh

# Regenerates SampleLogs/logs deterministically (only needed when the generator changes).
samples: deps
	$(SWIFT) build --product custody-loggen
	rm -rf SampleLogs/logs
	.build/debug/custody-loggen sample --out SampleLogs/logs

bench: deps
	bash Benchmarks/run.sh

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/custody/policies
	install -m 0755 $(RELEASE) $(DESTDIR)$(PREFIX)/bin/custody
	install -m 0644 Policies/*.yaml $(DESTDIR)$(PREFIX)/share/custody/policies/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/custody
	rm -rf $(DESTDIR)$(PREFIX)/share/custody

clean:
	rm -rf .build out
