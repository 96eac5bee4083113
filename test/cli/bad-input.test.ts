/**
 * Bad input, table-driven, through the CLI as a user meets it: every case writes its own files,
 * runs one command, and asserts the exit code, that stderr names the file and the problem in one
 * line without a stack trace, that no input changed (sha256) and that nothing half-written or new
 * was left in the folder.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { formatPicks } from '../../src/io/coords/index.js';
import { writeMrc } from '../../src/io/mrc/index.js';
import { runCli } from '../helpers/cli.js';

let root: string;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bad-input-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const SHAPE = [16, 16, 16] as const;

/** A small valid tomogram (float32, 10 Å) with one bright blob, and its bytes. */
async function tomogram(file: string): Promise<void> {
  const [nz, ny, nx] = SHAPE;
  const data = new Float32Array(nz * ny * nx);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = Math.exp(-((x - 8) ** 2 + (y - 8) ** 2 + (z - 8) ** 2) / 8);
  }
  await writeMrc(file, { data, shape: [...SHAPE], voxelSize: { x: 10, y: 10, z: 10 } });
}

/** A valid MRC header (first 1024 bytes of a written file) claiming other dimensions. */
async function headerClaiming(dims: [number, number, number], dir: string): Promise<Buffer> {
  const probe = path.join(dir, '.probe.mrc');
  await tomogram(probe);
  const bytes = await fs.readFile(probe);
  await fs.rm(probe);
  const header = Buffer.from(bytes.subarray(0, 1024));
  header.writeInt32LE(dims[0], 0); // nx
  header.writeInt32LE(dims[1], 4); // ny
  header.writeInt32LE(dims[2], 8); // nz
  header.writeInt32LE(dims[0], 28); // mx
  header.writeInt32LE(dims[1], 32);
  header.writeInt32LE(dims[2], 36);
  return header;
}

/** An IMOD model whose MESH chunk has negative sizes (once an endless loop). */
function imodWithBrokenMesh(vsize: number, lsize: number): Uint8Array {
  const model = formatPicks([{ x: 4, y: 4, z: 4 }], { voxelSize: 10, shape: [...SHAPE] }, { format: 'imod' });
  const bytes = Buffer.from(model as Uint8Array);
  const end = bytes.lastIndexOf(Buffer.from('IEOF'));
  const mesh = Buffer.alloc(4 + 4 + 4 + 4 + 2 + 2);
  mesh.write('MESH', 0, 'latin1');
  mesh.writeInt32BE(vsize, 4);
  mesh.writeInt32BE(lsize, 8);
  return Buffer.concat([bytes.subarray(0, end), mesh, bytes.subarray(end)]);
}

/** A valid reference.json (8-dimensional query, a 9³ average every voxel) that no pick made. */
function referenceJson() {
  return {
    format: 'cryosam-reference', version: 1,
    engines: { segmenter: { name: 'classical-segmenter', params: {} }, features: { name: 'classical-features', params: {} } },
    voxelSizeA: 10, featureSliceStep: 4,
    query: { mode: 'mean', vectors: [[1, 0, 0, 0, 0, 0, 0, 0]] },
    particle: { meanVoxels: 100, equivalentRadius: 2.88, polarity: -1 },
    source: { tomogramSha256: 'x', prompts: [{ x: 1, y: 2, z: 3 }] },
    average: { file: 'average.mrc', size: 9, stride: 1, voxelSizeA: 10, missingWedge: 'none' },
  };
}

async function makeReference(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'reference.json'), JSON.stringify(referenceJson()));
  await writeMrc(path.join(dir, 'average.mrc'), { data: new Float32Array(729), shape: [9, 9, 9], voxelSize: { x: 10, y: 10, z: 10 } });
}

interface Case {
  name: string;
  /** Writes the case's files into `dir` and returns the command line (paths relative to `dir`). */
  setup: (dir: string) => Promise<string[]>;
  /** Expected exit code (default 1). */
  code?: number;
  /** What stderr must say: the file it names and the problem. */
  names: string;
  problem: RegExp;
  /** Extra environment (the cache folder defaults to the case's own). */
  env?: (dir: string) => Record<string, string>;
}

const prompt = ['--at', '8,8,8'];

