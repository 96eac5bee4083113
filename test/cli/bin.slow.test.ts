import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

// Slow (npm run test:all; ~15 s): the README's second way to get the command after `npm ci`, a global
// install from the clone (`npm install -g .`, here into a temporary prefix). See also bin.test.ts.
test('a global install from the clone puts cryosam on the PATH', async () => {
  const prefix = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-global-'));
  try {
    await promisify(execFile)('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '.'], { cwd: packageRoot(), timeout: 120_000 });
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` };
    const { stdout } = await promisify(execFile)('cryosam', ['--version'], { env, cwd: prefix });
    assert.equal(stdout.trim(), '0.1.0');
  } finally {
    await fs.rm(prefix, { recursive: true, force: true });
  }
});
