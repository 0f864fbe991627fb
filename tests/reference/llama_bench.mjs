#!/usr/bin/env node
// llama.cpp throughput baseline for hearth's benchmarks, measured the way llama-bench does.
//
//   node llama_bench.mjs --model M.gguf [--threads N] [--pp 512] [--tg 128] [--reps 3]
//        [--depth 0] [--batch 512] [--kv-type f16|f32] [--flash-attn auto|on|off] [--poll 0..100]
//        [--gpu vulkan|cuda]
//
// pp: one llama_decode of `pp` random token ids after `depth` positions of context
//     (llama-bench -d; batch and ubatch = max(pp, --batch), so the prompt goes in one batch).
// tg: `tg` llama_decode calls of one token each after `depth` positions.
// The depth is filled once, untimed; each run drops the positions after it.
// Model load and context creation are excluded; one untimed warm-up of each test runs first
// (as llama-bench does); each figure is the median over `reps` runs. Both tests use the same
// thread count. Defaults follow llama-bench: F16 KV cache, flash attention auto, ggml's default
// threadpool (poll 50). On a machine with other busy processes, busy-waiting threads make
// multi-threaded decoding collapse; --poll 0 (threads sleep between ops) is then much fairer.
// --gpu runs on node-llama-cpp's Vulkan or CUDA build with every layer offloaded (gpuLayers "max");
// it exits with status 2 and a message naming the missing piece where that build's prebuilt
// package is not installed, does not load, or finds no GPU.
//
// Prints one JSON object: {"pp_tok_s":..,"tg_tok_s":..,"pp_runs_tok_s":[..],"tg_runs_tok_s":[..],
//                          "threads":N,"pp":512,"tg":128,"reps":3,"n_vocab":..,"gpu":null|"vulkan"|"cuda",
//                          "gpu_devices":[..]}

import { parseArgs, openModel, loadLlama, fail } from "./llama_ffi.mjs";

const args = parseArgs(process.argv.slice(2), {
    model: "string", threads: "int", pp: "int", tg: "int", reps: "int", batch: "int",
    "kv-type": "string", "flash-attn": "string", poll: "int", depth: "int", gpu: "string",
});
if (!args.model) fail("--model is required");
const threads = args.threads ?? 2;
const pp = args.pp ?? 512;
const tg = args.tg ?? 128;
const reps = Math.max(1, args.reps ?? 3);
const depth = Math.max(0, args.depth ?? 0);
const batch = Math.max(pp, args.batch ?? 512);
const fa = { auto: -1, off: 0, on: 1 }[args["flash-attn"] ?? "auto"];
if (fa === undefined) fail("--flash-attn expects auto, on or off");
const gpu = args.gpu ?? false;
if (gpu !== false && gpu !== "vulkan" && gpu !== "cuda") fail("--gpu expects vulkan or cuda");
const gpuDevices = gpu ? await (await loadLlama(gpu)).llama.getGpuDeviceNames() : [];

const session = await openModel(args.model, {
    threads, ctx: depth + Math.max(pp, tg) + 16, batch, kvType: args["kv-type"] ?? "f16", flashAttn: fa,
    poll: args.poll, gpu,
});

// Deterministic pseudo-random ids (llama-bench also feeds random tokens).
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % session.nVocab);

// The context every run starts from: `depth` positions, filled once.
session.clear();
for (let start = 0; start < depth; start += batch) {
    session.decodeSync(Array.from({ length: Math.min(batch, depth - start) }, rand), false);
}

function runPP() {
    session.truncate(depth);
    const toks = Array.from({ length: pp }, rand);
    const t0 = process.hrtime.bigint();
    session.decodeSync(toks, true);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}
function runTG() {
    session.truncate(depth);
    const toks = Array.from({ length: tg }, rand);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < tg; i++) session.decodeSync([toks[i]], true);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const ppRuns = [], tgRuns = [];
if (pp > 0) {
    runPP(); // warm-up
    for (let r = 0; r < reps; r++) ppRuns.push(pp / runPP());
}
if (tg > 0) {
    session.truncate(depth);
    session.decodeSync([rand()], true); // warm-up, like llama-bench's single-token warm-up
    for (let r = 0; r < reps; r++) tgRuns.push(tg / runTG());
}
session.close();

const round = (x) => Math.round(x * 100) / 100;
process.stdout.write(JSON.stringify({
    pp_tok_s: pp > 0 ? round(median(ppRuns)) : null,
    tg_tok_s: tg > 0 ? round(median(tgRuns)) : null,
    pp_runs_tok_s: ppRuns.map(round),
    tg_runs_tok_s: tgRuns.map(round),
    threads, pp, tg, depth, reps, poll: args.poll ?? null, n_vocab: session.nVocab,
    gpu: gpu || null, gpu_devices: gpuDevices,
}) + "\n");
