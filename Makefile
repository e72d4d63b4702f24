# Two commands: `make run` serves the API on SQLite with demo data; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

export BOOTSTRAP_ADMIN_EMAIL ?= admin@demo.org
export BOOTSTRAP_ADMIN_PASSWORD ?= admin-password-1

.PHONY: install run migrate test lint typecheck format bench programme worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/alembic upgrade head

run: migrate
	@echo ""
	@echo "  Consult backend on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "  admin login: $(BOOTSTRAP_ADMIN_EMAIL) / $(BOOTSTRAP_ADMIN_PASSWORD)"
	@echo "  demo logins (password demo-password-1): coordinator@demo.org, clinician.salta@demo.org,"
	@echo "    clinician.kisumu@demo.org, clinician.jumla@demo.org, clinician.gonaives@demo.org,"
	@echo "    interpreter@demo.org, ana.ruiz@demo.org (dermatology), grace.otieno@demo.org (pediatrics), ..."
	@echo ""
	DEMO_DATA=$${DEMO_DATA:-1} $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --ws-per-message-deflate false

worker: migrate
	$(BIN)/python -m app.worker

# Two workers (this machine has two cores); each has its own database, Redis key space and
# live channel (tests/conftest.py). PYTEST_ARGS="-n 0" runs the suite serially.
PYTEST_ARGS ?= -n 2

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

# mypy --strict (pyproject.toml) over app/; .ci/run runs it.
typecheck: install
	$(BIN)/mypy app

format: install
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
	  || { echo "wrk is needed: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)

# A simulated programme year on the real server, beside MSF's and Swinfen's figures; the
# report goes to PROGRAMME_OUT (default programme-report/). PROGRAMME_ARGS="--db postgres"
# runs it on PostgreSQL with two API processes and Redis. See docs/programme.md.
programme: install
	$(BIN)/python -m bench.programme $(PROGRAMME_ARGS)

clean:
	rm -rf $(VENV) consult.db consult.db-* data .pytest_cache
