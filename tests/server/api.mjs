// OpenAI API behaviour through the official client: models, chat (whole and streamed),
// usage, completions, stop, max_tokens, logprobs, seeds. Model: stories260K.
import assert from 'node:assert/strict';
import { Server, collectChat, loadOpenAI, requireFile, run, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
const server = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '2']);
const client = server.client(OpenAI);
const model = 'stories';
const messages = [{ role: 'user', content: 'Once upon a time' }];

test('models list and retrieve', async () => {
  const list = await client.models.list();
  // The LLMs, then (built with speech) the speech models.
  assert.deepEqual(list.data.filter((m) => m.type !== 'speech').map((m) => m.id), ['stories']);
  assert.equal(list.data[0].id, 'stories');
  assert.equal(list.data[0].object, 'model');
  const m = await client.models.retrieve('stories');
  assert.equal(m.id, 'stories');
  assert.ok(m.created > 1.5e9);
  await assert.rejects(client.models.retrieve('nope'), (e) => e.status === 404 && e.code === 'model_not_found');
});

test('health', async () => {
  const r = await server.fetch('/health');
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'ok' });
});

test('chat: streamed deltas equal the whole reply (greedy)', async () => {
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0 });
  assert.equal(whole.object, 'chat.completion');
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(whole.model, 'stories');
  const choice = whole.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.ok(choice.message.content.length > 0);
  assert.equal(choice.finish_reason, 'length');
  assert.equal(whole.usage.completion_tokens, 24);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 24);
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0, stream: true });
  const { text, chunks } = await collectChat(stream);
  assert.equal(text, choice.message.content);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);
});

test('chat: stream_options.include_usage adds a usage chunk with no choices', async () => {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 7, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  const { chunks } = await collectChat(stream);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 7);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 7);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
});

test('chat: max_completion_tokens and seeded sampling are reproducible', async () => {
  const req = { model, messages, max_completion_tokens: 16, temperature: 0.9, seed: 42 };
  const a = await client.chat.completions.create(req);
  const b = await client.chat.completions.create(req);
  assert.equal(a.usage.completion_tokens, 16);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

test('completions: text, stop strings, finish reasons', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 30, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  const text = r.choices[0].text;
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 30);
  // Stop at a word that appears in the greedy text: output ends right before it.
  const word = text.split(' ').filter((w) => w.length > 3)[1];
  assert.ok(word, text);
  const s = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 30, temperature: 0, stop: [word, 'zzzz'] });
  assert.equal(s.choices[0].finish_reason, 'stop');
  assert.equal(s.choices[0].text, text.slice(0, text.indexOf(word)));
  // Same through chat with a string stop.
  const c = await client.chat.completions.create({ model, messages, max_tokens: 30, temperature: 0 });
  const cw = c.choices[0].message.content.split(' ').filter((w) => w.length > 3)[0];
  const cs = await client.chat.completions.create({ model, messages, max_tokens: 30, temperature: 0, stop: cw });
  assert.equal(cs.choices[0].message.content, c.choices[0].message.content.slice(0, c.choices[0].message.content.indexOf(cw)));
  assert.equal(cs.choices[0].finish_reason, 'stop');
});

test('completions: streamed text equals the whole text; token-id prompts', async () => {
  const whole = await client.completions.create({ model, prompt: 'The cat', max_tokens: 20, temperature: 0 });
  const stream = await client.completions.create({ model, prompt: 'The cat', max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage;
  for await (const c of stream) {
    for (const ch of c.choices) text += ch.text;
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, whole.choices[0].text);
  assert.equal(usage.completion_tokens, 20);
  const ids = await client.completions.create({ model, prompt: [1, 403, 200], max_tokens: 5, temperature: 0 });
  assert.equal(ids.usage.prompt_tokens, 3);
});

test('chat logprobs: per token, top alternatives sorted, text matches', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 3 });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, 10);
  assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    // Greedy: the sampled token is the most likely one.
    assert.equal(t.top_logprobs[0].token, t.token);
    assert.ok(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-5);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
  }
  // Streamed: the same entries spread over the chunks.
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 3, stream: true });
  const streamed = [];
  for await (const c of stream) for (const ch of c.choices) streamed.push(...(ch.logprobs?.content ?? []));
  assert.deepEqual(streamed.map((t) => t.token), content.map((t) => t.token));
});

test('completions logprobs: tokens, offsets, top_logprobs', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.length, 8);
  assert.equal(lp.tokens.join(''), r.choices[0].text);
  let off = 0;
  lp.tokens.forEach((t, i) => {
    assert.equal(lp.text_offset[i], off);
    off += Buffer.byteLength(t);
    assert.equal(Object.keys(lp.top_logprobs[i]).length, 2);
    assert.ok(lp.token_logprobs[i] <= 0);
  });
});

test('logit_bias -100 bans the greedy token', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 1, temperature: 0, logprobs: 1 });
  const first = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 1, temperature: 0, logprobs: 0 });
  assert.equal(first.choices[0].text, r.choices[0].text);
  // Find the id of the greedy token by tokenizing through a token-id prompt round trip is not
  // possible over the API; instead ban a range of ids and check the text changed.
  const bias = {};
  for (let i = 0; i < 512; i++) bias[i] = -100;
  const banned = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 3, temperature: 0, logit_bias: bias });
  assert.notEqual(banned.choices[0].text.slice(0, r.choices[0].text.length), r.choices[0].text);
});

test('presence/frequency penalties change greedy output', async () => {
  const base = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 60, temperature: 0 });
  const pen = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 60, temperature: 0, frequency_penalty: 2, presence_penalty: 2 });
  assert.notEqual(pen.choices[0].text, base.choices[0].text);
});

test('metrics count requests, tokens and time to first token', async () => {
  const text = await (await server.fetch('/metrics')).text();
  const num = (re) => Number(text.match(re)?.[1]);
  assert.ok(num(/^hearth_requests_total\{route="\/v1\/chat\/completions",status="200"\} (\d+)$/m) >= 8);
  assert.ok(num(/^hearth_requests_total\{route="\/v1\/models\/\{id\}",status="404"\} (\d+)$/m) >= 1);
  assert.ok(num(/^hearth_generated_tokens_total (\d+)$/m) > 200);
  assert.ok(num(/^hearth_prompt_tokens_total (\d+)$/m) > 50);
  assert.ok(num(/^hearth_time_to_first_token_seconds_count (\d+)$/m) >= 10);
  assert.ok(num(/^hearth_request_duration_seconds_count (\d+)$/m) >= 15);
  assert.equal(num(/^hearth_active_sequences (\d+)$/m), 0);
  assert.equal(num(/^hearth_models_loaded (\d+)$/m), 1);
});

await run([server]);
