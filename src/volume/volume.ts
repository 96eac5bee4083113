/**
 * In-memory tomograms. Voxels live in one typed array in C order over (z, y, x):
 * index = (z * ny + y) * nx + x, the layout of an MRC file with mapc/mapr/maps = 1/2/3.
 * No per-voxel objects anywhere: everything that touches voxels works on these arrays.
 */
export type Shape3 = readonly [nz: number, ny: number, nx: number];
export type Axis = 'z' | 'y' | 'x';
export const AXES: readonly Axis[] = ['z', 'y', 'x'];

export type VoxelArray = Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** Voxel size in ångström along each axis (cryo-ET tomograms are usually isotropic). */
export interface VoxelSize {
  x: number;
  y: number;
  z: number;
}

export interface Volume<T extends VoxelArray = Float32Array> {
  data: T;
  shape: Shape3;
  voxelSize: VoxelSize;
  /** Position of voxel (0,0,0) in Å, as in the MRC header's origin; zero when unknown. */
  origin?: VoxelSize;
}

/** A copy of the values in a SharedArrayBuffer, which worker threads read without copying. */
export function sharedCopy(data: Float32Array): Float32Array {
  const shared = new Float32Array(new SharedArrayBuffer(data.byteLength));
  shared.set(data);
  return shared;
}

/** The values in a SharedArrayBuffer: the array itself when it is already there, else sharedCopy. */
export function inSharedMemory(data: Float32Array): Float32Array {
  return data.buffer instanceof SharedArrayBuffer ? data : sharedCopy(data);
}

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * Whether a position in voxels lies in the tomogram: voxel centres are at integers, so it rounds to a
 * voxel index 0..n−1 on each axis when it is finite and −0.5 ≤ v < n − 0.5.
 */
export function isInsideVolume(p: { x: number; y: number; z: number }, shape: Shape3): boolean {
  const [nz, ny, nx] = shape;
  const inRange = (v: number, n: number) => Number.isFinite(v) && v >= -0.5 && v < n - 0.5;
  return inRange(p.x, nx) && inRange(p.y, ny) && inRange(p.z, nz);
}

export function isotropic(size: number): VoxelSize {
  return { x: size, y: size, z: size };
}

/** Mean voxel size in Å, for code that treats the grid as isotropic. */
export function meanVoxelSize(v: VoxelSize): number {
  return (v.x + v.y + v.z) / 3;
}

export function createVolume(shape: Shape3, voxelSize: VoxelSize | number = 1): Volume {
  return {
    data: new Float32Array(voxelCount(shape)),
    shape,
    voxelSize: typeof voxelSize === 'number' ? isotropic(voxelSize) : voxelSize,
  };
}
