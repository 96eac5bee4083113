import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutCount, extendCut, fisherZ, MIN_CUT_INSTANCES, otsuThreshold, targetsRunPast, templateCut } from '../../src/pipeline/template-cut.js';
import type { Instance } from '../../src/pipeline/types.js';
import { createVolume } from '../../src/volume/volume.js';
import { rng } from './synthetic.js';

function spread(n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));
}

test('the cut keeps the targets above a population of look-alikes, one population whole, and too few all', () => {
  const targets = spread(25, 0.62, 0.85).map(fisherZ), fragments = spread(60, 0.03, 0.32).map(fisherZ);
  const sorted = [...targets, ...fragments].sort((a, b) => b - a);
  assert.equal(cutCount(sorted), targets.length, 'cut between targets and fragments');
  const one = spread(40, 0.6, 0.8).sort((a, b) => b - a);
  assert.equal(cutCount(one), one.length, 'one population (both Otsu classes alike) is kept whole');
  const few = [...targets.slice(0, 5), ...fragments.slice(0, 5)].sort((a, b) => b - a);
  assert.ok(few.length < MIN_CUT_INSTANCES);
  assert.equal(cutCount(few), few.length, 'too few to cut');
});

test('Otsu threshold lies between two clear classes', () => {
  const rand = rng(3);
  const values = [...Array.from({ length: 30 }, () => 1 + 0.1 * rand()), ...Array.from({ length: 50 }, () => 0.2 + 0.1 * rand())];
  const t = otsuThreshold(values.sort((a, b) => b - a));
  assert.ok(t > 0.3 && t < 1, `threshold ${t}`);
});

/** Dark balls (the prompt's kind) and dark rods of the same volume, in weak noise; the first ball is prompted. */
function ballsAndRods() {
  const shape = [40, 60, 200] as const;
  const vol = createVolume([...shape], 10);
  const rand = rng(11);
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = 0.05 * (rand() - 0.5);
  const paint = (c: { x: number; y: number; z: number }, inside: (dz: number, dy: number, dx: number) => boolean) => {
    for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
      if (inside(z - c.z, y - c.y, x - c.x)) vol.data[(z * shape[1] + y) * shape[2] + x] -= 1;
    }
  };
  const ball = (dz: number, dy: number, dx: number) => dz * dz + dy * dy + dx * dx <= 16;
  const rod = (dz: number, dy: number, dx: number) => dz * dz + dy * dy <= 4 && Math.abs(dx) <= 7;
  // 20 voxels apart: no neighbour reaches into another's comparison sphere (2 equivalent radii).
  const centres = Array.from({ length: 20 }, (_, i) => ({ x: 10 + 20 * (i % 10), y: 15 + 30 * Math.floor(i / 10), z: 20 }));
  centres.forEach((c, i) => paint(c, i % 4 === 3 ? rod : ball));
  const inst = (c: { x: number; y: number; z: number }, id: number, prompted: boolean): Instance => ({
    bbox: { z0: c.z, z1: c.z + 1, y0: c.y, y1: c.y + 1, x0: c.x, x1: c.x + 1 }, mask: new Uint8Array([1]), voxels: 1, centroid: c, id, prompted, similarity: prompted ? 1 : 0.9,
  });
  const prompt = inst(centres[0], 1, true);
  const found = centres.slice(1).map((c, i) => inst(c, i + 2, false));
  const twice = inst({ ...centres[1], x: centres[1].x + 1 }, 99, false);
  const balls = found.filter((_, i) => (i + 1) % 4 !== 3), rods = found.filter((_, i) => (i + 1) % 4 === 3);
  return { vol, prompt, found, twice, balls, rods };
}

test('template cut: targets like the prompt are kept, other shapes cut, a particle found twice kept once', async () => {
  const { vol, prompt, found, twice, balls, rods } = ballsAndRods();
  const result = await templateCut({
    tomogram: vol, prompted: [prompt], found: [...found, twice], centreOf: (i) => i.centroid, equivalentRadius: 4, measured: undefined, onProgress: () => {},
  });
  const keptIds = new Set(result.kept.map((i) => i.id));
  assert.ok(balls.filter((b) => keptIds.has(b.id)).length >= balls.length - 1, `balls kept: ${[...keptIds]}`);
  assert.equal(rods.filter((r) => keptIds.has(r.id)).length, 0, 'rods cut');
  assert.ok(!(keptIds.has(twice.id) && keptIds.has(found[0].id)), 'a particle found twice is kept once');
  assert.equal(result.rejected.duplicate, 1);
  assert.ok(result.correlation.get(prompt)! > 0.5, 'the prompt correlates with its own self-template');
  assert.ok(result.average && result.average.data.length === result.average.size ** 3);
});

test('targets run past the proposals segmented when the cut keeps most of the last ones a round found, not when it drops them', () => {
  const found = Array.from({ length: 200 }, (_, i) => ({ id: i + 2 }) as unknown as Instance);
  // Targets first, then look-alikes: the cut keeps the first 120 (the targets ran out).
  assert.equal(targetsRunPast(found, found.slice(0, 120)), false);
  // Every proposal kept but a few: the tomogram holds more targets than were segmented.
  assert.equal(targetsRunPast(found, found.filter((_, i) => i % 10 !== 3)), true);
  // Targets and look-alikes interleaved to the end, 60% kept at the end: more targets lie beyond.
  assert.equal(targetsRunPast(found, found.filter((_, i) => i < 150 || i % 5 < 3)), true);
  // A later round: judged on its own proposals, not on all found so far.
  const round = found.slice(150);
  assert.equal(targetsRunPast(round, [...found.slice(0, 150), ...round.slice(0, 20)]), false, 'the round\'s last ones were dropped');
  assert.equal(targetsRunPast(round, found), true);
  // Too few found to tell: never extended.
  assert.equal(targetsRunPast(found.slice(0, MIN_CUT_INSTANCES - 1), found.slice(0, MIN_CUT_INSTANCES - 1)), false);
});

test('a cut extended to particles found after it scores them against its self-template and cuts them the same way', async () => {
  const { vol, prompt, found, balls, rods } = ballsAndRods();
  const base = { tomogram: vol, prompted: [prompt], centreOf: (i: Instance) => i.centroid, equivalentRadius: 4, measured: undefined, onProgress: () => {} };
  const first = await templateCut({ ...base, found: found.slice(0, 8) });
  const added = found.slice(8);
  const extended = await extendCut(first, added, { ...base, found });
  const keptIds = new Set(extended.kept.map((i) => i.id));
  assert.ok(added.every((inst) => extended.correlation.has(inst)), 'every added particle is scored');
  assert.ok(balls.filter((b) => keptIds.has(b.id)).length >= balls.length - 1, `balls kept: ${[...keptIds]}`);
  assert.equal(rods.filter((r) => keptIds.has(r.id)).length, 0, 'rods cut');
  assert.equal(extended.average, first.average, "the first cut's self-template is kept");
  assert.equal(await extendCut(first, [], { ...base, found: found.slice(0, 8) }), first, 'nothing added: the cut as it was');
});