const CASES: Case[] = [
  {
    name: 'truncated MRC',
    setup: async (dir) => {
      await tomogram(path.join(dir, 't.mrc'));
      const bytes = await fs.readFile(path.join(dir, 't.mrc'));
      await fs.writeFile(path.join(dir, 'cut.mrc'), bytes.subarray(0, 1024 + 1000));
      return ['info', 'cut.mrc'];
    },
    names: 'cut.mrc',
    problem: /truncat|short|bytes/i,
  },
  {
    name: 'MRC header with huge dimensions',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'huge.mrc'), Buffer.concat([await headerClaiming([100000, 100000, 100000], dir), Buffer.alloc(4096)]));
      return ['pick', 'huge.mrc', ...prompt, '-o', 'p.star'];
    },
    names: 'huge.mrc',
    problem: /dimension|size|implausible|bytes/i,
  },
  {
    name: 'gzip bomb: a 16³ header inflating to 64 MiB',
    setup: async (dir) => {
      const header = await headerClaiming([16, 16, 16], dir);
      const gz = zlib.gzipSync(Buffer.concat([header, Buffer.alloc(64 << 20)]), { level: 9 });
      await fs.writeFile(path.join(dir, 'bomb.mrc.gz'), gz);
      return ['info', 'bomb.mrc.gz'];
    },
    names: 'bomb.mrc.gz',
    problem: /larger|more data|exceed|size/i,
  },
  {
    name: 'a FIFO as the tomogram (once blocked forever)',
    setup: async (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'pipe.mrc')]);
      return ['pick', 'pipe.mrc', ...prompt, '-o', 'p.star'];
    },
    names: 'pipe.mrc',
    problem: /not a regular file|pipe/i,
  },
  {
    name: 'a folder as the tomogram',
    setup: async (dir) => {
      await fs.mkdir(path.join(dir, 'tomo.mrc'));
      return ['segment', 'tomo.mrc', ...prompt, '-o', 'm.mrc'];
    },
    names: 'tomo.mrc',
    problem: /folder/i,
  },
  {
    name: 'IMOD prompts whose MESH chunk has negative sizes (vsize −2, lsize 1)',
    setup: async (dir) => {
      await tomogram(path.join(dir, 't.mrc'));
      await fs.writeFile(path.join(dir, 'clicks.mod'), imodWithBrokenMesh(-2, 1));
      return ['segment', 't.mrc', '--prompts', 'clicks.mod', '-o', 'm.mrc'];
    },
    names: 'clicks.mod',
    problem: /MESH|negative/i,
  },
  {
    name: 'IMOD prompts whose MESH chunk has vsize −1000 (once a RangeError)',
    setup: async (dir) => {
      await tomogram(path.join(dir, 't.mrc'));
      await fs.writeFile(path.join(dir, 'clicks.mod'), imodWithBrokenMesh(-1000, 0));
      return ['segment', 't.mrc', '--prompts', 'clicks.mod', '-o', 'm.mrc'];
    },
    names: 'clicks.mod',
    problem: /MESH|negative/i,
  },
  {
    name: 'a STAR file given as the tomogram',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'picks.star'), 'data_particles\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n_rlnCoordinateZ\n1 2 3\n');
      return ['info', 'picks.star'];
    },
    names: 'picks.star',
    problem: /STAR/,
  },
  {
    name: 'a CSV file given as the tomogram',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'picks.mrc'), 'x,y,z\n1,2,3\n'.repeat(200));
      return ['info', 'picks.mrc'];
    },
    names: 'picks.mrc',
    problem: /CSV|text/i,
  },
  {
    name: 'a TIFF file given as the tomogram',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'stack.tif'), Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), Buffer.alloc(4000)]));
      return ['info', 'stack.tif'];
    },
    names: 'stack.tif',
    problem: /TIFF/,
  },
  {
    name: 'NaN voxels',
    setup: async (dir) => {
      await tomogram(path.join(dir, 't.mrc'));
      const bytes = await fs.readFile(path.join(dir, 't.mrc'));
      bytes.writeFloatLE(Number.NaN, 1024 + 40);
      await fs.writeFile(path.join(dir, 'nan.mrc'), bytes);
      return ['pick', 'nan.mrc', ...prompt, '-o', 'p.star'];
    },
    names: 'nan.mrc',
    problem: /NaN|finite/i,
  },
  {
    name: 'STAR prompts with an optics pixel size of 1e-300 Å',
    setup: async (dir) => {
      await tomogram(path.join(dir, 't.mrc'));
      await fs.writeFile(
        path.join(dir, 'clicks.star'),
        'data_optics\nloop_\n_rlnOpticsGroup\n_rlnTomoTiltSeriesPixelSize\n1 1e-300\n\n' +
          'data_particles\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n_rlnCoordinateZ\n_rlnOpticsGroup\n8 8 8 1\n',
      );
      return ['segment', 't.mrc', '--prompts', 'clicks.star', '-o', 'm.mrc'];
    },
    names: 'clicks.star',
    problem: /pixel size/i,
  },
  {
    name: 'segment T -o T: the output is the input',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['segment', 'T.mrc', ...prompt, '-o', 'T.mrc'];
    },
    names: 'T.mrc',
    problem: /input/,
  },
  {
    name: 'pick T --mask ./T: the same file by another path',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'p.star', '--mask', './T.mrc'];
    },
    names: 'T.mrc',
    problem: /input/,
  },
  {
    name: 'pick T --labels L where L is a symlink to T',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.symlink('T.mrc', path.join(dir, 'L.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'p.star', '--labels', 'L.mrc'];
    },
    names: 'L.mrc',
    problem: /input/,
  },
  {
    name: 'pick T -o H where H is a hard link to T',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.link(path.join(dir, 'T.mrc'), path.join(dir, 'H.star'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'H.star'];
    },
    names: 'H.star',
    problem: /input/,
  },
  {
    name: 'pick T --prompts p.csv -o p.csv',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.writeFile(path.join(dir, 'p.csv'), 'x,y,z\n8,8,8\n');
      return ['pick', 'T.mrc', '--prompts', 'p.csv', '-o', 'p.csv'];
    },
    names: 'p.csv',
    problem: /input/,
  },
  {
    name: '-o naming an existing folder',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.mkdir(path.join(dir, 'out.star'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'out.star'];
    },
    names: 'out.star',
    problem: /folder/,
  },
  {
    name: '-o in a folder that does not exist',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['segment', 'T.mrc', ...prompt, '-o', 'missing/m.mrc'];
    },
    names: 'missing/m.mrc',
    problem: /does not exist/,
  },
  {
    name: '-o inside a path whose parent is a file',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['segment', 'T.mrc', ...prompt, '-o', 'T.mrc/m.mrc'];
    },
    names: 'T.mrc/m.mrc',
    problem: /not a folder|does not exist/,
  },
  {
    name: 'the same file as two outputs',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'p.star', '--mask', 'm.mrc', '--labels', 'm.mrc'];
    },
    names: 'm.mrc',
    problem: /two outputs/,
  },
  {
    name: '--cache-dir naming a file',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.writeFile(path.join(dir, 'notes.txt'), 'my notes\n');
      return ['segment', 'T.mrc', ...prompt, '-o', 'm.mrc', '--cache-dir', 'notes.txt'];
    },
    names: 'notes.txt',
    problem: /file, not a folder/,
  },
  {
    name: 'an unknown output extension is refused before any work',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'picks.xyz'];
    },
    names: 'picks.xyz',
    problem: /--format/,
  },
  {
    name: 'eval --report into a missing folder',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'a.csv'), 'x,y,z\n1,2,3\n');
      return ['eval', '--picks', 'a.csv', '--truth', 'a.csv', '--distance', '3', '--report', 'nowhere/r.json'];
    },
    names: 'nowhere/r.json',
    problem: /does not exist/,
  },
  {
    name: 'eval --report naming an input',
    setup: async (dir) => {
      await fs.writeFile(path.join(dir, 'a.csv'), 'x,y,z\n1,2,3\n');
      await fs.writeFile(path.join(dir, 'b.csv'), 'x,y,z\n1,2,3\n');
      return ['eval', '--picks', 'a.csv', '--truth', 'b.csv', '--distance', '3', '--report', 'b.csv'];
    },
    names: 'b.csv',
    problem: /input/,
  },
  {
    name: '--engine foo lists the valid engines',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['segment', 'T.mrc', ...prompt, '-o', 'm.mrc', '--engine', 'foo', '--models-dir', 'models'];
    },
    names: "engine 'foo'",
    problem: /classical, xfeat.*installed: none/s,
  },
  {
    name: '--engine sam+dinov2 (no models installed) says what is installed and what can be pulled',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'p.star', '--engine', 'sam+dinov2', '--models-dir', 'models'];
    },
    names: "engine 'sam+dinov2'",
    problem: /models pull.*sam-vit-b/s,
  },
  {
    name: '--top-k 0 follows the same rule as the viewer',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '-o', 'p.star', '--top-k', '0'];
    },
    names: '--top-k',
    problem: /≥ 1/,
  },
  {
    name: 'a usage error is short: the error and one line pointing to --help',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      return ['pick', 'T.mrc', ...prompt, '--no-such-option', '-o', 'p.star'];
    },
    names: '--no-such-option',
    problem: /cryosam pick --help/,
  },
  {
    name: 'a reference folder from another format version',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.mkdir(path.join(dir, 'ref'));
      await fs.writeFile(path.join(dir, 'ref', 'reference.json'), JSON.stringify({ format: 'cryosam-reference', version: 99 }));
      return ['pick', 'T.mrc', '--reference', 'ref', '-o', 'p.star'];
    },
    names: 'reference.json',
    problem: /version 99/,
  },
  {
    name: 'a reference whose average.mrc is missing',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.mkdir(path.join(dir, 'ref'));
      await fs.writeFile(path.join(dir, 'ref', 'reference.json'), JSON.stringify(referenceJson()));
      return ['batch', 'T.mrc', '--reference', 'ref', '--out', 'out'];
    },
    names: 'average.mrc',
    problem: /not found/,
  },
  {
    name: 'a reference whose average.mrc is damaged',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.mkdir(path.join(dir, 'ref'));
      await fs.writeFile(path.join(dir, 'ref', 'reference.json'), JSON.stringify(referenceJson()));
      await fs.writeFile(path.join(dir, 'ref', 'average.mrc'), Buffer.alloc(600, 3));
      return ['pick', 'T.mrc', '--reference', 'ref', '-o', 'p.star'];
    },
    names: 'average.mrc',
    problem: /MRC|truncat|header/i,
  },
  {
    name: 'a tomograms.star whose tomogram files are missing fails before any work',
    setup: async (dir) => {
      await makeReference(path.join(dir, 'ref'));
      await fs.writeFile(
        path.join(dir, 'tomograms.star'),
        'data_global\nloop_\n_rlnTomoName\n_rlnTomoReconstructedTomogram\n_rlnTomoTiltSeriesPixelSize\nTS_01 rec/TS_01.mrc 10\n',
      );
      return ['batch', 'tomograms.star', '--reference', 'ref', '--out', 'out'];
    },
    names: 'tomograms.star',
    problem: /TS_01/,
  },
  {
    name: 'a copick config that does not parse',
    setup: async (dir) => {
      await makeReference(path.join(dir, 'ref'));
      await fs.writeFile(path.join(dir, 'copick.json'), '{"pickable_objects": [');
      return ['batch', 'copick.json', '--reference', 'ref', '--out', 'out'];
    },
    names: 'copick.json',
    problem: /JSON/,
  },
  {
    name: 'an --out folder made for another reference',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await makeReference(path.join(dir, 'ref'));
      await fs.mkdir(path.join(dir, 'out', '.cryosam'), { recursive: true });
      await fs.writeFile(path.join(dir, 'out', '.cryosam', 'run.json'), JSON.stringify({ runHash: 'another', reference: '/elsewhere/ref', options: {} }));
      return ['batch', 'T.mrc', '--reference', 'ref', '--out', 'out'];
    },
    names: 'out',
    problem: /another reference/,
  },
  {
    name: 'reference: --at with two tomograms (voxels of which?)',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'A.mrc'));
      await tomogram(path.join(dir, 'B.mrc'));
      return ['reference', 'A.mrc', 'B.mrc', ...prompt, '-o', 'ref'];
    },
    names: '--at',
    problem: /one tomogram; 2 were given/,
  },
  {
    name: 'reference: prompts that name none of the given tomograms',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.writeFile(path.join(dir, 'clicks.csv'), 'tomo,x,y,z\nTS_99,8,8,8\n');
      return ['reference', 'T.mrc', '--prompts', 'clicks.csv', '-o', 'ref'];
    },
    names: 'none of the given tomograms (T)',
    problem: /has a prompt/,
  },
  {
    name: 'reference: a prompt outside its tomogram',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.writeFile(path.join(dir, 'clicks.csv'), 'tomo,x,y,z\nT,8,8,40\n');
      return ['reference', 'T.mrc', '--prompts', 'clicks.csv', '-o', 'ref'];
    },
    names: 'clicks.csv',
    problem: /outside/,
  },
  {
    name: 'reference: an output folder that holds other files',
    setup: async (dir) => {
      await tomogram(path.join(dir, 'T.mrc'));
      await fs.mkdir(path.join(dir, 'ref'));
      await fs.writeFile(path.join(dir, 'ref', 'notes.txt'), 'mine');
      return ['reference', 'T.mrc', ...prompt, '-o', 'ref'];
    },
    names: 'ref',
    problem: /holds other files \(notes\.txt\)/,
  },
  {
    name: 'models pull offline leaves no empty model folder',
    setup: async () => ['models', 'pull', 'mobilesam', '--models-dir', 'models', '--base-url', 'http://127.0.0.1:9/mirror', '-q'],
    names: 'mobilesam',
    problem: /offline|cannot download/,
  },
];

