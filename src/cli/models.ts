/**
 * `cryosam models list | pull NAME | verify [NAME]`: the published ONNX exports the tool knows,
 * downloading them (resumable, checksummed) into the models directory, and re-checking them.
 */
import type { Command } from 'commander';
import { CryosamError } from '../errors.js';
import { CATALOG } from '../engines/models/catalog.js';
import { installedModels, pullModel, verifyModels } from '../engines/models/pull.js';
import { modelsDir } from '../paths.js';
import { createCliProgress } from './progress.js';

interface DirOption {
  modelsDir?: string;
}

const MODELS_DIR_HELP = 'models directory (default $CRYOSAM_MODELS or ~/.cache/cryosam/models)';

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description(
      'Manage ONNX model weights (SAM, MobileSAM, EdgeSAM, DINOv2). A model is a folder in the models directory holding ' +
        'the .onnx file(s) and a cryosam-model.json manifest; any export with the same contract can be dropped in by hand.',
    );

  models
    .command('list')
    .description('list the models that can be pulled, and which are installed')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .option('--json', 'print JSON instead of a table')
    .action(async (o: DirOption & { json?: boolean }) => {
      const dir = o.modelsDir ?? modelsDir();
      const installed = new Set(await installedModels(dir));
      const rows = CATALOG.map((e) => ({
        name: e.name,
        installed: installed.has(e.name),
        kind: e.manifest.kind,
        checksums: e.files.every((f) => f.sha256) ? 'published' : 'recorded on pull',
        license: e.license,
        description: e.description,
      }));
      const extra = [...installed].filter((n) => !CATALOG.some((e) => e.name === n));
      if (o.json) {
        process.stdout.write(JSON.stringify({ modelsDir: dir, catalog: rows, otherInstalled: extra }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`models directory: ${dir}\n`);
      for (const r of rows) {
        process.stdout.write(`${r.installed ? '*' : ' '} ${r.name.padEnd(18)} ${r.kind.padEnd(7)} ${r.description} [${r.license}; checksums ${r.checksums}]\n`);
      }
      for (const n of extra) process.stdout.write(`* ${n.padEnd(18)} (installed by hand)\n`);
      process.stdout.write(`(* = installed) get one with: cryosam models pull NAME\n`);
    });

  models
    .command('pull')
    .description(
      'download a model into the models directory: resumable (an interrupted download continues where it stopped), ' +
        'sha256-checked, moved into place only when complete. Set CRYOSAM_MODELS_BASE_URL to use a mirror (<base>/<model>/<file>).',
    )
    .argument('<name>', `model name: ${CATALOG.map((e) => e.name).join(', ')}`)
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .option('--base-url <url>', 'mirror to download from instead of the published URLs (<url>/<model>/<file>)')
    .option('-q, --quiet', 'no progress bar')
    .action(async (name: string, o: DirOption & { baseUrl?: string; quiet?: boolean }) => {
      const progress = createCliProgress(o.quiet);
      try {
        const res = await pullModel(name, {
          modelsDir: o.modelsDir ?? modelsDir(),
          baseUrl: o.baseUrl,
          onProgress: (file, done, total) => progress.onProgress({ stage: file, done, total: total ?? done }),
        });
        progress.stop();
        for (const f of res.files) {
          const how = f.checksum === 'verified' ? 'matches the published sha256' : 'no published sha256: recorded the computed one in the manifest';
          process.stdout.write(`${f.file}: ${f.downloaded ? 'downloaded' : 'already present'}, ${how} (${f.sha256})\n`);
        }
        process.stdout.write(`${name} is ready in ${res.dir}\n`);
      } finally {
        progress.stop();
      }
    });

  models
    .command('verify')
    .description('re-hash the weight files of one installed model (or all) against their manifests')
    .argument('[name]', 'model folder name (default: every installed model)')
    .option('--models-dir <dir>', MODELS_DIR_HELP)
    .action(async (name: string | undefined, o: DirOption) => {
      const dir = o.modelsDir ?? modelsDir();
      const reports = await verifyModels(dir, name);
      if (reports.length === 0) process.stdout.write(`no models installed in ${dir}; get one with: cryosam models pull NAME\n`);
      for (const r of reports) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`);
      const failed = reports.filter((r) => !r.ok).length;
      if (failed) throw new CryosamError(`${failed} model(s) failed verification`, dir);
    });
}
