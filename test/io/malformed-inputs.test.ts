import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { CryosamError } from '../../src/errors.js';
import { type CoordFormat, formatPicks, parsePicks, readPicks } from '../../src/io/coords/index.js';
import { encodeMrcHeader, MrcReader, readMrc } from '../../src/io/mrc/index.js';

/**
 * Whatever a damaged input holds, the readers answer with a result or a CryosamError naming the
 * file: never a RangeError or TypeError with a stack trace. Deterministic damage (fixed seed).
 */

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-malformed-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function prng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function assertNamed(err: unknown, file: string, what: string): void {
  assert.ok(err instanceof CryosamError, `${what}: expected CryosamError, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.ok(err.message.startsWith(`${file}: `), `${what}: ${err.message}`);
}

test('MRC files (plain and gzip) with damaged header fields or cut anywhere give CryosamErrors naming the file', async () => {
  const header = encodeMrcHeader({
    shape: [3, 4, 5], mode: 1, voxelSize: { x: 5, y: 5, z: 5 }, origin: { x: 0, y: 0, z: 0 },
    dmin: 0, dmax: 59, dmean: 29.5, rms: 17, labels: ['fuzz'],
  });
  const good = new Uint8Array(1024 + 120);
  good.set(header);
  good.set(new Uint8Array(Int16Array.from({ length: 60 }, (_, i) => i).buffer), 1024);
  const random = prng(7);
  // Fields that steer the reader: dimensions, mode, sampling, axis order, nsymbt, stamps.
  const offsets = [0, 4, 8, 12, 28, 32, 36, 64, 68, 72, 92, 152, 156, 208, 212];
  const values = [0, 1, -1, 2, 3, 4, 12, 101, 0x7fffffff, -0x80000000, 1 << 24, 1 << 23, 1024, 60, 0x44440000];
  const plain = path.join(dir, 'damaged.mrc');
  const gz = path.join(dir, 'damaged.mrc.gz');
  for (let k = 0; k < 150; k++) {
    const bytes = Uint8Array.from(good);
    const view = new DataView(bytes.buffer);
    for (let e = 0; e < 1 + Math.floor(random() * 3); e++) {
      const at = offsets[Math.floor(random() * offsets.length)];
      view.setInt32(at, values[Math.floor(random() * values.length)], random() < 0.8);
    }
    const cut = random() < 0.3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
    for (const [file, content] of [[plain, cut], [gz, zlib.gzipSync(cut)]] as const) {
      await fs.writeFile(file, content);
      try {
        const v = await readMrc(file, { allowNonFinite: true });
        assert.equal(v.data.length, v.shape[0] * v.shape[1] * v.shape[2]);
        const reader = await MrcReader.open(file);
        try {
          await reader.readSlice('x', 0);
          await reader.readSlice('y', 0);
        } finally {
          await reader.close();
        }
      } catch (err) {
        assertNamed(err, file, `case ${k}`);
      }
    }
  }
});

test('coordinate files of every format, damaged or cut, give picks or a CryosamError naming the file', async () => {
  const frame = { voxelSize: 10, shape: [20, 30, 40] as [number, number, number] };
  const picks = [
    { x: 1.5, y: 2, z: 3, score: 0.9, className: '1', tomoName: 'TS_1', instanceId: 1 },
    { x: 4, y: 5.25, z: 6, score: 0.8, className: '1', tomoName: 'TS_1', instanceId: 2 },
  ];
  const formats: CoordFormat[] = ['relion3', 'relion4', 'relion5', 'tomoman', 'stopgap', 'copick', 'ndjson', 'csv', 'tardis', 'imod'];
  const random = prng(99);
  const noise = ['', ' ', '\n', '#', '"', "'", ';', '_', 'data_', 'loop_', ',', '{', '}', '[', ']', ':', '-', 'e', 'nan', '1e999', '\0', '\t', '0', '-1'];
  for (const format of formats) {
    const text = formatPicks(picks.map((p) => ({ ...p, tomoName: format === 'stopgap' ? undefined : p.tomoName })), frame, { format });
    const original = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const file = path.join(dir, `picks-${format}`);
    for (let k = 0; k < 120; k++) {
      let bytes: Uint8Array;
      if (k % 3 === 0) {
        bytes = original.subarray(0, Math.floor(random() * original.length));
      } else if (format === 'imod') {
        bytes = Uint8Array.from(original);
        for (let e = 0; e < 3; e++) bytes[8 + Math.floor(random() * (bytes.length - 8))] = Math.floor(random() * 256);
      } else {
        let s = new TextDecoder().decode(original);
        for (let e = 0; e < 1 + Math.floor(random() * 3); e++) {
          const at = Math.floor(random() * s.length);
          s = s.slice(0, at) + noise[Math.floor(random() * noise.length)] + s.slice(at + Math.floor(random() * 3));
        }
        bytes = new TextEncoder().encode(s);
      }
      try {
        parsePicks(format === 'imod' ? bytes : new TextDecoder().decode(bytes), frame, { format, file });
      } catch (err) {
        assertNamed(err, file, `${format} case ${k}`);
      }
      await fs.writeFile(file, bytes);
      try {
        await readPicks(file, frame, { format });
      } catch (err) {
        assertNamed(err, file, `${format} readPicks case ${k}`);
      }
    }
  }
});

/** Whether this Node refuses a Float32Array of more than 2^32 elements at once (Node 20), without allocating. */
const typedArraysCapped = (() => {
  try {
    new Float32Array(2 ** 32 + 1);
    return false;
  } catch {
    return true;
  }
})();

test('a tomogram too large for one array is a CryosamError naming the file, not a RangeError', { skip: !typedArraysCapped && 'this Node can allocate such arrays' }, async () => {
  // 2048×2048×1025 int8: 4.3 G voxels, a sparse file (no disk used).
  const header = encodeMrcHeader({
    shape: [1025, 2048, 2048], mode: 0, voxelSize: { x: 5, y: 5, z: 5 }, origin: { x: 0, y: 0, z: 0 },
    dmin: 0, dmax: 0, dmean: 0, rms: 0, labels: [],
  });
  const file = path.join(dir, 'huge.mrc');
  await fs.writeFile(file, header);
  await fs.truncate(file, 1024 + 2048 * 2048 * 1025);
  try {
    await assert.rejects(readMrc(file), (err: unknown) => {
      assertNamed(err, file, 'huge');
      assert.match((err as Error).message, /cannot hold 4299161600 voxels \(16\.0 GiB as float32\) in memory at once/);
      return true;
    });
  } finally {
    await fs.rm(file);
  }
});
