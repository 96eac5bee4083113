import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { simulateTomogram } from '../../src/eval/simulate/simulate.js';
import { validateConfig, NO_SHEETS } from '../../src/eval/simulate/config.js';
import { presetConfig } from '../../src/eval/simulate/presets.js';
import { axisError, fullMask, scoreFilamentMask, scoreMembraneMask, scoreTubeMask, tubeFromDensity, tubeWallMask } from '../../src/eval/structures.js';
import type { ParticleMask } from '../../src/pipeline/types.js';
import { readMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import type { Shape3 } from '../../src/volume/volume.js';

/** A mask shifted by (dx, dy, dz) voxels (what leaves the volume is dropped). */
function shifted(mask: Uint8Array, shape: Shape3, dx: number, dy: number, dz: number): Uint8Array {
  const [nz, ny, nx] = shape;
  const out = new Uint8Array(mask.length);
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const X = x + dx, Y = y + dy, Z = z + dz;
        if (mask[i] && X >= 0 && X < nx && Y >= 0 && Y < ny && Z >= 0 && Z < nz) out[(Z * ny + Y) * nx + X] = 1;
      }
    }
  }
  return out;
}

async function scene() {
  const cfg = validateConfig({
    ...presetConfig('filaments'),
    name: 'test',
    shape: [48, 64, 64],
    classes: [{ map: '3qm1', count: 0, role: 'target' }],
    filaments: { microtubules: 1, actin: 1, lengthNm: [60, 100], curved: 0.5, density: 1 },
    sheets: { ...NO_SHEETS, flat: 1 },
    snr: null,
  });
  return simulateTomogram(cfg, { seed: 2 });
}

test('filament scores: 1 for the truth, low for shifted and partial masks; axis error', async () => {
  const sim = await scene();
  const s = sim.structures!;
  const shape = s.labels.shape;
  for (const f of s.filaments) {
    const truth = Uint8Array.from(s.instances.data, (v) => (v === f.id ? 1 : 0));
    const perfect = scoreFilamentMask(truth, f, s);
    assert.equal(perfect.lengthCovered, 1, f.kind);
    assert.equal(perfect.wallCoverage, 1);
    assert.equal(perfect.inTube, 1);
    // Shifted across the tube by more than its diameter: nothing of the wall, nothing in the tube.
    const n = f.axis.length / 3;
    const [tx, ty, tz] = [f.axis[3 * n - 3] - f.axis[0], f.axis[3 * n - 2] - f.axis[1], f.axis[3 * n - 1] - f.axis[2]];
    const across: [number, number, number] = Math.abs(tz) < Math.hypot(tx, ty) ? [0, 0, 1] : [1, 0, 0];
    const d = Math.ceil(2 * f.outerRadius + 2);
    const away = scoreFilamentMask(shifted(truth, shape, across[0] * d, across[1] * d, across[2] * d), f, s);
    assert.ok(away.wallCoverage < 0.15 && away.lengthCovered < 0.1 && away.inTube < 0.5, JSON.stringify(away));
    // The first half of the filament only.
    const half = new Uint8Array(truth.length);
    const [, ny, nx] = shape;
    const mid = [f.axis[3 * Math.floor(n / 2)], f.axis[3 * Math.floor(n / 2) + 1], f.axis[3 * Math.floor(n / 2) + 2]];
    for (let i = 0; i < truth.length; i++) {
      if (!truth[i]) continue;
      const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
      if ((x - mid[0]) * tx + (y - mid[1]) * ty + (z - mid[2]) * tz < 0) half[i] = 1;
    }
    const partial = scoreFilamentMask(half, f, s);
    assert.ok(Math.abs(partial.lengthCovered - 0.5) < 0.15, `half covers ${partial.lengthCovered}`);
    assert.equal(partial.inTube, 1);
    // The same through a ParticleMask (bbox + local mask).
    const pm = toParticleMask(truth, shape);
    assert.deepEqual(scoreFilamentMask(pm, f, s), perfect);

    const points = Array.from({ length: n }, (_, i) => ({ x: f.axis[3 * i], y: f.axis[3 * i + 1], z: f.axis[3 * i + 2] }));
    const exact = axisError(points, f);
    assert.ok(exact.meanDistance < 1e-9);
    assert.equal(exact.covered, 1);
    // 5 voxels sideways (perpendicular to the chord; a curved axis turns at most 45° from it).
    const c = [ty * across[2] - tz * across[1], tz * across[0] - tx * across[2], tx * across[1] - ty * across[0]];
    const cn = Math.hypot(...c);
    const off = axisError(points.map((p) => ({ x: p.x + (5 * c[0]) / cn, y: p.y + (5 * c[1]) / cn, z: p.z + (5 * c[2]) / cn })), f);
    assert.ok(off.meanDistance > 3.5 && off.meanDistance < 5.01 && off.covered === 0, JSON.stringify(off));
    const firstHalf = axisError(points.slice(0, Math.floor(n / 2)), f);
    assert.ok(Math.abs(firstHalf.covered - 0.5) < 0.1);
  }
});

function toParticleMask(full: Uint8Array, shape: Shape3): ParticleMask {
  const [nz, ny, nx] = shape;
  const b = { z0: nz, z1: 0, y0: ny, y1: 0, x0: nx, x1: 0 };
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (!full[i]) continue;
        (b.z0 = Math.min(b.z0, z)), (b.z1 = Math.max(b.z1, z + 1)), (b.y0 = Math.min(b.y0, y)), (b.y1 = Math.max(b.y1, y + 1));
        (b.x0 = Math.min(b.x0, x)), (b.x1 = Math.max(b.x1, x + 1));
      }
    }
  }
  const by = b.y1 - b.y0, bx = b.x1 - b.x0;
  const mask = new Uint8Array((b.z1 - b.z0) * by * bx);
  let voxels = 0;
  for (let z = b.z0; z < b.z1; z++) {
    for (let y = b.y0; y < b.y1; y++) {
      for (let x = b.x0; x < b.x1; x++) {
        if (full[(z * ny + y) * nx + x]) (mask[((z - b.z0) * by + (y - b.y0)) * bx + (x - b.x0)] = 1), voxels++;
      }
    }
  }
  return { bbox: b, mask, voxels, centroid: { x: 0, y: 0, z: 0 } };
}

