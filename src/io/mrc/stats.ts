/**
 * Minimum, maximum, mean and RMS deviation (standard deviation about the mean, as MRC headers and
 * ccpem/mrcfile define "rms") accumulated over chunks, so files of any size are summarised in one
 * streamed pass. Chunks are merged with Chan et al.'s pairwise formula, which stays accurate
 * where a plain sum of squares would cancel.
 */
export interface DensityStats {
  min: number;
  max: number;
  mean: number;
  rms: number;
  count: number;
  /** NaN or infinite voxels, left out of the other figures. */
  nonFinite: number;
}

export class RunningStats {
  private count = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private nonFinite = 0;

  add(values: ArrayLike<number>): void {
    let n = 0;
    let sum = 0;
    let min = this.min;
    let max = this.max;
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (v - v !== 0) {
        this.nonFinite++;
        continue;
      }
      n++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.min = min;
    this.max = max;
    if (n === 0) return;
    const chunkMean = sum / n;
    let chunkM2 = 0;
    for (let k = 0; k < values.length; k++) {
      const d = values[k] - chunkMean;
      if (d - d === 0) chunkM2 += d * d;
    }
    const total = this.count + n;
    const delta = chunkMean - this.mean;
    this.m2 += chunkM2 + (delta * delta * this.count * n) / total;
    this.mean += (delta * n) / total;
    this.count = total;
  }

  result(): DensityStats {
    const empty = this.count === 0;
    return {
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      mean: this.mean,
      rms: empty ? 0 : Math.sqrt(this.m2 / this.count),
      count: this.count,
      nonFinite: this.nonFinite,
    };
  }
}
