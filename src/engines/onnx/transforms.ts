/**
 * Geometry shared by the image encoders (after segment-anything's ResizeLongestSide): a slice is
 * resized so its longest side equals the encoder's input side, placed at the top-left corner and
 * padded bottom/right. Points, low-res logits and feature grids map between slice pixels and that
 * frame here, and nowhere else.
 */

export interface FrameGeometry {
  /** Slice size in pixels. */
  height: number;
  width: number;
  /** Encoder input side S (the padded frame is S×S). */
  side: number;
  /** Size of the resized slice inside the frame. */
  resizedHeight: number;
  resizedWidth: number;
  /** Frame pixels per slice pixel (S / longest slice side). */
  scale: number;
}

/** As segment-anything: scale = S / max(h, w), new size = round(size * scale). */
export function frameGeometry(height: number, width: number, side: number): FrameGeometry {
  const scale = side / Math.max(height, width);
  return {
    height,
    width,
    side,
    resizedHeight: Math.min(side, Math.floor(height * scale + 0.5)),
    resizedWidth: Math.min(side, Math.floor(width * scale + 0.5)),
    scale,
  };
}

/** A slice point in the encoder frame (segment-anything's apply_coords: plain scaling). */
export function toFrame(x: number, y: number, g: FrameGeometry): { x: number; y: number } {
  return { x: x * (g.resizedWidth / g.width), y: y * (g.resizedHeight / g.height) };
}

/** Inverse of toFrame. */
export function fromFrame(x: number, y: number, g: FrameGeometry): { x: number; y: number } {
  return { x: x * (g.width / g.resizedWidth), y: y * (g.height / g.resizedHeight) };
}

/**
 * Separable linear resampling with a triangle filter widened by the reduction factor when
 * shrinking (antialiased, like PIL's bilinear), plain bilinear when enlarging. Pixel centres are
 * aligned (align_corners = false).
 */
export function resample(src: Float32Array, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  if (outHeight === height && outWidth === width) return src.slice();
  const rows = filterTaps(height, outHeight);
  const cols = filterTaps(width, outWidth);
  // Horizontal pass first: height × outWidth.
  const tmp = new Float32Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    const rowOff = y * width;
    for (let x = 0; x < outWidth; x++) {
      let acc = 0;
      for (let t = cols.start[x], k = cols.offset[x]; k < cols.offset[x + 1]; k++, t++) acc += src[rowOff + t] * cols.weight[k];
      tmp[y * outWidth + x] = acc;
    }
  }
  const out = new Float32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const outOff = y * outWidth;
    for (let t = rows.start[y], k = rows.offset[y]; k < rows.offset[y + 1]; k++, t++) {
      const w = rows.weight[k];
      const tmpOff = t * outWidth;
      for (let x = 0; x < outWidth; x++) out[outOff + x] += tmp[tmpOff + x] * w;
    }
  }
  return out;
}

interface Taps {
  start: Int32Array;
  offset: Int32Array;
  weight: Float32Array;
}

function filterTaps(inSize: number, outSize: number): Taps {
  const ratio = inSize / outSize;
  const support = Math.max(1, ratio);
  const start = new Int32Array(outSize);
  const offset = new Int32Array(outSize + 1);
  const weights: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * ratio - 0.5;
    const lo = Math.max(0, Math.ceil(centre - support));
    const hi = Math.min(inSize - 1, Math.floor(centre + support));
    let total = 0;
    const first = weights.length;
    for (let i = lo; i <= hi; i++) {
      const w = Math.max(0, 1 - Math.abs(i - centre) / support);
      weights.push(w);
      total += w;
    }
    if (total === 0) {
      // Output centre outside the input (edge of an enlargement): copy the nearest pixel.
      weights.length = first;
      const nearest = Math.min(inSize - 1, Math.max(0, Math.round(centre)));
      start[o] = nearest;
      weights.push(1);
    } else {
      start[o] = lo;
      for (let k = first; k < weights.length; k++) weights[k] /= total;
    }
    offset[o + 1] = weights.length;
  }
  return { start, offset, weight: Float32Array.from(weights) };
}

/** Per-channel affine map from a grey value v to the model's input value: a[c] * v + b[c]. */
export interface ChannelMap {
  scale: readonly [number, number, number];
  offset: readonly [number, number, number];
}

/** The map for "(v - mean) / std" per channel. */
export function normalization(mean: readonly number[], std: readonly number[]): ChannelMap {
  return {
    scale: [1 / std[0], 1 / std[1], 1 / std[2]],
    offset: [-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2]],
  };
}

