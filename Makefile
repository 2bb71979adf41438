# hpy-rs: the two commands a newcomer runs are `make demo` and `make test`.
# Everything they need (virtual environments with hpy 0.9.0 and pytest) is created under build/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The interpreter used by `make demo` and `make generate`: CPython 3.11 if present, else the
# first CPython found (tools/pythons.sh lists them).
DEMO_PY = $(shell tools/pythons.sh | awk '$$1 == "3.11" {print; exit}' | grep . || tools/pythons.sh | head -n 1)

.PHONY: help demo test test-pypy attack soak wheels bench generate clean

help:
	@echo "make demo      build examples/quickstart and run it on CPython in universal and debug mode"
	@echo "make test      everything: unit tests, layout proof, Python tests on every CPython found and on PyPy,"
	@echo "               and on the native build (C API, no hpy) on every CPython 3.9+ found and on CPython 3.14"
	@echo "make test-pypy only the PyPy part of make test (Python tests in the three modes, the wheel)"
	@echo "make attack    hostile calls to every public callable at depth (HPYRS_ATTACK_EXAMPLES=200 per target)"
	@echo "make soak      memory growth over 10^6 calls per workload, universal and debug mode (release build)"
	@echo "make wheels    per example: one universal py3-none wheel, and a native one per CPython 3.9+; in build/wheels/"
	@echo "make bench     hpy-rs against C on HPy, the C API and PyO3, on CPython and PyPy (CALLGRIND=1: + instructions on CPython)"
	@echo "make generate  regenerate hpy-sys from the hpy 0.9.0 C headers"
	@echo "make clean     remove build/ and target/"

demo:
	@set -e; read minor python <<< "$(DEMO_PY)"; \
	  [ -n "$$python" ] || { echo "no CPython 3.8-3.13 found"; exit 1; }; \
	  py="$$(tools/venv.sh "$$minor" "$$python")"; \
	  echo "building examples/quickstart (release) ..."; \
	  so="$$(tools/build-module.sh quickstart quickstart release)"; \
	  "$$py" tools/demo.py "$$(dirname "$$so")"

test:
	@tools/test.sh

# The PyPy part of `make test` alone: tools/pypy.sh makes PyPy 7.3.19 under build/pypy (once; as
# root), then tests/python runs there in universal, debug and trace mode, and the wheel installs.
test-pypy:
	@tools/test.sh --pypy-only

# `make attack`: tests/attack with more examples than `make test` runs (HPYRS_ATTACK_EXAMPLES,
# default 200; HPYRS_ATTACK_SEED picks other examples), on every CPython found.
attack:
	@tools/attack.sh

# `make soak`: tools/soak.py with 10^6 calls per workload (SOAK_CALLS=...) on the modules built
# in release, as a wheel ships them (the soak step of `make test` measures the debug builds the
# Python tests use, 10^5 calls). The .so files go to build/soak/, not build/modules/, so that a
# `make test` running meanwhile keeps its own. Most of the time goes to HPy's debug mode.
SOAK_MODULES = rawadd quickstart geometry tree apitest containers protocols errors layout stdtypes inherit
SOAK_CALLS ?= 1000000
soak:
	@set -e; read minor python <<< "$(DEMO_PY)"; \
	  [ -n "$$python" ] || { echo "no CPython 3.8-3.13 found"; exit 1; }; \
	  py="$$(tools/venv.sh "$$minor" "$$python")"; \
	  echo "building the modules under test (release): $(SOAK_MODULES)"; \
	  cargo build --quiet --release $(addprefix -p ,$(SOAK_MODULES)); \
	  rm -rf build/soak && mkdir -p build/soak; \
	  for module in $(SOAK_MODULES); do \
	    cp "target/release/lib$$module.so" "build/soak/$$module.hpy0.so"; \
	    export "HPYRS_$${module^^}_SO=$$PWD/build/soak/$$module.hpy0.so"; \
	  done; \
	  echo "CPython $$minor: $$py"; \
	  "$$py" tools/soak.py --calls $(SOAK_CALLS)

wheels:
	@tools/wheels.sh

CALLGRIND ?= 0
bench:
	@CALLGRIND=$(CALLGRIND) bench/bench.sh

generate:
	@set -e; read minor python <<< "$(DEMO_PY)"; \
	  py="$$(tools/venv.sh "$$minor" "$$python")"; \
	  "$$py" hpy-sys/codegen/generate.py

clean:
	rm -rf build target
