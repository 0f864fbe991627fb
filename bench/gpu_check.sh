#!/usr/bin/env bash
# hearth on a GPU, in one command: what the machine has, hearth's GPU tests, and hearth against
# llama.cpp's Vulkan and CUDA builds on Llama-3.1-8B- and Qwen3-8B-shaped Q4_K_M models
# (bench/compare_llama_cpp.sh --gpu). Each step runs under `timeout`, and the steps share a
# budget (BUDGET seconds, default 450), so the whole ends within it plus a few seconds.
# Everything goes to stdout, and to "$OUT/gpu_check.md" when OUT is set.
#
# Usage: bench/gpu_check.sh   (from the repo root). Where build/gpu-check exists (made by
# bench/gpu_stage.sh for a machine without this build's libraries, ../shared or Node.js), it is
# unpacked and used instead of build/. The models go to build/bench-models/gpu.
# Environment: BUILD (default build), BUDGET, ROUNDS (default 2), SMALL=1 (the small models: a
# smoke test), RUN_TIMEOUT (each program run of the comparison, default 120 s), HEARTH_SHARED_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"

case "${1:-}" in
  "") ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac

[ -n "${OUT:-}" ] && { mkdir -p "$OUT"; exec > >(tee "$OUT/gpu_check.md") 2>&1; }
budget="${BUDGET:-450}"
start=$SECONDS

# step TITLE LIMIT COMMAND...: runs COMMAND under a time limit (the smaller of LIMIT and what
# is left of the budget), its output in a code block, then how it ended. Shell functions run as
# `bash -c NAME` (exported with export -f).
step() {
  local title="$1" limit="$2" left rc=0 t0=$SECONDS
  shift 2
  left=$((budget - (SECONDS - start)))
  ((left < limit)) && limit=$left
  printf '\n## %s\n\n' "$title"
  if ((limit < 10)); then echo "skipped: the time budget (${budget} s) is spent"; return; fi
  echo '```'
  timeout -k 5 "$limit" "$@" 2>&1 || rc=$?
  echo '```'
  local how="exit status $rc"
  ((rc == 124 || rc == 137)) && how="timed out after $limit s"
  echo "($how, $((SECONDS - t0)) s)"
}

# A staged build (bench/gpu_stage.sh), unpacked in place once; its node and node-llama-cpp
# stand in where the machine has none. The models stay outside it, as it may be carried again.
unstage() {
  [ -z "${BUILD:-}" ] && [ -d build/gpu-check ] && build=build/gpu-check
  if [ -f "$build/payload.tar.zst" ] && [ ! -e "$build/bin/hearth" ]; then
    echo "unpacking $build/payload.tar.zst"
    "$build/bin/zstd" -dc "$build/payload.tar.zst" | tar -C "$build" -xf - || echo "unpacking failed"
  fi
  if ! command -v node >/dev/null 2>&1 && [ -x "$build/node/bin/node" ]; then
    PATH="$(cd "$build/node/bin" && pwd):$PATH"
    echo "node: staged $(node --version)"
  fi
  if [ ! -e tests/reference/node_modules ] && [ -d "$build/reference/node_modules" ]; then
    ln -s "$(cd "$build/reference/node_modules" && pwd)" tests/reference/node_modules
    echo "tests/reference/node_modules: staged"
  fi
  [[ "$build" == */gpu-check ]] && export MODELS="${MODELS:-${build%/gpu-check}/bench-models/gpu}"
  return 0
}

# The GPU machine may keep its Vulkan driver manifest outside the loader's search path, and
# llama.cpp's CUDA build needs CUDA's runtime libraries where the dynamic linker finds them.
environment() {
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json d
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$icd" ] &&
     ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES="$icd"
    echo "VK_DRIVER_FILES=$icd"
  fi
  # hearth's staged programs bring their own Vulkan loader; llama.cpp's Vulkan build gets it too
  # where the system has none (the NVIDIA driver ships only the driver).
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && [ -e "$build/lib/libvulkan.so.1" ]; then
    mkdir -p /tmp/hearth-vulkan-loader
    ln -sf "$(cd "$build/lib" && pwd)/libvulkan.so.1" /tmp/hearth-vulkan-loader/
    export LD_LIBRARY_PATH="/tmp/hearth-vulkan-loader${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "Vulkan loader: the staged one (the system has none)"
  fi
  if ! ldconfig -p 2>/dev/null | grep -q 'libcudart.so.13'; then
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib*; do
      [ -e "$d/libcudart.so.13" ] && { export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; echo "CUDA runtime: $d"; break; }
    done
  fi
  if [ -z "${HEARTH_SHARED_DIR:-}" ] && [ ! -d ../shared ] && [ -d "$build/shared" ]; then
    HEARTH_SHARED_DIR="$(cd "$build/shared" && pwd)"
    export HEARTH_SHARED_DIR
  fi
}

machine() {
  echo "date: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' + changes')"
  echo "host: $(uname -srm), $(nproc) cores, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "build: $build, shared data: ${HEARTH_SHARED_DIR:-../shared}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv
  command -v vulkaninfo >/dev/null && { vulkaninfo --summary 2>&1 | sed -n '/^Devices:/,$p'; }
  "$build/bin/hearth" --version
  echo "node: $(node --version 2>/dev/null || echo 'not found')"
  local p
  for p in tests/reference/node_modules/@node-llama-cpp/*; do
    [ -d "$p" ] && echo "node-llama-cpp prebuilt: $(basename "$p") $(du -sh "$p" | cut -f1)"
  done
  [ -d tests/reference/node_modules/@node-llama-cpp ] || echo "node-llama-cpp: not installed (tests/reference/node_modules)"
}

echo "# hearth GPU check"
unstage
environment
export build
export -f machine
step "Machine" 60 bash -c machine
# The 8B models take hearth-synth minutes on one core each: written in the background while the
# tests run (the comparison waits for them).
models_log="$(mktemp)"
small_args=(); [ "${SMALL:-0}" = 1 ] && small_args=(SMALL=1)
timeout -k 5 "$((budget * 2 / 3))" env "${small_args[@]}" BUILD="$build" bench/compare_llama_cpp.sh --gpu --prepare \
  >"$models_log" 2>&1 &
models_pid=$!
step "Vulkan kernel tests" 120 "$build/tests/kernels/test_kernels" --gtest_filter='*vulkan*:*Devices*' --gtest_brief=1
step "Engine on the GPU" 180 "$build/tests/llm/test_llm" --gtest_filter='DeviceEngine*:Stories260K.GreedyOnEvery*' --gtest_brief=1
printf '\n## Models\n\n'
t0=$SECONDS
wait "$models_pid"
rc=$?
cat "$models_log"
echo "(exit status $rc$( ((rc == 124)) && echo ", timed out"), waited $((SECONDS - t0)) s)"
printf '\n## hearth against llama.cpp (Vulkan, CUDA), %s rounds\n\n' "${ROUNDS:-2}"
left=$((budget - (SECONDS - start)))
if ((rc != 0)); then
  echo "skipped: no models"
elif ((left < 30)); then
  echo "skipped: the time budget (${budget} s) is spent"
else
  t0=$SECONDS
  timeout -k 5 "$left" env "${small_args[@]}" RUN_TIMEOUT="${RUN_TIMEOUT:-120}" BUILD="$build" \
    bench/compare_llama_cpp.sh --gpu "${ROUNDS:-2}"
  rc=$?
  echo; echo "(exit status $rc$( ((rc == 124)) && echo ", timed out after $left s"), $((SECONDS - t0)) s)"
fi
echo; echo "total: $((SECONDS - start)) s of a ${budget} s budget"
