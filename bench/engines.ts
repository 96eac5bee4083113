/**
 * Slices per second of each available 2D engine on CPU: the classical engines, XFeat (real
 * weights from the shared folder) and the tiny test models (plumbing figures only: pre/post-
 * processing and ORT overhead, not the speed of a real SAM or DINOv2). Run alone:
 * node --import tsx bench/engines.ts
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClassicalFeatures } from '../src/engines/classical/features.js';
import { ClassicalSegmenter } from '../src/engines/classical/segmenter.js';
import { openFeaturesFolder, openSegmenterFolder, openXFeat } from '../src/engines/onnx/open-model.js';
import type { FeatureExtractor, PromptableSegmenter } from '../src/engines/types.js';
import type { Slice2D } from '../src/volume/slice.js';
import { readMrc } from '../src/io/mrc/index.js';
import { modelsDir, sharedDir } from '../src/paths.js';
import { writeTinyDino, writeTinySam } from '../test/helpers/onnx-models.js';

export interface EngineBenchRow {
  engine: string;
  role: 'segmenter-embed' | 'segmenter-decode' | 'features';
  batch: number;
  slicesPerSec: number;
}

async function rate(batch: number, seconds: number, work: (n: number) => Promise<unknown>): Promise<number> {
  await work(batch); // warm-up
  let slices = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await work(batch);
    slices += batch;
  }
  return slices / ((performance.now() - t0) / 1000);
}

async function tomogramSlices(count: number): Promise<Slice2D[]> {
  const v = await readMrc(path.join(sharedDir(), 'data', 'deepfinder_toy100', 'tomo1_data.mrc'));
  const [nz, ny, nx] = v.shape;
  return Array.from({ length: count }, (_, i) => {
    const z = Math.floor(((i + 0.5) * nz) / count);
    return { data: v.data.slice(z * ny * nx, (z + 1) * ny * nx), height: ny, width: nx };
  });
}

/** quick: batch 1 only and 0.2 s per figure (a smoke run); otherwise batches 1 and 8, 1 s per figure. */
export async function benchEngines(opts: { threads?: number; batch?: number[]; quick?: boolean } = {}): Promise<EngineBenchRow[]> {
  const threads = opts.threads ?? 2;
  const batches = opts.batch ?? (opts.quick ? [1] : [1, 8]);
  const seconds = opts.quick ? 0.2 : 1;
  const maxBatch = Math.max(...batches);
  const slices = await tomogramSlices(maxBatch);
  const rows: EngineBenchRow[] = [];
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bench-engines-'));
  try {
    const segmenters: Array<[string, () => Promise<PromptableSegmenter>]> = [
      ['classical', async () => new ClassicalSegmenter()],
      ['tiny-sam (test model: plumbing only)', async () => openSegmenterFolder(await writeTinySam(path.join(tmp, 'tiny-sam')), { threads, batchSize: maxBatch })],
    ];
    const extractors: Array<[string, () => Promise<FeatureExtractor>]> = [
      ['classical', async () => new ClassicalFeatures()],
      ['xfeat', () => openXFeat(modelsDir(), { threads, batchSize: maxBatch })],
      [
        'tiny-dinov2-reg (test model: plumbing only)',
        async () => openFeaturesFolder(await writeTinyDino(path.join(tmp, 'tiny-dino'), { inputSize: 518, registerTokens: 4 }), { threads, batchSize: maxBatch }),
      ],
    ];
    for (const [engine, open] of segmenters) {
      const seg = await open();
      try {
        for (const batch of batches) {
          rows.push({ engine, role: 'segmenter-embed', batch, slicesPerSec: await rate(batch, seconds, (n) => seg.embed(slices.slice(0, n))) });
        }
        const [emb] = await seg.embed([slices[0]]);
        const prompt = { points: [{ x: slices[0].width >> 1, y: slices[0].height >> 1, label: 1 as const }] };
        rows.push({ engine, role: 'segmenter-decode', batch: 1, slicesPerSec: await rate(1, seconds, () => seg.decode(emb, prompt)) });
      } finally {
        await seg.dispose();
      }
    }
    for (const [engine, open] of extractors) {
      const fx = await open();
      try {
        for (const batch of batches) {
          rows.push({ engine, role: 'features', batch, slicesPerSec: await rate(batch, seconds, (n) => fx.extract(slices.slice(0, n))) });
        }
      } finally {
        await fx.dispose();
      }
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchEngines();
  process.stdout.write(`2D engines on ${os.cpus().length} CPU(s), 2 ORT threads, 100×100 slices of deepfinder tomo1:\n`);
  for (const r of rows) {
    process.stdout.write(`${r.engine.padEnd(46)} ${r.role.padEnd(17)} batch ${String(r.batch).padStart(2)}  ${r.slicesPerSec.toFixed(1).padStart(8)} slices/s\n`);
  }
}
