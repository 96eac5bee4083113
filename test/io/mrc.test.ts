import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readMrc, readMrcHeader } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import { mrcfileCanonical, mrcfileValues } from '../helpers/mrcfile.js';

const fixtures = path.join(sharedDir(), 'data', 'fixtures');
const fixture = (name: string) => path.join(fixtures, name);
const MRC_NAME = /\.(mrc|rec|map|mrcs|ccp4)(\.gz|\.bz2)?$/i;

async function allMrcFixtures(): Promise<string[]> {
  const found: string[] = [];
  for (const sub of await fs.readdir(fixtures)) {
    for (const name of await fs.readdir(path.join(fixtures, sub))) if (MRC_NAME.test(name)) found.push(path.join(fixtures, sub, name));
  }
  return found.sort();
}

test('every MRC fixture reads, and equals what ccpem/mrcfile reads (in canonical z,y,x order)', async () => {
  const files = await allMrcFixtures();
  assert.ok(files.length >= 25, `expected the fixture set, found ${files.length} files`);
  const expected = await mrcfileCanonical(files);
  for (const [i, file] of files.entries()) {
    const volume = await readMrc(file);
    assert.equal(volume.data.length, volume.shape[0] * volume.shape[1] * volume.shape[2], file);
    assert.deepEqual(volume.data, expected[i], `${file} differs from mrcfile`);
  }
});

test('EMD-3197 plain, gzip, bzip2 and big-endian copies give identical volumes', async () => {
  const names = ['mrcfile/EMD-3197.map', 'mrcfile/emd_3197.map.gz', 'mrcfile/EMD-3197.map.bz2', 'mrcfile/EMD-3197_bigendian.map'];
  const [reference, ...copies] = await Promise.all(names.map((n) => readMrc(fixture(n))));
  assert.deepEqual(reference.shape, [20, 20, 20]);
  assert.deepEqual(reference.voxelSize, { x: 11.4, y: 11.4, z: 11.4 });
  for (const copy of copies) {
    assert.deepEqual(copy.shape, reference.shape);
    assert.deepEqual(copy.voxelSize, reference.voxelSize);
    assert.deepEqual(copy.data, reference.data);
  }
  assert.equal((await readMrcHeader(fixture('mrcfile/EMD-3197_bigendian.map'))).littleEndian, false);
  assert.equal((await readMrcHeader(fixture('mrcfile/EMD-3197.map'))).littleEndian, true);
  assert.equal((await readMrcHeader(fixture('mrcfile/EMD-3197.map'))).nxstart, -2);
});

test('EMD-3001 (axis order 3,1,2, symmetry block) matches mrcfile values at known positions', async () => {
  const file = fixture('mrcfile/EMD-3001.map');
  const h = await readMrcHeader(file);
  assert.deepEqual([h.mapc, h.mapr, h.maps], [3, 1, 2]);
  assert.equal(h.nsymbt, 160);
  assert.equal(h.dataOffset, 1184);
  assert.equal(h.ispg, 4);
  const v = await readMrc(file);
  // Columns run along Z (73), rows along X (43), sections along Y (25).
  assert.deepEqual(v.shape, [73, 25, 43]);
  assert.deepEqual(v.voxelSize, { x: 0.44825, y: 0.3925, z: 0.45875 });
  const at = (z: number, y: number, x: number) => v.data[(z * 25 + y) * 43 + x];
  // Reference values printed once by mrcfile 1.4.3 (data.transpose(2, 0, 1)).
  assert.equal(at(0, 0, 0), Math.fround(0.04283447191119194));
  assert.equal(at(72, 24, 42), Math.fround(0.06724497675895691));
  assert.equal(at(10, 5, 30), Math.fround(-0.11967390030622482));
  assert.equal(at(40, 12, 7), Math.fround(0.01976056769490242));
  let sum = 0;
  for (const x of v.data) sum += x;
  assert.ok(Math.abs(sum - 41.82456039309909) < 1e-9, `sum ${sum}`);
});

test('3pqr-mode0.ccp4 (int8, axis order 2,1,3) matches mrcfile values at known positions', async () => {
  const v = await readMrc(fixture('ngl/3pqr-mode0.ccp4'));
  const h = await readMrcHeader(fixture('ngl/3pqr-mode0.ccp4'));
  assert.deepEqual([h.mapc, h.mapr, h.maps], [2, 1, 3]);
  assert.equal(h.int8Unsigned, false);
  assert.deepEqual(v.shape, [59, 69, 100]);
  const at = (z: number, y: number, x: number) => v.data[(z * 69 + y) * 100 + x];
  assert.equal(at(0, 0, 0), -41);
  assert.equal(at(58, 68, 99), -53);
  assert.equal(at(20, 30, 40), -32);
  assert.equal(at(5, 60, 90), -42);
  let sum = 0;
  for (const x of v.data) sum += x;
  assert.equal(sum, -14814921);
});

test('float16 (mode 12) maps decode to the values mrcfile gives', async () => {
  const single = await readMrc(fixture('mrcfile/float16.mrc'));
  assert.deepEqual(single.shape, [1, 64, 64]);
  assert.equal(single.data[0], -0.364501953125);
  assert.equal(single.data[100], -0.146728515625);
  assert.equal(single.data[4095], 1.1904296875);
  const volume = await readMrc(fixture('mrcfile_jl/emd_3197_f16.mrc'));
  assert.equal(volume.data[0], -1.8017578125);
  assert.equal(volume.data[100], 4.70703125);
  assert.equal(volume.data[7999], 1.3076171875);
});

test('mode-0 signed and unsigned fixtures: same bytes, signedness from the header maximum', async () => {
  const signedFile = fixture('cryoet_portal_backend/sample_tomos__signed_ints.mrc');
  const unsignedFile = fixture('cryoet_portal_backend/sample_tomos__unsigned_ints.mrc');
  const raw = await mrcfileValues(signedFile); // mrcfile reads both files as int8
  assert.deepEqual(await mrcfileValues(unsignedFile), raw);
  assert.ok(raw.includes(-128) && raw.includes(-1), 'the fixture should hold negative bytes');
  const signed = await readMrc(signedFile);
  const unsigned = await readMrc(unsignedFile);
  assert.equal((await readMrcHeader(signedFile)).int8Unsigned, false);
  assert.equal((await readMrcHeader(unsignedFile)).int8Unsigned, true);
  assert.deepEqual(Array.from(signed.data), raw);
  assert.deepEqual(Array.from(unsigned.data), raw.map((b) => (b + 256) % 256));
});

test('image stacks (.mrcs, space group 0) read as [images, ny, nx]', async () => {
  const h = await readMrcHeader(fixture('mrcfile_jl/emd_3001_proj.mrcs'));
  assert.equal(h.isStack, true);
  assert.equal(h.ispg, 0);
  assert.deepEqual(h.shape, [10, 43, 73]);
  assert.equal((await readMrcHeader(fixture('mrcfile/EMD-3197.map'))).isStack, false);
  const v = await readMrc(fixture('mrcfile_jl/emd_3197_proj.mrcs'));
  assert.deepEqual(v.shape, [10, 20, 20]);
});
