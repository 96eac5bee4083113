/**
 * Complex FFT of any length on Float64 typed arrays: a self-sorting (Stockham) mixed-radix
 * transform with radix-4/2/3/5 butterflies and a plain DFT butterfly for other prime factors
 * (correct for every length, fast for lengths whose factors are 2, 3 and 5: see fastFftSize).
 *
 * A transform works on a batch of `width` interleaved lines: element i of line b sits at
 * i * width + b. Stockham's stride then starts at `width` instead of 1, so a batch costs no
 * more bookkeeping than one line and the innermost loops run over contiguous memory.
 */

interface Stage {
  radix: number;
  /** Twiddles exp(-2πi·j·t/len) for j < len/radix, t < radix, at [j * radix + t]. */
  cos: Float64Array;
  sin: Float64Array;
}

export class FftPlan {
  private readonly stages: Stage[] = [];
  private scratchRe = new Float64Array(0);
  private scratchIm = new Float64Array(0);

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
    let len = n;
    for (const radix of factorize(n)) {
      const m = len / radix;
      const cos = new Float64Array(m * radix);
      const sin = new Float64Array(m * radix);
      for (let j = 0; j < m; j++) {
        for (let t = 0; t < radix; t++) {
          const angle = (-2 * Math.PI * j * t) / len;
          cos[j * radix + t] = Math.cos(angle);
          sin[j * radix + t] = Math.sin(angle);
        }
      }
      this.stages.push({ radix, cos, sin });
      len = m;
    }
  }

  /**
   * In-place transform of `width` interleaved lines held in re/im (length n * width).
   * Forward: X_k = Σ x_j exp(-2πi jk/n). Inverse: the same with +i, divided by n.
   */
  transform(re: Float64Array, im: Float64Array, width = 1, inverse = false): void {
    const total = this.n * width;
    if (re.length < total || im.length < total) throw new RangeError('FFT buffers are shorter than n * width');
    if (this.scratchRe.length < total) {
      this.scratchRe = new Float64Array(total);
      this.scratchIm = new Float64Array(total);
    }
    let xr: Float64Array = re;
    let xi: Float64Array = im;
    let yr: Float64Array = this.scratchRe;
    let yi: Float64Array = this.scratchIm;
    const sign = inverse ? -1 : 1;
    let len = this.n;
    let stride = width;
    for (const stage of this.stages) {
      butterflyStage(stage, len, stride, sign, xr, xi, yr, yi);
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
      len /= stage.radix;
      stride *= stage.radix;
    }
    if (xr !== re) {
      re.set(xr.subarray(0, total));
      im.set(xi.subarray(0, total));
    }
    if (inverse) {
      const scale = 1 / this.n;
      for (let i = 0; i < total; i++) {
        re[i] *= scale;
        im[i] *= scale;
      }
    }
  }
}

/** Smallest length ≥ n whose only prime factors are 2, 3 and 5 (where this FFT is fastest). */
export function fastFftSize(n: number): number {
  for (let m = Math.max(1, n); ; m++) {
    let r = m;
    for (const p of [2, 3, 5]) while (r % p === 0) r /= p;
    if (r === 1) return m;
  }
}

/** Radices in the order the stages use them: 4s first (fewest passes), then 2, 3, 5, other primes. */
function factorize(n: number): number[] {
  const radices: number[] = [];
  let r = n;
  while (r % 4 === 0) {
    radices.push(4);
    r /= 4;
  }
  for (let p = 2; r > 1; p++) {
    while (r % p === 0) {
      radices.push(p);
      r /= p;
    }
    if (p * p > r && r > 1) {
      radices.push(r);
      r = 1;
    }
  }
  return radices;
}

/**
 * One decimation-in-frequency Stockham stage of radix p on a sub-transform length `len`:
 * y[q + s(p·j + t)] = w^{jt} · Σ_r x[q + s(j + r·m)] · ω_p^{rt}, with m = len / p and s the stride.
 * `sign` = -1 conjugates every exponential (inverse transform).
 */
