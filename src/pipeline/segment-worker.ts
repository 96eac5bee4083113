/**
 * A worker thread that segments proposals (cross-plane self-prompting) for a pick, so that a pick
 * uses every core: it reads the tomogram from shared memory, runs its own engines (made from the
 * same engine options, with the same intensity statistics) and its own embedding store, and
 * answers each proposal with its mask. A proposal's mask depends on nothing but the proposal and
 * the tomogram, so masks made here are the ones the main thread would make.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEngines } from '../engines/registry.js';
import { DiskCache } from './cache.js';
import { EmbeddingStore } from './embedding-store.js';
import { segmentFromPrompt } from './self-prompting.js';
import { SharedEmbeddings } from './shared-embeddings.js';
import { sliceCount } from '../volume/slice.js';
import type { SegmentWorkerData, SegmentWorkerReply, SegmentWorkerRequest } from './worker-pool.js';

const data = workerData as SegmentWorkerData;
const tomogram = { data: new Float32Array(data.tomogram.buffer), shape: data.tomogram.shape, voxelSize: data.tomogram.voxelSize };
const engines = await createEngines(data.engine);
engines.segmenter.setVolumeStats?.(data.volumeStats);
const cache = data.cacheDir ? new DiskCache(data.cacheDir, data.cacheLimitBytes, { onWarning: () => {} }) : undefined;
const shared = data.sharedEmbeddings ? new SharedEmbeddings(data.sharedEmbeddings) : undefined;
const store = new EmbeddingStore(tomogram, engines.segmenter, cache, data.keyPrefix, undefined, shared);

/** Embeds this worker's share of every slice (slot k, k + count, …) into the shared arena. */
async function prefill(index: number, count: number): Promise<void> {
  let slot = 0;
  for (const axis of ['z', 'y', 'x'] as const) {
    for (let i = 0; i < sliceCount(tomogram.shape, axis); i++, slot++) if (slot % count === index) await store.get(axis, i);
  }
}

parentPort!.on('message', (request: SegmentWorkerRequest) => {
  void (async () => {
    try {
      const mask = await segmentFromPrompt(store, tomogram.shape, request.peak, data.segment);
      const reply: SegmentWorkerReply = { id: request.id, mask, embedded: store.stats.embedded };
      parentPort!.postMessage(reply, mask ? [mask.mask.buffer as ArrayBuffer] : []);
    } catch (err) {
      parentPort!.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies SegmentWorkerReply);
    }
  })();
});
parentPort!.postMessage({ ready: true });
if (data.prefill) {
  await prefill(data.prefill.index, data.prefill.count);
  parentPort!.postMessage({ prefilled: true, embedded: store.stats.embedded });
}
