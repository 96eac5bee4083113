/**
 * Filaments and membranes end to end on the simulator's ground truth: a click as a person makes it,
 * the auto decision, and the masks scored by src/eval/structures.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig, simulateTomogram } from '../../src/eval/simulate/index.js';
import { axisError, scoreFilamentMask, scoreMembraneMask } from '../../src/eval/structures.js';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import type { VoxelPoint } from '../../src/pipeline/types.js';

test('a click on a simulated microtubule wall and one on an actin filament segment each along most of its length', async () => {
  const config = presetConfig('filaments');
  config.shape = [64, 160, 160];
  config.classes = config.classes.map((c) => ({ ...c, count: 2 }));
  config.filaments = { ...config.filaments, microtubules: 1, actin: 1, curved: 0 };
  const sim = await simulateTomogram(config, { seed: 4 });
  const truth = sim.structures!;
  const sam = await CryoSam.create(sim.tomogram, { cacheDir: false, workers: 1, normalizeInPlace: true });
  try {
    for (const f of truth.filaments) {
      // Middle of the axis; a microtubule clicked on its wall, 10 voxels across from the axis.
      const k = Math.floor(f.axis.length / 6);
      const p = { x: f.axis[3 * k], y: f.axis[3 * k + 1], z: f.axis[3 * k + 2] };
      const q = { x: f.axis[3 * k + 3], y: f.axis[3 * k + 4], z: f.axis[3 * k + 5] };
      const t = { x: q.x - p.x, y: q.y - p.y, z: q.z - p.z };
      const across = normalise(Math.abs(t.z) < 0.9 * Math.hypot(t.x, t.y, t.z) ? { x: t.y, y: -t.x, z: 0 } : { x: 0, y: t.z, z: -t.y });
      const off = f.innerRadius > 0 ? 10 : 0;
      const click = { x: Math.round(p.x + off * across.x), y: Math.round(p.y + off * across.y), z: Math.round(p.z + off * across.z) };
      const found = await sam.segmentStructure(click);
      assert.equal(found.kind, 'filament', `${f.kind} clicked at ${JSON.stringify(click)}`);
      const score = scoreFilamentMask(found.mask, f, truth);
      assert.ok(score.lengthCovered >= 0.8, `${f.kind}: ${score.lengthCovered} of its length covered`);
      assert.ok(score.inTube >= 0.8, `${f.kind}: ${score.inTube} of the mask in the tube`);
      assert.ok(axisError(found.filament!.axis, f).meanDistance < 2, `${f.kind}: axis off by ${axisError(found.filament!.axis, f).meanDistance} voxels`);
      assert.equal(found.filament!.innerDiameterA > 0, f.innerRadius > 0, 'hollow exactly when the truth is');
    }
  } finally {
    await sam.dispose();
  }
});

test('a click on a simulated flat membrane grows over most of its measured part and stays on it', async () => {
  const config = presetConfig('membranes');
  config.shape = [64, 128, 128];
  config.classes = config.classes.map((c) => ({ ...c, count: 2 }));
  config.vesicles = { ...config.vesicles, count: 0 };
  config.sheets = { ...config.sheets, flat: 1, curved: 0, proteins: 2 };
  const sim = await simulateTomogram(config, { seed: 5 });
  const truth = sim.structures!;
  const sheet = truth.membranes.find((m) => m.kind === 'flat' && m.measuredVoxels > 1000);
  assert.ok(sheet, 'the seed draws a measured flat sheet');
  // The sheet's measured voxel nearest the tomogram's centre, as a person clicks it in the middle of a slice.
  const [nz, ny, nx] = sim.tomogram.shape;
  let click: VoxelPoint | undefined, nearest = Infinity;
  for (let i = 0; i < truth.measured.length; i++) {
    if (!truth.measured[i] || truth.instances.data[i] !== sheet.id) continue;
    const p = { x: i % nx, y: Math.floor(i / nx) % ny, z: Math.floor(i / (nx * ny)) };
    const d = Math.hypot(p.x - nx / 2, p.y - ny / 2, p.z - nz / 2);
    if (d < nearest) (nearest = d), (click = p);
  }
  const sam = await CryoSam.create(sim.tomogram, { cacheDir: false, workers: 1, normalizeInPlace: true });
  try {
    const found = await sam.segmentStructure(click!);
    assert.equal(found.kind, 'membrane');
    const score = scoreMembraneMask(found.mask, sheet.id, truth);
    assert.ok(score.recall >= 0.5, `recall of the measured part ${score.recall}`);
    assert.ok(score.precision >= 0.8, `precision ${score.precision}`);
  } finally {
    await sam.dispose();
  }
});

function normalise(v: VoxelPoint): VoxelPoint {
  const n = Math.hypot(v.x, v.y, v.z);
  return { x: v.x / n, y: v.y / n, z: v.z / n };
}
