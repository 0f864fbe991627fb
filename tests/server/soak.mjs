// Bounded soak: mixed load (streams, whole replies, completions, aborted streams, bad
// requests) from several clients for SOAK_SECONDS (default 40); the server's RSS,
// sampled from /proc at the start and the end, must not grow by more than 20%, and
// every slot must be free at the end.
import assert from 'node:assert/strict';
import { Server, loadOpenAI, requireFile, run, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
const seconds = Number(process.env.SOAK_SECONDS ?? 40);
const server = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '4']);
const client = server.client(OpenAI);
const model = 'stories';

let seed = 12345;
const rand = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.floor((seed / 2147483648) * n);  // high bits: the low bits of an LCG cycle
};

async function one() {
  const content = ['Once upon a time', 'The dog', 'Lily went'][rand(3)];
  const messages = [{ role: 'user', content }];
  switch (rand(6)) {
    case 0: {
      const s = await client.chat.completions.create({ model, messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
      return 'stream';
    }
    case 1:
      await client.chat.completions.create({ model, messages, max_tokens: 48, logprobs: true, top_logprobs: 2 });
      return 'whole';
    case 2:
      await client.completions.create({ model, prompt: content, max_tokens: 48, stop: ['.'] });
      return 'completion';
    case 3: {
      const ctl = new AbortController();
      try {
        const s = await client.chat.completions.create({ model, messages, max_tokens: 1000, logit_bias: { 2: -100 }, stream: true }, { signal: ctl.signal });
        let n = 0;
        for await (const _ of s) if (++n === 3 + rand(10)) ctl.abort();
      } catch {}
      return 'aborted';
    }
    case 4:
      await client.chat.completions.create({ model, messages, temperature: 7 }).catch((e) => assert.equal(e.status, 400));
      return 'error';
    default:
      await client.models.list();
      return 'models';
  }
}

test(`mixed load for ${seconds} s: bounded RSS, slots freed`, async () => {
  for (let i = 0; i < 20; i++) await one();  // warm up: allocator pools, caches
  const rss0 = server.rssKiB();
  const counts = {};
  const t_end = Date.now() + seconds * 1000;
  let tps = 0;
  const sampler = setTimeout(async () => { tps = await server.metric('hearth_tokens_per_second'); }, Math.min(seconds, 10) * 500);
  await Promise.all([0, 1, 2, 3, 4, 5].map(async () => {
    while (Date.now() < t_end) {
      const kind = await one();
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  }));
  clearTimeout(sampler);
  const rss1 = server.rssKiB();
  assert.ok(tps > 0, 'tokens/s gauge during load');
  const growth = (rss1 - rss0) / rss0;
  console.log(`  requests ${JSON.stringify(counts)}; ${tps} tok/s; RSS ${rss0} -> ${rss1} KiB (${(growth * 100).toFixed(1)}%)`);
  assert.ok(growth < 0.2, `RSS grew ${(growth * 100).toFixed(1)}%`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await server.metric('hearth_active_sequences'), 0);
  assert.equal(await server.metric('hearth_queue_depth'), 0);
  const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
  assert.equal(r.usage.completion_tokens, 3);
});

await run([server]);
