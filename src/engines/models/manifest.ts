/**
 * cryosam-model.json: the small file that describes a model folder, so any export with one of the
 * supported contracts can be dropped in without code changes. Validated with zod; errors name the
 * manifest file and the offending field.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CryosamError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';

export const MANIFEST_FILE = 'cryosam-model.json';

/** segment-anything's pixel statistics on 0..255 images. */
export const SAM_PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const SAM_PIXEL_STD = [58.395, 57.12, 57.375] as const;
/** ImageNet statistics on 0..1 images (DINO, DINOv2 and Hugging Face image processors). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const triple = z.tuple([z.number(), z.number(), z.number()]);
const positiveTriple = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

const fileRef = {
  /** File name inside the model folder. */
  file: z.string().min(1),
  /** Expected sha256; absent = unknown (checked by nothing, recorded by `models pull`). */
  sha256: sha256.optional(),
};

const samEncoder = z.object({
  ...fileRef,
  /** Encoder input side S: the slice's longest side is resized to S and padded to S×S. */
  inputSize: z.number().int().positive().default(1024),
  /** 'nchw': [B,3,S,S], normalised and zero-padded by us; 'hwc': [h,w,3] resized only, the graph normalises and pads. */
  layout: z.enum(['nchw', 'hwc']).default('nchw'),
  /** Applied as (v - mean) / std to the 0..255 slice; use 0 and 1 for graphs that normalise themselves. */
  pixelMean: triple.default([...SAM_PIXEL_MEAN]),
  pixelStd: positiveTriple.default([...SAM_PIXEL_STD]),
  /** Tensor names; default: the graph's only input and its first output. */
  input: z.string().optional(),
  output: z.string().optional(),
});

const samDecoder = z.object({
  ...fileRef,
  /** Side of the low-res logits and of mask_input (256 in SAM). */
  lowResSize: z.number().int().positive().default(256),
  /** Append the point (0,0) with label -1, as segment-anything's ONNX example does when no box is given. */
  padPoint: z.boolean().default(true),
  /** Input names; mask_input, has_mask_input and orig_im_size are used only when the graph has them. */
  inputs: z
    .object({
      imageEmbeddings: z.string().default('image_embeddings'),
      pointCoords: z.string().default('point_coords'),
      pointLabels: z.string().default('point_labels'),
      maskInput: z.string().default('mask_input'),
      hasMaskInput: z.string().default('has_mask_input'),
      origImSize: z.string().default('orig_im_size'),
    })
    .prefault({}),
  /** Output names; masks = null when the export returns only low-res logits (we upsample them). */
  outputs: z
    .object({
      masks: z.string().nullable().default('masks'),
      scores: z.string().default('iou_predictions'),
      lowResMasks: z.string().default('low_res_masks'),
    })
    .prefault({}),
});

const vitFeatures = z.object({
  ...fileRef,
  /** Square input side; the slice's longest side is resized to it (518 = 37 patches of 14, as CryoSAM). */
  inputSize: z.number().int().positive().default(518),
  /** 14 for DINOv2 ViT-S/B/L/g, 8 or 16 for DINO. */
  patchSize: z.number().int().positive().default(14),
  /** Register tokens after the CLS token (0, or 4 for the *-reg models). */
  registerTokens: z.number().int().min(0).max(64).default(0),
  clsToken: z.boolean().default(true),
  /** What the graph expects on 0..1 images: Hugging Face exports take ImageNet-normalised pixel_values. */
  pixelMean: triple.default([...IMAGENET_MEAN]),
  pixelStd: positiveTriple.default([...IMAGENET_STD]),
  input: z.string().optional(),
  output: z.string().default('last_hidden_state'),
});

const xfeat = z.object({
  ...fileRef,
  inputSize: z.number().int().positive().default(640),
  /** Frame pixels per descriptor cell. */
  stride: z.number().int().positive().default(8),
  input: z.string().optional(),
  output: z.string().default('output'),
});

const common = {
  /** Defaults to the folder name. */
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Where the weights came from (URL) and under which licence. */
  source: z.string().optional(),
  license: z.string().optional(),
};

export const manifestSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('sam'), encoder: samEncoder, decoder: samDecoder }),
  /** An encoder alone; `decoder` names the sam-decoder folder (beside it) that pairs with it. */
  z.object({ ...common, kind: z.literal('sam-encoder'), encoder: samEncoder, decoder: z.string().min(1).optional() }),
  z.object({ ...common, kind: z.literal('sam-decoder'), decoder: samDecoder }),
  z.object({ ...common, kind: z.literal('dinov2'), model: vitFeatures }),
  z.object({ ...common, kind: z.literal('dino'), model: vitFeatures }),
  z.object({ ...common, kind: z.literal('xfeat'), model: xfeat }),
]);

export type ModelManifest = z.infer<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
export type SamEncoderSpec = z.infer<typeof samEncoder>;
export type SamEncoderInput = z.input<typeof samEncoder>;
export type SamDecoderInput = z.input<typeof samDecoder>;
export type SamDecoderSpec = z.infer<typeof samDecoder>;
export type VitFeaturesSpec = z.infer<typeof vitFeatures>;
export type XFeatSpec = z.infer<typeof xfeat>;
export type ModelKind = ModelManifest['kind'];

/** Parses manifest JSON; `file` is named in every error. */
export function parseManifest(json: unknown, file: string): ModelManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new CryosamError(`invalid model manifest: ${problems.join('; ')}`, file);
  }
  return result.data;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new CryosamError(
      `no ${MANIFEST_FILE}: get a model with 'cryosam models pull NAME' (see 'cryosam models list'), ` +
        `or put an ONNX export in this folder with a ${MANIFEST_FILE} describing it`,
      dir,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CryosamError(`not valid JSON (${(err as Error).message})`, file);
  }
  return parseManifest(json, file);
}

export async function writeManifest(dir: string, manifest: ManifestInput): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  parseManifest(manifest, file);
  await writeFileAtomic(file, JSON.stringify(manifest, null, 2) + '\n');
}

/** Every weight file the manifest names, with its role, in a stable order. */
export function manifestFiles(m: ModelManifest): Array<{ role: string; file: string; sha256?: string }> {
  switch (m.kind) {
    case 'sam':
      return [
        { role: 'encoder', file: m.encoder.file, sha256: m.encoder.sha256 },
        { role: 'decoder', file: m.decoder.file, sha256: m.decoder.sha256 },
      ];
    case 'sam-encoder':
      return [{ role: 'encoder', file: m.encoder.file, sha256: m.encoder.sha256 }];
    case 'sam-decoder':
      return [{ role: 'decoder', file: m.decoder.file, sha256: m.decoder.sha256 }];
    default:
      return [{ role: 'model', file: m.model.file, sha256: m.model.sha256 }];
  }
}
