/**
 * The "structures" section of `npm run bench`: filaments and membranes from one click (issue 16).
 *
 * - Simulated filaments (preset `filaments`, several seeds): every filament is clicked once as a
 *   person would (a microtubule on its wall, 10 voxels from the axis in a random direction across
 *   it; an actin filament within a voxel of its axis) at a random point along its middle half.
 *   Reported: what auto decided, the fraction of the filament's length covered, of its wall voxels
 *   in the mask, of the mask inside the tube, and the traced axis' mean distance to the true axis.
 *   Then the first microtubule and the first actin click pick all filaments: recall and precision
 *   of filaments (a found filament is a true one when half its axis lies within 3 voxels of it).
 * - Simulated membranes (preset `membranes`): every membrane is clicked on a random voxel of its
 *   measured part; recall of its measured part and precision (mask within 2 voxels of it). The first
 *   click picks all membranes: recall and precision of membranes (a found membrane is a true one
 *   when most of its mask lies on it).
 * - Round particles: ribosome clicks on `realistic` must stay particles under auto (then segment
 *   and pick are unchanged).
 * - The real microtubule crop: clicks on its wall at three places along it and on its top (the
 *   missing wedge's side); scores from the tube's geometry found in the data (tubeFromDensity),
 *   and pictures in the output folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readMrc } from '../src/io/mrc/index.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { axisError, fullMask, scoreFilamentMask, scoreMembraneMask, scoreTubeMask, tubeFromDensity } from '../src/eval/structures.js';
import { PRESETS, simulateTomogram } from '../src/eval/simulate/index.js';
import type { SimulatedFilament } from '../src/eval/simulate/filaments.js';
import { Rng } from '../src/eval/simulate/rng.js';
import type { EngineOptions } from '../src/engines/registry.js';
import { sharedDir } from '../src/paths.js';
import { CryoSam } from '../src/pipeline/cryosam.js';
import type { StructureSegmentation } from '../src/pipeline/structure.js';
import type { ParticleMask, VoxelPoint } from '../src/pipeline/types.js';
import type { Volume } from '../src/volume/volume.js';
import { peakRssMiB } from '../src/memory.js';

export interface FilamentClick {
  seed: number;
  filament: number;
  click: VoxelPoint;
  kind: string;
  decided: string;
  lengthCovered: number;
  wallCoverage: number;
  inTube: number;
  axisErrorVoxels: number | null;
  seconds: number;
}

export interface MembraneClick {
  seed: number;
  membrane: number;
  click: VoxelPoint;
  kind: string;
  decided: string;
  recall: number;
  precision: number;
  seconds: number;
}

export interface FindAll {
  seed: number;
  what: string;
  /** True structures (membranes: those the tilt series measured), found structures. */
  truth: number;
  found: number;
  /** True structures found at least once (recall's numerator). */
  matchedTruth: number;
  /** Found structures that lie on a true one (precision's numerator; a vesicle's two measured lobes found apart are two). */
  truePositives: number;
  seconds: number;
}

export interface RealTubeClick {
  click: VoxelPoint;
  where: string;
  decided: string;
  lengthCovered: number;
  wallCoverage: number;
  inTube: number;
  lengthNm: number | null;
  outerDiameterNm: number | null;
  seconds: number;
}

export interface StructuresBench {
  seeds: number[];
  filamentClicks: FilamentClick[];
  membraneClicks: MembraneClick[];
  findAll: FindAll[];
  particles: { clicks: number; stayedParticles: number; preset: string; seed: number };
  realTube: { axisDirection: VoxelPoint; clicks: RealTubeClick[]; pictures: string[] };
  peakRssMiB: number;
}

const FILAMENT_PRESET = 'filaments', MEMBRANE_PRESET = 'membranes', PARTICLE_PRESET = 'realistic';
/** A person clicks a microtubule on its wall: 10 voxels from the axis (the wall spans 7.5–12.5). */
const WALL_OFFSET = 10;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

function axisPoint(f: SimulatedFilament, k: number): VoxelPoint {
  return { x: f.axis[3 * k], y: f.axis[3 * k + 1], z: f.axis[3 * k + 2] };
}

