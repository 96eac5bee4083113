import cliProgress from 'cli-progress';
import type { ProgressCallback } from '../progress.js';

/**
 * A ProgressCallback that draws one bar per stage on stderr. Silent when stderr is not a TTY
 * (CI, pipes) or when quiet is set, so logs stay clean.
 */
export function createCliProgress(quiet = false): { onProgress: ProgressCallback; stop: () => void } {
  const enabled = !quiet && process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let stage = '';
  const stop = () => {
    bar?.stop();
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
      bar.start(e.total, e.done);
    } else {
      bar.setTotal(e.total);
      bar.update(e.done);
    }
  };
  return { onProgress, stop };
}
