/**
 * What a simulated tomogram contains and how it is imaged. Sizes of cellular objects are in nm or Å
 * (as in the field), everything on the tomogram grid in voxels. Validated with zod, so configs read
 * from JSON (a manifest, a user file) are checked the same way as presets.
 */
import { z } from 'zod';
import { CryosamError } from '../../errors.js';

const count = z.number().int().min(0);
const positive = z.number().positive();
const range = z.tuple([positive, positive]).refine(([lo, hi]) => lo <= hi, 'range must be [min, max]');

export const particleClassSchema = z.object({
  /** Density map id in the maps folder, e.g. '4v7r' (yeast 80S ribosome). */
  map: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'map id must be a file name without .mrc'),
  /** Particles requested (relative abundances when volumeFraction is set). */
  count,
  /** 'target': what a picker should find; 'distractor': everything else. */
  role: z.enum(['target', 'distractor']),
});

/**
 * Tilt-series imaging (see tilt-series.ts): the scene is projected at each tilt about y, each
 * projection gets its CTF, dose damage and noise, and the tomogram is their weighted back-projection.
 */
export const tiltSeriesSchema = z
  .object({
    /** Lowest and highest tilt in degrees about y (beam along z at 0°), e.g. −60 and 60. */
    minDeg: z.number().min(-90).max(90),
    maxDeg: z.number().min(-90).max(90),
    /** Angle between tilts in degrees (min, min + step, … up to max). */
    stepDeg: z.number().positive().max(90),
    /** Mean underfocus in µm (positive = underfocus). */
    defocusUm: positive,
    /** Each tilt's defocus is drawn uniformly within ± this many µm of defocusUm. */
    defocusSpreadUm: z.number().min(0),
    /** Electron exposure per tilt in e⁻/Å²; the dose-symmetric order accumulates it (0 = no damage). */
    dosePerTiltE: z.number().min(0),
    /** Phase-flip each projection (CTF correction) before back-projection; false as in many real tomograms. */
    phaseFlip: z.boolean(),
    /** Back-projection weighting: null = R-weighting (ramp); N = the SIRT-like filter of N iterations (smoother). */
    sirtLikeIterations: z.number().int().positive().max(1000).nullable(),
  })
  .refine((t) => t.minDeg <= t.maxDeg, 'tilt range must satisfy minDeg ≤ maxDeg')
  .refine((t) => t.defocusSpreadUm < t.defocusUm, 'defocusSpreadUm must be smaller than defocusUm (underfocus throughout)');

/** Filaments (filaments.ts): none unless asked for, so configs written before them read unchanged. */
export const filamentsSchema = z.object({
  /** Microtubule-like hollow tubes: 13 or 14 protofilament rods, 25 nm outer and 15 nm inner diameter. */
  microtubules: count,
  /** Actin-like solid filaments, 7 nm diameter. */
  actin: count,
  /** Length of each filament before it is clipped at the tomogram's faces, in nm. */
  lengthNm: range,
  /** Fraction of filaments drawn as circular arcs (radius of curvature ≥ 100 nm); the rest are straight. */
  curved: z.number().min(0).max(1),
  /** Density of a filament's protein, in the units of the maps (mean 1 inside a particle's iso-surface). */
  density: z.number(),
});

/** Membrane sheets (membranes.ts): slabs through the volume, flat or curved, with proteins on them. */
export const sheetsSchema = z.object({
  /** Flat sheets: planes at random orientations. */
  flat: count,
  /** Curved sheets: the part of a large sphere or cylinder inside the tomogram. */
  curved: count,
  /** Membrane thickness in nm (lipid bilayer: 4–5 nm). */
  thicknessNm: positive,
  /** Density of the membrane (vesicles use 0.6). */
  density: z.number(),
  /** Flat sheets are discs of this radius in nm (a patch with a rim); null: unbounded planes. */
  patchRadiusNm: range.nullable(),
  /** Radius of the sphere or cylinder a curved sheet belongs to, in nm. */
  curvedRadiusNm: range,
  /** Proteins placed touching each sheet's surface (they are particles, in the picks and labels). */
  proteins: count,
  /** Classes the sheet proteins are drawn from (map ids among `classes`, usually small distractors). */
  proteinMaps: z.array(z.string()),
});

export type FilamentsConfig = z.infer<typeof filamentsSchema>;
export type SheetsConfig = z.infer<typeof sheetsSchema>;

