# The two commands: `make run` and `make test`. Both set up what is missing first.
.PHONY: run test setup lint bench demo unit clean

PYTEST ?= .venv/bin/pytest
# `make test` uses its own database and vhost only (dropped and recreated by the tests),
# never the demo's: its set-up bootstraps these, not `make run`'s
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/dps_test
TEST_AMQP_URI ?= amqp://guest:guest@127.0.0.1:5672/dps_test

setup:
	@infra/setup.sh

run:
	@infra/run.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/lint-imports

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export AMQP_URI = $(TEST_AMQP_URI)
test: setup lint
	$(PYTEST) -q tests

unit:
	$(PYTEST) -q tests/unit

bench: setup
	@for f in bench/bench_*.py; do echo "== $$f"; .venv/bin/python $$f || exit 1; done

demo:
	.venv/bin/dps demo
