/**
 * Engine names → engines. `classical` (default, weight-free), `xfeat` (classical segmenter + XFeat
 * features), or `SEG+FEAT` where each side is `classical`, `xfeat` or a model folder under the
 * models directory (e.g. `sam-vit-b+dinov2-vits14-reg`, `mobilesam+xfeat`).
 */
import path from 'node:path';
import { CryosamError } from '../errors.js';
import { modelsDir as defaultModelsDir } from '../paths.js';
import { ClassicalFeatures } from './classical/features.js';
import { ClassicalSegmenter } from './classical/segmenter.js';
import { readManifest } from './models/manifest.js';
import type { Device } from './onnx/session.js';
import type { EngineIdentity, FeatureExtractor, PromptableSegmenter } from './types.js';

export interface EngineOptions {
  /** Engine name (see describeEngineNames); default 'classical'. */
  engine?: string;
  /** Where model folders live; default modelsDir() ($CRYOSAM_MODELS or ~/.cache/cryosam/models). */
  modelsDir?: string;
  device?: Device;
  threads?: number;
  batchSize?: number;
}

export interface Engines {
  segmenter: PromptableSegmenter;
  features: FeatureExtractor;
  describe(): { segmenter: EngineIdentity; features: EngineIdentity };
  dispose(): Promise<void>;
}

export const DEFAULT_ENGINE = 'classical';

export function describeEngineNames(): string {
  return (
    `'classical' (default: weight-free segmenter and features), 'xfeat' (classical segmenter + XFeat features), ` +
    `or SEG+FEAT where each side is 'classical', 'xfeat' or a model folder in the models directory ` +
    `(e.g. sam-vit-b+dinov2-vits14-reg, mobilesam+xfeat; a lone model folder name fills the other side with 'classical'). ` +
    `Get models with 'cryosam models pull NAME'.`
  );
}

/** Splits an engine name into its segmenter and feature sides. */
export async function parseEngineName(name: string, modelsDir: string): Promise<{ segmenter: string; features: string }> {
  const trimmed = name.trim();
  if (trimmed === '' ) throw new CryosamError(`empty engine name; use ${describeEngineNames()}`);
  if (trimmed === 'classical') return { segmenter: 'classical', features: 'classical' };
  if (trimmed === 'xfeat') return { segmenter: 'classical', features: 'xfeat' };
  const parts = trimmed.split('+');
  if (parts.length === 2 && parts[0] && parts[1]) return { segmenter: parts[0], features: parts[1] };
  if (parts.length === 1) {
    const m = await readManifest(path.join(modelsDir, trimmed));
    return m.kind === 'sam' || m.kind === 'sam-encoder'
      ? { segmenter: trimmed, features: 'classical' }
      : { segmenter: 'classical', features: trimmed };
  }
  throw new CryosamError(`engine '${name}' is not understood; use ${describeEngineNames()}`);
}

export async function createEngines(opts: EngineOptions = {}): Promise<Engines> {
  const dir = opts.modelsDir ?? defaultModelsDir();
  const exec = { device: opts.device, threads: opts.threads, batchSize: opts.batchSize };
  const names = await parseEngineName(opts.engine ?? DEFAULT_ENGINE, dir);
  // The ONNX runtime (a native library of tens of MiB) is loaded only when an ONNX engine is asked for.
  const onnx = () => import('./onnx/open-model.js');
  const segmenter: PromptableSegmenter =
    names.segmenter === 'classical' ? new ClassicalSegmenter() : await (await onnx()).openSegmenterFolder(path.join(dir, names.segmenter), exec);
  let features: FeatureExtractor;
  try {
    if (names.features === 'classical') features = new ClassicalFeatures();
    else if (names.features === 'xfeat') features = await (await onnx()).openXFeat(dir, exec);
    else features = await (await onnx()).openFeaturesFolder(path.join(dir, names.features), exec);
  } catch (err) {
    await segmenter.dispose();
    throw err;
  }
  return {
    segmenter,
    features,
    describe: () => ({ segmenter: segmenter.identity(), features: features.identity() }),
    dispose: async () => {
      await Promise.all([segmenter.dispose(), features.dispose()]);
    },
  };
}
