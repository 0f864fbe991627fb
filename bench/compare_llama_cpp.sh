#!/usr/bin/env bash
# hearth vs llama.cpp on the same GGUF files and threads: pp512 and tg128 for a
# Qwen3-0.6B-shaped and a Llama-3.2-1B-shaped random-weight model in Q8_0 and Q4_K_M.
# llama.cpp is node-llama-cpp's build (scripts/setup-reference.sh installs it).
# Usage: bench/compare_llama_cpp.sh [threads] [reps]   (run from the repo root after make build)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-$(nproc)}"
reps="${2:-3}"
build="${BUILD:-build}"
models="$build/bench-models"
vocab="../shared/data/vocab/ggml-vocab-gpt-2.gguf"
mkdir -p "$models"
[ -f "$vocab" ] || { echo "needs $vocab (shared test data)"; exit 1; }
scripts/setup-reference.sh >/dev/null || true

make_model() {  # name, then hearth-synth options
  local name="$1"; shift
  [ -f "$models/$name.gguf" ] || "$build/bin/hearth-synth" "$@" --vocab "$vocab" -o "$models/$name.gguf" >/dev/null
}
make_model qwen3-0.6b-q8_0   --arch qwen3 --embd 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --ff 3072 --pad-vocab 151936 --tied --type Q8_0
make_model qwen3-0.6b-q4_k_m --arch qwen3 --embd 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --ff 3072 --pad-vocab 151936 --tied --type Q4_K_M
make_model llama-3.2-1b-q8_0   --arch llama --embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --pad-vocab 128256 --tied --rope-theta 500000 --type Q8_0
make_model llama-3.2-1b-q4_k_m --arch llama --embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --pad-vocab 128256 --tied --rope-theta 500000 --type Q4_K_M

printf "| model | test | hearth t/s | llama.cpp t/s | ratio |\n|---|---|---:|---:|---:|\n"
for m in qwen3-0.6b-q8_0 qwen3-0.6b-q4_k_m llama-3.2-1b-q8_0 llama-3.2-1b-q4_k_m; do
  f="$models/$m.gguf"
  ours=$("$build/bin/hearth" bench "$f" -t "$threads" -r "$reps" --json --no-bandwidth)
  ref=$(node tests/reference/llama_bench.mjs --model "$f" --threads "$threads" --pp 512 --tg 128 --reps "$reps" 2>/dev/null || echo '{}')
  node -e '
    const ours = JSON.parse(process.argv[1]).results, ref = JSON.parse(process.argv[2]);
    for (const [test, key] of [["pp512", "pp_tok_s"], ["tg128", "tg_tok_s"]]) {
      const h = ours.find(r => r.test === test).tokens_per_second, l = ref[key];
      console.log(`| ${process.argv[3]} | ${test} | ${h.toFixed(2)} | ${l ? l.toFixed(2) : "n/a"} | ${l ? (h / l).toFixed(2) : "n/a"} |`);
    }' "$ours" "$ref" "$m"
done
"$build/bin/hearth" bench "$models/qwen3-0.6b-q8_0.gguf" -t "$threads" -p 0 -r 1 | tail -2
