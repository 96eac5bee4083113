/**
 * One particle position in cryosam's internal frame: voxel indices of the tomogram it belongs to
 * (x = column, y = row, z = section; voxel centres at integers, data[z][y][x]), at that tomogram's
 * voxel size. Every coordinate format is converted to and from this frame at the file boundary.
 */
export interface Pick {
  x: number;
  y: number;
  z: number;
  /** Similarity / confidence score, higher is better. */
  score?: number;
  /** Class or object name (copick object, RELION class, DeepFinder class number as a string). */
  className?: string;
  /** Instance id within the tomogram (label value in an instance volume). */
  instanceId?: number;
  /** Tomogram the pick belongs to (rlnTomoName, rlnMicrographName, copick run). */
  tomoName?: string;
  /** A point on a filament's axis: the filament's number (RELION rlnHelicalTubeID, from 1) … */
  helicalTubeId?: number;
  /** … and its distance along the filament from the filament's first point, in Å (rlnHelicalTrackLengthAngst). */
  helicalTrackLengthA?: number;
}
