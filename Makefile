# Custody — build, test, demo, benchmark, install.
#
#   make demo    build, then check SampleLogs/ with the shipped policy; results under out/
#   make test    the whole test suite (what CI runs)
#   make bench   throughput and memory against pigz -dc (see Benchmarks/RESULTS.md)
#
# System libraries (libz-dev, libsqlite3-dev) are installed with apt-get when missing.

SWIFT   ?= swift
PREFIX  ?= /usr/local
SHELL   := /bin/bash
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE := .build/release/custody
DEBUG   := .build/debug/custody
AS_OF   := 2026-11-19
POLICY  := Policies/cn-cac-2016-apps.yaml

APT_PACKAGES := libz-dev libsqlite3-dev pkg-config logrotate

.PHONY: all deps build release test demo bench install uninstall samples clean

all: build

# Installs only what is missing, so repeated runs cost nothing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  case $$p in \
	    libz-dev) pkg-config --exists zlib 2>/dev/null || missing="$$missing $$p" ;; \
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
	$(SWIFT) build -c release --product custody

test: deps
	$(SWIFT) build
	$(SWIFT) test

demo: release
	@mkdir -p out
	@echo "== custody check SampleLogs/logs --as-of $(AS_OF) (expected: NOT COMPLIANT, see SampleLogs/README.md)"
	@$(RELEASE) check SampleLogs/logs --policy $(POLICY) --as-of $(AS_OF) | tee out/check.txt; test $${PIPESTATUS[0]} -le 1
	@$(RELEASE) check SampleLogs/logs --policy $(POLICY) --as-of $(AS_OF) --format json > out/check.json || test $$? -eq 1
	@echo "== wrote out/check.txt and out/check.json"
	@rm -rf out/state
	@printf 'sources:\n  - path: ../SampleLogs/logs\npolicy: ../$(POLICY)\nstate_directory: state\nmetrics_file: custody.prom\n' > out/custody.yaml
	@echo "== custody run --config out/custody.yaml (first run: ingests everything into out/state)"
	@$(RELEASE) run --config out/custody.yaml --as-of $(AS_OF) > out/run1.txt || test $$? -eq 1
	@echo "== custody run again (nothing new: reads nothing, same result)"
	@$(RELEASE) run --config out/custody.yaml --as-of $(AS_OF) > out/run2.txt || test $$? -eq 1
	@$(RELEASE) status --config out/custody.yaml --as-of $(AS_OF) || true
	@$(RELEASE) verify --config out/custody.yaml --as-of $(AS_OF) | tail -n 3 || true

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
