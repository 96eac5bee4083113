/**
 * The filaments and membranes of a simulated scene with their truth volumes: vesicles (already
 * drawn by the simulator) become membrane truth, then sheets and filaments are drawn, kept clear of
 * the vesicles and gold, and the placer is told to keep particles clear of them. Proteins on the
 * sheets come last, touching the sheets. Structures are numbered in one series from 1: vesicles,
 * curved sheets, flat sheets, microtubules, actin. Filaments may cross each other: where they do,
 * the voxel's instance is the one drawn last.
 *
 * Memory: labels and measured flags (uint8) and instances (int32), plus one float32 scratch
 * volume while filaments are drawn.
 */
import { measuredRegion } from '../../volume/missing-wedge.js';
import type { TransferFunction } from '../../volume/fourier.js';
import { isotropic, voxelCount, type Volume } from '../../volume/volume.js';
import type { SimulationConfig } from './config.js';
import { drawFilament, planFilament, PolylineDistance, type FilamentKind, type PlannedFilament, type SimulatedFilament } from './filaments.js';
import { randomPoint } from './geometry.js';
import {
  clearOfBalls,
  drawMembrane,
  planSheet,
  sheetsMeet,
  surfaceDistance,
  surfaceNormal,
  touchingCentre,
  type MembraneSurface,
  type SimulatedMembrane,
} from './membranes.js';
import type { Ball, Placer } from './place.js';
import type { Rng } from './rng.js';

const ANGSTROM_PER_NM = 10;
/** Tries per sheet: each costs a coarse pass over the tomogram to check it meets no other sheet. */
const MAX_SHEET_TRIES = 500;
/** Grid step (voxels) of the test that two sheets do not meet. */
const SHEET_TEST_STEP = 2;
/** Axis points (AXIS_STEP apart) skipped between the clearance checks of a filament path. */
const FILAMENT_CHECK_STRIDE = 2;

/** The truth volumes structures are drawn into (same indexing as the tomogram). */
export interface StructureVolumes {
  /** 0 background, 1 filament (FILAMENT_LABEL), 2 membrane (MEMBRANE_LABEL). */
  labels: Volume<Uint8Array>;
  /** 0 background, else the structure's id. */
  instances: Volume<Int32Array>;
  /** 1 = membrane voxel whose normal the tilt series measured. */
  measured: Uint8Array;
}

export interface SimulatedStructures extends StructureVolumes {
  filaments: SimulatedFilament[];
  membranes: SimulatedMembrane[];
}

/** Whether a config asks for filaments, sheets or vesicles (and so a Simulation gets `structures`). */
export function sceneHasStructures(cfg: SimulationConfig): boolean {
  return (
    cfg.vesicles.count > 0 || cfg.filaments.microtubules > 0 || cfg.filaments.actin > 0 || cfg.sheets.flat > 0 || cfg.sheets.curved > 0
  );
}

/** The tilt series' transfer used for the measured flags: ±tiltRangeDeg about y; undefined without a wedge. */
export function structureWedge(cfg: SimulationConfig): TransferFunction | undefined {
  return cfg.tiltRangeDeg === null ? undefined : measuredRegion({ axis: 'y', minDeg: -cfg.tiltRangeDeg, maxDeg: cfg.tiltRangeDeg });
}

/**
 * Marks the vesicles' truth, draws sheets and filaments into `tomogram` with their truth, and keeps
 * later particles clear of them. Undefined (nothing drawn, no random draws) when the config asks for none.
 */
