import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { MrcReader, readMrc, readMrcHeader } from '../../src/io/mrc/index.js';
import { sniffFormat } from '../../src/io/mrc/sniff.js';
import { sharedDir } from '../../src/paths.js';

/** Files of other formats given as a tomogram are named for what they are, not as broken MRC files. */

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrc-sniff-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** `magic` followed by zeros up to `size` bytes (binary formats), or the text as it is. */
function file(content: string | number[], size = 2048): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  const bytes = new Uint8Array(Math.max(size, content.length));
  bytes.set(content);
  return bytes;
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

const CASES: [string, Uint8Array, RegExp][] = [
  ['particles.star', file('\n# version 30001\n\ndata_particles\n\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnCoordinateZ #3\n1 2 3\n'), /a STAR file \(text starting with 'data_particles'\)/],
  ['big.star', file('data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n_rlnCoordinateZ\n' + '10.5 20.25 30\n'.repeat(400)), /a STAR file \(text starting with 'data_'\)/],
  ['picks.csv', file('x,y,z,score\n1,2,3,0.5\n4,5,6,0.7\n'), /a CSV or other table of text \(first line 'x,y,z,score'\)/],
  ['picks.tsv', file('x\ty\tz\n1\t2\t3\n'), /a CSV or other table of text/],
  ['picks.json', file('{\n  "points": [{"location": {"x": 1, "y": 2, "z": 3}}]\n}\n'), /a JSON file \(text starting with '\{'\)/],
  ['list.json', file('[1, 2, 3]'), /a JSON file \(text starting with '\['\)/],
  ['notes.txt', file('hello tomogram\n'), /a text file \(starting with 'hello tomogram'\)/],
  ['intel.tif', file([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0, 1, 3, 0, 1, 0, 0, 0, 16, 0]), /a TIFF image \(starts with 'II\*\\0'\)/],
  ['motorola.tif', file([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), /a TIFF image \(starts with 'MM\\0\*'\)/],
  ['slice.png', file([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, ...ascii('IHDR')]), /a PNG image/],
  ['slice.jpg', file([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...ascii('JFIF')]), /a JPEG image/],
  ['tomo.h5', file([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), /an HDF5 file \(starts with '\\x89HDF'\)/],
  ['tomo.zip', file([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), /a zip archive/],
  ['tiny.zip', file([0x50, 0x4b, 0x05, 0x06], 22), /an empty zip archive/],
  ['tomo.npy', file([0x93, ...ascii('NUMPY'), 1, 0]), /a NumPy array/],
  ['short.tif', file([0x49, 0x49, 0x2a, 0x00], 100), /a TIFF image/],
];

test('STAR, CSV, JSON, text, TIFF, PNG, JPEG, HDF5, zip and NumPy files given as a tomogram say what they look like', async () => {
  for (const [name, bytes, looks] of CASES) {
    const f = path.join(dir, name.replace(/\.\w+$/, '.mrc'));
    await fs.writeFile(f, bytes);
    for (const read of [readMrc, readMrcHeader, MrcReader.open]) {
      await assert.rejects(read(f), (err: unknown) => {
        assert.ok(err instanceof CryosamError, `${name}: expected CryosamError, got ${String(err)}`);
        assert.ok(err.message.startsWith(`${f}: not an MRC file: this looks like `), `${name}: ${err.message}`);
        assert.match(err.message, looks, name);
        assert.match(err.message, /, not an MRC tomogram$/, name);
        return true;
      });
    }
  }
});

test('real MRC headers are never taken for another format, and a damaged MRC file keeps its own message', async () => {
  const fixtures = path.join(sharedDir(), 'data', 'fixtures');
  let count = 0;
  for (const sub of await fs.readdir(fixtures)) {
    for (const name of await fs.readdir(path.join(fixtures, sub))) {
      if (!/\.(mrc|rec|map|mrcs)$/i.test(name)) continue;
      const handle = await fs.open(path.join(fixtures, sub, name), 'r');
      const head = new Uint8Array(1024);
      await handle.read(head, 0, 1024, 0);
      await handle.close();
      assert.equal(sniffFormat(head), undefined, name);
      count++;
    }
  }
  assert.ok(count >= 5, `only ${count} fixtures found`);
  // Random binary looks like nothing in particular: the MRC message stays.
  const noise = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 251);
  noise[3] = 0x80;
  const f = path.join(dir, 'noise.mrc');
  await fs.writeFile(f, noise);
  await assert.rejects(readMrc(f), /noise\.mrc: (not an MRC file: no "MAP " stamp|unknown MRC mode|truncated|file size)/);
});
