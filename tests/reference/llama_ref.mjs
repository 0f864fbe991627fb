#!/usr/bin/env node
// llama.cpp reference run for hearth's tests: ids in, ids and raw logits out.
//
//   node llama_ref.mjs --model M.gguf --tokens 1,403,407 --steps 32 [--threads 2]
//        [--logits-at-each-step K] [--prompt-logits] [--ctx N] [--stop-at-eos]
//        [--kv-type f16|f32] [--flash-attn auto|on|off]
//
// Evaluates exactly the given token ids (no tokenization, no BOS added) with llama.cpp on the
// CPU, then decodes `steps` tokens greedily (argmax of the raw logits; ties go to the lowest
// id). It does not stop at end-of-generation tokens unless --stop-at-eos is given.
//
// Prints one JSON object on stdout:
//   {"tokens":[generated ids], "logits":[[n_vocab floats], ...], "n_vocab":N, "n_prompt":P}
// logits are raw (pre-softmax, no penalties or sampling transforms), in evaluation order:
//   - without --prompt-logits: logits[0] follows the last prompt token (it predicts tokens[0]),
//     logits[k] follows generated token k-1 (it predicts tokens[k]), for k < K (default K = 1).
//   - with --prompt-logits: logits[j] for j < P follows prompt token j (logits[P-1] predicts
//     tokens[0]); then logits[P-1+k] predicts tokens[k] for 0 < k < K.
// Floats are printed with full float32 precision. Diagnostics go to stderr; exit status 2 on error.

import { parseArgs, openModel, argmax, fail } from "./llama_ffi.mjs";

const args = parseArgs(process.argv.slice(2), {
    model: "string", tokens: "string", steps: "int", threads: "int", "logits-at-each-step": "int",
    "prompt-logits": "bool", ctx: "int", "stop-at-eos": "bool", "kv-type": "string", "flash-attn": "string",
});
if (!args.model) fail("--model is required");
if (args.tokens === undefined) fail("--tokens is required (comma-separated ids)");
const prompt = args.tokens.split(",").filter((s) => s.trim() !== "").map((s) => {
    if (!/^\s*\d+\s*$/.test(s)) fail(`bad token id: ${s}`);
    return Number.parseInt(s, 10);
});
if (prompt.length === 0) fail("--tokens must hold at least one id");
const steps = args.steps ?? 0;
const threads = args.threads ?? 2;
const keep = Math.max(1, args["logits-at-each-step"] ?? 1);
const promptLogits = !!args["prompt-logits"];
const ctx = args.ctx ?? Math.max(512, prompt.length + steps + 1);
if (prompt.length + steps > ctx) fail(`prompt (${prompt.length}) + steps (${steps}) exceed --ctx ${ctx}`);
const fa = { auto: -1, off: 0, on: 1 }[args["flash-attn"] ?? "off"];
if (fa === undefined) fail("--flash-attn expects auto, on or off");

const session = await openModel(args.model, {
    threads, ctx, batch: Math.max(512, Math.min(prompt.length, 4096)), kvType: args["kv-type"] ?? "f32", flashAttn: fa,
});
for (const t of prompt)
    if (t < 0 || t >= session.nVocab) fail(`token id ${t} out of range for n_vocab ${session.nVocab}`);

const logits = [];
let outs = await session.eval(prompt, promptLogits ? "all" : "last");
if (promptLogits) logits.push(...outs.slice(0, -1));
let last = outs[outs.length - 1];
const tokens = [];
for (let step = 0; step < steps; step++) {
    if (step < keep) logits.push(last);
    const next = argmax(last);
    tokens.push(next);
    if (args["stop-at-eos"] && session.isEog(next)) break;
    if (step + 1 === steps) break;
    outs = await session.eval([next], "last");
    last = outs[0];
}
if (steps === 0) logits.push(last);
session.close();

// Float32 values converted to doubles print exactly and round-trip to the same float.
const fmt = (v) => (Number.isFinite(v) ? String(v) : (v > 0 ? "1e38" : v < 0 ? "-1e38" : "0"));
const parts = [];
parts.push(`{"tokens":[${tokens.join(",")}],"n_vocab":${session.nVocab},"n_prompt":${prompt.length},"logits":[`);
parts.push(logits.map((row) => "[" + Array.from(row, fmt).join(",") + "]").join(","));
parts.push("]}\n");
process.stdout.write(parts.join(""));
