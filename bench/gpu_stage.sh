#!/usr/bin/env bash
# Stages what bench/gpu_check.sh runs, for a GPU machine that has neither this build's shared
# libraries, nor ../shared, nor Node.js, and takes a working tree of at most 64 MiB: run here
# after building, carry BUILD/gpu-check there, run bench/gpu_check.sh there (it unpacks it).
#
# BUILD/gpu-check holds zstd (with its libraries, to unpack) and payload.tar.zst, which holds:
# - hearth, hearth-synth, test_kernels and test_llm, each behind a wrapper that runs it on the
#   shared libraries it was linked against here (lib/; the C and C++ runtimes excepted);
# - stories260K's model and reference tokens from the shared test data;
# - where installed, node and node-llama-cpp with its Vulkan build (--keep-gpu-binaries). Its
#   CUDA backend alone is 124 MB compressed, so llama.cpp's CUDA build cannot travel this way.
# Usage: bench/gpu_stage.sh     (BUILD=dir, default build; HEARTH_SHARED_DIR, default ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
stage="$build/gpu-check"
full="$(mktemp -d)"
trap 'rm -rf "$full"' EXIT

# put_binary ROOT SOURCE RELATIVE-PATH: SOURCE as ROOT/libexec/NAME, a wrapper at
# ROOT/RELATIVE-PATH that runs it with ROOT/lib first on the library path (for hearth's programs
# alone, not for node or the driver's tools), and the libraries it loads in ROOT/lib.
put_binary() {
  local root="$1" src="$2" rel="$3" name up
  name="$(basename "$rel")"
  up="$(dirname "$rel" | sed 's|[^/]*|..|g')"
  mkdir -p "$root/$(dirname "$rel")" "$root/libexec" "$root/lib"
  cp "$src" "$root/libexec/$name"
  cat >"$root/$rel" <<EOF
#!/bin/sh
# Staged by bench/gpu_stage.sh: $name with the libraries it was built against.
root="\$(cd "\$(dirname "\$0")/$up" && pwd)"
LD_LIBRARY_PATH="\$root/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$root/libexec/$name" "\$@"
EOF
  chmod +x "$root/$rel"
  ldd "$src" | awk '/=> \// {print $3}' |
    { grep -vE '/(libc|libm|libpthread|libdl|librt|libgcc_s|libstdc\+\+)\.so' || true; } | xargs -r cp -L -t "$root/lib/"
}

# node and the part of tests/reference/node_modules that llama_bench.mjs --gpu vulkan loads.
put_llama() {
  local nm=tests/reference/node_modules
  if [ ! -d "$nm/@node-llama-cpp/linux-x64-vulkan" ] || ! command -v node >/dev/null; then
    echo "gpu_stage: no node or no Vulkan build of llama.cpp here (scripts/setup-reference.sh --keep-gpu-binaries): not staged" >&2
    return 0
  fi
  mkdir -p "$full/node/bin" "$full/reference"
  cp "$(command -v node)" "$full/node/bin/"
  tar -C tests/reference -cf - --exclude=node_modules/onnxruntime-node --exclude=node_modules/onnxruntime-common \
      --exclude=node_modules/openai --exclude=node_modules/node-llama-cpp/llama/gitRelease.bundle \
      --exclude='node_modules/@node-llama-cpp/linux-arm*' --exclude='node_modules/@node-llama-cpp/linux-x64-cuda*' \
      --exclude=node_modules/@node-llama-cpp/linux-x64 node_modules | tar -C "$full/reference" -xf -
}

for f in bin/hearth bin/hearth-synth tests/kernels/test_kernels tests/llm/test_llm; do
  [ -x "$build/$f" ] || { echo "gpu_stage: $build/$f is not built" >&2; exit 1; }
  put_binary "$full" "$build/$f" "$f"
done
shared="${HEARTH_SHARED_DIR:-../shared}"
for f in data/llm/derived/stories260K-converted.gguf data/reference/stories260K; do
  if [ -e "$shared/$f" ]; then mkdir -p "$full/shared/$(dirname "$f")"; cp -r "$shared/$f" "$full/shared/$f"
  else echo "gpu_stage: $shared/$f not found: Stories260K will skip there" >&2; fi
done
put_llama
echo "gpu_stage: compressing $(du -sh "$full" | cut -f1) ..." >&2
rm -rf "$stage"
put_binary "$stage" "$(command -v zstd)" bin/zstd
tar -C "$full" -cf - . | zstd -q -19 -T0 -o "$stage/payload.tar.zst"
bytes="$(du -sb "$stage" | cut -f1)"
echo "staged in $stage: $((bytes >> 20)) MiB; carry it to the GPU machine and run bench/gpu_check.sh there"
((bytes < 60 << 20)) || echo "gpu_stage: more than 60 MiB: with the tracked files, over what a device run carries" >&2
