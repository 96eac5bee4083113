import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClassicalSegmenter } from '../../src/engines/classical/segmenter.js';
import type { SliceEmbedding } from '../../src/engines/types.js';
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