async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out.set(rel + '/', 'dir');
        await walk(p);
      } else if (e.isFile()) out.set(rel, createHash('sha256').update(await fs.readFile(p)).digest('hex'));
      else out.set(rel, e.isSymbolicLink() ? `link:${await fs.readlink(p)}` : 'special');
    }
  };
  await walk(dir);
  return out;
}

for (const c of CASES) {
  test(`bad input: ${c.name}`, async () => {
    const dir = await fs.mkdtemp(path.join(root, 'case-'));
    const args = await c.setup(dir);
    const before = await snapshot(dir);
    const r = await runCli(args, { cwd: dir, env: { CRYOSAM_CACHE: path.join(dir, 'cache'), CRYOSAM_MODELS: path.join(dir, 'models'), ...c.env?.(dir) }, timeoutMs: 60_000 });
    assert.equal(r.code, c.code ?? 1, `exit code (stderr: ${r.stderr})`);
    assert.ok(r.stderr.includes(c.names), `stderr names ${c.names}: ${r.stderr}`);
    assert.match(r.stderr, c.problem);
    assert.doesNotMatch(r.stderr, /^\s+at .+\(.*:\d+:\d+\)$/m, 'no stack trace');
    assert.ok(r.stderr.trim().split('\n').length <= 3, `a short message, not a page: ${r.stderr}`);
    assert.deepEqual(await snapshot(dir), before, 'no input changed and nothing was written');
  });
}

