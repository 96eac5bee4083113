/**
 * Layers import one way: volume → engines → pipeline → cli, viewer, eval; io (files) knows no
 * method. Root-level modules (src/errors.ts, progress.ts, paths.ts, memory.ts, lru.ts) serve all.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/paths.js';

/** What each layer may not import. */
const FORBIDDEN: Record<string, string[]> = {
  volume: ['engines', 'pipeline', 'cli', 'viewer', 'eval', 'io'],
  io: ['engines', 'pipeline', 'cli', 'viewer', 'eval'],
  engines: ['pipeline', 'cli', 'viewer', 'eval'],
  pipeline: ['cli', 'viewer', 'eval'],
  eval: ['cli', 'viewer'],
  viewer: ['cli'],
};

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('src/ layers import one way', async () => {
  const src = path.join(packageRoot(), 'src');
  const wrong: string[] = [];
  for (const file of await sources(src)) {
    const layer = path.relative(src, file).split(path.sep)[0];
    const forbidden = FORBIDDEN[layer];
    if (!forbidden || layer === 'viewer' && file.includes(`${path.sep}web${path.sep}`)) continue;
    const text = await fs.readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const target = path.relative(src, path.resolve(path.dirname(file), m[1])).split(path.sep)[0];
      if (forbidden.includes(target)) wrong.push(`${path.relative(src, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(wrong, []);
});
