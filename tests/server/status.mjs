// What a gateway reads of `hearth serve`: GET /status (models loaded or on demand, slots,
// queue, KV use; the API key's rule), X-Request-Id on every response, the access log, the
// start banner, and joining a gateway: heartbeats with the join key, a leave on SIGTERM (then the
// running stream finishes before the exit),
// refusals and an unreachable gateway logged once each, a clean exit either way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Server, bin, run, scratchDir, synthModel, test } from './harness.mjs';

// Slow enough (~3 ms a token on one thread) that streams are still running when we look.
const slowModel = synthModel('status-slow', ['--arch', 'llama', '--embd', '768', '--layers', '6', '--ff', '3072',
  '--heads', '12', '--kv-heads', '4', '--type', 'Q8_0', '--seed', '3']);
const dir = path.join(scratchDir(), 'status-models');
mkdirSync(dir, { recursive: true });
copyFileSync(synthModel('a', ['--arch', 'llama', '--seed', '1']), path.join(dir, 'alpha.gguf'));

// A stand-in for `hearth gateway`: records what nodes send it; answers `reply`.
async function fakeGateway(reply = { status: 200, body: '{"ok":true}' }) {
  const g = { requests: [], reply };
  g.server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      g.requests.push({ method: req.method, path: req.url, auth: req.headers.authorization, json, at: Date.now() });
      res.writeHead(g.reply.status, { 'Content-Type': 'application/json' });
      res.end(g.reply.body);
    });
  });
  await new Promise((resolve) => g.server.listen(0, '127.0.0.1', resolve));
  g.url = `http://127.0.0.1:${g.server.address().port}`;
  g.close = () => new Promise((resolve) => { g.server.close(resolve); g.server.closeAllConnections(); });
  g.of = (p) => g.requests.filter((r) => r.path === p);
  return g;
}

// Servers still running when the script ends (a failed case) must not outlive it.
const started = [];
process.on('exit', () => started.forEach((s) => s.proc.kill('SIGKILL')));
async function startServer(args) {
  const s = await Server.start(args);
  started.push(s);
  return s;
}

async function until(cond, ms = 3000) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > ms) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const KEY = 'sekrit';
const auth = { Authorization: `Bearer ${KEY}` };
const json = { ...auth, 'Content-Type': 'application/json' };
const gateway = await fakeGateway();
const server = await startServer(['--model', slowModel, '--alias', 'slow', '--models-dir', dir, '--api-key', KEY,
  '--parallel', '2', '--queue', '8', '--threads', '1', '--ctx-size', '512',
  '--join', gateway.url, '--join-key', 'join-sekrit', '--heartbeat', '0.3']);

async function status(s = server) {
  const r = await s.fetch('/status', { headers: auth });
  assert.equal(r.status, 200);
  return r.json();
}
const model = (st, id) => st.models.find((m) => m.id === id);
const generatedId = /^req-[0-9a-f]{16}$/;
// The access-log line of a request, once written (after its response).
const logLine = (s, id) => until(() => s.stderr.split('\n').find((l) => l.split(' ')[1] === id), 2000);

test('/status needs the API key and answers GET and HEAD only', async () => {
  let r = await server.fetch('/status');
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'invalid_api_key');
  r = await server.fetch('/status', { headers: { Authorization: 'Bearer wrong' } });
  assert.equal(r.status, 401);
  r = await server.fetch('/status', { method: 'POST', headers: auth });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET');
  assert.equal((await server.fetch('/status', { method: 'HEAD', headers: auth })).status, 200);
  assert.equal((await server.fetch('/status', { headers: auth })).status, 200);
});

