#!/usr/bin/env node
import { Command } from 'commander';
import { CryosamError } from '../errors.js';
import { removePendingTempFiles } from '../io/atomic.js';
import { registerInfo } from './info.js';
import { registerModels } from './models.js';
import { registerSegment, registerPick, registerReference, registerCache } from './pipeline.js';
import { registerSimulate } from './simulate.js';
import { registerEval } from './eval.js';
import { registerDemo } from './demo.js';
import { registerView } from './view.js';
import { registerBatch } from './batch.js';
import { restoreTerminal } from './progress.js';

const program = new Command();
program
  .name('cryosam')
  .description(
    'Training-free, prompt-based segmentation and particle picking in cryo-electron tomograms.\n' +
      'Coordinates on the command line are voxel indices in x,y,z order (as in IMOD and RELION).',
  )
  .version('0.1.0');

registerInfo(program);
registerSegment(program);
registerPick(program);
registerReference(program);
registerBatch(program);
registerSimulate(program);
registerEval(program);
registerDemo(program);
registerView(program);
registerModels(program);
registerCache(program);

/** A usage error ends with one line pointing to the command's help, so the error itself stays on screen. */
function pointToHelp(cmd: Command, names: string[]): void {
  const full = [...names, cmd.name()];
  cmd.showHelpAfterError(`(run '${full.join(' ')} --help' for the options)`);
  for (const sub of cmd.commands) pointToHelp(sub, full);
}
pointToHelp(program, []);

/**
 * Ctrl-C (or a kill) in the middle of a command: stop the progress bars (restoring the cursor and
 * line wrapping), remove the temporary files of outputs being written, say so, exit 128 + signal.
 * The viewer handles these signals itself: it writes its session report before it stops.
 */
program.hook('preAction', (_program, action) => {
  if (action.name() === 'view') return;
  const stop = (signal: 'SIGINT' | 'SIGTERM', code: number) => () => {
    restoreTerminal();
    removePendingTempFiles();
    process.stderr.write(`cryosam: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; no output was left half-written\n`);
    process.exit(code);
  };
  process.once('SIGINT', stop('SIGINT', 130));
  process.once('SIGTERM', stop('SIGTERM', 143));
});

/** Words for the system errors a user can act on (a file or folder that is missing, locked or full). */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of this path is not a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  EEXIST: 'already exists',
};

program.parseAsync(process.argv).catch((err: unknown) => {
  restoreTerminal();
  if (err instanceof CryosamError) {
    process.stderr.write(`cryosam: error: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const sys = err as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && SYSTEM_ERRORS[sys.code]) {
    process.stderr.write(`cryosam: error: ${sys.path ? `${sys.path}: ` : ''}${SYSTEM_ERRORS[sys.code]} (${sys.syscall ?? sys.code})\n`);
    process.exit(1);
  }
  // A bug: one line for the user, the stack on request for the report.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`cryosam: unexpected error: ${message}\n`);
  if (process.env.CRYOSAM_DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
  else process.stderr.write(`(this is a bug in cryosam; run again with CRYOSAM_DEBUG=1 to see where, and report it)\n`);
  process.exit(70);
});
