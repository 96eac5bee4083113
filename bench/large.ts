/**
 * Speed and memory of one full single-prompt pick on a large simulated tomogram: the tomogram is
 * simulated here, written as MRC, and picked in a child process (bench/large-pick.ts) so that the
 * per-stage peak RSS is that of the pick alone.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineOptions } from '../src/engines/registry.js';
import { PRESETS, simulateTomogram } from '../src/eval/simulate/index.js';
import { writeMrc } from '../src/io/mrc/index.js';
import type { LargePickInput, LargePickResult } from './large-pick.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');

export interface LargeBench extends LargePickResult {
  preset: string;
  simulateSeconds: number;
}

export async function benchLargePick(preset: string, engine: EngineOptions, seed = 1): Promise<LargeBench> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bench-large-'));
  try {
    const started = performance.now();
    const sim = await simulateTomogram(PRESETS[preset], { seed });
    const simulateSeconds = (performance.now() - started) / 1000;
    const target = sim.classes.find((c) => c.role === 'target');
    if (!target) throw new Error(`preset ${preset} has no target class`);
    const truth = sim.picks.filter((p) => p.className === target.id);
    const tomogram = path.join(dir, 'tomogram.mrc');
    await writeMrc(tomogram, sim.tomogram);
    const first = truth[0];
    const input: LargePickInput = {
      tomogram,
      prompt: { x: Math.round(first.x), y: Math.round(first.y), z: Math.round(first.z) },
      truth,
      radiusVoxels: target.radiusVoxels,
      engine,
    };
    const inputFile = path.join(dir, 'input.json');
    await fs.writeFile(inputFile, JSON.stringify(input));
    const child = path.join(here, compiled ? 'large-pick.js' : 'large-pick.ts');
    const loader = compiled ? [] : ['--import', import.meta.resolve('tsx')];
    const stdout = await runChild(process.execPath, [...loader, child, inputFile]);
    return { preset, simulateSeconds, ...(JSON.parse(stdout) as LargePickResult) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Runs a child with stderr passed through; resolves with its stdout, rejects when it fails. */
function runChild(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve(stdout) : reject(new Error(`large pick failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}
