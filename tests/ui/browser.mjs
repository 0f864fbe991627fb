// The web UI in a real browser: playwright-core drives Debian's chromium (headless) against
// `hearth serve` (stories260K and a slow random-weight model, the built-in voices, an API
// key) and `hearth gateway` in front of it. Screenshots of each page go to
// $HEARTH_UI_ARTIFACTS (build/ui-screenshots). Skips (77) without chromium or the package.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Gateway } from '../gateway/gateway_harness.mjs';
import { Server, requireFile, run, scratchDir, skip, source, storiesModel, synthModel, test } from '../server/harness.mjs';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((p) => existsSync(p));
if (!chromiumPath) skip('chromium not found (scripts/bootstrap.sh installs it)');
const playwrightEntry = path.join(source, 'tests/reference/node_modules/playwright-core/index.mjs');
if (!existsSync(playwrightEntry)) skip(`playwright-core not installed (${playwrightEntry}); run scripts/setup-reference.sh`);
const { chromium } = await import(pathToFileURL(playwrightEntry).href);
requireFile(storiesModel, 'stories260K model');

const artifacts = process.env.HEARTH_UI_ARTIFACTS ?? path.join(scratchDir(), 'screenshots');
mkdirSync(artifacts, { recursive: true });
const models = path.join(scratchDir(), 'ui-models');
mkdirSync(models, { recursive: true });
symlinkSync(storiesModel, path.join(models, 'stories.gguf'));
// A reply that is still running when the test stops it: a few ms a token on one thread,
// and greedy decoding that never says end-of-text within 900 tokens (its vocabulary padded
// to 32000, where the byte vocabulary's end-of-text would come every few hundred tokens).
symlinkSync(synthModel('ui-slow', ['--arch', 'llama', '--embd', '768', '--layers', '6', '--ff', '3072', '--heads', '12',
  '--kv-heads', '4', '--type', 'Q8_0', '--seed', '3', '--pad-vocab', '32000']), path.join(models, 'slow.gguf'));

const key = 'ui-test-key';
const server = await Server.start(['--models-dir', models, '--api-key', key, '--threads', '1', '--parallel', '2',
  '--ctx-size', '1024']);
if ((await server.fetch('/', {})).status === 404) {
  await server.stop();
  skip('hearth was built without its web UI (no emscripten)');
}
const gatewayConfig = path.join(scratchDir(), 'gateway.toml');
writeFileSync(gatewayConfig, `probe-interval = 0.2\n[[node]]\nurl = "${server.url}"\napi-key = "${key}"\n`);
const gateway = await Gateway.start(['--config', gatewayConfig]);

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu',
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
const page = await context.newPage();
const pageErrors = [];
await context.addInitScript(() => {
  window.__errors = [];
  window.addEventListener('error', (e) => window.__errors.push(`error ${e.message} ${e.filename}:${e.lineno} ${String(e.error)} ${e.error?.stack}`));
  window.addEventListener('unhandledrejection', (e) => window.__errors.push(`rejection ${String(e.reason)} ${e.reason?.stack} ${JSON.stringify(e.reason)}`));
});
// What the page threw (as the window's error events record it: playwright's own report of an
// exception from the WebAssembly loader is only "Error").
page.on('pageerror', async (e) => pageErrors.push(await page.evaluate(() => window.__errors.at(-1)).catch(() => e.message)));
// Failed requests the tests cause on purpose (the 401s) log "Failed to load resource"; the
// UI's own reports (caught exceptions) go to the console as warnings starting "hearth-ui:".
page.on('console', (m) => {
  const text = m.text();
  if ((m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 401/.test(text)) ||
      text.startsWith('hearth-ui:')) pageErrors.push(`${m.type()}: ${text} (${JSON.stringify(m.location())})`);
});

const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const lastReply = () => page.locator('#messages .msg.assistant').last();
const replyText = () => lastReply().locator('.body > .md').textContent();
// Waits until the reply being written is finished (the page marks it with data-done-ms).
async function replyDone(timeout = 60000) {
  await lastReply().and(page.locator('[data-done-ms]')).waitFor({ timeout });
  await page.locator('#send').waitFor({ state: 'visible' });
}
async function selectModel(id) {
  await page.locator(`#model option[value="${id}"]`).waitFor({ state: 'attached' });
  await page.selectOption('#model', id);
}
async function setSampling({ maxTokens, temperature = 0.7 }) {
  await page.locator('details.settings summary').click();
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', String(temperature));
  await page.locator('details.settings summary').click();
}
// The lengths the reply's text went through while it streamed (recorded in the page).
async function watchReplyLengths() {
  await page.evaluate(() => {
    window.lengths = [];
    const box = document.getElementById('messages');
    new MutationObserver(() => {
      const md = box.querySelector('.msg.assistant:last-child .body > .md');
      const n = md ? md.textContent.length : 0;
      if (n && window.lengths.at(-1) !== n) window.lengths.push(n);
    }).observe(box, { childList: true, subtree: true, characterData: true });
  });
}

