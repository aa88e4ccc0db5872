# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run run-front test setup build lint docs clean browser-deps front-deps malloc-deps backend-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(BIN)/kg build

run: build malloc-deps
	$(BIN)/kg serve

# The same service with nginx in front answering repeated queries from its cache (server/ops/front.py)
run-front: build front-deps malloc-deps
	$(BIN)/kg serve --front nginx

test: setup browser-deps front-deps malloc-deps backend-deps
	$(BIN)/python -m pytest

# tests/test_browser.py: Debian's Chromium (driven by Playwright with executable_path) and CJK fonts for the pages
browser-deps:
	@test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

# tests/test_front.py and `kg serve --front nginx`: Debian's nginx (RUNLEVEL=1: the package must not start
# its own system service on port 80; kg serve runs nginx itself with a generated configuration)
front-deps:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  { apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

# tests/test_backend.py (`kg serve --backend` against a real Virtuoso): Debian's virtuoso-opensource (RUNLEVEL=1: the
# package must not start its own service; the tests start virtuoso-t on loopback with a configuration they write)
backend-deps:
	@command -v virtuoso-t >/dev/null || \
	  { apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource; }

# Debian's jemalloc for the query workers (server/allocator.py; faster than glibc's malloc on the engine's
# allocations). Optional for `make run`: without it (no root, not Debian) the workers use the system malloc.
malloc-deps:
	@test -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 || test -e /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2; } || \
	  echo "make: libjemalloc2 not installed; query workers will use the system malloc (slower, same answers)"

lint: setup
	$(BIN)/ruff check .

# ontology HTML (pyLODE, dev extra; renders offline) → build/docs/ontology.html
docs: setup
	$(BIN)/python -m kg.docs build/docs/ontology.html

clean:
	rm -rf build
