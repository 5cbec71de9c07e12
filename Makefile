# The project's commands. Everything runs from the project's own virtual environment.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 200
RATE ?= 100
SECONDS ?= 30
DRAIN ?= 120
BURST ?= 300
SCENARIO ?= mixed
PACKAGES := infra canonical adapters inbox inventory returns settlements catalog privacy sandbox activities workflows services \
	ingest tryton_local bootstrap cli webhooks codec_server testing bench tests

.PHONY: install demo run test bench bench-ingest bench-erp bench-settlement bench-catalog bench-inventory chaos tryton tryton-stop record-histories lint format clean

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

bench: install  ## every benchmark, each printing its table (one missing its target does not stop the rest)
	-$(BIN)/python bench/o2c_throughput.py --orders $(ORDERS)
	-$(BIN)/python bench/flash_sale.py --orders 1000 --stock 100 --concurrency 200
	-$(BIN)/python bench/atp_publish.py --rate 200 --seconds 30
	-$(BIN)/python bench/amazon_bulk_availability.py --skus 100
	-$(BIN)/python bench/erp_backlog.py --orders $(BURST)
	-$(BIN)/python bench/settlement.py --orders 2000
	-$(BIN)/python bench/catalog_publish.py --skus 10000 --changed 0.05

bench-inventory: install  ## the flash sale on PostgreSQL, ATP publication under load, Amazon's bulk path
	$(BIN)/python bench/flash_sale.py --orders 1000 --stock 100 --concurrency 200
	$(BIN)/python bench/atp_publish.py --rate 200 --seconds 30
	$(BIN)/python bench/amazon_bulk_availability.py --skus 100

bench-ingest: install  ## signed Shopify deliveries under load, ERP at 2 calls/s
	$(BIN)/python bench/ingest.py --rate $(RATE) --seconds $(SECONDS) --drain-seconds $(DRAIN)

bench-settlement: install  ## a 10,000-line Amazon settlement matched to 2,000 waiting orders
	$(BIN)/python bench/settlement.py --orders 2000

bench-catalog: install  ## 10,000 SKUs to the three channels, then 5 % changed
	$(BIN)/python bench/catalog_publish.py --skus 10000 --changed 0.05

bench-erp: install  ## a burst of orders against a real Tryton held to 4 concurrent calls
	$(BIN)/python bench/erp_backlog.py --orders $(BURST)

chaos: install  ## faults, lost answers, worker kills, a Temporal restart, then the invariants (SCENARIO=mixed ORDERS=200)
	$(BIN)/python bench/chaos.py --scenario $(SCENARIO) --orders $(ORDERS)

tryton: install  ## a real Tryton ERP on :8010 (first run ~2 min; `ERP=tryton make demo` uses it)
	$(BIN)/python -m tryton_local start

tryton-stop: install
	$(BIN)/python -m tryton_local stop

record-histories: install  ## re-record tests/histories/ (ONLY=type,… some types; KEEP=patch-id keeps the old set)
	$(BIN)/python -m tests.record_histories $(if $(ONLY),--only $(ONLY)) $(if $(KEEP),--keep $(KEEP))

lint: install  ## ruff, mypy and the import contracts (layers) of pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES) worker.py starter.py
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .data $(VENV)
