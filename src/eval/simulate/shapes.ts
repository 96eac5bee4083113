/**
 * Non-protein objects of a cellular tomogram drawn as anti-aliased spherical shells: membrane
 * vesicles (a hollow shell a few nm thick) and gold fiducials (a shell with mid-radius 0 is a ball).
 */
import type { Shape3 } from '../../volume/volume.js';

/**
 * Adds `density` to every voxel within `halfThickness` of the sphere of radius `midRadius` around
 * `centre` (voxels). The edge is linear over one voxel, so the shell's volume does not jump with
 * sub-voxel shifts. Parts outside the volume are clipped.
 */
export function drawSphericalShell(
  target: Float32Array,
  shape: Shape3,
  centre: { x: number; y: number; z: number },
  midRadius: number,
  halfThickness: number,
  density: number,
): void {
  const [nz, ny, nx] = shape;
  const outer = midRadius + halfThickness + 0.5;
  const z0 = Math.max(0, Math.floor(centre.z - outer)), z1 = Math.min(nz - 1, Math.ceil(centre.z + outer));
  const y0 = Math.max(0, Math.floor(centre.y - outer)), y1 = Math.min(ny - 1, Math.ceil(centre.y + outer));
  const x0 = Math.max(0, Math.floor(centre.x - outer)), x1 = Math.min(nx - 1, Math.ceil(centre.x + outer));
  for (let z = z0; z <= z1; z++) {
    const dz2 = (z - centre.z) ** 2;
    for (let y = y0; y <= y1; y++) {
      const dzy2 = dz2 + (y - centre.y) ** 2;
      const row = (z * ny + y) * nx;
      for (let x = x0; x <= x1; x++) {
        const d = Math.sqrt(dzy2 + (x - centre.x) ** 2);
        const cover = halfThickness + 0.5 - Math.abs(d - midRadius);
        if (cover > 0) target[row + x] += density * Math.min(1, cover);
      }
    }
  }
}
