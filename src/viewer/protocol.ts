/**
 * The JSON shapes exchanged between the viewer's server and its page. Types only, so both the
 * Node build and the browser build (src/viewer/web/tsconfig.json) can import this file.
 *
 * Binary routes: GET /api/slice returns little-endian Float32 voxels, GET /api/overlay one byte per
 * pixel (bit 0: semantic mask, bit 1: the last segmented particle, filament or membrane); both with
 * X-Width, X-Height and X-Downsample headers.
 */

/**
 * What a click is segmented as: a round particle, a filament followed along its axis, or a
 * membrane grown over its sheet (src/pipeline/structure.ts).
 */
export type StructureKind = 'particle' | 'filament' | 'membrane';
/** The page's structure select: 'auto' lets the pipeline decide from the clicked slices. */
export type StructureChoice = 'auto' | StructureKind;

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
  /**
   * Marker radius in voxels where the circle is not the particle's size: a filament's axis point
   * (one of many along it) or a membrane's seed, whose whole masks would draw huge circles.
   */
  radius?: number;
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
  /** What to segment at the prompt (default 'auto'); a named kind that is not there fails the job. */
  structure?: StructureChoice;
}

export interface PickRequestBody {
  prompts: VoxelXYZ[];
  negatives: VoxelXYZ[];
  /** Number of picks to keep, or 'auto'. */
  topK: number | 'auto';
  /**
   * What to find (default 'auto': filaments or membranes like the last positive prompt when the
   * last Segment found one, else particles as before); particle picking uses every prompt, a
   * filament or membrane search the last positive one.
   */
  structure?: StructureChoice;
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

/** A segmented filament, in the units the page shows (nm) and its traced axis (voxels). */
export interface FilamentDto {
  lengthNm: number;
  outerDiameterNm: number;
  /** 0 for a solid filament (actin), the lumen for a hollow one (microtubule). */
  innerDiameterNm: number;
  /** Axis points, end to end, a few voxels apart. */
  axis: VoxelXYZ[];
}

export interface MembraneDto {
  areaNm2: number;
  thicknessNm: number;
}

export interface SegmentJobResult {
  kind: 'segment';
  /** What was segmented, and whether the request named it ('given') or the pipeline decided ('auto'). */
  structure: StructureKind;
  decidedBy: 'given' | 'auto';
  voxels: number;
  centroid: VoxelXYZ;
  filament?: FilamentDto;
  membrane?: MembraneDto;
}

export interface PickJobResult {
  kind: 'pick';
  /** Particles; for filaments their axis points (helical picks), for membranes one seed each. */
  picks: PickDto[];
  seconds: number;
  /** Set when Find all looked for filaments or membranes: their kind and how many were found. */
  structures?: { kind: 'filament' | 'membrane'; count: number };
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
  /**
   * With `error`: the status a direct answer would have had. 400 when the request's input was
   * refused (e.g. "no membrane found at …" for a click in empty ice), 500 for a fault of the server.
   */
  errorStatus?: number;
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
