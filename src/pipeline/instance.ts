/**
 * Building particle masks: a particle's voxels are collected as cropped 2D slice masks during the
 * walk and only painted into a 3D array the size of the particle's bounding box.
 */
import { sliceToVoxel } from '../volume/slice.js';
import type { Axis, Shape3 } from '../volume/volume.js';
import type { ParticleMask, VoxelPoint } from './types.js';

/** A slice mask cropped to its bounding box: rows [r0, r1) × cols [c0, c1) of slice `index` along `axis`. */
export interface SliceMaskPiece {
  axis: Axis;
  index: number;
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  data: Uint8Array;
}

/** Crops a full slice mask (height × width) to its bounding box; undefined when empty. */
export function cropSliceMask(axis: Axis, index: number, mask: Uint8Array, height: number, width: number): SliceMaskPiece | undefined {
  let r0 = height, r1 = -1, c0 = width, c1 = -1;
  for (let r = 0; r < height; r++) {
    const row = r * width;
    for (let c = 0; c < width; c++) {
      if (mask[row + c]) {
        if (r < r0) r0 = r;
        if (r > r1) r1 = r;
        if (c < c0) c0 = c;
        if (c > c1) c1 = c;
      }
    }
  }
  if (r1 < 0) return undefined;
  const w = c1 - c0 + 1;
  const data = new Uint8Array((r1 - r0 + 1) * w);
  for (let r = r0; r <= r1; r++) data.set(mask.subarray(r * width + c0, r * width + c1 + 1), (r - r0) * w);
  return { axis, index, r0, r1: r1 + 1, c0, c1: c1 + 1, data };
}

/** Voxel (z, y, x) of slice pixel (row, col) of slice `index` along `axis`. */
function toVoxel(axis: Axis, index: number, row: number, col: number): [number, number, number] {
  const v = sliceToVoxel(axis, index, row, col);
  return [v.z, v.y, v.x];
}

/** The union of slice mask pieces as one particle mask in its bounding box. */
export function unionMask(pieces: SliceMaskPiece[]): ParticleMask | undefined {
  if (pieces.length === 0) return undefined;
  let z0 = Infinity, y0 = Infinity, x0 = Infinity, z1 = -Infinity, y1 = -Infinity, x1 = -Infinity;
  for (const p of pieces) {
    const [a0, b0, e0] = toVoxel(p.axis, p.index, p.r0, p.c0);
    const [a1, b1, e1] = toVoxel(p.axis, p.index + 1, p.r1, p.c1);
    z0 = Math.min(z0, a0); y0 = Math.min(y0, b0); x0 = Math.min(x0, e0);
    z1 = Math.max(z1, a1); y1 = Math.max(y1, b1); x1 = Math.max(x1, e1);
  }
  const ny = y1 - y0, nx = x1 - x0;
  const mask = new Uint8Array((z1 - z0) * ny * nx);
  for (const p of pieces) {
    const w = p.c1 - p.c0;
    for (let r = p.r0; r < p.r1; r++) {
      for (let c = p.c0; c < p.c1; c++) {
        if (!p.data[(r - p.r0) * w + (c - p.c0)]) continue;
        const [z, y, x] = toVoxel(p.axis, p.index, r, c);
        mask[((z - z0) * ny + (y - y0)) * nx + (x - x0)] = 1;
      }
    }
  }
  return fromBoxMask({ z0, z1, y0, y1, x0, x1 }, mask);
}

/** Completes a ParticleMask (voxel count, centroid) from its bbox and bbox-local mask. */
export function fromBoxMask(bbox: ParticleMask['bbox'], mask: Uint8Array): ParticleMask {
  const ny = bbox.y1 - bbox.y0, nx = bbox.x1 - bbox.x0;
  let n = 0, sz = 0, sy = 0, sx = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % nx, t = (i - x) / nx, y = t % ny, z = (t - y) / ny;
    n++; sz += z; sy += y; sx += x;
  }
  const centroid: VoxelPoint = n
    ? { x: bbox.x0 + sx / n, y: bbox.y0 + sy / n, z: bbox.z0 + sz / n }
    : { x: (bbox.x0 + bbox.x1 - 1) / 2, y: (bbox.y0 + bbox.y1 - 1) / 2, z: (bbox.z0 + bbox.z1 - 1) / 2 };
  return { bbox, mask, voxels: n, centroid };
}

