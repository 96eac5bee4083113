/**
 * DINOv2 / DINO patch features from Hugging Face-style ONNX exports: pixel_values [B,3,S,S] →
 * last_hidden_state [B, 1+R+N, C] (CLS, R register tokens, N = (S/patch)² patch tokens).
 *
 * Intensities follow the CryoSAM reference code (extract_dino): each slice is standardised with the
 * tomogram's mean and std (setVolumeStats; else the slice's own) and fed as the ImageNet-normalised
 * image. That equals mapping the standardised slice onto ImageNet statistics (v = z·std + mean on
 * 0..1) and then applying the export's pixel normalisation, which is how we compute it, so exports
 * that normalise inside the graph (pixelMean 0, pixelStd 1) get the right input too. Unlike the
 * reference (which stretches every slice to 518×518), the longest side is resized to S and the rest
 * padded with the tomogram mean, so grid cells stay square and stride is one number.
 */
import { CryosamError } from '../../errors.js';
import type { EngineIdentity, FeatureExtractor, FeatureGrid, Slice2D } from '../types.js';
import { IMAGENET_MEAN, IMAGENET_STD, type VitFeaturesSpec } from '../models/manifest.js';
import { ImageEncoderSession } from './batch.js';
import { toFeatureGrid } from './grid.js';
import { sliceIntensity, zScore, type IntensityStats } from './intensity.js';
import type { ExecutionOptions } from './session.js';
import { frameGeometry, packNchw, resample, type ChannelMap } from './transforms.js';

export class VitFeatures implements FeatureExtractor {
  private volumeStats?: IntensityStats;
  private readonly map: ChannelMap;

  private constructor(
    private readonly name: string,
    private readonly spec: VitFeaturesSpec,
    private readonly encoder: ImageEncoderSession,
    private readonly weightsSha256: string,
    private readonly exec: ExecutionOptions,
  ) {
    // pixel = (z·imagenetStd + imagenetMean − pixelMean) / pixelStd, per channel.
    const s = spec.pixelStd;
    const m = spec.pixelMean;
    this.map = {
      scale: [IMAGENET_STD[0] / s[0], IMAGENET_STD[1] / s[1], IMAGENET_STD[2] / s[2]],
      offset: [(IMAGENET_MEAN[0] - m[0]) / s[0], (IMAGENET_MEAN[1] - m[1]) / s[1], (IMAGENET_MEAN[2] - m[2]) / s[2]],
    };
  }

  static async open(name: string, file: string, spec: VitFeaturesSpec, weightsSha256: string, exec: ExecutionOptions = {}): Promise<VitFeatures> {
    if (spec.inputSize % spec.patchSize !== 0) {
      throw new CryosamError(`inputSize ${spec.inputSize} is not a multiple of patchSize ${spec.patchSize}`, file);
    }
    const encoder = await ImageEncoderSession.open(file, spec.input, spec.output, exec);
    return new VitFeatures(name, spec, encoder, weightsSha256, exec);
  }

  identity(): EngineIdentity {
    return {
      name: this.name,
      weightsSha256: this.weightsSha256,
      params: {
        inputSize: this.spec.inputSize,
        patchSize: this.spec.patchSize,
        registerTokens: this.spec.registerTokens,
        clsToken: this.spec.clsToken,
        pixelMean: this.spec.pixelMean,
        pixelStd: this.spec.pixelStd,
        intensity: this.volumeStats ? { mean: this.volumeStats.mean, std: this.volumeStats.std } : 'per-slice mean/std',
        device: this.exec.device ?? 'cpu',
      },
    };
  }

  /** Standardise every slice with the tomogram's mean/std (as CryoSAM); undefined = per slice. */
  setVolumeStats(stats: IntensityStats | undefined): void {
    this.volumeStats = stats;
  }

  async extract(slices: Slice2D[]): Promise<FeatureGrid[]> {
    const { inputSize: side, patchSize: patch } = this.spec;
    const perSide = side / patch;
    const skip = (this.spec.clsToken ? 1 : 0) + this.spec.registerTokens;
    const grids: FeatureGrid[] = new Array(slices.length);
    const geometries = slices.map((s) => frameGeometry(s.height, s.width, side));
    const padValue = this.map.offset; // z = 0: the tomogram mean
    await this.encoder.run(
      slices,
      side,
      (batch, first) => {
        const gs = geometries.slice(first, first + batch.length);
        const images = batch.map((s, i) => {
          const stats = sliceIntensity(this.volumeStats, s);
          return resample(zScore(s.data, stats.mean, stats.std), s.height, s.width, gs[i].resizedHeight, gs[i].resizedWidth);
        });
        return packNchw(images, gs, this.map, () => padValue);
      },
      (data, dims, first, count) => {
        const [, tokens, channels] = dims;
        if (dims.length !== 3 || tokens !== skip + perSide * perSide) {
          throw new CryosamError(
            `last_hidden_state has shape [${dims.join(',')}], expected [${count},${skip + perSide * perSide},C] ` +
              `(${skip} CLS/register tokens + ${perSide}×${perSide} patches); check inputSize, patchSize and registerTokens in the manifest`,
            this.encoder.file,
          );
        }
        for (let b = 0; b < count; b++) {
          const base = (b * tokens + skip) * channels;
          grids[first + b] = toFeatureGrid(
            (r, c, k) => data[base + (r * perSide + c) * channels + k],
            channels,
            geometries[first + b],
            patch,
            false,
          );
        }
      },
    );
    return grids;
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose();
  }
}
