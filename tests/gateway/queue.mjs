// The gateway's queue: one node that takes one request at a time (--node-max-inflight 1),
// requests arriving a few milliseconds apart wait at the gateway and reach the node in the
// order they came, each as soon as the one before it finishes (no polling delay); a full
// queue is a 503 with Retry-After; a waiting client that leaves frees its place. SIGTERM
// drains: running streams finish, new connections are refused, then the gateway exits.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Gateway, Server, loadOpenAI, run, sleep, synthModel, test } from './gateway_harness.mjs';

const OpenAI = await loadOpenAI();
// Wide enough to generate at a few hundred tokens a second, so that requests overlap.
const model = synthModel('gw-queue', ['--arch', 'llama', '--seed', '31', '--embd', '512', '--layers', '8', '--ff', '1536',
  '--ctx', '2048']);
const node = await Server.start(['--model', model, '--alias', 'm', '--threads', '1', '--parallel', '1']);
const gw = await Gateway.start(['--node', node.url, '--probe-interval', '0.2', '--node-max-inflight', '1', '--queue', '6',
  '--queue-timeout', '30', '--no-access-log']);
await gw.waitUp(1);
const client = gw.client(OpenAI);
const ask = (i, max_tokens = 48) => client.chat.completions.create({ model: 'm', max_tokens, temperature: 0, ignore_eos: true,
  messages: [{ role: 'user', content: `request ${i}` }] });

test('waiting requests reach the node in arrival order, each right after the one before', async () => {
  await ask('warm-up', 1);  // the client's first request sets itself up: it must not skew the order
  const started = [], done = [];
  const t0 = performance.now();
  const all = [];
  for (let i = 0; i < 6; i++) {
    started.push(performance.now() - t0);
    all.push(ask(i).then(() => done.push({ i, at: performance.now() - t0 })));
    await sleep(15);
  }
  await Promise.all(all);
  assert.deepEqual(done.map((d) => d.i), [0, 1, 2, 3, 4, 5], JSON.stringify(done));
  // One at a time: the gaps between completions are the node's work, not a polling period.
  const work = done[0].at - started[0];
  const gaps = done.slice(1).map((d, k) => d.at - done[k].at);
  console.log(`  one request ${work.toFixed(1)} ms; gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`);
  for (const g of gaps) assert.ok(g < work * 3 + 50, `gap ${g} ms vs ${work} ms of work`);
});

test('a full queue answers 503 with Retry-After; a client that leaves frees its place', async () => {
  const running = ask('long', 400);
  await sleep(50);
  const controllers = Array.from({ length: 6 }, () => new AbortController());
  const waiting = controllers.map((c, i) => client.chat.completions.create({ model: 'm', max_tokens: 4,
    messages: [{ role: 'user', content: `w${i}` }] }, { signal: c.signal }).catch((e) => e));
  await sleep(100);
  assert.equal((await gw.status()).queued, 6);
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', max_tokens: 4, messages: [{ role: 'user', content: 'one too many' }] }) });
  assert.equal(r.status, 503);
  assert.ok(r.headers.get('retry-after'));
  controllers[0].abort();
  await sleep(100);
  assert.equal((await gw.status()).queued, 5, 'the client that left is out of the queue');
  await running;
  const results = await Promise.all(waiting);
  assert.ok(results[0] instanceof Error);
  for (const x of results.slice(1)) assert.ok(x.choices?.[0]?.message, String(x));
});

test('SIGTERM drains: a running stream finishes, new connections are refused, then the gateway exits', async () => {
  const g = await Gateway.start(['--node', node.url, '--probe-interval', '0.2', '--no-access-log', '--drain-timeout', '20']);
  await g.waitUp(1);
  const exited = new Promise((res) => g.proc.on('exit', () => res(performance.now())));
  const stream = await g.client(OpenAI).chat.completions.create({ model: 'm', max_tokens: 300, ignore_eos: true,
    temperature: 0, stream: true, messages: [{ role: 'user', content: 'a long one' }] });
  const t0 = performance.now();
  let chunks = 0, finish;
  for await (const c of stream) {
    if (++chunks === 3) g.proc.kill('SIGTERM');
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'length', 'the stream ran to its end');
  const { hostname, port } = new URL(g.url);
  const refused = await new Promise((res) => {
    const sock = net.connect(Number(port), hostname);
    sock.on('connect', () => { sock.destroy(); res(false); });
    sock.on('error', () => res(true));
  });
  assert.ok(refused, 'no new connections while draining');
  const at = await exited;
  assert.ok(at - t0 < 15000, `exited ${(at - t0).toFixed(0)} ms after the stream began`);
});

await run([gw, node]);
