/** Opening a model folder (cryosam-model.json + ONNX files) as an engine: the manifest decides which class. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { sharedDir } from '../../paths.js';
import { combineSha256 } from '../models/hash.js';
import { MANIFEST_FILE, readManifest, type ModelManifest, type SamDecoderSpec } from '../models/manifest.js';
import { verifyModelFolder } from '../models/verify.js';
import { VitFeatures } from './dinov2.js';
import { SamSegmenter } from './sam.js';
import type { ExecutionOptions } from './session.js';
import { XFeatFeatures } from './xfeat.js';

export type OnnxFeatures = VitFeatures | XFeatFeatures;

function modelName(dir: string, m: ModelManifest): string {
  return m.name ?? path.basename(dir);
}

/** A 'sam' folder, or a 'sam-encoder' folder whose manifest names its 'sam-decoder' folder beside it. */
export async function openSegmenterFolder(dir: string, exec: ExecutionOptions = {}): Promise<SamSegmenter> {
  const verified = await verifyModelFolder(dir);
  const m = verified.manifest;
  const file = path.join(dir, MANIFEST_FILE);
  let decoder: { file: string; spec: SamDecoderSpec; sha256: string };
  if (m.kind === 'sam') {
    decoder = { file: verified.files[1].path, spec: m.decoder, sha256: verified.files[1].actual };
  } else if (m.kind === 'sam-encoder') {
    if (!m.decoder) {
      throw new CryosamError(`a 'sam-encoder' model needs "decoder": the name of the sam-decoder folder to pair it with`, file);
    }
    const decoderDir = path.join(path.dirname(dir), m.decoder);
    const pair = await verifyModelFolder(decoderDir);
    if (pair.manifest.kind !== 'sam-decoder' && pair.manifest.kind !== 'sam') {
      throw new CryosamError(`decoder '${m.decoder}' is a '${pair.manifest.kind}' model, not a SAM decoder`, file);
    }
    const f = pair.files[pair.files.length - 1];
    decoder = { file: f.path, spec: pair.manifest.decoder, sha256: f.actual };
  } else {
    throw new CryosamError(`a '${m.kind}' model is not a segmenter (need kind 'sam' or 'sam-encoder')`, file);
  }
  const encoderFile = verified.files[0];
  return SamSegmenter.open(
    {
      name: modelName(dir, m),
      encoder: { file: encoderFile.path, spec: m.encoder },
      decoder: { file: decoder.file, spec: decoder.spec },
      weightsSha256: combineSha256([encoderFile.actual, decoder.sha256]),
    },
    exec,
  );
}

export async function openFeaturesFolder(dir: string, exec: ExecutionOptions = {}): Promise<OnnxFeatures> {
  const verified = await verifyModelFolder(dir);
  const m = verified.manifest;
  const weights = verified.files[0];
  switch (m.kind) {
    case 'dinov2':
    case 'dino':
      return VitFeatures.open(modelName(dir, m), weights.path, m.model, weights.actual, exec);
    case 'xfeat':
      return XFeatFeatures.open(modelName(dir, m), weights.path, m.model, weights.actual, exec);
    default:
      throw new CryosamError(`a '${m.kind}' model is not a feature extractor (need kind 'dinov2', 'dino' or 'xfeat')`, path.join(dir, MANIFEST_FILE));
  }
}

export const XFEAT_FILE = 'xfeat.onnx';

/**
 * XFeat, found in this order: <modelsDir>/xfeat with a manifest; <modelsDir>/xfeat/xfeat.onnx
 * without one (default contract); the development copy at <sharedDir>/models/xfeat/xfeat.onnx.
 */
export async function openXFeat(modelsDir: string, exec: ExecutionOptions = {}): Promise<XFeatFeatures> {
  const dir = path.join(modelsDir, 'xfeat');
  if (await exists(path.join(dir, MANIFEST_FILE))) {
    const m = await readManifest(dir);
    if (m.kind !== 'xfeat') throw new CryosamError(`expected an 'xfeat' model, found '${m.kind}'`, path.join(dir, MANIFEST_FILE));
    return (await openFeaturesFolder(dir, exec)) as XFeatFeatures;
  }
  for (const candidate of [dir, path.join(sharedDir(), 'models', 'xfeat')]) {
    if (await exists(path.join(candidate, XFEAT_FILE))) {
      const m: ModelManifest = { kind: 'xfeat', name: 'xfeat', model: { file: XFEAT_FILE, inputSize: 640, stride: 8, output: 'output' } };
      const verified = await verifyModelFolder(candidate, m);
      return XFeatFeatures.open('xfeat', verified.files[0].path, m.model, verified.files[0].actual, exec);
    }
  }
  throw new CryosamError(
    `XFeat weights not found: put the XFeat ONNX export (verlab/accelerated_features, input [1,3,640,640]) at ${path.join(dir, XFEAT_FILE)}`,
    dir,
  );
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
