import type { Pick } from './pick.js';

type PickFields = Omit<Pick, 'x' | 'y' | 'z'>;

/** A pick with only the optional fields the file gave (null/undefined ones left out, not set to undefined). */
export function makePick(x: number, y: number, z: number, fields: { [K in keyof PickFields]?: PickFields[K] | null }): Pick {
  const pick: Pick = { x, y, z };
  if (fields.score != null) pick.score = fields.score;
  if (fields.className != null) pick.className = fields.className;
  if (fields.instanceId != null) pick.instanceId = fields.instanceId;
  if (fields.tomoName != null) pick.tomoName = fields.tomoName;
  if (fields.helicalTubeId != null) pick.helicalTubeId = fields.helicalTubeId;
  if (fields.helicalTrackLengthA != null) pick.helicalTrackLengthA = fields.helicalTrackLengthA;
  return pick;
}
