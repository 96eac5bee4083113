/**
 * Synthetic tomograms with exact ground truth, built from real density maps: particles of several
 * classes at random positions and orientations without overlap, membrane vesicles and gold beads,
 * then imaging (contrast polarity, missing wedge, CTF-like band-pass, noise, smoothing), or
 * tilt-series imaging (projections with CTF, dose and noise, back-projected: tilt-series.ts).
 * Deterministic for a seed: every random draw comes from the seeded generator in rng.ts.
 *
 * Memory: the tomogram (float32), the labels (uint8) and the instances (int32), plus the noise
 * (float32) and one half spectrum (two float32 arrays of half the volume) while filtering.
 */
import path from 'node:path';
import type { Pick } from '../../io/coords/pick.js';
import { sharedDir } from '../../paths.js';
import type { ProgressCallback } from '../../progress.js';
import { gaussianFilter3d } from '../../volume/gaussian.js';
import { createVolume, voxelCount, isotropic, type Volume } from '../../volume/volume.js';
import { validateConfig, type SimulationConfig } from './config.js';
import { bandPass, envelope } from './ctf.js';
import { applyFourierFilter, type TransferFunction } from '../../volume/fourier.js';
import { measuredRegion } from '../../volume/missing-wedge.js';
import { addNoiseAtSnr, gaussianNoise, standardize } from './noise.js';
import { Placer, type Ball } from './place.js';
import { Rng } from './rng.js';
import { imageTiltSeries } from './tilt-series.js';
import { randomRotation, rotateTemplate, type RotatedBox } from './rotate.js';
import { drawSphericalShell } from './shapes.js';
import { drawStructures, placeSheetProteins, type SimulatedStructures } from './scene.js';
import { loadTemplate, MAP_VOXEL_SIZE_A, type DensityTemplate } from './template.js';

const ANGSTROM_PER_NM = 10;

export interface SimulatedClass {
  /** Map id, e.g. '4v7r'. */
  id: string;
  /** Value of this class in the label volume (1-based, config order). */
  label: number;
  /** Bounding-sphere radius of the iso-surface about the map centre, in tomogram voxels. */
  radiusVoxels: number;
  /** Particles placed. */
  count: number;
  /** Particles asked for (after crowding scaling); more than count when the volume was too full. */
  requested: number;
  role: 'target' | 'distractor';
}

export interface Simulation {
  /** The imaged tomogram, standardised to mean 0 and standard deviation 1. */
  tomogram: Volume;
  /** 0 = background, k = class k (SimulatedClass.label): voxels inside the particle's iso-surface. */
  labels: Volume<Uint8Array>;
  /** 0 = background, 1..N = instance id of the particle (Pick.instanceId). */
  instances: Volume<Int32Array>;
  /** Every particle: its map centre in voxels, className = map id, instanceId. */
  picks: Pick[];
  classes: SimulatedClass[];
  /** Membrane vesicles: centre and mid-radius of the shell, in voxels. */
  vesicles: Ball[];
  /** Gold beads: centre and radius, in voxels. */
  fiducials: Ball[];
  /** Filaments and membranes (vesicles included) with their truth; present when the config asks for any. */
  structures?: SimulatedStructures;
  config: SimulationConfig;
  seed: number;
}

export interface SimulateOptions {
  seed: number;
  /** Folder of <id>.mrc density maps; default <shared>/data/maps. */
  mapsDir?: string;
  onProgress?: ProgressCallback;
}

/** Default location of the density maps. */
export function defaultMapsDir(): string {
  return path.join(sharedDir(), 'data', 'maps');
}

