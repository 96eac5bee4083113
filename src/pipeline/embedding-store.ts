/**
 * Segmenter embeddings of tomogram slices, computed lazily (only slices a propagation visits) and
 * once per run: an in-memory LRU bounded in bytes, backed by the on-disk cache.
 */
import { ByteLru } from '../lru.js';
import type { PromptableSegmenter, SegmentRequest, SegmentResult, SliceEmbedding } from '../engines/types.js';
import { extractSlice, sliceShape } from '../volume/slice.js';
import type { Axis, Volume } from '../volume/volume.js';
import { cacheKey, type DiskCache } from './cache.js';
import type { SharedEmbeddings } from './shared-embeddings.js';

/** Least memory the store may hold, whatever the tomogram's size: 64 of SAM's 4 MiB embeddings. */
export const MIN_EMBEDDING_MEMORY_BYTES = 256 * 1024 ** 2;

/**
 * Default bound on the embeddings held: the tomogram's own bytes, at least MIN_EMBEDDING_MEMORY_BYTES.
 * A pick visits nearly every slice along each axis (1187 of 1224 on a 200×512×512 tomogram), and the
 * classical segmenter's embeddings of all of them take 0.75× the float32 tomogram: within this bound
 * no slice is embedded twice. A bound below what a pick visits makes it re-embed in a loop (64 MiB,
 * 43% of the classical embeddings there: 5.5× the embeddings, segment proposals 33 s → 134 s).
 */
export function defaultEmbeddingMemoryBytes(tomogram: Volume): number {
  return Math.max(MIN_EMBEDDING_MEMORY_BYTES, tomogram.data.byteLength);
}

export interface EmbeddingStats {
  /** Slices sent through the segmenter's encoder. */
  embedded: number;
  /** Embeddings read back from the disk cache. */
  cacheHits: number;
  /** Embeddings another thread made, read from shared memory. */
  sharedHits: number;
}

interface Held {
  embedding: SliceEmbedding;
  /** What it holds in memory (its serialised size where the engine does not say). */
  bytes: number;
}

export class EmbeddingStore {
  readonly stats: EmbeddingStats = { embedded: 0, cacheHits: 0, sharedHits: 0 };
  /** Embeddings held in memory, bounded by their bytes; a get counts as a use. */
  private readonly lru: ByteLru<SliceEmbedding>;
  private readonly pending = new Map<string, Promise<Held>>();

  /**
   * @param keyPrefix identifies tomogram content and segmenter identity; the slice's axis and index are appended.
   * @param memoryBytes bound on the bytes of the embeddings held in memory.
   */
  constructor(
    private readonly tomogram: Volume,
    private readonly segmenter: PromptableSegmenter,
    private readonly cache: DiskCache | undefined,
    private readonly keyPrefix: string,
    memoryBytes = defaultEmbeddingMemoryBytes(tomogram),
    /** Embeddings shared with the other threads of a pick (src/pipeline/shared-embeddings.ts). */
    private readonly shared?: SharedEmbeddings,
  ) {
    this.lru = new ByteLru(memoryBytes);
  }

  /** Decodes a prompt on slice `index` along `axis`, embedding the slice first if needed. */
  async decode(axis: Axis, index: number, request: SegmentRequest): Promise<SegmentResult> {
    return this.segmenter.decode(await this.get(axis, index), request);
  }

  async get(axis: Axis, index: number): Promise<SliceEmbedding> {
    const id = `${axis}${index}`;
    const hit = this.lru.get(id);
    if (hit) return hit;
    let p = this.pending.get(id);
    if (!p) {
      p = this.load(axis, index).finally(() => this.pending.delete(id));
      this.pending.set(id, p);
    }
    const held = await p;
    // Always kept, however large (the walk needs it now); older embeddings go first.
    this.lru.set(id, held.embedding, held.bytes);
    return held.embedding;
  }

  private async load(axis: Axis, index: number): Promise<Held> {
    if (!this.shared) return this.loadOwn(axis, index);
    // Embedded once for all threads (by this one or another), read from shared memory: no bytes of this store's own.
    const { bytes, computed } = await this.shared.get(axis, index, async () => {
      const own = await this.loadOwn(axis, index);
      return this.segmenter.serializeEmbedding(own.embedding);
    });
    if (!computed) this.stats.sharedHits++;
    return { embedding: this.segmenter.deserializeEmbedding(bytes), bytes: 0 };
  }

  private async loadOwn(axis: Axis, index: number): Promise<Held> {
    const key = cacheKey(this.keyPrefix, 'embedding', axis, String(index));
    const bytes = await this.cache?.get(key);
    if (this.cache && bytes) {
      const decoded = this.decodeCached(bytes, axis);
      if (typeof decoded !== 'string') {
        this.stats.cacheHits++;
        return { embedding: decoded, bytes: decoded.byteLength ?? bytes.byteLength };
      }
      // Never used: a body that decodes to another slice's shape would misplace every mask.
      await this.cache.discard(key, decoded);
    }
    const [embedding] = await this.segmenter.embed([extractSlice(this.tomogram, axis, index)]);
    this.stats.embedded++;
    // Serialised only for the disk cache, or to measure an engine's embedding that has no byteLength
    // (engines' embeddings scale differently with the slice: SAM's are fixed, the classical ones follow its area).
    const serialised = this.cache || embedding.byteLength === undefined ? this.segmenter.serializeEmbedding(embedding) : undefined;
    if (this.cache && serialised) await this.cache.put(key, serialised);
    return { embedding, bytes: embedding.byteLength ?? serialised?.byteLength ?? 0 };
  }

  /** The cached embedding, or why it cannot be this slice's (the engine's own checks, then the slice shape). */
  private decodeCached(bytes: Uint8Array, axis: Axis): SliceEmbedding | string {
    let embedding: SliceEmbedding;
    try {
      embedding = this.segmenter.deserializeEmbedding(bytes);
    } catch (err) {
      return `embedding does not decode: ${err instanceof Error ? err.message : String(err)}`;
    }
    const [height, width] = sliceShape(this.tomogram.shape, axis);
    if (embedding.height !== height || embedding.width !== width) {
      return `embedding of a ${embedding.height}×${embedding.width} slice, expected ${height}×${width}`;
    }
    return embedding;
  }
}
