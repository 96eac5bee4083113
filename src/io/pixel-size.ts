/**
 * The one rule for pixel and voxel sizes read from files (STAR optics tables, MRC headers): a
 * size in Å must be finite and within PIXEL_SIZE_RANGE. Below 0.1 Å no electron microscope
 * samples (detector pixels are ≥ 0.3 Å or so at the highest magnifications); above 1000 Å a
 * tomogram would be binned beyond any use. Outside it a value is a unit mistake (nm or m for Å),
 * a blank written as 0, or garbage, and every coordinate scaled by it would land in the wrong place.
 */
export const PIXEL_SIZE_RANGE = { min: 0.1, max: 1000 } as const;

/** True when `value` Å is a pixel size a real file could hold: finite, > 0.1 and ≤ 1000. */
export function isPlausiblePixelSize(value: number): boolean {
  return Number.isFinite(value) && value > PIXEL_SIZE_RANGE.min && value <= PIXEL_SIZE_RANGE.max;
}

/** Words for the rule, for error messages: "must be more than 0.1 Å and at most 1000 Å". */
export const PIXEL_SIZE_RULE = `must be more than ${PIXEL_SIZE_RANGE.min} Å and at most ${PIXEL_SIZE_RANGE.max} Å`;
