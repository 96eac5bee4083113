/** The SAM-family image encoder (SAM ViT-B/L/H, MobileSAM, EdgeSAM, EfficientViT-SAM exports): slices → image embeddings. */
import { CryosamError } from '../../errors.js';
import type { Slice2D, SliceEmbedding } from '../types.js';
import type { SamEncoderSpec } from '../models/manifest.js';
import { sliceIntensity, toByteRange, type IntensityStats } from './intensity.js';
import {
  createSession,
  DEFAULT_BATCH_SIZE,
  floatOutput,
  hasDynamicBatch,
  Tensor,
  type ExecutionOptions,
  type Session,
} from './session.js';
import { frameGeometry, normalization, packHwc, packNchw, resample, type FrameGeometry } from './transforms.js';

/** A slice's image embedding (e.g. 256×64×64) plus the frame geometry the decoder needs. */
export interface SamEmbedding extends SliceEmbedding {
  readonly data: Float32Array;
  /** Embedding dims without the batch dimension, e.g. [256, 64, 64]. */
  readonly dims: readonly number[];
  readonly geometry: FrameGeometry;
}

export class SamImageEncoder {
  private constructor(
    private readonly session: Session,
    private readonly spec: SamEncoderSpec,
    private readonly file: string,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {}

  static async load(file: string, spec: SamEncoderSpec, exec: ExecutionOptions = {}): Promise<SamImageEncoder> {
    const session = await createSession(file, exec);
    const inputName = spec.input ?? session.inputNames[0];
    const outputName = spec.output ?? session.outputNames[0];
    if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
      await session.release();
      throw new CryosamError(
        `encoder tensors '${inputName}' → '${outputName}' not found (inputs: ${session.inputNames.join(', ')}; outputs: ${session.outputNames.join(', ')})`,
        file,
      );
    }
    // HWC exports take one unpadded image per call; NCHW exports batch when their batch dim is symbolic.
    const dynamic = spec.layout === 'nchw' && hasDynamicBatch(session, inputName, file);
    const batchSize = dynamic ? (exec.batchSize ?? DEFAULT_BATCH_SIZE) : 1;
    return new SamImageEncoder(session, spec, file, inputName, outputName, batchSize);
  }

  get side(): number {
    return this.spec.inputSize;
  }

  /**
   * Slices are mapped to 0..255 (volume 0.5/99.5 percentiles when given, else the slice's own),
   * resized so the longest side is S, normalised with the manifest's pixel mean/std and zero-padded
   * bottom/right (zero = the pixel mean after normalisation, as segment-anything does).
   */
  async embed(slices: readonly Slice2D[], volumeStats?: IntensityStats): Promise<SamEmbedding[]> {
    const out: SamEmbedding[] = [];
    const map = normalization(this.spec.pixelMean, this.spec.pixelStd);
    for (let start = 0; start < slices.length; start += this.batchSize) {
      const batch = slices.slice(start, start + this.batchSize);
      const geometries = batch.map((s) => frameGeometry(s.height, s.width, this.side));
      const images = batch.map((s, i) => {
        const stats = sliceIntensity(volumeStats, s);
        const g = geometries[i];
        return resample(toByteRange(s.data, stats.low, stats.high), s.height, s.width, g.resizedHeight, g.resizedWidth);
      });
      const input =
        this.spec.layout === 'nchw'
          ? new Tensor('float32', packNchw(images, geometries, map, () => [0, 0, 0]), [batch.length, 3, this.side, this.side])
          : new Tensor('float32', packHwc(images[0], geometries[0], map), [geometries[0].resizedHeight, geometries[0].resizedWidth, 3]);
      const result = await this.session.run({ [this.inputName]: input });
      const { data, dims } = floatOutput(result, this.outputName, this.file);
      const perSlice = data.length / batch.length;
      const embDims = dims.length === 4 ? dims.slice(1) : dims.slice(dims.length - 3);
      batch.forEach((s, i) => {
        out.push({
          height: s.height,
          width: s.width,
          byteLength: perSlice * 4,
          data: data.slice(i * perSlice, (i + 1) * perSlice),
          dims: embDims,
          geometry: geometries[i],
        });
      });
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
