// Every error path returns an OpenAI error object with the right status, and none of
// them hurts the server: API key, malformed JSON, bad fields, unknown model, context
// overflow, queue full, body too large, unknown route, wrong method, raw garbage,
// and static files without path traversal.
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, loadOpenAI, requireFile, run, scratchDir, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
const ui = path.join(scratchDir(), 'ui');
mkdirSync(path.join(ui, 'js'), { recursive: true });
writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>hearth</title>');
writeFileSync(path.join(ui, 'js', 'app.js'), 'console.log(1)');
writeFileSync(path.join(scratchDir(), 'secret.txt'), 'do not serve');

const server = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '1',
  '--ctx-size', '128', '--max-body-bytes', '4096', '--api-key', 'sekret', '--ui-dir', ui]);
const client = server.client(OpenAI, { apiKey: 'sekret' });
const model = 'stories';
const messages = [{ role: 'user', content: 'Hi' }];
const auth = { Authorization: 'Bearer sekret', 'Content-Type': 'application/json' };

async function expectError(promise, status, { code, param, type } = {}) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status, e.message);
    if (code !== undefined) assert.equal(e.code, code);
    if (param !== undefined) assert.equal(e.param, param);
    assert.equal(e.type ?? e.error?.type, type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'));
    return true;
  });
}

async function rawPost(route, body, headers = auth) {
  const r = await server.fetch(route, { method: 'POST', headers, body });
  return { status: r.status, body: await r.json() };
}

function errorShape(body) {
  assert.equal(typeof body.error.message, 'string');
  assert.ok('type' in body.error && 'param' in body.error && 'code' in body.error, JSON.stringify(body));
}

test('API key: missing or wrong -> 401 invalid_api_key; health and metrics stay open', async () => {
  await expectError(server.client(OpenAI, { apiKey: 'wrong' }).models.list(), 401, { code: 'invalid_api_key' });
  const r = await server.fetch('/v1/models');
  assert.equal(r.status, 401);
  errorShape(await r.json());
  assert.equal((await server.fetch('/health')).status, 200);
  assert.equal((await server.fetch('/metrics')).status, 200);
  assert.equal((await client.models.list()).data[0].id, 'stories');
});

test('malformed JSON -> 400 invalid_request_error', async () => {
  for (const body of ['{', '{"model": "stories", "messages": [}', 'null', '[1,2]', '"x"', '']) {
    const r = await rawPost('/v1/chat/completions', body);
    assert.equal(r.status, 400, body);
    errorShape(r.body);
    assert.equal(r.body.error.type, 'invalid_request_error');
  }
});

