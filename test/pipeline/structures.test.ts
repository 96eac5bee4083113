import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import { maskContains, mergeMasks, pointMask } from '../../src/pipeline/instance.js';
import { fitSphere } from '../../src/pipeline/membrane.js';
import { alongAxis } from '../../src/pipeline/structure-pick.js';
import type { VoxelPoint } from '../../src/pipeline/types.js';
import type { Shape3, Volume } from '../../src/volume/volume.js';

/** Deterministic standard-normal noise (Box–Muller over a small LCG). */
function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())), a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** A volume with density `value` wherever `inside(x, y, z)` is true, plus noise of σ 1, at 10 Å per voxel. */
function scene(shape: Shape3, value: number, inside: (x: number, y: number, z: number) => boolean, seed = 3): Volume {
  const [nz, ny, nx] = shape;
  const data = noise(nz * ny * nx, seed);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (inside(x, y, z)) data[(z * ny + y) * nx + x] += value;
  return { data, shape, voxelSize: { x: 10, y: 10, z: 10 } };
}

/** Distance of (x, y, z) from the line through `p` along unit `d`. */
function fromLine(x: number, y: number, z: number, p: VoxelPoint, d: VoxelPoint): number {
  const v = { x: x - p.x, y: y - p.y, z: z - p.z };
  const t = v.x * d.x + v.y * d.y + v.z * d.z;
  return Math.hypot(v.x - t * d.x, v.y - t * d.y, v.z - t * d.z);
}

const SHAPE: Shape3 = [40, 96, 96];
// A microtubule-like tube (wall 8–12 voxels from the axis) lying in the xy plane at 30° to x, as real ones lie.
const AXIS_POINT = { x: 48, y: 48, z: 20 };
const AXIS_DIR = { x: Math.cos(Math.PI / 6), y: Math.sin(Math.PI / 6), z: 0 };
const tube = () => scene(SHAPE, 2.5, (x, y, z) => {
  const r = fromLine(x, y, z, AXIS_POINT, AXIS_DIR);
  return r >= 8 && r <= 12;
});

test('a click on a hollow tube\'s wall segments the whole tube: traced end to end, both walls, its lumen left out', async () => {
  const sam = await CryoSam.create(tube(), { cacheDir: false, workers: 1 });
  try {
    // On the wall, 10 voxels from the axis.
    const click = { x: Math.round(48 - 10 * AXIS_DIR.y), y: Math.round(48 + 10 * AXIS_DIR.x), z: 20 };
    const found = await sam.segmentStructure(click);
    assert.equal(found.kind, 'filament');
    assert.equal(found.decidedBy, 'auto');
    const f = found.filament!;
    // The tube crosses the 96-voxel box: about 96 / cos 30° ≈ 110 voxels long inside it.
    assert.ok(f.lengthA > 900, `traced ${f.lengthA} Å`);
    assert.ok(f.outerDiameterA > 200 && f.outerDiameterA < 270, `outer diameter ${f.outerDiameterA} Å`);
    assert.ok(f.innerDiameterA > 130 && f.innerDiameterA < 200, `lumen ${f.innerDiameterA} Å`);
    for (const p of f.axis) assert.ok(fromLine(p.x, p.y, p.z, AXIS_POINT, AXIS_DIR) < 2, `axis point ${JSON.stringify(p)} off the true axis`);
    // Both walls, at both ends, and not the lumen.
    const across = { x: -AXIS_DIR.y, y: AXIS_DIR.x, z: 0 };
    for (const t of [-35, 0, 35]) {
      for (const side of [-10, 10]) {
        const p = { x: 48 + t * AXIS_DIR.x + side * across.x, y: 48 + t * AXIS_DIR.y + side * across.y, z: 20 };
        assert.ok(maskContains(found.mask, p), `wall at t=${t}, side ${side} is in the mask`);
      }
      assert.ok(!maskContains(found.mask, { x: 48 + t * AXIS_DIR.x, y: 48 + t * AXIS_DIR.y, z: 20 }), `lumen at t=${t} is not`);
    }
  } finally {
    await sam.dispose();
  }
});

test('a click on a flat membrane grows over the sheet at its thickness, and the mask stays on it', async () => {
  // A 5-voxel sheet whose normal is x (fully measured in a tilt series about y).
  const vol = scene(SHAPE, 2, (x) => Math.abs(x - 50) <= 2);
  const sam = await CryoSam.create(vol, { cacheDir: false, workers: 1 });
  try {
    const found = await sam.segmentStructure({ x: 50, y: 40, z: 20 });
    assert.equal(found.kind, 'membrane');
    const m = found.membrane!;
    assert.ok(m.thicknessA > 35 && m.thicknessA < 70, `thickness ${m.thicknessA} Å`);
    // The sheet inside the box is 96 × 40 voxels = 3840 nm²; most of it is grown.
    assert.ok(m.areaNm2 > 0.6 * 3840, `area ${m.areaNm2} nm²`);
    let off = 0;
    const b = found.mask.bbox, bx = b.x1 - b.x0;
    for (let i = 0; i < found.mask.mask.length; i++) if (found.mask.mask[i] && Math.abs(b.x0 + (i % bx) - 50) > 4) off++;
    assert.ok(off < 0.05 * found.mask.voxels, `${off} of ${found.mask.voxels} mask voxels lie off the sheet`);
  } finally {
    await sam.dispose();
  }
});

