/**
 * Ctrl-C during a pick in a terminal: the progress bar's terminal codes are undone (cursor shown,
 * line wrapping on), "interrupted" is said, the exit code is 130 and no output or temporary file
 * is left. Runs the CLI under a real pseudo-terminal (Python's pty module).
 * Slow (npm run test:all; ~7 s).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeMrc } from '../../src/io/mrc/index.js';
import { scatter, synthetic } from '../pipeline/synthetic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.split(path.sep).includes('dist') ? '../../..' : '../..');

test('Ctrl-C in a terminal restores it, says interrupted, exits 130 and leaves nothing behind', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-interrupt-'));
  try {
    const shape = [48, 64, 64] as const;
    const particles = scatter(shape, 20, 8, ['sphere'], 3);
    await writeMrc(path.join(dir, 'tomo.mrc'), synthetic(shape, particles, { radius: 4, contrast: 3, seed: 4 }).volume);
    const before = (await fs.readdir(dir)).sort();
    const p = particles[0];
    const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        'python3',
        [path.join(root, 'test', 'helpers', 'pty-run.py'), process.execPath, cli, 'pick', 'tomo.mrc', '--at', `${p.x},${p.y},${p.z}`, '-o', 'picks.star', '--no-cache'],
        { cwd: dir, timeout: 150_000, maxBuffer: 16 << 20 },
        (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })),
      );
    });
    assert.match(stderr, /EXIT 130 SENT True/, 'the signal reached a pick with a progress bar, and it exited 130');
    assert.match(stdout, /cryosam: interrupted/);
    const lastHide = stdout.lastIndexOf('\x1b[?25l');
    assert.ok(lastHide >= 0, 'the bar hid the cursor');
    assert.ok(stdout.lastIndexOf('\x1b[?25h') > lastHide, 'the cursor is shown again');
    const lastNoWrap = stdout.lastIndexOf('\x1b[?7l');
    assert.ok(lastNoWrap < 0 || stdout.lastIndexOf('\x1b[?7h') > lastNoWrap, 'line wrapping is on again');
    assert.deepEqual((await fs.readdir(dir)).sort(), before, 'no output and no temporary file left');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