test('bad input: foreign files in the cache folder survive cache clear, byte for byte', async () => {
  const dir = await fs.mkdtemp(path.join(root, 'cache-'));
  await fs.mkdir(path.join(dir, 'rawdata'));
  await fs.mkdir(path.join(dir, 'ab'));
  await fs.writeFile(path.join(dir, 'rawdata', 'movie_stack.bin'), Buffer.alloc(4096, 7));
  await fs.writeFile(path.join(dir, 'ab', `ab${'0'.repeat(62)}.bin`), Buffer.alloc(100, 1));
  const before = await snapshot(dir);
  const r = await runCli(['cache', 'clear', '--cache-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed 0 cache entries; left 2 other file\(s\) alone/);
  assert.deepEqual(await snapshot(dir), before);
});

test('bad input: a corrupted cache entry is reported, recomputed, and the result is unchanged', async () => {
  const dir = await fs.mkdtemp(path.join(root, 'corrupt-'));
  await tomogram(path.join(dir, 'T.mrc'));
  const env = { CRYOSAM_CACHE: path.join(dir, 'cache') };
  const first = await runCli(['segment', 'T.mrc', ...prompt, '-o', 'a.mrc'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const entries: string[] = [];
  for (const sub of await fs.readdir(path.join(dir, 'cache'))) {
    for (const f of await fs.readdir(path.join(dir, 'cache', sub))) entries.push(path.join(dir, 'cache', sub, f));
  }
  assert.ok(entries.length > 0, 'the first run filled the cache');
  for (const file of entries) {
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 1] ^= 0xff; // a garbled body byte
    await fs.writeFile(file, bytes);
  }
  const second = await runCli(['segment', 'T.mrc', ...prompt, '-o', 'b.mrc'], { cwd: dir, env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /warning:.*cache/i);
  assert.deepEqual(await fs.readFile(path.join(dir, 'b.mrc')), await fs.readFile(path.join(dir, 'a.mrc')), 'same mask as without the cache');
});

test('bad input: a cache folder that cannot be written gives a warning and the run goes on', async () => {
  const dir = await fs.mkdtemp(path.join(root, 'unwritable-'));
  await tomogram(path.join(dir, 'T.mrc'));
  await fs.writeFile(path.join(dir, 'blocked'), 'a file where the cache folder should be\n');
  const r = await runCli(['segment', 'T.mrc', ...prompt, '-o', 'm.mrc'], { cwd: dir, env: { CRYOSAM_CACHE: path.join(dir, 'blocked') } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning:.*blocked/);
  assert.ok((await fs.stat(path.join(dir, 'm.mrc'))).size > 1024);
  assert.equal(await fs.readFile(path.join(dir, 'blocked'), 'utf8'), 'a file where the cache folder should be\n');
});
