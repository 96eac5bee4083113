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

export class EmbeddingStore {
  readonly stats: EmbeddingStats = { embedded: 0, cacheHits: 0 };
  private readonly lru = new Map<string, SliceEmbedding>();
  private readonly pending = new Map<string, Promise<SliceEmbedding>>();
  private maxEntries = Infinity;

  /**
   * @param keyPrefix identifies tomogram content and segmenter identity; the slice's axis and index are appended.
   * @param memoryBytes bound on the embeddings held in memory (estimated from the first one's serialised size).
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
      return hit;
    }
    let p = this.pending.get(id);
    if (!p) {
      p = this.load(axis, index).finally(() => this.pending.delete(id));
      this.pending.set(id, p);
    }
    const emb = await p;
    this.remember(id, emb);
    return emb;
  }

  private async load(axis: Axis, index: number): Promise<SliceEmbedding> {
    const key = cacheKey(this.keyPrefix, 'embedding', axis, String(index));
    const bytes = await this.cache?.get(key);
    if (bytes) {
      try {
        const emb = this.segmenter.deserializeEmbedding(bytes);
        this.stats.cacheHits++;
        this.sizeFrom(bytes.byteLength);
        return emb;
      } catch {
        // A corrupt or stale entry is recomputed and overwritten below.
      }
    }
    const [emb] = await this.segmenter.embed([extractSlice(this.tomogram, axis, index)]);
    this.stats.embedded++;
    if (this.cache || this.maxEntries === Infinity) {
      const ser = this.segmenter.serializeEmbedding(emb);
      this.sizeFrom(ser.byteLength);
      if (this.cache) await this.cache.put(key, ser);
    }
    return emb;
  }

  private sizeFrom(bytesPerEmbedding: number): void {
    if (this.maxEntries === Infinity) this.maxEntries = Math.max(8, Math.floor(this.memoryBytes / Math.max(1, bytesPerEmbedding)));
  }

  private remember(id: string, emb: SliceEmbedding): void {
    this.lru.delete(id);
    this.lru.set(id, emb);
    while (this.lru.size > this.maxEntries) {
      const oldest = this.lru.keys().next().value;
      if (oldest === undefined) break;
      this.lru.delete(oldest);
    }
  }
}
