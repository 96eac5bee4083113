/**
 * What one `cryosam view` serves: a tomogram opened lazily (slices read on demand), the pipeline
 * built only when Segment or Find all is first used, the current masks, and the exports written.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../errors.js';
import type { Slice2D } from '../engines/types.js';
import type { Axis, Shape3, Volume } from '../volume/volume.js';
import { meanVoxelSize } from '../volume/volume.js';
import { extractSlice, sliceCount, sliceShape, voxelToSlice } from '../volume/slice.js';
import type { ProgressCallback, ProgressEvent } from '../progress.js';
import type { Pick } from '../io/coords/pick.js';
import type { InstanceMask } from '../pipeline/types.js';
import { MrcReader, readMrc, writeMrc } from '../io/mrc/index.js';
import { checkPicksInside, cliFormat, readPicks, writePicks, COORD_FORMATS } from '../io/coords/index.js';
import type { CryoSam } from '../pipeline/cryosam.js';
import { instancesToSemantic } from '../pipeline/labels.js';
import { contrastSections, percentileRange, type DisplayRange } from './contrast.js';
import { displaySlice, downsampleMaskBits } from './slices.js';
import { SliceSource } from './slice-source.js';
import { ByteLru } from './lru.js';
import { HttpError } from './http.js';
import { JobQueue } from './jobs.js';
import type {
  ExportMaskBody,
  ExportPicksBody,
  ExportResponse,
  InfoResponse,
  JobStatus,
  PickDto,
  PickRequestBody,
  SegmentRequestBody,
  VoxelXYZ,
} from './protocol.js';

export interface ViewerOptions {
  /** The tomogram (MRC). */
  tomogram: string;
  /** Picks to show at start (any supported coordinate format). */
  picks?: string;
  /** A label or binary mask MRC of the same shape, shown as the semantic overlay. */
  mask?: string;
  /** Folder exports are written into. */
  outDir: string;
  /** Engine name for Segment / Find all (default: the pipeline's). */
  engine?: string;
  /** Voxel size in Å for coordinate files; default from the MRC header. */
  voxelSize?: number;
  /** Embedding / feature cache folder (default: the pipeline's). */
  cacheDir?: string;
}

/** Memory for display slices kept for quick re-display. */
const SLICE_CACHE_BYTES = 128 << 20;

export class ViewerSession {
  readonly jobs = new JobQueue();
  private readonly sliceCache = new ByteLru<Slice2D>(SLICE_CACHE_BYTES);
  private readonly source: SliceSource;
  private pipeline: Promise<CryoSam> | undefined;
  /** Where the pipeline's progress goes: the job currently running. */
  private progressSink: ProgressCallback = () => {};
  private semantic: Volume<Uint8Array> | undefined;
  private segmented: InstanceMask | undefined;
  /** Files this session wrote, by name: the only files /api/download serves. */
  private readonly exported = new Map<string, string>();

  private constructor(
    private readonly options: ViewerOptions,
    private readonly reader: MrcReader,
    readonly shape: Shape3,
    readonly voxelSizeA: number,
    private readonly contrast: DisplayRange,
    private readonly initialPicks: PickDto[],
    semantic: Volume<Uint8Array> | undefined,
  ) {
    this.semantic = semantic;
    this.source = new SliceSource(reader);
  }

  static async open(options: ViewerOptions): Promise<ViewerSession> {
    const reader = await MrcReader.open(options.tomogram);
    try {
      const shape = reader.header.shape;
      const voxelSizeA = options.voxelSize ?? meanVoxelSize(reader.header.voxelSize);
      if (!(voxelSizeA > 0)) throw new CryosamError('voxel size is unknown or not positive; pass --voxel-size', options.tomogram);
      const sections: Slice2D[] = [];
    for (const z of contrastSections(shape[0])) sections.push(await reader.readSlice('z', z));
      const contrast = percentileRange(sections);
      const picks = options.picks ? await readInitialPicks(options.picks, voxelSizeA, shape) : [];
      const mask = options.mask ? await readMask(options.mask, shape) : undefined;
      return new ViewerSession(options, reader, shape, voxelSizeA, contrast, picks, mask);
    } catch (err) {
      await reader.close();
      throw err;
    }
  }

  info(): InfoResponse {
    return {
      name: path.basename(this.options.tomogram),
      shape: [this.shape[0], this.shape[1], this.shape[2]],
      voxelSizeA: this.voxelSizeA,
      autoContrast: { ...this.contrast },
      formats: [...COORD_FORMATS],
      picks: this.initialPicks,
      hasMask: this.semantic !== undefined,
      outDir: path.resolve(this.options.outDir),
    };
  }

