/**
 * Every filament or membrane like the clicked one. Matching the clicked structure's features gives
 * seeds, best first (the paper's step 3); each seed not already on a structure found is traced
 * (filament) or grown (membrane) with the clicked one's models, and kept when it passes the same test
 * a click does and has the clicked one's size: outer diameter and lumen for a filament, thickness
 * for a membrane. A trace that mostly runs along a filament already found is a duplicate; membranes
 * found on one sphere (a vesicle's two measured lobes) are one membrane.
 */
import type { ProgressCallback } from '../progress.js';
import { distanceToPolyline, norm, sub } from '../volume/cross-section.js';
import { meanVoxelSize, type Volume } from '../volume/volume.js';
import { filamentMask, traceFilament } from './filament.js';
import { maskContains, mergeMasks } from './instance.js';
import { growMembrane, membraneMask, onOneVesicle } from './membrane.js';
import type { Peak } from './nms.js';
import { combineMembranes, filamentReport, isFilament, isMembrane, membraneReport, type FilamentReport, type MembraneReport, type StructureSegmentation } from './structure.js';
import type { ParticleMask, VoxelPoint } from './types.js';

/** A filament's outer radius may differ from the clicked one's by this fraction, a membrane's thickness by the second. */
export const FILAMENT_RADIUS_TOLERANCE = 0.3;
export const MEMBRANE_THICKNESS_TOLERANCE = 0.25;
/** A trace with this fraction of its axis inside a filament already found repeats it. */
const DUPLICATE_FRACTION = 0.5;

export interface FoundStructure {
  mask: ParticleMask;
  /** The matching peak it was traced or grown from (the click for the clicked structure). */
  seed: VoxelPoint;
  /** Feature similarity of its seed (1 for the clicked structure). */
  similarity: number;
  filament?: FilamentReport;
  membrane?: MembraneReport;
}

export interface StructureSearch {
  found: FoundStructure[];
  /** Seeds traced or grown (seeds on a structure already found are skipped, not tried). */
  tried: number;
  rejected: { notFound: number; size: number; duplicate: number };
}

export interface FindStructuresInput {
  tomogram: Volume;
  clicked: StructureSegmentation;
  click: VoxelPoint;
  /** Matching peaks, best first. */
  peaks: readonly Peak[];
  /** Stop after this many seeds in a row were rejected. */
  stopAfterRejects: number;
  onProgress: ProgressCallback;
}

/** The clicked structure first, then every structure of its kind and size that a seed leads to. */
export async function findStructures(input: FindStructuresInput): Promise<StructureSearch> {
  const { tomogram, clicked, click, peaks, stopAfterRejects, onProgress } = input;
  const voxelSizeA = meanVoxelSize(tomogram.voxelSize);
  const found: FoundStructure[] = [{ mask: clicked.mask, seed: click, similarity: 1, filament: clicked.filament, membrane: clicked.membrane }];
  const rejected = { notFound: 0, size: 0, duplicate: 0 };
  let tried = 0, inARow = 0;
  const total = peaks.length;
  for (const [i, peak] of peaks.entries()) {
    // Each seed is a trace or a growth of up to seconds: yield between them, so a viewer serving this
    // process keeps answering (its progress polls, its keep-alive connections).
    await new Promise((resolve) => setImmediate(resolve));
    if ((i & 7) === 0) onProgress({ stage: `finding ${clicked.kind}s`, done: i, total });
    if (inARow >= stopAfterRejects) break;
    if (clicked.kind === 'filament') {
      const ref = clicked.filament!;
      const outer = ref.outerDiameterA / 2 / voxelSizeA;
      if (found.some((f) => distanceToPolyline(peak, f.filament!.axis) <= f.filament!.outerDiameterA / 2 / voxelSizeA + 1)) continue;
      tried++;
      const trace = traceFilament(tomogram, peak, clicked.polarity, clicked.sizes.filament);
      let why: keyof typeof rejected | undefined;
      if (!isFilament(trace, peak, voxelSizeA)) why = 'notFound';
      else if (Math.abs(trace.outerRadius - outer) > FILAMENT_RADIUS_TOLERANCE * outer || trace.innerRadius > 0 !== ref.innerDiameterA > 0) why = 'size';
      else {
        const inside = trace.axis.filter((p) => found.some((f) => distanceToPolyline(p, f.filament!.axis) <= outer)).length;
        if (inside >= DUPLICATE_FRACTION * trace.axis.length) why = 'duplicate';
      }
      if (why || !trace) {
        rejected[why ?? 'notFound']++;
        inARow++;
        continue;
      }
      inARow = 0;
      found.push({ mask: filamentMask(trace, tomogram.shape), seed: peak, similarity: peak.score, filament: filamentReport(trace, voxelSizeA) });
    } else {
      const ref = clicked.membrane!;
      if (found.some((f) => maskContains(f.mask, peak))) continue;
      tried++;
      const sheet = growMembrane(tomogram, peak, clicked.polarity, clicked.sizes.membrane);
      const thicknessA = sheet.thickness * voxelSizeA;
      let why: keyof typeof rejected | undefined;
      if (!isMembrane(sheet, voxelSizeA)) why = 'notFound';
      else if (Math.abs(thicknessA - ref.thicknessA) > MEMBRANE_THICKNESS_TOLERANCE * ref.thicknessA) why = 'size';
      else {
        const mask = membraneMask(sheet, tomogram.shape, clicked.sizes.membrane.spacing);
        const repeats = sheet.patches.filter((p) => found.some((f) => maskContains(f.mask, p.centre))).length;
        if (repeats >= DUPLICATE_FRACTION * sheet.patches.length) why = 'duplicate';
        else {
          inARow = 0;
          found.push({ mask, seed: peak, similarity: peak.score, membrane: membraneReport(sheet, voxelSizeA) });
          continue;
        }
      }
      rejected[why]++;
      inARow++;
    }
  }
  onProgress({ stage: `finding ${clicked.kind}s`, done: total, total });
  return { found: clicked.kind === 'membrane' ? mergeLobes(found, voxelSizeA) : found, tried, rejected };
}

