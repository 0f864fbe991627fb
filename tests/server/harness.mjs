// Shared by the server tests: starts `hearth serve` on a free loopback port, loads the
// official openai client from tests/reference/node_modules, makes synthetic models, and
// runs named async test cases. Exit 77 (ctest SKIP) when a prerequisite is missing.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const SKIP = 77;
const here = path.dirname(new URL(import.meta.url).pathname);
export const source = process.env.HEARTH_SOURCE_DIR ?? path.resolve(here, '../..');
export const bin = process.env.HEARTH_BIN ?? path.join(source, 'build/bin/hearth');
export const synth = process.env.HEARTH_SYNTH ?? path.join(path.dirname(bin), 'hearth-synth');
export const shared = process.env.HEARTH_SHARED_DIR ?? path.resolve(source, '../shared');
export const storiesModel = path.join(shared, 'data/llm/derived/stories260K-converted.gguf');

export function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

export async function loadOpenAI() {
  const entry = path.join(source, 'tests/reference/node_modules/openai/index.mjs');
  if (!existsSync(entry)) skip(`openai package not installed (${entry}); run scripts/setup-reference.sh`);
  return (await import(pathToFileURL(entry).href)).default;
}

export function requireFile(p, what) {
  if (!existsSync(p)) skip(`${what} not found: ${p}`);
  return p;
}

let scratch;
export function scratchDir() {
  if (!scratch) {
    scratch = mkdtempSync(path.join(tmpdir(), 'hearth-server-test-'));
    process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  }
  return scratch;
}

// A random-weight model from hearth-synth (arguments as its flags).
export function synthModel(name, args) {
  if (!existsSync(synth)) skip(`hearth-synth not built: ${synth}`);
  const out = path.join(scratchDir(), `${name}.gguf`);
  if (!existsSync(out)) execFileSync(synth, [...args, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

// Spawns `hearth <argv>` on loopback and waits for its "listening on URL" line; `into`
// gets proc, stderr (accumulating), exited and url.
export async function startListening(into, argv, { env } = {}) {
  into.proc = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  into.stderr = '';
  into.proc.stderr.on('data', (d) => { into.stderr += d; });
  into.exited = new Promise((resolve) => into.proc.on('exit', (code, signal) => resolve({ code, signal })));
  into.url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${argv[0]} did not start: ${into.stderr}`)), 30000);
    into.proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    into.exited.then(({ code }) => reject(new Error(`${argv[0]} exited with ${code}: ${into.stderr}`)));
  });
  return into;
}

export class Server {
  static async start(args, { env, port = 0 } = {}) {
    return startListening(new Server(), ['serve', '--host', '127.0.0.1', '--port', String(port), ...args], { env });
  }

  client(OpenAI, opts = {}) {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 120000, ...opts });
  }

  async fetch(route, init = {}) {
    return fetch(`${this.url}${route}`, init);
  }

  async metric(name) {
    const text = await (await this.fetch('/metrics')).text();
    const m = text.match(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
  }

  rssKiB() {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(status.match(/VmRSS:\s+(\d+)/)[1]);
  }

  // SIGTERM must end the process cleanly (exit code 0).
  async stop() {
    this.proc.kill('SIGTERM');
    const r = await this.exited;
    assert.equal(r.code, 0, `server exit ${JSON.stringify(r)}: ${this.stderr}`);
  }
}

const cases = [];
export function test(name, fn) {
  cases.push({ name, fn });
}

export async function run(servers = []) {
  let failed = 0;
  for (const c of cases) {
    const t0 = Date.now();
    try {
      await c.fn();
      console.log(`ok   ${c.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${c.name}: ${e.stack ?? e}`);
    }
  }
  for (const s of servers) {
    try {
      await s.stop();
    } catch (e) {
      failed++;
      console.log(`FAIL clean shutdown: ${e.message}`);
    }
  }
  console.log(`${cases.length - failed}/${cases.length} passed`);
  process.exit(failed ? 1 : 0);
}

// Concatenated content of a streamed chat completion, with the chunks.
export async function collectChat(stream) {
  let text = '';
  const chunks = [];
  for await (const c of stream) {
    chunks.push(c);
    for (const ch of c.choices) text += ch.delta?.content ?? '';
  }
  return { text, chunks };
}
