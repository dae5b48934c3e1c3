# The README's two commands: `make run` and `make test`. Each installs what it needs first.
# Also `make test-fast` (the tests that start no browser or processes of their own and are not
# slow) and `make lint` (bandit, the import contracts and cycles; .ci/run runs it before the tests).
PY := .venv/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test test-fast lint deps messages worker beat

deps:
	@bash scripts/bootstrap
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

# Web, worker and beat together (Procfile, honcho): migrates and loads the demo data first, then
# serves at http://$(HOST). One Ctrl-C stops all three. scripts/run.py says what it sets up.
run: deps
	$(PY) scripts/run.py $(HOST)

test: deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Markers in pyproject.toml; on SQLite unless DATABASE_URL says otherwise. In one process per core
# (pytest-xdist), each with a test database of its own.
test-fast: deps
	$(PY) -m pytest -m "not browser and not worker and not slow" -n auto -q $(PYTEST_ARGS)

# The security linter, configured in pyproject.toml ([tool.bandit]): any high-severity finding fails.
# Then the layers (README, "Where things live"; [tool.importlinter] in pyproject.toml) and the
# import cycles, imports inside functions counted (scripts/import_cycles.py).
lint: deps
	.venv/bin/bandit -c pyproject.toml -r coalition statements -lll -q
	.venv/bin/lint-imports --no-cache
	$(PY) scripts/import_cycles.py

# Refresh locale/uk after adding strings: `make messages TRANSLATIONS=new.json` merges the
# translations in that JSON file ({"English": "Українською"}), lists what is still untranslated
# and compiles. Serialised with flock so parallel runs never interleave.
messages:
	flock /tmp/coalition-statements-po.lock sh -c '$(PY) manage.py makemessages -l uk --ignore=.venv --ignore=tests --ignore=bench --no-obsolete -v 0 && \
	  $(PY) scripts/fill_translations.py locale/uk/LC_MESSAGES/django.po $(TRANSLATIONS); \
	  $(PY) manage.py compilemessages --ignore=.venv -v 0'


# One of the Procfile's processes alone, against the broker in CELERY_BROKER_URL.
worker:
	.venv/bin/celery -A coalition worker -l info

beat:
	.venv/bin/celery -A coalition beat -l info
