/**
 * Segmenter embeddings of tomogram slices, computed lazily (only slices a propagation visits) and
 * once per run: an in-memory LRU bounded in bytes, backed by the on-disk cache.
 */
import type { PromptableSegmenter, SegmentRequest, SegmentResult, SliceEmbedding } from '../engines/types.js';
import { extractSlice } from '../volume/slice.js';
import type { Axis, Volume } from '../volume/volume.js';
import { cacheKey, type DiskCache } from './cache.js';

export const DEFAULT_EMBEDDING_MEMORY_BYTES = 256 * 1024 ** 2;

export interface EmbeddingStats {
  /** Slices sent through the segmenter's encoder. */
  embedded: number;
  /** Embeddings read back from the disk cache. */
  cacheHits: number;
}

interface Held {
  embedding: SliceEmbedding;
  /** Its serialised size: what it holds in memory, to within a header. */
  bytes: number;
}

export class EmbeddingStore {
  readonly stats: EmbeddingStats = { embedded: 0, cacheHits: 0 };
  private readonly lru = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<Held>>();
  private heldBytes = 0;

  /**
   * @param keyPrefix identifies tomogram content and segmenter identity; the slice's axis and index are appended.
   * @param memoryBytes bound on the bytes of the embeddings held in memory.
   */
  constructor(
    private readonly tomogram: Volume,
    private readonly segmenter: PromptableSegmenter,
    private readonly cache: DiskCache | undefined,
    private readonly keyPrefix: string,
    private readonly memoryBytes = DEFAULT_EMBEDDING_MEMORY_BYTES,
  ) {}

  /** Decodes a prompt on slice `index` along `axis`, embedding the slice first if needed. */
  async decode(axis: Axis, index: number, request: SegmentRequest): Promise<SegmentResult> {
    return this.segmenter.decode(await this.get(axis, index), request);
  }

  async get(axis: Axis, index: number): Promise<SliceEmbedding> {
    const id = `${axis}${index}`;
    const hit = this.lru.get(id);
    if (hit) {
      this.lru.delete(id);
      this.lru.set(id, hit);
      return hit.embedding;
    }
    let p = this.pending.get(id);
    if (!p) {
      p = this.load(axis, index).finally(() => this.pending.delete(id));
      this.pending.set(id, p);
    }
    const held = await p;
    this.remember(id, held);
    return held.embedding;
  }

  private async load(axis: Axis, index: number): Promise<Held> {
    const key = cacheKey(this.keyPrefix, 'embedding', axis, String(index));
    const bytes = await this.cache?.get(key);
    if (bytes) {
      try {
        const embedding = this.segmenter.deserializeEmbedding(bytes);
        this.stats.cacheHits++;
        return { embedding, bytes: bytes.byteLength };
      } catch {
        // A corrupt or stale entry is recomputed and overwritten below.
      }
    }
    const [embedding] = await this.segmenter.embed([extractSlice(this.tomogram, axis, index)]);
    this.stats.embedded++;
    // Serialising measures the embedding's size (engines' embeddings scale differently with the
    // slice: SAM's are fixed, the classical ones follow the slice area); it is cheap next to embedding.
    const serialised = this.segmenter.serializeEmbedding(embedding);
    if (this.cache) await this.cache.put(key, serialised);
    return { embedding, bytes: serialised.byteLength };
  }

  private remember(id: string, held: Held): void {
    const old = this.lru.get(id);
    if (old) {
      this.lru.delete(id);
      this.heldBytes -= old.bytes;
    }
    this.lru.set(id, held);
    this.heldBytes += held.bytes;
    // Always keep the newest, however large: the walk needs it now.
    while (this.heldBytes > this.memoryBytes && this.lru.size > 1) {
      const [oldest, entry] = this.lru.entries().next().value as [string, Held];
      this.lru.delete(oldest);
      this.heldBytes -= entry.bytes;
    }
  }
}
