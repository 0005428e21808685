#!/usr/bin/env bash
# The reference Python worker on one GPU, with nothing to download: a
# Qwen3-architecture model of random weights through the worker protocol,
# printing tokens/s, step time, peak memory and the protocol's share of the
# wall time (runners/worker/python/gpu_check.py says how). Sized for under
# 8 minutes on one H100/H200-class GPU; --budget (450 s) stops it.
#
#   scripts/gpu-check.sh                        # on cuda
#   scripts/gpu-check.sh --device cpu --tiny    # the same path on a CPU in seconds (CI)
#   scripts/gpu-check.sh --help                 # sizes, backends, budget
#
# RELIX_PYTHON names the Python with torch (and transformers, vLLM); default python3.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${RELIX_PYTHON:-python3}" runners/worker/python/gpu_check.py "$@"
