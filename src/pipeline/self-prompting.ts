/**
 * Cross-plane self-prompting (CryoSAM step 1): a point prompt is segmented on the three orthogonal
 * slices through it, then each plane's mask is propagated slice by slice in both directions along
 * its axis, prompting every next slice with the previous slice's low-res logits and its most
 * confident point. The 3D instance is the union of all accepted slice masks.
 */
import type { PointPrompt, SegmentResult } from '../engines/types.js';
import { sliceCount, sliceShape, voxelToSlice } from '../volume/slice.js';
import type { Axis, Shape3 } from '../volume/volume.js';
import type { EmbeddingStore } from './embedding-store.js';
import { DEFAULTS } from './defaults.js';
import { cropSliceMask, unionMask, type SliceMaskPiece } from './instance.js';
import type { ParticleMask, SegmentOptions, VoxelPoint } from './types.js';

/** Negative prompts act on slices this close (in slices) to them along the walk's axis. */
const NEGATIVE_REACH = 2;
/**
 * With several axes, a walk adds only slices whose mask keeps at least this fraction of its
 * prompt plane's area. Small cross-sections near a particle's caps are where 2D masks are least
 * reliable (a blurred cap looks wider than it is), and the other walks cover those voxels through
 * their large central slices: every voxel of a convex particle lies in a cross-section of at least
 * ~2/3 of the maximum along the axis where its offset from the centre is smallest.
 */
const MULTI_AXIS_MIN_AREA_FRACTION = 0.5;
/** A walk never goes further than this many prompt-plane mask diameters (guards against membranes and filaments). */
const MAX_DEPTH_DIAMETERS = 2;

export type ResolvedSegmentOptions = Required<Omit<SegmentOptions, 'negatives'>> & { negatives: VoxelPoint[] };

export function resolveSegmentOptions(opts: SegmentOptions = {}): ResolvedSegmentOptions {
  const d = DEFAULTS.segment;
  return {
    axes: opts.axes ?? [...d.axes],
    iouThreshold: opts.iouThreshold ?? d.iouThreshold,
    scoreThreshold: opts.scoreThreshold ?? d.scoreThreshold,
    maxAreaFactor: opts.maxAreaFactor ?? d.maxAreaFactor,
    negatives: opts.negatives ?? [],
  };
}

/** A voxel point as (slice index along axis, in-slice pixel x = column, y = row). */
function inPlane(p: VoxelPoint, axis: Axis): { index: number; x: number; y: number } {
  const s = voxelToSlice(axis, p);
  return { index: s.index, x: s.col, y: s.row };
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) {
    const u = a[i] | b[i];
    uni += u;
    inter += a[i] & b[i];
  }
  return uni ? inter / uni : 0;
}

function area(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i];
  return n;
}

/** The candidate with the highest predicted score. */
function best(res: SegmentResult): number {
  let k = 0;
  for (let i = 1; i < res.scores.length; i++) if (res.scores[i] > res.scores[k]) k = i;
  return k;
}

/** The mask's mean pixel: the next slice's prompt when an engine reports no confident point. */
function maskCentre(m: Uint8Array, width: number): { x: number; y: number } {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    n++; sx += i % width; sy += Math.floor(i / width);
  }
  return { x: sx / n, y: sy / n };
}

/**
 * Segments the particle under `prompt` in 3D. Slices are embedded lazily through the store, so a
 * walk only pays for the slices it visits. Returns undefined when no plane yields a mask.
 */
export async function segmentFromPrompt(store: EmbeddingStore, shape: Shape3, prompt: VoxelPoint, options: ResolvedSegmentOptions): Promise<ParticleMask | undefined> {
  const pieces: SliceMaskPiece[] = [];
  for (const axis of options.axes) {
    const [height, width] = sliceShape(shape, axis);
    const geo = { height, width, count: sliceCount(shape, axis) };
    const at = inPlane(prompt, axis);
    const start = Math.min(geo.count - 1, Math.max(0, Math.round(at.index)));
    const negativesAt = (index: number): PointPrompt[] =>
      options.negatives
        .map((n) => inPlane(n, axis))
        .filter((n) => Math.abs(n.index - index) <= NEGATIVE_REACH)
        .map((n) => ({ x: n.x, y: n.y, label: 0 }));

    const first = await store.decode(axis, start, {
      points: [{ x: at.x, y: at.y, label: 1 }, ...negativesAt(start)],
      multimask: true,
    });
    const k = best(first);
    const startMask = first.masks[k];
    const startArea = area(startMask);
    if (startArea === 0) continue;
    const startPiece = cropSliceMask(axis, start, startMask, geo.height, geo.width);
    if (startPiece) pieces.push(startPiece);
    const minArea = options.axes.length > 1 ? MULTI_AXIS_MIN_AREA_FRACTION * startArea : 0;
    const maxSteps = Math.ceil(MAX_DEPTH_DIAMETERS * 2 * Math.sqrt(startArea / Math.PI)) + 1;

    for (const dir of [1, -1]) {
      let prevMask = startMask;
      let prevLogits = first.lowRes[k];
      let prevPoint = first.bestPoints[k] ?? maskCentre(startMask, geo.width);
      for (let step = 1, index = start + dir; step <= maxSteps && index >= 0 && index < geo.count; step++, index += dir) {
        const res = await store.decode(axis, index, {
          points: [{ x: prevPoint.x, y: prevPoint.y, label: 1 }, ...negativesAt(index)],
          maskInput: prevLogits,
        });
        const j = best(res);
        const mask = res.masks[j];
        const a = area(mask);
        if (a === 0 || res.scores[j] < options.scoreThreshold || a > options.maxAreaFactor * startArea) break;
        if (iou(mask, prevMask) < options.iouThreshold) break;
        const piece = a >= minArea ? cropSliceMask(axis, index, mask, geo.height, geo.width) : undefined;
        if (piece) pieces.push(piece);
        prevMask = mask;
        prevLogits = res.lowRes[j];
        prevPoint = res.bestPoints[j] ?? maskCentre(mask, geo.width);
      }
    }
  }
  return unionMask(pieces);
}
