/**
 * A Reference kept on disk, so that one click can pick a whole dataset: a folder holding
 * `reference.json` (format version, engine identities, voxel size, particle size and contrast,
 * query vectors, the tomograms and prompts it was made from) and `average.mrc`, the self-template: the user's first
 * subtomogram average, viewable in ChimeraX. Both are written atomically; reading checks every
 * field and names the file at fault.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CryosamError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { requireInputFile } from '../io/files.js';
import { readMrc, writeMrc } from '../io/mrc/index.js';
import { isotropic } from '../volume/volume.js';
import { REFERENCE_VERSION, type Reference } from './reference.js';

export const REFERENCE_FILE = 'reference.json';
export const AVERAGE_FILE = 'average.mrc';
const FORMAT = 'cryosam-reference';

const identity = z.object({ name: z.string(), weightsSha256: z.string().optional(), params: z.record(z.string(), z.unknown()) });
const point = z.object({ x: z.number(), y: z.number(), z: z.number() });
const wedge = z.union([
  z.literal('none'),
  z.object({ axis: z.enum(['z', 'y', 'x']), beam: z.enum(['z', 'y', 'x']).optional(), minDeg: z.number(), maxDeg: z.number(), source: z.enum(['estimated', 'given']) }).passthrough(),
]);
const schema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(REFERENCE_VERSION),
  engines: z.object({ segmenter: identity, features: identity }),
  voxelSizeA: z.number().positive().finite(),
  featureSliceStep: z.number().int().positive(),
  query: z.object({ mode: z.enum(['mean', 'per-prompt', 'centre']), vectors: z.array(z.array(z.number().finite()).min(1)).min(1) }),
  particle: z.object({ meanVoxels: z.number().positive().finite(), equivalentRadius: z.number().positive().finite(), polarity: z.union([z.literal(-1), z.literal(1)]) }),
  sources: z.array(z.object({ tomogram: z.string().optional(), tomogramSha256: z.string(), prompts: z.array(point) })).min(1),
  average: z.object({ file: z.literal(AVERAGE_FILE), size: z.number().int().positive(), stride: z.number().int().positive(), voxelSizeA: z.number().positive(), missingWedge: wedge }).optional(),
});

/** Writes `reference` into folder `dir` (created if missing): reference.json and, when it has one, average.mrc. */
export async function saveReference(dir: string, reference: Reference): Promise<void> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new CryosamError('is a file; a reference is a folder (reference.json and average.mrc)', dir);
  await fs.mkdir(dir, { recursive: true });
  const { average } = reference;
  if (average) {
    const { size, voxelSizeA } = average;
    await writeMrc(path.join(dir, AVERAGE_FILE), { data: average.data, shape: [size, size, size], voxelSize: isotropic(voxelSizeA) }, { label: 'cryosam self-template average' });
  }
  const json = {
    format: FORMAT,
    version: reference.version,
    engines: reference.engines,
    voxelSizeA: reference.voxelSizeA,
    featureSliceStep: reference.featureSliceStep,
    query: { mode: reference.query.mode, vectors: reference.query.vectors.map((v) => Array.from(v)) },
    particle: reference.particle,
    sources: reference.sources,
    ...(average ? { average: { file: AVERAGE_FILE, size: average.size, stride: average.stride, voxelSizeA: average.voxelSizeA, missingWedge: average.missingWedge } } : {}),
  };
  await writeFileAtomic(path.join(dir, REFERENCE_FILE), JSON.stringify(json, null, 1) + '\n');
}

/** Reads a reference folder; throws CryosamError naming the file when anything is missing, foreign or damaged. */
export async function loadReference(dir: string): Promise<Reference> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CryosamError(st ? 'is not a folder; give the reference folder (with reference.json)' : 'no such reference folder', dir);
  const file = path.join(dir, REFERENCE_FILE);
  await requireInputFile(file);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new CryosamError(`not valid JSON (${(err as Error).message})`, file);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== FORMAT) throw new CryosamError(`not a cryosam reference (format ${JSON.stringify(format ?? null)})`, file);
  const version = (json as { version?: unknown }).version;
  if (version !== REFERENCE_VERSION && version !== 1) throw new CryosamError(`reference format version ${String(version)}; this cryosam reads versions 1 and ${REFERENCE_VERSION}`, file);
  // Version 1 had one `source`, version 2 a list of them.
  if (version === 1) {
    const { source, ...rest } = json as { source?: unknown };
    json = { ...rest, version: REFERENCE_VERSION, sources: source === undefined ? undefined : [source] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CryosamError(`bad reference: ${issue.path.join('.') || '(root)'}: ${issue.message}`, file);
  }
  const r = parsed.data;
  const dim = r.query.vectors[0].length;
  if (r.query.vectors.some((v) => v.length !== dim)) throw new CryosamError('bad reference: query vectors of different lengths', file);
  let average: Reference['average'];
  if (r.average) {
    const avgFile = path.join(dir, AVERAGE_FILE);
    const vol = await readMrc(avgFile);
    const n = r.average.size;
    if (vol.shape.some((d) => d !== n)) throw new CryosamError(`the average is ${vol.shape.join('×')} voxels; reference.json says ${n}³`, avgFile);
    average = { data: vol.data, size: n, stride: r.average.stride, voxelSizeA: r.average.voxelSizeA, missingWedge: r.average.missingWedge as NonNullable<Reference['average']>['missingWedge'] };
  }
  return {
    version: REFERENCE_VERSION,
    engines: r.engines as Reference['engines'],
    voxelSizeA: r.voxelSizeA,
    featureSliceStep: r.featureSliceStep,
    query: { mode: r.query.mode, vectors: r.query.vectors.map((v) => Float32Array.from(v)) },
    particle: r.particle,
    sources: r.sources,
    prompted: [],
    ...(average ? { average } : {}),
  };
}
