/**
 * The local orientation of density: the gradient structure tensor in a ball, and the eigenvectors
 * of a symmetric 3×3 matrix. Across a filament the density changes in the two directions
 * perpendicular to its axis and not along it; across a membrane only along its normal.
 */
import type { Vec3 } from './cross-section.js';
import type { Volume } from './volume.js';

/** Eigenvalues (descending) and unit eigenvectors of a symmetric 3×3 matrix [xx, yy, zz, xy, xz, yz], by Jacobi rotations. */
export function symmetricEigen3(m: readonly number[]): { values: [number, number, number]; vectors: [Vec3, Vec3, Vec3] } {
  const a = [
    [m[0], m[3], m[4]],
    [m[3], m[1], m[5]],
    [m[4], m[5], m[2]],
  ];
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < 3; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 3; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  const vec = (i: number): Vec3 => ({ x: v[0][i], y: v[1][i], z: v[2][i] });
  return {
    values: [a[order[0]][order[0]], a[order[1]][order[1]], a[order[2]][order[2]]],
    vectors: [vec(order[0]), vec(order[1]), vec(order[2])],
  };
}

/**
 * The gradient structure tensor of the volume in a ball of `radius` voxels around `centre`
 * (central differences, Gaussian weights of σ = radius / 2), as [xx, yy, zz, xy, xz, yz].
 */
export function structureTensor(volume: Volume, centre: Vec3, radius: number): number[] {
  const [nz, ny, nx] = volume.shape;
  const d = volume.data;
  const t = [0, 0, 0, 0, 0, 0];
  const R = Math.ceil(radius);
  const cx = Math.round(centre.x), cy = Math.round(centre.y), cz = Math.round(centre.z);
  const s2 = 2 * (radius / 2) ** 2;
  for (let z = Math.max(1, cz - R); z <= Math.min(nz - 2, cz + R); z++) {
    for (let y = Math.max(1, cy - R); y <= Math.min(ny - 2, cy + R); y++) {
      for (let x = Math.max(1, cx - R); x <= Math.min(nx - 2, cx + R); x++) {
        const r2 = (x - centre.x) ** 2 + (y - centre.y) ** 2 + (z - centre.z) ** 2;
        if (r2 > radius * radius) continue;
        const w = Math.exp(-r2 / s2);
        const i = (z * ny + y) * nx + x;
        const gx = (d[i + 1] - d[i - 1]) / 2, gy = (d[i + nx] - d[i - nx]) / 2, gz = (d[i + nx * ny] - d[i - nx * ny]) / 2;
        t[0] += w * gx * gx;
        t[1] += w * gy * gy;
        t[2] += w * gz * gz;
        t[3] += w * gx * gy;
        t[4] += w * gx * gz;
        t[5] += w * gy * gz;
      }
    }
  }
  return t;
}
