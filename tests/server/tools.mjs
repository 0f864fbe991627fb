// Tools and structured output through the official client on random-weight synthetic
// models: forced tool calls (tool_choice required / named) come back as tool_calls,
// whole and streamed; tool results round-trip through the chat template (Phi-3's from
// the vocab, Qwen3's Hermes format via --chat-template-file); response_format
// json_schema / json_object output parses and follows the schema; tool schemas with
// keywords the grammar cannot enforce still force a call.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, loadOpenAI, requireFile, run, shared, synthModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
const vocab = requireFile(path.join(shared, 'data/vocab/ggml-vocab-phi-3.gguf'), 'Phi-3 vocab');
const qwenTemplate = requireFile(path.join(shared, 'data/templates/Qwen-Qwen3-0.6B.jinja'), 'Qwen3 template');
const modelFile = synthModel('phi3-tools', ['--arch', 'llama', '--vocab', vocab, '--seed', '7']);
const server = await Server.start(['--model', modelFile, '--alias', 'syn', '--threads', '1', '--parallel', '2']);
const qwen = await Server.start(['--model', modelFile, '--alias', 'syn', '--threads', '1', '--chat-template-file', qwenTemplate]);
const client = server.client(OpenAI);
const model = 'syn';

const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'London', 'Tokyo'] },
      metric: { type: 'boolean' } }, required: ['city', 'metric'], additionalProperties: false } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object',
    properties: { zone: { enum: ['UTC', 'CET'] } }, required: ['zone'], additionalProperties: false } } },
];
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

function checkCall(call, name) {
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, name);
  const args = JSON.parse(call.function.arguments);
  if (name === 'get_weather') {
    assert.ok(['Paris', 'London', 'Tokyo'].includes(args.city), call.function.arguments);
    assert.equal(typeof args.metric, 'boolean');
  } else {
    assert.ok(['UTC', 'CET'].includes(args.zone), call.function.arguments);
  }
  return args;
}

test('tool_choice required -> a tool call that parses and names a tool', async () => {
  const r = await client.chat.completions.create({ model, messages, tools, tool_choice: 'required', max_tokens: 200, temperature: 0 });
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.content, null);
  assert.equal(c.message.tool_calls.length, 1);
  checkCall(c.message.tool_calls[0], c.message.tool_calls[0].function.name);
});

