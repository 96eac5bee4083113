/**
 * `cryosam segment`, `cryosam pick` and `cryosam cache`: the CryoSAM pipeline on the command line.
 * Coordinates are voxel indices in x,y,z order (IMOD, RELION); outputs are written atomically with
 * a JSON run report beside them.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CryosamError } from '../errors.js';
import { readPicks, writePicks, cliFormat, checkPicksInside, type CoordFormat, type CoordFrame, type Pick as CoordPick } from '../io/coords/index.js';
import { resolveDataset, type DatasetTomogram } from '../io/dataset/index.js';
import { referenceFromTomograms } from '../pipeline/reference-merge.js';
import { formatFromExtension, OUTPUT_FORMAT_HELP } from '../io/coords/formats.js';
import { checkOutputFolder, checkOutputs, requireInputFile } from '../io/files.js';
import { AVERAGE_FILE, loadReference, REFERENCE_FILE, saveReference } from '../pipeline/reference-file.js';
import { sameVoxelSize, type Reference } from '../pipeline/reference.js';
import { rescaleVolume } from '../volume/resample.js';
import { describeEngineNames, parseEngineName } from '../engines/registry.js';
import { readMrc, readMrcHeader, requireVoxelSize, writeMrc } from '../io/mrc/index.js';
import { cacheDir, modelsDir } from '../paths.js';
import { DEFAULT_CACHE_LIMIT_BYTES, DiskCache } from '../pipeline/cache.js';
import { CryoSam } from '../pipeline/cryosam.js';
import { instancesToLabels, instancesToSemantic } from '../pipeline/labels.js';
import { DEFAULTS } from '../pipeline/defaults.js';
import type { StructureKind, StructureSegmentation } from '../pipeline/structure.js';
import { alongAxis } from '../pipeline/structure-pick.js';
import type { StructurePickResult } from '../pipeline/cryosam.js';
import { isTopK, TOP_K_RULE, type Instance, type MissingWedgeReport, type PickOptions, type QueryMode, type SegmentOptions, type VoxelPoint } from '../pipeline/types.js';
import { tomogramName } from '../io/tomogram-name.js';
import { writeRunReport } from '../io/report.js';
import { peakRssMiB } from '../memory.js';
import { isInsideVolume, meanVoxelSize, type Axis, type Shape3, type Volume } from '../volume/volume.js';
import { createCliProgress } from './progress.js';

function parsePoint(value: string, previous: VoxelPoint[] = []): VoxelPoint[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError(`expected X,Y,Z in voxels, got "${value}"`);
  return [...previous, { x: parts[0], y: parts[1], z: parts[2] }];
}

function parseNumber(what: string, test: (v: number) => boolean) {
  return (value: string): number => {
    const v = Number(value);
    if (!Number.isFinite(v) || !test(v)) throw new InvalidArgumentError(`${what}, got "${value}"`);
    return v;
  };
}

function parseRange(value: string): [number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !(parts[0] >= 0 && parts[1] > parts[0])) throw new InvalidArgumentError(`expected LO,HI with 0 ≤ LO < HI, got "${value}"`);
  return [parts[0], parts[1]];
}

function parseTiltRange(value: string): [number, number] | 'auto' | 'none' {
  if (value === 'auto' || value === 'none') return value;
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every((v) => v >= -90 && v <= 90) || !(parts[0] < parts[1])) {
    throw new InvalidArgumentError(`expected auto, none or MIN,MAX in degrees with -90 ≤ MIN < MAX ≤ 90, got "${value}"`);
  }
  return [parts[0], parts[1]];
}

function parseAxes(value: string): Axis[] {
  if (value === 'zyx') return ['z', 'y', 'x'];
  if (value === 'z') return ['z'];
  throw new InvalidArgumentError(`expected zyx or z, got "${value}"`);
}

interface CommonOptions {
  at?: VoxelPoint[];
  prompts?: string;
  promptsFormat?: string;
  negative?: VoxelPoint[];
  axes?: Axis[];
  iouThreshold?: number;
  scoreThreshold?: number;
  maxAreaFactor?: number;
  labels?: string;
  engine?: string;
  modelsDir?: string;
  device?: 'cpu' | 'cuda' | 'webgpu';
  threads?: number;
  voxelSize?: number;
  cache: boolean;
  cacheDir?: string;
  quiet?: boolean;
}

/** Options shared by segment and pick: prompts, propagation, engine, cache. */
function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--at <x,y,z>', 'point prompt in voxel indices, x,y,z order (repeatable)', parsePoint)
    .option('--prompts <file>', 'read point prompts from a coordinate file instead (STAR, RELION 5, copick JSON, NDJSON, CSV, IMOD; Å-based formats use the tomogram voxel size)')
    .option('--prompts-format <format>', 'format of the --prompts file when its extension and content do not tell (e.g. relion5, csv)')
    .option('--negative <x,y,z>', 'negative prompt in voxels, x,y,z: a point that is not the particle (repeatable)', parsePoint)
    .addOption(new Option('--axes <axes>', 'propagation axes: zyx (cross-plane, default) or z (as the released CryoSAM code)').argParser(parseAxes))
    .option('--iou-threshold <t>', `stop propagating when the IoU of adjacent slice masks drops below t (0-1, default ${DEFAULTS.segment.iouThreshold})`, parseNumber('expected a number in [0, 1]', (v) => v >= 0 && v <= 1))
    .option('--score-threshold <s>', `stop propagating when the segmenter's predicted mask score drops below s (0-1, default ${DEFAULTS.segment.scoreThreshold})`, parseNumber('expected a number in [0, 1]', (v) => v >= 0 && v <= 1))
    .option('--max-area-factor <f>', `stop propagating when a slice mask grows past f × the prompt slice's mask area (default ${DEFAULTS.segment.maxAreaFactor})`, parseNumber('expected a number > 1', (v) => v > 1))
    .option('--labels <file>', 'also write an instance label volume (MRC, int; 0 = background, n = instance n)')
    .option('--voxel-size <A>', 'voxel size in Å, overriding the MRC header', parseNumber('expected a positive number of Å', (v) => v > 0));
}

