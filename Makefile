# Two commands on a fresh machine: `make` (set up + full build) and `make test`.
# Everything else here is a convenience for people working on konspekt itself.

# Any Python 3.11+ creates the virtual environment: `make PYTHON=python3.12` picks one.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PY_OK := import sys; sys.exit(sys.version_info < (3, 11))
PY_ID := import sys; print(sys.base_prefix, *sys.version_info[:2])

# A .venv made by an unsupported Python (or half made) is recreated, and so is one made
# by another Python than a PYTHON given explicitly: never reuse a broken environment.
VENV_STALE := $(shell [ -e $(VENV) ] && ! $(PY) -c '$(PY_OK)' 2>/dev/null && echo unsupported)
ifneq ($(filter command line environment,$(origin PYTHON)),)
ifeq ($(VENV_STALE),)
VENV_STALE := $(shell [ -x $(PY) ] && [ "$$($(PY) -c '$(PY_ID)')" != "$$($(PYTHON) -c '$(PY_ID)' 2>/dev/null)" ] && echo other)
endif
endif
KONSPEKT := $(PY) build.py
MERMAID := docs/assets/vendor/mermaid.min.js

.PHONY: FORCE all build check lint-cards lint deck site serve test bench preview chromium schema release-notes clean distclean

all: build

# Re-install only when the project's dependencies change (or the environment is stale).
ifneq ($(VENV_STALE),)
$(VENV)/.installed: FORCE
endif
$(VENV)/.installed: pyproject.toml
	$(if $(VENV_STALE),rm -rf $(VENV))
	@test -x $(PY) || $(PYTHON) -c '$(PY_OK)' 2>/dev/null || { \
		echo "error: konspekt needs Python 3.11 or newer; $(PYTHON) is" \
			"$$($(PYTHON) --version 2>&1 || echo missing)." >&2; \
		echo "Install one (e.g. sudo apt-get install python3.12, or pyenv) and pick it:" \
			"make PYTHON=python3.12" >&2; \
		exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

build: check lint-cards site

check: $(VENV)/.installed
	$(KONSPEKT) check

# Editorial and learning checks of the cards (konspekt lint); shown here, enforced
# (--strict) by `make test`.
lint-cards: $(VENV)/.installed
	$(KONSPEKT) lint

# The Anki deck; also brings cards/anki.lock up to date: commit it with the cards.
deck: $(VENV)/.installed
	$(KONSPEKT) deck

# The reference site and the deck from the same cards in one run (the site offers exactly
# that deck): dist/devops.apkg and cards/anki.lock, docs/ generated from the cards, then
# mkdocs build --strict into site/.
site: $(VENV)/.installed $(MERMAID)
	$(KONSPEKT) site

# Mermaid, served by the site itself (no CDN): the pinned npm package, checked against its
# integrity hash (src/konspekt/site/vendor.py); fetched once, git-ignored. As root (CI
# images) npm is installed from Debian when missing; otherwise say how.
$(MERMAID): src/konspekt/site/vendor.py | $(VENV)/.installed
	@if command -v npm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's npm to fetch Mermaid for the site"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; \
	else \
		echo "error: the site needs npm to fetch Mermaid: run 'sudo apt-get install npm'" >&2; \
		exit 1; \
	fi
	$(PY) -m konspekt.site.vendor docs/assets/vendor

# Live preview at http://127.0.0.1:8000/konspekt/ ; editing a card file regenerates the pages.
serve: $(VENV)/.installed $(MERMAID)
	$(KONSPEKT) serve

# Issue 14's targets on synthetic cards of 100…10,000 entries: every stage and command (check,
# deck, site) timed with its peak memory, a plain Material build of as many pages beside them,
# rebuilds after one edit compared with cold builds, serve's edit → visible; prints what holds
# and writes benchmarks/results.md. Takes a while: `make bench BENCH_ARGS=--quick` is short,
# `BENCH_ARGS="--no-rebuild --no-serve"` skips the slow scenarios.
bench: $(VENV)/.installed-bench $(MERMAID)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# PNGs of a few cards (front/back, light/night, desktop/phone) as real Anki renders them.
preview: $(VENV)/.installed-test chromium
	$(KONSPEKT) preview

schema: $(VENV)/.installed
	$(KONSPEKT) schema

# What the cards change for learners since the last version tag, as Markdown: the notes of
# a release (CI attaches them with the deck).
release-notes: $(VENV)/.installed
	mkdir -p dist
	$(KONSPEKT) changes > dist/release-notes.md

# The browser tests drive Debian's chromium; as root (CI) install it, otherwise say how.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core; \
	else \
		echo "error: the browser tests need Debian's chromium: run 'sudo apt-get install chromium'" >&2; \
		exit 1; \
	fi

test: $(VENV)/.installed-test chromium $(MERMAID)
	$(PY) -m ruff check src tests benchmarks build.py
	$(PY) -m mypy
	$(KONSPEKT) lint --strict
	$(PY) -m pytest

# The code: ruff (lint and format) and mypy.
lint: $(VENV)/.installed-test
	$(PY) -m ruff check src tests benchmarks build.py
	$(PY) -m ruff format --check src tests benchmarks build.py
	$(PY) -m mypy

# Every generated path (tests/test_project.py checks this list against the code's).
clean:
	rm -rf dist site .cache docs/glossary docs/topics docs/assets/generated docs/downloads docs/cards-media docs/index-az.md docs/index-az docs/changes.md

# clean, and the virtual environment too.
distclean: clean
	rm -rf $(VENV)