test('named tool_choice picks that tool, whole and streamed alike', async () => {
  for (const name of ['get_weather', 'get_time']) {
    const req = { model, messages, tools, tool_choice: { type: 'function', function: { name } }, max_tokens: 200, temperature: 0 };
    const r = await client.chat.completions.create(req);
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    const args = checkCall(r.choices[0].message.tool_calls[0], name);
    const stream = await client.chat.completions.create({ ...req, stream: true });
    const calls = [];
    let finish;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        for (const d of ch.delta.tool_calls ?? []) {
          calls[d.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
          if (d.id) calls[d.index].id = d.id;
          if (d.function?.name) calls[d.index].function.name += d.function.name;
          calls[d.index].function.arguments += d.function?.arguments ?? '';
        }
        finish = ch.finish_reason ?? finish;
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(checkCall(calls[0], name), args);
  }
});

test('tool schemas with keywords the grammar cannot enforce (minimum, format, pattern) still force a call, whole and streamed', async () => {
  // Clients write tool schemas; unenforceable keywords are ignored for tools, not refused.
  const booking = [{ type: 'function', function: { name: 'book_table', parameters: { type: 'object',
    properties: { guests: { type: 'integer', minimum: 1, maximum: 12 },
      // (enums keep a random-weight model's strings short; format/pattern are what is tested)
      date: { type: 'string', format: 'date', enum: ['2026-01-02', '2026-03-04'] },
      room: { type: 'string', pattern: '^[a-z]+$', enum: ['hall', 'patio'] } },
    required: ['guests', 'date', 'room'], additionalProperties: false } } }];
  for (const stream of [false, true]) {
    const req = { model, messages, tools: booking, tool_choice: 'required', max_tokens: 200, temperature: 0 };
    let call, finish;
    if (!stream) {
      const r = await client.chat.completions.create(req);
      assert.ok(r.choices[0].message.tool_calls, JSON.stringify(r.choices[0]));
      call = r.choices[0].message.tool_calls[0];
      finish = r.choices[0].finish_reason;
    } else {
      call = { id: '', function: { name: '', arguments: '' } };
      for await (const chunk of await client.chat.completions.create({ ...req, stream: true })) {
        for (const ch of chunk.choices) {
          for (const d of ch.delta.tool_calls ?? []) {
            if (d.id) call.id = d.id;
            call.function.name += d.function?.name ?? '';
            call.function.arguments += d.function?.arguments ?? '';
          }
          finish = ch.finish_reason ?? finish;
        }
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.match(call.id, /^call_/);
    assert.equal(call.function.name, 'book_table');
    const args = JSON.parse(call.function.arguments);
    assert.ok(Number.isInteger(args.guests), call.function.arguments);
    assert.deepEqual(Object.keys(args).sort(), ['date', 'guests', 'room'], call.function.arguments);
    assert.ok(['2026-01-02', '2026-03-04'].includes(args.date), call.function.arguments);
    assert.ok(['hall', 'patio'].includes(args.room), call.function.arguments);
  }
  // The same keywords in response_format json_schema are still refused: that schema is the contract.
  await assert.rejects(client.chat.completions.create({ model, messages, response_format: { type: 'json_schema',
    json_schema: { name: 'n', schema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } } } } }),
  (e) => e.status === 400);
});

test('tool results round-trip through the template (Phi-3 and Qwen3/Hermes)', async () => {
  const r = await client.chat.completions.create({ model, messages, tools, tool_choice: 'required', max_tokens: 200, temperature: 0 });
  const call = r.choices[0].message.tool_calls[0];
  const followUp = [...messages, { role: 'assistant', content: null, tool_calls: [call] },
    { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' }];
  for (const [s, extra] of [[server, 0], [qwen, 5]]) {
    const c = s.client(OpenAI);
    const a = await c.chat.completions.create({ model, messages: followUp, tools, max_tokens: 8, temperature: 0 });
    assert.ok(['stop', 'length', 'tool_calls'].includes(a.choices[0].finish_reason));
    // The call (and, with Qwen3's template, the tool result) is in the prompt.
    const b = await c.chat.completions.create({ model, messages, tools, max_tokens: 8, temperature: 0 });
    assert.ok(a.usage.prompt_tokens > b.usage.prompt_tokens + extra, `${a.usage.prompt_tokens} vs ${b.usage.prompt_tokens}`);
  }
  // Tools are rendered into the Qwen3 prompt (its template lists them), so they cost tokens.
  const q = qwen.client(OpenAI);
  const withTools = await q.chat.completions.create({ model, messages, tools, max_tokens: 1, temperature: 0 });
  const without = await q.chat.completions.create({ model, messages, max_tokens: 1, temperature: 0 });
  assert.ok(withTools.usage.prompt_tokens > without.usage.prompt_tokens + 20);
  const forced = await q.chat.completions.create({ model, messages, tools, tool_choice: 'required', max_tokens: 200, temperature: 0 });
  checkCall(forced.choices[0].message.tool_calls[0], forced.choices[0].message.tool_calls[0].function.name);
});

test('tool_choice auto (Hermes parser on the output): streamed content equals whole content', async () => {
  const q = qwen.client(OpenAI);
  for (const seed of [1, 2, 3]) {
    const req = { model, messages, tools, tool_choice: 'auto', max_tokens: 40, temperature: 1, seed };
    const whole = await q.chat.completions.create(req);
    let text = '';
    let finish;
    for await (const c of await q.chat.completions.create({ ...req, stream: true })) {
      for (const ch of c.choices) {
        text += ch.delta.content ?? '';
        finish = ch.finish_reason ?? finish;
      }
    }
    assert.equal(text, whole.choices[0].message.content ?? '');
    assert.equal(finish, whole.choices[0].finish_reason);
  }
});

test('response_format json_schema: output parses and validates', async () => {
  const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] }, confident: { type: 'boolean' },
    tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 } }, required: ['answer', 'confident', 'tags'], additionalProperties: false };
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({ model, messages, max_tokens: 300, temperature: 1, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema, strict: true } } });
    assert.equal(r.choices[0].finish_reason, 'stop', r.choices[0].message.content);
    const v = JSON.parse(r.choices[0].message.content);
    assert.deepEqual(Object.keys(v).sort(), ['answer', 'confident', 'tags']);
    assert.ok(['yes', 'no'].includes(v.answer));
    assert.equal(typeof v.confident, 'boolean');
    assert.ok(Array.isArray(v.tags) && v.tags.length <= 3 && v.tags.every((t) => t === 'a' || t === 'b'));
  }
  await assert.rejects(client.chat.completions.create({ model, messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: 'no' } } }),
    (e) => e.status === 400);
});

test('response_format json_object / json_schema: valid JSON that closes within max_tokens', async () => {
  // A random-weight model writes endless strings; near the token budget the constraint
  // steers it to close what is open, so the reply always parses.
  for (const [seed, max_tokens] of [[1, 200], [2, 40], [3, 17], [4, 9]]) {
    const r = await client.chat.completions.create({ model, messages, max_tokens, temperature: 0.7, seed,
      response_format: { type: 'json_object' } });
    const text = r.choices[0].message.content;
    assert.equal(r.choices[0].finish_reason, 'stop', `seed ${seed}, ${max_tokens} tokens: ${text}`);
    assert.ok(r.usage.completion_tokens <= max_tokens);
    const v = JSON.parse(text);
    assert.ok(typeof v === 'object' && !Array.isArray(v) && v !== null, text);
  }
  const schema = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'array', items: { type: 'integer' } } },
    required: ['city', 'days'], additionalProperties: false };
  for (const seed of [5, 6]) {
    const r = await client.chat.completions.create({ model, messages, max_tokens: 40, temperature: 0.9, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'trip', schema } } });
    const v = JSON.parse(r.choices[0].message.content);
    assert.equal(typeof v.city, 'string');
    assert.ok(Array.isArray(v.days) && v.days.every(Number.isInteger), r.choices[0].message.content);
  }
});

await run([server, qwen]);
