/**
 * Simulation presets from easy to hard. Sizes are at 10 Å/voxel, like a bin-4 cellular tomogram.
 * The target of every preset is the yeast 80S ribosome (4v7r); distractors of similar size
 * (TRiC 4v94, 26S proteasome 4cr2, mitoribosome 5mrc) and the smaller SHREC proteins make it hard.
 */
import { CryosamError } from '../../errors.js';
import { NO_FILAMENTS, NO_SHEETS, targetClasses, validateConfig, type ParticleClassConfig, type SimulationConfig } from './config.js';
import { DEFAULT_TILT_SERIES } from './tilt-series.js';

/** The SHREC'19–21 protein set present in data/maps. */
export const SHREC_PROTEINS = ['1bxn', '1qvr', '1s3x', '1u6g', '2cg9', '3cf3', '3d2f', '3gl1', '3h84', '3qm1'] as const;

const target = (count: number): ParticleClassConfig => ({ map: '4v7r', count, role: 'target' });
const distractors = (maps: readonly string[], count: number): ParticleClassConfig[] =>
  maps.map((map) => ({ map, count, role: 'distractor' }));

/** Imaging shared by the cellular presets: ±60° tilt, band-pass from 400 Å to 30 Å, no CTF flips. */
const cellularImaging = {
  polarity: 'dark',
  tiltRangeDeg: 60,
  ctf: { highPassA: 400, lowPassA: 30, defocusUm: null },
  smoothingSigmaVoxels: 0,
} as const;

const noObjects = {
  vesicles: { count: 0, radiusNm: [20, 60], thicknessNm: 4.5, density: 0.6 },
  gold: { count: 0, diameterNm: [5, 10], density: 6 },
  filaments: NO_FILAMENTS,
  sheets: NO_SHEETS,
} satisfies Pick<SimulationConfig, CellularObjects>;

type CellularObjects = 'vesicles' | 'gold' | 'filaments' | 'sheets';

const withObjects = (vesicles: number, gold: number): Pick<SimulationConfig, CellularObjects> => ({
  ...noObjects,
  vesicles: { ...noObjects.vesicles, count: vesicles },
  gold: { ...noObjects.gold, count: gold },
});

