// Failover: nodes that join the gateway themselves (`hearth serve --join`), one killed
// with SIGKILL while 32 streams run and 32 more wait. Every request that had received
// nothing from the dead node completes elsewhere; streams cut mid-way end with an error
// event; nothing hangs; the node restarted on its port rejoins within one heartbeat.
import assert from 'node:assert/strict';
import { Gateway, Server, loadOpenAI, nodeId, run, sleep, synthModel, test } from './gateway_harness.mjs';

const OpenAI = await loadOpenAI();
const model = synthModel('gw-failover', ['--arch', 'llama', '--seed', '21']);
const gw = await Gateway.start(['--join-key', 'sesame', '--probe-interval', '0.25', '--node-max-inflight', '16',
  '--queue', '64', '--queue-timeout', '60']);
const nodeArgs = ['--model', model, '--alias', 'm', '--threads', '1', '--parallel', '8', '--queue', '64',
  '--ctx-size', '2048', '--join', gw.url, '--join-key', 'sesame', '--heartbeat', '0.5'];
let a = await Server.start(nodeArgs);
const b = await Server.start(nodeArgs);
await gw.waitUp(2);
const client = gw.client(OpenAI);

test('a joined node is listed and routed to; a wrong join key is refused', async () => {
  const s = await gw.status();
  assert.deepEqual(s.nodes.map((n) => n.source), ['joined', 'joined']);
  const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
  assert.ok(r.choices[0].message.content.length > 0);
  const res = await fetch(`${gw.url}/gateway/join`, { method: 'POST', headers: { Authorization: 'Bearer wrong' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9' }) });
  assert.equal(res.status, 401);
});

test('SIGKILL of a node under load: unstarted requests complete elsewhere, cut streams end with an error', async () => {
  let started = 0;
  let killed = false;
  const outcomes = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    let received = 0;
    try {
      const stream = await client.chat.completions.create({ model: 'm', stream: true, max_tokens: 1500, temperature: 0.7,
        logit_bias: { 2: -100 }, messages: [{ role: 'user', content: `request ${i}` }] });
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content && received++ === 0 && ++started === 32 && !killed) {
          // Both nodes run 16 streams each (8 in slots, 8 in their queues) and 32 wait at the gateway.
          killed = true;
          a.proc.kill('SIGKILL');
        }
      }
      return { ok: true, received, killedFirst: killed };
    } catch (e) {
      return { ok: false, received, error: String(e.message ?? e) };
    }
  }));
  assert.ok(killed, 'node A was never killed');
  const failed = outcomes.filter((o) => !o.ok);
  const completed = outcomes.filter((o) => o.ok);
  console.log(`  ${completed.length} completed, ${failed.length} cut mid-stream`);
  for (const f of failed) {
    assert.ok(f.received > 0, `a request that had received nothing failed: ${f.error}`);
    assert.match(f.error, /node serving this stream failed|upstream/);
  }
  assert.ok(failed.length <= 16, `${failed.length} failed: more than node A was running`);
  assert.ok(completed.length >= 48);
  const s = await gw.status();
  assert.equal(s.nodes.find((n) => n.url === nodeId(a.url))?.up ?? false, false);
});

test('the restarted node rejoins within one heartbeat', async () => {
  await a.exited;
  const port = Number(new URL(a.url).port);
  a = await Server.start(nodeArgs, { port });
  const t0 = Date.now();
  await gw.waitUp(2, 5000);
  const ms = Date.now() - t0;
  console.log(`  up again ${ms} ms after it listened`);
  assert.ok(ms < 1500, `took ${ms} ms`);
  const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'back' }], max_tokens: 4 });
  assert.ok(r.choices[0].message.content.length > 0);
});

test('a node that stops leaves the gateway at once', async () => {
  await b.stop();
  await a.stop();
  const s = await gw.status();
  assert.deepEqual(s.nodes, []);
});

await run([gw]);