  checkSliceIndex(axis: Axis, index: number): void {
    const n = sliceCount(this.shape, axis);
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new HttpError(400, `slice index ${index} is out of range [0, ${n - 1}] along ${axis}`);
  }

  /** A display slice, smoothed by `sigma` voxels and block-averaged by `downsample`. */
  async slice(axis: Axis, index: number, downsample: number, sigma: number): Promise<Slice2D> {
    this.checkSliceIndex(axis, index);
    const key = `${axis}/${index}/${downsample}/${sigma}`;
    const cached = this.sliceCache.get(key);
    if (cached) return cached;
    // Always from the file: the pipeline normalises its in-memory copy, which would shift the display window.
    const out = displaySlice(await this.source.read(axis, index), sigma, downsample);
    this.sliceCache.set(key, out, out.data.byteLength);
    return out;
  }

  /** Overlay bits of one slice: 1 = semantic mask, 2 = the last segmented particle. */
  overlay(axis: Axis, index: number, downsample: number): { bits: Uint8Array; height: number; width: number } {
    this.checkSliceIndex(axis, index);
    const [height, width] = sliceShape(this.shape, axis);
    const bits = new Uint8Array(height * width);
    if (this.semantic) {
      const labels = extractSlice(this.semantic, axis, index).data;
      for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) bits[i] = 1;
    }
    if (this.segmented) paintInstance(bits, width, this.segmented, axis, index);
    const out = downsampleMaskBits(bits, height, width, downsample);
    return { bits: out, height: Math.ceil(height / downsample), width: Math.ceil(width / downsample) };
  }

  startSegment(body: SegmentRequestBody): JobStatus {
    this.checkInside([body.prompt], 'prompt');
    this.checkInside(body.negatives, 'negative prompt');
    return this.jobs.start(async (report) => {
      const sam = await this.withPipeline(report);
      const instance = await sam.segment(body.prompt, { negatives: body.negatives });
      this.segmented = instance;
      return { kind: 'segment', voxels: instance.voxels, centroid: instance.centroid };
    });
  }

  startPick(body: PickRequestBody): JobStatus {
    if (body.prompts.length === 0) throw new HttpError(400, 'Find all needs at least one positive prompt');
    this.checkInside(body.prompts, 'prompt');
    this.checkInside(body.negatives, 'negative prompt');
    return this.jobs.start(async (report) => {
      const started = performance.now();
      const sam = await this.withPipeline(report);
      const result = await sam.pick(body.prompts, { topK: body.topK, segment: { negatives: body.negatives } });
      this.semantic = instancesToSemantic(this.shape, result.instances);
      this.segmented = undefined;
      const picks: PickDto[] = result.picks.map((p) => ({ x: p.x, y: p.y, z: p.z, score: p.score, voxels: p.voxels }));
      return { kind: 'pick', picks, seconds: (performance.now() - started) / 1000 };
    });
  }

  async exportPicks(body: ExportPicksBody): Promise<ExportResponse> {
    const target = await this.exportPath(body.name);
    // An unknown name throws CryosamError, which the server answers with 400.
    const format = cliFormat(body.format);
    const picks: Pick[] = body.picks.map((p) => ({ x: p.x, y: p.y, z: p.z, ...(p.score !== undefined ? { score: p.score } : {}) }));
    checkPicksInside(picks, this.shape, body.name);
    const tomoName = path.basename(this.options.tomogram).replace(/\.[^.]*$/, '');
    await writePicks(target, picks, { voxelSize: this.voxelSizeA, shape: this.shape }, { format, tomoName });
    return this.exportedFile(body.name, target, picks.length);
  }

  async exportMask(body: ExportMaskBody): Promise<ExportResponse> {
    const target = await this.exportPath(body.name);
    const voxelSize = this.reader.header.voxelSize;
    const mask = this.semantic ?? (this.segmented ? instancesToSemantic(this.shape, [this.segmented]) : undefined);
    if (!mask) throw new HttpError(409, 'there is no mask yet: run Segment or Find all first');
    await writeMrc(target, { ...mask, voxelSize });
    return this.exportedFile(body.name, target);
  }

  /** Absolute path of a file this session exported, for download. */
  exportedPath(name: string): string {
    const file = this.exported.get(name);
    if (!file) throw new HttpError(404, `"${name}" was not exported by this viewer`);
    return file;
  }

  async close(): Promise<void> {
    await this.jobs.idle();
    if (this.pipeline) await (await this.pipeline.catch(() => undefined))?.dispose();
    await this.reader.close();
  }

  /** Names of the files exported so far, for the run report. */
  exports(): string[] {
    return [...this.exported.values()];
  }

  /** Voxel centres are at integers, so positions in [-0.5, n - 0.5) round to a voxel of the tomogram. */
  private checkInside(points: VoxelXYZ[], what: string): void {
    const [nz, ny, nx] = this.shape;
    const inside = (v: number, n: number) => v >= -0.5 && v < n - 0.5;
    for (const p of points) {
      if (!inside(p.x, nx) || !inside(p.y, ny) || !inside(p.z, nz)) {
        throw new HttpError(400, `${what} (${p.x}, ${p.y}, ${p.z}) lies outside the tomogram (${nx}×${ny}×${nz} voxels, x×y×z)`);
      }
    }
  }

  /** Validates an export file name and returns its path inside the output folder. */
  private async exportPath(name: string): Promise<string> {
    if (!isSafeFileName(name)) {
      throw new HttpError(400, `bad file name "${name}": use letters, digits, ".", "_" and "-" only (no folders)`);
    }
    const dir = path.resolve(this.options.outDir);
    const target = path.resolve(dir, name);
    if (path.dirname(target) !== dir) throw new HttpError(400, `bad file name "${name}"`);
    await fs.mkdir(dir, { recursive: true });
    return target;
  }

  private exportedFile(name: string, target: string, count?: number): ExportResponse {
    this.exported.set(name, target);
    return { path: target, download: `/api/download?name=${encodeURIComponent(name)}`, ...(count !== undefined ? { count } : {}) };
  }

  /** The pipeline over the whole tomogram, loaded on first use with progress. */
  private async withPipeline(report: (e: ProgressEvent) => void): Promise<CryoSam> {
    this.progressSink = report;
    // Imported on first use: the engines (ONNX runtime) are not needed to browse a tomogram.
    this.pipeline ??= Promise.all([this.loadVolume(), import('../pipeline/cryosam.js')]).then(([volume, { CryoSam }]) =>
      CryoSam.create(volume, {
        ...(this.options.engine ? { engine: { engine: this.options.engine } } : {}),
        ...(this.options.cacheDir ? { cacheDir: this.options.cacheDir } : {}),
        onProgress: (e) => this.progressSink(e),
      }),
    );
    // A failed load is retried on the next request instead of failing forever.
    this.pipeline.catch(() => (this.pipeline = undefined));
    return this.pipeline;
  }

  /** Reads the whole tomogram section by section, reporting progress to the running job. */
  private async loadVolume(): Promise<Volume> {
    const [nz, ny, nx] = this.shape;
    const data = new Float32Array(nz * ny * nx);
    for (let z = 0; z < nz; z++) {
      data.set((await this.reader.readSlice('z', z)).data, z * ny * nx);
      this.progressSink({ stage: 'loading tomogram', done: z + 1, total: nz });
    }
    return { data, shape: this.shape, voxelSize: this.reader.header.voxelSize };
  }
}