export async function simulateTomogram(config: SimulationConfig, options: SimulateOptions): Promise<Simulation> {
  const cfg = validateConfig(config);
  const seed = options.seed >>> 0;
  const onProgress = options.onProgress;
  const rng = new Rng(seed);
  // One generator per stage: changing one stage's draws leaves the others' unchanged.
  const placementRng = rng.fork();
  const rotationRng = rng.fork();
  const noiseRng = rng.fork();
  // Forked after the others, so configs without a tilt series or structures keep their random streams.
  const structureRng = rng.fork();
  const tiltRng = rng.fork();

  const mapsDir = options.mapsDir ?? defaultMapsDir();
  const templates: DensityTemplate[] = [];
  for (const [i, c] of cfg.classes.entries()) {
    templates.push(await loadTemplate(mapsDir, c.map));
    onProgress?.({ stage: 'loading maps', done: i + 1, total: cfg.classes.length });
  }
  const requested = requestedCounts(cfg, templates);

  const shape = cfg.shape;
  const tomogram = createVolume(shape, cfg.voxelSizeA);
  const labels: Volume<Uint8Array> = { data: new Uint8Array(voxelCount(shape)), shape, voxelSize: isotropic(cfg.voxelSizeA) };
  const instances: Volume<Int32Array> = { data: new Int32Array(voxelCount(shape)), shape, voxelSize: isotropic(cfg.voxelSizeA) };

  // The largest objects go first (vesicles, then particles by size): random sequential placement
  // packs far better that way. Gold beads are few and small enough to go before the particles.
  const placer = new Placer(shape, placementRng, cfg.minGapVoxels);
  const { vesicles, fiducials } = drawCellularObjects(cfg, placer, placementRng, tomogram);
  const structures = drawStructures(cfg, tomogram, placer, vesicles, structureRng);
  const { picks, placed } = placeParticles(cfg, templates, requested, placer, rotationRng, { tomogram, labels, instances }, onProgress);
  const ratio = MAP_VOXEL_SIZE_A / cfg.voxelSizeA;
  const onSheets = structures
    ? placeSheetProteins(cfg, structures, placer, structureRng, templates.map((t) => t.labelRadius * ratio), (k, ball, rotation) => {
        const instanceId = picks.length + 1;
        stampParticle(rotateTemplate(templates[k], randomRotation(rotation), ball, ratio), templates[k].threshold, k + 1, instanceId, { tomogram, labels, instances });
        picks.push({ x: ball.x, y: ball.y, z: ball.z, className: templates[k].id, instanceId });
        placed[k]++;
      })
    : undefined;
  image(cfg, tomogram, noiseRng, tiltRng, onProgress);

  const classes: SimulatedClass[] = cfg.classes.map((c, k) => ({
    id: c.map,
    label: k + 1,
    radiusVoxels: (templates[k].labelRadius * MAP_VOXEL_SIZE_A) / cfg.voxelSizeA,
    count: placed[k],
    requested: requested[k] + (onSheets?.[k] ?? 0),
    role: c.role,
  }));
  return { tomogram, labels, instances, picks, classes, vesicles, fiducials, ...(structures && { structures }), config: cfg, seed };
}

/** The volumes particles are drawn into. */
interface Volumes {
  tomogram: Volume;
  labels: Volume<Uint8Array>;
  instances: Volume<Int32Array>;
}

/** Membrane vesicles (hollow shells; their lumen is kept free of particles) and gold beads. */
function drawCellularObjects(
  cfg: SimulationConfig,
  placer: Placer,
  rng: Rng,
  tomogram: Volume,
): { vesicles: Ball[]; fiducials: Ball[] } {
  const nmToVoxels = ANGSTROM_PER_NM / cfg.voxelSizeA;
  const halfThickness = (cfg.vesicles.thicknessNm * nmToVoxels) / 2;
  const vesicles: Ball[] = [];
  for (let i = 0; i < cfg.vesicles.count; i++) {
    const radius = rng.range(cfg.vesicles.radiusNm[0], cfg.vesicles.radiusNm[1]) * nmToVoxels;
    const ball = placer.place(radius + halfThickness, cfg.maxTries);
    if (!ball) continue;
    vesicles.push({ ...ball, radius });
    drawSphericalShell(tomogram.data, tomogram.shape, ball, radius, halfThickness, cfg.vesicles.density);
  }
  const fiducials: Ball[] = [];
  for (let i = 0; i < cfg.gold.count; i++) {
    const radius = (rng.range(cfg.gold.diameterNm[0], cfg.gold.diameterNm[1]) * nmToVoxels) / 2;
    const ball = placer.place(radius, cfg.maxTries);
    if (!ball) continue;
    fiducials.push(ball);
    drawSphericalShell(tomogram.data, tomogram.shape, ball, 0, radius, cfg.gold.density);
  }
  return { vesicles, fiducials };
}

/** Places the requested particles, largest class first, each at a random orientation; returns the picks. */
function placeParticles(
  cfg: SimulationConfig,
  templates: DensityTemplate[],
  requested: number[],
  placer: Placer,
  rotationRng: Rng,
  volumes: Volumes,
  onProgress: ProgressCallback | undefined,
): { picks: Pick[]; placed: number[] } {
  const ratio = MAP_VOXEL_SIZE_A / cfg.voxelSizeA;
  const order: number[] = [];
  requested.forEach((n, k) => order.push(...new Array<number>(n).fill(k)));
  order.sort((a, b) => templates[b].labelRadius - templates[a].labelRadius || a - b);
  const picks: Pick[] = [];
  const placed = new Array<number>(templates.length).fill(0);
  for (const [i, k] of order.entries()) {
    const template = templates[k];
    const ball = placer.place(template.labelRadius * ratio, cfg.maxTries);
    if (ball) {
      const instanceId = picks.length + 1;
      const box = rotateTemplate(template, randomRotation(rotationRng), ball, ratio);
      stampParticle(box, template.threshold, k + 1, instanceId, volumes);
      picks.push({ x: ball.x, y: ball.y, z: ball.z, className: template.id, instanceId });
      placed[k]++;
    }
    if ((i & 15) === 15 || i === order.length - 1) onProgress?.({ stage: 'placing particles', done: i + 1, total: order.length });
  }
  return { picks, placed };
}

/**
 * Turns the density into a tomogram: polarity, then either a tilt series and its reconstruction
 * (tilt-series.ts) or the missing wedge and band-pass in Fourier space with noise, then smoothing.
 */
