# Each target makes its own virtual environment (.venv) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: crawl test demo bench lint

crawl: $(VENV)/.installed-run  ## the main job: crawl www.arabnews.com into output/arabnews/
	$(BIN)/scrapy crawl arabnews

test: $(VENV)/.installed-test  ## the test suite (offline: it starts its own servers)
	$(BIN)/python -m pytest

demo: $(VENV)/.installed-run  ## crawl a local mirror site, offline
	$(BIN)/newscrawl demo

bench: $(VENV)/.installed-run  ## the crawl benchmark (see README)
	$(BIN)/python benchmarks/crawl.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy newscrawl newscrawl_mirror tests benchmarks
	$(BIN)/lint-imports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run
