import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFourierFilter, fftFrequency, rfft3d } from '../../src/volume/fourier.js';
import { estimateTiltRange, measuredRegion, type TiltRange } from '../../src/volume/missing-wedge.js';
import { Rng } from '../../src/eval/simulate/rng.js';
import { createVolume, type Shape3 } from '../../src/volume/volume.js';

const SYMMETRIC: TiltRange = { axis: 'y', minDeg: -60, maxDeg: 60 };

test('missing wedge removes exactly the components within 30° of kz for a ±60° tilt range about y', () => {
  const shape: Shape3 = [16, 8, 16];
  const rng = new Rng(5);
  const vol = createVolume(shape);
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = rng.normal();
  const before = rfft3d(vol.data, shape);
  applyFourierFilter(vol, measuredRegion(SYMMETRIC));
  const after = rfft3d(vol.data, shape);
  const slope = Math.tan(Math.PI / 3);
  let inside = 0;
  let outside = 0;
  for (let z = 0; z < 16; z++)
    for (let y = 0; y < 8; y++)
      for (let kx = 0; kx < after.nxh; kx++) {
        const i = (z * 8 + y) * after.nxh + kx;
        const kz = fftFrequency(z, 16);
        if (Math.abs(kz) > Math.abs(kx / 16) * slope) {
          inside++;
          assert.ok(Math.abs(after.re[i]) < 1e-3 && Math.abs(after.im[i]) < 1e-3, `wedge (${z},${y},${kx}) kept`);
        } else {
          outside++;
          assert.ok(Math.abs(after.re[i] - before.re[i]) < 1e-3 && Math.abs(after.im[i] - before.im[i]) < 1e-3);
        }
      }
  assert.ok(inside > 0 && outside > 0);
  const w = measuredRegion(SYMMETRIC);
  // A wave along z (the beam) lies in the wedge; one along x or along the tilt axis y does not.
  assert.equal(w(0.25, 0, 0), 0);
  assert.equal(w(0, 0, 0.25), 1);
  assert.equal(w(0, 0.25, 0), 1);
  assert.equal(w(0.2, 0.3, 0.2), 1);
});

test('asymmetric ranges, other tilt and beam axes, and impossible ranges', () => {
  // Tilting by θ measures the directions with atan(k_beam / k_across) = −θ.
  const tilted = measuredRegion({ axis: 'y', minDeg: -20, maxDeg: 60 });
  const dir = (deg: number) => [Math.sin((deg * Math.PI) / 180) * 0.3, 0, Math.cos((deg * Math.PI) / 180) * 0.3] as const;
  assert.equal(tilted(...dir(-50)), 1, 'measured by the +50° tilt');
  assert.equal(tilted(...dir(15)), 1, 'measured by the −15° tilt');
  assert.equal(tilted(...dir(30)), 0, 'would need a −30° tilt');
  // Tilt axis x: the wedge lives in the (ky, kz) plane and ignores kx.
  const aboutX = measuredRegion({ axis: 'x', minDeg: -45, maxDeg: 45 });
  assert.equal(aboutX(0.3, 0.1, 0), 0);
  assert.equal(aboutX(0.1, 0.3, 0), 1);
  assert.equal(aboutX(0.3, 0, 0.4), 0, 'kx does not help a wave along z');
  // Beam along x (a volume stored with the beam as its last axis).
  const beamX = measuredRegion({ axis: 'y', beam: 'x', minDeg: -60, maxDeg: 60 });
  assert.equal(beamX(0, 0, 0.3), 0);
  assert.equal(beamX(0.3, 0, 0), 1);
  assert.throws(() => measuredRegion({ axis: 'y', minDeg: 30, maxDeg: -30 }), /tilt range/);
  assert.throws(() => measuredRegion({ axis: 'z', minDeg: -60, maxDeg: 60 }), /tilt axis and the beam/);
});

/** White noise seen through a tilt range's wedge. */
function wedgedNoise(shape: Shape3, range: TiltRange | undefined, seed: number) {
  const rng = new Rng(seed);
  const vol = createVolume(shape, 10);
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = rng.normal();
  if (range) applyFourierFilter(vol, measuredRegion(range));
  return vol;
}

test('the tilt range is read off the tomogram: axis, beam and range, or none without a wedge', () => {
  const est = estimateTiltRange(wedgedNoise([64, 96, 96], { axis: 'y', minDeg: -50, maxDeg: 50 }, 1));
  assert.ok(est, 'a wedge is found');
  assert.equal(est.axis, 'y');
  assert.equal(est.beam, 'z');
  assert.ok(Math.abs(est.minDeg + 50) <= 4 && Math.abs(est.maxDeg - 50) <= 4, `−50..50 estimated as ${est.minDeg}..${est.maxDeg}`);
  assert.ok(est.powerRatio > 5, `power ratio ${est.powerRatio}`);

  const asym = estimateTiltRange(wedgedNoise([64, 64, 96], { axis: 'x', minDeg: -40, maxDeg: 64 }, 2));
  assert.ok(asym && asym.axis === 'x' && asym.beam === 'z', JSON.stringify(asym));
  assert.ok(Math.abs(asym.minDeg + 40) <= 4 && Math.abs(asym.maxDeg - 64) <= 4, `−40..64 estimated as ${asym.minDeg}..${asym.maxDeg}`);

  const beamX = estimateTiltRange(wedgedNoise([64, 64, 64], { axis: 'y', beam: 'x', minDeg: -60, maxDeg: 60 }, 3));
  assert.ok(beamX && beamX.axis === 'y' && beamX.beam === 'x', JSON.stringify(beamX));

  assert.equal(estimateTiltRange(wedgedNoise([64, 64, 64], undefined, 4)), undefined, 'white noise has no wedge');
  assert.equal(estimateTiltRange(wedgedNoise([12, 64, 64], SYMMETRIC, 5)), undefined, 'too thin to tell');
});