test('missing and invalid fields -> 400 naming the param', async () => {
  const cases = [
    [{ messages }, 'model'],
    [{ model }, 'messages'],
    [{ model, messages: [] }, 'messages'],
    [{ model, messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ model, messages: [{ role: 'user' }] }, 'messages[0].content'],
    [{ model, messages, temperature: 3 }, 'temperature'],
    [{ model, messages, temperature: 'hot' }, 'temperature'],
    [{ model, messages, top_p: -1 }, 'top_p'],
    [{ model, messages, max_tokens: 0 }, 'max_tokens'],
    [{ model, messages, max_tokens: 1.5 }, 'max_tokens'],
    [{ model, messages, n: 2 }, 'n'],
    [{ model, messages, stop: 5 }, 'stop'],
    [{ model, messages, stop: ['a', 3] }, 'stop'],
    [{ model, messages, presence_penalty: 9 }, 'presence_penalty'],
    [{ model, messages, logit_bias: { abc: 1 } }, 'logit_bias'],
    [{ model, messages, logit_bias: { 999999: 1 } }, 'logit_bias'],
    [{ model, messages, logit_bias: { 5: 500 } }, 'logit_bias'],
    [{ model, messages, top_logprobs: 3 }, 'top_logprobs'],
    [{ model, messages, logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    [{ model, messages, stream_options: { include_usage: true } }, 'stream_options'],
    [{ model, messages, tools: 'x' }, 'tools'],
    [{ model, messages, tools: [{ type: 5 }] }, 'tools[0].type'],
    [{ model, messages, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 5 } }, 'tool_choice'],
    [{ model, messages, tools: [{ type: 'function', function: { name: 'f', parameters: 3 } }] }, 'tools[0].function.parameters'],
    [{ model, messages, response_format: { type: 5 } }, 'response_format'],
    [{ model, messages, tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
    [{ model, messages, tool_choice: 'required' }, 'tool_choice'],
    [{ model, messages, response_format: { type: 'yaml' } }, 'response_format.type'],
    [{ model, messages, seed: 'x' }, 'seed'],
  ];
  for (const [body, param] of cases) {
    await expectError(client.chat.completions.create(body), 400, { param });
  }
  await expectError(client.completions.create({ model }), 400, { param: 'prompt' });
  await expectError(client.completions.create({ model, prompt: ['a', 'b'] }), 400, { param: 'prompt' });
  await expectError(client.completions.create({ model, prompt: [1, 99999] }), 400, { param: 'prompt' });
  await expectError(client.completions.create({ model, prompt: 'x', logprobs: 9 }), 400, { param: 'logprobs' });
});

test('unknown model -> 404 model_not_found', async () => {
  await expectError(client.chat.completions.create({ model: 'gpt-4o', messages }), 404, { code: 'model_not_found' });
  await expectError(client.completions.create({ model: '../stories', prompt: 'x' }), 404, { code: 'model_not_found' });
});

test('prompt longer than the context -> 400 context_length_exceeded', async () => {
  const long = 'Once upon a time there was a cat. '.repeat(40);
  await expectError(client.chat.completions.create({ model, messages: [{ role: 'user', content: long }] }), 400,
    { code: 'context_length_exceeded' });
  await expectError(client.completions.create({ model, prompt: long }), 400, { code: 'context_length_exceeded', param: 'prompt' });
});

test('queue full -> 503 while the only slot is busy', async () => {
  // A long generation (end-of-text banned, 4000 tokens) keeps the one slot busy.
  const one = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '1',
    '--queue', '0', '--ctx-size', '4096']);
  const client = one.client(OpenAI);
  const ctl = new AbortController();
  const busy = await client.chat.completions.create({ model, messages, max_tokens: 4000, logit_bias: { 2: -100 }, stream: true },
    { signal: ctl.signal });
  const it = busy[Symbol.asyncIterator]();
  await it.next();  // the slot is taken once the first chunk arrived
  await expectError(client.chat.completions.create({ model, messages, max_tokens: 4 }), 503);
  ctl.abort();
  await it.next().catch(() => {});
  // The slot comes back.
  for (let i = 0; i < 100 && (await one.metric('hearth_active_sequences')) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  const ok = await client.chat.completions.create({ model, messages, max_tokens: 4 });
  assert.equal(ok.usage.completion_tokens, 4);
  await one.stop();
});

test('body over --max-body-bytes -> 413, with the request id and an access log line', async () => {
  const big = JSON.stringify({ model, messages: [{ role: 'user', content: 'x'.repeat(8000) }] });
  const r = await rawPost('/v1/chat/completions', big);
  assert.equal(r.status, 413);
  errorShape(r.body);
  const id = 'req-too-large-1';
  const res = await server.fetch('/v1/chat/completions', { method: 'POST', headers: { ...auth, 'x-request-id': id }, body: big });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get('x-request-id'), id, 'refused requests carry their id too');
  await res.arrayBuffer();
  await new Promise((done) => setTimeout(done, 50));
  assert.match(server.stderr, new RegExp(`${id} POST /v1/chat/completions .*status=413`));
});

test('unknown route 404, wrong method 405 with Allow', async () => {
  let r = await server.fetch('/v1/nothing', { headers: auth });
  assert.equal(r.status, 404);
  errorShape(await r.json());
  r = await server.fetch('/v1/chat/completions', { headers: auth });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
  errorShape(await r.json());
  r = await server.fetch('/v1/models', { method: 'DELETE', headers: auth });
  assert.equal(r.status, 405);
  r = await server.fetch('/health', { method: 'POST' });
  assert.equal(r.status, 405);
  // Percent-decoded bytes that are not UTF-8 end up in the message: still a 404, not a 500.
  for (const route of ['/v1/models/%FFx', '/v1/%C3%28']) {
    r = await server.fetch(route, { headers: auth });
    assert.equal(r.status, 404, route);
    errorShape(await r.json());
  }
});

test('static UI files with MIME types and no path traversal', async () => {
  let r = await server.fetch('/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(await r.text(), /<title>hearth/);
  r = await server.fetch('/js/app.js');
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/js/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/nope.html', '/%00']) {
    r = await sendRaw(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(r, /^HTTP\/1\.1 (404|400)/, p);
    assert.doesNotMatch(r, /do not serve/);
  }
});

// With `keepOpen` the socket is not half-closed after writing: a peer that closes its
// side while a request runs counts as gone, so its generation would be cancelled.
function sendRaw(bytes, { keepOpen = false } = {}) {
  return new Promise((resolve) => {
    const u = new URL(server.url);
    const sock = net.connect(Number(u.port), u.hostname, () => (keepOpen ? sock.write(bytes) : sock.end(bytes)));
    let out = '';
    sock.on('data', (d) => { out += d; });
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(out));
  });
}

test('Expect: 100-continue gets an interim response, then the answer', async () => {
  const body = JSON.stringify({ model, messages, max_tokens: 2 });
  const r = await sendRaw(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekret\r\n` +
    `Content-Type: application/json\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { keepOpen: true });
  assert.match(r, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  assert.match(r, /"completion_tokens":2/);
});

test('HTTP/1.0 streaming: no chunked framing, closed at the end', async () => {
  const body = JSON.stringify({ model, messages, max_tokens: 3, stream: true });
  const r = await sendRaw(`POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer sekret\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`, { keepOpen: true });
  assert.match(r, /^HTTP\/1\.1 200 OK/);
  assert.doesNotMatch(r, /Transfer-Encoding/i);
  assert.match(r, /\r\n\r\ndata: \{/);
  assert.ok(r.endsWith('data: [DONE]\n\n'), r.slice(-40));
});

test('garbage bytes and broken HTTP never crash the server', async () => {
  const junk = [
    'NOT HTTP AT ALL\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a"',
    'POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    `GET /${'a'.repeat(100000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    '\x00\x01\x02\xff'.repeat(100),
  ];
  for (const j of junk) await sendRaw(j);
  const bodies = [{ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] },
    { model, messages: [{ role: 'user', content: 5 }] }, { model, messages: 'x' }, { model: 5, messages }];
  for (const b of bodies) {
    const r = await rawPost('/v1/chat/completions', JSON.stringify({ ...b, max_tokens: 2 }));
    assert.ok(r.status === 200 || r.status === 400, JSON.stringify(r));
  }
  assert.equal((await server.fetch('/health')).status, 200);
});

test('deeply nested JSON -> 400 without hurting the server', async () => {
  const deep = (d) => '['.repeat(d) + ']'.repeat(d);
  let r = await rawPost('/v1/chat/completions', `{"model":"stories","messages":[{"role":"user","content":"hi","x":${deep(100000)}}]}`);
  assert.equal(r.status, 413);  // over --max-body-bytes first
  r = await rawPost('/v1/chat/completions', `{"model":"stories","messages":[{"role":"user","content":"hi","x":${deep(1000)}}]}`);
  assert.equal(r.status, 400);
  const schema = '{"type":"array","items":'.repeat(100) + '{}' + '}'.repeat(100);
  r = await rawPost('/v1/chat/completions', `{"model":"stories","messages":[{"role":"user","content":"hi"}],"tool_choice":"required",` +
    `"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`);
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /nested/);
  assert.equal((await server.fetch('/health')).status, 200);
});

test('random request bodies: only 200 or 4xx, never 5xx', async () => {
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const vals = [null, true, false, 0, -1, 1.5, 1e308, 'x', '', [], {}, [1], { a: 1 }, 'user', 'function', 2 ** 64, '\ud800'];
  const keys = ['model', 'messages', 'max_tokens', 'temperature', 'top_p', 'stop', 'n', 'logprobs', 'top_logprobs', 'stream',
    'stream_options', 'tools', 'tool_choice', 'response_format', 'logit_bias', 'seed', 'presence_penalty', 'prompt', 'echo',
    'role', 'content', 'type', 'function', 'name', 'parameters', 'json_schema', 'schema'];
  const any = (d) => {
    const r = rand(4);
    if (d > 3 || r < 2) return vals[rand(vals.length)];
    if (r === 2) return Array.from({ length: rand(4) }, () => any(d + 1));
    return Object.fromEntries(Array.from({ length: rand(4) }, () => [keys[rand(keys.length)], any(d + 1)]));
  };
  const counts = {};
  for (let i = 0; i < 300; i++) {
    const body = { model, max_tokens: 3 };
    for (let k = rand(3); k > 0; k--) body[keys[rand(keys.length)]] = any(0);
    if (rand(2)) body.messages = Array.from({ length: 1 + rand(3) }, () => ({ role: ['user', 'system', 'assistant', 'tool'][rand(4)], content: any(1) }));
    if (rand(3) === 0) {
      body.tools = [{ type: 'function', function: { name: 'f', parameters: any(1) } }];
      body.tool_choice = ['required', 'auto', { type: 'function', function: { name: 'f' } }][rand(3)];
    }
    const r = await rawPost(rand(2) ? '/v1/chat/completions' : '/v1/completions', JSON.stringify(body));
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${r.status} for ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
  }
  console.log(`  statuses ${JSON.stringify(counts)}`);
});

const slow = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--ctx-size', '4096', '--timeout', '0.2']);

test('per-request --timeout -> 504 (whole) or an error event (stream), slot freed', async () => {
  const c = slow.client(OpenAI);
  const req = { model, messages, max_tokens: 4000, logit_bias: { 2: -100 }, temperature: 0.8 };
  const t0 = Date.now();
  await expectError(c.chat.completions.create(req), 504, { code: 'timeout' });
  assert.ok(Date.now() - t0 < 2000);
  const r = await slow.fetch('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...req, stream: true }) });
  const text = await r.text();
  assert.equal(r.status, 200);
  assert.match(text, /"code":"timeout"/);
  assert.doesNotMatch(text, /\[DONE\]/);
  for (let i = 0; i < 100 && (await slow.metric('hearth_active_sequences')) !== 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(await slow.metric('hearth_active_sequences'), 0);
});

await run([server, slow]);