test('/status lists every model, loaded or on demand, with slots and KV', async () => {
  const st = await status();
  assert.deepEqual(Object.keys(st), ['object', 'version', 'slots_total', 'slots_busy', 'queued', 'models', 'voices', 'speech_models']);
  assert.equal(st.object, 'hearth.status');
  assert.match(st.version, /^(\d+\.\d+\.\d+|dev)$/);
  assert.deepEqual(st.models.map((m) => m.id), ['slow', 'alpha']);
  assert.deepEqual(model(st, 'slow'), { id: 'slow', loaded: true, slots_total: 2, slots_busy: 0, queued: 0,
    kv_tokens_used: 0, kv_tokens_total: 1024 });
  assert.deepEqual(model(st, 'alpha'), { id: 'alpha', loaded: false, slots_total: 2, slots_busy: 0, queued: 0,
    kv_tokens_used: 0, kv_tokens_total: 0 });
  assert.equal(st.slots_total, 2);  // loaded models only
  assert.equal(st.slots_busy, 0);
  assert.equal(st.queued, 0);
  // The voices /v1/audio/voices lists (built with speech), or none.
  const v = await server.fetch('/v1/audio/voices', { headers: auth });
  const expected = v.status === 200 ? (await v.json()).data.map((x) => x.id) : [];
  assert.deepEqual(st.voices, expected);
  if (v.status === 200) assert.ok(st.voices.includes('builtin:en-us'));
});

test('/status counts busy slots and the queue while streams run, and KV in use; 0 after', async () => {
  const body = (i) => JSON.stringify({ model: 'slow', prompt: `stream number ${i}`, max_tokens: 400, ignore_eos: true,
    temperature: 0, stream: true });
  // The heads arrive once each request is in the engine (admitted or queued).
  const responses = await Promise.all([0, 1, 2].map((i) =>
    server.fetch('/v1/completions', { method: 'POST', headers: json, body: body(i) })));
  responses.forEach((r) => assert.equal(r.status, 200));
  const busy = await until(async () => {
    const st = await status();
    return st.slots_busy === 2 && st.queued === 1 ? st : undefined;
  });
  assert.ok(busy, `expected 2 busy slots and 1 queued: ${JSON.stringify(await status())}`);
  const slow = model(busy, 'slow');
  assert.equal(slow.slots_busy, 2);
  assert.equal(slow.queued, 1);
  assert.ok(slow.kv_tokens_used > 0 && slow.kv_tokens_used <= slow.kv_tokens_total, JSON.stringify(slow));
  const texts = await Promise.all(responses.map((r) => r.text()));
  texts.forEach((t) => assert.match(t, /data: \[DONE\]/));
  const after = await status();
  assert.equal(after.slots_busy, 0);
  assert.equal(after.queued, 0);
  assert.equal(model(after, 'slow').slots_busy, 0);
  // The slots keep what they evaluated as prefix caches: prompt and 400 tokens each.
  assert.ok(model(after, 'slow').kv_tokens_used >= 2 * 400, JSON.stringify(model(after, 'slow')));
});

test('an on-demand model shows loaded:false, then loaded:true with its engine\'s numbers after use', async () => {
  assert.equal(model(await status(), 'alpha').loaded, false);
  const r = await server.fetch('/v1/completions', { method: 'POST', headers: json,
    body: JSON.stringify({ model: 'alpha', prompt: 'hello', max_tokens: 3, ignore_eos: true }) });
  assert.equal(r.status, 200);
  const usage = (await r.json()).usage;
  const st = await status();
  const alpha = model(st, 'alpha');
  assert.equal(alpha.loaded, true);
  assert.equal(alpha.slots_total, 2);
  assert.equal(alpha.kv_tokens_total, 1024);
  assert.equal(alpha.kv_tokens_used, usage.prompt_tokens + usage.completion_tokens - 1);  // the last token is not evaluated
  assert.equal(st.slots_total, 4);
});

