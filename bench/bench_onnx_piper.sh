#!/usr/bin/env bash
# Piper RTF benchmark: builds bench_onnx_piper (in build/) and runs it.
# Usage: bench/bench_onnx_piper.sh [phoneme ids, default 400] [repetitions, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target bench_onnx_piper >/dev/null
exec build/tests/onnx/bench_onnx_piper "$@"
