/**
 * Binary-region operations on a small row-major window (a few hundred pixels across at most):
 * connected components, hole filling, chamfer distances, marker watershed and shape regularity.
 * Everything is 4-connected, which keeps thin noise bridges from joining regions.
 */

/** Stack-based flood fill: marks in `out` (set to 1) the 4-connected pixels with `allowed[i]` reachable from `seeds`. */
export function floodFill(allowed: Uint8Array, h: number, w: number, seeds: readonly number[], out: Uint8Array): number {
  out.fill(0);
  const stack: number[] = [];
  for (const s of seeds) {
    if (allowed[s] && !out[s]) {
      out[s] = 1;
      stack.push(s);
    }
  }
  let count = stack.length;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const r = (i / w) | 0;
    const c = i - r * w;
    if (c > 0 && allowed[i - 1] && !out[i - 1]) (out[i - 1] = 1), stack.push(i - 1), count++;
    if (c < w - 1 && allowed[i + 1] && !out[i + 1]) (out[i + 1] = 1), stack.push(i + 1), count++;
    if (r > 0 && allowed[i - w] && !out[i - w]) (out[i - w] = 1), stack.push(i - w), count++;
    if (r < h - 1 && allowed[i + w] && !out[i + w]) (out[i + w] = 1), stack.push(i + w), count++;
  }
  return count;
}

/** Labels the 4-connected components of `binary` 1, 2, … (at most 255; further ones stay 0). */
export function labelComponents(binary: Uint8Array, h: number, w: number): { labels: Uint8Array; count: number } {
  const labels = new Uint8Array(binary.length);
  const one = new Uint8Array(binary.length);
  let count = 0;
  for (let i = 0; i < binary.length && count < 255; i++) {
    if (!binary[i] || labels[i]) continue;
    count++;
    floodFill(binary, h, w, [i], one);
    for (let j = 0; j < one.length; j++) if (one[j]) labels[j] = count;
  }
  return { labels, count };
}

/** Fills background regions of `mask` that do not reach the window border (in place). */
export function fillHoles(mask: Uint8Array, h: number, w: number): void {
  const background = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) background[i] = mask[i] ? 0 : 1;
  const border: number[] = [];
  for (let c = 0; c < w; c++) border.push(c, (h - 1) * w + c);
  for (let r = 1; r < h - 1; r++) border.push(r * w, r * w + w - 1);
  const outside = new Uint8Array(mask.length);
  floodFill(background, h, w, border, outside);
  for (let i = 0; i < mask.length; i++) if (!outside[i]) mask[i] = 1;
}

/**
 * Chamfer (3-4) distance in pixels from every pixel to the nearest pixel where `mask[i] === target`
 * (0 on those pixels). Pixels beyond the window are not targets.
 */
export function chamferDistance(mask: Uint8Array, h: number, w: number, target: 0 | 1, out: Float32Array): void {
  const far = 3 * (h + w);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] === target ? 0 : far;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      let d = out[i];
      if (d === 0) continue;
      if (c > 0) d = Math.min(d, out[i - 1] + 3);
      if (r > 0) {
        d = Math.min(d, out[i - w] + 3);
        if (c > 0) d = Math.min(d, out[i - w - 1] + 4);
        if (c < w - 1) d = Math.min(d, out[i - w + 1] + 4);
      }
      out[i] = d;
    }
  }
  for (let r = h - 1; r >= 0; r--) {
    for (let c = w - 1; c >= 0; c--) {
      const i = r * w + c;
      let d = out[i];
      if (d === 0) continue;
      if (c < w - 1) d = Math.min(d, out[i + 1] + 3);
      if (r < h - 1) {
        d = Math.min(d, out[i + w] + 3);
        if (c < w - 1) d = Math.min(d, out[i + w + 1] + 4);
        if (c > 0) d = Math.min(d, out[i + w - 1] + 4);
      }
      out[i] = d;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= 3;
}

/**
 * Marker-controlled watershed on the "height" −value inside `region`: labelled markers grow into
 * pixels in order of decreasing value, so two touching blobs split along their lowest-value neck. Returns labels
 * (0 = unreached), `markers` maps pixel → label (> 0).
 */
export function watershed(
  value: Float32Array,
  region: Uint8Array,
  h: number,
  w: number,
  markers: ReadonlyMap<number, number>,
  levels = 64,
): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < value.length; i++) {
    if (!region[i]) continue;
    lo = Math.min(lo, value[i]);
    hi = Math.max(hi, value[i]);
  }
  const step = hi > lo ? (hi - lo) / (levels - 1) : 1;
  const level = (i: number): number => Math.round((hi - value[i]) / step);
  const buckets: number[][] = Array.from({ length: levels }, () => []);
  const labels = new Uint8Array(value.length);
  for (const [i, label] of markers) {
    if (!region[i] || labels[i]) continue;
    labels[i] = label;
    // Markers start flooding at once, whatever their own value: a marker on a noise dip still owns its blob.
    buckets[0].push(i);
  }
  for (let b = 0; b < levels; b++) {
    const bucket = buckets[b];
    // Buckets of the current level may grow while being drained (plateaus).
    for (let k = 0; k < bucket.length; k++) {
      const i = bucket[k];
      const r = (i / w) | 0;
      const c = i - r * w;
      const visit = (j: number): void => {
        if (!region[j] || labels[j]) return;
        labels[j] = labels[i];
        buckets[Math.max(b, level(j))].push(j);
      };
      if (c > 0) visit(i - 1);
      if (c < w - 1) visit(i + 1);
      if (r > 0) visit(i - w);
      if (r < h - 1) visit(i + w);
    }
  }
  return labels;
}

/**
 * How ellipse-like a region is: IoU between the mask and the ellipse of equal area and equal second
 * moments (1 for a disc or an elongated, missing-wedge-stretched ellipse; low for leaks and tendrils).
 */
export function ellipseRegularity(mask: Uint8Array, h: number, w: number): number {
  let n = 0;
  let sr = 0;
  let sc = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const r = (i / w) | 0;
    sr += r;
    sc += i - r * w;
    n++;
  }
  if (n < 3) return 0;
  const mr = sr / n;
  const mc = sc / n;
  let vrr = 0;
  let vcc = 0;
  let vrc = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const dr = ((i / w) | 0) - mr;
    const dc = (i % w) - mc;
    vrr += dr * dr;
    vcc += dc * dc;
    vrc += dr * dc;
  }
  // Pixel quantisation adds 1/12 to each variance; it keeps 1-pixel-wide lines from being singular.
  vrr = vrr / n + 1 / 12;
  vcc = vcc / n + 1 / 12;
  vrc /= n;
  const det = vrr * vcc - vrc * vrc;
  // Points inside the equal-area ellipse: dᵀ Σ⁻¹ d ≤ 4k² with k² = n / (4π√det).
  const limit = n / (Math.PI * Math.sqrt(det));
  let inside = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const dr = ((i / w) | 0) - mr;
    const dc = (i % w) - mc;
    if ((vcc * dr * dr - 2 * vrc * dr * dc + vrr * dc * dc) / det <= limit) inside++;
  }
  return inside / (2 * n - inside);
}
