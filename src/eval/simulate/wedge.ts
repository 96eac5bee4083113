/**
 * The missing wedge of single-axis tilt series: tilting about y with the beam along z measures,
 * by the projection-slice theorem, the central planes that contain ky and whose normals lie within
 * ±maxTilt of z. Their union leaves out the Fourier components whose direction in the (kx, kz)
 * plane is within 90° − maxTilt of the kz axis, i.e. |kz| > |kx| · tan(maxTilt).
 */
import type { TransferFunction } from './fourier.js';

/** 1 for measured components, 0 inside the wedge; maxTiltDeg = 60 for a ±60° tilt series. */
export function missingWedge(maxTiltDeg: number): TransferFunction {
  if (!(maxTiltDeg >= 0 && maxTiltDeg <= 90)) throw new RangeError(`tilt range must be in [0, 90]°, got ${maxTiltDeg}`);
  const slope = Math.tan((maxTiltDeg * Math.PI) / 180);
  return (kz, _ky, kx) => (Math.abs(kz) > Math.abs(kx) * slope ? 0 : 1);
}
