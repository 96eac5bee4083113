/**
 * What was clicked, and its 3D segmentation: a round particle (cross-plane self-prompting, the
 * paper's step 1), a filament (filament.ts) or a membrane (membrane.ts).
 *
 * The clicked slices' 2D masks are measured first; a long one lies along a filament's axis and is
 * tried as its direction. The 3D models are then tried in turn, each with a test it must pass: a
 * filament first (a membrane grower would also follow a microtubule's wall), which must trace for
 * several diameters past the click keeping its radius; then a membrane, which must grow wider than a
 * particle in both directions without bending like a filament's wall. Anything else is a particle,
 * segmented as before (an oblique filament or a sheet seen edge-on can leave compact masks in all
 * three planes, so the masks alone do not decide).
 */
import { NoStructureError } from '../errors.js';
import { distanceToPolyline, sub, unit, type Vec3 } from '../volume/cross-section.js';
import { symmetricEigen3 } from '../volume/structure-tensor.js';
import { sliceCount, sliceShape, sliceToVoxel, voxelToSlice } from '../volume/slice.js';
import { isInsideVolume, meanVoxelSize, type Axis, type Volume } from '../volume/volume.js';
import { DEFAULTS } from './defaults.js';
import type { EmbeddingStore } from './embedding-store.js';
import { filamentMask, traceFilament, type FilamentOptions, type FilamentTrace } from './filament.js';
import { growMembrane, membraneMask, onOneVesicle, type MembraneOptions, type MembraneSheet } from './membrane.js';
import { maskContains, mergeMasks } from './instance.js';
import { segmentClick, structureAtClick } from './segment-prompts.js';
import type { ResolvedSegmentOptions } from './self-prompting.js';
import type { ParticleMask, VoxelPoint } from './types.js';

export type StructureKind = 'particle' | 'filament' | 'membrane';

/** The mask of one clicked slice, as the decision reads it. */
export interface ClickedPlane {
  /** The slice's normal axis. */
  axis: Axis;
  /** Mask pixels. */
  area: number;
  /** Long axis over short axis of the mask (second moments); 1 for a disc. */
  elongation: number;
  /** The mask's long axis, a unit vector in the tomogram (x, y, z). */
  direction: Vec3;
  /** Mean density inside the mask minus the slice's mean (its sign is the structure's contrast). */
  contrast: number;
}

export interface FilamentReport {
  lengthA: number;
  /** Outer diameter at half maximum of the radial profile, in Å. */
  outerDiameterA: number;
  /** Lumen diameter in Å (0 for a solid filament such as actin). */
  innerDiameterA: number;
  /** Axis points in voxels, `stepA` apart, end to end. */
  axis: VoxelPoint[];
  /** Mean radial symmetry of its cross-sections (0..1). */
  symmetry: number;
}

export interface MembraneReport {
  /** Area of the grown sheet (one side) in nm². */
  areaNm2: number;
  /** Half-maximum thickness of its depth profile, in Å. */
  thicknessA: number;
  /** Patches grown (each a point on the sheet's mid-surface with its normal). */
  patches: number;
  /** Mean layering of its patches (0..1: the variance the depth profile explains). */
  layering: number;
}

export interface StructureSegmentation {
  kind: StructureKind;
  /** 'given' when the caller named the kind, else what the 'auto' decision found. */
  decidedBy: 'given' | 'auto';
  planes: ClickedPlane[];
  mask: ParticleMask;
  filament?: FilamentReport;
  membrane?: MembraneReport;
  /** Density contrast of the structure: −1 dark, +1 bright. */
  polarity: -1 | 1;
  /** The 3D models' sizes in voxels at this tomogram's voxel size. */
  sizes: StructureSizes;
}

export interface StructureSizes {
  filament: FilamentOptions;
  membrane: MembraneOptions;
}