/** A mask's voxels, at most `max` of them evenly spread, as points. */
function maskPoints(mask: ParticleMask, max = 3000): VoxelPoint[] {
  const b = mask.bbox, by = b.y1 - b.y0, bx = b.x1 - b.x0;
  const stride = Math.max(1, Math.floor(mask.voxels / max));
  const points: VoxelPoint[] = [];
  let n = 0;
  for (let i = 0; i < mask.mask.length; i++) {
    if (!mask.mask[i] || n++ % stride) continue;
    const x = i % bx, t = (i - x) / bx;
    points.push({ x: b.x0 + x, y: b.y0 + (t % by), z: b.z0 + Math.floor(t / by) });
  }
  return points;
}


/**
 * A vesicle's membrane is seen on two sides of it (its normals near the beam are in the missing
 * wedge), and the two lobes grow apart: membranes found on one sphere are merged into one.
 */
function mergeLobes(found: FoundStructure[], voxelSizeA: number): FoundStructure[] {
  const out = [...found];
  // Each membrane's points and whether it lies on a vesicle, once; a merged pair keeps both points.
  const points = out.map((f) => maskPoints(f.mask));
  const vesicle = points.map((p) => onOneVesicle(p, voxelSizeA) !== undefined);
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (!vesicle[i] || !vesicle[j] || !onOneVesicle([...points[i], ...points[j]], voxelSizeA)) continue;
      out[i] = { ...out[i], mask: mergeMasks(out[i].mask, out[j].mask), membrane: combineMembranes(out[i].membrane!, out[j].membrane!) };
      points[i] = [...points[i], ...points[j]];
      out.splice(j, 1);
      points.splice(j, 1);
      vesicle.splice(j, 1);
      j = i;
    }
  }
  return out;
}

/** Points every `spacingA` Å along a filament's axis, with their distance from its first point (Å): helical picking's track length. */
export function alongAxis(axis: readonly VoxelPoint[], spacingA: number, voxelSizeA: number): { point: VoxelPoint; trackLengthA: number }[] {
  const out: { point: VoxelPoint; trackLengthA: number }[] = [];
  if (!axis.length) return out;
  const spacing = spacingA / voxelSizeA;
  out.push({ point: { ...axis[0] }, trackLengthA: 0 });
  let travelled = 0, next = spacing;
  for (let k = 1; k < axis.length; k++) {
    const a = axis[k - 1], b = axis[k];
    const len = norm(sub(b, a));
    while (len > 0 && next <= travelled + len) {
      const t = (next - travelled) / len;
      out.push({ point: { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y), z: a.z + t * (b.z - a.z) }, trackLengthA: next * voxelSizeA });
      next += spacing;
    }
    travelled += len;
  }
  return out;
}
