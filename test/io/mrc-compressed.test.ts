import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { CryosamError } from '../../src/errors.js';
import { encodeMrcHeader, MrcReader, readMrc, writeMrc } from '../../src/io/mrc/index.js';

/**
 * gzip and bzip2 tomograms are decompressed into one buffer of the size their header promises:
 * data running past it stop decompression at once, data falling short are named truncated.
 */

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrc-compressed-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const hasBzip2 = (() => {
  try {
    execFileSync('bzip2', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A 16×16×16 float32 header: 1024 + 16384 = 17408 bytes in all. */
function header16(): Uint8Array {
  return encodeMrcHeader({
    shape: [16, 16, 16], mode: 2, voxelSize: { x: 10, y: 10, z: 10 }, origin: { x: 0, y: 0, z: 0 },
    dmin: 0, dmax: 0, dmean: 0, rms: 0, labels: [],
  });
}

/** gzip of `header` followed by `zeros` zero bytes, compressed a MiB at a time (never held whole). */
async function gzipOf(header: Uint8Array, zeros: number): Promise<Buffer> {
  const gz = zlib.createGzip();
  const parts: Buffer[] = [];
  gz.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve, reject) => gz.on('end', resolve).on('error', reject));
  gz.write(header);
  const mib = Buffer.alloc(1 << 20);
  for (let left = zeros; left > 0; left -= mib.length) {
    if (!gz.write(mib.subarray(0, Math.min(left, mib.length)))) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
  return Buffer.concat(parts);
}

async function rejectsNaming(promise: Promise<unknown>, file: string, problem: RegExp): Promise<RegExpMatchArray> {
  let match: RegExpMatchArray | null = null;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CryosamError, `expected CryosamError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    match = err.message.match(problem);
    assert.ok(match, `${err.message} does not match ${problem}`);
    return true;
  });
  return match!;
}

const TOO_LARGE = /decompressed data is larger than its header says: 16×16×16 .*mode 2 \(float32\) needs 17408 bytes in all, but the (gzip|bzip2) data go on past that \(stopped after (\d+) bytes\)/;

test('a .mrc.gz that inflates far past its header (16³ float32, then 64 MiB) stops right after the promised size', async () => {
  const file = path.join(dir, 'bomb.mrc.gz');
  await fs.writeFile(file, await gzipOf(header16(), 64 << 20));
  const match = await rejectsNaming(readMrc(file), file, TOO_LARGE);
  assert.equal(match[1], 'gzip');
  // Decompression stopped within a chunk or so of 17408 bytes, not after 64 MiB.
  assert.ok(Number(match[2]) < 17408 + (1 << 20), `stopped after ${match[2]} bytes`);
  await rejectsNaming(MrcReader.open(file), file, TOO_LARGE);
});

test('a .mrc.bz2 that decodes past its header stops right after the promised size', { skip: !hasBzip2 && 'no bzip2 command' }, async () => {
  const file = path.join(dir, 'bomb.mrc.bz2');
  const raw = Buffer.concat([header16(), Buffer.alloc(16 << 20)]);
  await fs.writeFile(file, execFileSync('bzip2', ['-c'], { input: raw, maxBuffer: 1 << 26 }));
  const match = await rejectsNaming(readMrc(file), file, TOO_LARGE);
  assert.equal(match[1], 'bzip2');
  assert.equal(Number(match[2]), 17409);
});

test('a .mrc.gz whose data end early is truncated, with both sizes', async () => {
  const file = path.join(dir, 'short.mrc.gz');
  await fs.writeFile(file, zlib.gzipSync(Buffer.concat([header16(), Buffer.alloc(1000)])));
  await rejectsNaming(
    readMrc(file),
    file,
    /truncated MRC file: header says 16×16×16 .*, so 17408 bytes in all, but the gzip data decompress to only 2024/,
  );
});

test('a tiny .mrc.gz whose header promises far more than gzip can hold is refused before allocating it', async () => {
  const h = header16();
  const view = new DataView(h.buffer);
  for (const o of [0, 4, 8]) view.setInt32(o, 4096, true); // 4096³ float32: 256 GiB
  const file = path.join(dir, 'huge.mrc.gz');
  await fs.writeFile(file, zlib.gzipSync(h));
  await rejectsNaming(readMrc(file), file, /truncated MRC file: header says 4096×4096×4096 .*, so 274877907968 bytes in all, more than gzip data of this size can decompress to/);
});

test('compressed data shorter than the header, or not MRC inside, are named as such', async () => {
  const short = path.join(dir, 'short-header.mrc.gz');
  await fs.writeFile(short, zlib.gzipSync(Buffer.alloc(500)));
  await rejectsNaming(readMrc(short), short, /truncated MRC file: 500 bytes, shorter than the 1024-byte header/);
  const star = path.join(dir, 'particles.mrc.gz');
  await fs.writeFile(star, zlib.gzipSync('data_particles\nloop_\n_rlnCoordinateX\n1\n'.repeat(60)));
  await rejectsNaming(readMrc(star), star, /not an MRC file: this looks like a STAR file \(text starting with 'data_particles'\), not an MRC tomogram/);
});

test('a cut .mrc.bz2 or .mrc.gz is a CryosamError naming the file', { skip: !hasBzip2 && 'no bzip2 command' }, async () => {
  const raw = Buffer.concat([header16(), Buffer.from(new Float32Array(4096).map((_, i) => Math.sin(i)).buffer)]);
  for (const [name, packed] of [
    ['cut.mrc.bz2', execFileSync('bzip2', ['-c'], { input: raw })],
    ['cut.mrc.gz', zlib.gzipSync(raw)],
  ] as const) {
    for (const keep of [4, 20, Math.floor(packed.length / 2), packed.length - 3]) {
      const file = path.join(dir, name);
      await fs.writeFile(file, packed.subarray(0, keep));
      await rejectsNaming(readMrc(file), file, /cannot decompress (gzip|bzip2) data|truncated MRC file/);
    }
  }
});

test('valid .mrc.gz and .mrc.bz2 (single and concatenated streams) read exactly as the plain file', async () => {
  const data = Int16Array.from({ length: 7 * 6 * 5 }, (_, i) => (i * 37) % 1000 - 500);
  const plain = path.join(dir, 'plain.mrc');
  await writeMrc(plain, { data, shape: [7, 6, 5], voxelSize: { x: 4, y: 4, z: 4 }, origin: { x: 0, y: 0, z: 0 } });
  const bytes = await fs.readFile(plain);
  const expected = await readMrc(plain);
  const variants: [string, Buffer][] = [
    ['one.mrc.gz', zlib.gzipSync(bytes)],
    ['two-members.mrc.gz', Buffer.concat([zlib.gzipSync(bytes.subarray(0, 700)), zlib.gzipSync(bytes.subarray(700))])],
  ];
  if (hasBzip2) {
    const bz = (b: Uint8Array) => execFileSync('bzip2', ['-c'], { input: b });
    variants.push(['one.mrc.bz2', bz(bytes)], ['two-streams.mrc.bz2', Buffer.concat([bz(bytes.subarray(0, 700)), bz(bytes.subarray(700))])]);
  }
  const plainReader = await MrcReader.open(plain);
  const slice = await plainReader.readSlice('x', 2);
  await plainReader.close();
  for (const [name, packed] of variants) {
    const file = path.join(dir, name);
    await fs.writeFile(file, packed);
    const v = await readMrc(file);
    assert.deepEqual(v.shape, expected.shape, name);
    assert.deepEqual(v.data, expected.data, name);
    const reader = await MrcReader.open(file);
    try {
      assert.deepEqual(await reader.readSlice('x', 2), slice, name);
    } finally {
      await reader.close();
    }
  }
});