/** DEFAULTS.structure in voxels of this tomogram, clamped to what the models can sample. */
export function structureSizes(voxelSizeA: number): StructureSizes {
  const f = DEFAULTS.structure.filament, m = DEFAULTS.structure.membrane;
  const vox = (a: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, a / voxelSizeA));
  return {
    filament: {
      maxRadius: vox(f.maxRadiusA, 4, 40),
      step: vox(f.stepA, 1, 4),
      maxGap: vox(f.maxGapA, 3, 40),
      minProfileCorrelation: f.minProfileCorrelation,
      minSymmetryFraction: f.minSymmetryFraction,
    },
    membrane: {
      maxThickness: vox(m.maxThicknessA, 3, 16),
      spacing: vox(m.spacingA, 3, 8),
      minProfileCorrelation: m.minProfileCorrelation,
      minLayeringFraction: m.minLayeringFraction,
      minContrastFraction: m.minContrastFraction,
      maxPatches: m.maxPatches,
      minCurvatureRadius: m.minCurvatureRadiusA / voxelSizeA,
    },
  };
}

/** The three clicked slices' masks (the segmenter's best of its multimask output), described. */
export async function clickedPlanes(store: EmbeddingStore, tomogram: Volume, click: VoxelPoint): Promise<ClickedPlane[]> {
  const planes: ClickedPlane[] = [];
  for (const axis of ['z', 'y', 'x'] as const) {
    const [, width] = sliceShape(tomogram.shape, axis);
    const s = voxelToSlice(axis, click);
    const index = Math.min(sliceCount(tomogram.shape, axis) - 1, Math.max(0, Math.round(s.index)));
    const res = await store.decode(axis, index, { points: [{ x: s.col, y: s.row, label: 1 }], multimask: true });
    let k = 0;
    for (let i = 1; i < res.scores.length; i++) if (res.scores[i] > res.scores[k]) k = i;
    const m = res.masks[k];
    let n = 0, sr = 0, sc = 0, inside = 0, all = 0;
    for (let i = 0; i < m.length; i++) {
      const r = Math.floor(i / width), c = i - r * width;
      const v = tomogram.data[voxelIndex(tomogram, sliceToVoxel(axis, index, r, c))];
      all += v;
      if (!m[i]) continue;
      n++; sr += r; sc += c; inside += v;
    }
    if (n === 0) {
      planes.push({ axis, area: 0, elongation: 1, direction: { x: 0, y: 0, z: 0 }, contrast: 0 });
      continue;
    }
    const mr = sr / n, mc = sc / n;
    let rr = 0, cc = 0, rc = 0;
    for (let i = 0; i < m.length; i++) {
      if (!m[i]) continue;
      const r = Math.floor(i / width) - mr, c = (i % width) - mc;
      rr += r * r; cc += c * c; rc += r * c;
    }
    rr /= n; cc /= n; rc /= n;
    const tr = rr + cc, det = rr * cc - rc * rc, disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
    const major = tr / 2 + disc, minor = Math.max(tr / 2 - disc, 1 / 12);
    // Long axis in (row, col): the major eigenvector of [[rr, rc], [rc, cc]].
    const angle = 0.5 * Math.atan2(2 * rc, rr - cc);
    const o = sliceToVoxel(axis, 0, 0, 0), e = sliceToVoxel(axis, 0, Math.cos(angle), Math.sin(angle));
    planes.push({ axis, area: n, elongation: Math.sqrt(major / minor), direction: unit(sub(e, o)), contrast: inside / n - all / m.length });
  }
  return planes;
}

function voxelIndex(v: Volume, p: VoxelPoint): number {
  const [, ny, nx] = v.shape;
  return (p.z * ny + p.y) * nx + p.x;
}

/** Whether a trace is a filament through the click: several diameters long, and the click on its tube. */
export function isFilament(trace: FilamentTrace | undefined, click: VoxelPoint, voxelSizeA: number): trace is FilamentTrace {
  if (!trace) return false;
  const { minLengthDiameters, minLengthA, minRadiusA, minMeasuredFraction, maxSheetness } = DEFAULTS.structure.filament;
  if (trace.outerRadius * voxelSizeA < minRadiusA || trace.measuredFraction < minMeasuredFraction || trace.sheetness > maxSheetness) return false;
  const minLength = Math.max(minLengthDiameters * 2 * trace.outerRadius, minLengthA / voxelSizeA);
  return trace.lengthVoxels >= minLength && distanceToPolyline(click, trace.axis) <= trace.outerRadius + 2;
}