/** Export names: one plain file name, no folders, no leading dot, no "..". */
export function isSafeFileName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

/** Sets bit 2 on the pixels of `bits` (slice `index` along `axis`, `width` wide) inside the instance. */
function paintInstance(bits: Uint8Array, width: number, inst: InstanceMask, axis: Axis, index: number): void {
  const b = inst.bbox;
  const corner = voxelToSlice(axis, { x: b.x0, y: b.y0, z: b.z0 });
  const local = index - corner.index;
  const box: Volume<Uint8Array> = { data: inst.mask, shape: [b.z1 - b.z0, b.y1 - b.y0, b.x1 - b.x0], voxelSize: { x: 1, y: 1, z: 1 } };
  if (local < 0 || local >= sliceCount(box.shape, axis)) return;
  const piece = extractSlice(box, axis, local);
  for (let r = 0; r < piece.height; r++) {
    for (let c = 0; c < piece.width; c++) {
      if (piece.data[r * piece.width + c]) bits[(corner.row + r) * width + corner.col + c] |= 2;
    }
  }
}

async function readInitialPicks(file: string, voxelSizeA: number, shape: Shape3): Promise<PickDto[]> {
  const picks = await readPicks(file, { voxelSize: voxelSizeA, shape });
  checkPicksInside(picks, shape, file);
  return picks.map((p) => ({ x: p.x, y: p.y, z: p.z, ...(p.score !== undefined ? { score: p.score } : {}) }));
}

/** The --mask file as a binary mask (1 byte per voxel, whatever its labels' type). */
async function readMask(file: string, shape: Shape3): Promise<Volume<Uint8Array>> {
  const mask = await readMrc(file);
  if (mask.shape.some((n, i) => n !== shape[i])) {
    throw new CryosamError(`mask shape ${mask.shape.join('×')} (z×y×x) differs from the tomogram's ${shape.join('×')}`, file);
  }
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] !== 0 ? 1 : 0;
  return { data, shape, voxelSize: mask.voxelSize };
}
