#!/usr/bin/env bash
# hearth vs llama.cpp on the same GGUF files: pp512 and tg128, medians over rounds.
# llama.cpp is node-llama-cpp's build (scripts/setup-reference.sh installs it).
#
# Usage (from the repo root after make build):
#   bench/compare_llama_cpp.sh [threads] [rounds]   CPU: Qwen3-0.6B- and Llama-3.2-1B-shaped
#       random-weight models in Q8_0 and Q4_K_M, hearth and llama.cpp's CPU build on `threads`.
#   bench/compare_llama_cpp.sh --gpu [rounds]       GPU: Llama-3.1-8B- and Qwen3-8B-shaped Q4_K_M
#       models, `hearth bench --device vulkan` against llama.cpp's Vulkan and CUDA builds with
#       every layer offloaded, plus the fraction of the device's read bandwidth hearth's tg reaches.
#       A llama.cpp build that is missing or finds no GPU shows "n/a" with the reason.
#   bench/compare_llama_cpp.sh --gpu --prepare      only write the GPU mode's models.
# Environment:
#   DEPTH=n      run every test after n positions of context (llama-bench -d)
#   SMALL=1      GPU mode on the CPU mode's small shapes (Q4_K_M), e.g. to smoke-test on lavapipe
#   PP=n TG=n    prompt and generated tokens (default 512 and 128)
#   DEVICE=spec  hearth's device in GPU mode (default vulkan)
#   RUN_TIMEOUT=s  limit on each program run (default: none; GPU mode 150), reported as n/a
#   BUILD=dir    the build directory (default build); MODELS=dir where models go (BUILD/bench-models,
#                GPU mode BUILD/bench-models/gpu)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,20p' "$0" >&2; exit 2; }
gpu=0 prepare=0
positional=()
for a in "$@"; do
  case "$a" in
    --gpu) gpu=1 ;;
    --prepare) prepare=1 ;;
    -h|--help) usage ;;
    -*) echo "compare_llama_cpp: unknown option $a" >&2; usage ;;
    *) [[ "$a" =~ ^[0-9]+$ ]] || { echo "compare_llama_cpp: expected a number, got '$a'" >&2; usage; }
       positional+=("$a") ;;
  esac
