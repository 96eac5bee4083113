/**
 * ONNX Runtime sessions for the engines: one place that maps our device names to execution
 * providers, sets the thread count, and turns ORT's provider failures into CryosamErrors.
 */
import ort from 'onnxruntime-node';
import { CryosamError } from '../../errors.js';

export type Device = 'cpu' | 'cuda' | 'webgpu';
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu'];

export interface ExecutionOptions {
  /** Where inference runs; 'cpu' (default) works everywhere, the others need a matching ORT build and hardware. */
  device?: Device;
  /** intraOpNumThreads of each session (default 2). */
  threads?: number;
  /** Slices per encoder call when the export's batch dimension is dynamic (default 4). */
  batchSize?: number;
}

export const DEFAULT_THREADS = 2;
export const DEFAULT_BATCH_SIZE = 4;

// ORT would print provider-load failures to stderr itself; they reach the user as CryosamErrors instead.
ort.env.logLevel = 'fatal';

export type Session = ort.InferenceSession;
export const Tensor = ort.Tensor;

/** Creates a session on the requested device; a provider that cannot start is a CryosamError naming the model. */
export async function createSession(modelPath: string, opts: ExecutionOptions = {}): Promise<Session> {
  const device = opts.device ?? 'cpu';
  if (!DEVICES.includes(device)) {
    throw new CryosamError(`unknown device '${String(device)}' (expected one of ${DEVICES.join(', ')})`, modelPath);
  }
  const threads = opts.threads ?? DEFAULT_THREADS;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new CryosamError(`threads must be a positive integer, got ${threads}`, modelPath);
  }
  try {
    return await ort.InferenceSession.create(modelPath, {
      executionProviders: [device],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 4,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (device !== 'cpu') {
      throw new CryosamError(
        `cannot run on device '${device}': ONNX Runtime could not start its ${device} execution provider (${reason}). ` +
          `Use --device cpu, or install an onnxruntime-node build and drivers with ${device} support.`,
        modelPath,
      );
    }
    throw new CryosamError(`not a loadable ONNX model (${reason})`, modelPath);
  }
}

/** Shape of a session input as declared by the export (numbers, or strings for symbolic dimensions). */
export function inputShape(session: Session, name: string, file: string): ReadonlyArray<number | string> {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (!meta) {
    throw new CryosamError(`the model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`, file);
  }
  return meta.isTensor ? meta.shape : [];
}

/** True when the export's first input dimension is symbolic (or -1), i.e. several images fit in one call. */
export function hasDynamicBatch(session: Session, inputName: string, file: string): boolean {
  const dim = inputShape(session, inputName, file)[0];
  return typeof dim === 'string' || (typeof dim === 'number' && dim < 0);
}

export function requireOutput(session: Session, name: string, file: string): void {
  if (!session.outputNames.includes(name)) {
    throw new CryosamError(`the model has no output '${name}' (outputs: ${session.outputNames.join(', ')})`, file);
  }
}

/** Reads a float32 output, with a clear error when the export returns something else. */
export function floatOutput(result: ort.InferenceSession.ReturnType, name: string, file: string): { data: Float32Array; dims: readonly number[] } {
  const value = result[name];
  if (!value || !(value.data instanceof Float32Array)) {
    throw new CryosamError(`output '${name}' is missing or not float32`, file);
  }
  return { data: value.data, dims: value.dims };
}
