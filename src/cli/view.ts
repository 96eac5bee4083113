/**
 * `cryosam view`: serves the browser viewer for one tomogram until interrupted.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { describeEngineNames } from '../engines/registry.js';
import { startViewer } from '../viewer/server.js';

interface ViewFlags {
  picks?: string;
  mask?: string;
  out?: string;
  port: number;
  host: string;
  open: boolean;
  engine?: string;
  voxelSize?: number;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0–65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Opens the address in the desktop's browser; only when a person is at a terminal, never in CI. */
function openBrowser(url: string): void {
  if (!process.stdout.isTTY || process.env.CI) return;
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {}); // No browser to open: the printed address is enough.
  child.unref();
}

export function registerView(program: Command): void {
  program
    .command('view')
    .description(
      'Open a tomogram in the browser viewer: three linked slice views, click prompts, Segment and Find all, ' +
        'review picks and export them. Serves on this machine only, with a secret token in the address.',
    )
    .argument('<tomogram>', 'tomogram to view (MRC)')
    .option('--picks <file>', 'picks to show at start (any supported coordinate format)')
    .option('--mask <file>', 'label or binary mask (MRC, same shape as the tomogram) to overlay')
    .option('--out <dir>', 'folder exports are written into (default: <tomogram folder>/cryosam-out)')
    .option('--port <n>', 'TCP port to listen on; 0 picks a free one', portNumber, 0)
    .option('--host <address>', 'interface to listen on; other machines can connect only if not 127.0.0.1', '127.0.0.1')
    .option('--no-open', 'do not open a browser (never opened when stdout is not a terminal or CI is set)')
    .option('--engine <name>', `engine for Segment and Find all: ${describeEngineNames()}`)
    .option('--voxel-size <angstrom>', 'voxel size in Å for exported coordinates (default: from the MRC header)', positive)
    .action(async (tomogram: string, flags: ViewFlags) => {
      const outDir = flags.out ?? path.join(path.dirname(path.resolve(tomogram)), 'cryosam-out');
      const started = performance.now();
      const server = await startViewer({
        tomogram,
        outDir,
        host: flags.host,
        port: flags.port,
        ...(flags.picks ? { picks: flags.picks } : {}),
        ...(flags.mask ? { mask: flags.mask } : {}),
        ...(flags.engine ? { engine: flags.engine } : {}),
        ...(flags.voxelSize ? { voxelSize: flags.voxelSize } : {}),
      });
      process.stdout.write(`cryosam view: serving ${path.basename(tomogram)} at\n  ${server.url}\nPress Ctrl+C to stop.\n`);
      if (flags.open) openBrowser(server.url);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      // Only a session that wrote results leaves a report beside them, under a name no file has yet.
      const report = await server.session.writeReport((performance.now() - started) / 1000);
      if (report) process.stderr.write(`cryosam view: wrote ${server.session.exports().length} export(s) and the report ${report}\n`);
    });
}
