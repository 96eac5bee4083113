/**
 * MRC read benchmark: writes a float32 tomogram of about `sizeGiB` GiB with writeMrc, then reads it
 * with readMrc in a separate Node process (so its peak RSS is the reader's alone) and reports
 * throughput and peak memory relative to the data size. The file is read right after it was
 * written, so the figures are for a warm page cache. The file is deleted afterwards.
 *
 * Alone: node --import tsx bench/mrc.ts [sizeGiB]   (or node dist/bench/mrc.js once built)
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { writeMrc } from '../src/io/mrc/index.js';

export interface MrcReadBench {
  fileBytes: number;
  seconds: number;
  mbPerSec: number;
  peakRssMiB: number;
  /** Peak RSS of the reading process divided by the size of the float32 data. */
  rssOverData: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');
/** Every `SAMPLE_STRIDE`-th voxel is summed on both sides, to check the reader returned the right data. */
const SAMPLE_STRIDE = 4096;

const voxelValue = (i: number) => (i % 4093) * 0.25 - 100;

/** Reads `file` with readMrc in a fresh Node process; returns its timing, peak RSS and a checksum. */
async function readInChild(file: string): Promise<{ seconds: number; peakRssMiB: number; sampleSum: number }> {
  const moduleFile = compiled ? path.join(here, '..', 'src', 'io', 'mrc', 'index.js') : path.join(here, '..', 'src', 'io', 'mrc', 'index.ts');
  const script = `
const { readMrc } = await import(${JSON.stringify(pathToFileURL(moduleFile).href)});
const start = performance.now();
const volume = await readMrc(${JSON.stringify(file)});
const seconds = (performance.now() - start) / 1000;
let sampleSum = 0;
for (let i = 0; i < volume.data.length; i += ${SAMPLE_STRIDE}) sampleSum += volume.data[i];
process.stdout.write(JSON.stringify({ seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, sampleSum }));
`;
  const loader = compiled ? [] : ['--import', import.meta.resolve('tsx')];
  const { stdout } = await promisify(execFile)(process.execPath, [...loader, '--input-type=module', '-e', script], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as { seconds: number; peakRssMiB: number; sampleSum: number };
}

export async function benchMrcRead(opts: { sizeGiB?: number; dir?: string } = {}): Promise<MrcReadBench> {
  const sizeGiB = opts.sizeGiB ?? 1;
  // Sections of 1024 × 1024 float32 voxels are 4 MiB each: 256 per GiB.
  const shape = [Math.max(1, Math.round(sizeGiB * 256)), 1024, 1024] as const;
  const dir = await fs.mkdtemp(path.join(opts.dir ?? os.tmpdir(), 'cryosam-bench-mrc-'));
  try {
    const file = path.join(dir, 'tomogram.mrc');
    let expectedSum = 0;
    {
      const data = new Float32Array(shape[0] * shape[1] * shape[2]);
      for (let i = 0; i < data.length; i++) data[i] = voxelValue(i);
      for (let i = 0; i < data.length; i += SAMPLE_STRIDE) expectedSum += data[i];
      await writeMrc(file, { data, shape, voxelSize: { x: 10, y: 10, z: 10 } }, { label: 'cryosam MRC read benchmark' });
    }
    const fileBytes = (await fs.stat(file)).size;
    const child = await readInChild(file);
    if (child.sampleSum !== expectedSum) {
      throw new Error(`benchmark read returned wrong data: sample sum ${child.sampleSum}, expected ${expectedSum}`);
    }
    const dataMiB = (shape[0] * shape[1] * shape[2] * 4) / 2 ** 20;
    return {
      fileBytes,
      seconds: child.seconds,
      mbPerSec: fileBytes / 1e6 / child.seconds,
      peakRssMiB: child.peakRssMiB,
      rssOverData: child.peakRssMiB / dataMiB,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const sizeGiB = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchMrcRead({ sizeGiB }).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