test('routes beside the UI: JSON 404s under /v1, revalidation, the page policy', async () => {
  for (const base of [server.url, gateway.url]) {
    const r = await fetch(`${base}/v1/nothing`);
    assert.equal(r.status, 404, base);
    assert.equal((await r.json()).error.code, 'unknown_route');
    const page = await fetch(`${base}/`);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const etag = page.headers.get('etag');
    assert.equal((await fetch(`${base}/`, { headers: { 'If-None-Match': etag } })).status, 304);
    assert.equal((await fetch(`${base}/missing.js`)).status, 404);
  }
});

test('page weight and first paint', async () => {
  let bytes = 0;
  for (const f of ['/', '/hearth-ui.js', '/hearth-ui.wasm']) {
    const r = await server.fetch(f);
    assert.equal(r.status, 200, f);
    bytes += (await r.arrayBuffer()).byteLength;
  }
  const wasm = await server.fetch('/hearth-ui.wasm');
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const etag = wasm.headers.get('etag');
  assert.equal((await server.fetch('/hearth-ui.wasm', { headers: { 'If-None-Match': etag } })).status, 304);
  assert.ok(bytes < 1.5e6, `page weight ${bytes} bytes`);
  await page.goto(`${server.url}/`);
  await page.locator('body[data-ready]').waitFor();
  const paint = await page.evaluateHandle(() => new Promise((resolve) => new PerformanceObserver((list, observer) => {
    const entry = list.getEntriesByName('first-contentful-paint')[0];
    if (entry) { observer.disconnect(); resolve(entry.startTime); }
  }).observe({ type: 'paint', buffered: true }))).then((h) => h.jsonValue());
  const ready = Number(await page.getAttribute('body', 'data-ready'));
  console.log(`page weight ${bytes} bytes (html + js + wasm); first contentful paint ${paint.toFixed(0)} ms; ` +
    `usable (wasm started, handlers in place) after ${ready.toFixed(0)} ms`);
  assert.equal(await page.locator('#loading').isHidden(), true);
});

test('a wrong API key shows the error; the right one recovers', async () => {
  await page.locator('#auth').waitFor({ state: 'visible' });
  await shot('api-key');
  await page.fill('#api-key', 'wrong');
  const refused = page.waitForResponse((r) => r.url().endsWith('/v1/models') && r.status() === 401 &&
    r.request().headers().authorization === 'Bearer wrong');
  await page.click('#save-key');
  await refused;
  await page.locator('#auth').waitFor({ state: 'visible' });
  assert.equal(await page.innerText('#auth-message'), 'Incorrect API key provided');
  await page.fill('#api-key', ` ${key} `);  // as pasted, with spaces
  await page.press('#api-key', 'Enter');
  await page.locator('#auth').waitFor({ state: 'hidden' });
  await selectModel('stories');
  assert.deepEqual((await page.locator('#model option').allTextContents()).sort(), ['slow', 'stories']);
});

test('Enter sends; the reply streams in several steps, then shows its timings', async () => {
  // The slow model: a reply of about a second, read as it comes even on a loaded host.
  await selectModel('slow');
  await setSampling({ maxTokens: 150, temperature: 0 });
  await watchReplyLengths();
  await page.fill('#prompt', 'Once upon a time');
  await page.press('#prompt', 'Enter');
  await replyDone();
  const text = await replyText();
  assert.ok(text.length > 20, text);
  const lengths = await page.evaluate(() => window.lengths);
  assert.ok(lengths.length >= 5, `streamed in ${lengths.length} steps: ${lengths}`);
  assert.equal(lengths.at(-1), text.length);
  assert.match(await lastReply().locator('.stats').innerText(), /[\d.]+ m?s to first token · [\d.]+ tokens\/s · \d+ tokens/);
  assert.equal(await page.locator('#messages .msg.user .body').innerText(), 'Once upon a time');
  assert.equal(await page.inputValue('#prompt'), '');
  await shot('chat');
  await selectModel('stories');
  await setSampling({ maxTokens: 120 });
});

test('Shift+Enter writes a new line instead of sending', async () => {
  await page.fill('#prompt', 'one');
  await page.press('#prompt', 'Shift+Enter');
  await page.type('#prompt', 'two');
  assert.equal(await page.inputValue('#prompt'), 'one\ntwo');
  assert.equal(await page.locator('#messages .msg').count(), 2);
  await page.fill('#prompt', '');
});