test('a round particle stays a particle under auto, with the same mask as segment(); a named kind that is not there is refused', async () => {
  const vol = scene(SHAPE, 2.5, (x, y, z) => Math.hypot(x - 48, y - 48, z - 20) <= 8);
  const sam = await CryoSam.create(vol, { cacheDir: false, workers: 1 });
  try {
    const click = { x: 50, y: 47, z: 20 };
    const found = await sam.segmentStructure(click);
    assert.equal(found.kind, 'particle');
    const plain = await sam.segment(click);
    assert.deepEqual(found.mask.bbox, plain.bbox);
    assert.deepEqual(found.mask.mask, plain.mask);
    await assert.rejects(sam.segmentStructure({ x: 10, y: 10, z: 10 }, 'filament'), /no filament found at x=10, y=10, z=10/);
    await assert.rejects(sam.segmentStructure({ x: 10, y: 10, z: 10 }, 'membrane'), /no membrane found at/);
    assert.equal(await sam.pickStructures(click), undefined, 'a particle click leaves picking to pick()');
  } finally {
    await sam.dispose();
  }
});

test('pickStructures finds the other tube of the same size and not a thinner solid filament', async () => {
  const vol = scene([40, 96, 128], 2.5, (x, y, z) => {
    const a = Math.hypot(y - 24, z - 20), b = Math.hypot(y - 70, z - 20), c = Math.hypot(x - 112, z - 20);
    return (a >= 8 && a <= 12) || (b >= 8 && b <= 12) || c <= 3;
  });
  const sam = await CryoSam.create(vol, { cacheDir: false, workers: 1 });
  try {
    const found = await sam.pickStructures({ x: 40, y: 14, z: 20 });
    assert.ok(found);
    assert.equal(found.kind, 'filament');
    const ys = found.structures.map((s) => s.filament!.axis.reduce((a, p) => a + p.y, 0) / s.filament!.axis.length).sort((a, b) => a - b);
    assert.equal(ys.length, 2, `tubes found at mean y ${ys.map((y) => y.toFixed(1)).join(', ')}`);
    assert.ok(Math.abs(ys[0] - 24) < 2 && Math.abs(ys[1] - 70) < 2);
    assert.deepEqual(found.instances.map((i) => i.id), [1, 2]);
  } finally {
    await sam.dispose();
  }
});

test('points along an axis every N Å carry their distance along the filament', () => {
  const axis = Array.from({ length: 11 }, (_, k) => ({ x: 2 * k, y: 0, z: 0 }));
  const points = alongAxis(axis, 50, 10);
  assert.deepEqual(points.map((p) => p.trackLengthA), [0, 50, 100, 150, 200]);
  assert.deepEqual(points.map((p) => p.point.x), [0, 5, 10, 15, 20]);
});

test('the real microtubule (a crop of a real tomogram): a click on its wall segments a hollow tube along its whole length', async () => {
  const vol = await readMrc(path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc'));
  const sam = await CryoSam.create(vol, { cacheDir: false, workers: 1 });
  try {
    const found = await sam.segmentStructure({ x: 43, y: 115, z: 23 });
    assert.equal(found.kind, 'filament');
    const f = found.filament!;
    // The tube crosses the crop's 136 voxels in y at about 18° from y: about 143 voxels (1500 Å).
    assert.ok(f.lengthA > 1300, `length ${f.lengthA} Å`);
    // Its wall lies 8–14 voxels (84–147 Å) from the axis.
    assert.ok(f.outerDiameterA > 240 && f.outerDiameterA < 320, `outer diameter ${f.outerDiameterA} Å`);
    assert.ok(f.innerDiameterA > 150, `lumen ${f.innerDiameterA} Å`);
    const first = f.axis[0], last = f.axis[f.axis.length - 1];
    const d = { x: last.x - first.x, y: last.y - first.y, z: last.z - first.z };
    const n = Math.hypot(d.x, d.y, d.z);
    assert.ok(Math.abs(d.x * 0.3 - d.y * 0.95 + d.z * 0.01) / n > 0.98, 'axis along (0.30, −0.95, 0.01)');
  } finally {
    await sam.dispose();
  }
});

test('a sphere is fitted through points on it; two masks merge into their union', () => {
  const points = [];
  for (let i = 0; i < 200; i++) {
    // Half a sphere of radius 20 about (30, 40, 25), a voxel of scatter.
    const z = Math.cos((i * 0.618) % Math.PI), r = Math.sqrt(1 - z * z), a = i * 2.399;
    const jitter = ((i * 7919) % 11) / 10 - 0.5;
    points.push({ x: 30 + (20 + jitter) * r * Math.cos(a), y: 40 + (20 + jitter) * r * Math.sin(a), z: 25 + (20 + jitter) * Math.abs(z) });
  }
  const fit = fitSphere(points)!;
  assert.ok(Math.hypot(fit.centre.x - 30, fit.centre.y - 40, fit.centre.z - 25) < 1, JSON.stringify(fit.centre));
  assert.ok(Math.abs(fit.radius - 20) < 0.5 && fit.rms < 0.5, `radius ${fit.radius}, rms ${fit.rms}`);
  assert.equal(fitSphere(points.slice(0, 5)), undefined, 'too few points');
  const a = pointMask({ x: 1, y: 2, z: 3 }, [10, 10, 10]), b = pointMask({ x: 7, y: 8, z: 9 }, [10, 10, 10]);
  const both = mergeMasks(a, b);
  assert.equal(both.voxels, 2);
  assert.ok(maskContains(both, { x: 1, y: 2, z: 3 }) && maskContains(both, { x: 7, y: 8, z: 9 }));
});
