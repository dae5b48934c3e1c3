# The README's two commands: `make run` and `make test`. Each installs what it needs first.
PY := .venv/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test deps messages worker beat

deps:
	@bash scripts/bootstrap
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

run: deps
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST)

test: deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Refresh locale/uk after adding strings; translate the new entries, then `make deps`.
messages:
	$(PY) manage.py makemessages -l uk --ignore=.venv --ignore=tests --no-obsolete

worker:
	.venv/bin/celery -A coalition worker -l info

beat:
	.venv/bin/celery -A coalition beat -l info
