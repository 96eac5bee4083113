import { CryosamError } from '../../errors.js';
import type { Shape3 } from '../../volume/volume.js';

/** What a coordinate file needs to know about the tomogram its picks belong to. */
export interface CoordFrame {
  /** Å per voxel of the tomogram. */
  voxelSize: number;
  /** [nz, ny, nx] in voxels; needed for RELION 5's centred coordinates. */
  shape?: Shape3;
  /**
   * Å per unit of the file's pixel coordinates when it differs from voxelSize, e.g. RELION 4
   * coordinates in unbinned tilt-series pixels while the tomogram is binned.
   */
  coordinatePixelSize?: number;
}

function positive(value: number | undefined): boolean {
  return value !== undefined && Number.isFinite(value) && value > 0;
}

/** Rejects frames that would turn every coordinate into NaN or infinity. */
export function checkFrame(frame: CoordFrame, file?: string): void {
  if (!positive(frame.voxelSize)) {
    throw new CryosamError(`voxel size must be a positive number of Å, got ${frame.voxelSize}`, file);
  }
  if (frame.coordinatePixelSize !== undefined && !positive(frame.coordinatePixelSize)) {
    throw new CryosamError(`coordinate pixel size must be a positive number of Å, got ${frame.coordinatePixelSize}`, file);
  }
  if (frame.shape && !frame.shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new CryosamError(`tomogram shape must be three positive integers, got ${frame.shape.join('×')}`, file);
  }
}

/** The tomogram shape, for formats that cannot do without it. */
export function requireShape(frame: CoordFrame, format: string, file?: string): Shape3 {
  if (!frame.shape) {
    throw new CryosamError(`${format} coordinates are relative to the tomogram centre: the tomogram shape is needed`, file);
  }
  return frame.shape;
}
