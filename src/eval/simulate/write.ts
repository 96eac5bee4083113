/**
 * Writes a simulation beside its ground truth: tomogram.mrc (float32, voxel size in Å),
 * labels.mrc (uint8 class labels), instances.mrc (instance ids), the picks of all classes in one
 * coordinate file and of each class in its own, and simulation.json describing all of them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { writePicks, type CoordFormat } from '../../io/coords/index.js';
import { writeMrc } from '../../io/mrc/index.js';
import type { Simulation } from './simulate.js';
import { writeStructures, type StructureFiles } from './write-structures.js';

/** CSV keeps class names and instance ids for every format-independent reader; RELION keeps integer classes only. */
export const DEFAULT_TRUTH_FORMAT: CoordFormat = 'csv';

/** Tomogram name written into coordinate files that carry one (RELION rlnTomoName, copick run). */
export const SIMULATION_TOMO_NAME = 'tomogram';

const EXTENSION: Record<CoordFormat, string> = {
  relion3: '.star',
  relion4: '.star',
  relion5: '.star',
  tomoman: '.star',
  stopgap: '.star',
  copick: '.json',
  ndjson: '.ndjson',
  csv: '.csv',
  tardis: '.csv',
  imod: '.mod',
};

export interface SimulationFiles {
  tomogram: string;
  labels: string;
  instances: string;
  /** Ground-truth picks of every class (className = map id, instanceId). */
  picks: string;
  /** Ground-truth picks per class id. */
  picksByClass: Record<string, string>;
  manifest: string;
  /** Filament and membrane truth (write-structures.ts), when the simulation has structures. */
  structures?: StructureFiles;
}

export async function writeSimulation(
  sim: Simulation,
  outDir: string,
  options: { format?: CoordFormat } = {},
): Promise<SimulationFiles> {
  const format = options.format ?? DEFAULT_TRUTH_FORMAT;
  const ext = EXTENSION[format];
  await fs.mkdir(outDir, { recursive: true });
  const at = (name: string) => path.join(outDir, name);
  const files: SimulationFiles = {
    tomogram: at('tomogram.mrc'),
    labels: at('labels.mrc'),
    instances: at('instances.mrc'),
    picks: at(`picks_all${ext}`),
    picksByClass: Object.fromEntries(sim.classes.map((c) => [c.id, at(`picks_${c.id}${ext}`)])),
    manifest: at('simulation.json'),
  };
  const label = `cryosam simulate ${sim.config.name} seed ${sim.seed}`;
  await writeMrc(files.tomogram, sim.tomogram, { label });
  await writeMrc(files.labels, sim.labels, { label: `${label}: class labels` });
  await writeMrc(files.instances, sim.instances, { label: `${label}: instance ids` });
  if (sim.structures) files.structures = await writeStructures(sim.structures, outDir, sim.config.voxelSizeA, label);
  const frame = { voxelSize: sim.config.voxelSizeA, shape: sim.tomogram.shape };
  await writePicks(files.picks, sim.picks, frame, { format, tomoName: SIMULATION_TOMO_NAME });
  for (const c of sim.classes) {
    const picks = sim.picks.filter((p) => p.className === c.id);
    await writePicks(files.picksByClass[c.id], picks, frame, { format, tomoName: SIMULATION_TOMO_NAME, objectName: c.id });
  }
  const relative = (file: string) => path.basename(file);
  const manifest = {
    tool: 'cryosam simulate',
    seed: sim.seed,
    shape: sim.tomogram.shape,
    voxelSizeA: sim.config.voxelSizeA,
    conventions:
      'picks in voxels (x = column, y = row, z = section, data[z][y][x]); labels: 0 = background, ' +
      'class label as listed; instances: 0 = background, instance id as in the picks',
    coordinateFormat: format,
    classes: sim.classes,
    vesicles: sim.vesicles,
    fiducials: sim.fiducials,
    files: {
      tomogram: relative(files.tomogram),
      labels: relative(files.labels),
      instances: relative(files.instances),
      picks: relative(files.picks),
      picksByClass: Object.fromEntries(Object.entries(files.picksByClass).map(([id, f]) => [id, relative(f)])),
      ...(files.structures && { structures: Object.fromEntries(Object.entries(files.structures).map(([k, f]) => [k, relative(f)])) }),
    },
    config: sim.config,
  };
  await writeFileAtomic(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return files;
}