/** No filaments: the default of every config that does not ask for them. */
export const NO_FILAMENTS: FilamentsConfig = { microtubules: 0, actin: 0, lengthNm: [200, 500], curved: 0.5, density: 1 };
/** No sheets: the default of every config that does not ask for them. */
export const NO_SHEETS: SheetsConfig = {
  flat: 0,
  curved: 0,
  thicknessNm: 4.5,
  density: 0.6,
  patchRadiusNm: null,
  curvedRadiusNm: [100, 250],
  proteins: 0,
  proteinMaps: [],
};

export const simulationConfigSchema = z.object({
  name: z.string(),
  /** Tomogram size in voxels, [nz, ny, nx]. */
  shape: z.tuple([z.number().int().min(8), z.number().int().min(8), z.number().int().min(8)]),
  /** Tomogram voxel size in Å (the maps are 10 Å; other sizes rescale them). */
  voxelSizeA: positive,
  classes: z.array(particleClassSchema).min(1).max(255),
  /**
   * Crowding: when set, counts are scaled (keeping their proportions) so the particles' iso-surface
   * volumes add up to this fraction of the tomogram; otherwise counts are used as given.
   */
  volumeFraction: z.number().gt(0).max(0.5).nullable(),
  /** Minimum gap between the bounding spheres of any two objects, in voxels. */
  minGapVoxels: z.number().min(0),
  /** Random positions tried per object before it is given up (and reported as not placed). */
  maxTries: z.number().int().positive(),
  /** Membrane vesicles: hollow spherical shells; nothing is placed inside or across them. */
  vesicles: z.object({ count, radiusNm: range, thicknessNm: positive, density: z.number() }),
  /** Gold fiducials: very dense balls. */
  gold: z.object({ count, diameterNm: range, density: z.number() }),
  /** Microtubules and actin filaments, with their axes as ground truth (default: none). */
  filaments: filamentsSchema.default(() => structuredClone(NO_FILAMENTS)),
  /** Flat and curved membrane sheets with proteins on them (default: none). */
  sheets: sheetsSchema.default(() => structuredClone(NO_SHEETS)),
  /** 'dark': protein darker than the background, as in cryo-ET reconstructions; 'bright': flipped. */
  polarity: z.enum(['dark', 'bright']),
  /** Tilt range ±this many degrees about y (missing wedge around z); null: full coverage. */
  tiltRangeDeg: z.number().min(0).max(90).nullable(),
  /** CTF-like band-pass (see ctf.ts); null: none. */
  ctf: z
    .object({ highPassA: positive, lowPassA: positive, defocusUm: positive.nullable() })
    .nullable(),
  /** Signal variance / noise variance over the whole volume (see noise.ts); null: noise-free. */
  snr: positive.nullable(),
  /** Gaussian smoothing of the final noisy tomogram, σ in voxels; 0: none. */
  smoothingSigmaVoxels: z.number().min(0),
  /**
   * Tilt-series imaging instead of the Fourier wedge and band-pass: when set, tiltRangeDeg and ctf
   * are ignored (the tilt range is minDeg..maxDeg, the CTF that of defocusUm) and snr is measured on
   * the reconstruction (see tilt-series.ts). Absent or null: the Fourier imaging above. Optional
   * rather than defaulted, so configs written before it validate and read back unchanged.
   */
  tiltSeries: tiltSeriesSchema.nullable().optional(),
});

export type ParticleClassConfig = z.infer<typeof particleClassSchema>;
export type SimulationConfig = z.infer<typeof simulationConfigSchema>;
export type TiltSeriesConfig = z.infer<typeof tiltSeriesSchema>;

/** Checks a config (from a preset, the CLI or a JSON file) and returns it typed; `source` names it in errors. */
export function validateConfig(config: unknown, source?: string): SimulationConfig {
  const parsed = simulationConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new CryosamError(`invalid simulation config: ${issues}`, source);
  }
  const seen = new Set<string>();
  for (const c of parsed.data.classes) {
    if (seen.has(c.map)) throw new CryosamError(`invalid simulation config: class '${c.map}' is listed twice`, source);
    seen.add(c.map);
  }
  const { sheets } = parsed.data;
  if (sheets.proteins > 0) {
    if (sheets.proteinMaps.length === 0) throw new CryosamError('invalid simulation config: sheets.proteins needs sheets.proteinMaps', source);
    for (const map of sheets.proteinMaps) {
      if (!seen.has(map)) throw new CryosamError(`invalid simulation config: sheet protein '${map}' is not among the classes`, source);
    }
  }
  return parsed.data;
}

/** Map ids of the target classes, in config order. */
export function targetClasses(config: SimulationConfig): string[] {
  return config.classes.filter((c) => c.role === 'target').map((c) => c.map);
}
