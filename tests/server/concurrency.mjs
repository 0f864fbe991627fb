// Many clients at once: 16 simultaneous streaming clients (more than the slots, so some
// wait in the queue) each get exactly what they get alone (greedy); a client that aborts
// mid-stream frees its slot at once and the server keeps serving.
import assert from 'node:assert/strict';
import { Server, collectChat, loadOpenAI, requireFile, run, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
const server = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '6', '--queue', '32']);
const client = server.client(OpenAI);
const model = 'stories';
const starts = ['Once upon a time', 'The little dog', 'Lily and Tom', 'One day, a bird', 'The sun was', 'A big red ball',
  'Tim had a toy', 'The cat sat', 'Mom said', 'In the park', 'The old tree', 'Sam wanted', 'A small fish', 'The girl ran',
  'It was a rainy day', 'Ben saw a'];

async function until(cond, ms = 3000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('16 simultaneous streams equal each one alone (greedy)', async () => {
  const req = (content, i) => ({ model, messages: [{ role: 'user', content }], max_tokens: 40 + (i % 4) * 10, temperature: 0 });
  const alone = [];
  for (const [i, s] of starts.entries()) alone.push((await client.chat.completions.create(req(s, i))).choices[0].message.content);
  assert.ok(new Set(alone).size > 8, 'prompts should give different outputs');
  const together = await Promise.all(starts.map(async (s, i) => {
    const { text, chunks } = await collectChat(await client.chat.completions.create({ ...req(s, i), stream: true }));
    return { text, finish: chunks.at(-1).choices[0].finish_reason };
  }));
  together.forEach((t, i) => {
    assert.equal(t.text, alone[i], `client ${i}`);
    assert.ok(['stop', 'length'].includes(t.finish));
  });
  // Non-streaming requests at the same time too.
  const whole = await Promise.all(starts.map((s, i) => client.chat.completions.create(req(s, i))));
  whole.forEach((w, i) => assert.equal(w.choices[0].message.content, alone[i]));
});

test('an aborted stream frees its slot at once; the server keeps serving', async () => {
  const ctl = new AbortController();
  const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Once' }], max_tokens: 100000,
    temperature: 0.8, logit_bias: { 2: -100 }, stream: true }, { signal: ctl.signal });
  let n = 0;
  try {
    for await (const _ of stream) {
      if (++n === 5) ctl.abort();
    }
  } catch (e) {
    assert.ok(e.name === 'APIUserAbortError' || e.name === 'AbortError', e.name);
  }
  assert.equal(await server.metric('hearth_active_sequences') <= 1, true);
  const t0 = Date.now();
  assert.ok(await until(async () => (await server.metric('hearth_active_sequences')) === 0, 2000), 'slot not freed');
  console.log(`  slot freed ${Date.now() - t0} ms after the abort was seen`);
  // Also a non-streaming request whose client goes away while it is generating.
  const ctl2 = new AbortController();
  const pending = client.completions.create({ model, prompt: 'Once', max_tokens: 100000, temperature: 0.8, logit_bias: { 2: -100 } }, { signal: ctl2.signal });
  assert.ok(await until(async () => (await server.metric('hearth_active_sequences')) === 1));
  ctl2.abort();
  await pending.catch(() => {});
  assert.ok(await until(async () => (await server.metric('hearth_active_sequences')) === 0, 2000), 'non-stream slot not freed');
  const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 });
  assert.equal(r.usage.completion_tokens, 5);
  assert.ok((await server.metric('hearth_generated_tokens_total')) > 100);
});

test('SIGINT with streams in flight: clean exit, clients see the stream end', async () => {
  const s = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--ctx-size', '4096']);
  const c = s.client(OpenAI);
  const streams = await Promise.all([0, 1, 2].map(() => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Once' }],
    max_tokens: 4000, logit_bias: { 2: -100 }, stream: true })));
  const reading = streams.map(async (st) => {
    let n = 0;
    try {
      for await (const _ of st) n++;
    } catch {}
    return n;
  });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  s.proc.kill('SIGINT');
  const exit = await s.exited;
  assert.equal(exit.code, 0, s.stderr);
  assert.ok(Date.now() - t0 < 5000);
  const counts = await Promise.all(reading);
  assert.ok(counts.every((n) => n > 0 && n < 4000), JSON.stringify(counts));
});

await run([server]);