/** A grown sheet's width in its narrower direction, in voxels (a uniform strip of width w has variance w²/12 across it). */
export function sheetWidth(sheet: MembraneSheet): number {
  const n = sheet.patches.length;
  if (n < 3) return 0;
  const mean = { x: 0, y: 0, z: 0 };
  for (const { centre: c } of sheet.patches) {
    mean.x += c.x / n; mean.y += c.y / n; mean.z += c.z / n;
  }
  const m = [0, 0, 0, 0, 0, 0];
  for (const { centre: c } of sheet.patches) {
    const d = sub(c, mean);
    m[0] += (d.x * d.x) / n; m[1] += (d.y * d.y) / n; m[2] += (d.z * d.z) / n;
    m[3] += (d.x * d.y) / n; m[4] += (d.x * d.z) / n; m[5] += (d.y * d.z) / n;
  }
  const [, second] = symmetricEigen3(m).values;
  return Math.sqrt(12 * Math.max(0, second));
}

/** Whether a grown sheet is a membrane: wider than a particle across, in both directions (a strip along a filament's wall is not). */
export function isMembrane(sheet: MembraneSheet, voxelSizeA: number): boolean {
  return sheetWidth(sheet) * voxelSizeA >= DEFAULTS.structure.membrane.minExtentA / 2;
}

export function filamentReport(trace: FilamentTrace, voxelSizeA: number): FilamentReport {
  return {
    lengthA: trace.lengthVoxels * voxelSizeA,
    outerDiameterA: 2 * trace.outerRadius * voxelSizeA,
    innerDiameterA: 2 * trace.innerRadius * voxelSizeA,
    axis: trace.axis.map((p) => ({ x: p.x, y: p.y, z: p.z })),
    symmetry: trace.symmetry,
  };
}

/** Two pieces of one membrane as one: areas and patches added, thickness and layering averaged. */
export function combineMembranes(a: MembraneReport, b: MembraneReport): MembraneReport {
  const area = a.areaNm2 + b.areaNm2;
  return {
    areaNm2: area,
    thicknessA: (a.thicknessA * a.areaNm2 + b.thicknessA * b.areaNm2) / area,
    patches: a.patches + b.patches,
    layering: (a.layering * a.patches + b.layering * b.patches) / (a.patches + b.patches),
  };
}

export function membraneReport(sheet: MembraneSheet, voxelSizeA: number): MembraneReport {
  return { areaNm2: (sheet.areaVoxels * voxelSizeA ** 2) / 100, thicknessA: sheet.thickness * voxelSizeA, patches: sheet.patches.length, layering: sheet.layering };
}

/**
 * The grown sheet's mask and report, with the vesicle's other side when the sheet lies on a small
 * sphere: the tilt series measures a vesicle on two opposite lobes, and growth from one does not
 * cross the unmeasured band between them. The other lobe is grown from the point opposite the
 * click's patch and kept when both lie on one sphere.
 */
function withOtherLobe(tomogram: Volume, sheet: MembraneSheet, opts: MembraneOptions): { mask: ParticleMask; membrane: MembraneReport } {
  const voxelSizeA = meanVoxelSize(tomogram.voxelSize);
  const mask = membraneMask(sheet, tomogram.shape, opts.spacing);
  const membrane = membraneReport(sheet, voxelSizeA);
  const centres = sheet.patches.map((p) => p.centre);
  const fit = onOneVesicle(centres, voxelSizeA);
  if (!fit) return { mask, membrane };
  const seed = centres[0];
  const opposite = { x: Math.round(2 * fit.centre.x - seed.x), y: Math.round(2 * fit.centre.y - seed.y), z: Math.round(2 * fit.centre.z - seed.z) };
  if (!isInsideVolume(opposite, tomogram.shape) || maskContains(mask, opposite)) return { mask, membrane };
  const other = growMembrane(tomogram, opposite, sheet.polarity, opts);
  if (other.patches.length < 3 || !onOneVesicle([...centres, ...other.patches.map((p) => p.centre)], voxelSizeA)) return { mask, membrane };
  return { mask: mergeMasks(mask, membraneMask(other, tomogram.shape, opts.spacing)), membrane: combineMembranes(membrane, membraneReport(other, voxelSizeA)) };
}

