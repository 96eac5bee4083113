import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentiles, volumeStats } from '../../src/volume/stats.js';
import { applyScaling, clampNonFinite, normalizeRobust, robustScaling } from '../../src/volume/normalize.js';
import { createVolume } from '../../src/volume/volume.js';

test('volumeStats of a known array, skipping non-finite values', () => {
  const s = volumeStats(Float32Array.of(1, 2, 3, 4, NaN, Infinity));
  assert.equal(s.min, 1);
  assert.equal(s.max, 4);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.rms - Math.sqrt(1.25)) < 1e-12);
  const far = volumeStats(Float64Array.from({ length: 1000 }, (_, i) => 1e8 + (i % 2)));
  assert.ok(Math.abs(far.rms - 0.5) < 1e-9, `rms ${far.rms}`);
  assert.ok(Number.isNaN(volumeStats(new Float32Array(0)).mean));
});

test('percentiles of a ramp, exact and with strided sampling', () => {
  const ramp = Float32Array.from({ length: 101 }, (_, i) => i);
  assert.deepEqual(percentiles(ramp, [0, 12.5, 50, 100]), [0, 12.5, 50, 100]);
  const big = Float32Array.from({ length: 1_000_000 }, (_, i) => i / 1e6);
  const [p10, p90] = percentiles(big, [10, 90], 10_000);
  assert.ok(Math.abs(p10 - 0.1) < 2e-4 && Math.abs(p90 - 0.9) < 2e-4, `${p10} ${p90}`);
  assert.deepEqual(percentiles(big, [10, 90], 10_000), [p10, p90]);
  assert.throws(() => percentiles(ramp, [101]));
});

test('normalizeRobust gives median 0 and unit robust σ, clipping outliers', () => {
  const vol = createVolume([1, 100, 100]);
  // Deterministic Gaussian-like noise (σ 3, mean 7) via the inverse CDF of a ramp, plus hot pixels.
  const n = vol.data.length;
  for (let i = 0; i < n; i++) vol.data[(i * 7919) % n] = 7 + 3 * probit((i + 0.5) / n);
  vol.data[5] = 1e6;
  vol.data[6] = NaN;
  const out = normalizeRobust(vol, { low: 1, high: 99 });
  assert.notEqual(out.data, vol.data);
  const [q1, med, q3] = percentiles(out.data, [25, 50, 75]);
  assert.ok(Math.abs(med) < 0.01, `median ${med}`);
  assert.ok(Math.abs((q3 - q1) / 1.349 - 1) < 0.01, `iqr ${q3 - q1}`);
  const s = robustScaling(vol.data, { low: 1, high: 99 });
  assert.ok(Math.abs(out.data[5] - s.hi) < 1e-6 && s.hi < 2.5, `clipped to ${s.hi}`);
  assert.equal(out.data[6], 0);
  const inPlace = normalizeRobust(vol, {}, true);
  assert.equal(inPlace.data, vol.data);
  const again = new Float32Array(3);
  applyScaling(Float32Array.of(s.center, s.center + s.scale, NaN), again, { ...s, lo: -10, hi: 10 });
  assert.equal(again[0], 0);
  assert.ok(Math.abs(again[1] - 1) < 1e-6);
  assert.equal(again[2], 0);
});

test('clampNonFinite replaces NaN and infinities', () => {
  const a = Float32Array.of(1, NaN, -Infinity, 2);
  assert.equal(clampNonFinite(a, -1), 2);
  assert.deepEqual([...a], [1, -1, -1, 2]);
});

/** Inverse standard normal CDF (Acklam's rational approximation). */
function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = Math.min(p, 1 - p);
  let x: number;
  if (q < 0.02425) {
    const t = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
    return p < 0.5 ? x : -x;
  }
  const t = p - 0.5;
  const r = t * t;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * t) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

test('percentiles by selection equal those of a full sort, ties and small arrays included', () => {
  let seed = 1;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const ps = [0, 10, 25, 50, 75, 99.5, 100];
  for (let t = 0; t < 200; t++) {
    const n = 1 + Math.floor(rand() * 300);
    const data = Float32Array.from({ length: n }, () => Math.floor(rand() * 20));
    const sorted = [...data].sort((a, b) => a - b);
    const expected = ps.map((p) => {
      const pos = (p / 100) * (n - 1), lo = Math.floor(pos), hi = Math.min(n - 1, lo + 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    });
    percentiles(data, ps).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `n=${n} p=${ps[i]}: ${v} vs ${expected[i]}`));
  }
});
