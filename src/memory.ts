import { readFileSync } from 'node:fs';

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
