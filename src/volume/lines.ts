/**
 * Separable filters see any array as [outer, n, inner]: element (o, i, j) at (o * n + i) * inner + j,
 * filtered along i. A (z, y, x) volume along z is [1, nz, ny*nx], along y [nz, ny, nx], along x
 * [nz*ny, nx, 1]; a 2D slice along rows is [1, h, w], along columns [h, w, 1].
 */
export interface LineLayout {
  outer: number;
  n: number;
  inner: number;
}

/** Layout of a C-ordered array of `dims` seen along dimension `d`. */
export function lineLayout(dims: readonly number[], d: number): LineLayout {
  let outer = 1;
  let inner = 1;
  for (let k = 0; k < d; k++) outer *= dims[k];
  for (let k = d + 1; k < dims.length; k++) inner *= dims[k];
  return { outer, n: dims[d], inner };
}

/** Index of position i in a line of length n under half-sample symmetric reflection (d c b a | a b c d | d c b a). */
export function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}
