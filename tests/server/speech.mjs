// /v1/audio/speech through the official client (built-in espeak-ng voice): audio in
// each format with the right MIME type, OpenAI voice aliases, speed, errors, and
// streaming (the first bytes arrive before a long text is fully synthesized).
import assert from 'node:assert/strict';
import { Server, loadOpenAI, requireFile, run, skip, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
const server = await Server.start(['--model', storiesModel, '--threads', '1', '--voice-aliases', 'alloy=builtin:en-us,echo=builtin:en-us']);
if ((await server.fetch('/v1/audio/voices')).status === 404) {
  await server.stop();
  skip('built without hearth_tts');
}
const client = server.client(OpenAI);

function wavInfo(buf) {
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.toString('ascii', 8, 12), 'WAVE');
  return { rate: buf.readUInt32LE(24), channels: buf.readUInt16LE(22), bits: buf.readUInt16LE(34) };
}

test('voices list includes the built-in voices', async () => {
  const r = await (await server.fetch('/v1/audio/voices')).json();
  assert.ok(r.data.some((v) => v.id === 'builtin:en-us' && v.kind === 'espeak'));
});

test('wav through an OpenAI voice name; speed shortens the audio', async () => {
  const input = 'The quick brown fox jumps over the lazy dog.';
  const r = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' });
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  const buf = Buffer.from(await r.arrayBuffer());
  const info = wavInfo(buf);
  assert.equal(info.channels, 1);
  assert.equal(info.bits, 16);
  const seconds = (buf.length - 44) / (info.rate * 2);
  assert.ok(seconds > 1 && seconds < 10, `${seconds} s`);
  const fast = Buffer.from(await (await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav', speed: 2 })).arrayBuffer());
  assert.ok(fast.length < buf.length * 0.75, `${fast.length} vs ${buf.length}`);
});

test('every format with its MIME type; mp3 by default', async () => {
  const expect = { mp3: 'audio/mpeg', opus: 'audio/ogg', flac: 'audio/flac', pcm: 'audio/pcm', wav: 'audio/wav' };
  for (const [format, mime] of Object.entries(expect)) {
    const r = await client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: 'Hello there.', response_format: format });
    assert.equal(r.headers.get('content-type'), mime, format);
    const buf = Buffer.from(await r.arrayBuffer());
    assert.ok(buf.length > 1000, format);
    if (format === 'flac') assert.equal(buf.toString('ascii', 0, 4), 'fLaC');
    if (format === 'opus') assert.equal(buf.toString('ascii', 0, 4), 'OggS');
  }
  const def = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.' });
  assert.equal(def.headers.get('content-type'), 'audio/mpeg');
});

test('streams sentence by sentence', async () => {
  const input = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a long text.`).join(' ');
  const t0 = performance.now();
  const r = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'pcm' });
  let first, total = 0, chunks = 0;
  for await (const c of r.body) {
    first ??= performance.now() - t0;
    total += c.length;
    chunks++;
  }
  const all = performance.now() - t0;
  assert.ok(chunks > 1, `${chunks} chunks`);
  assert.ok(total > 22050 * 2 * 10, `${total} bytes`);
  console.log(`  first audio after ${first.toFixed(0)} ms of ${all.toFixed(0)} ms, ${chunks} chunks`);
});

test('errors: unknown voice, bad format, empty input, bad speed, missing model', async () => {
  const cases = [
    [{ model: 'tts-1', voice: 'nobody', input: 'x' }, 'voice'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'aac' }, 'response_format'],
    [{ model: 'tts-1', voice: 'alloy', input: '' }, 'input'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', speed: 9 }, 'speed'],
    [{ voice: 'alloy', input: 'x' }, 'model'],
  ];
  for (const [body, param] of cases) {
    await assert.rejects(client.audio.speech.create(body), (e) => e.status === 400 && e.param === param, JSON.stringify(body));
  }
  const r = await server.fetch('/v1/audio/speech', { method: 'GET' });
  assert.equal(r.status, 405);
});

await run([server]);
