#!/usr/bin/env bash
# hearth vs llama.cpp on the same GGUF files and threads: pp512 and tg128 for a
# Qwen3-0.6B-shaped and a Llama-3.2-1B-shaped random-weight model in Q8_0 and Q4_K_M.
# llama.cpp is node-llama-cpp's build (scripts/setup-reference.sh installs it).
# Usage: bench/compare_llama_cpp.sh [threads] [rounds]   (run from the repo root after make build)
# DEPTH=n runs every test after n positions of context (llama-bench -d).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-$(nproc)}"
rounds="${2:-3}"
depth=$((10#${DEPTH:-0}))
suffix=""; ((depth > 0)) && suffix=" @ d$depth"
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

# Rounds alternate which program goes first, each round one measured run of each test
# per program: on a shared host the speed drifts over tens of seconds, and
# interleaving lets both programs see the same conditions. Medians over the rounds.
printf "| model | test | hearth t/s | llama.cpp t/s | ratio | ratio per round |\n|---|---|---:|---:|---:|---|\n"
for m in qwen3-0.6b-q8_0 qwen3-0.6b-q4_k_m llama-3.2-1b-q8_0 llama-3.2-1b-q4_k_m; do
  f="$models/$m.gguf"
  ours="[]"; refs="[]"
  run_ours() { ours=$(node -e 'const a = JSON.parse(process.argv[1]); a.push(JSON.parse(process.argv[2]).results); console.log(JSON.stringify(a))' "$ours" \
    "$("$build/bin/hearth" bench "$f" -t "$threads" -d "$depth" -r 1 --json --no-bandwidth)"); }
  run_ref() { refs=$(node -e 'const a = JSON.parse(process.argv[1]); a.push(JSON.parse(process.argv[2])); console.log(JSON.stringify(a))' "$refs" \
    "$(node tests/reference/llama_bench.mjs --model "$f" --threads "$threads" --pp 512 --tg 128 --depth "$depth" --reps 1 2>/dev/null || echo '{}')"); }
  for ((round = 0; round < rounds; round++)); do
    if ((round % 2 == 0)); then run_ours; run_ref; else run_ref; run_ours; fi
  done
  node -e '
    const ours = JSON.parse(process.argv[1]), refs = JSON.parse(process.argv[2]);
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length;
                             return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
    for (const [test, key] of [["pp512", "pp_tok_s"], ["tg128", "tg_tok_s"]]) {
      const h = ours.map(r => r.find(x => x.test === test + process.argv[4]).tokens_per_second);
      const l = refs.map(r => r[key]).filter(x => x);
      const per = l.length === h.length ? h.map((x, i) => (x / l[i]).toFixed(2)).join(" ") : "n/a";
      const hm = median(h), lm = l.length ? median(l) : 0;
      console.log(`| ${process.argv[3]} | ${test}${process.argv[4]} | ${hm.toFixed(2)} | ${lm ? lm.toFixed(2) : "n/a"} | ${lm ? (hm / lm).toFixed(2) : "n/a"} | ${per} |`);
    }' "$ours" "$refs" "$m" "$suffix"
done
"$build/bin/hearth" bench "$models/qwen3-0.6b-q8_0.gguf" -t "$threads" -p 0 -r 1 | tail -2
