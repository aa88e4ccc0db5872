# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup build lint docs clean browser-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(BIN)/kg build

run: build
	$(BIN)/kg serve

test: setup browser-deps
	$(BIN)/python -m pytest

# tests/test_browser.py: Debian's Chromium (driven by Playwright with executable_path) and CJK fonts for the pages
browser-deps:
	@test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

lint: setup
	$(BIN)/ruff check .

# ontology HTML (pyLODE, dev extra; renders offline) → build/docs/ontology.html
docs: setup
	$(BIN)/python -m kg.docs build/docs/ontology.html

clean:
	rm -rf build
