import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { IMOD_STAMP, readMrc, readMrcHeader, writeMrc, type WritableVoxels } from '../../src/io/mrc/index.js';
import type { Shape3, Volume } from '../../src/volume/volume.js';
import { mrcfileValidate, mrcfileValues } from '../helpers/mrcfile.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrc-write-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const shape: Shape3 = [5, 6, 7];
const n = 5 * 6 * 7;
function volumeOf<T extends WritableVoxels>(data: T): Volume<T> {
  return { data, shape, voxelSize: { x: 2.5, y: 2.5, z: 3 }, origin: { x: 10, y: -20, z: 30 } };
}
const fill = <T extends WritableVoxels>(data: T, f: (i: number) => number): T => {
  for (let i = 0; i < data.length; i++) data[i] = f(i);
  return data;
};

const cases: { name: string; volume: Volume<WritableVoxels>; mode: number }[] = [
  { name: 'float32', volume: volumeOf(fill(new Float32Array(n), (i) => Math.sin(i) * 3.5 + 100)), mode: 2 },
  { name: 'int8', volume: volumeOf(fill(new Int8Array(n), (i) => (i % 200) - 100)), mode: 0 },
  { name: 'uint8 labels', volume: volumeOf(fill(new Uint8Array(n), (i) => (i * 7) % 12)), mode: 0 },
  { name: 'int16', volume: volumeOf(fill(new Int16Array(n), (i) => i * 150 - 20000)), mode: 1 },
  { name: 'uint16', volume: volumeOf(fill(new Uint16Array(n), (i) => i * 300)), mode: 6 },
  { name: 'int32 labels that fit int16', volume: volumeOf(fill(new Int32Array(n), (i) => i % 5)), mode: 1 },
  { name: 'int32 labels beyond int16', volume: volumeOf(fill(new Int32Array(n), (i) => i * 1000)), mode: 2 },
];

for (const c of cases) {
  test(`writeMrc ${c.name}: mrcfile validates it and reads the same values; readMrc round-trips`, async () => {
    const file = path.join(dir, `${c.name.replace(/\W+/g, '_')}.mrc`);
    await writeMrc(file, c.volume, { label: `test ${c.name}` });
    const { valid, messages } = await mrcfileValidate(file);
    assert.ok(valid, `mrcfile.validate rejected ${c.name}:\n${messages}`);
    assert.deepEqual(await mrcfileValues(file), Array.from(c.volume.data));
    const h = await readMrcHeader(file);
    assert.equal(h.mode, c.mode);
    assert.equal(h.map, 'MAP ');
    assert.deepEqual(h.machst, [0x44, 0x44, 0, 0]);
    assert.equal(h.nversion, 20141);
    assert.equal(h.ispg, 1);
    assert.deepEqual([h.mapc, h.mapr, h.maps], [1, 2, 3]);
    assert.deepEqual(h.cella, { x: 7 * 2.5, y: 6 * 2.5, z: 5 * 3 });
    assert.deepEqual(h.labels, [`test ${c.name}`]);
    const values = Array.from(c.volume.data);
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    assert.equal(h.dmin, Math.fround(Math.min(...values)));
    assert.equal(h.dmax, Math.fround(Math.max(...values)));
    assert.ok(Math.abs(h.dmean - mean) <= 1e-6 * Math.max(1, Math.abs(mean)), `mean ${h.dmean} vs ${mean}`);
    assert.ok(Math.abs(h.rms - std) <= 1e-6 * Math.max(1, std), `rms ${h.rms} vs ${std}`);
    const back = await readMrc(file);
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.voxelSize, c.volume.voxelSize);
    assert.deepEqual(back.origin, c.volume.origin);
    assert.deepEqual(back.data, Float32Array.from(c.volume.data));
  });
}

test('uint8 labels above 127 are marked unsigned (IMOD flags, header max) and read back unsigned', async () => {
  const file = path.join(dir, 'uint8-high.mrc');
  const data = fill(new Uint8Array(n), (i) => (i * 37) % 256);
  await writeMrc(file, volumeOf(data));
  const h = await readMrcHeader(file);
  assert.equal(h.imodStamp, IMOD_STAMP);
  assert.equal(h.imodFlags & 1, 0);
  assert.equal(h.dmax, 255);
  assert.equal(h.int8Unsigned, true);
  assert.deepEqual((await readMrc(file)).data, Float32Array.from(data));
  // mrcfile reads mode 0 as int8: the same bytes.
  assert.deepEqual(await mrcfileValues(file), Array.from(data, (b) => (b << 24) >> 24));
});

test('int8 volumes carry the IMOD signed-bytes flag', async () => {
  const file = path.join(dir, 'int8-flag.mrc');
  await writeMrc(file, volumeOf(fill(new Int8Array(n), (i) => (i % 50) - 10)));
  const h = await readMrcHeader(file);
  assert.equal(h.imodFlags & 1, 1);
  assert.equal(h.int8Unsigned, false);
});

test('a failing write leaves no output and no temporary file, and keeps an existing target', async () => {
  const sub = await fs.mkdtemp(path.join(dir, 'fail-'));
  const file = path.join(sub, 'out.mrc');
  const notInt16 = volumeOf(fill(new Float32Array(n), (i) => (i === n - 1 ? 0.5 : i)));
  await assert.rejects(writeMrc(file, notInt16, { mode: 1 }), (err: unknown) => {
    assert.ok(err instanceof CryosamError);
    assert.match(err.message, /out\.mrc: cannot write: value 0\.5 at voxel 209 does not fit mode 1 \(int16\)/);
    return true;
  });
  assert.deepEqual(await fs.readdir(sub), []);
  await fs.writeFile(file, 'previous');
  const withNaN = volumeOf(fill(new Float32Array(n), (i) => (i === 3 ? NaN : i)));
  await assert.rejects(writeMrc(file, withNaN), /out\.mrc: cannot write: the volume holds NaN/);
  assert.deepEqual(await fs.readdir(sub), ['out.mrc']);
  assert.equal(await fs.readFile(file, 'utf8'), 'previous');
  await assert.rejects(writeMrc(file, { ...volumeOf(new Float32Array(3)) }), /out\.mrc: cannot write: 3 voxels do not fill shape 5×6×7/);
});

test('writeMrc streams volumes larger than one chunk with exact statistics', async () => {
  const big: Shape3 = [3, 1024, 1500]; // 4.6 M voxels: more than one 4 M-voxel chunk
  const data = fill(new Float32Array(big[0] * big[1] * big[2]), (i) => (i % 1000) / 10);
  const file = path.join(dir, 'big.mrc');
  await writeMrc(file, { data, shape: big, voxelSize: { x: 1, y: 1, z: 1 } });
  const h = await readMrcHeader(file);
  assert.equal(h.dmin, 0);
  assert.equal(h.dmax, Math.fround(99.9));
  let sum = 0;
  for (const v of data) sum += v;
  assert.ok(Math.abs(h.dmean - sum / data.length) < 1e-4);
  assert.deepEqual((await readMrc(file)).data, data);
});
