/**
 * XFeat dense descriptors (verlab/accelerated_features ONNX export): input [1,3,640,640] →
 * output [1,64,80,80] (stride 8). The graph's first nodes average the three channels and apply
 * InstanceNormalization, so any affine intensity scaling gives the same descriptors; we feed the
 * slice mapped to 0..255 (0.5/99.5 percentiles, tomogram-wide when setVolumeStats was called) and
 * pad with the slice mean so the padding does not skew the graph's instance normalisation.
 * Descriptors are L2-normalised per cell.
 */
import type { EngineIdentity, FeatureExtractor, FeatureGrid, Slice2D } from '../types.js';
import type { XFeatSpec } from '../models/manifest.js';
import { CryosamError } from '../../errors.js';
import { ImageEncoderSession } from './batch.js';
import { toFeatureGrid } from './grid.js';
import { sliceIntensity, toByteRange, type IntensityStats } from './intensity.js';
import type { ExecutionOptions } from './session.js';
import { frameGeometry, packNchw, resample } from './transforms.js';

const IDENTITY_MAP = { scale: [1, 1, 1], offset: [0, 0, 0] } as const;

export class XFeatFeatures implements FeatureExtractor {
  private volumeStats?: IntensityStats;

  private constructor(
    private readonly name: string,
    private readonly spec: XFeatSpec,
    private readonly encoder: ImageEncoderSession,
    private readonly weightsSha256: string,
    private readonly exec: ExecutionOptions,
  ) {}

  static async open(name: string, file: string, spec: XFeatSpec, weightsSha256: string, exec: ExecutionOptions = {}): Promise<XFeatFeatures> {
    const encoder = await ImageEncoderSession.open(file, spec.input, spec.output, exec);
    return new XFeatFeatures(name, spec, encoder, weightsSha256, exec);
  }

  identity(): EngineIdentity {
    return {
      name: this.name,
      weightsSha256: this.weightsSha256,
      params: {
        inputSize: this.spec.inputSize,
        stride: this.spec.stride,
        intensity: this.volumeStats ? { low: this.volumeStats.low, high: this.volumeStats.high } : 'per-slice 0.5-99.5 percentiles',
        device: this.exec.device ?? 'cpu',
      },
    };
  }

  setVolumeStats(stats: IntensityStats | undefined): void {
    this.volumeStats = stats;
  }

  async extract(slices: Slice2D[]): Promise<FeatureGrid[]> {
    const { inputSize: side, stride } = this.spec;
    const cells = side / stride;
    const geometries = slices.map((s) => frameGeometry(s.height, s.width, side));
    const grids: FeatureGrid[] = new Array(slices.length);
    await this.encoder.run(
      slices,
      side,
      (batch, first) => {
        const gs = geometries.slice(first, first + batch.length);
        const images = batch.map((s, i) => {
          const stats = sliceIntensity(this.volumeStats, s);
          return resample(toByteRange(s.data, stats.low, stats.high), s.height, s.width, gs[i].resizedHeight, gs[i].resizedWidth);
        });
        const means = images.map((img) => img.reduce((a, v) => a + v, 0) / Math.max(1, img.length));
        return packNchw(images, gs, IDENTITY_MAP, (b) => [means[b], means[b], means[b]]);
      },
      (data, dims, first, count) => {
        const [, channels, h, w] = dims;
        if (dims.length !== 4 || h !== cells || w !== cells) {
          throw new CryosamError(`descriptors have shape [${dims.join(',')}], expected [${count},C,${cells},${cells}]`, this.encoder.file);
        }
        const plane = h * w;
        for (let b = 0; b < count; b++) {
          const base = b * channels * plane;
          grids[first + b] = toFeatureGrid((r, c, k) => data[base + k * plane + r * w + c], channels, geometries[first + b], stride, true);
        }
      },
    );
    return grids;
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose();
  }
}