done
((prepare == 0 || gpu == 1)) || { echo "compare_llama_cpp: --prepare goes with --gpu" >&2; usage; }
if ((gpu)); then
  ((${#positional[@]} <= 1)) || usage
  threads="$(nproc)"; rounds="${positional[0]:-2}"
else
  ((${#positional[@]} <= 2)) || usage
  threads="${positional[0]:-$(nproc)}"; rounds="${positional[1]:-3}"
fi
((rounds >= 1)) || { echo "compare_llama_cpp: rounds must be at least 1" >&2; exit 2; }
depth=$((10#${DEPTH:-0}))
pp=$((10#${PP:-512})); tg=$((10#${TG:-128}))
suffix=""; ((depth > 0)) && suffix=" @ d$depth"
build="${BUILD:-build}"
# GPU mode's models have the built-in vocabulary: apart from the CPU mode's of the same shape.
models="${MODELS:-$build/bench-models}"
((gpu)) && [ -z "${MODELS:-}" ] && models+=/gpu
run_timeout="${RUN_TIMEOUT:-$((gpu ? 150 : 0))}"
mkdir -p "$models"
for exe in hearth hearth-synth; do
  [ -x "$build/bin/$exe" ] || { echo "compare_llama_cpp: $build/bin/$exe not built" >&2; exit 1; }
done

# make_model NAME hearth-synth-options...: writes $models/NAME.gguf unless it is there. The
# file appears only once complete, so an interrupted run never leaves a truncated model behind.
make_model() {
  local name="$1"; shift
  [ -f "$models/$name.gguf" ] && return 0
  "$build/bin/hearth-synth" "$@" -o "$models/$name.gguf.part" >/dev/null && mv "$models/$name.gguf.part" "$models/$name.gguf"
}

# The shapes. CPU mode copies the GPT-2 vocabulary from the shared test data; GPU mode uses
# hearth-synth's built-in one, padded the same way, so it needs nothing outside the tree.
qwen3_small=(--arch qwen3 --embd 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --ff 3072 --pad-vocab 151936 --tied)
llama_small=(--arch llama --embd 2048 --layers 16 --heads 32 --kv-heads 8 --ff 8192 --pad-vocab 128256 --tied --rope-theta 500000)
llama_8b=(--arch llama --embd 4096 --layers 32 --heads 32 --kv-heads 8 --ff 14336 --pad-vocab 128256 --rope-theta 500000)
qwen3_8b=(--arch qwen3 --embd 4096 --layers 36 --heads 32 --kv-heads 8 --head-dim 128 --ff 12288 --pad-vocab 151936)

if ((gpu)); then
  if [ "${SMALL:-0}" = 1 ]; then
    names=(qwen3-0.6b-q4_k_m llama-3.2-1b-q4_k_m)
    make_model qwen3-0.6b-q4_k_m "${qwen3_small[@]}" --type Q4_K_M
    make_model llama-3.2-1b-q4_k_m "${llama_small[@]}" --type Q4_K_M
  else
    names=(llama-3.1-8b-q4_k_m qwen3-8b-q4_k_m)
    # hearth-synth runs on one core: the two models are written side by side.
    make_model llama-3.1-8b-q4_k_m "${llama_8b[@]}" --type Q4_K_M & pid=$!
    make_model qwen3-8b-q4_k_m "${qwen3_8b[@]}" --type Q4_K_M || { wait "$pid"; exit 1; }
    wait "$pid"
  fi
  ((prepare)) && { echo "models ready in $models: ${names[*]}"; exit 0; }
  refs=(llama.cpp-vulkan llama.cpp-cuda)
else
  vocab="../shared/data/vocab/ggml-vocab-gpt-2.gguf"
  [ -f "$vocab" ] || { echo "needs $vocab (shared test data)"; exit 1; }
  names=(qwen3-0.6b-q8_0 qwen3-0.6b-q4_k_m llama-3.2-1b-q8_0 llama-3.2-1b-q4_k_m)
  make_model qwen3-0.6b-q8_0 "${qwen3_small[@]}" --vocab "$vocab" --type Q8_0
  make_model qwen3-0.6b-q4_k_m "${qwen3_small[@]}" --vocab "$vocab" --type Q4_K_M
  make_model llama-3.2-1b-q8_0 "${llama_small[@]}" --vocab "$vocab" --type Q8_0
  make_model llama-3.2-1b-q4_k_m "${llama_small[@]}" --vocab "$vocab" --type Q4_K_M
  refs=(llama.cpp)
fi
# GPU mode never installs (a GPU machine may have no network, where npm would only wait): each
# llama.cpp build missing says so in the notes under the table.
((gpu)) || scripts/setup-reference.sh >/dev/null || true

# hearth_cmd MODEL: sets `cmd` to hearth bench as this mode runs it (options may follow).
hearth_cmd() {
  cmd=("$build/bin/hearth" bench "$models/$1.gguf" -t "$threads" -d "$depth" -p "$pp" -n "$tg")
  if ((gpu)); then cmd+=(--device "${DEVICE:-vulkan}"); else cmd+=(--no-bandwidth); fi
}

if ! command -v node >/dev/null 2>&1; then
  # No llama.cpp and no table without Node.js: hearth's own tables (with its GB/s) instead.
  echo "node not found: llama.cpp n/a; hearth alone, median of $rounds runs:"
  for m in "${names[@]}"; do
    hearth_cmd "$m"
    timeout "$run_timeout" "${cmd[@]}" -r "$rounds" | grep -v '^device:' || echo "hearth on $m: failed or timed out (${run_timeout} s)"
  done
  exit 0
fi

# run PROGRAM MODEL ROUND: one run, its JSON kept in $runs/MODEL/PROGRAM.ROUND.json, or why
# there is none in .err (the last line of its stderr, or the time limit it ran into).
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
run() {
  local program="$1" model="$2" round="$3" cmd
  case "$program" in
    hearth) hearth_cmd "$model"; cmd+=(-r 1 --json) ;;
    llama.cpp*) cmd=(node tests/reference/llama_bench.mjs --model "$models/$model.gguf" --threads "$threads"
                     --pp "$pp" --tg "$tg" --depth "$depth" --reps 1)
                [ "$program" = llama.cpp ] || cmd+=(--gpu "${program#llama.cpp-}") ;;
  esac
  local out="$runs/$model/$program.$round" rc=0
  mkdir -p "$runs/$model"
  timeout "$run_timeout" "${cmd[@]}" >"$out.json" 2>"$out.log" || rc=$?
  if ((rc == 0)); then return 0; fi
  if ((rc == 124)); then echo "timed out after ${run_timeout} s" >"$out.err"
  else grep -v '^\s*$' "$out.log" | tail -n 1 >"$out.err"; [ -s "$out.err" ] || echo "exit status $rc" >"$out.err"; fi
  rm -f "$out.json"
  # A build that is not there (exit 2 from llama_bench.mjs) is not tried again on this model.
  [[ "$program" != llama.cpp* || $rc != 2 ]] || touch "$runs/$model/$program.skip"
}

# Rounds alternate which program goes first, each round one measured run of each test per
# program: on a shared host the speed drifts over tens of seconds, and interleaving lets every
# program see the same conditions. Medians over the rounds.
programs=(hearth "${refs[@]}")
for m in "${names[@]}"; do
  for ((round = 0; round < rounds; round++)); do
    order=("${programs[@]}")
    ((round % 2 == 1)) && order=($(printf '%s\n' "${programs[@]}" | tac))
    for p in "${order[@]}"; do
      [ -f "$runs/$m/$p.skip" ] || run "$p" "$m" "$round"
    done
  done
done
table=(--runs "$runs" --refs "$(IFS=,; echo "${refs[*]}")" --pp "$pp" --tg "$tg" --suffix "$suffix")
((gpu)) && table+=(--bandwidth)
node bench/compare_table.mjs "${table[@]}" "${names[@]}"
((gpu)) || "$build/bin/hearth" bench "$models/qwen3-0.6b-q8_0.gguf" -t "$threads" -p 0 -r 1 | tail -2