/** A click on the filament at a random point of its middle half: on the wall for a hollow one. */
function filamentClick(f: SimulatedFilament, rng: Rng, shape: readonly number[]): VoxelPoint {
  const n = f.axis.length / 3;
  const k = Math.min(n - 2, Math.floor(n / 4 + rng.uniform() * (n / 2)));
  const p = axisPoint(f, k), q = axisPoint(f, k + 1);
  const t = { x: q.x - p.x, y: q.y - p.y, z: q.z - p.z };
  const tn = Math.hypot(t.x, t.y, t.z);
  // A random direction across the axis.
  const a = Math.abs(t.x / tn) < 0.9 ? { x: 1, y: 0, z: 0 } : { x: 0, y: 1, z: 0 };
  const u = norm(cross(t, a)), v = norm(cross(t, u));
  const angle = 2 * Math.PI * rng.uniform();
  const off = f.innerRadius > 0 ? WALL_OFFSET : rng.uniform();
  const c = { x: p.x + off * (Math.cos(angle) * u.x + Math.sin(angle) * v.x), y: p.y + off * (Math.cos(angle) * u.y + Math.sin(angle) * v.y), z: p.z + off * (Math.cos(angle) * u.z + Math.sin(angle) * v.z) };
  const clamp = (x: number, m: number) => Math.min(m - 1, Math.max(0, Math.round(x)));
  return { x: clamp(c.x, shape[2]), y: clamp(c.y, shape[1]), z: clamp(c.z, shape[0]) };
}

const cross = (a: VoxelPoint, b: VoxelPoint): VoxelPoint => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });
function norm(a: VoxelPoint): VoxelPoint {
  const n = Math.hypot(a.x, a.y, a.z);
  return { x: a.x / n, y: a.y / n, z: a.z / n };
}

async function segmentOrFail(session: CryoSam, click: VoxelPoint): Promise<StructureSegmentation | undefined> {
  try {
    return await session.segmentStructure(click);
  } catch {
    return undefined;
  }
}

async function benchFilaments(seed: number, engine: EngineOptions, out: StructuresBench, log: (line: string) => void): Promise<void> {
  log(`structures: ${FILAMENT_PRESET} seed ${seed}`);
  const sim = await simulateTomogram(PRESETS[FILAMENT_PRESET], { seed });
  const truth = sim.structures!;
  const session = await CryoSam.create(sim.tomogram, { engine, cacheDir: false, normalizeInPlace: true, workers: 1 });
  const rng = new Rng(7000 + seed);
  const firstClick = new Map<string, VoxelPoint>();
  try {
    for (const f of truth.filaments) {
      const click = filamentClick(f, rng, sim.tomogram.shape);
      if (!firstClick.has(f.kind)) firstClick.set(f.kind, click);
      const { value: s, seconds } = await timed(() => segmentOrFail(session, click));
      const mask = s?.mask;
      const score = mask ? scoreFilamentMask(mask, f, truth) : { lengthCovered: 0, wallCoverage: 0, inTube: 0 };
      out.filamentClicks.push({
        seed, filament: f.id, click, kind: f.kind, decided: s?.kind ?? 'nothing', ...pick3(score),
        axisErrorVoxels: s?.filament ? axisError(s.filament.axis, f).meanDistance : null, seconds,
      });
    }
    for (const [kind, click] of firstClick) {
      const { value: found, seconds } = await timed(() => session.pickStructures(click, 'filament').catch(() => undefined));
      const truthOfKind = truth.filaments.filter((f) => f.kind === kind);
      const axes = found?.structures.map((s) => s.filament!.axis) ?? [];
      // A found filament is a true one when half its axis lies within 3 voxels of it.
      const isTrue = (axis: VoxelPoint[], f: SimulatedFilament) => axisError(axis, f).meanDistance <= 3 || axisFractionNear(axis, f) >= 0.5;
      const matchedTruth = truthOfKind.filter((f) => axes.some((a) => isTrue(a, f))).length;
      const truePositives = axes.filter((a) => truthOfKind.some((f) => isTrue(a, f))).length;
      out.findAll.push({ seed, what: kind, truth: truthOfKind.length, found: axes.length, matchedTruth, truePositives, seconds });
    }
  } finally {
    await session.dispose();
  }
}

/** Fraction of the points within 3 voxels of the filament's true axis. */
function axisFractionNear(axis: readonly VoxelPoint[], f: SimulatedFilament): number {
  const n = f.axis.length / 3;
  let near = 0;
  for (const p of axis) {
    let best = Infinity;
    for (let k = 0; k < n; k++) best = Math.min(best, Math.hypot(p.x - f.axis[3 * k], p.y - f.axis[3 * k + 1], p.z - f.axis[3 * k + 2]));
    if (best <= 3) near++;
  }
  return axis.length ? near / axis.length : 0;
}

