/** Running an image encoder over many slices: batched when the export allows it, else one by one. */
import { CryosamError } from '../../errors.js';
import { createSession, DEFAULT_BATCH_SIZE, floatOutput, hasDynamicBatch, requireOutput, Tensor, type ExecutionOptions, type Session } from './session.js';

export class ImageEncoderSession {
  private constructor(
    readonly session: Session,
    readonly file: string,
    readonly inputName: string,
    readonly outputName: string,
    /** Slices per run: the requested batch size for dynamic-batch exports, else 1. */
    readonly batchSize: number,
  ) {}

  static async open(file: string, input: string | undefined, output: string, exec: ExecutionOptions): Promise<ImageEncoderSession> {
    const session = await createSession(file, exec);
    try {
      const inputName = input ?? session.inputNames[0];
      if (!session.inputNames.includes(inputName)) {
        throw new CryosamError(`the model has no input '${inputName}' (inputs: ${session.inputNames.join(', ')})`, file);
      }
      requireOutput(session, output, file);
      const batchSize = hasDynamicBatch(session, inputName, file) ? (exec.batchSize ?? DEFAULT_BATCH_SIZE) : 1;
      return new ImageEncoderSession(session, file, inputName, output, batchSize);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /**
   * Calls `pack` for each batch of items (with the index of its first item; returns the [B,3,S,S]
   * input) and `unpack` with the output tensor.
   */
  async run<T>(
    items: readonly T[],
    side: number,
    pack: (batch: readonly T[], first: number) => Float32Array,
    unpack: (data: Float32Array, dims: readonly number[], first: number, count: number) => void,
  ): Promise<void> {
    for (let start = 0; start < items.length; start += this.batchSize) {
      const batch = items.slice(start, start + this.batchSize);
      const input = new Tensor('float32', pack(batch, start), [batch.length, 3, side, side]);
      const result = await this.session.run({ [this.inputName]: input });
      const { data, dims } = floatOutput(result, this.outputName, this.file);
      unpack(data, dims, start, batch.length);
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
