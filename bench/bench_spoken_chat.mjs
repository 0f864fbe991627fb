#!/usr/bin/env node
// Spoken chat benchmark (streamed chat completions with modalities ["text", "audio"],
// pcm16, the built-in voice), two numbers:
//  1. First audio after the first sentence: time from the request to the first audio
//     delta, minus the time to the text delta that completes the first spoken sentence
//     (synthesis of that sentence plus overhead), p50 and max over the rounds. Model:
//     the trained stories260K (../shared), so that replies are real sentences.
//  2. Speech's cost on the whole reply: wall time of the spoken reply over the same
//     request as text only (greedy, ignore_eos: the same tokens), alternated round by
//     round. It only means something while the LLM is the slower of the two, as on a
//     user's machine: the model here is a random-weight llama with stories260K's
//     vocabulary, sized to generate at a few tens of tokens per second on --threads.
// Usage (repo root, after make build and scripts/setup-reference.sh):
//   node bench/bench_spoken_chat.mjs [--rounds 8] [--tokens 200] [--threads 1] [--voice alloy]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { args, build, loadOpenAI, root, startHearth } from './bench_support.mjs';

const rounds = Number(args.rounds ?? 8);
const tokens = Number(args.tokens ?? 200);
const threads = String(args.threads ?? 1);
const voice = args.voice ?? 'alloy';
const stories = path.resolve(root, '../shared/data/llm/derived/stories260K-converted.gguf');
if (!existsSync(stories)) {
  console.error(`needs ${stories}`);
  process.exit(1);
}
const OpenAI = await loadOpenAI();

// One --models-dir with both: stories.gguf (a link) and paced.gguf.
const dir = path.join(build, 'bench-models', 'spoken');
mkdirSync(dir, { recursive: true });
if (!existsSync(path.join(dir, 'stories.gguf'))) symlinkSync(stories, path.join(dir, 'stories.gguf'));
const paced = path.join(dir, 'paced.gguf');
if (!existsSync(paced)) {
  execFileSync(path.join(build, 'bin/hearth-synth'), ['--arch', 'llama', '--embd', '1024', '--layers', '12', '--heads', '16',
    '--kv-heads', '4', '--ff', '3072', '--type', 'F16', '--vocab', stories, '-o', paced], { stdio: 'ignore' });
}

const readable = (text) => text.replace(/\s+/g, ' ').trim();

// One streamed request: when each kind of delta arrived (ms since the request).
async function streamed(client, body) {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ ...body, stream: true });
  const r = { content: [], audio: [], end: 0 };
  let text = '';
  for await (const c of stream) {
    const d = c.choices[0]?.delta;
    const at = performance.now() - t0;
    if (d?.content) {
      text += d.content;
      r.content.push({ at, text });
    }
    if (d?.audio?.data) r.audio.push({ at, transcript: d.audio.transcript ?? '', bytes: (d.audio.data.length * 3) / 4 });
  }
  r.end = performance.now() - t0;
  return r;
}

const request = (model, spoken, extra = {}) => ({
  model, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: tokens, temperature: 0,
  ...(spoken ? { modalities: ['text', 'audio'], audio: { voice, format: 'pcm16' } } : {}), ...extra,
});

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const server = await startHearth(['serve', '--models-dir', dir, '--max-loaded', '2', '--port', '0', '--threads', threads, '--parallel', '1', '--no-access-log']);
try {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
  await streamed(client, request('stories', true, { max_tokens: 8 }));  // voices loaded, caches warm

  // 1. First audio after the first sentence.
  const gaps = [], firstAudio = [], firstSentence = [];
  for (let i = 0; i < rounds; i++) {
    const r = await streamed(client, request('stories', true, { seed: i, temperature: 0.8 }));
    const first = r.audio[0];
    if (!first) continue;
    // The text delta after which the reply's words hold the whole first spoken sentence.
    const done = r.content.find((c) => readable(c.text).length > first.transcript.length &&
      readable(c.text).startsWith(first.transcript)) ?? r.content.at(-1);
    gaps.push(first.at - done.at);
    firstAudio.push(first.at);
    firstSentence.push(done.at);
  }
  console.log(`first audio: p50 ${pct(firstAudio, 0.5).toFixed(1)} ms after the request; first sentence of text p50 ` +
    `${pct(firstSentence, 0.5).toFixed(1)} ms; gap p50 ${pct(gaps, 0.5).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms ` +
    `(${gaps.length} rounds, stories260K, threads ${threads})`);

  // 2. Speech's cost on the whole reply, with the LLM at a realistic pace.
  const extra = { ignore_eos: true };
  await streamed(client, request('paced', false, { max_tokens: 8, ...extra }));
  const text = [], spoken = [];
  let audioSeconds = 0;
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const s of order) {
      const r = await streamed(client, request('paced', s, extra));
      (s ? spoken : text).push(r.end);
      if (s) audioSeconds = r.audio.reduce((a, x) => a + x.bytes, 0) / 2 / 24000;
    }
  }
  const ratio = pct(spoken, 0.5) / pct(text, 0.5);
  console.log(`whole reply (${tokens} tokens, ${(tokens / (pct(text, 0.5) / 1000)).toFixed(1)} tok/s): text only p50 ` +
    `${pct(text, 0.5).toFixed(0)} ms, spoken p50 ${pct(spoken, 0.5).toFixed(0)} ms (${audioSeconds.toFixed(1)} s of audio): ` +
    `${ratio.toFixed(3)}x`);
} finally {
  server.proc.kill('SIGTERM');
}
