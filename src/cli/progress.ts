import cliProgress from 'cli-progress';
import type { ProgressCallback } from '../progress.js';

/** Bars on screen now: an interrupt stops them so the cursor and line wrapping come back. */
const active = new Set<cliProgress.SingleBar>();

/**
 * A ProgressCallback that draws one bar per stage on stderr. Silent when stderr is not a TTY
 * (CI, pipes) or when quiet is set, so logs stay clean.
 */
export function createCliProgress(quiet = false): { onProgress: ProgressCallback; stop: () => void } {
  const enabled = !quiet && process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let stage = '';
  const stop = () => {
    if (bar) {
      bar.stop();
      active.delete(bar);
    }
    bar = undefined;
  };
  const onProgress: ProgressCallback = (e) => {
    if (!enabled) return;
    if (e.stage !== stage || !bar) {
      stop();
      stage = e.stage;
      bar = new cliProgress.SingleBar(
        { format: `${e.stage.padEnd(18)} [{bar}] {value}/{total} {eta_formatted}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      active.add(bar);
      bar.start(e.total, e.done);
    } else {
      bar.setTotal(e.total);
      bar.update(e.done);
    }
  };
  return { onProgress, stop };
}

/** Stops every bar and gives the terminal back as it was found: cursor shown, line wrapping on. */
export function restoreTerminal(): void {
  for (const bar of active) bar.stop();
  active.clear();
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\x1b[?7h');
}
