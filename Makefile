# The two commands: `make run` and `make test`. Everything else is a helper they call.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The embedding model is loaded from its pip package; nothing may reach a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install browser observability run stop test lint bench clean

install: $(VENV)/.installed browser observability

# The browser test drives Debian's Chromium (Playwright's own download needs the internet). Installed when
# we are root with apt-get; anywhere else the test skips and says why.
browser:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "chromium not installed (needs root and apt-get): tests/browser will skip"

# Debian's prometheus gives the real server and promtool that tests/observability/test_prometheus.py runs against the
# shipped rules and a live trendsite; like chromium, installed when we are root with apt-get, else those tests skip.
observability:
	@test -x /usr/bin/promtool || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } \
		|| echo "prometheus not installed (needs root and apt-get): tests/observability/test_prometheus.py will skip"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

run: install
	$(PY) -m trendsite.embedded up
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PIPELINE_SCHEDULE_SECONDS=60 $(PY) manage.py bootstrap_local
	@echo "trendsite: http://127.0.0.1:8000/admin/  (Ctrl-C stops; 'make stop' stops PostgreSQL and Redis)"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DEBUG=1 WEB_BIND=127.0.0.1:8000 honcho start -f Procfile web worker beat

stop: install
	$(PY) -m trendsite.embedded down

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) -m tests.bench

clean: stop
	rm -rf .data staticfiles
