/**
 * Engine names → engines. `classical` (default, weight-free), `xfeat` (classical segmenter + XFeat
 * features), or `SEG+FEAT` where each side is `classical`, `xfeat` or a model folder under the
 * models directory (e.g. `sam-vit-b+dinov2-vits14-reg`, `mobilesam+xfeat`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../errors.js';
import { modelsDir as defaultModelsDir } from '../paths.js';
import { ClassicalFeatures } from './classical/features.js';
import { ClassicalSegmenter } from './classical/segmenter.js';
import { CATALOG } from './models/catalog.js';
import { MANIFEST_FILE, readManifest } from './models/manifest.js';
import { installedModels } from './models/pull.js';
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

const BUILT_IN = new Set(['classical', 'xfeat']);

/** The error for an engine side that names no installed model: what is valid here, and how to get more. */
async function unknownModel(engine: string, side: string, modelsDir: string): Promise<CryosamError> {
  const installed = await installedModels(modelsDir);
  return new CryosamError(
    `engine '${engine}': '${side}' is neither a built-in engine (classical, xfeat) nor a model installed in ${modelsDir} ` +
      `(installed: ${installed.length ? installed.join(', ') : 'none'}). Engines are classical, xfeat, a model folder name, or SEG+FEAT ` +
      `of those (e.g. ${installed[0] ?? 'sam-vit-b'}+classical). Models that 'cryosam models pull NAME' gets: ${CATALOG.map((e) => e.name).join(', ')}`,
  );
}

/**
 * Splits an engine name into its segmenter and feature sides, checking that every side that is a
 * model folder is installed (so a bad --engine fails before any work, with the valid names).
 */
export async function parseEngineName(name: string, modelsDir: string): Promise<{ segmenter: string; features: string }> {
  const trimmed = name.trim();
  if (trimmed === '' ) throw new CryosamError(`empty engine name; use ${describeEngineNames()}`);
  if (trimmed === 'classical') return { segmenter: 'classical', features: 'classical' };
  if (trimmed === 'xfeat') return { segmenter: 'classical', features: 'xfeat' };
  const parts = trimmed.split('+');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new CryosamError(`engine '${name}' is not understood; use ${describeEngineNames()}`);
  for (const side of parts) {
    if (BUILT_IN.has(side)) continue;
    if (side.includes('/') || side.includes('\\') || side.startsWith('.')) throw await unknownModel(name, side, modelsDir);
    const present = await fs.stat(path.join(modelsDir, side, MANIFEST_FILE)).then((st) => st.isFile(), () => false);
    if (!present) throw await unknownModel(name, side, modelsDir);
  }
  if (parts.length === 2) return { segmenter: parts[0], features: parts[1] };
  // A lone model folder fills the other side with 'classical'.
  const m = await readManifest(path.join(modelsDir, trimmed));
  return m.kind === 'sam' || m.kind === 'sam-encoder' ? { segmenter: trimmed, features: 'classical' } : { segmenter: 'classical', features: trimmed };
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