function butterflyStage(
  stage: Stage,
  len: number,
  s: number,
  sign: number,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const p = stage.radix;
  const m = len / p;
  const { cos, sin } = stage;
  const ms = m * s;
  if (p === 4) {
    for (let j = 0; j < m; j++) {
      const w1r = cos[j * 4 + 1], w1i = sign * sin[j * 4 + 1];
      const w2r = cos[j * 4 + 2], w2i = sign * sin[j * 4 + 2];
      const w3r = cos[j * 4 + 3], w3i = sign * sin[j * 4 + 3];
      const xBase = s * j;
      const yBase = s * 4 * j;
      for (let q = 0; q < s; q++) {
        const i0 = xBase + q;
        const a0r = xr[i0], a0i = xi[i0];
        const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
        const a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms];
        const a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
        const s02r = a0r + a2r, s02i = a0i + a2i;
        const d02r = a0r - a2r, d02i = a0i - a2i;
        const s13r = a1r + a3r, s13i = a1i + a3i;
        // -i·sign·(a1 - a3)
        const d13r = sign * (a1i - a3i), d13i = -sign * (a1r - a3r);
        const o = yBase + q;
        yr[o] = s02r + s13r;
        yi[o] = s02i + s13i;
        let br = d02r + d13r, bi = d02i + d13i;
        yr[o + s] = br * w1r - bi * w1i;
        yi[o + s] = br * w1i + bi * w1r;
        br = s02r - s13r;
        bi = s02i - s13i;
        yr[o + 2 * s] = br * w2r - bi * w2i;
        yi[o + 2 * s] = br * w2i + bi * w2r;
        br = d02r - d13r;
        bi = d02i - d13i;
        yr[o + 3 * s] = br * w3r - bi * w3i;
        yi[o + 3 * s] = br * w3i + bi * w3r;
      }
    }
  } else if (p === 2) {
    for (let j = 0; j < m; j++) {
      const wr = cos[j * 2 + 1], wi = sign * sin[j * 2 + 1];
      const xBase = s * j;
      const yBase = s * 2 * j;
      for (let q = 0; q < s; q++) {
        const i0 = xBase + q;
        const a0r = xr[i0], a0i = xi[i0];
        const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
        const o = yBase + q;
        yr[o] = a0r + a1r;
        yi[o] = a0i + a1i;
        const br = a0r - a1r, bi = a0i - a1i;
        yr[o + s] = br * wr - bi * wi;
        yi[o + s] = br * wi + bi * wr;
      }
    }
  } else if (p === 3) {
    const c = -0.5;
    const sn = sign * (Math.sqrt(3) / 2);
    for (let j = 0; j < m; j++) {
      const w1r = cos[j * 3 + 1], w1i = sign * sin[j * 3 + 1];
      const w2r = cos[j * 3 + 2], w2i = sign * sin[j * 3 + 2];
      const xBase = s * j;
      const yBase = s * 3 * j;
      for (let q = 0; q < s; q++) {
        const i0 = xBase + q;
        const a0r = xr[i0], a0i = xi[i0];
        const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
        const a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms];
        const tr = a1r + a2r, ti = a1i + a2i;
        const mr = a0r + c * tr, mi = a0i + c * ti;
        // -i·sn·(a1 - a2)
        const dr = sn * (a1i - a2i), di = -sn * (a1r - a2r);
        const o = yBase + q;
        yr[o] = a0r + tr;
        yi[o] = a0i + ti;
        let br = mr + dr, bi = mi + di;
        yr[o + s] = br * w1r - bi * w1i;
        yi[o + s] = br * w1i + bi * w1r;
        br = mr - dr;
        bi = mi - di;
        yr[o + 2 * s] = br * w2r - bi * w2i;
        yi[o + 2 * s] = br * w2i + bi * w2r;
      }
    }
  } else if (p === 5) {
    const c1 = Math.cos((2 * Math.PI) / 5), c2 = Math.cos((4 * Math.PI) / 5);
    const s1 = sign * Math.sin((2 * Math.PI) / 5), s2 = sign * Math.sin((4 * Math.PI) / 5);
    for (let j = 0; j < m; j++) {
      const k = j * 5;
      const w1r = cos[k + 1], w1i = sign * sin[k + 1];
      const w2r = cos[k + 2], w2i = sign * sin[k + 2];
      const w3r = cos[k + 3], w3i = sign * sin[k + 3];
      const w4r = cos[k + 4], w4i = sign * sin[k + 4];
      const xBase = s * j;
      const yBase = s * 5 * j;
      for (let q = 0; q < s; q++) {
        const i0 = xBase + q;
        const a0r = xr[i0], a0i = xi[i0];
        const a1r = xr[i0 + ms], a1i = xi[i0 + ms];
        const a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms];
        const a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
        const a4r = xr[i0 + 4 * ms], a4i = xi[i0 + 4 * ms];
        const t1r = a1r + a4r, t1i = a1i + a4i, t2r = a1r - a4r, t2i = a1i - a4i;
        const t3r = a2r + a3r, t3i = a2i + a3i, t4r = a2r - a3r, t4i = a2i - a3i;
        const m1r = a0r + c1 * t1r + c2 * t3r, m1i = a0i + c1 * t1i + c2 * t3i;
        const m2r = a0r + c2 * t1r + c1 * t3r, m2i = a0i + c2 * t1i + c1 * t3i;
        // -i·(s1·t2 + s2·t4) and -i·(s2·t2 - s1·t4)
        const n1r = s1 * t2i + s2 * t4i, n1i = -(s1 * t2r + s2 * t4r);
        const n2r = s2 * t2i - s1 * t4i, n2i = -(s2 * t2r - s1 * t4r);
        const o = yBase + q;
        yr[o] = a0r + t1r + t3r;
        yi[o] = a0i + t1i + t3i;
        let br = m1r + n1r, bi = m1i + n1i;
        yr[o + s] = br * w1r - bi * w1i;
        yi[o + s] = br * w1i + bi * w1r;
        br = m2r + n2r;
        bi = m2i + n2i;
        yr[o + 2 * s] = br * w2r - bi * w2i;
        yi[o + 2 * s] = br * w2i + bi * w2r;
        br = m2r - n2r;
        bi = m2i - n2i;
        yr[o + 3 * s] = br * w3r - bi * w3i;
        yi[o + 3 * s] = br * w3i + bi * w3r;
        br = m1r - n1r;
        bi = m1i - n1i;
        yr[o + 4 * s] = br * w4r - bi * w4i;
        yi[o + 4 * s] = br * w4i + bi * w4r;
      }
    }
  } else {
    genericStage(p, m, s, sign, cos, sin, xr, xi, yr, yi);
  }
}

/** Radix-p stage for any prime p by a direct p-point DFT per butterfly (O(p²), only for rare lengths). */
function genericStage(
  p: number,
  m: number,
  s: number,
  sign: number,
  cos: Float64Array,
  sin: Float64Array,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const ms = m * s;
  const rootR = new Float64Array(p);
  const rootI = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    rootR[k] = Math.cos((2 * Math.PI * k) / p);
    rootI[k] = -sign * Math.sin((2 * Math.PI * k) / p);
  }
  for (let j = 0; j < m; j++) {
    for (let q = 0; q < s; q++) {
      const i0 = s * j + q;
      const o = s * p * j + q;
      for (let t = 0; t < p; t++) {
        let br = 0;
        let bi = 0;
        for (let r = 0; r < p; r++) {
          const k = (r * t) % p;
          const ar = xr[i0 + r * ms], ai = xi[i0 + r * ms];
          br += ar * rootR[k] - ai * rootI[k];
          bi += ar * rootI[k] + ai * rootR[k];
        }
        const wr = cos[j * p + t], wi = sign * sin[j * p + t];
        yr[o + t * s] = br * wr - bi * wi;
        yi[o + t * s] = br * wi + bi * wr;
      }
    }
  }
}
