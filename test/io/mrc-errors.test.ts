import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { encodeMrcHeader, readMrc, readMrcHeader, requireVoxelSize } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrc-errors-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const reference = path.join(sharedDir(), 'data', 'fixtures', 'mrcfile', 'EMD-3197.map');

/** A little-endian 4×3×2 float32 file; `edit` may patch the header (little-endian DataView) or the data. */
async function makeFile(name: string, edit: (header: DataView, data: Float32Array) => void = () => {}): Promise<string> {
  const header = encodeMrcHeader({
    shape: [2, 3, 4], mode: 2, voxelSize: { x: 5, y: 5, z: 5 }, origin: { x: 0, y: 0, z: 0 },
    dmin: 0, dmax: 23, dmean: 11.5, rms: 6.9, labels: [],
  });
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  edit(new DataView(header.buffer), data);
  const file = path.join(dir, name);
  await fs.writeFile(file, Buffer.concat([header, new Uint8Array(data.buffer)]));
  return file;
}

/** Asserts that `promise` rejects with a CryosamError whose message names `file` and matches `problem`. */
async function rejectsNaming(promise: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CryosamError, `expected CryosamError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, problem);
    return true;
  });
}

test('the synthetic file itself reads', async () => {
  const file = await makeFile('good.mrc');
  const v = await readMrc(file);
  assert.deepEqual(v.shape, [2, 3, 4]);
  assert.equal(v.data[23], 23);
});

test('truncated data: names the expected and actual sizes', async () => {
  const bytes = await fs.readFile(reference);
  const file = path.join(dir, 'truncated.map');
  await fs.writeFile(file, bytes.subarray(0, bytes.length - 100));
  await rejectsNaming(readMrc(file), file, /truncated MRC file: header says 20×20×20 .*mode 2 \(float32\).* 33024 bytes in all, but the file has 32924/);
  await rejectsNaming(readMrcHeader(file), file, /truncated/);
});

test('a file shorter than the header is truncated', async () => {
  const file = path.join(dir, 'short.mrc');
  await fs.writeFile(file, (await fs.readFile(reference)).subarray(0, 500));
  await rejectsNaming(readMrc(file), file, /truncated MRC file: 500 bytes, shorter than the 1024-byte header/);
});

test('dimensions × mode disagreeing with the file size (extra bytes) is an error', async () => {
  const file = await makeFile('wrong-dims.mrc', (h) => h.setInt32(12, 1, true)); // float32 data declared int16
  await rejectsNaming(readMrc(file), file, /file size disagrees with the header: 4×3×2 .*mode 1 \(int16\) needs 1072 bytes .* has 1120 \(48 extra\)/);
});

test('a text file is not an MRC file', async () => {
  const file = path.join(dir, 'notes.mrc');
  await fs.writeFile(file, 'These are not the voxels you are looking for.\n'.repeat(40));
  await rejectsNaming(readMrc(file), file, /not an MRC file: this looks like a text file \(starting with 'These are not the voxels you are looking…'\), not an MRC tomogram/);
});

test('modes 4 and 101 are unsupported, mode 7 unknown', async () => {
  for (const [mode, problem] of [
    [4, /unsupported mode 4 \(complex float32\)/],
    [101, /unsupported mode 101/],
    [7, /unknown MRC mode 7/],
  ] as const) {
    const file = await makeFile(`mode${mode}.mrc`, (h) => h.setInt32(12, mode, true));
    await rejectsNaming(readMrc(file), file, problem);
  }
});

test('NaN or infinite voxels throw, naming the voxel; allowNonFinite accepts them', async () => {
  const file = await makeFile('nan.mrc', (_, d) => {
    d[(1 * 3 + 2) * 4 + 3] = NaN; // z=1, y=2, x=3
  });
  await rejectsNaming(readMrc(file), file, /voxel \(x=3, y=2, z=1\) is NaN: the data contain NaN or infinite values/);
  const v = await readMrc(file, { allowNonFinite: true });
  assert.ok(Number.isNaN(v.data[23]));
  const inf = await makeFile('inf.mrc', (_, d) => {
    d[0] = -Infinity;
  });
  await rejectsNaming(readMrc(inf), inf, /voxel \(x=0, y=0, z=0\) is -Infinity/);
});

test('voxel size 0: data load with voxel size 0, and requireVoxelSize names the file', async () => {
  const file = await makeFile('no-voxel-size.mrc', (h) => {
    h.setFloat32(40, 0, true);
    h.setFloat32(44, 0, true);
    h.setFloat32(48, 0, true);
  });
  const v = await readMrc(file);
  assert.deepEqual(v.voxelSize, { x: 0, y: 0, z: 0 });
  assert.equal(v.data[5], 5);
  assert.throws(() => requireVoxelSize(v.voxelSize, file), (err: unknown) => {
    assert.ok(err instanceof CryosamError);
    assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: voxel size is 0×0×0 Å`));
    return true;
  });
  assert.deepEqual(requireVoxelSize(v.voxelSize, file, 7.5), { x: 7.5, y: 7.5, z: 7.5 });
  assert.throws(() => requireVoxelSize(v.voxelSize, file, 0), /voxel size must be a positive number of Å/);
});

test('a missing file names itself', async () => {
  const file = path.join(dir, 'absent.mrc');
  await rejectsNaming(readMrc(file), file, /file not found/);
});

test('a corrupt gzip file is reported as such', async () => {
  const file = path.join(dir, 'broken.mrc.gz');
  await fs.writeFile(file, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
  await rejectsNaming(readMrc(file), file, /cannot decompress gzip data/);
});

test('an unset machine stamp falls back to the byte order that gives sane dimensions', async () => {
  const le = await fs.readFile(reference);
  const be = await fs.readFile(path.join(sharedDir(), 'data', 'fixtures', 'mrcfile', 'EMD-3197_bigendian.map'));
  const expected = await readMrc(reference);
  for (const [name, bytes] of [['le-nostamp.map', le], ['be-nostamp.map', be]] as const) {
    const copy = Buffer.from(bytes);
    copy.fill(0, 212, 216);
    const file = path.join(dir, name);
    await fs.writeFile(file, copy);
    assert.deepEqual((await readMrc(file)).data, expected.data, name);
  }
});