/** Options of every command that runs the engines: which engine, where, and its cache. */
function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--engine <name>', `engine: ${describeEngineNames()}`)
    .option('--models-dir <dir>', 'folder with model weights (default $CRYOSAM_MODELS or ~/.cache/cryosam/models)')
    .addOption(new Option('--device <device>', 'where ONNX engines run').choices(['cpu', 'cuda', 'webgpu']))
    .option('--threads <n>', 'CPU threads for ONNX engines', parseNumber('expected a positive integer', (v) => Number.isInteger(v) && v > 0))
    .option('--no-cache', 'do not read or write the embedding/feature cache')
    .option('--cache-dir <dir>', 'cache folder (default $CRYOSAM_CACHE or ~/.cache/cryosam/cache)')
    .option('-q, --quiet', 'no progress bars or notes on stderr');
}

/** The pick options a reference is made with too: query, feature step, tilt range, worker threads. */
const referenceOptions = {
  query: () => new Option('--query <mode>', `query: mean (masked average over all prompts, the paper; default ${DEFAULTS.pick.query}), per-prompt (max over prompts) or centre (features near each prompt's centre)`).choices(['mean', 'per-prompt', 'centre']),
  featureStep: () => new Option('--feature-step <s>', `encode every s-th slice along each axis (default ${DEFAULTS.pick.featureSliceStep})`).argParser(parseNumber('expected a positive integer', (v) => Number.isInteger(v) && v > 0)),
  tiltRange: () => new Option('--tilt-range <range>', 'tilt range of the tilt series, whose missing wedge the template cut\'s density comparison leaves out: auto (default: read off the tomogram\'s power spectrum; the run report says what was found), none, or MIN,MAX in degrees (e.g. -60,60)').argParser(parseTiltRange),
  tiltAxis: () => new Option('--tilt-axis <axis>', 'axis the specimen was tilted about, for --tilt-range MIN,MAX; the beam is along z (default y)').choices(['y', 'x']),
  workers: () => new Option('--workers <n>', `worker threads that segment proposals and align particles (default: the machine's cores, here ${os.availableParallelism()}; 1: none)`).argParser(parseNumber('expected a whole number ≥ 1', (v) => Number.isInteger(v) && v >= 1)),
};

function segmentOptions(o: CommonOptions): SegmentOptions {
  return { axes: o.axes, iouThreshold: o.iouThreshold, scoreThreshold: o.scoreThreshold, maxAreaFactor: o.maxAreaFactor, negatives: o.negative };
}

/**
 * Checks, before any work, every file a command will write (its run report included) against the
 * rules of src/io/files.ts: writable, not a folder, never one of the inputs.
 */
async function checkCommandFiles(tomoFile: string, o: CommonOptions, outputs: (string | undefined)[], otherInputs: string[] = []): Promise<void> {
  await requireInputFile(tomoFile);
  if (o.prompts) await requireInputFile(o.prompts);
  await checkOutputs(outputs, [tomoFile, o.prompts, ...otherInputs]);
  await checkEngineOptions(o);
}

