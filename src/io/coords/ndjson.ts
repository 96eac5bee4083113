import { z } from 'zod';
import { Location, parseJsonAs } from './json.js';
import { makePick } from './make-pick.js';
import { formatNumber } from './numbers.js';
import type { Pick } from './pick.js';

/**
 * CryoET Data Portal point annotations: one JSON object per line, `type` "point",
 * "orientedPoint" (with a rotation matrix, not kept) or "instancePoint" (with `instance_id`);
 * `location` in voxels of the annotated tomogram, so no conversion. A `score` is kept when present.
 */
const PortalPoint = z.object({
  type: z.enum(['point', 'orientedPoint', 'instancePoint']),
  location: Location,
  instance_id: z.number().int().nullish(),
  score: z.number().nullish(),
});

export function parseNdjson(text: string, file?: string): Pick[] {
  const picks: Pick[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const p = parseJsonAs(PortalPoint, line, file, i + 1);
    picks.push(makePick(p.location.x, p.location.y, p.location.z, { score: p.score, instanceId: p.instance_id }));
  });
  return picks;
}

/** "instancePoint" lines for picks with an instance id, "point" lines otherwise. */
export function formatNdjson(picks: readonly Pick[]): string {
  return picks
    .map((p) => {
      const location = { x: Number(formatNumber(p.x)), y: Number(formatNumber(p.y)), z: Number(formatNumber(p.z)) };
      const line: Record<string, unknown> = { type: p.instanceId === undefined ? 'point' : 'instancePoint', location };
      if (p.instanceId !== undefined) line.instance_id = p.instanceId;
      if (p.score !== undefined) line.score = p.score;
      return JSON.stringify(line) + '\n';
    })
    .join('');
}
