/**
 * The "clicks" section of `npm run bench`: clicks that miss the particle's centre, as a person
 * clicks (src/eval/protocol.ts offCentreClicks). Per preset and simulation seed, several random
 * target particles are clicked at 0, 1/3 and 1/2 of the particle radius from their centre, in a
 * random direction; F1 of the pick and Dice of the clicked particle's 3D mask, with the sphere
 * baseline (a sphere of the particle's true volume at its true centre) beside them.
 */
import { clickRow, meanSd, offCentreClicks, type ClickRow, type MeanSd } from '../src/eval/protocol.js';
import { PRESETS, simulateTomogram } from '../src/eval/simulate/index.js';
import { CryoSam } from '../src/pipeline/cryosam.js';
import type { EngineOptions } from '../src/engines/registry.js';

export interface ClicksBench {
  presets: { preset: string; simulationSeeds: number[]; clickSeeds: number[]; rows: ClickRow[]; sphereDice: MeanSd }[];
}

/** Fractions of the particle radius the clicks are placed at. */
export const CLICK_FRACTIONS = [0, 1 / 3, 1 / 2] as const;

export async function benchClicks(presets: readonly string[], simulationSeeds: readonly number[], clickSeeds: readonly number[], engine: EngineOptions, log: (line: string) => void): Promise<ClicksBench> {
  const out: ClicksBench = { presets: [] };
  for (const preset of presets) {
    const perFraction = new Map<number, ClickRow['runs']>(CLICK_FRACTIONS.map((f) => [f, []]));
    const sphere: number[] = [];
    for (const seed of simulationSeeds) {
      log(`clicks: ${preset} seed ${seed}, ${clickSeeds.length} particles × ${CLICK_FRACTIONS.length} click distances`);
      const sim = await simulateTomogram(PRESETS[preset], { seed });
      const cls = sim.classes.find((c) => c.role === 'target')!;
      const target = { tomogram: sim.tomogram, truth: sim.picks.filter((p) => p.className === cls.id), radiusVoxels: cls.radiusVoxels, instances: sim.instances.data };
      const session = await CryoSam.create(sim.tomogram, { engine, cacheDir: false, normalizeInPlace: true });
      try {
        // Click seeds differ per tomogram so that no particle is chosen twice by the same rule.
        const { rows, sphereDice } = await offCentreClicks(target, { session, fractions: CLICK_FRACTIONS, seeds: clickSeeds.map((s) => 1000 * seed + s) });
        for (const row of rows) perFraction.get(row.fraction)!.push(...row.runs);
        sphere.push(sphereDice.mean);
      } finally {
        await session.dispose();
      }
    }
    out.presets.push({
      preset, simulationSeeds: [...simulationSeeds], clickSeeds: [...clickSeeds],
      rows: CLICK_FRACTIONS.map((fraction) => clickRow(fraction, perFraction.get(fraction)!)),
      sphereDice: meanSd(sphere),
    });
  }
  return out;
}
