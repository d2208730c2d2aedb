# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: run test test-desktop icons bench bench-quick venv clean
BENCH_STAMP := $(VENV)/.installed-bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): setup.cfg setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/qtapp

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

# A real window on a virtual X server, typed into with xdotool, and the wheel in a
# fresh virtual environment. Installs Xvfb, xdotool and the xcb libraries first
# where it can (apt-get as root); tests skip, saying why, where it cannot.
# Screenshots land in test-artifacts/.
test-desktop: $(STAMP)
	$(PY) .ci/desktop_deps.py
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m desktop $(PYTEST_ARGS)

# Render the icon's PNG sizes again after editing resources/qtapp.svg.
icons: $(STAMP)
	$(PY) -m qtapp.icons

$(BENCH_STAMP): setup.cfg setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(BENCH_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
