/**
 * What one `cryosam view` serves: a tomogram opened lazily (slices read on demand), the pipeline
 * built only when Segment or Find all is first used, the current masks, and the exports written.
 *
 * The semantic mask (overlay bit 0, Export mask) is the --mask file until the first Find all, then
 * the instances of the Find-all picks the page keeps (POST /api/mask/keep: above its threshold,
 * not deleted), so what is shown and exported matches the picks the user keeps.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../errors.js';
import type { Axis, Shape3, Volume } from '../volume/volume.js';
import { isInsideVolume, meanVoxelSize } from '../volume/volume.js';
import { extractSlice, sliceCount, sliceShape, voxelToSlice, type Slice2D } from '../volume/slice.js';
import type { ProgressCallback, ProgressEvent } from '../progress.js';
import type { Pick } from '../io/coords/pick.js';
import type { Instance } from '../pipeline/types.js';
import { MrcReader, readMrc, writeMrc } from '../io/mrc/index.js';
import { checkOutputs } from '../io/files.js';
import { tomogramName } from '../io/tomogram-name.js';
import { writeRunReport } from '../io/report.js';
import { checkPicksInside, cliFormat, readPicks, writePicks, COORD_FORMATS } from '../io/coords/index.js';
import type { CryoSam, StructurePickResult } from '../pipeline/cryosam.js';
import type { StructureSegmentation } from '../pipeline/structure.js';
import type { FoundStructure } from '../pipeline/structure-pick.js';
import { instancesToSemantic } from '../pipeline/labels.js';
import { contrastSections, percentileRange, type DisplayRange } from './contrast.js';
import { displaySlice, downsampleMaskBits } from './slices.js';
import { nonFiniteVoxel, SliceSource } from './slice-source.js';
import { ByteLru } from '../lru.js';
import { HttpError } from './http.js';
import { JobQueue } from './jobs.js';
import type {
  ExportMaskBody,
  ExportPicksBody,
  ExportResponse,
  InfoResponse,
  JobStatus,
  KeepResponse,
  PickDto,
  PickJobResult,
  PickRequestBody,
  SegmentJobResult,
  SegmentRequestBody,
  StructureChoice,
  StructureKind,
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
/**
 * Marker radius (voxels) of a filament's axis point among Find all's picks: a dot on the slices
 * within about a voxel of it, so a filament shows as a dotted line along its axis, not as dozens
 * of overlapping tube-sized circles.
 */
const AXIS_MARKER_RADIUS = 1.5;

export class ViewerSession {
  readonly jobs = new JobQueue();
  private readonly sliceCache = new ByteLru<Slice2D>(SLICE_CACHE_BYTES);
  private readonly source: SliceSource;
  private pipeline: Promise<CryoSam> | undefined;
  /** Where the pipeline's progress goes: the job currently running. */
  private progressSink: ProgressCallback = () => {};
  /**
   * Particles of the last Find all by instance id (PickDto.instance), and those the page keeps
   * (all, until it says otherwise). Ids are unique within the session, so a page still holding
   * picks of an earlier Find all cannot select this one's particles by mistake.
   */
  private found: { instances: Map<number, Instance>; kept: Instance[] } | undefined;
  private nextInstanceId = 1;
  private segmented: Instance | undefined;
  /** What the last Segment found: after a filament or membrane, Find all's 'auto' looks for those. */
  private segmentedKind: StructureKind | undefined;
  /** Files this session wrote, by name: the only files /api/download serves. */
  private readonly exported = new Map<string, string>();

  private constructor(
    private readonly options: ViewerOptions,
    private readonly reader: MrcReader,
    readonly shape: Shape3,
    readonly voxelSizeA: number,
    private readonly contrast: DisplayRange,
    private readonly initialPicks: PickDto[],
    /** The --mask file: the semantic mask until the first Find all. */
    private readonly fileMask: Volume<Uint8Array> | undefined,
  ) {
    this.source = new SliceSource(reader);
  }

