# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
KB     := $(VENV)/bin/kbsuggest
PORT   ?= 8000
HOST   ?= 127.0.0.1
export HF_HUB_OFFLINE := 1

.PHONY: install model index run test test-fast axe clean

# torch is installed first and pinned: the local CPU wheel. Unpinned, pip would fetch CUDA builds.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[model,jobs,dev]'
	touch $@

install: $(VENV)/.installed

# The ONNX files the server runs are build outputs (gitignored): `models export` writes them when missing
# and keeps them otherwise (kbsuggest/embed/models.py owns their names and directory).
model: install
	$(KB) models export

index: install model
	$(KB) index articles

run: index
	@echo "kbsuggest: demo page at http://$(HOST):$(PORT)/demo  dashboard at http://$(HOST):$(PORT)/dashboard  (API docs at http://$(HOST):$(PORT)/docs)"
	$(KB) serve --host $(HOST) --port $(PORT)

# Everything, including the tests that load the real model (marked `model`) and the browser tests
# (marked `browser`: Playwright drives Debian's chromium, installed here when missing; CI runs as root).
test: install model axe
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	$(PY) -m pytest

# axe-core (npm) is injected into pages by the accessibility tests (tests/browser_support.py).
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core@4

test-fast: install
	$(PY) -m pytest -m "not model"

clean:
	rm -rf var .pytest_cache
