// Shared by the HTTP benchmarks: the repo and build folders, `--key value` arguments,
// the official openai client from tests/reference/node_modules, and starting `hearth`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const build = process.env.BUILD ?? path.join(root, 'build');
export const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));

export async function loadOpenAI() {
  const entry = path.join(root, 'tests/reference/node_modules/openai/index.mjs');
  if (!existsSync(entry)) {
    console.error('needs the openai package: scripts/setup-reference.sh');
    process.exit(1);
  }
  return (await import(pathToFileURL(entry).href)).default;
}

// Starts `hearth ARGV...` (pinned to `core` with taskset when given) and resolves with
// { proc, url } once it prints the address it listens on.
export function startHearth(argv, { core } = {}) {
  const hearth = path.join(build, 'bin/hearth');
  const cmd = core === undefined ? hearth : 'taskset';
  const full = core === undefined ? argv : ['-c', String(core), hearth, ...argv];
  const proc = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.on('exit', (c) => reject(new Error(`${argv[0]} exited ${c}`)));
  });
}
