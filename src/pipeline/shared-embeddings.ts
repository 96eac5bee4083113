/**
 * Slice embeddings shared by the threads of one pick: every slice is embedded once, by whichever
 * thread needs it first, into one SharedArrayBuffer that all of them read. Without it each worker
 * embeds nearly every slice itself (a pick visits ~all of them), and embedding is about half of
 * segmenting proposals with the classical engine. Only for engines whose serialised embedding has a
 * size known from the slice's (PromptableSegmenter.embeddingBytes); others keep per-thread stores.
 */
import type { PromptableSegmenter } from '../engines/types.js';
import { sliceCount, sliceShape } from '../volume/slice.js';
import type { Axis, Shape3 } from '../volume/volume.js';

const AXES: readonly Axis[] = ['z', 'y', 'x'];
/** Atomics.waitAsync (ES2024, in Node ≥ 16): resolves when the value at `index` is no longer `value`. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { value: Promise<string> | string } }).waitAsync;
const EMPTY = 0, BUSY = 1, READY = 2;

/** What a worker needs to open the same arena: plain data, sent with workerData. */
export interface SharedEmbeddingsLayout {
  arena: SharedArrayBuffer;
  state: SharedArrayBuffer;
  shape: Shape3;
  /** Serialised bytes of one embedding of a slice along z, y and x. */
  slotBytes: [number, number, number];
}

export class SharedEmbeddings {
  private readonly bytes: Uint8Array;
  private readonly state: Int32Array;
  private readonly first: number[] = [];
  private readonly offsets: number[] = [];

  constructor(readonly layout: SharedEmbeddingsLayout) {
    this.bytes = new Uint8Array(layout.arena);
    this.state = new Int32Array(layout.state);
    let slot = 0, offset = 0;
    AXES.forEach((axis, a) => {
      this.first.push(slot);
      this.offsets.push(offset);
      const n = sliceCount(layout.shape, axis);
      slot += n;
      offset += n * layout.slotBytes[a];
    });
  }

  /** An arena for every slice of the tomogram, or undefined when the engine cannot say its embeddings' size. */
  static create(shape: Shape3, segmenter: PromptableSegmenter): SharedEmbeddings | undefined {
    if (!segmenter.embeddingBytes) return undefined;
    const slotBytes = AXES.map((axis) => {
      const [h, w] = sliceShape(shape, axis);
      return segmenter.embeddingBytes!(h, w);
    }) as [number, number, number];
    const slots = AXES.reduce((s, axis) => s + sliceCount(shape, axis), 0);
    const total = AXES.reduce((s, axis, a) => s + sliceCount(shape, axis) * slotBytes[a], 0);
    return new SharedEmbeddings({ arena: new SharedArrayBuffer(total), state: new SharedArrayBuffer(4 * slots), shape, slotBytes });
  }

  /**
   * The serialised embedding of slice `index` along `axis` (a view into shared memory): made by
   * `compute` if no thread has made it, else awaited from the thread that is making it.
   * @returns the bytes, and whether this call computed them.
   */
  async get(axis: Axis, index: number, compute: () => Promise<Uint8Array>): Promise<{ bytes: Uint8Array; computed: boolean }> {
    const a = AXES.indexOf(axis);
    const slot = this.first[a] + index;
    const size = this.layout.slotBytes[a];
    const view = () => this.bytes.subarray(this.offsets[a] + index * size, this.offsets[a] + (index + 1) * size);
    for (;;) {
      const s = Atomics.load(this.state, slot);
      if (s === READY) return { bytes: view(), computed: false };
      if (s === EMPTY && Atomics.compareExchange(this.state, slot, EMPTY, BUSY) === EMPTY) {
        try {
          const bytes = await compute();
          if (bytes.byteLength !== size) throw new Error(`embedding of ${bytes.byteLength} bytes, its slot holds ${size}`);
          view().set(bytes);
          Atomics.store(this.state, slot, READY);
          return { bytes: view(), computed: true };
        } catch (err) {
          Atomics.store(this.state, slot, EMPTY);
          throw err;
        } finally {
          Atomics.notify(this.state, slot);
        }
      }
      // Another thread is making it: wait for its notify (or for the state to have moved on).
      if (s === BUSY) await waitAsync(this.state, slot, BUSY).value;
    }
  }
}
