// Spoken chat replies through the official client: /v1/chat/completions with
// modalities ["text", "audio"]. Streamed pcm16 (24 kHz) whose length matches what it
// says, transcripts that add up to the spoken text, whole replies in every format,
// errors (streamed non-pcm16, unknown voice, no audio object, a server without speech),
// tool calls without audio, and a client that leaves mid-reply. Model: stories260K.
import assert from 'node:assert/strict';
import { Server, loadOpenAI, requireFile, run, skip, storiesModel, test } from './harness.mjs';

const OpenAI = await loadOpenAI();
requireFile(storiesModel, 'stories260K model');
// The built-in voices (OpenAI's names map to them): real, non-silent speech.
// (A context past the model's 512 tokens: the tool-call prompt is long in its tiny vocabulary.)
const server = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--parallel', '2',
  '--ctx-size', '1024']);
if ((await server.fetch('/v1/audio/voices')).status === 404) {
  await server.stop();
  skip('built without hearth_tts');
}
const client = server.client(OpenAI);
const model = 'stories';
const messages = [{ role: 'user', content: 'Once upon a time' }];
const spoken = (format, extra = {}) => ({ model, messages, modalities: ['text', 'audio'], audio: { voice: 'echo', format },
  max_tokens: 60, temperature: 0, ...extra });
// The text a voice reads: the reply's words, whitespace collapsed (stories have no markup).
const readable = (text) => text.replace(/\s+/g, ' ').trim();

async function readStream(stream) {
  const out = { content: '', transcript: '', pcm: [], audio: [], chunks: 0, usage: undefined, finish: undefined };
  for await (const c of stream) {
    out.chunks++;
    if (c.usage) out.usage = c.usage;
    const choice = c.choices[0];
    if (!choice) continue;
    out.content += choice.delta?.content ?? '';
    if (choice.finish_reason) out.finish = choice.finish_reason;
    const a = choice.delta?.audio;
    if (!a) continue;
    out.audio.push({ ...a, data: a.data ? `${a.data.length} chars` : undefined, afterContent: out.content.length });
    out.transcript += a.transcript ?? '';
    if (a.data) out.pcm.push(Buffer.from(a.data, 'base64'));
  }
  out.pcm = Buffer.concat(out.pcm);
  return out;
}

test('streamed reply: pcm16 at 24 kHz whose length is the usage duration; transcripts add up to the text', async () => {
  const r = await readStream(await client.chat.completions.create({ ...spoken('pcm16'), stream: true,
    stream_options: { include_usage: true } }));
  assert.ok(r.content.length > 20, r.content);
  assert.equal(r.transcript, readable(r.content));
  assert.ok(r.audio.length >= 3, `${r.audio.length} audio deltas`);
  assert.match(r.audio[0].id, /^audio_/, 'the first audio delta names the audio');
  assert.ok(r.audio.slice(1, -1).every((a) => a.id === undefined), 'only the first and last carry the id');
  const last = r.audio.at(-1);
  assert.equal(last.id, r.audio[0].id);
  assert.ok(last.expires_at > Date.now() / 1000, 'the last delta closes the audio with expires_at');
  assert.equal(r.pcm.length % 2, 0, 'whole 16-bit samples');
  const seconds = r.usage.completion_tokens_details.audio_seconds;
  assert.ok(seconds > 1, `${seconds} s`);
  assert.equal(r.pcm.length / 2, Math.round(seconds * 24000), 'samples = 24 kHz x the duration usage reports');
  assert.equal(r.usage.completion_tokens_details.audio_tokens, Math.ceil(seconds * 20));
  assert.ok(r.finish === 'length' || r.finish === 'stop', r.finish);
  // The same sentences through /v1/audio/speech at the voice's own rate: the same
  // duration within espeak's run-to-run variation, so the stream really is 24 kHz.
  const wav = Buffer.from(await (await client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: r.transcript,
    response_format: 'wav' })).arrayBuffer());
  const rate = wav.readUInt32LE(24);
  const speechSeconds = (wav.length - 44) / 2 / rate;
  assert.ok(Math.abs(speechSeconds - seconds) / speechSeconds < 0.06, `${seconds} s spoken vs ${speechSeconds} s at ${rate} Hz`);
  const nonSilent = r.pcm.some((b, i) => i % 2 === 1 && b !== 0 && b !== 0xff);
  assert.ok(nonSilent, 'the built-in voice is not silent');
});

test('whole reply in every format: message.audio with magic bytes, 24 kHz, transcript', async () => {
  const magic = { wav: 'RIFF', flac: 'fLaC', opus: 'OggS' };
  let text;
  for (const format of ['wav', 'mp3', 'flac', 'opus', 'pcm16']) {
    const r = await client.chat.completions.create(spoken(format));
    const m = r.choices[0].message;
    text ??= m.content;
    assert.equal(m.content, text, `${format}: the same text (greedy)`);
    assert.match(m.audio.id, /^audio_/);
    assert.ok(m.audio.expires_at > Date.now() / 1000);
    assert.equal(m.audio.transcript, readable(m.content));
    const audio = Buffer.from(m.audio.data, 'base64');
    assert.ok(audio.length > 4000, `${format}: ${audio.length} bytes`);
    if (magic[format]) assert.equal(audio.toString('ascii', 0, 4), magic[format], format);
    if (format === 'mp3') assert.ok(audio.toString('ascii', 0, 3) === 'ID3' || (audio[0] === 0xff && (audio[1] & 0xe0) === 0xe0), 'mp3 frame sync');
    const seconds = r.usage.completion_tokens_details.audio_seconds;
    assert.ok(seconds > 1, `${format}: ${seconds} s`);
    if (format === 'wav') {
      assert.equal(audio.readUInt32LE(24), 24000);
      assert.equal(audio.readUInt32LE(40), audio.length - 44, 'data size filled in');
      assert.equal(audio.readUInt32LE(4), audio.length - 8, 'RIFF size filled in');
      assert.equal((audio.length - 44) / 2, Math.round(seconds * 24000));
    }
    if (format === 'pcm16') assert.equal(audio.length / 2, Math.round(seconds * 24000));
    if (format === 'flac') {
      // STREAMINFO: 20-bit rate, then (after 3+5+4 bits) 36-bit total samples.
      const rate = (audio.readUInt32BE(18) >>> 12);
      assert.equal(rate, 24000);
      const total = (audio[21] & 0x0f) * 2 ** 32 + audio.readUInt32BE(22);
      assert.equal(total, Math.round(seconds * 24000), 'total samples filled in');
    }
  }
});

