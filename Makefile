# The two commands: `make run` and `make test`. Both set up what is missing first.
.PHONY: run test setup lint bench demo unit clean

PYTEST ?= .venv/bin/pytest

setup:
	@infra/setup.sh

run:
	@infra/run.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/lint-imports

test: setup lint
	$(PYTEST) -q tests

unit:
	$(PYTEST) -q tests/unit

bench: setup
	@for f in bench/bench_*.py; do echo "== $$f"; .venv/bin/python $$f || exit 1; done

demo:
	.venv/bin/dps demo
