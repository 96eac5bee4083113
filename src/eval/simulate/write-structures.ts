/**
 * Writes the filament and membrane truth of a simulation beside its other outputs:
 * structures.mrc (instance ids: 0 background, else the structure id), structure_labels.mrc
 * (uint8: 0 background, 1 filament, 2 membrane), membrane_measured.mrc (uint8: 1 = membrane voxel
 * whose normal the tilt series measured), filaments.star (RELION-like helical tubes: the axis of
 * each filament, one row per voxel of length) and structures.json (the list of filaments and
 * membranes with their geometry).
 */
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatStarLoop } from '../../io/coords/star.js';
import { writeMrc } from '../../io/mrc/index.js';
import { AXIS_STEP, FILAMENT_LABEL, type SimulatedFilament } from './filaments.js';
import { MEASURED_FREQUENCY, MEMBRANE_LABEL } from './membranes.js';
import type { SimulatedStructures } from './scene.js';

export interface StructureFiles {
  instances: string;
  labels: string;
  measured: string;
  filaments: string;
  list: string;
}

/** Every how many axis points a filaments.star row is written (AXIS_STEP apart: one row per voxel). */
const STAR_STRIDE = Math.max(1, Math.round(1 / AXIS_STEP));

export async function writeStructures(
  structures: SimulatedStructures,
  outDir: string,
  voxelSizeA: number,
  label: string,
): Promise<StructureFiles> {
  const at = (name: string) => path.join(outDir, name);
  const files: StructureFiles = {
    instances: at('structures.mrc'),
    labels: at('structure_labels.mrc'),
    measured: at('membrane_measured.mrc'),
    filaments: at('filaments.star'),
    list: at('structures.json'),
  };
  await writeMrc(files.instances, structures.instances, { label: `${label}: structure ids` });
  await writeMrc(files.labels, structures.labels, { label: `${label}: 1 filament, 2 membrane` });
  await writeMrc(files.measured, { ...structures.labels, data: structures.measured }, { label: `${label}: measured membrane` });
  await writeFileAtomic(files.filaments, filamentsStar(structures.filaments, voxelSizeA));
  const list = {
    voxelSizeA,
    conventions:
      `voxels (x = column, y = row, z = section, data[z][y][x]); structure labels: 0 background, ${FILAMENT_LABEL} filament, ` +
      `${MEMBRANE_LABEL} membrane; structures.mrc: the structure id; membrane_measured: 1 where the membrane's normal, ` +
      `at ${MEASURED_FREQUENCY} cycles/voxel, lies in the measured part of Fourier space; filament axes in filaments.star`,
    filaments: structures.filaments.map(({ axis, ...f }) => ({
      ...f,
      lengthNm: (f.length * voxelSizeA) / 10,
      outerDiameterNm: (2 * f.outerRadius * voxelSizeA) / 10,
      start: [axis[0], axis[1], axis[2]],
      end: [axis[axis.length - 3], axis[axis.length - 2], axis[axis.length - 1]],
    })),
    membranes: structures.membranes.map((m) => ({ ...m, thicknessNm: (m.thickness * voxelSizeA) / 10 })),
  };
  await writeFileAtomic(files.list, JSON.stringify(list, null, 2) + '\n');
  return files;
}

/** RELION-style helical tubes: axis points in voxels, the tube id, the track length from the tube's start in Å. */
export function filamentsStar(filaments: readonly SimulatedFilament[], voxelSizeA: number): string {
  const rows: string[][] = [];
  for (const f of filaments) {
    const n = f.axis.length / 3;
    for (let i = 0; i < n; i += STAR_STRIDE) rows.push(starRow(f, i, voxelSizeA));
    if ((n - 1) % STAR_STRIDE !== 0) rows.push(starRow(f, n - 1, voxelSizeA));
  }
  return formatStarLoop(
    'filaments',
    ['rlnCoordinateX', 'rlnCoordinateY', 'rlnCoordinateZ', 'rlnHelicalTubeID', 'rlnHelicalTrackLengthAngst'],
    rows,
  );
}

function starRow(f: SimulatedFilament, i: number, voxelSizeA: number): string[] {
  const a = f.axis;
  return [a[3 * i].toFixed(3), a[3 * i + 1].toFixed(3), a[3 * i + 2].toFixed(3), String(f.id), (i * AXIS_STEP * voxelSizeA).toFixed(2)];
}
