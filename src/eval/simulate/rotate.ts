/**
 * Random 3D orientations and the rotation of a density map into a small box around its new
 * position, by trilinear interpolation about the map centre. Only that box is ever allocated.
 */
import { trilinearCell } from '../../volume/interpolate.js';
import type { Rng } from './rng.js';
import type { DensityTemplate } from './template.js';

/** Unit quaternion [w, x, y, z]. */
export type Quaternion = readonly [number, number, number, number];

/** A uniformly distributed random rotation (Shoemake's method: uniform on the unit 3-sphere). */
export function randomRotation(rng: Rng): Quaternion {
  const u1 = rng.uniform();
  const a = 2 * Math.PI * rng.uniform();
  const b = 2 * Math.PI * rng.uniform();
  const s1 = Math.sqrt(1 - u1);
  const s2 = Math.sqrt(u1);
  return [s2 * Math.cos(b), s1 * Math.sin(a), s1 * Math.cos(a), s2 * Math.sin(b)];
}

/** Row-major 3×3 matrix acting on column vectors (x, y, z). */
export function rotationMatrix(q: Quaternion): Float64Array {
  const [w, x, y, z] = q;
  return Float64Array.of(
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  );
}

/** A rotated map in a box of the tomogram's grid: box voxel (i, j, k) is tomogram voxel origin + (i, j, k). */
export interface RotatedBox {
  data: Float32Array;
  /** Box size (nz, ny, nx). */
  shape: [number, number, number];
  /** Tomogram voxel of box voxel (0, 0, 0), as [z, y, x]. */
  origin: [number, number, number];
}

/**
 * Rotates `template` by `rotation` about its centre and places that centre at `centre` (tomogram
 * voxels, sub-voxel positions allowed). `voxelRatio` = map voxel size / tomogram voxel size scales
 * the map onto the tomogram grid. Each box voxel pulls its value from the map (inverse mapping),
 * so the result has no holes; density beyond the template's support radius is left out.
 */
export function rotateTemplate(
  template: DensityTemplate,
  rotation: Quaternion,
  centre: { x: number; y: number; z: number },
  voxelRatio = 1,
): RotatedBox {
  const r = template.supportRadius * voxelRatio + 1;
  const origin: [number, number, number] = [
    Math.floor(centre.z - r),
    Math.floor(centre.y - r),
    Math.floor(centre.x - r),
  ];
  const shape: [number, number, number] = [
    Math.ceil(centre.z + r) - origin[0] + 1,
    Math.ceil(centre.y + r) - origin[1] + 1,
    Math.ceil(centre.x + r) - origin[2] + 1,
  ];
  const [bz, by, bx] = shape;
  const data = new Float32Array(bz * by * bx);
  // Map coordinate = Rᵀ · (p − centre) / ratio + map centre, with p a box voxel in tomogram voxels.
  const m = rotationMatrix(rotation);
  const inv = 1 / voxelRatio;
  const [mz, my, mx] = template.shape;
  const mcx = (mx - 1) / 2, mcy = (my - 1) / 2, mcz = (mz - 1) / 2;
  const r2 = r * r;
  const src = template.data;
  const plane = my * mx;
  for (let k = 0, i = 0; k < bz; k++) {
    const pz = origin[0] + k - centre.z;
    for (let j = 0; j < by; j++) {
      const py = origin[1] + j - centre.y;
      for (let l = 0; l < bx; l++, i++) {
        const px = origin[2] + l - centre.x;
        if (px * px + py * py + pz * pz > r2) continue;
        const x = (m[0] * px + m[3] * py + m[6] * pz) * inv + mcx;
        const y = (m[1] * px + m[4] * py + m[7] * pz) * inv + mcy;
        const z = (m[2] * px + m[5] * py + m[8] * pz) * inv + mcz;
        const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
        if (x0 < 0 || y0 < 0 || z0 < 0 || x0 >= mx - 1 || y0 >= my - 1 || z0 >= mz - 1) continue;
        data[i] = trilinearCell(src, (z0 * my + y0) * mx + x0, mx, plane, z - z0, y - y0, x - x0);
      }
    }
  }
  return { data, shape, origin };
}