function image(cfg: SimulationConfig, tomogram: Volume, noiseRng: Rng, tiltRng: Rng, onProgress: ProgressCallback | undefined): void {
  if (cfg.polarity === 'dark') {
    const d = tomogram.data;
    for (let i = 0; i < d.length; i++) d[i] = -d[i];
  }
  if (cfg.tiltSeries) imageTiltSeries(tomogram, cfg.tiltSeries, { voxelSizeA: cfg.voxelSizeA, snr: cfg.snr, rng: tiltRng, onProgress });
  else imageFourier(cfg, tomogram, noiseRng, onProgress);
  if (cfg.smoothingSigmaVoxels > 0) gaussianFilter3d(tomogram, cfg.smoothingSigmaVoxels, tomogram.data);
  standardize(tomogram.data);
}

/** Missing wedge and band-pass applied in Fourier space, then noise filtered like a reconstruction's. */
function imageFourier(cfg: SimulationConfig, tomogram: Volume, noiseRng: Rng, onProgress: ProgressCallback | undefined): void {
  const transfer = imagingTransfer(cfg);
  if (transfer) applyFourierFilter(tomogram, transfer, onProgress);
  if (cfg.snr !== null) {
    const noise = gaussianNoise(tomogram.data.length, noiseRng);
    const noiseTransfer = reconstructionTransfer(cfg);
    if (noiseTransfer) {
      const noiseProgress: ProgressCallback | undefined = onProgress && ((e) => onProgress({ ...e, stage: `noise ${e.stage}` }));
      applyFourierFilter({ ...tomogram, data: noise }, noiseTransfer, noiseProgress);
    }
    addNoiseAtSnr(tomogram.data, noise, cfg.snr);
  }
}

/** Counts per class: as configured, or scaled to reach the configured protein volume fraction. */
function requestedCounts(cfg: SimulationConfig, templates: DensityTemplate[]): number[] {
  const ratio = MAP_VOXEL_SIZE_A / cfg.voxelSizeA;
  const counts = cfg.classes.map((c) => c.count);
  if (cfg.volumeFraction === null) return counts;
  const volumeAtCounts = counts.reduce((sum, n, k) => sum + n * templates[k].insideVoxels * ratio ** 3, 0);
  if (volumeAtCounts === 0) return counts;
  const factor = (cfg.volumeFraction * voxelCount(cfg.shape)) / volumeAtCounts;
  return counts.map((n) => Math.round(n * factor));
}

/** What the signal goes through: missing wedge × CTF-like band-pass (undefined when neither is asked for). */
function imagingTransfer(cfg: SimulationConfig): TransferFunction | undefined {
  return product(
    cfg.tiltRangeDeg === null ? undefined : tiltWedge(cfg.tiltRangeDeg),
    cfg.ctf === null ? undefined : bandPass(cfg.ctf, cfg.voxelSizeA),
  );
}

/**
 * What the noise goes through: it is reconstructed from the tilt images with the signal, so it has
 * the same missing wedge and resolution limit, but no CTF (detector noise is not phase contrast).
 */
function reconstructionTransfer(cfg: SimulationConfig): TransferFunction | undefined {
  return product(
    cfg.tiltRangeDeg === null ? undefined : tiltWedge(cfg.tiltRangeDeg),
    cfg.ctf === null ? undefined : envelope(cfg.ctf.lowPassA, cfg.voxelSizeA),
  );
}

/** A tilt series about y from −maxDeg to +maxDeg. */
function tiltWedge(maxDeg: number): TransferFunction {
  return measuredRegion({ axis: 'y', minDeg: -maxDeg, maxDeg });
}

function product(a: TransferFunction | undefined, b: TransferFunction | undefined): TransferFunction | undefined {
  if (a && b) return (kz, ky, kx) => a(kz, ky, kx) * b(kz, ky, kx);
  return a ?? b;
}

/**
 * Adds a rotated particle's density to the tomogram and marks its iso-surface (density ≥ threshold)
 * with its class label and instance id. Parts of the box outside the tomogram are clipped.
 */
function stampParticle(
  box: RotatedBox,
  threshold: number,
  label: number,
  instanceId: number,
  { tomogram, labels, instances }: Volumes,
): void {
  const [nz, ny, nx] = tomogram.shape;
  const [bz, by, bx] = box.shape;
  const [oz, oy, ox] = box.origin;
  const density = tomogram.data;
  for (let k = 0; k < bz; k++) {
    const z = oz + k;
    if (z < 0 || z >= nz) continue;
    for (let j = 0; j < by; j++) {
      const y = oy + j;
      if (y < 0 || y >= ny) continue;
      const from = (k * by + j) * bx;
      const row = (z * ny + y) * nx;
      for (let l = 0; l < bx; l++) {
        const x = ox + l;
        if (x < 0 || x >= nx) continue;
        const v = box.data[from + l];
        if (v === 0) continue;
        density[row + x] += v;
        if (v >= threshold) {
          labels.data[row + x] = label;
          instances.data[row + x] = instanceId;
        }
      }
    }
  }
}
