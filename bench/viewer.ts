/**
 * Viewer responsiveness on a large tomogram: writes a float32 MRC of 256×1024×1024 voxels (1 GiB),
 * then times `startViewer` until the first XY slice is served, and the latency of stepping to new
 * slices along each axis at full resolution (what the page asks for when zoomed in). The file is
 * read right after it was written, so figures are for a warm page cache. The file is deleted after.
 *
 * Alone: node --import tsx bench/viewer.ts   (or node dist/bench/viewer.js once built)
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeMrc } from '../src/io/mrc/index.js';
import type { Shape3 } from '../src/volume/volume.js';
import { startViewer } from '../src/viewer/server.js';

export interface ViewerBench {
  shape: Shape3;
  fileBytes: number;
  /** startViewer() until the first full-resolution XY slice has arrived. */
  openSeconds: number;
  /** Median latency of one step to a new slice (HTTP request to last byte), per slicing axis. */
  sliceMs: { z: number; y: number; x: number };
  /** Slowest step per axis: for x, the step that reads the file to gather a band of YZ slices. */
  sliceMaxMs: { z: number; y: number; x: number };
}

const SHAPE: Shape3 = [256, 1024, 1024];
const STEPS = 7;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

export async function benchViewer(shape: Shape3 = SHAPE): Promise<ViewerBench> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bench-viewer-'));
  const file = path.join(dir, 'large.mrc');
  try {
    const [nz, ny, nx] = shape;
    const data = new Float32Array(nz * ny * nx);
    for (let i = 0; i < data.length; i++) data[i] = (i % 4093) * 0.25 - 100;
    await writeMrc(file, { data, shape, voxelSize: { x: 10, y: 10, z: 10 } });
    const fileBytes = (await fs.stat(file)).size;

    const started = performance.now();
    const server = await startViewer({ tomogram: file, outDir: path.join(dir, 'out') });
    try {
      const get = async (query: string) => {
        const res = await fetch(new URL(`/api/slice?${query}`, server.url), { headers: { 'x-cryosam-token': server.token } });
        if (!res.ok) throw new Error(`slice ${query}: HTTP ${res.status}`);
        await res.arrayBuffer();
      };
      await get(`axis=z&index=${Math.floor(nz / 2)}`);
      const openSeconds = (performance.now() - started) / 1000;
      const step = async (axis: 'z' | 'y' | 'x', n: number) => {
        const times: number[] = [];
        // Start away from the middle slice so no step hits the server's slice cache.
        for (let k = 1; k <= STEPS; k++) {
          const t = performance.now();
          await get(`axis=${axis}&index=${Math.floor(n / 3) + k}`);
          times.push(performance.now() - t);
        }
        return times;
      };
      const times = { z: await step('z', nz), y: await step('y', ny), x: await step('x', nx) };
      const per = (f: (t: number[]) => number) => ({ z: f(times.z), y: f(times.y), x: f(times.x) });
      return { shape, fileBytes, openSeconds, sliceMs: per(median), sliceMaxMs: per((t) => Math.max(...t)) };
    } finally {
      await server.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchViewer();
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
