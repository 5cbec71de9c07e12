# The project's commands. Everything runs from the project's own virtual environment.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 200
RATE ?= 100
SECONDS ?= 30

.PHONY: install demo run test bench bench-ingest record-histories lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: install  ## local stack + sample orders + live table (Ctrl-C stops)
	$(BIN)/python starter.py demo

run: install  ## local stack without demo traffic, in the foreground
	$(BIN)/python starter.py run

test: install  ## the whole suite
	$(BIN)/python -m pytest

bench: install  ## throughput of the saga vs. a no-op workflow of the same shape
	$(BIN)/python bench/o2c_throughput.py --orders $(ORDERS)

bench-ingest: install  ## signed Shopify deliveries under load, ERP at 2 calls/s
	$(BIN)/python bench/ingest.py --rate $(RATE) --seconds $(SECONDS)

record-histories: install  ## re-record tests/histories/ from real runs
	$(BIN)/python -m tests.record_histories $(VERSION)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy canonical adapters activities workflows sandbox webhooks inbox infra cli bench tests worker.py starter.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .data $(VENV)
