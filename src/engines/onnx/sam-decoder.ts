/**
 * The SAM prompt encoder + mask decoder in segment-anything's ONNX contract: image_embeddings,
 * point_coords [1,N,2] (1024 frame), point_labels [1,N], mask_input [1,1,256,256], has_mask_input [1],
 * orig_im_size [2] → masks (logits at slice size), iou_predictions, low_res_masks.
 */
import { CryosamError } from '../../errors.js';
import type { LowResLogits, SegmentRequest, SegmentResult } from '../types.js';
import type { SamDecoderSpec } from '../models/manifest.js';
import type { SamEmbedding } from './sam-encoder.js';
import { createSession, floatOutput, requireOutput, Tensor, type ExecutionOptions, type Session } from './session.js';
import { bestPoint, lowResToSlice, toFrame } from './transforms.js';

export class SamMaskDecoder {
  private constructor(
    private readonly session: Session,
    private readonly spec: SamDecoderSpec,
    private readonly file: string,
  ) {}

  static async load(file: string, spec: SamDecoderSpec, exec: ExecutionOptions = {}): Promise<SamMaskDecoder> {
    const session = await createSession(file, exec);
    try {
      for (const name of [spec.inputs.imageEmbeddings, spec.inputs.pointCoords, spec.inputs.pointLabels]) {
        if (!session.inputNames.includes(name)) {
          throw new CryosamError(`decoder has no input '${name}' (inputs: ${session.inputNames.join(', ')})`, file);
        }
      }
      for (const name of [spec.outputs.scores, spec.outputs.lowResMasks, spec.outputs.masks]) {
        if (name !== null) requireOutput(session, name, file);
      }
    } catch (err) {
      await session.release();
      throw err;
    }
    return new SamMaskDecoder(session, spec, file);
  }

  /** True when the export takes a mask prompt (mask_input + has_mask_input). */
  get acceptsMaskInput(): boolean {
    return this.session.inputNames.includes(this.spec.inputs.maskInput);
  }

  async decode(embedding: SamEmbedding, request: SegmentRequest): Promise<SegmentResult> {
    const { inputs, outputs, lowResSize } = this.spec;
    const g = embedding.geometry;
    const points = request.points.map((p) => ({ ...toFrame(p.x, p.y, g), label: p.label as number }));
    if (this.spec.padPoint) points.push({ x: 0, y: 0, label: -1 });
    const coords = new Float32Array(points.length * 2);
    const labels = new Float32Array(points.length);
    points.forEach((p, i) => {
      coords[2 * i] = p.x;
      coords[2 * i + 1] = p.y;
      labels[i] = p.label;
    });
    const names = new Set(this.session.inputNames);
    const feeds: Record<string, InstanceType<typeof Tensor>> = {
      [inputs.imageEmbeddings]: new Tensor('float32', embedding.data, [1, ...embedding.dims]),
      [inputs.pointCoords]: new Tensor('float32', coords, [1, points.length, 2]),
      [inputs.pointLabels]: new Tensor('float32', labels, [1, points.length]),
    };
    if (names.has(inputs.maskInput)) {
      const mask = request.maskInput;
      if (mask && (mask.height !== lowResSize || mask.width !== lowResSize)) {
        throw new CryosamError(`mask prompt is ${mask.height}×${mask.width}, the decoder takes ${lowResSize}×${lowResSize}`, this.file);
      }
      feeds[inputs.maskInput] = new Tensor('float32', mask ? mask.data : new Float32Array(lowResSize * lowResSize), [1, 1, lowResSize, lowResSize]);
    }
    if (names.has(inputs.hasMaskInput)) {
      feeds[inputs.hasMaskInput] = new Tensor('float32', Float32Array.of(request.maskInput ? 1 : 0), [1]);
    }
    if (names.has(inputs.origImSize)) {
      feeds[inputs.origImSize] = new Tensor('float32', Float32Array.of(g.height, g.width), [2]);
    }
    const result = await this.session.run(feeds);
    const scores = floatOutput(result, outputs.scores, this.file).data;
    const low = floatOutput(result, outputs.lowResMasks, this.file);
    const full = outputs.masks === null ? undefined : floatOutput(result, outputs.masks, this.file);
    const count = scores.length;
    const lowSide = low.dims[low.dims.length - 1];
    if (lowSide !== lowResSize || low.data.length !== count * lowResSize * lowResSize) {
      throw new CryosamError(`low-res masks have shape [${low.dims.join(',')}], expected [1,${count},${lowResSize},${lowResSize}]`, this.file);
    }
    const pixels = g.height * g.width;
    if (full && full.data.length !== count * pixels) {
      throw new CryosamError(`masks have shape [${full.dims.join(',')}], expected [1,${count},${g.height},${g.width}]`, this.file);
    }
    const picked = pickCandidates(scores, request.multimask ?? false);
    const res: SegmentResult = { masks: [], scores: new Float32Array(picked.length), lowRes: [], bestPoints: [] };
    picked.forEach((k, i) => {
      const lowData = low.data.slice(k * lowResSize * lowResSize, (k + 1) * lowResSize * lowResSize);
      const logits = full ? full.data.subarray(k * pixels, (k + 1) * pixels) : lowResToSlice(lowData, lowResSize, g);
      const mask = new Uint8Array(pixels);
      for (let p = 0; p < pixels; p++) mask[p] = logits[p] > 0 ? 1 : 0;
      const lowRes: LowResLogits = { data: lowData, height: lowResSize, width: lowResSize };
      res.masks.push(mask);
      res.scores[i] = scores[k];
      res.lowRes.push(lowRes);
      res.bestPoints.push(bestPoint(lowData, lowResSize, g, mask));
    });
    return res;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Which decoder outputs answer the request. Exports differ: 1 mask (return_single_mask), 3 masks
 * (multimask only) or 4 (token 0 = single-mask answer, 1..3 = multimask answers, as
 * segment-anything's predictor reads them).
 */
export function pickCandidates(scores: Float32Array, multimask: boolean): number[] {
  const n = scores.length;
  if (n === 1) return [0];
  if (n === 4) return multimask ? [1, 2, 3] : [0];
  const all = Array.from({ length: n }, (_, i) => i);
  if (multimask) return all;
  return [all.reduce((best, i) => (scores[i] > scores[best] ? i : best), 0)];
}
