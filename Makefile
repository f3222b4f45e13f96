# The two commands of the README. Each creates .venv when missing and installs what it needs;
# a stamp file keeps re-runs fast while pyproject.toml is unchanged.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m chainrule demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check chainrule tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

# the NumPy path only: compiled kernels off, the tables' numba cases deselected (marker numba)
test-fast: $(VENV)/.installed-test
	CHAINRULE_JIT=0 $(BIN)/python -m pytest -n 2 -m "not numba"

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
