# The two commands of the README: `make demo` and `make test`.
# Both create the virtual environment from requirements.txt on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PostgreSQL for the second test run (the test database is created and dropped).
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: venv demo test test-sqlite test-postgres

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

venv: $(BIN)/.installed

## Run the demo: migrate SQLite, load demo data, print the admin login and an API key, serve.
demo: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py helpdesk_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the whole suite on SQLite, then on PostgreSQL.
test: test-sqlite test-postgres

test-sqlite: venv
	env -u DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: venv
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)
