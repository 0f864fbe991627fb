// --models-dir: every .gguf listed by file stem, loaded on first use, least recently
// used unloaded beyond --max-loaded, idle ones unloaded after --idle-unload; settings
// from a --config TOML file with flags winning; bad config is refused at start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, bin, loadOpenAI, run, scratchDir, synthModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
const dir = path.join(scratchDir(), 'models');
mkdirSync(dir, { recursive: true });
copyFileSync(synthModel('a', ['--arch', 'llama', '--seed', '1']), path.join(dir, 'alpha.gguf'));
copyFileSync(synthModel('b', ['--arch', 'qwen2', '--seed', '2']), path.join(dir, 'beta.gguf'));
writeFileSync(path.join(dir, 'notes.txt'), 'not a model');
const config = path.join(scratchDir(), 'hearth.toml');
writeFileSync(config, `models-dir = "models"\nmax_loaded = 1\nidle-unload = 1.5\nctx_size = 32\nthreads = 1\n`);
const server = await Server.start(['--config', config, '--ctx-size', '256']);
const client = server.client(OpenAI);
const ask = (model) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, temperature: 0 });

test('lists every .gguf by stem; nothing loaded before use', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.filter((m) => m.type !== 'speech').map((m) => m.id), ['alpha', 'beta']);
  assert.equal((await client.models.retrieve('beta')).id, 'beta');
  assert.equal(await server.metric('hearth_models_loaded'), 0);
});

test('loads on first use; LRU beyond max-loaded; idle unload', async () => {
  const a = await ask('alpha');
  assert.equal(a.model, 'alpha');
  assert.equal(await server.metric('hearth_models_loaded'), 1);
  const b = await ask('beta');
  assert.equal(b.usage.completion_tokens, 4);
  assert.equal(await server.metric('hearth_models_loaded'), 1);  // alpha went
  // Same answers after reloading.
  assert.equal((await ask('alpha')).choices[0].message.content, a.choices[0].message.content);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await server.metric('hearth_models_loaded'), 0);
  await assert.rejects(ask('gamma'), (e) => e.status === 404 && e.code === 'model_not_found');
});

test('the flag beats the config file (ctx-size 32 in the file, 256 on the command line)', async () => {
  const prompt = (n) => ({ model: 'alpha', prompt: 'x'.repeat(n), max_tokens: 2 });
  assert.equal((await client.completions.create(prompt(100))).usage.prompt_tokens >= 100, true);
  await assert.rejects(client.completions.create(prompt(400)), (e) => e.status === 400 && e.code === 'context_length_exceeded');
});

test('bad configuration is refused with a message', () => {
  const bad = path.join(scratchDir(), 'bad.toml');
  writeFileSync(bad, 'port = "eighty"\n');
  let r = spawnSync(bin, ['serve', '--config', bad], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /port/);
  writeFileSync(bad, 'colour = 1\n');
  r = spawnSync(bin, ['serve', '--config', bad], { encoding: 'utf8' });
  assert.match(r.stderr, /unknown key 'colour'/);
  r = spawnSync(bin, ['serve', '--port', '1'], { encoding: 'utf8' });
  assert.match(r.stderr, /--model/);
  r = spawnSync(bin, ['serve', '--model', path.join(dir, 'notes.txt'), '--port', '0'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
});

await run([server]);
