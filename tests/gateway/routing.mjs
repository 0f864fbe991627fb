// `hearth gateway` over three hearth nodes (two share a model, one has another), a
// foreign OpenAI-compatible node, a node answering garbage and one that is not there:
// routing by model, load spread, prefix affinity, the union of models, errors, and two
// gateways that agree on a conversation's node without talking to each other.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  Gateway, Server, collectChat, sleep, fakeOpenAINode, loadOpenAI, nodeId, run, runGateway, scratchDir, synthModel, test,
} from './gateway_harness.mjs';

const OpenAI = await loadOpenAI();
const shared = synthModel('gw-shared', ['--arch', 'llama', '--seed', '11']);
const other = synthModel('gw-other', ['--arch', 'qwen2', '--seed', '12']);
const nodeArgs = ['--threads', '1', '--parallel', '4', '--ctx-size', '1024'];
const a = await Server.start(['--model', shared, '--alias', 'shared', ...nodeArgs]);
// b has no speech: spoken replies of `shared` must go to a.
const b = await Server.start(['--model', shared, '--alias', 'shared', ...nodeArgs, '--no-speech']);
const c = await Server.start(['--model', other, '--alias', 'other', ...nodeArgs]);
const fake = await fakeOpenAINode('fake-model');
const garbage = await fakeOpenAINode('x', { garbage: true });
const slowCrlf = await fakeOpenAINode('crlf-model', { crlf: true, pauseMs: 400 });
const nodes = [a.url, b.url, c.url, fake.url, garbage.url, slowCrlf.url, 'http://127.0.0.1:1'];
const gatewayArgs = [...nodes.flatMap((u) => ['--node', u]), '--probe-interval', '0.2', '--alias', 'gpt-4o=shared'];
const gw = await Gateway.start(gatewayArgs);
const gw2 = await Gateway.start(gatewayArgs);
await gw.waitUp(5);
await gw2.waitUp(5);
const client = gw.client(OpenAI);

const ask = (content, extra = {}) => ({ model: 'shared', messages: [{ role: 'user', content }], max_tokens: 8, temperature: 0, ...extra });
const delta = (before, after) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));

test('requests go to the nodes that serve their model', async () => {
  const before = await gw.requestsByNode();
  const r = await client.chat.completions.create({ ...ask('hello'), model: 'other' });
  assert.ok(r.choices[0].message.content.length > 0);
  const d = delta(before, await gw.requestsByNode());
  assert.equal(d[nodeId(c.url)], 1, JSON.stringify(d));
  assert.equal(d[nodeId(a.url)] + d[nodeId(b.url)], 0);
  // An alias goes to a node serving its model; the answer equals asking for the model.
  const viaAlias = await client.chat.completions.create({ ...ask('hello'), model: 'gpt-4o' });
  const direct = await a.client(OpenAI).chat.completions.create(ask('hello'));
  assert.equal(viaAlias.choices[0].message.content, direct.choices[0].message.content);
});

test('16 concurrent streams land on both nodes that serve the model', async () => {
  const before = await gw.requestsByNode();
  const results = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
    const { text, chunks } = await collectChat(await client.chat.completions.create({ ...ask(`story ${i}`, { max_tokens: 24 }), stream: true }));
    return { text, finish: chunks.at(-1).choices[0].finish_reason };
  }));
  for (const r of results) assert.ok(['stop', 'length'].includes(r.finish));
  const d = delta(before, await gw.requestsByNode());
  assert.equal(d[nodeId(a.url)] + d[nodeId(b.url)], 16, JSON.stringify(d));
  assert.ok(d[nodeId(a.url)] >= 3 && d[nodeId(b.url)] >= 3, `unbalanced: ${JSON.stringify(d)}`);
});

// Until both gateways see every node idle (their load comes from probes, a moment old).
async function settle() {
  for (let t = 0; t < 200; t++) {
    const all = [...(await gw.status()).nodes, ...(await gw2.status()).nodes];
    if (all.every((n) => n.slots_busy === 0 && n.queued === 0 && n.inflight === 0)) return;
    await sleep(20);
  }
}

test('a conversation stays on one node (prefix affinity), through either gateway', async () => {
  await settle();
  for (const start of ['Once upon a time', 'The little dog', 'Lily and Tom', 'A big red ball']) {
    const messages = [{ role: 'system', content: 'Tell stories.' }, { role: 'user', content: start }];
    const before = await gw.requestsByNode();
    const before2 = await gw2.requestsByNode();
    for (let turn = 0; turn < 4; turn++) {
      const g = turn % 2 ? gw2 : gw;
      const r = await g.client(OpenAI).chat.completions.create({ model: 'shared', messages, max_tokens: 4, temperature: 0 });
      messages.push({ role: 'assistant', content: r.choices[0].message.content }, { role: 'user', content: `and then ${turn}` });
    }
    const d = delta(before, await gw.requestsByNode());
    const d2 = delta(before2, await gw2.requestsByNode());
    const onA = d[nodeId(a.url)] + d2[nodeId(a.url)];
    const onB = d[nodeId(b.url)] + d2[nodeId(b.url)];
    assert.ok((onA === 4 && onB === 0) || (onA === 0 && onB === 4), `${start}: split ${onA}/${onB}`);
  }
});

