#!/usr/bin/env node
// Gateway benchmark, two numbers:
//  1. Added latency: time to first token of a 1-token streamed chat completion through
//     `hearth gateway` minus direct to the node, p50 and p99, the two paths alternated
//     request by request on the same node.
//  2. Scaling: aggregate generated tokens/s of 2 nodes behind the gateway over 1 node
//     alone, each node pinned to its own core (taskset) and given the same number of
//     clients (so twice as many through the gateway: a node's batch is the same size), and
//     the gateway's own CPU time per 1000 tokens relayed. On a 2-core host the clients and
//     the gateway run on the nodes' cores, which caps the ratio below 2.
// Clients are the official openai package (tests/reference/node_modules).
// Usage (repo root, after make build):
//   node bench/bench_gateway.mjs [--model F.gguf] [--requests 400] [--clients 8] [--tokens 64] [--seconds 20] [--rounds 2]
// Without --model a small random-weight Qwen3-shaped Q8_0 model is made in build/bench-models.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { args, build, loadOpenAI, startHearth } from './bench_support.mjs';

const requests = Number(args.requests ?? 400);
const clients = Number(args.clients ?? 8);
const tokens = Number(args.tokens ?? 64);
const seconds = Number(args.seconds ?? 20);
const cores = os.availableParallelism?.() ?? os.cpus().length;

const OpenAI = await loadOpenAI();

let model = args.model;
if (!model) {
  mkdirSync(path.join(build, 'bench-models'), { recursive: true });
  model = path.join(build, 'bench-models', 'gateway-qwen3-small-q8_0.gguf');
  if (!existsSync(model)) {
    execFileSync(path.join(build, 'bin/hearth-synth'), ['--arch', 'qwen3', '--embd', '512', '--layers', '8', '--heads', '8',
      '--kv-heads', '4', '--head-dim', '64', '--ff', '1536', '--tied', '--type', 'Q8_0', '--pad-vocab', '32000', '-o', model],
    { stdio: 'ignore' });
  }
}

const start = startHearth;

const node = (core) => start(['serve', '--model', model, '--alias', 'bench', '--port', '0', '--threads', '1', '--parallel',
  String(clients), '--queue', '256', '--ctx-size', '512'], { core });
const gateway = (nodes) => start(['gateway', '--port', '0', '--probe-interval', '0.2', '--no-access-log',
  ...nodes.flatMap((n) => ['--node', n.url])]);