/** A one-voxel mask at a point: what a prompt yields when no plane gives a mask. */
export function pointMask(p: VoxelPoint, shape: Shape3): ParticleMask {
  const z = clampRound(p.z, shape[0]), y = clampRound(p.y, shape[1]), x = clampRound(p.x, shape[2]);
  return fromBoxMask({ z0: z, z1: z + 1, y0: y, y1: y + 1, x0: x, x1: x + 1 }, new Uint8Array([1]));
}

function clampRound(v: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.round(v)));
}

/** Whether the voxel nearest to p lies inside the mask. */
export function maskContains(inst: ParticleMask, p: VoxelPoint): boolean {
  const z = Math.round(p.z), y = Math.round(p.y), x = Math.round(p.x);
  const b = inst.bbox;
  if (z < b.z0 || z >= b.z1 || y < b.y0 || y >= b.y1 || x < b.x0 || x >= b.x1) return false;
  return inst.mask[((z - b.z0) * (b.y1 - b.y0) + (y - b.y0)) * (b.x1 - b.x0) + (x - b.x0)] === 1;
}

/** Radius in voxels of the sphere with the instance's volume. */
export function equivalentRadius(voxels: number): number {
  return Math.cbrt((3 * voxels) / (4 * Math.PI));
}

/**
 * The mask with the voxels already owned by `earlier` masks removed, so that instances are
 * disjoint (the earlier, better-ranked particle keeps a shared voxel). Clears those voxels in
 * `mask.mask` and returns the updated mask (the same object when nothing overlapped).
 */
export function withoutOverlaps(mask: ParticleMask, earlier: readonly ParticleMask[]): ParticleMask {
  const b = mask.bbox;
  const by = b.y1 - b.y0, bx = b.x1 - b.x0;
  let changed = false;
  for (const o of earlier) {
    const z0 = Math.max(b.z0, o.bbox.z0), z1 = Math.min(b.z1, o.bbox.z1);
    const y0 = Math.max(b.y0, o.bbox.y0), y1 = Math.min(b.y1, o.bbox.y1);
    const x0 = Math.max(b.x0, o.bbox.x0), x1 = Math.min(b.x1, o.bbox.x1);
    if (z0 >= z1 || y0 >= y1 || x0 >= x1) continue;
    const oy = o.bbox.y1 - o.bbox.y0, ox = o.bbox.x1 - o.bbox.x0;
    for (let z = z0; z < z1; z++)
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const i = ((z - b.z0) * by + (y - b.y0)) * bx + (x - b.x0);
          if (mask.mask[i] && o.mask[((z - o.bbox.z0) * oy + (y - o.bbox.y0)) * ox + (x - o.bbox.x0)]) {
            mask.mask[i] = 0;
            changed = true;
          }
        }
  }
  return changed ? fromBoxMask(mask.bbox, mask.mask) : mask;
}

/** The union of two masks, in the box that holds both. */
export function mergeMasks(a: ParticleMask, b: ParticleMask): ParticleMask {
  const bbox = {
    z0: Math.min(a.bbox.z0, b.bbox.z0), z1: Math.max(a.bbox.z1, b.bbox.z1),
    y0: Math.min(a.bbox.y0, b.bbox.y0), y1: Math.max(a.bbox.y1, b.bbox.y1),
    x0: Math.min(a.bbox.x0, b.bbox.x0), x1: Math.max(a.bbox.x1, b.bbox.x1),
  };
  const by = bbox.y1 - bbox.y0, bx = bbox.x1 - bbox.x0;
  const mask = new Uint8Array((bbox.z1 - bbox.z0) * by * bx);
  for (const m of [a, b]) {
    const my = m.bbox.y1 - m.bbox.y0, mx = m.bbox.x1 - m.bbox.x0;
    for (let z = m.bbox.z0; z < m.bbox.z1; z++)
      for (let y = m.bbox.y0; y < m.bbox.y1; y++)
        for (let x = m.bbox.x0; x < m.bbox.x1; x++)
          if (m.mask[((z - m.bbox.z0) * my + (y - m.bbox.y0)) * mx + (x - m.bbox.x0)]) mask[((z - bbox.z0) * by + (y - bbox.y0)) * bx + (x - bbox.x0)] = 1;
  }
  return fromBoxMask(bbox, mask);
}
