import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

// `npx cryosam` runs package.json's bin file directly: after `npm run build` it must be executable
// and start with its shebang (npm makes installed bins executable, but not the project's own).
test('the built cryosam bin is executable and runs', async () => {
  const root = packageRoot();
  const pkg = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { bin: { cryosam: string }; version: string };
  const bin = path.join(root, pkg.bin.cryosam);
  const stat = await fs.stat(bin).catch(() => assert.fail(`${bin} is missing: run npm run build first`));
  assert.ok((stat.mode & 0o111) !== 0, `${bin} is not executable`);
  const { stdout } = await promisify(execFile)(bin, ['--version']);
  assert.equal(stdout.trim(), pkg.version);
});

// The README's two ways to get the command after `npm ci`: `npx cryosam` in the clone, and a global
// install from the clone (`npm install -g .`, here into a temporary prefix; slow, in bin.slow.test.ts).
// Neither may make npm print warnings (a project .npmrc with an unknown key once did on every call).
test('npx cryosam runs without npm warnings', async () => {
  const { stdout, stderr } = await promisify(execFile)('npx', ['--no-install', 'cryosam', '--version'], { cwd: packageRoot() });
  assert.equal(stdout.trim(), '0.1.0');
  assert.doesNotMatch(stderr, /npm warn/i);
});
