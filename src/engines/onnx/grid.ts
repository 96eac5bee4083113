/** Turning encoder outputs into channel-last FeatureGrids cropped to the part that covers the slice. */
import type { FeatureGrid } from '../types.js';
import type { FrameGeometry } from './transforms.js';

/** Grid cells (rows, cols) that cover the resized slice when the frame is cut into cells of `cell` frame pixels. */
export function coveredCells(g: FrameGeometry, cell: number): { rows: number; cols: number } {
  return { rows: Math.ceil(g.resizedHeight / cell), cols: Math.ceil(g.resizedWidth / cell) };
}

/**
 * Copies rows × cols cells out of a grid stored as `at(row, col, ch)` into a channel-last
 * FeatureGrid. stride (slice pixels per cell) = cell size in frame pixels / frame scale.
 */
export function toFeatureGrid(
  at: (row: number, col: number, ch: number) => number,
  channels: number,
  g: FrameGeometry,
  cell: number,
  l2normalize: boolean,
): FeatureGrid {
  const { rows, cols } = coveredCells(g, cell);
  const data = new Float32Array(rows * cols * channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const off = (r * cols + c) * channels;
      let norm = 0;
      for (let k = 0; k < channels; k++) {
        const v = at(r, c, k);
        data[off + k] = v;
        norm += v * v;
      }
      if (l2normalize && norm > 0) {
        const inv = 1 / Math.sqrt(norm);
        for (let k = 0; k < channels; k++) data[off + k] *= inv;
      }
    }
  }
  return { data, height: rows, width: cols, channels, stride: cell / g.scale };
}
