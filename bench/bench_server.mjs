#!/usr/bin/env node
// HTTP-level serving benchmark: aggregate generated tokens/s with 1, 4, 8 and 16
// concurrent streaming clients against one `hearth serve` (continuous batching: the
// gain over one client is what batching buys), with time to first token p50/p95.
// Clients are the official openai package (tests/reference/node_modules).
// Usage (repo root, after make build):
//   node bench/bench_server.mjs [--model F.gguf] [--threads N] [--tokens 64] [--clients 1,4,8,16]
// Without --model a small random-weight Qwen3-shaped Q8_0 model is made in build/bench-models.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { args, build, loadOpenAI, root } from './bench_support.mjs';

const threads = Number(args.threads ?? os.availableParallelism?.() ?? os.cpus().length);
const tokens = Number(args.tokens ?? 64);
const levels = (args.clients ?? '1,4,8,16').split(',').map(Number);
const parallel = Math.max(...levels);

const OpenAI = await loadOpenAI();

let model = args.model;
if (!model) {
  const vocab = path.join(root, '../shared/data/vocab/ggml-vocab-gpt-2.gguf');
  mkdirSync(path.join(build, 'bench-models'), { recursive: true });
  model = path.join(build, 'bench-models', 'server-qwen3-small-q8_0.gguf');
  if (!existsSync(model)) {
    execFileSync(path.join(build, 'bin/hearth-synth'), ['--arch', 'qwen3', '--embd', '512', '--layers', '8', '--heads', '8',
      '--kv-heads', '4', '--head-dim', '64', '--ff', '1536', '--tied', '--type', 'Q8_0', '--vocab', vocab, '-o', model], { stdio: 'ignore' });
  }
}

const proc = spawn(path.join(build, 'bin/hearth'), ['serve', '--model', model, '--alias', 'bench', '--port', '0',
  '--threads', String(threads), '--parallel', String(parallel), '--queue', '64', '--ctx-size', '1024'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  proc.on('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });

async function oneClient(i) {
  const t0 = performance.now();
  let ttft;
  let n = 0;
  const stream = await client.chat.completions.create({
    model: 'bench', messages: [{ role: 'user', content: `Tell story number ${i} about a lighthouse.` }],
    max_tokens: tokens, temperature: 0.7, seed: i, ignore_eos: true, stream: true, stream_options: { include_usage: true },
  });
  for await (const c of stream) {
    if (ttft === undefined && c.choices[0]?.delta?.content) ttft = performance.now() - t0;
    if (c.usage) n = c.usage.completion_tokens;
  }
  return { ttft, n };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

await oneClient(0);  // warm-up
const rows = [];
for (const c of levels) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: c }, (_, i) => oneClient(i + 1)));
  const seconds = (performance.now() - t0) / 1000;
  const total = results.reduce((a, r) => a + r.n, 0);
  rows.push({ c, tps: total / seconds, ttft: results.map((r) => r.ttft) });
}
proc.kill('SIGTERM');

console.log(`model ${path.basename(model)}, ${threads} threads, ${tokens} tokens per client, --parallel ${parallel}`);
console.log('| clients | aggregate tok/s | per client tok/s | vs 1 client | TTFT p50 ms | TTFT p95 ms |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.c} | ${r.tps.toFixed(1)} | ${(r.tps / r.c).toFixed(1)} | ${(r.tps / rows[0].tps).toFixed(2)}x | ` +
    `${pct(r.ttft, 50).toFixed(0)} | ${pct(r.ttft, 95).toFixed(0)} |`);
}
console.log("llama.cpp's server is not available from npm (node-llama-cpp has no HTTP server), so there is no side-by-side row.");