/** The cache folder is not a file and the engine is installed (addEngineOptions), checked before any work. */
async function checkEngineOptions(o: Pick<CommonOptions, 'cache' | 'cacheDir' | 'engine' | 'modelsDir'>): Promise<void> {
  if (o.cache && o.cacheDir) {
    const st = await fs.stat(o.cacheDir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new CryosamError('--cache-dir names a file, not a folder; give a folder (it is created if missing) or --no-cache', o.cacheDir);
  }
  if (o.engine !== undefined) await parseEngineName(o.engine, o.modelsDir ?? modelsDir());
}

/** --tilt-range and --tilt-axis as PickOptions.tiltRange. */
function tiltRangeOf(o: { tiltRange?: [number, number] | 'auto' | 'none'; tiltAxis?: 'y' | 'x' }): PickOptions['tiltRange'] {
  if (o.tiltAxis && !Array.isArray(o.tiltRange)) throw new CryosamError('--tilt-axis needs --tilt-range MIN,MAX');
  return Array.isArray(o.tiltRange) ? { axis: o.tiltAxis ?? 'y', minDeg: o.tiltRange[0], maxDeg: o.tiltRange[1] } : o.tiltRange;
}

async function loadTomogram(file: string, voxelSizeOverride: number | undefined, needAngstrom: boolean): Promise<Volume> {
  const vol = await readMrc(file);
  if (needAngstrom) vol.voxelSize = requireVoxelSize(vol.voxelSize, file, voxelSizeOverride);
  else if (voxelSizeOverride !== undefined) vol.voxelSize = { x: voxelSizeOverride, y: voxelSizeOverride, z: voxelSizeOverride };
  return vol;
}

async function promptsOf(o: CommonOptions, tomo: Volume, tomoFile: string): Promise<VoxelPoint[]> {
  if (o.prompts && o.at?.length) throw new CryosamError('give prompts with --at or --prompts, not both');
  if (o.prompts) {
    const picks = await readPicks(
      o.prompts,
      { voxelSize: meanVoxelSize(tomo.voxelSize), shape: tomo.shape },
      { format: o.promptsFormat === undefined ? undefined : cliFormat(o.promptsFormat), tomoName: tomogramName(tomoFile) },
    );
    checkPicksInside(picks, tomo.shape, o.prompts);
    if (picks.length === 0) throw new CryosamError('no prompts in the file', o.prompts);
    return picks.map((p) => ({ x: p.x, y: p.y, z: p.z }));
  }
  if (!o.at?.length) throw new CryosamError('no prompt: give --at X,Y,Z (voxels) or --prompts FILE');
  const [nz, ny, nx] = tomo.shape;
  for (const p of [...o.at, ...(o.negative ?? [])]) {
    if (!isInsideVolume(p, tomo.shape)) {
      throw new CryosamError(`prompt ${p.x},${p.y},${p.z} (x,y,z voxels) lies outside the tomogram (${nx}×${ny}×${nz} voxels, x×y×z)`, tomoFile);
    }
  }
  return o.at;
}

/** A tomogram's grid without its voxels: what the CLI keeps once CryoSam holds the voxels. */
type Grid = Pick<Volume, 'shape' | 'voxelSize'>;

function gridOf(v: Volume): Grid {
  return { shape: v.shape, voxelSize: v.voxelSize };
}

async function openCryoSam(tomo: Volume, o: CommonOptions, onProgress: ReturnType<typeof createCliProgress>['onProgress'], workers?: number, structures = true): Promise<CryoSam> {
  return CryoSam.create(tomo, {
    ...(workers ? { workers } : {}),
    structures,
    engine: { engine: o.engine, modelsDir: o.modelsDir, device: o.device, threads: o.threads },
    cacheDir: o.cache ? (o.cacheDir ?? cacheDir()) : false,
    // The CLI read the tomogram for CryoSam alone: no second copy of it.
    normalizeInPlace: true,
    onProgress,
  });
}

async function writeInstanceOutputs(tomo: Grid, instances: Instance[], semanticFile: string | undefined, labelsFile: string | undefined): Promise<void> {
  if (semanticFile) await writeMrc(semanticFile, instancesToSemantic(tomo.shape, instances, tomo.voxelSize), { label: 'cryosam semantic mask' });
  if (labelsFile) await writeMrc(labelsFile, instancesToLabels(tomo.shape, instances, tomo.voxelSize), { label: 'cryosam instance labels' });
}

function cacheNote(o: CommonOptions, hits: { features: number; embeddings: number }): void {
  if (!o.quiet && hits.features + hits.embeddings > 0) note(`reused cached results for this tomogram (${hits.features} feature axes, ${hits.embeddings} slice embeddings)`);
}

/** A line on stderr for the user (progress bars are silent without a terminal, so say what was done), unless --quiet. */
function doneNote(o: CommonOptions, text: string): void {
  if (!o.quiet) note(text);
}

function note(text: string): void {
  process.stderr.write(`cryosam: ${text}\n`);
}

/** What the template cut's density comparison left out, in the words of --tilt-range. */
function wedgeText(w: MissingWedgeReport): string {
  if (w === 'none') return 'compared all Fourier components (no missing wedge given or found)';
  return `left out the missing wedge of a tilt series about ${w.axis} from ${Math.round(w.minDeg)}° to ${Math.round(w.maxDeg)}° (beam along ${w.beam ?? 'z'}; ${w.source})`;
}

/** Largest voxel-size ratio between a tomogram and a reference that rescaling honours (features and sizes are per voxel). */
const MAX_RESCALE = 2;

/** The tomogram at the reference's voxel size: itself when they agree within 2%, else rescaled (ratio up to 2). */
function toReferenceSampling(tomo: Volume, referenceA: number, file: string, o: { mask?: string; labels?: string }): Volume {
  const own = meanVoxelSize(tomo.voxelSize);
  const ratio = own / referenceA;
  if (sameVoxelSize(own, referenceA)) return tomo;
  if (ratio > MAX_RESCALE || ratio < 1 / MAX_RESCALE) {
    throw new CryosamError(`voxel size ${own} Å differs from the reference's ${referenceA} Å by more than ${MAX_RESCALE}×; make a reference at a closer voxel size`, file);
  }
  if (o.mask || o.labels) throw new CryosamError(`masks are written on the tomogram's grid; with a reference at another voxel size (${referenceA} Å, tomogram ${own} Å) write picks only, or rescale the tomogram first`, file);
  return rescaleVolume(tomo, referenceA);
}

/** A position on the rescaled grid back on the tomogram's own (rescaleVolume: output k sits at input (k + 0.5)·s − 0.5). */
function toOriginalSampling(p: VoxelPoint, original: Grid, rescaled: Grid): VoxelPoint {
  const back = (v: number, a: 'x' | 'y' | 'z') => (v + 0.5) * (rescaled.voxelSize[a] / original.voxelSize[a]) - 0.5;
  return { x: back(p.x, 'x'), y: back(p.y, 'y'), z: back(p.z, 'z') };
}

/** --save-reference: a folder (created if missing), never the --reference folder being read. */
async function checkReferenceFolder(dir: string, readFrom: string | undefined): Promise<void> {
  await checkOutputFolder(dir);
  if (readFrom && path.resolve(dir) === path.resolve(readFrom)) throw new CryosamError('is the --reference folder being read; save the refined reference elsewhere', dir);
  const inside = await fs.readdir(dir).catch(() => [] as string[]);
  const foreign = inside.filter((f) => f !== REFERENCE_FILE && f !== AVERAGE_FILE && !f.startsWith('.'));
  if (foreign.length) throw new CryosamError(`holds other files (${foreign.slice(0, 3).join(', ')}); give an empty or new folder, or one holding a reference`, dir);
}

async function writeAverage(file: string, reference: Reference): Promise<void> {
  const avg = reference.average;
  if (!avg) throw new CryosamError('no self-template average: the template cut compared no particle (--top-k auto makes one when proposals are found)', file);
  await writeMrc(file, { data: avg.data, shape: [avg.size, avg.size, avg.size], voxelSize: { x: avg.voxelSizeA, y: avg.voxelSizeA, z: avg.voxelSizeA } }, { label: 'cryosam self-template average' });
}

export function registerSegment(program: Command): void {
  addEngineOptions(addCommonOptions(
    program
      .command('segment')
      .description('Segment the particles under point prompts in 3D (cross-plane self-prompting); writes a mask MRC')
      .argument('<tomogram>', 'tomogram MRC file'),
  ))
    .requiredOption('-o, --output <mask.mrc>', 'semantic mask to write (MRC, uint8: 1 = segmented)')
    .addOption(structureOption('each click segments'))
    .action(async (tomoFile: string, o: CommonOptions & { output: string; structure: StructureKind | 'auto' }) => {
      await checkCommandFiles(tomoFile, o, [o.output, o.labels, `${o.output}.report.json`]);
      const t0 = performance.now();
      const tomo = await loadTomogram(tomoFile, o.voxelSize, false);
      const prompts = await promptsOf(o, tomo, tomoFile);
      const progress = createCliProgress(o.quiet);
      const sam = await openCryoSam(tomo, o, progress.onProgress);
      try {
        const found: Awaited<ReturnType<CryoSam['segmentStructure']>>[] = [];
        for (const [i, p] of prompts.entries()) {
          progress.onProgress({ stage: 'segmenting', done: i, total: prompts.length });
          found.push(await sam.segmentStructure(p, o.structure, segmentOptions(o)));
        }
        progress.onProgress({ stage: 'segmenting', done: prompts.length, total: prompts.length });
        progress.stop();
        const instances = found.map((f, i) => ({ ...f.instance, id: i + 1 }));
        await writeInstanceOutputs(tomo, instances, o.output, o.labels);
        const voxelSizeA = meanVoxelSize(tomo.voxelSize);
        await writeRunReport(`${o.output}.report.json`, {
          command: 'segment',
          tomogram: tomoFile,
          outputs: { mask: o.output, labels: o.labels ?? null },
          engines: sam.engineIdentities(),
          parameters: { prompts, structure: o.structure, ...segmentOptions(o), voxelSizeA },
          seconds: (performance.now() - t0) / 1000,
          instances: found.map((f, i) => ({
            id: i + 1, kind: f.kind, decidedBy: f.decidedBy, voxels: f.instance.voxels, centroid: f.instance.centroid, bbox: f.instance.bbox,
            ...(f.filament ? { filament: f.filament } : {}), ...(f.membrane ? { membrane: f.membrane } : {}),
            clickedSlices: f.planes.map((p) => ({ axis: p.axis, area: p.area, elongation: Number(p.elongation.toFixed(2)) })),
          })),
        });
        for (const f of found) doneNote(o, structureText(f));
        doneNote(o, `wrote ${o.output}: ${instances.length} structure(s), ${instances.reduce((n, inst) => n + inst.voxels, 0)} voxels; run report ${o.output}.report.json`);
      } finally {
        progress.stop();
        await sam.dispose();
      }
    });
}

/** --structure for segment and pick. */
function structureOption(what: string): Option {
  return new Option('--structure <kind>', `what ${what}: auto (default: a filament if one traces through the click for ${DEFAULTS.structure.filament.minLengthDiameters} diameters and ${DEFAULTS.structure.filament.minLengthA} Å, else a membrane if a sheet grows ${DEFAULTS.structure.membrane.minExtentA / 2} Å wide both ways, else a particle), particle (cross-plane self-prompting), filament (followed along its axis, its whole tube filled; outer radius ${DEFAULTS.structure.filament.minRadiusA}–${DEFAULTS.structure.filament.maxRadiusA} Å) or membrane (grown over its sheet while it stays measured; up to ${DEFAULTS.structure.membrane.maxThicknessA} Å thick). Filament and membrane sizes use the voxel size in Å`).choices(['auto', 'particle', 'filament', 'membrane']).default(DEFAULTS.structure.kind);
}

/** One line saying what a click segmented, in the field's units. */
function structureText(f: StructureSegmentation): string {
  const how = f.decidedBy === 'auto' ? 'found' : 'as asked';
  if (f.filament) {
    const { lengthA, outerDiameterA, innerDiameterA } = f.filament;
    return `filament (${how}): ${(lengthA / 10).toFixed(0)} nm long, outer diameter ${(outerDiameterA / 10).toFixed(1)} nm${innerDiameterA > 0 ? `, hollow (lumen ${(innerDiameterA / 10).toFixed(1)} nm)` : ', solid'}, ${f.mask.voxels} voxels`;
  }
  if (f.membrane) return `membrane (${how}): ${f.membrane.areaNm2.toFixed(0)} nm² of sheet, ${(f.membrane.thicknessA / 10).toFixed(1)} nm thick, ${f.mask.voxels} voxels`;
  return `particle (${how}): ${f.mask.voxels} voxels`;
}

export function registerPick(program: Command): void {
  addEngineOptions(addCommonOptions(
    program
      .command('pick')
      .description('Pick every particle like the prompted ones (CryoSAM); writes picks and optional masks')
      .argument('<tomogram>', 'tomogram MRC file'),
  ))
    .requiredOption('-o, --output <file>', 'picks to write; their score is the self-template correlation (-1..1) with the template cut, else the feature similarity (0-1)')
    .option('--format <format>', `output format: ${OUTPUT_FORMAT_HELP}`)
    .option('--mask <file>', 'also write a semantic mask (MRC, uint8: 1 = particle)')
    .option('--top-k <k>', `proposals (NMS peaks, best first) segmented: auto (default: segmented until ${DEFAULTS.pick.autoStopAfterRejects} in a row are rejected, the best ${DEFAULTS.pick.autoMinProposals} first, then twice as many again while the template cut keeps targets to the end of a round, at most as many as would fill ${DEFAULTS.pick.autoMaxOccupancy * 100}% of the tomogram's volume with the particle; then the template cut keeps those whose density correlates with a self-template averaged from the prompts and the best matches, after 3D alignment with the missing wedge left out, cut at its Otsu threshold; then same-size look-alikes are split off by a cross-validated two-class classification of the kept particles) or a number ≥ 1 (the paper: 512; all that pass the volume rule are kept)`, (v: string): number | 'auto' => {
      const k = v === 'auto' ? v : Number(v);
      if (!isTopK(k)) throw new InvalidArgumentError(`expected ${TOP_K_RULE}, got "${v}"`);
      return k;
    })
    .option('--volume-range <lo,hi>', `keep proposals whose segmented volume is lo..hi × the particle's volume: the prompted particles' mean, or the size the ${DEFAULTS.pick.sizeVoters} best matches voted when that differs by more than √2 (default ${DEFAULTS.pick.volumeRange.join(',')})`, parseRange)
    .addOption(new Option('--matching <mode>', `${DEFAULTS.pick.matching} (coarse to fine, default) or naive (every voxel; an ablation)`).choices(['hierarchical', 'naive']))
    .option('--similarity-threshold <x>', `cosine similarity below which positions are dropped at every matching level (default ${DEFAULTS.pick.similarityThreshold})`, parseNumber('expected a number in [-1, 1]', (v) => v >= -1 && v <= 1))
    .addOption(referenceOptions.query())
    .addOption(referenceOptions.featureStep())
    .option('--nms-radius <r>', `NMS radius in voxels (default: the particle's equivalent-sphere radius, from its volume as for --volume-range, at least ${DEFAULTS.pick.minNmsRadius})`, parseNumber('expected a positive number', (v) => v > 0))
    .addOption(referenceOptions.tiltRange())
    .addOption(referenceOptions.tiltAxis())
    .addOption(referenceOptions.workers())
    .option('--reference <dir>', 'pick with a saved reference folder (from --save-reference) instead of prompts: no click in this tomogram. Same engine needed; another voxel size is rescaled to the reference\'s (ratio 0.5–2)')
    .option('--save-reference <dir>', 'write the reference this pick used, refined by its template cut, into a folder: reference.json and average.mrc (the self-template: an average of the prompts and the best matches)')
    .option('--average <file.mrc>', 'also write the self-template average of this pick (MRC, its voxel size in the header)')
    .addOption(structureOption('the click is (filaments and membranes are picked from one click; with several prompts auto means particle)'))
    .option('--filament-spacing <Å>', `filaments are written as points this far apart along their axes, in Å, with their filament number and distance along it (STAR: rlnHelicalTubeID, rlnHelicalTrackLengthAngst; default ${DEFAULTS.structure.filament.pointSpacingA})`, parseNumber('expected a positive number of Å', (v) => v > 0))
    .action(async (tomoFile: string, o: CommonOptions & {
      structure: StructureKind | 'auto'; filamentSpacing?: number;
      reference?: string; saveReference?: string; average?: string; workers?: number;
      output: string; format?: string; mask?: string; topK?: number | 'auto'; volumeRange?: [number, number];
      matching?: 'hierarchical' | 'naive'; similarityThreshold?: number; query?: QueryMode; featureStep?: number; nmsRadius?: number;
      tiltRange?: [number, number] | 'auto' | 'none'; tiltAxis?: 'y' | 'x';
    }) => {
      const referenceFiles = o.reference ? [path.join(o.reference, REFERENCE_FILE), path.join(o.reference, AVERAGE_FILE)] : [];
      await checkCommandFiles(tomoFile, o, [o.output, o.mask, o.labels, o.average, `${o.output}.report.json`], referenceFiles);
      if (o.saveReference) await checkReferenceFolder(o.saveReference, o.reference);
      const format = o.format === undefined ? formatFromExtension(o.output) : cliFormat(o.format);
      const tiltRange = tiltRangeOf(o);
      if (o.reference && (o.at?.length || o.prompts)) throw new CryosamError('give prompts (--at, --prompts) or --reference, not both');
      const saved = o.reference ? await loadReference(o.reference) : undefined;
      const t0 = performance.now();
      const progress = createCliProgress(o.quiet);
      const { sam, original, tomo, prompts, rescaled } = await openForPick(tomoFile, o, saved, progress.onProgress);
      try {
        const options: PickOptions = {
          topK: o.topK, matching: o.matching, similarityThreshold: o.similarityThreshold, query: o.query,
          featureSliceStep: o.featureStep, nmsRadius: o.nmsRadius, volumeRange: o.volumeRange,
          tiltRange,
          segment: segmentOptions(o),
        };
        const structure = await pickStructuresIfAsked(sam, prompts, o, options);
        if (structure) {
          progress.stop();
          await writeStructurePick(structure, { tomoFile, tomo, o, format, t0, engines: sam.engineIdentities(), prompts });
          return;
        }
        // A particle pick needs one copy of the tomogram, the smoothed one (the CLI holds no voxels).
        sam.particlesOnly();
        const result = await sam.pick(saved ?? prompts, options);
        progress.stop();
        cacheNote(o, result.report.cacheHits);
        const picks = !rescaled ? result.picks : result.picks.map((p) => ({ ...p, ...toOriginalSampling(p, original, tomo) }));
        await writePicks(o.output, picks, { voxelSize: meanVoxelSize(original.voxelSize), shape: original.shape }, { format, tomoName: tomogramName(tomoFile) });
        await writeInstanceOutputs(tomo, result.instances, o.mask, o.labels);
        // A reference made here names this tomogram's file as its source.
        const reference = saved ? result.reference : { ...result.reference, sources: result.reference.sources.map((s) => ({ ...s, tomogram: s.tomogram ?? path.resolve(tomoFile) })) };
        if (o.saveReference) await saveReference(o.saveReference, reference);
        if (o.average) await writeAverage(o.average, reference);
        await writeRunReport(`${o.output}.report.json`, {
          ...pickReportHead(tomoFile, tomo, o, format, sam.engineIdentities(), prompts),
          reference: {
            from: o.reference ? path.resolve(o.reference) : 'the prompts',
            sourceTomograms: reference.sources.map((s) => s.tomogram ?? null),
            sourcePrompts: reference.sources.reduce((n, s) => n + s.prompts.length, 0),
            voxelSizeA: reference.voxelSizeA,
            rescaledFromA: !rescaled ? null : meanVoxelSize(original.voxelSize),
            saved: o.saveReference ? path.resolve(o.saveReference) : null,
            average: o.average ?? null,
          },
          seconds: (performance.now() - t0) / 1000,
          ...result.report,
          peakRssMiBAtEnd: Math.round(peakRssMiB()),
        });
        const { topK, missingWedge } = result.report.options;
        doneNote(o, `wrote ${result.picks.length} picks to ${o.output} (${o.reference ? `reference ${o.reference}` : `${prompts.length} prompted`}); run report ${o.output}.report.json`);
        if (o.saveReference) doneNote(o, `saved the reference in ${o.saveReference}${reference.average ? ` (self-template average: ${path.join(o.saveReference, AVERAGE_FILE)})` : ' (no self-template: the template cut compared no particle)'}`);
        if (topK === 'auto') doneNote(o, `the template cut ${wedgeText(missingWedge)}`);
      } finally {
        progress.stop();
        await sam.dispose();
      }
    });
}

/**
 * The pick's CryoSam on the tomogram (rescaled to a saved reference's voxel size), its prompts, and
 * the grids of the file and of what is picked. The voxels are CryoSam's alone: the CLI keeps no
 * reference to them, so that particlesOnly() frees the unsmoothed copy.
 */
async function openForPick(tomoFile: string, o: CommonOptions & { mask?: string; labels?: string; workers?: number }, saved: Reference | undefined, onProgress: ReturnType<typeof createCliProgress>['onProgress']) {
  const original = await loadTomogram(tomoFile, o.voxelSize, true);
  const prompts = saved ? [] : await promptsOf(o, original, tomoFile);
  const tomo = saved ? toReferenceSampling(original, saved.voxelSizeA, tomoFile, o) : original;
  const sam = await openCryoSam(tomo, o, onProgress, o.workers);
  return { sam, original: gridOf(original), tomo: gridOf(tomo), prompts, rescaled: tomo !== original };
}

/**
 * A filament or membrane pick when --structure asks for one, or 'auto' finds one under a single
 * click; undefined for particles (the caller picks those).
 */
async function pickStructuresIfAsked(sam: CryoSam, prompts: VoxelPoint[], o: { structure: StructureKind | 'auto'; reference?: string; saveReference?: string; average?: string }, options: PickOptions): Promise<StructurePickResult | undefined> {
  if (o.structure === 'particle' || o.reference || (o.structure === 'auto' && prompts.length !== 1)) {
    if (o.reference && o.structure !== 'particle' && o.structure !== 'auto') throw new CryosamError(`--reference picks particles; --structure ${o.structure} picks from one click`);
    return undefined;
  }
  if (prompts.length !== 1) throw new CryosamError(`--structure ${o.structure} picks from one click: give one --at (${prompts.length} given)`);
  const found = await sam.pickStructures(prompts[0], o.structure, options);
  if (found && (o.saveReference || o.average)) throw new CryosamError(`the click is a ${found.kind}: --save-reference and --average are for particles (their self-template average)`);
  return found;
}

/** What every pick's run report starts with: the command, its tomogram, outputs, engines and prompts. */
function pickReportHead(tomoFile: string, tomo: Grid, o: { output: string; mask?: string; labels?: string }, format: CoordFormat, engines: unknown, prompts: VoxelPoint[]) {
  return {
    command: 'pick',
    tomogram: tomoFile,
    shape: tomo.shape,
    voxelSizeA: tomo.voxelSize,
    outputs: { picks: o.output, format, mask: o.mask ?? null, labels: o.labels ?? null },
    engines,
    prompts,
  };
}

/** Picks file (filament axis points, or one point per membrane), masks and run report of a structure pick. */
async function writeStructurePick(found: StructurePickResult, ctx: { tomoFile: string; tomo: Grid; o: CommonOptions & { output: string; mask?: string; filamentSpacing?: number }; format: CoordFormat; t0: number; engines: unknown; prompts: VoxelPoint[] }): Promise<void> {
  const { tomoFile, tomo, o, format } = ctx;
  const voxelSizeA = meanVoxelSize(tomo.voxelSize);
  const spacingA = o.filamentSpacing ?? DEFAULTS.structure.filament.pointSpacingA;
  const picks: CoordPick[] = found.structures.flatMap((s, i): CoordPick[] => {
    const id = i + 1;
    if (!s.filament) return [{ ...s.seed, score: s.similarity, instanceId: id, className: 'membrane' }];
    return alongAxis(s.filament.axis, spacingA, voxelSizeA).map(({ point, trackLengthA }) => ({ ...point, score: s.similarity, instanceId: id, helicalTubeId: id, helicalTrackLengthA: trackLengthA }));
  });
  await writePicks(o.output, picks, { voxelSize: voxelSizeA, shape: tomo.shape }, { format, tomoName: tomogramName(tomoFile) });
  await writeInstanceOutputs(tomo, found.instances, o.mask, o.labels);
  await writeRunReport(`${o.output}.report.json`, {
    ...pickReportHead(tomoFile, tomo, o, format, ctx.engines, ctx.prompts),
    structure: found.kind,
    decidedBy: found.clicked.decidedBy,
    seconds: (performance.now() - ctx.t0) / 1000,
    ...found.report,
    structures: found.structures.map((s, i) => ({
      id: i + 1, seed: s.seed, similarity: s.similarity, voxels: s.mask.voxels,
      ...(s.filament ? { filament: { ...s.filament, axis: undefined, axisPoints: s.filament.axis.length } } : {}),
      ...(s.membrane ? { membrane: s.membrane } : {}),
    })),
    filamentSpacingA: found.kind === 'filament' ? spacingA : null,
    peakRssMiBAtEnd: Math.round(peakRssMiB()),
  });
  const what = found.kind === 'filament' ? `${found.structures.length} filament(s) as ${picks.length} axis points every ${spacingA} Å` : `${found.structures.length} membrane(s)`;
  doneNote(o, `${structureText(found.clicked)}; found ${what}; wrote ${o.output}${o.labels ? ` and instance masks ${o.labels}` : ''}; run report ${o.output}.report.json`);
}

/** A tomogram's voxel size (Å) and shape, as its coordinate files are read. */
type TomogramFrame = CoordFrame & { shape: Shape3 };

/** --prompts files for several tomograms: each tomogram's prompts, matched by the files' tomogram names (others are ignored and named). */
async function promptsByTomogram(files: string[], format: string | undefined, dataset: readonly DatasetTomogram[], frames: readonly TomogramFrame[]): Promise<{ found: VoxelPoint[][]; ignored: string[] }> {
  const found: VoxelPoint[][] = dataset.map(() => []);
  /** Tomograms the files name that were not given, per file. */
  const ignored: string[] = [];
  for (const file of files) {
    const named = new Set<string>();
    // Parsed once per distinct frame (Å-based formats need the voxel size and shape): most tomograms of a dataset share one.
    const parsed = new Map<string, Promise<CoordPick[]>>();
    for (const [i, t] of dataset.entries()) {
      const key = `${frames[i].voxelSize}|${frames[i].shape.join('×')}`;
      if (!parsed.has(key)) parsed.set(key, readPicks(file, frames[i], { format: format === undefined ? undefined : cliFormat(format) }));
      const picks = await parsed.get(key)!;
      if (picks.length === 0) throw new CryosamError('no prompts in the file', file);
      const unnamed = picks.every((p) => p.tomoName === undefined);
      if (unnamed && dataset.length > 1) throw new CryosamError(`names no tomogram (no rlnTomoName, run_name or tomo column); with ${dataset.length} tomograms every prompt must say which it is in`, file);
      const mine = unnamed ? picks : picks.filter((p) => p.tomoName !== undefined && tomogramName(p.tomoName) === tomogramName(t.name));
      picks.forEach((p) => p.tomoName !== undefined && named.add(tomogramName(p.tomoName)));
      checkPicksInside(mine, frames[i].shape, file);
      found[i].push(...mine.map(({ x, y, z }) => ({ x, y, z })));
    }
    const given = new Set(dataset.map((t) => tomogramName(t.name)));
    const unknown = [...named].filter((n) => !given.has(n));
    if (unknown.length) ignored.push(`${file}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
  }
  return { found, ignored };
}

export function registerReference(program: Command): void {
  const cmd = program
    .command('reference')
    .description('Make a reference from prompts in one or several tomograms (e.g. a STAR file with rlnTomoName); pick a dataset with it (cryosam pick --reference, cryosam batch)')
    .argument('<tomograms...>', 'tomogram MRC files, globs, a RELION 5 tomograms.star or a copick config')
    .requiredOption('-o, --output <dir>', 'reference folder to write (created if missing): reference.json and average.mrc, the self-template averaged over every tomogram; a run report beside it (<dir>.report.json)')
    .option('--prompts <file>', 'point prompts (STAR, RELION 5, copick JSON, NDJSON, CSV, IMOD; repeatable). With several tomograms each prompt names its tomogram (rlnTomoName, copick run_name, a tomo column); tomograms without prompts are left out', (v: string, prev: string[] = []) => [...prev, v])
    .option('--prompts-format <format>', 'format of the --prompts files when their extension and content do not tell (e.g. relion5, csv)')
    .option('--at <x,y,z>', 'point prompt in voxels, x,y,z order (repeatable; one tomogram only)', parsePoint)
    .addOption(referenceOptions.query())
    .addOption(referenceOptions.featureStep())
    .addOption(referenceOptions.tiltRange())
    .addOption(referenceOptions.tiltAxis())
    .addOption(referenceOptions.workers())
    .option('--voxel-size <A>', 'voxel size in Å of every tomogram, over what a tomograms.star, copick config or MRC header says (for headers that lack it; default: theirs)', parseNumber('expected a positive number of Å', (v) => v > 0))
    .option('--copick-voxel-spacing <Å>', 'copick project: the voxel spacing whose tomograms to use (default: the only one)', Number)
    .option('--copick-tomo-type <type>', 'copick project: the tomogram type to use (default: the only one)');
  addEngineOptions(cmd)
    .action(async (inputs: string[], o: CommonOptions & {
      output: string; prompts?: string[] | string; query?: QueryMode; featureStep?: number; tiltRange?: [number, number] | 'auto' | 'none';
      tiltAxis?: 'y' | 'x'; workers?: number; copickVoxelSpacing?: number; copickTomoType?: string;
    }) => {
      const promptFiles = o.prompts === undefined ? [] : ([] as string[]).concat(o.prompts);
      const tiltRange = tiltRangeOf(o);
      if (promptFiles.length && o.at?.length) throw new CryosamError('give prompts with --at or --prompts, not both');
      if (!promptFiles.length && !o.at?.length) throw new CryosamError('no prompt: give --prompts FILE (several tomograms) or --at X,Y,Z (one tomogram)');
      const dataset = await resolveDataset(inputs, { copick: { voxelSpacing: o.copickVoxelSpacing, tomoType: o.copickTomoType } });
      if (o.at?.length && dataset.length > 1) throw new CryosamError(`--at gives voxels in one tomogram; ${dataset.length} were given: give --prompts FILE naming each prompt's tomogram`);
      for (const f of promptFiles) await requireInputFile(f);
      await checkReferenceFolder(o.output, undefined);
      const report = `${o.output.replace(/[\\/]+$/, '')}.report.json`;
      await checkOutputs([report], [...dataset.map((t) => t.path), ...promptFiles]);
      await checkEngineOptions(o);
      const voxelOf = (t: DatasetTomogram) => o.voxelSize ?? t.voxelSizeA;
      const frames: TomogramFrame[] = [];
      for (const t of dataset) {
        const h = await readMrcHeader(t.path);
        frames.push({ voxelSize: meanVoxelSize(requireVoxelSize(h.voxelSize, t.path, voxelOf(t))), shape: h.shape });
      }
      const { found: prompts, ignored } = o.at?.length ? { found: [o.at], ignored: [] } : await promptsByTomogram(promptFiles, o.promptsFormat, dataset, frames);
      if (ignored.length) doneNote(o, `prompts in tomograms that were not given are ignored (${ignored.join('; ')})`);
      o.at?.forEach((p) => checkPicksInside([p], frames[0].shape, dataset[0].path));
      const used = dataset.map((t, i) => ({ t, prompts: prompts[i] })).filter((u) => u.prompts.length > 0);
      if (used.length === 0) throw new CryosamError(`none of the given tomograms (${dataset.slice(0, 5).map((t) => t.name).join(', ')}${dataset.length > 5 ? ', ...' : ''}) has a prompt in the --prompts files`);
      const left = dataset.length - used.length;
      if (left) doneNote(o, `${left} tomogram(s) have no prompt and are left out: ${dataset.filter((_, i) => !prompts[i].length).slice(0, 5).map((t) => t.name).join(', ')}`);
      const t0 = performance.now();
      const progress = createCliProgress(o.quiet);
      try {
        const result = await referenceFromTomograms(
          used.map(({ t, prompts: p }) => ({
            name: t.name, file: t.path, prompts: p,
            // A reference is made of particles: no unsmoothed copy for filaments and membranes.
            open: async () => openCryoSam(await loadTomogram(t.path, voxelOf(t), true), o, progress.onProgress, o.workers, false),
          })),
          {
            query: o.query, featureSliceStep: o.featureStep, tiltRange,
          },
        );
        progress.stop();
        await saveReference(o.output, result.reference);
        const { particle } = result.reference;
        await writeRunReport(report, {
          command: 'reference',
          inputs,
          output: o.output,
          engines: result.reference.engines,
          voxelSizeA: result.reference.voxelSizeA,
          tomograms: result.tomograms,
          particle,
          average: result.reference.average ? { size: result.reference.average.size, voxelSizeA: result.reference.average.voxelSizeA } : null,
          seconds: (performance.now() - t0) / 1000,
          peakRssMiB: Math.round(peakRssMiB()),
        });
        const picked = result.tomograms.reduce((n, t) => n + t.picks, 0);
        doneNote(o, `saved the reference in ${o.output}: ${result.tomograms.reduce((n, t) => n + t.prompts, 0)} prompts in ${result.tomograms.length} tomogram(s), particle radius ${particle.equivalentRadius.toFixed(1)} voxels; ` +
          (result.reference.average ? `self-template averaged over ${picked} picks (${path.join(o.output, AVERAGE_FILE)})` : 'no self-template (no particle was picked)') + `; run report ${report}`);
      } finally {
        progress.stop();
      }
    });
}

export function registerCache(program: Command): void {
  const cache = program.command('cache').description('Inspect or clear the slice-embedding and feature cache');
  const dirOption = () => new Option('--cache-dir <dir>', 'cache folder (default $CRYOSAM_CACHE or ~/.cache/cryosam/cache)');
  cache
    .command('info')
    .description('Print the cache folder, its number of entries and size')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o: { cacheDir?: string; json?: boolean }) => {
      const info = await new DiskCache(o.cacheDir ?? cacheDir(), DEFAULT_CACHE_LIMIT_BYTES).info();
      if (o.json) process.stdout.write(JSON.stringify(info) + '\n');
      else {
        const other = info.skipped ? `; ${info.skipped} other file(s) in the folder are not cache entries and are left alone` : '';
        process.stdout.write(`${info.dir}\n${info.files} entries, ${(info.bytes / 1024 ** 2).toFixed(1)} MiB (limit ${(info.limitBytes / 1024 ** 3).toFixed(1)} GiB)${other}\n`);
      }
    });
  cache
    .command('clear')
    .description('Delete every cache entry: only files the cache wrote (its name pattern and header), never other files in the folder')
    .addOption(dirOption())
    .action(async (o: { cacheDir?: string }) => {
      const r = await new DiskCache(o.cacheDir ?? cacheDir()).clear();
      const other = r.skipped ? `; left ${r.skipped} other file(s) alone (not cache entries)` : '';
      process.stdout.write(`removed ${r.removed} cache entries${other}${r.failed ? `; ${r.failed} could not be removed` : ''}\n`);
      if (r.failed) throw new CryosamError(`${r.failed} cache entries could not be removed`, o.cacheDir ?? cacheDir());
    });
}
