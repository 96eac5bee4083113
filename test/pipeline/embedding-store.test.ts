import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClassicalEmbedding, serializeEmbedding } from '../../src/engines/classical/embedding.js';
import { ClassicalSegmenter } from '../../src/engines/classical/segmenter.js';
import type { SliceEmbedding } from '../../src/engines/types.js';
import { cacheKey, DiskCache } from '../../src/pipeline/cache.js';
import { defaultEmbeddingMemoryBytes, EmbeddingStore, MIN_EMBEDDING_MEMORY_BYTES } from '../../src/pipeline/embedding-store.js';
import { createVolume } from '../../src/volume/volume.js';

/** The classical segmenter, counting embeddings and serialisations. */
class CountingSegmenter extends ClassicalSegmenter {
  embedded = 0;
  serialised = 0;
  override async embed(slices: Parameters<ClassicalSegmenter['embed']>[0]): Promise<SliceEmbedding[]> {
    this.embedded += slices.length;
    return super.embed(slices);
  }
  override serializeEmbedding(embedding: SliceEmbedding): Uint8Array {
    this.serialised++;
    return super.serializeEmbedding(embedding);
  }
}

test('the store holds embeddings up to its bound in bytes, evicting the least recently used', async () => {
  const vol = createVolume([4, 32, 32]);
  vol.data.forEach((_, i) => (vol.data[i] = Math.sin(i * 0.37)));
  const segmenter = new CountingSegmenter();
  // Room for two 32×32 z slices (int8 codes: 1 KiB each), not three.
  const store = new EmbeddingStore(vol, segmenter, undefined, 'k', 2 * 1024);
  const first = await store.get('z', 0);
  assert.equal(first.byteLength, 32 * 32, 'the classical embedding reports its int8 codes');
  await store.get('z', 1);
  assert.equal(await store.get('z', 0), first, 'held');
  await store.get('z', 2); // evicts z1, the least recently used
  assert.equal(await store.get('z', 0), first);
  assert.equal(segmenter.embedded, 3);
  await store.get('z', 1);
  assert.equal(segmenter.embedded, 4, 'z1 was evicted and is embedded again');
  assert.equal(segmenter.serialised, 0, 'without a disk cache nothing is serialised');
});

test('the default bound is the tomogram’s own bytes, never below the floor', () => {
  assert.equal(defaultEmbeddingMemoryBytes(createVolume([8, 8, 8])), MIN_EMBEDDING_MEMORY_BYTES);
  // 320 MiB of zeros: allocated untouched, so it costs address space only.
  const large = createVolume([80, 1024, 1024]);
  assert.equal(defaultEmbeddingMemoryBytes(large), 320 * 1024 ** 2);
});

/** A 4×32×24 volume (z slices 32×24, y slices 4×24), a segmenter and a cache with collected warnings. */
async function cachedSetup(): Promise<{ dir: string; vol: ReturnType<typeof createVolume>; cache: DiskCache; warnings: string[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-embedding-store-'));
  const vol = createVolume([4, 32, 24]);
  vol.data.forEach((_, i) => (vol.data[i] = Math.sin(i * 0.37)));
  const warnings: string[] = [];
  return { dir, vol, cache: new DiskCache(dir, 1 << 24, { onWarning: (m) => warnings.push(m) }), warnings };
}

test('embeddings come back from the disk cache', async () => {
  const { dir, vol, cache, warnings } = await cachedSetup();
  try {
    const segmenter = new CountingSegmenter();
    const first = await new EmbeddingStore(vol, segmenter, cache, 'k').get('z', 1);
    const store = new EmbeddingStore(vol, segmenter, cache, 'k');
    const again = (await store.get('z', 1)) as ClassicalEmbedding;
    assert.equal(store.stats.cacheHits, 1);
    assert.equal(segmenter.embedded, 1);
    assert.deepEqual(again.codes, (first as ClassicalEmbedding).codes);
    assert.deepEqual(warnings, []);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** Bodies that pass the cache's envelope check but must not be used for slice z1 of cachedSetup's volume. */
const badBodies: [string, (segmenter: ClassicalSegmenter, vol: ReturnType<typeof createVolume>) => Promise<Uint8Array>][] = [
  ['a NaN scale', async () => serializeEmbedding(new ClassicalEmbedding(32, 24, new Int8Array(32 * 24), NaN))],
  ['a zero scale', async () => serializeEmbedding(new ClassicalEmbedding(32, 24, new Int8Array(32 * 24), 0))],
  ['the shape of another slice (a y slice, 4×24)', async (segmenter) => {
    const other = new EmbeddingStore(createVolume([4, 32, 24]), segmenter, undefined, 'other');
    return segmenter.serializeEmbedding(await other.get('y', 0));
  }],
  ['a truncated body', async () => serializeEmbedding(new ClassicalEmbedding(32, 24, new Int8Array(32 * 24), 1)).subarray(0, 100)],
];

for (const [name, body] of badBodies) {
  test(`a cached embedding with ${name} is recomputed, counted as corrupt and warned about`, async () => {
    const { dir, vol, cache, warnings } = await cachedSetup();
    try {
      const segmenter = new CountingSegmenter();
      const key = cacheKey('k', 'embedding', 'z', '1');
      await cache.put(key, await body(segmenter, vol));
      const embedded = segmenter.embedded;
      const store = new EmbeddingStore(vol, segmenter, cache, 'k');
      const got = (await store.get('z', 1)) as ClassicalEmbedding;
      assert.equal(store.stats.cacheHits, 0);
      assert.equal(segmenter.embedded, embedded + 1, 'embedded afresh');
      assert.equal(got.height, 32);
      assert.equal(got.width, 24);
      assert.ok(Number.isFinite(got.scale) && got.scale > 0);
      assert.equal(cache.stats.corrupt, 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /corrupt cache entry/);
      // The recomputed embedding replaced the bad entry.
      const next = new EmbeddingStore(vol, segmenter, cache, 'k');
      assert.deepEqual(((await next.get('z', 1)) as ClassicalEmbedding).codes, got.codes);
      assert.equal(next.stats.cacheHits, 1);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
