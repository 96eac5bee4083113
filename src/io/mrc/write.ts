/**
 * Writes volumes as MRC2014 files that ccpem/mrcfile validates: little-endian, canonical axis
 * order, correct statistics. Data stream out in chunks behind a placeholder header, which is
 * filled in last, so statistics cost no extra pass and no second copy of the volume is made.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { CryosamError } from '../../errors.js';
import { voxelCount, type Volume } from '../../volume/volume.js';
import { writeAtomic } from '../atomic.js';
import { encodeMrcHeader, HEADER_BYTES, MODE_NAMES } from './header.js';
import { RunningStats } from './stats.js';

export type WritableVoxels = Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;
export type WritableMode = 0 | 1 | 2 | 6;

export interface WriteMrcOptions {
  /**
   * Storage mode; by default the array's own: Float32Array → 2, Int8Array and Uint8Array → 0
   * (Uint8Array marked unsigned), Int16Array → 1, Uint16Array → 6, Int32Array → 1 when every
   * value fits int16, else 2. Every value must be exactly representable in the chosen mode.
   */
  mode?: WritableMode;
  /** Text for the first header label (at most 80 ASCII characters are kept). */
  label?: string;
}

const CHUNK_VOXELS = 4 << 20;
const HOST_LITTLE_ENDIAN = os.endianness() === 'LE';

function valueRange(data: WritableVoxels): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** The mode to write and, for mode 0, whether the bytes are unsigned. */
function chooseMode(data: WritableVoxels, requested?: WritableMode): { mode: WritableMode; unsigned: boolean } {
  const natural: WritableMode | undefined =
    data instanceof Float32Array ? 2
    : data instanceof Int8Array || data instanceof Uint8Array ? 0
    : data instanceof Int16Array ? 1
    : data instanceof Uint16Array ? 6
    : undefined;
  let mode = requested ?? natural;
  let range: { min: number; max: number } | undefined;
  if (mode === undefined) {
    // Int32Array (label volumes): int16 when it holds every label, else float32 (exact up to 2^24).
    range = valueRange(data);
    mode = range.min >= -32768 && range.max <= 32767 ? 1 : 2;
  }
  if (mode !== 0) return { mode, unsigned: false };
  if (data instanceof Uint8Array || data instanceof Int8Array) return { mode, unsigned: data instanceof Uint8Array };
  range ??= valueRange(data);
  return { mode, unsigned: range.min >= 0 && range.max > 127 };
}

/** A scratch array of the on-disk type, for modes that need conversion. */
function scratchFor(mode: WritableMode, unsigned: boolean, length: number): Int8Array | Uint8Array | Int16Array | Uint16Array | Float32Array {
  switch (mode) {
    case 0:
      return unsigned ? new Uint8Array(length) : new Int8Array(length);
    case 1:
      return new Int16Array(length);
    case 6:
      return new Uint16Array(length);
    default:
      return new Float32Array(length);
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Little-endian bytes of `values` for the file; swaps a copy on big-endian hosts. */
function littleEndianBytes(values: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const bytes = bytesOf(values);
  if (HOST_LITTLE_ENDIAN || values.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = Buffer.from(bytes);
  if (values.BYTES_PER_ELEMENT === 2) copy.swap16();
  else copy.swap32();
  return copy;
}

async function writeFully(file: fs.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes `volume` to `path` atomically (nothing appears at `path` unless the whole file was written).
 * Throws CryosamError naming `path` when the data do not match the shape, hold NaN or infinite values,
 * or hold a value the chosen mode cannot store exactly.
 */
export async function writeMrc(path: string, volume: Volume<WritableVoxels>, options: WriteMrcOptions = {}): Promise<void> {
  const { data, shape } = volume;
  if (!shape.every((n) => Number.isInteger(n) && n >= 1) || data.length !== voxelCount(shape)) {
    throw new CryosamError(`cannot write: ${data.length} voxels do not fill shape ${shape.join('×')} (z×y×x)`, path);
  }
  const { mode, unsigned } = chooseMode(data, options.mode);
  const direct = mode === 2 && data instanceof Float32Array;
  const scratch = direct ? undefined : scratchFor(mode, unsigned, Math.min(CHUNK_VOXELS, data.length));
  const stats = new RunningStats();

  await writeAtomic(path, async (tmp) => {
    const file = await fs.open(tmp, 'w');
    try {
      let position = HEADER_BYTES;
      for (let start = 0; start < data.length; start += CHUNK_VOXELS) {
        const values = data.subarray(start, Math.min(data.length, start + CHUNK_VOXELS));
        stats.add(values);
        if (stats.result().nonFinite > 0) {
          throw new CryosamError('cannot write: the volume holds NaN or infinite values', path);
        }
        let stored: WritableVoxels = values;
        if (scratch) {
          stored = scratch.subarray(0, values.length);
          stored.set(values);
          for (let k = 0; k < values.length; k++) {
            if (stored[k] !== values[k]) {
              throw new CryosamError(
                `cannot write: value ${values[k]} at voxel ${start + k} does not fit mode ${mode} (${unsigned ? 'uint8' : MODE_NAMES[mode]})`,
                path,
              );
            }
          }
        }
        const bytes = littleEndianBytes(stored);
        await writeFully(file, bytes, position);
        position += bytes.byteLength;
      }
      const s = stats.result();
      const header = encodeMrcHeader({
        shape,
        mode,
        voxelSize: volume.voxelSize,
        origin: volume.origin ?? { x: 0, y: 0, z: 0 },
        dmin: s.min,
        dmax: s.max,
        dmean: s.mean,
        rms: s.rms,
        int8Unsigned: mode === 0 ? unsigned : undefined,
        labels: [options.label ?? `cryosam ${new Date().toISOString()}`],
      });
      await writeFully(file, header, 0);
    } finally {
      await file.close();
    }
  });
}