test('regenerate writes the reply again', async () => {
  await lastReply().locator('[data-action=regenerate]').click();
  await replyDone();
  assert.equal(await page.locator('#messages .msg').count(), 2);
  assert.ok((await replyText()).length > 20);
});

test('edit a message and send it again', async () => {
  await page.locator('#messages .msg.user [data-action=edit]').click();
  await page.fill('#edit-0', 'The little dog');
  await page.locator('[data-action=edit-send]').click();
  await replyDone();
  assert.equal(await page.locator('#messages .msg').count(), 2);
  assert.equal(await page.locator('#messages .msg.user .body').innerText(), 'The little dog');
});

test('Stop (and Esc) end a long reply mid-stream; the server frees the slot', async () => {
  await selectModel('slow');
  await setSampling({ maxTokens: 900, temperature: 0 });
  for (const how of ['button', 'escape']) {
    await page.fill('#prompt', 'Tell me a long story');
    await page.click('#send');
    await page.waitForFunction(() => {
      const md = document.querySelector('#messages .msg.assistant:last-child .body > .md');
      return md && md.textContent.length > 30;
    }, null, { timeout: 60000 }).catch(async (e) => {
      throw new Error(`${e.message}\nthe reply: ${await lastReply().innerHTML()}`);
    });
    if (how === 'button') await page.click('#stop');
    else await page.press('#prompt', 'Escape');
    await replyDone(10000);
    assert.equal(await lastReply().locator('.error').innerText(), 'Stopped');
    const deadline = Date.now() + 5000;
    while ((await server.metric('hearth_active_sequences')) !== 0) {
      assert.ok(Date.now() < deadline, 'the server still generates after Stop');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await selectModel('stories');
  await setSampling({ maxTokens: 120 });
});

test('conversations: reload finds them; rename, export, new, delete', async () => {
  await page.reload();
  await page.locator('body[data-ready]').waitFor();
  const first = page.locator('#conversations li').first();
  assert.equal(await first.locator('.title').innerText(), 'Once upon a time');
  assert.equal(await page.locator('#messages .msg').count(), 6);
  await first.locator('[data-action=rename-chat]').click();
  await page.fill('#rename-input', 'Dogs');
  await page.press('#rename-input', 'Enter');
  await page.locator('#conversations li .title', { hasText: 'Dogs' }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=export-chat]')]);
  const exported = JSON.parse(await (await download.createReadStream()).toArray().then((b) => Buffer.concat(b).toString()));
  assert.equal(exported.title, 'Dogs');
  assert.equal(exported.messages.length, 6);
  await page.click('[data-action=new-chat]');
  assert.equal(await page.locator('#messages .msg').count(), 0);
  // Deleting the conversation whose reply is being written stops it and gives Send back.
  await selectModel('slow');
  await setSampling({ maxTokens: 900, temperature: 0 });
  await page.fill('#prompt', 'Doomed');
  await page.press('#prompt', 'Enter');
  await page.locator('#stop').waitFor({ state: 'visible' });
  const doomed = page.locator('#conversations li', { hasText: 'Doomed' });
  await doomed.locator('[data-action=delete-chat]').click();
  await doomed.locator('[data-action=delete-chat]', { hasText: 'Delete?' }).click();
  await page.locator('#send').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#conversations li', { hasText: 'Doomed' }).count(), 0);
  await selectModel('stories');
  await setSampling({ maxTokens: 120 });
  await page.click('[data-action=new-chat]');
  await page.fill('#prompt', 'Lily went');
  await page.press('#prompt', 'Enter');
  await replyDone();
  assert.equal(await page.locator('#conversations li').count(), 2);
  const li = page.locator('#conversations li', { hasText: 'Lily went' });
  await li.locator('[data-action=delete-chat]').click();
  await li.locator('[data-action=delete-chat]', { hasText: 'Delete?' }).click();
  assert.equal(await page.locator('#conversations li').count(), 1);
});

test('Markdown in replies: code with a copy button, tables, folded reasoning, escaped HTML', async () => {
  const reply = '<think>Plan the answer.</think>Here:\n\n```js\nlet a = 1 < 2;\n```\n\n| x | y |\n|---|--:|\n| 1 | 2 |\n\n' +
    '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> and **bold**';
  await page.evaluate((content) => {
    localStorage.setItem('hearth.chat.md', JSON.stringify({ id: 'md', title: 'Markdown', system_prompt: '',
      updated: Date.now() + 1e6, messages: [{ role: 'user', content: 'show me' },
        { role: 'assistant" onmouseover="window.pwned = 3', content }] }));
  }, reply);
  await page.reload();
  await page.locator('body[data-ready]').waitFor();
  const r = lastReply();
  assert.equal(await r.locator('.code code').innerText(), 'let a = 1 < 2;');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await r.locator('.code button[data-action=copy-code]').click();
  await r.locator('.code button', { hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'let a = 1 < 2;');
  assert.equal(await r.locator('table td').count(), 2);
  assert.equal(await r.locator('details.think').getAttribute('open'), null, 'reasoning is folded');
  assert.match(await r.locator('details.think').innerText(), /Reasoning/);
  assert.equal(await r.locator('strong').innerText(), 'bold');
  assert.equal(await r.locator('script, img').count(), 0);
  assert.match(await r.locator('.body > .md').innerText(), /<script>window.pwned = 1<\/script>/);
  await r.hover();
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await shot('markdown');
  await page.locator('#conversations li', { hasText: 'Markdown' }).locator('[data-action=delete-chat]').click();
  await page.locator('#conversations li', { hasText: 'Markdown' }).locator('[data-action=delete-chat]').click();
});

test('Speak replies: audio starts while the text is still streaming', async () => {
  await page.locator('#speak-controls').waitFor({ state: 'visible' });
  assert.ok(await page.locator('#voice option').count() >= 1);
  await page.check('#speak');
  await setSampling({ maxTokens: 200 });
  await page.fill('#prompt', 'Once upon a time');
  await page.press('#prompt', 'Enter');
  await replyDone();
  const r = lastReply();
  const first = Number(await r.getAttribute('data-first-audio-ms'));
  const done = Number(await r.getAttribute('data-last-token-ms'));
  const seconds = Number((await r.locator('.stats').innerText()).match(/([\d.]+) s spoken/)?.[1]);
  console.log(`spoken reply: first audio after ${first.toFixed(0)} ms, last token after ${done.toFixed(0)} ms, ${seconds.toFixed(1)} s of audio`);
  assert.ok(first > 0 && first < done, `first audio ${first} ms, done ${done} ms`);
  assert.ok(seconds > 1, `${seconds} s`);
  assert.match(await r.locator('.stats').innerText(), /s spoken/);
  await page.uncheck('#speak');
});

test('speech page: text to audio with a duration, and a download', async () => {
  await page.click('#tab-speech');
  await page.locator('#speech-voice option').first().waitFor({ state: 'attached' });
  await page.fill('#speech-text', 'The quick brown fox jumps over the lazy dog.');
  await page.selectOption('#speech-format', 'wav');
  await page.click('#synthesize');
  await page.waitForFunction(() => document.getElementById('speech-audio').duration > 0, null, { timeout: 30000 });
  const duration = await page.evaluate(() => document.getElementById('speech-audio').duration);
  assert.ok(duration > 1 && duration < 10, `${duration} s`);
  assert.match(await page.getAttribute('#speech-download', 'href'), /^blob:/);
  assert.equal(await page.getAttribute('#speech-download', 'download'), 'speech.wav');
  await shot('speech');
});

test('status page of a node: models, slots, queue, tokens/s', async () => {
  await page.click('#tab-status');
  await page.locator('#status table').waitFor();
  assert.equal(await page.innerText('#status-kind'), 'Node');
  const text = await page.innerText('#status');
  assert.match(text, /stories/);
  assert.match(text, /Slots busy/);
  assert.match(text, /Tokens\/s/);
  await shot('status-node');
});

test('the gateway serves the same UI: chat through it, its nodes on the status page', async () => {
  await page.goto(`${gateway.url}/#status`);
  await page.locator('#status tr.up').waitFor({ timeout: 20000 });
  assert.equal(await page.innerText('#status-kind'), 'Gateway');
  assert.match(await page.innerText('#status'), new RegExp(server.url.replace(/[.:/]/g, '\\$&')));
  await shot('status-gateway');
  await page.click('#tab-chat');
  await selectModel('stories');
  await page.click('[data-action=new-chat]');
  await page.fill('#prompt', 'Once upon a time');
  await page.press('#prompt', 'Enter');
  await replyDone();
  assert.ok((await replyText()).length > 20);
});

test('phone width: no sideways scrolling, the composer in view', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${server.url}/#chat`);
  await page.locator('body[data-ready]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
  assert.ok(await page.locator('#prompt').isVisible());
  const box = await page.locator('#send').boundingBox();
  assert.ok(box.x + box.width <= 390 && box.y + box.height <= 800, JSON.stringify(box));
  await shot('chat-phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(28, 25, 23)');
  await shot('chat-phone-dark');
});

test('no errors in the page', async () => {
  await browser.close();
  assert.deepEqual(pageErrors, []);
});

await run([gateway, server]);