test('X-Request-Id: echoed when given, generated otherwise, on JSON, stream and error responses', async () => {
  let r = await server.fetch('/v1/models', { headers: { ...auth, 'X-Request-Id': 'given-1' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'given-1');
  const a = (await server.fetch('/health')).headers.get('x-request-id');
  const b = (await server.fetch('/health')).headers.get('x-request-id');
  assert.match(a, generatedId);
  assert.match(b, generatedId);
  assert.notEqual(a, b);
  r = await server.fetch('/v1/chat/completions', { method: 'POST', headers: { ...json, 'X-Request-Id': 'stream-7' },
    body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true }) });
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  assert.equal(r.headers.get('x-request-id'), 'stream-7');
  await r.text();
  r = await server.fetch('/v1/chat/completions', { method: 'POST', headers: { ...json, 'X-Request-Id': 'bad-json' },
    body: '{' });
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('x-request-id'), 'bad-json');
  r = await server.fetch('/status', { headers: { 'X-Request-Id': 'no-key' } });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('x-request-id'), 'no-key');
  r = await server.fetch('/nowhere');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('x-request-id'), generatedId);
  r = await server.fetch('/v1/models', { method: 'POST', headers: { ...auth, 'X-Request-Id': 'wrong-method' } });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('x-request-id'), 'wrong-method');
  // Not passed on: too long, or with characters that do not belong in a log line.
  r = await server.fetch('/health', { headers: { 'X-Request-Id': 'x'.repeat(129) } });
  assert.match(r.headers.get('x-request-id'), generatedId);
  r = await server.fetch('/health', { headers: { 'X-Request-Id': 'two words' } });
  assert.match(r.headers.get('x-request-id'), generatedId);
  r = await server.fetch('/health', { headers: { 'X-Request-Id': 'y'.repeat(128) } });
  assert.equal(r.headers.get('x-request-id'), 'y'.repeat(128));
});

test('the access log has a line per request: status, model, tokens, time to first token', async () => {
  const r = await server.fetch('/v1/completions', { method: 'POST', headers: { ...json, 'X-Request-Id': 'log-1' },
    body: JSON.stringify({ model: 'slow', prompt: 'count me', max_tokens: 5, ignore_eos: true }) });
  const usage = (await r.json()).usage;
  let line = await logLine(server, 'log-1');
  assert.ok(line, server.stderr);
  const m = line.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) log-1 POST \/v1\/completions model=slow status=200 prompt=(\d+) completion=5 ttft_ms=(\d+\.\d) ms=(\d+\.\d)$/);
  assert.ok(m, line);
  assert.ok(Math.abs(Date.parse(m[1]) - Date.now()) < 60000, line);
  assert.equal(Number(m[2]), usage.prompt_tokens);
  assert.ok(Number(m[3]) > 0 && Number(m[3]) <= Number(m[4]), line);
  // A stream's line too, with its tokens.
  const s = await server.fetch('/v1/chat/completions', { method: 'POST', headers: { ...json, 'X-Request-Id': 'log-2' },
    body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ignore_eos: true,
      stream: true }) });
  await s.text();
  line = await logLine(server, 'log-2');
  assert.match(line ?? '', / log-2 POST \/v1\/chat\/completions model=slow status=200 prompt=\d+ completion=4 ttft_ms=\d+\.\d ms=\d+\.\d$/);
  // Errors and routes without tokens: '-' where nothing applies.
  await server.fetch('/status', { headers: { 'X-Request-Id': 'log-3' } });
  line = await logLine(server, 'log-3');
  assert.match(line ?? '', / log-3 GET \/status model=- status=401 prompt=- completion=- ttft_ms=- ms=\d+\.\d$/);
  await server.fetch('/v1/completions', { method: 'POST', headers: { ...json, 'X-Request-Id': 'log-4' },
    body: JSON.stringify({ model: 'nosuch', prompt: 'x' }) });
  line = await logLine(server, 'log-4');
  assert.match(line ?? '', / log-4 POST \/v1\/completions model=nosuch status=404 prompt=- completion=- ttft_ms=- ms=/);
});

test('the start banner names the models, device, API key and gateway', () => {
  const e = server.stderr;
  assert.match(e, /serving on http:\/\/127\.0\.0\.1:\d+/);
  assert.ok(e.includes(`model slow: loaded, ${slowModel}`), e);
  assert.ok(e.includes(`model alpha: on demand, ${path.join(dir, 'alpha.gguf')}`), e);
  assert.match(e, /\n {2}device: \S+/);
  assert.match(e, /API key: required/);
  assert.ok(e.includes(`gateway: joining ${gateway.url} as ${server.url} every 0.3s`), e);
});