function pick3(s: { lengthCovered: number; wallCoverage: number; inTube: number }) {
  return { lengthCovered: s.lengthCovered, wallCoverage: s.wallCoverage, inTube: s.inTube };
}

async function benchMembranes(seed: number, engine: EngineOptions, out: StructuresBench, log: (line: string) => void): Promise<void> {
  log(`structures: ${MEMBRANE_PRESET} seed ${seed}`);
  const sim = await simulateTomogram(PRESETS[MEMBRANE_PRESET], { seed });
  const truth = sim.structures!;
  const session = await CryoSam.create(sim.tomogram, { engine, cacheDir: false, normalizeInPlace: true, workers: 1 });
  const rng = new Rng(8000 + seed);
  const [, ny, nx] = sim.tomogram.shape;
  let first: VoxelPoint | undefined;
  try {
    for (const m of truth.membranes) {
      // A random measured voxel of this membrane.
      const measured: number[] = [];
      for (let i = 0; i < truth.measured.length; i++) if (truth.measured[i] && truth.instances.data[i] === m.id) measured.push(i);
      if (!measured.length) continue;
      const i = measured[Math.floor(rng.uniform() * measured.length)];
      const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
      const click = { x, y, z };
      first ??= click;
      const { value: s, seconds } = await timed(() => segmentOrFail(session, click));
      const score = s ? scoreMembraneMask(s.mask, m.id, truth) : { recall: 0, precision: 0 };
      out.membraneClicks.push({ seed, membrane: m.id, click, kind: m.kind, decided: s?.kind ?? 'nothing', recall: score.recall, precision: score.precision, seconds });
    }
    if (first) {
      const { value: found, seconds } = await timed(() => session.pickStructures(first!, 'membrane').catch(() => undefined));
      const masks = found?.structures.map((s) => s.mask) ?? [];
      // A found membrane is a true one when most of its mask lies on it (within 2 voxels: precision ≥ 0.5).
      const hits = masks.map((mask) => {
        const full = fullMask(mask, sim.tomogram.shape);
        return truth.membranes.find((m) => scoreMembraneMask(full, m.id, truth).precision >= 0.5 && overlapWith(full, m.id, truth.instances.data) > 0);
      });
      const matchedTruth = new Set(hits.filter((m) => m).map((m) => m!.id)).size;
      out.findAll.push({ seed, what: 'membrane', truth: truth.membranes.filter((m) => m.measuredVoxels > 0).length, found: masks.length, matchedTruth, truePositives: hits.filter((m) => m).length, seconds });
    }
  } finally {
    await session.dispose();
  }
}

/** Mask voxels on the membrane itself. */
function overlapWith(full: Uint8Array, id: number, instances: Int32Array): number {
  let n = 0;
  for (let i = 0; i < full.length; i++) if (full[i] && instances[i] === id) n++;
  return n;
}

async function benchParticles(engine: EngineOptions, out: StructuresBench, log: (line: string) => void): Promise<void> {
  const seed = 1;
  log(`structures: ribosome clicks stay particles (${PARTICLE_PRESET} seed ${seed})`);
  const sim = await simulateTomogram(PRESETS[PARTICLE_PRESET], { seed });
  const session = await CryoSam.create(sim.tomogram, { engine, cacheDir: false, normalizeInPlace: true, workers: 1 });
  try {
    const ribosomes = sim.picks.filter((p) => p.className === '4v7r').slice(0, 30);
    let stayed = 0;
    for (const p of ribosomes) {
      const s = await segmentOrFail(session, { x: Math.round(p.x), y: Math.round(p.y), z: Math.round(p.z) });
      if (s?.kind === 'particle') stayed++;
    }
    out.particles = { clicks: ribosomes.length, stayedParticles: stayed, preset: PARTICLE_PRESET, seed };
  } finally {
    await session.dispose();
  }
}