const PRESET_LIST: { config: SimulationConfig; description: string }[] = [
  {
    description: 'small 96³ tomogram, 8 ribosomes and 8 small proteins, high SNR, no wedge, no CTF',
    config: {
      name: 'easy',
      shape: [96, 96, 96],
      voxelSizeA: 10,
      classes: [target(8), ...distractors(['1bxn', '3cf3'], 4)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...noObjects,
      polarity: 'dark',
      tiltRangeDeg: null,
      ctf: null,
      snr: 2,
      smoothingSigmaVoxels: 0,
    },
  },
  {
    description: 'ribosomes among TRiC/proteasomes and small proteins, a vesicle, gold, ±60° wedge, SNR 0.5',
    config: {
      name: 'medium',
      shape: [128, 192, 192],
      voxelSizeA: 10,
      classes: [target(25), ...distractors(['4v94', '4cr2'], 8), ...distractors(['1bxn', '1qvr', '3d2f'], 6)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...withObjects(1, 3),
      ...cellularImaging,
      snr: 0.5,
    },
  },
  {
    description: 'densely packed (7% protein by volume) ribosomes and look-alikes, ±60° wedge, SNR 0.3',
    config: {
      name: 'crowded',
      shape: [128, 192, 192],
      voxelSizeA: 10,
      classes: [target(40), ...distractors(['4v94', '4cr2', '5mrc'], 10), ...distractors(SHREC_PROTEINS, 5)],
      volumeFraction: 0.07,
      minGapVoxels: 1,
      maxTries: 2000,
      ...withObjects(0, 2),
      ...cellularImaging,
      snr: 0.3,
    },
  },
  {
    description: 'binned cellular tomogram 160×384×384: 120 ribosomes, look-alikes, SHREC proteins, vesicles, gold, ±60° wedge, SNR 0.1',
    config: {
      name: 'realistic',
      shape: [160, 384, 384],
      voxelSizeA: 10,
      classes: [target(120), ...distractors(['4v94', '4cr2', '5mrc'], 25), ...distractors(SHREC_PROTEINS, 10)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...withObjects(3, 8),
      ...cellularImaging,
      snr: 0.1,
    },
  },
  {
    description: 'full-size 200×512×512 tomogram for speed benchmarks: 150 ribosomes, look-alikes, vesicles, gold, SNR 0.1',
    config: {
      name: 'large',
      shape: [200, 512, 512],
      voxelSizeA: 10,
      classes: [target(150), ...distractors(['4v94', '4cr2', '5mrc'], 25), ...distractors(SHREC_PROTEINS, 8)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...withObjects(4, 10),
      ...cellularImaging,
      snr: 0.1,
    },
  },
  {
    description: '4 microtubules (13/14 protofilaments, straight or curved) and 4 actin filaments among ribosomes and small proteins, ±60° wedge, SNR 0.4; filament truth',
    config: {
      name: 'filaments',
      shape: [128, 256, 256],
      voxelSizeA: 10,
      classes: [target(12), ...distractors(['1bxn', '1u6g', '3qm1'], 6)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...noObjects,
      filaments: { microtubules: 4, actin: 4, lengthNm: [250, 500], curved: 0.5, density: 1 },
      ...cellularImaging,
      snr: 0.4,
    },
  },
  {
    description: 'two flat sheets and a curved one with proteins on them, 2 vesicles, ribosomes, ±60° wedge, SNR 0.4; membrane truth',
    config: {
      name: 'membranes',
      shape: [128, 256, 256],
      voxelSizeA: 10,
      classes: [target(12), ...distractors(['1bxn', '3qm1'], 4)],
      volumeFraction: null,
      minGapVoxels: 2,
      maxTries: 1000,
      ...noObjects,
      vesicles: { ...noObjects.vesicles, count: 2, radiusNm: [20, 35] },
      sheets: { ...NO_SHEETS, flat: 2, curved: 1, proteins: 8, proteinMaps: ['1bxn', '3qm1'] },
      ...cellularImaging,
      snr: 0.4,
    },
  },
];

/**
 * Tilt-series variants: the scene of a preset above (shared, not copied) imaged as a real
 * tomogram is made (tilt-series.ts: CTF with phase flips, dose damage, R-weighted back-projection).
 */
const TILT_VARIANTS: { base: string; name: string; description: string; overrides?: Partial<SimulationConfig> }[] = [
  {
    base: 'realistic',
    name: 'realistic-tilt',
    description: 'the realistic scene imaged from a ±60° tilt series (3° steps, CTF at 3 µm without correction, dose damage, weighted back-projection), SNR 0.1',
  },
  {
    base: 'crowded',
    name: 'hard-tilt',
    description: 'the crowded scene (7% protein) imaged from a ±60° tilt series without CTF correction, SNR 0.2',
    overrides: { snr: 0.2 },
  },
];
for (const { base, name, description, overrides } of TILT_VARIANTS) {
  const scene = PRESET_LIST.find((p) => p.config.name === base)!.config;
  PRESET_LIST.push({ description, config: { ...scene, ...overrides, name, tiltSeries: { ...DEFAULT_TILT_SERIES } } });
}

export const PRESETS: Readonly<Record<string, SimulationConfig>> = Object.fromEntries(
  PRESET_LIST.map(({ config }) => [config.name, validateConfig(config, `preset ${config.name}`)]),
);

/** Presets in order of difficulty, with a one-line description each. */
export function listPresets(): { name: string; description: string; shape: readonly number[]; target: string[] }[] {
  return PRESET_LIST.map(({ config, description }) => ({
    name: config.name,
    description,
    shape: config.shape,
    target: targetClasses(config),
  }));
}

/** A deep copy of a preset, safe to modify; throws CryosamError listing the presets for an unknown name. */
export function presetConfig(name: string): SimulationConfig {
  const preset = PRESETS[name];
  if (!preset) throw new CryosamError(`unknown preset '${name}' (presets: ${Object.keys(PRESETS).join(', ')})`);
  return structuredClone(preset);
}