test('errors: streamed non-pcm16, unknown voice, no audio object, unknown modality', async () => {
  await assert.rejects(client.chat.completions.create({ ...spoken('wav'), stream: true }),
    (e) => e.status === 400 && e.param === 'audio.format' && /pcm16/.test(e.message) && /wav/.test(e.message));
  await assert.rejects(client.chat.completions.create({ ...spoken('pcm16'), audio: { voice: 'no-such-voice', format: 'pcm16' } }),
    (e) => e.status === 400 && e.code === 'voice_not_found' && e.param === 'audio.voice' && /no-such-voice/.test(e.message));
  await assert.rejects(client.chat.completions.create({ ...spoken('pcm16'), audio: undefined }),
    (e) => e.status === 400 && e.param === 'audio');
  await assert.rejects(client.chat.completions.create({ ...spoken('aac') }),
    (e) => e.status === 400 && e.param === 'audio.format' && /aac/.test(e.message));
  await assert.rejects(client.chat.completions.create({ ...spoken('pcm16'), modalities: ['text', 'video'] }),
    (e) => e.status === 400 && e.param === 'modalities');
  // Text only: no audio anywhere.
  const plain = await client.chat.completions.create({ model, messages, max_tokens: 8, audio: { voice: 'echo', format: 'wav' } });
  assert.equal(plain.choices[0].message.audio, undefined);
  assert.equal(plain.usage.completion_tokens_details, undefined);
});

test('a spoken reply sent back by its audio id alone counts as its text; an unknown id is a 400', async () => {
  const first = await client.chat.completions.create(spoken('wav', { max_tokens: 12 }));
  const said = first.choices[0].message;
  const next = [...messages, { role: 'assistant', audio: { id: said.audio.id } }, { role: 'user', content: 'And then?' }];
  const withText = [...messages, { role: 'assistant', content: said.content }, { role: 'user', content: 'And then?' }];
  const byId = await client.chat.completions.create({ model, messages: next, max_tokens: 12, temperature: 0 });
  const byText = await client.chat.completions.create({ model, messages: withText, max_tokens: 12, temperature: 0 });
  assert.equal(byId.choices[0].message.content, byText.choices[0].message.content);
  assert.equal(byId.usage.prompt_tokens, byText.usage.prompt_tokens);
  await assert.rejects(client.chat.completions.create({ model, max_tokens: 4,
    messages: [...messages, { role: 'assistant', audio: { id: 'audio_unknown' } }, { role: 'user', content: 'x' }] }),
  (e) => e.status === 400 && e.code === 'audio_not_found' && e.param === 'messages[1].audio.id');
});

test('a forced tool call is not spoken', async () => {
  const tools = [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object',
    properties: { zone: { enum: ['UTC', 'CET'] } }, required: ['zone'], additionalProperties: false } } }];
  const r = await client.chat.completions.create({ ...spoken('wav'), tools, tool_choice: 'required', max_tokens: 100 });
  const m = r.choices[0].message;
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.audio, undefined);
  assert.equal(r.usage.completion_tokens_details.audio_seconds, 0);
});

test('a client that leaves mid-reply stops generation and speech', async () => {
  // A raw stream, so that leaving is a closed connection at a known point: after the
  // first audio delta of a long reply.
  const r = await server.fetch('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...spoken('pcm16'), max_tokens: 400, stream: true }) });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('"audio":{"id"')) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'audio arrives before the end');
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  // The slot frees at once and the server goes on serving speech and text.
  let status;
  for (let i = 0; i < 50; i++) {
    status = await (await server.fetch('/status')).json();
    if (status.slots_busy === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.equal(status.slots_busy, 0);
  const again = await client.chat.completions.create(spoken('pcm16', { max_tokens: 20 }));
  assert.ok(again.choices[0].message.audio.data.length > 0);
});

test('a server without speech refuses audio clearly and serves text', async () => {
  const quiet = await Server.start(['--model', storiesModel, '--alias', 'stories', '--threads', '1', '--no-speech']);
  try {
    const c = quiet.client(OpenAI);
    await assert.rejects(c.chat.completions.create(spoken('pcm16')),
      (e) => e.status === 400 && e.code === 'audio_unavailable' && e.param === 'modalities');
    const r = await c.chat.completions.create({ model, messages, max_tokens: 8 });
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal((await quiet.fetch('/v1/audio/voices')).status, 404);
    const status = await (await quiet.fetch('/status')).json();
    assert.deepEqual(status.voices, []);
  } finally {
    await quiet.stop();
  }
});

await run([server]);