async function benchRealTube(engine: EngineOptions, outDir: string, out: StructuresBench, log: (line: string) => void): Promise<void> {
  log('structures: the real microtubule crop');
  const file = path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc');
  const vol = await readMrc(file);
  const tube = tubeFromDensity(vol, 'bright');
  const session = await CryoSam.create({ ...vol, data: vol.data.slice() }, { engine, cacheDir: false, workers: 1 });
  const d = tube.direction, c = tube.point;
  // Across the tube in the xy plane, and along the beam (z: the missing wedge's side).
  const across = norm({ x: -d.y, y: d.x, z: 0 });
  const places: [string, number, VoxelPoint][] = [
    ['wall, one end', -45, across], ['wall, middle', 0, { x: -across.x, y: -across.y, z: 0 }], ['wall, other end', 45, across], ['top (along the beam)', 20, { x: 0, y: 0, z: 1 }],
  ];
  try {
    let best: StructureSegmentation | undefined;
    for (const [where, t, side] of places) {
      const p = { x: c.x + t * d.x + 11 * side.x, y: c.y + t * d.y + 11 * side.y, z: c.z + t * d.z + 11 * side.z };
      const click = { x: Math.round(p.x), y: Math.round(p.y), z: Math.round(p.z) };
      const { value: s, seconds } = await timed(() => segmentOrFail(session, click));
      const score = s ? scoreTubeMask(s.mask, tube) : { lengthCovered: 0, wallCoverage: 0, inTube: 0 };
      out.realTube.clicks.push({
        click, where, decided: s?.kind ?? 'nothing', ...pick3(score),
        lengthNm: s?.filament ? s.filament.lengthA / 10 : null, outerDiameterNm: s?.filament ? s.filament.outerDiameterA / 10 : null, seconds,
      });
      if (where === 'wall, middle') best = s;
    }
    out.realTube.axisDirection = d;
    if (best) out.realTube.pictures = await tubePictures(session.tomogram, best.mask, outDir);
  } finally {
    await session.dispose();
  }
}

/** PNGs of the tomogram's central z slice and the slice across the tube at its middle, with the mask in colour. */
async function tubePictures(tomogram: Volume, mask: ParticleMask, outDir: string): Promise<string[]> {
  const [nz, ny, nx] = tomogram.shape;
  const full = fullMask(mask, tomogram.shape);
  const files: string[] = [];
  const views: [string, number, number, (r: number, col: number) => number][] = [
    ['real-microtubule-z.png', ny, nx, (r, col) => (Math.floor(nz / 2) * ny + r) * nx + col],
    ['real-microtubule-y.png', nz, nx, (r, col) => (r * ny + Math.floor(ny / 2)) * nx + col],
  ];
  let lo = Infinity, hi = -Infinity;
  for (const v of tomogram.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  // Robust grey range: ±3 robust σ (the tomogram is normalised to median 0, σ 1).
  lo = Math.max(lo, -3);
  hi = Math.min(hi, 3);
  const scale = 3;
  for (const [name, height, width, index] of views) {
    const png = new PNG({ width: 2 * width * scale + scale, height: height * scale });
    for (let r = 0; r < height; r++) {
      for (let col = 0; col < width; col++) {
        const i = index(r, col);
        const g = Math.round((255 * (Math.min(hi, Math.max(lo, tomogram.data[i])) - lo)) / (hi - lo));
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            // Left: the slice; right: the slice with the mask over it.
            for (const [offset, overlay] of [[0, false], [width * scale + scale, true]] as const) {
              const o = (((r * scale + dy) * png.width) + offset + col * scale + dx) * 4;
              const on = overlay && full[i];
              png.data[o] = on ? Math.round(0.5 * g + 127) : g;
              png.data[o + 1] = on ? Math.round(0.5 * g) : g;
              png.data[o + 2] = on ? Math.round(0.5 * g + 60) : g;
              png.data[o + 3] = 255;
            }
          }
        }
      }
    }
    const file = path.join(outDir, name);
    await writeFileAtomic(file, PNG.sync.write(png));
    files.push(name);
  }
  return files;
}

export async function benchStructures(seeds: readonly number[], engine: EngineOptions, outDir: string, log: (line: string) => void): Promise<StructuresBench> {
  await fs.mkdir(outDir, { recursive: true });
  const out: StructuresBench = {
    seeds: [...seeds], filamentClicks: [], membraneClicks: [], findAll: [],
    particles: { clicks: 0, stayedParticles: 0, preset: PARTICLE_PRESET, seed: 1 },
    realTube: { axisDirection: { x: 0, y: 0, z: 0 }, clicks: [], pictures: [] }, peakRssMiB: 0,
  };
  for (const seed of seeds) await benchFilaments(seed, engine, out, log);
  for (const seed of seeds) await benchMembranes(seed, engine, out, log);
  await benchParticles(engine, out, log);
  await benchRealTube(engine, outDir, out, log);
  out.peakRssMiB = Math.round(peakRssMiB());
  return out;
}