test('membrane scores: recall of the measured part and precision within 2 voxels', async () => {
  const sim = await scene();
  const s = sim.structures!;
  const shape = s.labels.shape;
  const m = s.membranes.find((x) => x.kind === 'flat')!;
  const truth = Uint8Array.from(s.instances.data, (v) => (v === m.id ? 1 : 0));
  const perfect = scoreMembraneMask(truth, m.id, s);
  assert.equal(perfect.recall, 1);
  assert.equal(perfect.precision, 1);
  assert.deepEqual(scoreMembraneMask(toParticleMask(truth, shape), m.id, s), perfect);
  // Shift along the sheet's normal, by 1 voxel (still precise) and by 8 (off the membrane).
  const normal = m.surface.type === 'plane' ? m.surface.normal : [0, 0, 1];
  const axis = normal.map(Math.abs).indexOf(Math.max(...normal.map(Math.abs)));
  const step = (d: number) => [axis === 0 ? d : 0, axis === 1 ? d : 0, axis === 2 ? d : 0] as const;
  const near = scoreMembraneMask(shifted(truth, shape, ...step(1)), m.id, s);
  assert.equal(near.precision, 1);
  const far = scoreMembraneMask(shifted(truth, shape, ...step(8)), m.id, s);
  assert.ok(far.precision < 0.2, JSON.stringify(far));
  if (m.measuredVoxels > 0) assert.ok(far.recall < 0.2);
  // Recall counts only the measured voxels: a mask of the measured part alone scores 1.
  const measuredOnly = Uint8Array.from(truth, (v, i) => v & s.measured[i]);
  assert.equal(scoreMembraneMask(measuredOnly, m.id, s).recall, 1);
  assert.equal(scoreMembraneMask(new Uint8Array(truth.length), m.id, s).precision, 1);
  assert.equal(fullMask(truth, shape), truth);
});

const realTube = path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc');

test('the axis of the real microtubule is found from its density', { skip: !existsSync(realTube) && 'no shared data' }, async () => {
  const volume = await readMrc(realTube);
  const tube = tubeFromDensity(volume, 'bright');
  const expected = [0.3, -0.95, 0.01];
  const d = tube.direction;
  const cos = Math.abs(d.x * expected[0] + d.y * expected[1] + d.z * expected[2]) / Math.hypot(...expected);
  const angle = (Math.acos(Math.min(1, cos)) * 180) / Math.PI;
  assert.ok(angle < 10, `axis ${JSON.stringify(d)} is ${angle.toFixed(1)}° off`);
  // A hollow tube: the profile peaks in the wall band, the lumen is darker.
  assert.ok(tube.wallRadius >= 8 && tube.wallRadius <= 14, `wall at ${tube.wallRadius}`);
  assert.ok(tube.radialProfile[0] < tube.radialProfile[tube.wallRadius]);
  // The axis passes through the tube's centre: moving it sideways lowers the wall-to-lumen contrast.
  const contrast = (dx: number, dy: number, dz: number) => {
    const t = { ...tube, point: { x: tube.point.x + dx, y: tube.point.y + dy, z: tube.point.z + dz } };
    const wall = tubeWallMask(t, [8, 14]), lumen = tubeWallMask(t, [0, 5]);
    let sw = 0, nw = 0, sl = 0, nl = 0;
    for (let i = 0; i < wall.length; i++) {
      if (wall[i]) (sw += volume.data[i]), nw++;
      if (lumen[i]) (sl += volume.data[i]), nl++;
    }
    return sw / nw - sl / nl;
  };
  // Sideways: across the axis in the plane, and along z.
  const side = [d.y, -d.x, 0].map((v) => v / Math.hypot(d.x, d.y));
  let best = { a: 0, b: 0, c: -Infinity };
  for (let a = -3; a <= 3; a++) {
    for (let b = -3; b <= 3; b++) {
      const c = contrast(a * side[0], a * side[1], b);
      if (c > best.c) best = { a, b, c };
    }
  }
  assert.ok(Math.hypot(best.a, best.b) <= 2, `best centre ${best.a}, ${best.b} voxels away`);

  const annulus = tubeWallMask(tube, [8, 14]);
  const full = scoreTubeMask(annulus, tube, [8, 14]);
  assert.ok(full.wallCoverage > 0.99 && full.inTube > 0.99 && full.lengthCovered > 0.95, JSON.stringify(full));
  const [, ny, nx] = volume.shape;
  const z = Math.round(tube.point.z);
  const slice = new Uint8Array(annulus.length).fill(1, z * ny * nx, (z + 1) * ny * nx);
  const flat = scoreTubeMask(slice, tube, [8, 14]);
  assert.ok(flat.wallCoverage < 0.1 && flat.lengthCovered < 0.1 && flat.inTube < 0.5, JSON.stringify(flat));
  const wallSlice = Uint8Array.from(annulus, (v, i) => (i >= z * ny * nx && i < (z + 1) * ny * nx ? v : 0));
  const ring = scoreTubeMask(wallSlice, tube, [8, 14]);
  assert.ok(ring.wallCoverage < 0.1 && ring.lengthCovered < 0.1 && ring.inTube === 1, JSON.stringify(ring));
});
