/**
 * Non-maximum suppression on a matching level's cell grid: accept candidates in descending
 * similarity and suppress every cell within the particle radius of an accepted one, so each
 * particle yields one peak.
 */

export interface Peak {
  /** Voxel position of the peak (centre of its cell). */
  x: number;
  y: number;
  z: number;
  score: number;
}

/** The grid of one matching level: cells of `ratio`³ voxels over a tomogram of `shape`. */
export interface LevelGrid {
  ratio: number;
  dims: [number, number, number];
  shape: readonly [number, number, number];
}

export function levelGrid(shape: readonly [number, number, number], ratio: number): LevelGrid {
  return { ratio, shape, dims: [Math.ceil(shape[0] / ratio), Math.ceil(shape[1] / ratio), Math.ceil(shape[2] / ratio)] };
}

/** Voxel block [lo, hi) of cell index i along a dimension of length n. */
export function cellSpan(i: number, ratio: number, n: number): [number, number] {
  return [i * ratio, Math.min(n, (i + 1) * ratio)];
}

/** Voxel centre of linear cell index `cell`. */
export function cellCentre(g: LevelGrid, cell: number): { x: number; y: number; z: number } {
  const [, gy, gx] = g.dims;
  const cx = cell % gx, t = (cell - cx) / gx, cy = t % gy, cz = (t - cy) / gy;
  const mid = (i: number, n: number) => {
    const [lo, hi] = cellSpan(i, g.ratio, n);
    return (lo + hi - 1) / 2;
  };
  return { z: mid(cz, g.shape[0]), y: mid(cy, g.shape[1]), x: mid(cx, g.shape[2]) };
}

/**
 * @param cells linear cell indices of the candidates; scores their similarities.
 * @param radius suppression radius in voxels.
 * @returns peaks in descending score order.
 */
export function nonMaximumSuppression(g: LevelGrid, cells: Int32Array, scores: Float32Array, radius: number): Peak[] {
  const [gz, gy, gx] = g.dims;
  const order = Array.from(cells.keys()).sort((a, b) => scores[b] - scores[a]);
  const suppressed = new Uint8Array(gz * gy * gx);
  const rc = radius / g.ratio;
  const R = Math.floor(rc);
  const peaks: Peak[] = [];
  for (const k of order) {
    const cell = cells[k];
    if (suppressed[cell]) continue;
    const c = cellCentre(g, cell);
    peaks.push({ ...c, score: scores[k] });
    const cx = cell % gx, t = (cell - cx) / gx, cy = t % gy, cz = (t - cy) / gy;
    for (let dz = -R; dz <= R; dz++) {
      const z = cz + dz;
      if (z < 0 || z >= gz) continue;
      for (let dy = -R; dy <= R; dy++) {
        const y = cy + dy;
        if (y < 0 || y >= gy) continue;
        for (let dx = -R; dx <= R; dx++) {
          const x = cx + dx;
          if (x < 0 || x >= gx || dz * dz + dy * dy + dx * dx > rc * rc) continue;
          suppressed[(z * gy + y) * gx + x] = 1;
        }
      }
    }
  }
  return peaks;
}
