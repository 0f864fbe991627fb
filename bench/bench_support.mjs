// Shared by the HTTP benchmarks: the repo and build folders, `--key value` arguments,
// and the official openai client from tests/reference/node_modules.
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
