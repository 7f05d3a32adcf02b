# The two commands of the README: `make demo` and `make test`.
# Both create the virtual environment from requirements.txt on first use.
#
# Another Python or Django: a separate venv, plus a requirements file installed on top,
#   make test PYTHON=python3.12 VENV=.venv-py312 EXTRA_REQUIREMENTS=requirements-django6.txt

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Installed after requirements.txt (e.g. a newer Django); empty for none.
EXTRA_REQUIREMENTS ?=
# PostgreSQL for the second test run: pytest-django creates and drops the database
# test_<name> on that server (here test_helpdesk); the database <name> itself is not used.
PG_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk
PYTEST_ARGS ?=
DEMO_ADDR ?= 127.0.0.1:8000

.PHONY: venv demo demo-mail test test-sqlite test-postgres messages docs

$(BIN)/.installed: requirements.txt pyproject.toml $(EXTRA_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(if $(EXTRA_REQUIREMENTS),$(BIN)/python -m pip install -q -r $(EXTRA_REQUIREMENTS))
	$(BIN)/python -m pip check
	touch $@

venv: $(BIN)/.installed

## Run the demo: migrate SQLite, load demo data, print the admin login and an API key, serve (with a task worker).
demo: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py helpdesk_demo --url http://$(DEMO_ADDR)
	@# The task worker runs beside the server and stops with it.
	$(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(DEMO_ADDR)

## Mail a message into the demo (as an MTA's pipe would): a new ticket with its files.
demo-mail: venv
	sed "s/^Message-ID: .*/Message-ID: <demo-$$(date +%s%N)@globex.example>/" tests/mail/corpus/attachments.eml \
		| $(BIN)/python manage.py helpdesk_mail_ingest

## Run the whole suite on SQLite, then on PostgreSQL.
test: test-sqlite test-postgres

# The wheel test (slow, database-independent) runs on the SQLite run only.
test-sqlite: venv
	env -u DATABASE_URL HELPDESK_EXTRA_REQUIREMENTS=$(EXTRA_REQUIREMENTS) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: venv
	DATABASE_URL=$(PG_URL) HELPDESK_SKIP_WHEEL=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

## Refresh the catalogs after changing translatable strings (needs gettext), then
## translate the new entries (tests/test_translations.py fails until every one is).
messages: venv
	cd helpdesk && ../$(BIN)/django-admin makemessages -l en -l de -l fr -l es -l pt_BR -l nl --no-location --no-obsolete
	cd helpdesk && ../$(BIN)/django-admin compilemessages

## Build the documentation site into docs/_build/html (warnings are errors).
docs: venv
	env -u DATABASE_URL $(BIN)/python -m sphinx -W --keep-going -b html -q docs docs/_build/html
