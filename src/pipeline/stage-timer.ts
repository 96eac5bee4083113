/** Times the stages of a run and records the process's peak memory after each, for run reports. */
import { peakRssMiB } from '../memory.js';
import type { StageReport } from './types.js';

export class StageTimer {
  readonly stages: StageReport[] = [];

  /** @param memoryMiB peak memory so far, in MiB (default: this process's peak resident set). */
  constructor(private readonly memoryMiB: () => number = peakRssMiB) {}

  async time<T>(name: string, run: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    const out = await run();
    this.stages.push({ name, seconds: (performance.now() - t0) / 1000, peakRssMiB: Math.round(this.memoryMiB()) });
    return out;
  }
}
