// Shared by the gateway tests: `hearth gateway` processes beside the nodes that
// tests/server/harness.mjs starts, a fake OpenAI-compatible node, and polling helpers.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { bin, startListening } from '../server/harness.mjs';

export * from '../server/harness.mjs';

export class Gateway {
  static async start(args) {
    return startListening(new Gateway(), ['gateway', '--host', '127.0.0.1', '--port', '0', ...args]);
  }

  client(OpenAI, opts = {}) {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 120000, ...opts });
  }

  async status() {
    return (await fetch(`${this.url}/status`)).json();
  }

  // Requests each node has received from this gateway, by node URL.
  async requestsByNode() {
    const s = await this.status();
    return Object.fromEntries(s.nodes.map((n) => [n.url, n.requests]));
  }

  async waitUp(count, ms = 10000) {
    const t0 = Date.now();
    for (;;) {
      const s = await this.status();
      const up = s.nodes.filter((n) => n.up).length;
      if (up >= count) return s;
      if (Date.now() - t0 > ms) throw new Error(`only ${up} of ${count} nodes up: ${JSON.stringify(s)}`);
      await sleep(50);
    }
  }

  async stop() {
    this.proc.kill('SIGTERM');
    const r = await this.exited;
    if (r.code !== 0) throw new Error(`gateway exit ${JSON.stringify(r)}: ${this.stderr}`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The canonical spelling the gateway uses for a node URL.
export const nodeId = (url) => url.replace(/\/$/, '');

export function runGateway(args) {
  return spawnSync(bin, ['gateway', ...args], { encoding: 'utf8', timeout: 20000 });
}

// A minimal OpenAI-compatible server that is not hearth: /v1/models and streaming or
// whole chat completions that echo the last message; /status is 404 as elsewhere.
// With `crlf`, events end with CRLF blank lines (as sse-starlette servers send them) and
// the stream pauses `pauseMs` after its first word.
export async function fakeOpenAINode(modelId, { garbage = false, crlf = false, pauseMs = 0 } = {}) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (garbage) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('<<not json>>');
        return;
      }
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: modelId, object: 'model', created: 0, owned_by: 'fake' }] }));
        return;
      }
      if (req.url === '/v1/chat/completions' && req.method === 'POST') {
        const r = JSON.parse(body);
        const text = `echo: ${r.messages.at(-1).content}`;
        const base = { id: 'chatcmpl-fake', created: 0, model: modelId };
        if (r.stream) {
          res.writeHead(200, { 'Content-Type': 'text/event-stream' });
          const end = crlf ? '\r\n\r\n' : '\n\n';
          const event = (delta, finish) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk',
            choices: [{ index: 0, delta, finish_reason: finish }] })}${end}`;
          const words = text.split(' ');
          (async () => {
            for (const [i, w] of words.entries()) {
              res.write(event({ content: (i ? ' ' : '') + w }, null));
              if (i === 0 && pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
            }
            res.write(event({}, 'stop'));
            res.end(`data: [DONE]${end}`);
          })();
        } else {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
        }
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}
