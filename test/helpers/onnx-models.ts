/**
 * Tiny ONNX models with the exact input/output contracts of the real exports (SAM encoder and
 * decoder, DINOv2), built here with fixed weights so tests never download anything. Each writer
 * puts the .onnx file(s) and a cryosam-model.json into a folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { writeManifest, type ManifestInput } from '../../src/engines/models/manifest.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

type Dim = number | string;
type Attr = number | number[] | string;

/** A minimal graph builder: nodes get unique output names, constants become initializers. */
class Graph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private count = 0;

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputName?: string): string {
    const out = outputName ?? `${opType.toLowerCase()}_${this.count++}`;
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
      return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
    });
    this.nodes.push({ opType, input: inputs, output: [out], attribute });
    return out;
  }

  floats(values: ArrayLike<number>, dims: number[]): string {
    const name = `const_${this.count++}`;
    const data = Float32Array.from(values);
    this.inits.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  ints(values: number[], dims: number[] = [values.length]): string {
    const name = `const_${this.count++}`;
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.push({ name, dims, dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  encode(inputs: Array<[string, Dim[]]>, outputs: Array<[string, Dim[]]>): Uint8Array {
    const info = ([name, dims]: [string, Dim[]]) => ({
      name,
      type: {
        tensorType: {
          elemType: FLOAT,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'cryosam-tests',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'tiny', node: this.nodes, initializer: this.inits, input: inputs.map(info), output: outputs.map(info) },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

export const TINY_EMBED_CHANNELS = 256;
/** Decoder bump radius in 1024-frame pixels: low-res logit = 1 − d²/R² around the first point. */
export const TINY_DECODER_RADIUS = 80;
/** Scores of the 3-mask decoder; the single-mask request picks the best (index 1). */
export const TINY_MULTI_SCORES = [0.7, 0.9, 0.8];
/** Logit offsets of the 3 masks: mask 1 is the plain bump, 0 smaller, 2 larger. */
export const TINY_MULTI_OFFSETS = [-0.5, 0, 0.5];

/**
 * SAM image encoder: image [B,3,1024,1024] → AveragePool 16×16 → 1×1 Conv → image_embeddings
 * [B,256,64,64]. Output channel k copies input channel k % 3 (scaled by 1 + k/256), so channel 0 is
 * the 16×16 block mean of the normalised red plane.
 */
export function samEncoderModel(): Uint8Array {
  const g = new Graph();
  const pooled = g.op('AveragePool', ['image'], { kernel_shape: [16, 16], strides: [16, 16] });
  const w = new Float32Array(TINY_EMBED_CHANNELS * 3);
  for (let k = 0; k < TINY_EMBED_CHANNELS; k++) w[k * 3 + (k % 3)] = 1 + k / 256;
  g.op('Conv', [pooled, g.floats(w, [TINY_EMBED_CHANNELS, 3, 1, 1])], {}, 'image_embeddings');
  return g.encode([['image', ['batch', 3, 1024, 1024]]], [['image_embeddings', ['batch', TINY_EMBED_CHANNELS, 64, 64]]]);
}

/**
 * SAM decoder with segment-anything's full ONNX contract. low_res_masks = 1 − d²/R² (d = distance
 * of each low-res cell centre, in the 1024 frame, from the first prompt point) + has_mask_input ·
 * mask_input + 0.001 · embedding channel 0 (upsampled), plus a per-mask offset; masks = low-res
 * logits upscaled to 1024, cropped to the resized slice and resized to orig_im_size, as
 * segment-anything's postprocessing does; iou_predictions are constants.
 */
export function samDecoderModel(multimask: boolean): Uint8Array {
  const g = new Graph();
  const m = multimask ? 3 : 1;
  // Centres of the 256×256 low-res cells in the 1024 frame.
  const xs = new Float32Array(256 * 256);
  const ys = new Float32Array(256 * 256);
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < 256; j++) {
      xs[i * 256 + j] = (j + 0.5) * 4;
      ys[i * 256 + j] = (i + 0.5) * 4;
    }
  }
  const first = g.op('Slice', ['point_coords', g.ints([0]), g.ints([1]), g.ints([1])]); // [1,1,2]
  const px = g.op('Unsqueeze', [g.op('Slice', [first, g.ints([0]), g.ints([1]), g.ints([2])]), g.ints([3])]); // [1,1,1,1]
  const py = g.op('Unsqueeze', [g.op('Slice', [first, g.ints([1]), g.ints([2]), g.ints([2])]), g.ints([3])]);
  const dx = g.op('Sub', [g.floats(xs, [1, 1, 256, 256]), px]);
  const dy = g.op('Sub', [g.floats(ys, [1, 1, 256, 256]), py]);
  const d2 = g.op('Add', [g.op('Mul', [dx, dx]), g.op('Mul', [dy, dy])]);
  const bump = g.op('Sub', [g.floats([1], [1]), g.op('Div', [d2, g.floats([TINY_DECODER_RADIUS ** 2], [1])])]);
  const prior = g.op('Mul', ['mask_input', 'has_mask_input']);
  const emb0 = g.op('Slice', ['image_embeddings', g.ints([0]), g.ints([1]), g.ints([1])]); // [1,1,64,64]
  const emb = g.op('Resize', [emb0, '', g.floats([1, 1, 4, 4], [4])], { mode: 'nearest' });
  const single = g.op('Add', [g.op('Add', [bump, prior]), g.op('Mul', [emb, g.floats([0.001], [1])])]);
  const low = g.op('Add', [single, g.floats(multimask ? TINY_MULTI_OFFSETS : [0], [1, m, 1, 1])], {}, 'low_res_masks');
  g.op('Identity', [g.floats(multimask ? TINY_MULTI_SCORES : [0.95], [1, m])], {}, 'iou_predictions');
  // Postprocessing as segment-anything's SamOnnxModel.mask_postprocessing.
  const up = g.op('Resize', [low, '', g.floats([1, 1, 4, 4], [4])], { mode: 'linear' });
  const scale = g.op('Div', [g.floats([1024], [1]), g.op('ReduceMax', ['orig_im_size'], { keepdims: 1 })]);
  const resized = g.op('Cast', [g.op('Floor', [g.op('Add', [g.op('Mul', ['orig_im_size', scale]), g.floats([0.5], [1])])])], { to: INT64 });
  const cropped = g.op('Slice', [up, g.ints([0, 0]), resized, g.ints([2, 3])]);
  const sizes = g.op('Concat', [g.ints([1, m]), g.op('Cast', ['orig_im_size'], { to: INT64 })], { axis: 0 });
  g.op('Resize', [cropped, '', '', sizes], { mode: 'linear' }, 'masks');
  return g.encode(
    [
      ['image_embeddings', [1, 256, 64, 64]],
      ['point_coords', [1, 'num_points', 2]],
      ['point_labels', [1, 'num_points']],
      ['mask_input', [1, 1, 256, 256]],
      ['has_mask_input', [1]],
      ['orig_im_size', [2]],
    ],
    [
      ['masks', [1, m, 'height', 'width']],
      ['iou_predictions', [1, m]],
      ['low_res_masks', [1, m, 256, 256]],
    ],
  );
}

export const TINY_DINO_CHANNELS = 8;
/** Register token r has every channel equal to this + r: a value no patch token can take. */
export const TINY_REGISTER_VALUE = 1000;

/**
 * DINOv2-like model: pixel_values [B,3,S,S] → patch Conv (kernel = stride = patch) → tokens, with a
 * CLS token (mean of patch tokens) and `registers` register tokens prepended → last_hidden_state
 * [B, 1+R+N, 8]. Patch channels 0..2 are the patch means of the three input planes; channels 3..7
 * weigh the red plane with fixed ramps.
 */
export function dinoModel(inputSize: number, patch: number, registers: number): Uint8Array {
  const g = new Graph();
  const c = TINY_DINO_CHANNELS;
  const w = new Float32Array(c * 3 * patch * patch);
  const area = patch * patch;
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < area; i++) {
      if (k < 3) w[(k * 3 + k) * area + i] = 1 / area;
      else w[(k * 3 + 0) * area + i] = ((i % patch) - (patch - 1) / 2) * (k - 2) / area;
    }
  }
  const conv = g.op('Conv', ['pixel_values', g.floats(w, [c, 3, patch, patch])], { strides: [patch, patch] });
  const n = (inputSize / patch) ** 2;
  const tokens = g.op('Transpose', [g.op('Reshape', [conv, g.ints([0, c, n])])], { perm: [0, 2, 1] }); // [B,N,C]
  const cls = g.op('ReduceMean', [tokens], { axes: [1], keepdims: 1 }); // [B,1,C]
  const parts = [cls];
  for (let r = 0; r < registers; r++) {
    parts.push(g.op('Add', [g.op('Mul', [cls, g.floats([0], [1])]), g.floats([TINY_REGISTER_VALUE + r], [1])]));
  }
  g.op('Concat', [...parts, tokens], { axis: 1 }, 'last_hidden_state');
  return g.encode([['pixel_values', ['batch', 3, inputSize, inputSize]]], [['last_hidden_state', ['batch', 1 + registers + n, c]]]);
}

/** Writes a 'sam' model folder (tiny encoder + decoder) and returns its path. */
export async function writeTinySam(dir: string, opts: { multimask?: boolean; name?: string } = {}): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'encoder.onnx'), samEncoderModel());
  await fs.writeFile(path.join(dir, 'decoder.onnx'), samDecoderModel(opts.multimask ?? false));
  await writeManifest(dir, {
    kind: 'sam',
    name: opts.name ?? path.basename(dir),
    encoder: { file: 'encoder.onnx' },
    decoder: { file: 'decoder.onnx' },
  } satisfies ManifestInput);
  return dir;
}

/** Writes a 'dinov2' (or DINO v1) model folder with the tiny DINOv2 and returns its path. */
export async function writeTinyDino(
  dir: string,
  opts: { inputSize?: number; patchSize?: number; registerTokens?: number; kind?: 'dinov2' | 'dino' } = {},
): Promise<string> {
  const inputSize = opts.inputSize ?? 56;
  const patchSize = opts.patchSize ?? 14;
  const registerTokens = opts.registerTokens ?? 0;
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'model.onnx'), dinoModel(inputSize, patchSize, registerTokens));
  await writeManifest(dir, {
    kind: opts.kind ?? 'dinov2',
    name: path.basename(dir),
    model: { file: 'model.onnx', inputSize, patchSize, registerTokens },
  });
  return dir;
}
