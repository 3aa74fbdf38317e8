# One entry per task. `make demo` and `make test` set everything up themselves.
.PHONY: setup test test-all lint format demo demo-alliance serve bench build-contracts

VENV := .venv/bin

setup:
	bash scripts/setup.sh

test: setup
	$(VENV)/pytest -q -n 2 -m "not slow and not alone"
	$(VENV)/pytest -q -m "alone and not slow"

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/lint-imports

format: setup
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

demo: setup
	$(VENV)/registry demo

demo-alliance: setup
	$(VENV)/python scripts/alliance_demo.py

serve: setup
	$(VENV)/registry serve

# PostgreSQL for `make bench` (issue 12's figures): override with make bench BENCH_PG_URL=...
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

bench: setup
	$(VENV)/registry bench gas --json
	$(VENV)/registry bench merkle --json
	$(VENV)/registry bench issue --records 100000 --json
	$(VENV)/registry bench issue --records 100000 --db $(BENCH_PG_URL) --json
	$(VENV)/registry bench issue --records 1000000 --json
	$(VENV)/registry bench issue --records 3000000 --json
	$(VENV)/registry bench audit --records 1000000 --json
	$(VENV)/registry bench opendata --records 1000000 --batches 100 --json
	$(VENV)/registry bench api --compare-workers --json
	$(VENV)/python scripts/bench_chain_reads.py --calls 2000 --repeat 5
	$(VENV)/pytest -q -m slow

build-contracts: setup
	$(VENV)/python scripts/build_contracts.py
