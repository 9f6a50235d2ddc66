# Two commands: `make run` (set up, build the demo data, open the dashboard) and
# `make test` (set up, run every test). Python 3.11 and the package index are enough (and npm,
# for the accessibility test's axe-core).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= data/demo
PORT ?= 8501

.PHONY: setup tools-setup demo run serve test test-all lint bench docs clean-demo

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# the development tools' dependencies (tools/requirements.txt), for the tests and the benchmark
tools-setup: $(VENV)/.tools-installed

$(VENV)/.tools-installed: $(VENV)/.installed tools/requirements.txt
	$(BIN)/pip install --quiet -r tools/requirements.txt
	touch $@

demo: setup
	@if [ ! -f $(DEMO_DIR)/_manifest.json ]; then \
		echo "デモデータを作成しています（初回のみ、30秒ほど）…"; \
		$(BIN)/python -m tsunagu demo --quiet --data-dir $(DEMO_DIR); \
	else \
		$(BIN)/python -m tsunagu migrate --data-dir $(DEMO_DIR) >/dev/null; \
	fi

run: demo
	@$(BIN)/python -m tsunagu users init
	TSUNAGU_DATA_DIR=$(DEMO_DIR) $(BIN)/streamlit run app.py --server.port $(PORT)

# N dashboard processes behind Caddy (HTTPS, sticky sessions), until Ctrl+C: on the demo data unless
# TSUNAGU_DATA_DIR names a data folder; SITE is the address people open (docs/deploy.md; a server
# runs the same under systemd: deploy/). Caddy is installed from Debian's packages when missing.
# (default: 2 processes on https://127.0.0.1:8443, this machine only; e.g. make serve N=2 SITE=192.168.1.10:8443)
serve: setup
	@if [ -z "$$TSUNAGU_DATA_DIR" ]; then $(MAKE) --no-print-directory demo; fi
	TSUNAGU_DATA_DIR=$${TSUNAGU_DATA_DIR:-$(DEMO_DIR)} $(BIN)/python scripts/serve.py \
		$(if $(N),--processes $(N)) $(if $(SITE),--site $(SITE))

# three workers (pytest-xdist; the browser tests spend much of their time waiting on pages), browser tests
# included; a module's own server keeps its tests on one worker (loadgroup); the exhaustive sweeps (every demo
# area's handout, every month of the disclosure audit) are left to test-all
test: setup tools-setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest -n $(or $(JOBS),3) --dist loadgroup -m "not slow"

test-all: setup tools-setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest -n $(or $(JOBS),3) --dist loadgroup

# the benchmark (not a test): synthetic city, prefecture and nation stores under data/bench
# (made once, ~10 min for all three), every page's queries and reruns, pandas baseline, ingest, 20 and 40
# sessions direct and through Caddy with 1 and 2 processes
bench: setup tools-setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m tools bench --work data/bench --out docs/benchmark.md

# ruff (pinned in tools/requirements.txt): the lint rules and the formatting, checked
lint: setup tools-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the column tables of docs/contract.md, rendered from tsunagu/contract/schema.py
docs: setup
	$(BIN)/python -m tsunagu contract-doc --write

clean-demo:
	rm -rf $(DEMO_DIR)
