/** Running the cryosam CLI from bench sections, as a user runs it: a child process per command. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPicks } from '../src/io/coords/index.js';
import type { Pick } from '../src/io/coords/pick.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The command's stdout; a non-zero exit throws with its stderr. */
export async function must(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`cryosam ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Wall-clock seconds of `run`. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

/** A simulated tomogram's target particles, as a scorer and a clicking user need them. */
export interface SimulatedTargets {
  /** Ground-truth centres of the target class (voxels). */
  truth: Pick[];
  /** The target's equivalent-sphere radius in voxels: the match distance of cryosam eval --labels. */
  radius: number;
  /** The first target's centre, rounded, as `--at x,y,z`. */
  click: string;
}

/** `cryosam simulate OUT ARGS… -q`, then the target class's truth read from OUT. */
export async function simulateTargets(out: string, args: string[]): Promise<SimulatedTargets> {
  await must(['simulate', out, ...args, '-q']);
  const simulation = JSON.parse(await fs.readFile(path.join(out, 'simulation.json'), 'utf8')) as { classes: { id: string; role: string; radiusVoxels: number }[] };
  const target = simulation.classes.find((c) => c.role === 'target') ?? simulation.classes[0];
  const truth = await readPicks(path.join(out, `picks_${target.id}.csv`), { voxelSize: 10 });
  return { truth, radius: target.radiusVoxels, click: [truth[0].x, truth[0].y, truth[0].z].map(Math.round).join(',') };
}
