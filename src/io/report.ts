import { peakRssMiB } from '../memory.js';
import { writeFileAtomic } from './atomic.js';

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
