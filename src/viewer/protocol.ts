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

export interface ExportPicksBody {
  /** File name only; written inside the output folder. */
  name: string;
  format: string;
  picks: PickDto[];
}

export interface ExportMaskBody {
  name: string;
}

export interface ExportResponse {
  path: string;
  /** Same-origin URL (without token) that downloads the written file. */
  download: string;
  count?: number;
}

export interface ErrorResponse {
  error: string;
}
