import { CryosamError } from '../../errors.js';
import { isInsideVolume, type Shape3 } from '../../volume/volume.js';
import type { Pick } from './pick.js';

/** How many offending picks an error message lists. */
const LISTED = 5;

/** Throws unless every pick lies in the tomogram (isInsideVolume: [−0.5, n − 0.5) on each axis). */
export function checkPicksInside(picks: readonly Pick[], shape: Shape3, file: string): void {
  const [nz, ny, nx] = shape;
  const outside: string[] = [];
  let count = 0;
  picks.forEach((p, i) => {
    if (isInsideVolume(p, shape)) return;
    count++;
    if (outside.length < LISTED) outside.push(`#${i + 1} (x ${p.x}, y ${p.y}, z ${p.z})`);
  });
  if (count > 0) {
    throw new CryosamError(
      `${count} of ${picks.length} picks lie outside the ${nx}×${ny}×${nz}-voxel tomogram (x×y×z): ${outside.join(', ')}${count > LISTED ? ', ...' : ''}; check the voxel size and coordinate pixel size`,
      file,
    );
  }
}