test('the gateway lists the union of models with their nodes', async () => {
  const list = await (await fetch(`${gw.url}/v1/models`)).json();
  const byId = Object.fromEntries(list.data.map((m) => [m.id, m]));
  assert.deepEqual(byId.shared.nodes.sort(), [nodeId(a.url), nodeId(b.url)].sort());
  assert.deepEqual(byId.other.nodes, [nodeId(c.url)]);
  assert.deepEqual(byId['fake-model'].nodes, [nodeId(fake.url)]);
  assert.equal(byId['gpt-4o'].alias_of, 'shared');
  if (byId['tts-1']) {  // nodes built with speech (b is started without)
    assert.equal(byId['tts-1'].type, 'speech');
    assert.deepEqual(byId['tts-1'].nodes.sort(), [nodeId(a.url), nodeId(c.url)].sort());
  }
  const one = await (await fetch(`${gw.url}/v1/models/other`)).json();
  assert.equal(one.id, 'other');
});

test('an unknown model is a 404 error object that names no node', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ask('hi', { model: 'nope' })) });
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.equal(body.error.code, 'model_not_found');
  assert.ok(!JSON.stringify(body).includes('127.0.0.1'), JSON.stringify(body));
  const bad = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{not json' });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.type, 'invalid_request_error');
  const noModel = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
  assert.equal(noModel.status, 400);
  const oddVoice = await fetch(`${gw.url}/v1/audio/speech`, { method: 'POST', body: '{"model":"tts-1","voice":5,"input":"x"}' });
  assert.ok(oddVoice.status < 500, `odd voice field: ${oddVoice.status}`);
});

test('a foreign OpenAI-compatible node routes like a hearth node, streaming included', async () => {
  const whole = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'ping pong' }] });
  assert.equal(whole.choices[0].message.content, 'echo: ping pong');
  const { text } = await collectChat(await client.chat.completions.create({ model: 'fake-model', stream: true,
    messages: [{ role: 'user', content: 'one two three' }] }));
  assert.equal(text, 'echo: one two three');
  // CRLF-framed events stream as they come: the first word arrives before the pause ends.
  const t0 = Date.now();
  const stream = await client.chat.completions.create({ model: 'crlf-model', stream: true,
    messages: [{ role: 'user', content: 'slow and steady' }] });
  let firstAt;
  let all = '';
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta?.content ?? '';
    if (piece && firstAt === undefined) firstAt = Date.now() - t0;
    all += piece;
  }
  assert.equal(all, 'echo: slow and steady');
  assert.ok(firstAt < 300, `first word after ${firstAt} ms: the stream was held back`);
});

test('garbage and unreachable nodes are down with a reason; the gateway stays up', async () => {
  const s = await gw.status();
  const byUrl = Object.fromEntries(s.nodes.map((n) => [n.url, n]));
  assert.equal(byUrl[nodeId(garbage.url)].up, false);
  assert.match(byUrl[nodeId(garbage.url)].last_error, /not a model list|garbage|status/);
  assert.equal(byUrl['http://127.0.0.1:1'].up, false);
  assert.ok(byUrl['http://127.0.0.1:1'].last_error.length > 0);
  assert.equal(byUrl[nodeId(a.url)].kind, 'hearth');
  assert.equal(byUrl[nodeId(fake.url)].kind, 'openai');
  const health = await (await fetch(`${gw.url}/health`)).json();
  assert.equal(health.nodes_up, 5);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /hearth_gateway_node_up\{node="http:\/\/127\.0\.0\.1:1"\} 0/);
  assert.match(metrics, /hearth_gateway_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
  assert.match(metrics, /hearth_gateway_model_requests_total\{model="shared"\} \d+/);
});

test('request ids pass through and the access log has a line per request', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'X-Request-Id': 'trace-42' },
    body: JSON.stringify(ask('hello')) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'trace-42');
  await res.json();
  for (let t = 0; t < 100 && !gw.stderr.includes('trace-42'); t++) await sleep(20);  // written after the answer
  assert.match(gw.stderr, /trace-42 POST \/v1\/chat\/completions model=shared node=http:\/\/127\.0\.0\.1:\d+ status=200 prompt=\d+ completion=\d+/);
});

