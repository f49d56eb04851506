#!/usr/bin/env bash
# Issue 18's GPU check, for a machine with an NVIDIA GPU, CuPy and a CUDA build of PyTorch (no network needed):
#   bash scripts/gpu_check.sh            # writes gpu-check/ (or $OUT/): versions.txt, device_tests.log, cuda_bench.*
# 1. the device tests on the real GPU (tests/devices: the machinery, then every fuzz spec on "cuda" against the
#    same op on the CPU, within each dtype's tolerance); EMBER_TEST_REAL_CUDA=1 refuses the NumPy stand-in;
# 2. the CUDA benchmark rows, ember (CuPy) against PyTorch CUDA, each library in its own process.
# It does not use `make`: the Makefile installs the CPU oracle torch==2.13.0, and this machine's torch is its own.
set -uo pipefail
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PY" - <<'PYEOF' 2>&1 | tee "$OUT/versions.txt"
import platform
import numpy, cupy, torch
import ember
print(f"python {platform.python_version()}, numpy {numpy.__version__}, cupy {cupy.__version__}, "
      f"torch {torch.__version__} (cuda available: {torch.cuda.is_available()})")
print(f"ember {ember.__version__}: cuda available {ember.cuda.is_available()}, {ember.cuda.device_count()} device(s), "
      f"{ember.cuda.get_device_name() if ember.cuda.is_available() else '-'}")
PYEOF
EMBER_TEST_REAL_CUDA=1 timeout 300 "$PY" -m pytest tests/devices -q -n 8 -p no:cacheprovider -rfEX 2>&1 \
    | tee "$OUT/device_tests.log" | tail -40
timeout 280 "$PY" benchmarks/run_all.py --device cuda --threads 8 --repeat 3 --timeout 60 \
    --json "$OUT/cuda_bench.json" 2>&1 | tee "$OUT/cuda_bench.md"
