/**
 * The page's state: where the three slices cross, display settings, prompts and picks under
 * review. Views and panels re-render from it after every change.
 */
import type { InfoResponse, PickDto, VoxelXYZ } from '../protocol.js';
import { equivalentRadius } from './geometry.js';

export interface Prompt extends VoxelXYZ {
  id: number;
  positive: boolean;
}

export interface ReviewPick extends PickDto {
  id: number;
  /** Added by hand in manual-pick mode (always kept, whatever the threshold). */
  manual: boolean;
}

export type ClickMode = 'prompt' | 'pick';

export interface AppState {
  info: InfoResponse;
  /** Where the three slices cross (integer voxel indices). */
  cursor: VoxelXYZ;
  window: { low: number; high: number };
  /** Display smoothing in voxels (server side). */
  sigma: number;
  showMask: boolean;
  /** Whether the server has any mask to overlay. */
  hasOverlay: boolean;
  /** Bumped whenever the server's masks change, so views refetch overlays. */
  overlayVersion: number;
  mode: ClickMode;
  prompts: Prompt[];
  picks: ReviewPick[];
  /** Picks scoring below this are hidden and not exported. */
  threshold: number;
  selectedPick: number | undefined;
  /** Radius (voxels) of the last segmented particle (a filament: its tube; a membrane: half its thickness), used for hand-added picks. */
  segmentedRadius: number | undefined;
  /** The last segmented filament's traced axis (voxels), drawn as dots on the slices near it. */
  segmentedAxis: VoxelXYZ[] | undefined;
  /**
   * keptKey(...) of the Find-all particles the server's mask holds, as last told it; undefined
   * before any Find all (the mask is then the --mask file, which follows no picks).
   */
  serverKept: string | undefined;
}

let nextId = 1;
export const newId = (): number => nextId++;

/** Fallback radius in voxels for hand-added picks before any particle was measured. */
const DEFAULT_PICK_RADIUS = 8;

export function initialState(info: InfoResponse): AppState {
  const [nz, ny, nx] = info.shape;
  return {
    info,
    cursor: { x: Math.floor(nx / 2), y: Math.floor(ny / 2), z: Math.floor(nz / 2) },
    window: { low: info.autoContrast.low, high: info.autoContrast.high },
    sigma: 0,
    showMask: true,
    hasOverlay: info.hasMask,
    overlayVersion: 0,
    mode: 'prompt',
    prompts: [],
    picks: info.picks.map((p) => ({ ...p, id: newId(), manual: false })),
    threshold: Number.NEGATIVE_INFINITY,
    selectedPick: undefined,
    segmentedRadius: undefined,
    segmentedAxis: undefined,
    serverKept: undefined,
  };
}

/** Picks the user keeps: not below the threshold (hand-added ones always), best first. */
export function visiblePicks(s: AppState): ReviewPick[] {
  return s.picks
    .filter((p) => p.manual || p.score === undefined || p.score >= s.threshold)
    .sort((a, b) => (b.manual ? 1 : 0) - (a.manual ? 1 : 0) || (b.score ?? Infinity) - (a.score ?? Infinity));
}

/** Mask instances of the picks the user keeps (visible Find-all picks; hand-added ones have none). */
export function keptInstances(s: AppState): number[] {
  return visiblePicks(s)
    .flatMap((p) => (p.instance !== undefined ? [p.instance] : []))
    .sort((a, b) => a - b);
}

/** A set of instance ids as a string, to tell whether the server already has it. */
export const keptKey = (ids: number[]): string => ids.join(',');

/** Typical particle radius so far (voxels): median of sized picks, else the segmented particle's. */
export function typicalRadius(s: AppState): number {
  const sized = s.picks.filter((q) => q.voxels).map((q) => equivalentRadius(q.voxels!)).sort((a, b) => a - b);
  if (sized.length) return sized[Math.floor(sized.length / 2)];
  return s.segmentedRadius ?? DEFAULT_PICK_RADIUS;
}

/**
 * Circle radius of a pick: its marker radius (a filament's axis point, a membrane's seed), else
 * from its mask's voxel count, else `fallback` (see typicalRadius).
 */
export function pickRadius(p: PickDto, fallback: number): number {
  return p.radius ?? (p.voxels ? equivalentRadius(p.voxels) : fallback);
}