export function drawStructures(
  cfg: SimulationConfig,
  tomogram: Volume,
  placer: Placer,
  vesicles: readonly Ball[],
  rng: Rng,
): SimulatedStructures | undefined {
  if (!sceneHasStructures(cfg)) return undefined;
  const sheetRng = rng.fork();
  const filamentRng = rng.fork();
  const shape = tomogram.shape;
  const voxelSize = isotropic(cfg.voxelSizeA);
  const structures: SimulatedStructures = {
    labels: { data: new Uint8Array(voxelCount(shape)), shape, voxelSize },
    instances: { data: new Int32Array(voxelCount(shape)), shape, voxelSize },
    measured: new Uint8Array(voxelCount(shape)),
    filaments: [],
    membranes: [],
  };
  const wedge = structureWedge(cfg);
  const voxelsPerNm = ANGSTROM_PER_NM / cfg.voxelSizeA;
  let nextId = 1;

  const vesicleThickness = 2 * ((cfg.vesicles.thicknessNm * voxelsPerNm) / 2);
  for (const v of vesicles) {
    const membrane = { id: nextId++, kind: 'vesicle' as const, thickness: vesicleThickness, surface: { type: 'sphere' as const, centre: [v.x, v.y, v.z] as [number, number, number], radius: v.radius } };
    structures.membranes.push({ ...membrane, ...drawMembrane(membrane, 0, null, shape, structures, wedge) });
  }

  const sheetThickness = cfg.sheets.thicknessNm * voxelsPerNm;
  const sheets: MembraneSurface[] = [];
  // Curved sheets first: they are the hardest to fit between the others.
  const kinds: ('flat' | 'curved')[] = [...new Array<'curved'>(cfg.sheets.curved).fill('curved'), ...new Array<'flat'>(cfg.sheets.flat).fill('flat')];
  for (const kind of kinds) {
    const tries = Math.min(cfg.maxTries, MAX_SHEET_TRIES);
    for (let t = 0; t < tries; t++) {
      const radius = sheetRng.range(cfg.sheets.curvedRadiusNm[0], cfg.sheets.curvedRadiusNm[1]) * voxelsPerNm;
      const patch = cfg.sheets.patchRadiusNm;
      const patchRadius = patch === null ? null : sheetRng.range(patch[0], patch[1]) * voxelsPerNm;
      // Random sheets rarely miss each other in a thin tomogram: after half the tries, stack on the last one.
      const last = sheets[sheets.length - 1];
      const near = last && 2 * t >= tries ? surfaceNormal(last, ...randomPoint(shape, sheetRng)) : undefined;
      const surface = planSheet(kind, radius, patchRadius, shape, sheetRng, near);
      if (!clearOfBalls(surface, sheetThickness / 2, placer.placed, cfg.minGapVoxels)) continue;
      if (sheets.some((other) => sheetsMeet(surface, other, sheetThickness / 2, cfg.minGapVoxels, shape, SHEET_TEST_STEP))) continue;
      sheets.push(surface);
      const membrane = { id: nextId++, kind, thickness: sheetThickness, surface };
      structures.membranes.push({ ...membrane, ...drawMembrane(membrane, cfg.sheets.density, tomogram.data, shape, structures, wedge) });
      break;
    }
  }

  const filamentKinds: FilamentKind[] = [
    ...new Array<FilamentKind>(cfg.filaments.microtubules).fill('microtubule'),
    ...new Array<FilamentKind>(cfg.filaments.actin).fill('actin'),
  ];
  const scratch = filamentKinds.length > 0 ? new Float32Array(voxelCount(shape)) : undefined;
  const tubes: { distance: PolylineDistance; outer: number }[] = [];
  for (const kind of filamentKinds) {
    for (let t = 0; t < cfg.maxTries; t++) {
      const length = filamentRng.range(cfg.filaments.lengthNm[0], cfg.filaments.lengthNm[1]) * voxelsPerNm;
      const curved = filamentRng.uniform() < cfg.filaments.curved;
      const planned = planFilament(nextId, kind, length, curved, voxelsPerNm, shape, filamentRng);
      if (!planned || !filamentClear(planned, placer.placed, sheets, sheetThickness / 2, cfg.minGapVoxels)) continue;
      nextId++;
      drawFilament(planned, cfg.filaments.density, tomogram.data, shape, structures, scratch!);
      structures.filaments.push(planned.filament);
      tubes.push({ distance: new PolylineDistance(planned.filament.axis), outer: planned.filament.outerRadius });
      break;
    }
  }

  if (sheets.length > 0 || tubes.length > 0) {
    placer.setObstacle(
      (ball, gap) =>
        sheets.some((s) => surfaceDistance(s, ball.x, ball.y, ball.z) - sheetThickness / 2 < ball.radius + gap - 1e-9) ||
        tubes.some((f) => f.distance.distance(ball.x, ball.y, ball.z) - f.outer < ball.radius + gap),
    );
  }
  return structures;
}

/** Whether a filament path keeps `gap` voxels (plus its radius) clear of the balls and sheets. */
function filamentClear(planned: PlannedFilament, balls: readonly Ball[], sheets: readonly MembraneSurface[], halfThickness: number, gap: number): boolean {
  const { axis, outerRadius } = planned.filament;
  const n = axis.length / 3;
  for (let i = 0; i < n; i += FILAMENT_CHECK_STRIDE) {
    const x = axis[3 * i], y = axis[3 * i + 1], z = axis[3 * i + 2];
    for (const b of balls) {
      const min = b.radius + outerRadius + gap;
      if ((x - b.x) ** 2 + (y - b.y) ** 2 + (z - b.z) ** 2 < min * min) return false;
    }
    for (const s of sheets) if (surfaceDistance(s, x, y, z) - halfThickness < outerRadius + gap) return false;
  }
  return true;
}

/**
 * Places `cfg.sheets.proteins` proteins on each sheet (not the vesicles), touching its surface on
 * either side, of classes drawn from `cfg.sheets.proteinMaps`; `stamp` draws each one placed (class
 * index into cfg.classes, its ball, a generator for its orientation). Returns the proteins asked
 * for per class.
 */
export function placeSheetProteins(
  cfg: SimulationConfig,
  structures: SimulatedStructures,
  placer: Placer,
  rng: Rng,
  /** Bounding radius of each class in tomogram voxels (config order). */
  radii: readonly number[],
  stamp: (classIndex: number, ball: Ball, rotationRng: Rng) => void,
): number[] {
  const siteRng = rng.fork();
  const rotationRng = rng.fork();
  const asked = new Array<number>(cfg.classes.length).fill(0);
  const classIndex = cfg.sheets.proteinMaps.map((map) => cfg.classes.findIndex((c) => c.map === map));
  for (const membrane of structures.membranes) {
    if (membrane.kind === 'vesicle') continue;
    for (let j = 0; j < cfg.sheets.proteins; j++) {
      const k = classIndex[Math.floor(siteRng.uniform() * classIndex.length)];
      asked[k]++;
      for (let t = 0; t < cfg.maxTries; t++) {
        const centre = touchingCentre(membrane.surface, membrane.thickness / 2, radii[k], randomPoint(tomogramShape(structures), siteRng), siteRng);
        if (!centre) continue;
        const ball: Ball = { x: centre[0], y: centre[1], z: centre[2], radius: radii[k] };
        if (!placer.placeAt(ball, 0)) continue;
        stamp(k, ball, rotationRng);
        break;
      }
    }
  }
  return asked;
}

function tomogramShape(structures: SimulatedStructures) {
  return structures.labels.shape;
}