async function waitUp(gw, count) {
  for (;;) {
    const s = await (await fetch(`${gw.url}/status`)).json();
    if (s.nodes.filter((n) => n.up).length >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const client = (url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });

async function ttft(c, i) {
  const t0 = performance.now();
  const stream = await c.chat.completions.create({ model: 'bench', stream: true, max_tokens: 1, temperature: 0,
    messages: [{ role: 'user', content: `question ${i}` }] });
  let first;
  // The first token: hearth sends a role-only chunk before it, which the gateway holds back.
  for await (const chunk of stream) if (first === undefined && chunk.choices[0]?.delta?.content) first = performance.now() - t0;
  return first ?? performance.now() - t0;
}

// The same over a raw socket (HTTP/1.1 by hand): the time until the bytes of the first
// token arrive, without a client library's stream set-up, which a held-back role chunk
// moves after the first token.
async function rawTtft(url, i) {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ model: 'bench', stream: true, max_tokens: 1, temperature: 0,
    messages: [{ role: 'user', content: `question ${i}` }] });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.setNoDelay(true);
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n`
        + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    let seen = '';
    let done = false;
    socket.on('data', (d) => {
      seen += d;
      if (!done && /"content":"[^"]/.test(seen)) {
        done = true;
        resolve(performance.now() - t0);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => { if (!done) reject(new Error(`no token: ${seen.slice(0, 200)}`)); });
  });
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function latency() {
  const n = await node();
  const gw = await gateway([n]);
  await waitUp(gw, 1);
  const direct = client(n.url);
  const via = client(gw.url);
  for (let i = 0; i < 20; i++) await ttft(i % 2 ? via : direct, i);  // warm up both paths
  const d = [];
  const g = [];
  for (let i = 0; i < requests; i++) {
    if (i % 2) g.push(await ttft(via, i));
    else d.push(await ttft(direct, i));
  }
  const rd = [];
  const rg = [];
  for (let i = 0; i < requests; i++) {
    if (i % 2) rg.push(await rawTtft(gw.url, i));
    else rd.push(await rawTtft(n.url, i));
  }
  gw.proc.kill('SIGTERM');
  n.proc.kill('SIGTERM');
  console.log(`raw socket, first token bytes: direct p50 ${pct(rd, 0.5).toFixed(2)} ms p99 ${pct(rd, 0.99).toFixed(2)} ms; `
    + `gateway p50 ${pct(rg, 0.5).toFixed(2)} ms p99 ${pct(rg, 0.99).toFixed(2)} ms; `
    + `added p50 ${(pct(rg, 0.5) - pct(rd, 0.5)).toFixed(2)} ms, p99 ${(pct(rg, 0.99) - pct(rd, 0.99)).toFixed(2)} ms`);
  return { p50: pct(g, 0.5) - pct(d, 0.5), p99: pct(g, 0.99) - pct(d, 0.99), d50: pct(d, 0.5), g50: pct(g, 0.5),
    d99: pct(d, 0.99), g99: pct(g, 0.99) };
}

// Generated tokens per second with `clients` streams kept busy for `seconds`.
async function throughput(url, streams) {
  const c = client(url);
  const end = performance.now() + seconds * 1000;
  let generated = 0;
  await Promise.all(Array.from({ length: streams }, async (_, i) => {
    for (let k = 0; performance.now() < end; k++) {
      const stream = await c.chat.completions.create({ model: 'bench', stream: true, max_tokens: tokens, temperature: 0.8,
        messages: [{ role: 'user', content: `client ${i} story ${k}` }], stream_options: { include_usage: true } });
      for await (const chunk of stream) if (chunk.usage) generated += chunk.usage.completion_tokens;
    }
  }));
  return generated / seconds;
}

console.log(`model ${path.basename(model)}, ${cores} cores`);
const lat = await latency();
console.log(`time to first token, ${requests / 2} requests each: direct p50 ${lat.d50.toFixed(2)} ms p99 ${lat.d99.toFixed(2)} ms; `
  + `gateway p50 ${lat.g50.toFixed(2)} ms p99 ${lat.g99.toFixed(2)} ms`);
console.log(`gateway added latency: p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`);

if (cores < 2) {
  console.log('scaling: needs 2 cores');
  process.exit(0);
}
// Rounds alternate one node alone and both behind the gateway, so that the host's drift
// hits both.
const rounds = Number(args.rounds ?? 2);
const one = await node(0);
const other = await node(1);
const gw = await gateway([one, other]);
await waitUp(gw, 2);
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;  // utime + stime, in clock ticks of 1/100 s
};
const alone = [];
const both = [];
const direct = [];  // both nodes, each with its own clients and no gateway: what this host allows
let gatewayCpu = 0;
for (let r = 0; r < rounds; r++) {
  alone.push(await throughput(one.url, clients));
  const cpu0 = cpuSeconds(gw.proc.pid);
  both.push(await throughput(gw.url, 2 * clients));
  gatewayCpu += cpuSeconds(gw.proc.pid) - cpu0;
  direct.push((await Promise.all([throughput(one.url, clients), throughput(other.url, clients)])).reduce((a, b) => a + b));
}
for (const p of [gw, one, other]) p.proc.kill('SIGTERM');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`aggregate tokens/s, ${rounds} rounds of ${seconds} s: 1 node (core 0, ${clients} clients) `
  + `${alone.map((x) => x.toFixed(0)).join(', ')}; 2 nodes (cores 0, 1, ${2 * clients} clients) behind the gateway `
  + `${both.map((x) => x.toFixed(0)).join(', ')}; ratio ${(mean(both) / mean(alone)).toFixed(2)}x`);
console.log(`gateway CPU: ${(1000 * gatewayCpu / (mean(both) * seconds * rounds)).toFixed(3)} s per 1000 tokens relayed`);
console.log(`2 nodes without the gateway (${clients} clients each): ${direct.map((x) => x.toFixed(0)).join(', ')}; `
  + `ratio ${(mean(direct) / mean(alone)).toFixed(2)}x; through the gateway ${(100 * mean(both) / mean(direct)).toFixed(1)}% of that`);