/**
 * Packs resized grey slices into one [B, 3, S, S] tensor: the grey image is replicated to three
 * channels through the per-channel map, and the bottom/right padding of image b gets padValue(b)[c]
 * (already in model units).
 */
export function packNchw(
  images: readonly Float32Array[],
  geometries: readonly FrameGeometry[],
  map: ChannelMap,
  padValue: (b: number) => readonly [number, number, number],
): Float32Array {
  const side = geometries[0].side;
  const plane = side * side;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, b) => {
    const g = geometries[b];
    const pad = padValue(b);
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      out.fill(pad[c], base, base + plane);
      const a = map.scale[c];
      const o = map.offset[c];
      for (let y = 0; y < g.resizedHeight; y++) {
        const src = y * g.resizedWidth;
        const dst = base + y * side;
        for (let x = 0; x < g.resizedWidth; x++) out[dst + x] = a * img[src + x] + o;
      }
    }
  });
  return out;
}

/** One resized grey slice as an unpadded [h, w, 3] tensor (exports that pad and normalise inside the graph). */
export function packHwc(image: Float32Array, g: FrameGeometry, map: ChannelMap): Float32Array {
  const n = g.resizedHeight * g.resizedWidth;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = map.scale[c] * image[i] + map.offset[c];
  }
  return out;
}

/**
 * Low-res logits (lowSize × lowSize over the padded S×S frame) sampled back at every slice pixel:
 * segment-anything's postprocess_masks (upscale to S, crop the padding, resize to the slice) done as
 * one bilinear lookup per slice pixel.
 */
export function lowResToSlice(logits: Float32Array, lowSize: number, g: FrameGeometry): Float32Array {
  const out = new Float32Array(g.height * g.width);
  const lowPerFrame = lowSize / g.side;
  const fy = g.resizedHeight / g.height;
  const fx = g.resizedWidth / g.width;
  const xs0 = new Int32Array(g.width);
  const xs1 = new Int32Array(g.width);
  const wx = new Float32Array(g.width);
  for (let x = 0; x < g.width; x++) {
    const lx = clamp(((x + 0.5) * fx) * lowPerFrame - 0.5, 0, lowSize - 1);
    xs0[x] = Math.floor(lx);
    xs1[x] = Math.min(lowSize - 1, xs0[x] + 1);
    wx[x] = lx - xs0[x];
  }
  for (let y = 0; y < g.height; y++) {
    const ly = clamp(((y + 0.5) * fy) * lowPerFrame - 0.5, 0, lowSize - 1);
    const y0 = Math.floor(ly);
    const y1 = Math.min(lowSize - 1, y0 + 1);
    const wy = ly - y0;
    const r0 = y0 * lowSize;
    const r1 = y1 * lowSize;
    for (let x = 0; x < g.width; x++) {
      const top = logits[r0 + xs0[x]] * (1 - wx[x]) + logits[r0 + xs1[x]] * wx[x];
      const bottom = logits[r1 + xs0[x]] * (1 - wx[x]) + logits[r1 + xs1[x]] * wx[x];
      out[y * g.width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/**
 * The most confident point: the low-res cell with the highest logit whose centre falls inside the
 * mask, mapped to slice pixels. Falls back to the best cell over the whole slice when the mask is
 * empty.
 */
export function bestPoint(logits: Float32Array, lowSize: number, g: FrameGeometry, mask: Uint8Array): { x: number; y: number } {
  const framePerLow = g.side / lowSize;
  let best = -Infinity;
  let bestAnywhere = -Infinity;
  let point = { x: 0, y: 0 };
  let pointAnywhere = { x: 0, y: 0 };
  const rows = Math.ceil(g.resizedHeight / framePerLow);
  const cols = Math.ceil(g.resizedWidth / framePerLow);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const p = fromFrame((j + 0.5) * framePerLow, (i + 0.5) * framePerLow, g);
      const x = Math.min(g.width - 1, Math.max(0, Math.round(p.x)));
      const y = Math.min(g.height - 1, Math.max(0, Math.round(p.y)));
      const v = logits[i * lowSize + j];
      if (v > bestAnywhere) {
        bestAnywhere = v;
        pointAnywhere = { x, y };
      }
      if (mask[y * g.width + x] && v > best) {
        best = v;
        point = { x, y };
      }
    }
  }
  return best > -Infinity ? point : pointAnywhere;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
