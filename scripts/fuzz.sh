#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a time budget.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]
# Without clang it says so and exits 0: fuzzing is an extra check, not a build requirement.
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-60}"
shift || true
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found, skipping fuzzing"
  exit 0
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHEARTH_FUZZ=ON -DHEARTH_CUDA=OFF -DHEARTH_VULKAN=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(find build-fuzz/fuzz -maxdepth 1 -type f -executable -name 'fuzz_*' -printf '%f\n' | sort)
fi
status=0
for t in "${targets[@]}"; do
  corpus="build-fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds=()
  # Seeds written by the unit tests (hand-made corrupt files and a valid model).
  case "$t" in
    fuzz_gguf_reader) [ -d build/test-scratch/gguf-corpus ] && seeds+=(build/test-scratch/gguf-corpus) ;;
    # The ONNX differential tests leave their models (case*.onnx) in the scratch tree.
    fuzz_onnx_loader) [ -d build/test-scratch/onnx-ops ] && seeds+=(build/test-scratch/onnx-ops) ;;
    # The safetensors tests leave valid and corrupt files there.
    fuzz_safetensors) [ -d build/test-scratch/safetensors-corpus ] && seeds+=(build/test-scratch/safetensors-corpus) ;;
  esac
  echo "fuzz: running $t for ${budget}s"
  if ! "build-fuzz/fuzz/$t" "$corpus" "${seeds[@]}" -max_total_time="$budget" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="build-fuzz/$t-" 2> "build-fuzz/$t.log"; then
    echo "fuzz: $t FAILED, see build-fuzz/$t.log"; tail -40 "build-fuzz/$t.log"; status=1
  else
    grep -E "stat::number_of_executed_units|Done" "build-fuzz/$t.log" | tail -2
    echo "fuzz: $t ran clean"
  fi
done
exit $status
