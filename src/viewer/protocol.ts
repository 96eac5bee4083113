/**
 * The JSON shapes exchanged between the viewer's server and its page. Types only, so both the
 * Node build and the browser build (src/viewer/web/tsconfig.json) can import this file.
 *
 * Binary routes: GET /api/slice returns little-endian Float32 voxels, GET /api/overlay one byte per
 * pixel (bit 0: semantic mask, bit 1: the last segmented particle); both with X-Width, X-Height and
 * X-Downsample headers.
 */

export type ViewAxis = 'z' | 'y' | 'x';

/** A particle position in voxels (x = column, y = row, z = section), as in Pick. */
export interface VoxelXYZ {
  x: number;
  y: number;
  z: number;
}

export interface PickDto extends VoxelXYZ {
  score?: number;
  /** Voxel count of the particle's mask; the page draws circles of the equivalent radius. */
  voxels?: number;
  /** Id of the particle's mask on the server (picks of Find all only; unique within the session). */
  instance?: number;
}

export interface InfoResponse {
  /** File name of the tomogram (never its folder). */
  name: string;
  /** [nz, ny, nx] */
  shape: [number, number, number];
  /** Voxel size in Å used for coordinate files. */
  voxelSizeA: number;
  /** Display window from percentiles of a sample of sections. */
  autoContrast: { low: number; high: number; min: number; max: number };
  /** Coordinate formats export accepts (CLI names). */
  formats: string[];
  /** Picks given with --picks. */
  picks: PickDto[];
  hasMask: boolean;
  /** Absolute output folder, shown so users know where exports go. */
  outDir: string;
}

export interface SegmentRequestBody {
  prompt: VoxelXYZ;
  negatives: VoxelXYZ[];
}

export interface PickRequestBody {
  prompts: VoxelXYZ[];
  negatives: VoxelXYZ[];
  /** Number of picks to keep, or 'auto'. */
  topK: number | 'auto';
}

/**
 * POST /api/mask/keep: the Find-all particles the semantic mask holds from now on (overlay bit 0
 * and Export mask without `instances`): the page sends those of the picks it keeps.
 */
export interface KeepRequestBody {
  instances: number[];
}

export interface KeepResponse {
  kept: number;
}

export interface SegmentJobResult {
  kind: 'segment';
  voxels: number;
  centroid: VoxelXYZ;
}

export interface PickJobResult {
  kind: 'pick';
  picks: PickDto[];
  seconds: number;
}

export type JobState = 'running' | 'done' | 'failed';

export interface JobStatus {
  id: string;
  state: JobState;
  stage: string;
  done: number;
  total: number;
  result?: SegmentJobResult | PickJobResult;
  error?: string;
}

/**
 * Exports never replace an existing file unless `overwrite` is true: the server answers 409 with
 * {exists: true}, and the page asks the user before sending again with overwrite. An input of the
 * session (tomogram, --picks, --mask) is never replaced, even then (400).
 */
export interface ExportPicksBody {
  /** File name only; written inside the output folder. */
  name: string;
  format: string;
  picks: PickDto[];
  overwrite?: boolean;
}

export interface ExportMaskBody {
  name: string;
  /** The Find-all particles to write (PickDto.instance); default: the kept set, or the --mask file before any Find all. */
  instances?: number[];
  overwrite?: boolean;
}

export interface ExportResponse {
  path: string;
  /** Same-origin URL (without token) that downloads the written file. */
  download: string;
  count?: number;
}

export interface ErrorResponse {
  error: string;
  /** Set on the 409 answer to an export whose file exists. */
  exists?: boolean;
}