test('joins the gateway: heartbeats with the join key, the URL and the API key', async () => {
  const t0 = Date.now();
  const before = gateway.of('/gateway/join').length;
  await new Promise((r) => setTimeout(r, 1000));
  const beats = gateway.of('/gateway/join');
  const recent = beats.length - before;
  assert.ok(recent >= 2 && recent <= 5, `${recent} heartbeats in ${Date.now() - t0} ms at 0.3 s`);
  for (const b of beats) {
    assert.equal(b.method, 'POST');
    assert.equal(b.auth, 'Bearer join-sekrit');
    assert.deepEqual(b.json, { url: server.url, api_key: KEY, heartbeat: 0.3 });
  }
  // Logged once, not once per heartbeat.
  assert.equal(server.stderr.split(`join: registered with ${gateway.url} as ${server.url}`).length - 1, 1, server.stderr);
  assert.equal(gateway.of('/gateway/leave').length, 0);
});

test('SIGTERM: leaves the gateway at once, finishes its running stream, exits 0', async () => {
  const r = await server.fetch('/v1/completions', { method: 'POST', headers: json, body: JSON.stringify({ model: 'slow',
    prompt: 'a last stream', max_tokens: 200, ignore_eos: true, temperature: 0, stream: true }) });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  await reader.read();  // the stream runs
  const t0 = Date.now();
  const stopped = server.stop();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  assert.match(text, /"finish_reason":"length"/, 'the stream ran to its end');
  assert.match(text, /data: \[DONE\]/);
  const leftAt = gateway.of('/gateway/leave')[0]?.at;
  assert.ok(leftAt && leftAt - t0 < 1500, 'left the gateway as draining began');
  await stopped;
  assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
  const leaves = gateway.of('/gateway/leave');
  assert.equal(leaves.length, 1);
  assert.equal(leaves[0].auth, 'Bearer join-sekrit');
  assert.deepEqual(leaves[0].json, { url: server.url });
  assert.ok(!server.stderr.includes('could not leave'), server.stderr);
});

test('a refusing, then vanished gateway: logged once each, serving goes on, exit 0', async () => {
  const g = await fakeGateway({ status: 403, body: '{"error":"unknown join key"}' });
  const s = await startServer(['--models-dir', dir, '--threads', '1', '--join', g.url, '--heartbeat', '0.1',
    '--no-access-log']);
  assert.ok(await until(() => g.of('/gateway/join').length >= 3), 'no heartbeats');
  assert.equal(g.of('/gateway/join')[0].auth, undefined);  // no join key: no header
  assert.equal(g.of('/gateway/join')[0].json.api_key, '');
  assert.equal(s.stderr.split('join: gateway refused: 403 {"error":"unknown join key"}').length - 1, 1, s.stderr);
  await g.close();
  assert.ok(await until(() => s.stderr.includes(`join: gateway ${g.url} unreachable: `)), s.stderr);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(s.stderr.split('unreachable').length - 1, 1, s.stderr);
  assert.match(s.stderr, /unreachable: .*; retrying every 0\.1s/);
  // Still serving, and --no-access-log means no request lines.
  const r = await s.fetch('/v1/models', { headers: { 'X-Request-Id': 'quiet-1' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'quiet-1');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!s.stderr.includes('quiet-1'), s.stderr);
  const t0 = Date.now();
  await s.stop();
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('a gateway down from the start: the server starts, serves and exits 0', async () => {
  const g = await fakeGateway();
  const url = g.url;
  await g.close();
  const s = await startServer(['--models-dir', dir, '--threads', '1', '--join', url, '--join-key', 'k',
    '--advertise', 'http://node-a.example:8080/']);
  assert.ok(await until(() => s.stderr.includes(`join: gateway ${url} unreachable`)), s.stderr);
  assert.ok(s.stderr.includes(`gateway: joining ${url} as http://node-a.example:8080 every 2s`), s.stderr);
  assert.equal((await s.fetch('/status')).status, 200);  // no key set: open
  const t0 = Date.now();
  await s.stop();
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('bad gateway settings are refused at start', () => {
  let r = spawnSync(bin, ['serve', '--models-dir', dir, '--port', '0', '--join', 'https://gw:9000'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /join: .*https is not supported/);
  r = spawnSync(bin, ['serve', '--models-dir', dir, '--port', '0', '--join', 'http://gw:9000', '--advertise', 'node:80'],
    { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /advertise: .*not an http:\/\/ URL/);
  r = spawnSync(bin, ['serve', '--models-dir', dir, '--port', '0', '--heartbeat', '0'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /heartbeat/);
});

await run([]);
