/** SamSegmenter: the PromptableSegmenter over an ONNX SAM-family encoder + decoder pair (the thin user API). */
import { CryosamError } from '../../errors.js';
import type { EngineIdentity, PromptableSegmenter, SegmentRequest, SegmentResult, Slice2D, SliceEmbedding } from '../types.js';
import type { SamDecoderSpec, SamEncoderSpec } from '../models/manifest.js';
import type { IntensityStats } from './intensity.js';
import { SamMaskDecoder } from './sam-decoder.js';
import { SamImageEncoder, type SamEmbedding } from './sam-encoder.js';
import type { ExecutionOptions } from './session.js';
import { frameGeometry } from './transforms.js';

export interface SamParts {
  name: string;
  encoder: { file: string; spec: SamEncoderSpec };
  decoder: { file: string; spec: SamDecoderSpec };
  /** sha256 standing for both weight files (see combineSha256). */
  weightsSha256: string;
}

const MAGIC = 0x4d415343; // "CSAM" little-endian
const FORMAT_VERSION = 1;

export class SamSegmenter implements PromptableSegmenter {
  private volumeStats?: IntensityStats;

  private constructor(
    private readonly parts: SamParts,
    private readonly encoder: SamImageEncoder,
    private readonly decoder: SamMaskDecoder,
    private readonly exec: ExecutionOptions,
  ) {}

  static async open(parts: SamParts, exec: ExecutionOptions = {}): Promise<SamSegmenter> {
    const encoder = await SamImageEncoder.load(parts.encoder.file, parts.encoder.spec, exec);
    try {
      const decoder = await SamMaskDecoder.load(parts.decoder.file, parts.decoder.spec, exec);
      return new SamSegmenter(parts, encoder, decoder, exec);
    } catch (err) {
      await encoder.dispose();
      throw err;
    }
  }

  identity(): EngineIdentity {
    const { encoder, decoder } = this.parts;
    return {
      name: this.parts.name,
      weightsSha256: this.parts.weightsSha256,
      params: {
        inputSize: encoder.spec.inputSize,
        layout: encoder.spec.layout,
        pixelMean: encoder.spec.pixelMean,
        pixelStd: encoder.spec.pixelStd,
        lowResSize: decoder.spec.lowResSize,
        padPoint: decoder.spec.padPoint,
        intensity: this.volumeStats ? { low: this.volumeStats.low, high: this.volumeStats.high } : 'per-slice 0.5-99.5 percentiles',
        device: this.exec.device ?? 'cpu',
      },
    };
  }

  /** Map every slice with the tomogram's 0.5/99.5 percentiles (see intensity.ts); undefined = per slice. */
  setVolumeStats(stats: IntensityStats | undefined): void {
    this.volumeStats = stats;
  }

  embed(slices: Slice2D[]): Promise<SliceEmbedding[]> {
    return this.encoder.embed(slices, this.volumeStats);
  }

  decode(embedding: SliceEmbedding, request: SegmentRequest): Promise<SegmentResult> {
    return this.decoder.decode(asSamEmbedding(embedding), request);
  }

  serializeEmbedding(embedding: SliceEmbedding): Uint8Array {
    const e = asSamEmbedding(embedding);
    const headerInts = 6 + e.dims.length;
    const bytes = new Uint8Array(headerInts * 4 + e.data.byteLength);
    const view = new DataView(bytes.buffer);
    [MAGIC, FORMAT_VERSION, e.height, e.width, e.geometry.side, e.dims.length, ...e.dims].forEach((v, i) => view.setUint32(i * 4, v, true));
    for (let i = 0; i < e.data.length; i++) view.setFloat32(headerInts * 4 + i * 4, e.data[i], true);
    return bytes;
  }

  deserializeEmbedding(bytes: Uint8Array): SliceEmbedding {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 24 || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== FORMAT_VERSION) {
      throw new CryosamError(`not a ${this.parts.name} embedding (bad header)`);
    }
    const [height, width, side, ndims] = [8, 12, 16, 20].map((o) => view.getUint32(o, true));
    // Checked before use: a damaged ndims would otherwise allocate billions of dims.
    if (height < 1 || width < 1 || bytes.byteLength < 24 + ndims * 4) {
      throw new CryosamError(`${this.parts.name} embedding header is corrupt (${height}×${width}, ${ndims} dims)`);
    }
    const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(24 + i * 4, true));
    const offset = 24 + ndims * 4;
    const count = dims.reduce((a, b) => a * b, 1);
    if (bytes.byteLength !== offset + count * 4 || side !== this.encoder.side) {
      throw new CryosamError(`embedding does not match ${this.parts.name} (size or input side differs)`);
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + i * 4, true);
    if (!data.every(Number.isFinite)) throw new CryosamError(`${this.parts.name} embedding holds non-finite values`);
    const embedding: SamEmbedding = { height, width, byteLength: data.byteLength, dims, data, geometry: frameGeometry(height, width, side) };
    return embedding;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.dispose(), this.decoder.dispose()]);
  }
}

function asSamEmbedding(e: SliceEmbedding): SamEmbedding {
  const s = e as Partial<SamEmbedding>;
  if (!(s.data instanceof Float32Array) || !s.dims || !s.geometry) {
    throw new CryosamError('embedding was not made by a SAM segmenter');
  }
  return e as SamEmbedding;
}
