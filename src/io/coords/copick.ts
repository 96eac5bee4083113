import { z } from 'zod';
import { CryosamError } from '../../errors.js';
import type { CoordFrame } from './frame.js';
import { Location, parseJsonAs } from './json.js';
import { makePick } from './make-pick.js';
import { formatNumber } from './numbers.js';
import type { Pick } from './pick.js';

/**
 * copick picks files (`{user_id}_{session_id}_{object}.json` in a run's Picks folder): one object
 * type of one run per file. `points[].location` is in Å from the volume corner with voxel i's
 * centre at i × voxel size, as copick tools index volumes: voxel = Å / voxelSize.
 * `pickable_object_name` → className, `run_name` → tomoName, `instance_id`, `score` as they are.
 */
const CopickPicks = z.object({
  pickable_object_name: z.string().nullish(),
  user_id: z.string().nullish(),
  session_id: z.string().nullish(),
  run_name: z.string().nullish(),
  unit: z.string().nullish(),
  points: z
    .array(z.object({ location: Location, instance_id: z.number().int().nullish(), score: z.number().nullish() }))
    .nullish(),
});

export function parseCopick(text: string, frame: CoordFrame, file?: string): Pick[] {
  const doc = parseJsonAs(CopickPicks, text, file);
  if (doc.unit && doc.unit !== 'angstrom') throw new CryosamError(`copick unit "${doc.unit}" is not supported (expected angstrom)`, file);
  const v = frame.voxelSize;
  return (doc.points ?? []).map((p) =>
    makePick(p.location.x / v, p.location.y / v, p.location.z / v, {
      score: p.score,
      className: doc.pickable_object_name,
      instanceId: p.instance_id,
      tomoName: doc.run_name,
    }),
  );
}

/** The one value all picks share, undefined if none has one; a copick file cannot hold several. */
function shared(picks: readonly Pick[], get: (p: Pick) => string | undefined, what: string): string | undefined {
  const values = new Set(picks.map(get).filter((v) => v !== undefined));
  if (values.size > 1) throw new CryosamError(`a copick file holds one ${what}; these picks have ${[...values].join(', ')}`);
  return values.values().next().value;
}

const IDENTITY = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

export function formatCopick(picks: readonly Pick[], frame: CoordFrame, opts: { tomoName?: string; objectName?: string } = {}): string {
  const angst = (v: number) => Number(formatNumber(v * frame.voxelSize));
  const doc = {
    pickable_object_name: opts.objectName ?? shared(picks, (p) => p.className, 'object') ?? 'particle',
    user_id: 'cryosam',
    session_id: '0',
    run_name: opts.tomoName ?? shared(picks, (p) => p.tomoName, 'run') ?? null,
    voxel_spacing: frame.voxelSize,
    unit: 'angstrom',
    // instance_id and score are left out when unknown: copick defaults them to 0 and 1.
    points: picks.map((p) => ({
      location: { x: angst(p.x), y: angst(p.y), z: angst(p.z) },
      transformation_: IDENTITY,
      ...(p.instanceId === undefined ? {} : { instance_id: p.instanceId }),
      ...(p.score === undefined ? {} : { score: p.score }),
    })),
    trust_orientation: false,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