  static async open(options: ViewerOptions): Promise<ViewerSession> {
    const reader = await MrcReader.open(options.tomogram);
    try {
      const shape = reader.header.shape;
      const voxelSizeA = options.voxelSize ?? meanVoxelSize(reader.header.voxelSize);
      if (!(voxelSizeA > 0)) throw new CryosamError('voxel size is unknown or not positive; pass --voxel-size', options.tomogram);
      const sections: Slice2D[] = [];
      for (const z of contrastSections(shape[0])) {
        const section = await reader.readSlice('z', z);
        const problem = nonFiniteVoxel(section, 'z', z);
        if (problem) throw new CryosamError(problem, options.tomogram);
        sections.push(section);
      }
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
      hasMask: this.fileMask !== undefined,
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

  /** Overlay bits of one slice: 1 = semantic mask, 2 = the last segmented particle, filament or membrane. */
  overlay(axis: Axis, index: number, downsample: number): { bits: Uint8Array; height: number; width: number } {
    this.checkSliceIndex(axis, index);
    const [height, width] = sliceShape(this.shape, axis);
    const bits = new Uint8Array(height * width);
    if (this.found) {
      for (const inst of this.found.kept) paintInstance(bits, width, inst, axis, index, 1);
    } else if (this.fileMask) {
      const labels = extractSlice(this.fileMask, axis, index).data;
      for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) bits[i] = 1;
    }
    if (this.segmented) paintInstance(bits, width, this.segmented, axis, index, 2);
    const out = downsampleMaskBits(bits, height, width, downsample);
    return { bits: out, height: Math.ceil(height / downsample), width: Math.ceil(width / downsample) };
  }

  startSegment(body: SegmentRequestBody): JobStatus {
    this.checkInside([body.prompt], 'prompt');
    this.checkInside(body.negatives, 'negative prompt');
    return this.jobs.start(async (report) => {
      const sam = await this.withPipeline(report);
      // A named kind that is not at the click throws CryosamError: the job fails with its message (400).
      const found = await sam.segmentStructure(body.prompt, body.structure ?? 'auto', { negatives: body.negatives });
      this.segmented = found.instance;
      this.segmentedKind = found.kind;
      return segmentResult(found);
    });
  }

  startPick(body: PickRequestBody): JobStatus {
    if (body.prompts.length === 0) throw new HttpError(400, 'Find all needs at least one positive prompt');
    this.checkInside(body.prompts, 'prompt');
    this.checkInside(body.negatives, 'negative prompt');
    return this.jobs.start(async (report) => {
      const started = performance.now();
      const sam = await this.withPipeline(report);
      const search = findAllSearch(body.structure ?? 'auto', this.segmentedKind);
      const options = { topK: body.topK, segment: { negatives: body.negatives } };
      // The search starts from one click, as Segment does: the last positive prompt.
      const structures = search === 'particle' ? undefined : await sam.pickStructures(body.prompts[body.prompts.length - 1], search, options);
      const found = structures ? this.structurePicks(structures) : await this.particlePicks(sam, body.prompts, options);
      return { kind: 'pick', ...found, seconds: (performance.now() - started) / 1000 };
    });
  }

  /** Find all for round particles, as before structures existed: every prompt makes the reference. */
  private async particlePicks(sam: CryoSam, prompts: VoxelXYZ[], options: Parameters<CryoSam['pick']>[1]): Promise<{ picks: PickDto[] }> {
    const result = await sam.pick(prompts, options);
    const sessionId = this.keepFound(result.instances);
    const picks: PickDto[] = result.picks.map((p) => {
      const instance = p.instanceId !== undefined ? sessionId.get(p.instanceId) : undefined;
      return { x: p.x, y: p.y, z: p.z, score: p.score, voxels: p.voxels, ...(instance !== undefined ? { instance } : {}) };
    });
    return { picks };
  }

  /** Find all for filaments (their axis points as picks) or membranes (one seed each). */
  private structurePicks(result: StructurePickResult): Omit<PickJobResult, 'kind' | 'seconds'> {
    const sessionId = this.keepFound(result.instances);
    const picks = result.structures.flatMap((s, i) => structureMarkers(s, sessionId.get(result.instances[i].id)!, this.voxelSizeA, this.shape));
    return { picks, structures: { kind: result.kind, count: result.instances.length } };
  }

  /**
   * Makes `instances` the Find-all particles (all kept) under new session ids, and drops the
   * segmented one from the overlay; returns the session id of each pipeline instance id.
   */
  private keepFound(found: readonly Instance[]): Map<number, number> {
    const instances = new Map<number, Instance>();
    const sessionId = new Map<number, number>();
    for (const inst of found) {
      const id = this.nextInstanceId++;
      instances.set(id, inst);
      sessionId.set(inst.id, id);
    }
    this.found = { instances, kept: [...instances.values()] };
    this.segmented = undefined;
    return sessionId;
  }

  /** Sets which Find-all particles the semantic mask (overlay and default export) holds. */
  keepInstances(ids: number[]): KeepResponse {
    const kept = this.instancesById(ids); // 409 before any Find all, so `found` is set below
    this.found!.kept = kept;
    return { kept: kept.length };
  }

  async exportPicks(body: ExportPicksBody): Promise<ExportResponse> {
    const target = await this.exportPath(body.name, body.overwrite ?? false);
    // An unknown name throws CryosamError, which the server answers with 400.
    const format = cliFormat(body.format);
    const picks: Pick[] = body.picks.map((p) => ({ x: p.x, y: p.y, z: p.z, ...(p.score !== undefined ? { score: p.score } : {}) }));
    checkPicksInside(picks, this.shape, body.name);
    const tomoName = tomogramName(this.options.tomogram);
    await writePicks(target, picks, { voxelSize: this.voxelSizeA, shape: this.shape }, { format, tomoName });
    return this.exportedFile(body.name, target, picks.length);
  }

  /**
   * Writes the semantic mask: of the Find-all particles `body.instances` when given (the page sends
   * the picks it keeps), else the current one; before any Find all the --mask file or the last
   * segmented particle.
   */
  async exportMask(body: ExportMaskBody): Promise<ExportResponse> {
    const target = await this.exportPath(body.name, body.overwrite ?? false);
    const voxelSize = this.reader.header.voxelSize;
    const instances = body.instances ? this.instancesById(body.instances) : this.found?.kept;
    const mask = instances
      ? instancesToSemantic(this.shape, instances)
      : (this.fileMask ?? (this.segmented ? instancesToSemantic(this.shape, [this.segmented]) : undefined));
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

  /**
   * Writes the run report beside the exports when the session exported anything, and returns its
   * path. Never over an existing file (an export, or an earlier session's report, may already be
   * named view-report.json): the first free name of view-report.json, view-report-2.json, …
   */
  async writeReport(seconds: number): Promise<string | undefined> {
    const exports = this.exports();
    if (exports.length === 0) return undefined;
    const file = await freeFileName(path.resolve(this.options.outDir), 'view-report', '.json');
    await writeRunReport(file, { command: 'view', tomogram: path.resolve(this.options.tomogram), exports, seconds });
    return file;
  }

  /** The Find-all instances with these ids (duplicates once); 400 for an id of no current pick. */
  private instancesById(ids: number[]): Instance[] {
    const found = this.found;
    if (!found) throw new HttpError(409, 'there are no Find all results yet: run Find all first');
    return [...new Set(ids)].map((id) => {
      const inst = found.instances.get(id);
      if (!inst) throw new HttpError(400, `instance ${id} is not a pick of the last Find all`);
      return inst;
    });
  }

  /** 400 unless every point lies in the tomogram (isInsideVolume). */
  private checkInside(points: VoxelXYZ[], what: string): void {
    const [nz, ny, nx] = this.shape;
    for (const p of points) {
      if (!isInsideVolume(p, this.shape)) {
        throw new HttpError(400, `${what} (${p.x}, ${p.y}, ${p.z}) lies outside the tomogram (${nx}×${ny}×${nz} voxels, x×y×z)`);
      }
    }
  }

  /**
   * Validates an export file name and returns its path inside the output folder. An existing file
   * is replaced only when `overwrite` (409 with {exists: true} otherwise, so the page can ask);
   * an input of the session never, even then.
   */
  private async exportPath(name: string, overwrite: boolean): Promise<string> {
    if (!isSafeFileName(name)) {
      throw new HttpError(400, `bad file name "${name}": use letters, digits, ".", "_" and "-" only (no folders)`);
    }
    const dir = path.resolve(this.options.outDir);
    const target = path.resolve(dir, name);
    if (path.dirname(target) !== dir) throw new HttpError(400, `bad file name "${name}"`);
    await fs.mkdir(dir, { recursive: true });
    // Compared by device and inode: a link to the tomogram, --picks or --mask (or the out dir being
    // their folder) is refused too.
    await checkOutputs([target], [this.options.tomogram, this.options.picks, this.options.mask]);
    if (!overwrite && (await fs.lstat(target).catch(() => undefined))) {
      throw new HttpError(409, `${name} already exists in ${dir}; choose another name or confirm overwriting it`, { exists: true });
    }
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
        normalizeInPlace: true,
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
    // Shared memory: Find all's worker threads read the tomogram without a copy.
    const data = new Float32Array(new SharedArrayBuffer(nz * ny * nx * 4));
    for (let z = 0; z < nz; z++) {
      const section = await this.reader.readSlice('z', z);
      // The check readMrc makes for the CLI's pick: NaN would spread through features and masks.
      const problem = nonFiniteVoxel(section, 'z', z);
      if (problem) throw new CryosamError(problem, this.options.tomogram);
      data.set(section.data, z * ny * nx);
      this.progressSink({ stage: 'loading tomogram', done: z + 1, total: nz });
    }
    // --voxel-size wins over the header, as in the CLI: filament and membrane sizes are in Å.
    const v = this.options.voxelSize;
    return { data, shape: this.shape, voxelSize: v !== undefined ? { x: v, y: v, z: v } : this.reader.header.voxelSize };
  }
}

/**
 * What Find all looks for. A named kind is searched as asked; 'auto' looks for filaments or
 * membranes only after Segment found one (pickStructures then decides at the click, and a round
 * particle falls back to particle picking), so Find all on particles stays exactly as before.
 */
export function findAllSearch(choice: StructureChoice, segmented: StructureKind | undefined): 'particle' | 'auto' | 'filament' | 'membrane' {
  if (choice !== 'auto') return choice;
  return segmented === 'filament' || segmented === 'membrane' ? 'auto' : 'particle';
}

/** What Segment tells the page: the kind, its measures in nm (the pipeline's are in Å) and a filament's axis. */
function segmentResult(found: StructureSegmentation & { instance: Instance }): SegmentJobResult {
  const { filament: f, membrane: m, instance } = found;
  return {
    kind: 'segment',
    structure: found.kind,
    decidedBy: found.decidedBy,
    voxels: instance.voxels,
    centroid: instance.centroid,
    ...(f ? { filament: { lengthNm: f.lengthA / 10, outerDiameterNm: f.outerDiameterA / 10, innerDiameterNm: f.innerDiameterA / 10, axis: f.axis.map(({ x, y, z }) => ({ x, y, z })) } } : {}),
    ...(m ? { membrane: { areaNm2: m.areaNm2, thicknessNm: m.thicknessA / 10 } } : {}),
  };
}

/**
 * The picks standing for one found structure: a filament's axis points inside the tomogram
 * (helical picks, exportable as coordinates), or a membrane's seed with a marker its thickness
 * across; all carry the structure's similarity as score and its mask's instance id.
 */
function structureMarkers(s: FoundStructure, instance: number, voxelSizeA: number, shape: Shape3): PickDto[] {
  const marker = (p: VoxelXYZ, radius: number): PickDto => ({ x: p.x, y: p.y, z: p.z, score: s.similarity, radius, instance });
  if (s.filament) return s.filament.axis.filter((p) => isInsideVolume(p, shape)).map((p) => marker(p, AXIS_MARKER_RADIUS));
  const radius = s.membrane ? Math.max(AXIS_MARKER_RADIUS, s.membrane.thicknessA / 2 / voxelSizeA) : AXIS_MARKER_RADIUS;
  return [marker(s.seed, radius)];
}

/** Export names: one plain file name, no folders, no leading dot, no "..". */
export function isSafeFileName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

/** Sets `bit` on the pixels of `bits` (slice `index` along `axis`, `width` wide) inside the instance. */
function paintInstance(bits: Uint8Array, width: number, inst: Instance, axis: Axis, index: number, bit: number): void {
  const b = inst.bbox;
  const corner = voxelToSlice(axis, { x: b.x0, y: b.y0, z: b.z0 });
  const local = index - corner.index;
  const box: Volume<Uint8Array> = { data: inst.mask, shape: [b.z1 - b.z0, b.y1 - b.y0, b.x1 - b.x0], voxelSize: { x: 1, y: 1, z: 1 } };
  if (local < 0 || local >= sliceCount(box.shape, axis)) return;
  const piece = extractSlice(box, axis, local);
  for (let r = 0; r < piece.height; r++) {
    for (let c = 0; c < piece.width; c++) {
      if (piece.data[r * piece.width + c]) bits[(corner.row + r) * width + corner.col + c] |= bit;
    }
  }
}

/** `dir/stem+ext`, or `dir/stem-2+ext`, `-3`, … : the first name no file has. */
async function freeFileName(dir: string, stem: string, ext: string): Promise<string> {
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? `${stem}${ext}` : `${stem}-${n}${ext}`);
    if (!(await fs.lstat(file).catch(() => undefined))) return file;
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
