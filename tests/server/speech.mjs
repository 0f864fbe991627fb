// /v1/audio/speech through the official client (built-in espeak-ng voices): audio in
// each format with the right MIME type, OpenAI voice names without configuration and
// --voice-aliases over them, speed, errors, streaming (the first bytes arrive before a
// long text is fully synthesized), stream_format "sse", and the speech models in /v1/models.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server, loadOpenAI, requireFile, run, scratchDir, shared, skip, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
// No --voice-aliases: OpenAI's names must work as they are.
const server = await Server.start(['--model', storiesModel, '--threads', '1']);
if ((await server.fetch('/v1/audio/voices')).status === 404) {
  await server.stop();
  skip('built without hearth_tts');
}
const client = server.client(OpenAI);
const openaiVoices = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse',
  'marin', 'cedar'];
const longText = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a long text.`).join(' ');

async function pcm(c, voice, input = 'Hello there, how are you?') {
  const r = await c.audio.speech.create({ model: 'tts-1', voice, input, response_format: 'pcm' });
  return Buffer.from(await r.arrayBuffer());
}

// espeak-ng's audio for the same text varies from run to run (by up to a few percent in
// length, with its history), so byte-exact comparisons use Piper's test voice, which
// speaks silence of a length set by the text: two copies of it make a voices dir.
const piperDir = path.join(shared, 'data/tts/piper1-gpl-test-voice');
function piperVoices() {
  if (!existsSync(path.join(piperDir, 'test_voice.onnx'))) return undefined;
  const dir = path.join(scratchDir(), 'voices');
  mkdirSync(dir, { recursive: true });
  for (const name of ['another', 'test_voice']) {
    for (const ext of ['.onnx', '.onnx.json']) copyFileSync(path.join(piperDir, `test_voice${ext}`), path.join(dir, name + ext));
  }
  return dir;
}
const silent = (buf) => buf.every((b) => b === 0);

// Server-sent events of a response body as they arrive: [{ at (ms since t0), event }].
async function readEvents(body, t0) {
  const events = [];
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    text += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      assert.ok(data, `an event without data: ${JSON.stringify(block)}`);
      events.push({ at: performance.now() - t0, event: JSON.parse(data) });
    }
  }
  assert.equal(text, '', 'the stream ends with a complete event');
  return events;
}

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
  const input = longText;
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

test('every OpenAI voice name works without --voice-aliases; the default mapping is listed', async () => {
  const voices = (await (await server.fetch('/v1/audio/voices')).json()).data;
  const owner = (name) => voices.find((v) => v.aliases.includes(name))?.id;
  const en = new Set(['en-us', 'en-gb', 'en-gb-x-rp', 'en-gb-scotland', 'en-us-nyc', 'en-029', 'en-gb-x-gbclan',
    'en-gb-x-gbcwmd'].map((l) => `builtin:${l}`).filter((id) => voices.some((v) => v.id === id)));
  for (const name of openaiVoices) {
    const audio = await pcm(client, name, 'Hi.');
    assert.ok(audio.length > 2000, `${name}: ${audio.length} bytes`);
    assert.ok(en.has(owner(name)), `${name} -> ${owner(name)}`);
  }
  // alloy is the default voice; the names are spread over the English variants in order.
  assert.equal(owner('alloy'), 'builtin:en-us');
  const spread = [...en];
  openaiVoices.slice(1).forEach((name, i) => assert.equal(owner(name), spread[(i + 1) % spread.length], name));
  assert.ok(new Set(openaiVoices.map(owner)).size === Math.min(spread.length, openaiVoices.length), 'distinct voices');
});

test('with Piper voices the names spread over them; --voice-aliases overrides a name', async () => {
  const dir = piperVoices();
  if (!dir) {
    console.log(`  skipped: no Piper test voice in ${piperDir}`);
    return;
  }
  const other = await Server.start(['--model', storiesModel, '--threads', '1', '--voices-dir', dir, '--voice-aliases',
    'echo=builtin:en-gb-scotland,narrator=builtin:en-gb']);
  try {
    const c = other.client(OpenAI);
    const voices = (await (await other.fetch('/v1/audio/voices')).json()).data;
    const owner = (name) => voices.find((v) => v.aliases.includes(name))?.id;
    // alloy: the default voice (the first Piper voice); the i-th name: Piper voice i mod 2.
    assert.equal(owner('alloy'), 'another');
    openaiVoices.forEach((name, i) => {
      if (name !== 'echo') assert.equal(owner(name), ['another', 'test_voice'][i % 2], name);
    });
    assert.equal(owner('echo'), 'builtin:en-gb-scotland');
    assert.equal(owner('narrator'), 'builtin:en-gb');
    // The test voice speaks silence; echo, overridden, speaks.
    for (const name of ['alloy', 'ash', 'nova']) assert.ok(silent(await pcm(c, name)), `${name} is a Piper voice`);
    const echo = await pcm(c, 'echo');
    assert.ok(echo.length > 20000 && !silent(echo), 'echo is espeak-ng now');
    assert.ok(!echo.equals(await pcm(c, 'test_voice')), 'different audio from the default mapping (test_voice)');
    assert.ok(!silent(await pcm(c, 'narrator')), 'a name of ours');
  } finally {
    await other.stop();
  }
});

test('stream_format sse: the same bytes as the raw stream (pcm, wav)', async () => {
  const dir = piperVoices();
  if (!dir) {
    console.log(`  skipped: no Piper test voice in ${piperDir}`);
    return;
  }
  const other = await Server.start(['--model', storiesModel, '--threads', '1', '--voices-dir', dir]);
  try {
    const c = other.client(OpenAI);
    const input = 'Hello there. This is a test of events.';
    const viaSse = async (extra) => {
      const r = await c.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input, stream_format: 'sse', ...extra });
      assert.equal(r.headers.get('content-type'), 'text/event-stream');
      const events = await readEvents(r.body, performance.now());
      assert.equal(events.at(-1).event.type, 'speech.audio.done');
      assert.ok(events.slice(0, -1).every((e) => e.event.type === 'speech.audio.delta'));
      return Buffer.concat(events.slice(0, -1).map((e) => Buffer.from(e.event.audio, 'base64')));
    };
    const raw = await pcm(c, 'alloy', input);
    assert.ok(raw.length > 10000, `${raw.length} bytes`);
    assert.ok((await viaSse({ response_format: 'pcm' })).equals(raw), 'sse pcm = raw pcm');
    assert.ok((await viaSse({})).equals(raw), 'no response_format with sse: pcm');
    const wav = await viaSse({ response_format: 'wav' });
    assert.equal(wavInfo(wav).rate, 22050, 'wav keeps the voice\'s rate');
    const rawWav = Buffer.from(await (await c.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' })).arrayBuffer());
    assert.ok(wav.subarray(44).equals(rawWav.subarray(44)), 'wav events: the header, then the same samples as raw wav');
    // pcm is at OpenAI's 24 kHz: as long as the wav.
    const [pcmSeconds, wavSeconds] = [raw.length / 2 / 24000, (wav.length - 44) / 2 / 22050];
    assert.ok(Math.abs(pcmSeconds - wavSeconds) < 0.002, `${pcmSeconds} s of pcm, ${wavSeconds} s of wav`);
    const r = await c.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'pcm', stream_format: 'audio' });
    assert.equal(r.headers.get('content-type'), 'audio/pcm');
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(raw), 'stream_format audio: raw pcm as before');
  } finally {
    await other.stop();
  }
});

test('/v1/models lists the speech models; chat with one is a clear error; /status keeps the LLMs only', async () => {
  const list = await client.models.list();
  const speech = list.data.filter((m) => m.type === 'speech');
  assert.deepEqual(speech.map((m) => m.id), ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts']);
  for (const m of speech) {
    assert.equal(m.object, 'model');
    assert.equal(m.owned_by, 'hearth');
    assert.ok(m.created > 1.5e9);
  }
  assert.equal(list.data[0].type, undefined, 'the LLM comes first, untyped as before');
  const one = await client.models.retrieve('gpt-4o-mini-tts');
  assert.equal(one.type, 'speech');
  for (const model of ['tts-1', 'gpt-4o-mini-tts']) {
    await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      (e) => e.status === 400 && e.param === 'model' && e.code === 'model_not_supported' && /speech model/.test(e.message));
  }
  await assert.rejects(client.completions.create({ model: 'tts-1-hd', prompt: 'hi', max_tokens: 2 }),
    (e) => e.status === 400 && /speech model/.test(e.message));
  const status = await (await server.fetch('/status')).json();
  assert.deepEqual(status.models.map((m) => m.id), [list.data[0].id]);
  assert.ok(status.voices.includes('builtin:en-us') && !status.voices.includes('alloy'));
});

test('stream_format sse: speech.audio.delta events while synthesizing, then speech.audio.done with usage', async () => {
  const rate = 24000;  // pcm is at OpenAI's rate, whatever the voice's
  const input = Array.from({ length: 36 }, (_, i) => `This is sentence number ${i + 1} of a longer text.`).join(' ');
  const t0 = performance.now();
  const r = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input,
    response_format: 'pcm', stream_format: 'sse' });
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  const events = await readEvents(r.body, t0);
  const deltas = events.filter((e) => e.event.type === 'speech.audio.delta');
  assert.ok(deltas.length > 1, `${deltas.length} deltas`);
  assert.equal(events.length, deltas.length + 1);
  const done = events.at(-1);
  assert.equal(done.event.type, 'speech.audio.done', 'the done event comes last');
  for (const d of deltas) assert.deepEqual(Object.keys(d.event), ['type', 'audio']);
  const audio = Buffer.concat(deltas.map((d) => Buffer.from(d.event.audio, 'base64')));
  // Base64 of whole 16-bit samples; the same bytes as the raw stream.
  assert.equal(audio.length % 2, 0);
  const samples = audio.length / 2;
  const seconds = samples / rate;
  assert.ok(seconds > 36 && seconds < 180, `${seconds} s for 36 sentences at ${rate} Hz`);
  // usage: input characters, output in 50 ms frames of the audio.
  const u = done.event.usage;
  assert.equal(u.input_tokens, input.length);
  assert.equal(u.output_tokens, Math.ceil(samples * 20 / rate));
  assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
  // Streamed while synthesizing: the first audio well before the last (a buffered reply
  // would deliver them together).
  const first = deltas[0].at, last = deltas.at(-1).at;
  console.log(`  first delta after ${first.toFixed(0)} ms, last after ${last.toFixed(0)} ms, ${deltas.length} events`);
  assert.ok(first < last / 2, `first delta at ${first} ms, last at ${last} ms`);
});

test('errors: unknown voice, bad format, empty input, bad speed, missing model', async () => {
  const cases = [
    [{ model: 'tts-1', voice: 'nobody', input: 'x' }, 'voice'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'aac' }, 'response_format'],
    [{ model: 'tts-1', voice: 'alloy', input: '' }, 'input'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', speed: 9 }, 'speed'],
    [{ voice: 'alloy', input: 'x' }, 'model'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'events' }, 'stream_format'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 1 }, 'stream_format'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'sse', response_format: 'mp3' }, 'response_format'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'sse', response_format: 'opus' }, 'response_format'],
    [{ model: 'tts-1', voice: 'nobody', input: 'x', stream_format: 'sse' }, 'voice'],
  ];
  for (const [body, param] of cases) {
    await assert.rejects(client.audio.speech.create(body), (e) => e.status === 400 && e.param === param &&
      e.error?.type === 'invalid_request_error' && typeof e.message === 'string', JSON.stringify(body));
  }
  // The messages name what is allowed.
  await assert.rejects(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'events' }),
    (e) => /"audio".*"sse"/.test(e.message));
  await assert.rejects(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'sse',
    response_format: 'flac' }), (e) => /pcm or wav/.test(e.message) && /flac/.test(e.message));
  await assert.rejects(client.audio.speech.create({ model: 'tts-1', voice: 'nobody', input: 'x' }),
    (e) => /unknown voice 'nobody'/.test(e.message) && e.code === 'voice_not_found');
  const r = await server.fetch('/v1/audio/speech', { method: 'GET' });
  assert.equal(r.status, 405);
});

await run([server]);
