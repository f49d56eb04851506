# Everything sets itself up: `make demo` and `make test` work on a fresh machine with python3, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test test-fast bench install clean fuzz

# ember reads datasets from its data root: $EMBER_DATA, else ~/.cache/ember.  The project's own machines keep the
# real MNIST, Fashion-MNIST and Tiny Shakespeare files beside the checkout; use them when that folder exists (a
# user's clone has none: the real-data tests then skip with their reason, unless EMBER_DATA is set).
ifneq ($(wildcard ../shared/data),)
export EMBER_DATA ?= $(abspath ../shared/data)
endif

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# pip also builds ember's optional compiled kernels (setup.py, ember/csrc/kernels.c) where a C compiler is;
# without one ember runs them in NumPy.  Editing the C file rebuilds them here.
KERNELS := setup.py $(wildcard ember/csrc/*.c ember/csrc/*.h)

# The demo needs only ember and its optional extras (Digits data, progress bar, plots); no PyTorch.
$(DEMO_STAMP): $(PY) pyproject.toml $(KERNELS)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(DEMO_STAMP)

# Tests add the oracle: torch is pinned to the exact CPU wheel available offline; never let pip pick another
# version.
$(STAMP): $(PY) pyproject.toml $(KERNELS)
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/ember demo

# The whole suite at one BLAS thread, then the kernels' and layers' tests again at two: ember's thread sections
# (convolution, pooling, batch norm, attention, dropout draws, recurrent layers, compiled blocks) only run when
# BLAS has several threads, and elsewhere their tests reach them by patching the thread count.
test: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -n 2 -q
	OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 $(PY) -m pytest -q -p no:cacheprovider tests/ops tests/nn tests/jit tests/autograd

test-fast: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -n 2 -q -m "not slow"

# The differential fuzzer's long run against PyTorch (tests/fuzz): random cases, FUZZ_EXAMPLES per op (about 35
# minutes on 2 cores at the default on the Intel machine; on the AMD virtual machine 16% took 18 minutes, so
# about two hours); `make test` runs its bounded, derandomized profile.
FUZZ_EXAMPLES ?= 3500
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
		$(PY) -m pytest tests/fuzz -n 2 -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache ember-runs ember/_kernels*.so
