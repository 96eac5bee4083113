import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { MrcReader, readMrc, writeMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import type { Axis, Volume } from '../../src/volume/volume.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrc-reader-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const fixture = (name: string) => path.join(sharedDir(), 'data', 'fixtures', name);

/** The slice the reader should return, cut from a whole volume held in memory. */
function expectedSlice(v: Volume, axis: Axis, index: number): Float32Array {
  const [nz, ny, nx] = v.shape;
  const at = (z: number, y: number, x: number) => v.data[(z * ny + y) * nx + x];
  const out: number[] = [];
  if (axis === 'z') for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out.push(at(index, y, x));
  if (axis === 'y') for (let z = 0; z < nz; z++) for (let x = 0; x < nx; x++) out.push(at(z, index, x));
  if (axis === 'x') for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) out.push(at(z, y, index));
  return Float32Array.from(out);
}

async function checkEverySlice(file: string, options?: { xSliceBatchBytes?: number }): Promise<void> {
  const whole = await readMrc(file);
  const [nz, ny, nx] = whole.shape;
  const reader = await MrcReader.open(file, options);
  try {
    assert.deepEqual(reader.header.shape, whole.shape);
    for (const [axis, size, height, width] of [['z', nz, ny, nx], ['y', ny, nz, nx], ['x', nx, nz, ny]] as const) {
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const slice = await reader.readSlice(axis, index);
        assert.equal(slice.height, height, `${file} ${axis}`);
        assert.equal(slice.width, width, `${file} ${axis}`);
        assert.deepEqual(slice.data, expectedSlice(whole, axis, index), `${file} ${axis}=${index}`);
      }
    }
    assert.deepEqual(await reader.readSlab(1, nz), whole.data.subarray(ny * nx));
    assert.deepEqual(await reader.readSlab(0, 0), new Float32Array(0));
  } finally {
    await reader.close();
  }
}

test('slices and slabs along every axis equal the whole-volume read (plain, big-endian, gzip, bzip2, permuted axes, float16, int8)', async () => {
  for (const name of [
    'mrcfile/EMD-3197.map',
    'mrcfile/EMD-3197_bigendian.map',
    'mrcfile/emd_3197.map.gz',
    'mrcfile/EMD-3197.map.bz2',
    'mrcfile/EMD-3001.map',
    'mrcfile_jl/emd_3001_f16.mrc',
    'ngl/3pqr-mode0.ccp4',
  ]) {
    await checkEverySlice(fixture(name));
  }
});

test('x slices gathered over several section batches, for converted (int16) data', async () => {
  const shape = [9, 17, 23] as const;
  const data = Int16Array.from({ length: 9 * 17 * 23 }, (_, i) => (i * 31) % 4001 - 2000);
  const file = path.join(dir, 'int16.mrc');
  await writeMrc(file, { data, shape, voxelSize: { x: 1, y: 1, z: 1 } });
  // 2 sections per batch: 5 batches for 9 sections, the last one short.
  await checkEverySlice(file, { xSliceBatchBytes: 2 * 17 * 23 * 4 });
});

test('out-of-range slices and slabs are errors naming the file', async () => {
  const file = fixture('mrcfile/EMD-3197.map');
  const reader = await MrcReader.open(file);
  try {
    await assert.rejects(reader.readSlice('x', 20), (e: unknown) => e instanceof CryosamError && e.message === `${file}: slice x = 20 is outside 0..19`);
    await assert.rejects(reader.readSlice('y', -1), CryosamError);
    await assert.rejects(reader.readSlab(5, 21), /sections \[5, 21\) are outside 0\.\.20/);
    await assert.rejects(reader.readSlab(3, 2), CryosamError);
  } finally {
    await reader.close();
  }
});