export interface SegmentStructureInput {
  store: EmbeddingStore;
  /** The smoothed tomogram a particle is segmented in. */
  tomogram: Volume;
  /** The tomogram as reconstructed (normalised), which filaments are traced and membranes grown in. */
  unsmoothed: Volume;
  click: VoxelPoint;
  kind: StructureKind | 'auto';
  segment: ResolvedSegmentOptions;
}

/** What the clicked slices show, and the filament or membrane under the click (undefined: neither). */
async function filamentOrMembrane(input: SegmentStructureInput): Promise<{ base: Omit<StructureSegmentation, 'kind' | 'mask' | 'polarity'>; structure?: StructureSegmentation & { kind: 'filament' | 'membrane' } }> {
  const { store, unsmoothed: tomogram, click, kind } = input;
  const voxelSizeA = meanVoxelSize(tomogram.voxelSize);
  const sizes = structureSizes(voxelSizeA);
  const planes = await clickedPlanes(store, tomogram, click);
  const base = { planes, sizes, decidedBy: kind === 'auto' ? ('auto' as const) : ('given' as const) };
  if (kind === 'particle') return { base };
  const elongated = planes.filter((p) => p.elongation >= DEFAULTS.structure.elongation);
  const filamentResult = (trace: FilamentTrace) => ({ ...base, kind: 'filament' as const, polarity: trace.polarity, mask: filamentMask(trace, tomogram.shape), filament: filamentReport(trace, voxelSizeA) });
  const filament = kind !== 'membrane' ? traceFilament(tomogram, click, undefined, sizes.filament, elongated.map((p) => p.direction)) : undefined;
  const isTube = isFilament(filament, click, voxelSizeA);
  // A trace the density continues beside a little (an edge-on sheet can look so) is a filament only when no membrane grows there.
  if (isTube && (kind === 'filament' || filament.sheetness <= DEFAULTS.structure.filament.clearSheetness)) return { base, structure: filamentResult(filament) };
  if (kind === 'filament') throw new NoStructureError(`no filament found at x=${click.x}, y=${click.y}, z=${click.z}: nothing traces for ${DEFAULTS.structure.filament.minLengthDiameters} diameters through it`);
  const sheet = growMembrane(tomogram, click, undefined, sizes.membrane);
  if (isMembrane(sheet, voxelSizeA)) return { base, structure: { ...base, kind: 'membrane' as const, polarity: sheet.polarity, ...withOtherLobe(tomogram, sheet, sizes.membrane) } };
  if (isTube) return { base, structure: filamentResult(filament) };
  if (kind === 'membrane') throw new NoStructureError(`no membrane found at x=${click.x}, y=${click.y}, z=${click.z}: no sheet grows ${DEFAULTS.structure.membrane.minExtentA / 2} Å wide through it`);
  return { base };
}

/**
 * The filament or membrane under the click, or undefined when it is a round particle (whose
 * segmentation is left to the caller: a pick segments its prompts itself). Throws "no … found
 * here" when a named kind is not there.
 */
export async function findStructure(input: SegmentStructureInput): Promise<(StructureSegmentation & { kind: 'filament' | 'membrane' }) | undefined> {
  return (await filamentOrMembrane(input)).structure;
}

/** Segments what was clicked in 3D; throws "no … found at …" when a named kind, or anything (structureAtClick), is not there. */
export async function segmentStructure(input: SegmentStructureInput): Promise<StructureSegmentation> {
  const { base, structure } = await filamentOrMembrane(input);
  if (structure) return structure;
  const mask = structureAtClick(input.tomogram, input.click, await segmentClick(input.store, input.tomogram, input.click, input.segment));
  // The particle's contrast, as the clicked slices' masks show it (the pick reads it off the 3D mask again).
  const weighted = base.planes.reduce((sum, p) => sum + p.contrast * p.area, 0);
  return { ...base, kind: 'particle', polarity: weighted < 0 ? -1 : 1, mask };
}