test('bad configuration is refused with a clear message', async () => {
  const bad = path.join(scratchDir(), 'bad-gateway.toml');
  writeFileSync(bad, '[[node]]\nurl = "https://x:1"\n');
  let r = runGateway(['--config', bad, '--port', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /https is not supported/);
  r = runGateway(['--node', 'not a url', '--port', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not an http:\/\/ URL/);
  r = runGateway(['--port', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no nodes/);
});

test('speech goes to a node with the voice; the voices are the union', async () => {
  const voices = await (await fetch(`${gw.url}/v1/audio/voices`)).json();
  const enUs = voices.data.find((v) => v.id === 'builtin:en-us');
  if (!enUs) return;  // nodes built without hearth_tts
  assert.deepEqual(enUs.nodes.sort(), [nodeId(a.url), nodeId(c.url)].sort());
  const res = await fetch(`${gw.url}/v1/audio/speech`, { method: 'POST', body: JSON.stringify({ model: 'tts-1', voice: 'builtin:en-us',
    input: 'Hello from the gateway.', response_format: 'wav' }) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'audio/wav');
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.ok(buf.length > 10000);
});

test('a spoken reply goes to a node with speech; with none, a clear 400', async () => {
  const speech = await (await fetch(`${a.url}/v1/audio/voices`)).json().catch(() => undefined);
  if (!speech?.data) return;  // built without hearth_tts
  const before = await gw.requestsByNode();
  for (let i = 0; i < 6; i++) {
    const r = await client.chat.completions.create({ ...ask(`speak ${i}`), modalities: ['text', 'audio'],
      audio: { voice: 'alloy', format: 'wav' } });
    assert.equal(r.choices[0].message.audio?.data?.length > 0 || r.choices[0].message.content.trim() === '', true);
  }
  const d = delta(before, await gw.requestsByNode());
  assert.equal(d[nodeId(a.url)], 6, JSON.stringify(d));
  assert.equal(d[nodeId(b.url)], 0, JSON.stringify(d));
  await assert.rejects(client.chat.completions.create({ ...ask('x'), model: 'fake-model', modalities: ['text', 'audio'],
    audio: { voice: 'alloy', format: 'wav' } }), (e) => e.status === 400 && e.code === 'audio_unavailable');
});

test('a client that goes away cancels the request on the node', async () => {
  const ctl = new AbortController();
  const stream = await client.chat.completions.create({ ...ask('long', { model: 'other', max_tokens: 100000, ...{} }), stream: true,
    logit_bias: { 2: -100 } }, { signal: ctl.signal });
  let n = 0;
  try {
    for await (const _ of stream) if (++n === 3) ctl.abort();
  } catch (e) {
    assert.ok(e.name === 'APIUserAbortError' || e.name === 'AbortError', e.name);
  }
  let active;
  for (let t = 0; t < 100; t++) {
    active = await c.metric('hearth_active_sequences');
    if (active === 0) break;
    await sleep(20);
  }
  assert.equal(active, 0, 'the node kept generating for a client that left');
});

test('API keys: clients need the gateway\'s key, nodes get theirs', async () => {
  const d = await Server.start(['--model', other, '--alias', 'locked', '--api-key', 'node-secret', ...nodeArgs]);
  const config = path.join(scratchDir(), 'keyed-gateway.toml');
  writeFileSync(config, `api-key = "client-secret"\nprobe-interval = 0.2\nqueue = 1\nqueue-timeout = 0.05\nnode-max-inflight = 1\n` +
    `[[node]]\nurl = "${d.url}"\napi-key = "node-secret"\n`);
  const g = await Gateway.start(['--config', config]);
  try {
    const open = await fetch(`${g.url}/v1/models`);
    assert.equal(open.status, 401);
    assert.equal((await open.json()).error.code, 'invalid_api_key');
    const keyed = g.client(OpenAI, { apiKey: 'client-secret' });
    for (let t = 0; t < 100 && (await keyed.models.list()).data.length === 0; t++) await sleep(20);
    const r = await keyed.chat.completions.create({ ...ask('hi'), model: 'locked' });
    assert.ok(r.choices[0].message.content.length > 0);
    // One request at a time to the node, a queue of one waiting 0.05 s: a second concurrent one is 503 with Retry-After.
    const slow = await keyed.chat.completions.create({ ...ask('a long one'), model: 'locked', max_tokens: 900, stream: true,
      logit_bias: { 2: -100 } });
    const it = slow[Symbol.asyncIterator]();
    await it.next();  // running on the node now
    const res = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { Authorization: 'Bearer client-secret' },
      body: JSON.stringify({ ...ask('second'), model: 'locked' }) });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await res.json()).error.code, 'gateway_busy');
    while (!(await it.next()).done);
  } finally {
    await g.stop();
    await d.stop();
  }
});

test('killing one gateway leaves the other serving', async () => {
  await gw2.stop();
  const r = await client.chat.completions.create(ask('still here'));
  assert.ok(r.choices[0].message.content.length > 0);
});

await run([gw, a, b, c]);

