import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * Peak resident memory of this process so far, in MiB. On Linux from VmHWM: maxRSS survives exec,
 * so a child spawned by a large process (the benchmark's pick) would report its parent's peak.
 */
export function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // No /proc (not Linux): maxRSS, in KiB.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Writes the JSON run report that sits beside a command's outputs: what ran, with what,
 * how long each stage took and how much memory it used.
 */
export async function writeRunReport(path: string, report: Record<string, unknown>): Promise<void> {
  const full = {
    tool: 'cryosam',
    version: '0.1.0',
    createdAt: new Date().toISOString(),
    node: process.version,
    ...report,
    peakRssMiB: Math.round(peakRssMiB()),
  };
  await writeFileAtomic(path, JSON.stringify(full, null, 2) + '\n');
}
