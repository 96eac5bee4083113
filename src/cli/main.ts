#!/usr/bin/env node
import { Command } from 'commander';
import { CryosamError } from '../errors.js';
import { registerInfo } from './info.js';
import { registerModels } from './models.js';
import { registerSegment, registerPick, registerCache } from './pipeline.js';
import { registerSimulate } from './simulate.js';
import { registerEval } from './eval.js';
import { registerDemo } from './demo.js';
import { registerView } from './view.js';

const program = new Command();
program
  .name('cryosam')
  .description(
    'Training-free, prompt-based segmentation and particle picking in cryo-electron tomograms.\n' +
      'Coordinates on the command line are voxel indices in x,y,z order (as in IMOD and RELION).',
  )
  .version('0.1.0')
  .showHelpAfterError();

registerInfo(program);
registerSegment(program);
registerPick(program);
registerSimulate(program);
registerEval(program);
registerDemo(program);
registerView(program);
registerModels(program);
registerCache(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CryosamError) {
    process.stderr.write(`cryosam: error: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`cryosam: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(70);
});
