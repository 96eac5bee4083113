/**
 * `cryosam info FILE`: what an MRC file holds (shape, mode, voxel size, origin, byte order,
 * extended header) and density statistics computed from the data, streamed a slab at a time so
 * tomograms of any size fit in memory.
 */
import type { Command } from 'commander';
import { MODE_NAMES, MrcReader, RunningStats, type DensityStats, type MrcHeader } from '../io/mrc/index.js';
import type { ProgressCallback } from '../progress.js';
import { createCliProgress } from './progress.js';

/** Sections per statistics step: about 64 MiB of float32. */
const SLAB_BYTES = 64 << 20;

export interface MrcInfo {
  file: string;
  /** [nz, ny, nx], canonical order. */
  shape: [number, number, number];
  mode: number;
  modeName: string;
  /** Å; a number when isotropic, else null (see voxelSizeXYZ). 0 when the header has none. */
  voxelSize: number | null;
  /** [x, y, z] in Å. */
  voxelSizeXYZ: [number, number, number];
  /** [x, y, z] in Å. */
  origin: [number, number, number];
  /** nxstart, nystart, nzstart. */
  start: [number, number, number];
  /** mapc, mapr, maps. */
  axisOrder: [number, number, number];
  spaceGroup: number;
  isStack: boolean;
  int8Unsigned: boolean;
  byteOrder: 'little-endian' | 'big-endian';
  extendedHeader: { type: string; bytes: number };
  labels: string[];
  /** Statistics of the finite voxels, computed from the data; rms = standard deviation about the mean. */
  min: number;
  max: number;
  mean: number;
  rms: number;
  /** Voxels that are NaN or infinite. */
  nonFinite: number;
  /** The statistics the header claims, for comparison. */
  header: { dmin: number; dmax: number; dmean: number; rms: number };
}

async function densityStats(reader: MrcReader, onProgress: ProgressCallback): Promise<DensityStats> {
  const [nz, ny, nx] = reader.header.shape;
  const step = Math.max(1, Math.floor(SLAB_BYTES / (ny * nx * 4)));
  const stats = new RunningStats();
  for (let z = 0; z < nz; z += step) {
    stats.add(await reader.readSlab(z, Math.min(nz, z + step)));
    onProgress({ stage: 'reading', done: Math.min(nz, z + step), total: nz });
  }
  return stats.result();
}

function describe(file: string, h: MrcHeader, s: DensityStats): MrcInfo {
  const v = h.voxelSize;
  return {
    file,
    shape: [...h.shape],
    mode: h.mode,
    modeName: h.mode === 0 && h.int8Unsigned ? 'uint8' : (MODE_NAMES[h.mode] ?? 'unknown'),
    voxelSize: v.x === v.y && v.y === v.z ? v.x : null,
    voxelSizeXYZ: [v.x, v.y, v.z],
    origin: [h.origin.x, h.origin.y, h.origin.z],
    start: [h.nxstart, h.nystart, h.nzstart],
    axisOrder: [h.mapc, h.mapr, h.maps],
    spaceGroup: h.ispg,
    isStack: h.isStack,
    int8Unsigned: h.int8Unsigned,
    byteOrder: h.littleEndian ? 'little-endian' : 'big-endian',
    extendedHeader: { type: h.exttyp, bytes: h.nsymbt },
    labels: h.labels,
    min: s.min,
    max: s.max,
    mean: s.mean,
    rms: s.rms,
    nonFinite: s.nonFinite,
    header: { dmin: h.dmin, dmax: h.dmax, dmean: h.dmean, rms: h.rms },
  };
}

/** Reads `file` and describes it; throws CryosamError naming the file when it is not a readable MRC file. */
export async function mrcInfo(file: string, onProgress: ProgressCallback = () => {}): Promise<MrcInfo> {
  const reader = await MrcReader.open(file);
  try {
    return describe(file, reader.header, await densityStats(reader, onProgress));
  } finally {
    await reader.close();
  }
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, ''));
const triple = (t: readonly number[]) => t.map(num).join(', ');

function formatInfo(i: MrcInfo): string {
  const voxel = i.voxelSizeXYZ.every((x) => x === 0)
    ? '0 (not set in the header)'
    : `${triple(i.voxelSizeXYZ)} Å (x, y, z)`;
  const ext = i.extendedHeader.bytes > 0 ? `${i.extendedHeader.bytes} bytes, type "${i.extendedHeader.type || 'unset'}"` : 'none';
  const rows: [string, string][] = [
    ['file', i.file],
    ['shape', `${triple(i.shape)} (nz, ny, nx)${i.isStack ? ', image stack' : ''}`],
    ['mode', `${i.mode} (${i.modeName})`],
    ['voxel size', voxel],
    ['origin', `${triple(i.origin)} Å (x, y, z)`],
    ['start', `${triple(i.start)} (nxstart, nystart, nzstart)`],
    ['axis order', `${triple(i.axisOrder)} (mapc, mapr, maps)`],
    ['space group', String(i.spaceGroup)],
    ['byte order', i.byteOrder],
    ['ext. header', ext],
    ['min', num(i.min)],
    ['max', num(i.max)],
    ['mean', num(i.mean)],
    ['rms', `${num(i.rms)} (standard deviation)`],
  ];
  if (i.nonFinite > 0) rows.push(['non-finite', `${i.nonFinite} voxels are NaN or infinite (left out of the statistics)`]);
  i.labels.forEach((label, k) => rows.push([k === 0 ? 'labels' : '', label]));
  return rows.map(([key, value]) => `${key.padEnd(12)} ${value}`).join('\n') + '\n';
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description(
      'Describe an MRC file (.mrc .rec .map .mrcs .ccp4, optionally .gz or .bz2): shape, mode, voxel size, ' +
        'origin, byte order, extended header, and density statistics computed from the data.',
    )
    .argument('<file>', 'MRC file to describe')
    .option(
      '--json',
      'print one JSON object instead: shape [nz, ny, nx] in voxels; voxelSize in Å (a number when isotropic, else ' +
        'null) and voxelSizeXYZ [x, y, z] in Å; origin [x, y, z] in Å; mode; min, max, mean, rms (standard ' +
        'deviation) computed from the data; plus the statistics the header claims, axis order, byte order, labels',
    )
    .option('-q, --quiet', 'no progress bar')
    .action(async (file: string, opts: { json?: boolean; quiet?: boolean }) => {
      const progress = createCliProgress(opts.quiet);
      let info: MrcInfo;
      try {
        info = await mrcInfo(file, progress.onProgress);
      } finally {
        progress.stop();
      }
      process.stdout.write(opts.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info));
    });
}
