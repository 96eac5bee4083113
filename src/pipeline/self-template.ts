/**
 * Self-template verification: is a segmented proposal the same particle as the prompts, in 3D?
 *
 * Feature similarity proposes "something like the prompt", and at 10 Å/voxel and low SNR same-size
 * look-alikes (mitoribosomes, TRiC, proteasomes) score as high as the targets. The prompts carry
 * more than their features: their density. Each candidate's density around its density centre is
 * aligned to a reference made from the prompted particles (an exhaustive search over a rotation
 * grid, then a local refinement) and scored by the normalised cross-correlation (NCC) inside a
 * sphere larger than the particle, so the silhouette counts as well as the interior. The reference
 * is then refined as in subtomogram averaging: the prompts and the best-scoring fraction of the
 * candidates, each rotated into the reference frame, are averaged, and everything is scored again.
 * No external template is used: the reference is the user's own particles.
 *
 * The comparison is made in Fourier space over the components that both the particle and the
 * reference measured: the tomogram's missing wedge (src/volume/missing-wedge.ts) is left out of the
 * particle, and each component of the rotated reference is weighted by the share of its averaged
 * particles that measured it (constrained cross-correlation, as in subtomogram averaging; the
 * average itself is wedge-compensated). Without that, a particle's best rotation is the one that
 * lays the reference's wedge onto its own. Measured on the realistic preset (seed 3, two prompts,
 * rotations of the ribosomes against the simulation's true poses): comparing all components, the
 * median error was 87–134° after 4 rounds, no better than random; with the wedge left out it was
 * 90–101° after the first round (a single noisy prompt) and 11–13° after 4 (83–89% within 20°), and
 * the averaged reference sharpens with the poses.
 *
 * Rotations act on (z, y, x) column vectors; a candidate with rotation R matches when
 * candidate(c + o) ≈ reference(centre + R·o) for offsets o in the mask, i.e. when the candidate's
 * spectrum at k equals the reference's at R·k.
 */
import { noProgress, type ProgressCallback } from '../progress.js';
import { inSharedMemory, type Volume } from '../volume/volume.js';
import { fastFftSize } from '../volume/fft.js';
import { fftFrequency, rfft3d, type TransferFunction } from '../volume/fourier.js';
import { sampleTrilinear } from '../volume/interpolate.js';
import { CryosamError } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { AlignWorkers, type AlignWorkerData } from './align-workers.js';
import { IDENTITY, multiply, neighbourTurns, rotationGrid, transpose, type Matrix3 } from './rotations.js';
import type { VoxelPoint } from './types.js';

export interface SelfTemplateOptions {
  /** Angular step of the exhaustive rotation search, in degrees; refinements halve it three times. */
  rotationStepDeg?: number;
  /** Radius of the comparison sphere in equivalent-sphere radii of the prompted particles. */
  maskRadiusFactor?: number;
  /** Scoring rounds; each round after the first scores against the average of the previous round's best. */
  rounds?: number;
  /** Fraction of the found particles (best scores first) averaged into the reference with the prompts. */
  averageFraction?: number;
}

export type ResolvedSelfTemplateOptions = Required<SelfTemplateOptions>;

/** Largest comparison-sphere radius in samples: bigger particles are sampled at a coarser stride. */
const MAX_SAMPLE_RADIUS = 18;
/** Width in samples of the mask's cosine edge (a hard edge would ring across Fourier space). */
const MASK_EDGE = 2;
/** Refinement levels: each turns the best rotation by half the previous level's angle. */
const REFINEMENTS = 3;
/** Rotations of the grid whose rotated reference spectra are held at once. */
const ROTATION_BLOCK = 48;
/** The reference is zero-padded by this factor before its transform, so that its spectrum interpolates well. */
const PAD = 2;
/** Components of an average that fewer than this fraction of its particles measured are left out. */
const MIN_COVERAGE = 0.01;

/** Each particle's best NCC with a reference and the rotation that gives it. */
export interface Alignment {
  scores: Float64Array;
  rotations: Matrix3[];
}

/** out[i] = volume(c + R·o_i) for offsets o (z, y, x) in voxels. */
function sampleRotated(volume: Volume, c: VoxelPoint, R: Matrix3, offsets: Float64Array, out: Float32Array): Float32Array {
  for (let i = 0, k = 0; k < offsets.length; i++, k += 3) {
    const z = offsets[k], y = offsets[k + 1], x = offsets[k + 2];
    out[i] = sampleTrilinear(volume, c.z + R[0] * z + R[1] * y + R[2] * x, c.y + R[3] * z + R[4] * y + R[5] * x, c.x + R[6] * z + R[7] * y + R[8] * x);
  }
  return out;
}

/**
 * A box of side 2·half + 1 placed in an n³ box (n ≥ side) with its centre at index 0: offsets
 * −half..half go to index (offset mod n), so a transform's phases are relative to the centre.
 */
function centredAtOrigin(box: Float32Array, half: number, n: number): Float32Array {
  const side = 2 * half + 1;
  const out = new Float32Array(n ** 3);
  for (let z = 0, k = 0; z < side; z++) for (let y = 0; y < side; y++) for (let x = 0; x < side; x++, k++) {
    out[((((z - half + n) % n) * n + ((y - half + n) % n)) * n) + ((x - half + n) % n)] = box[k];
  }
  return out;
}

/**
 * The Fourier components a comparison uses: those of an n³ box inside the sphere |k| ≤ ½ cycle per
 * sample (the corners hold only aliased noise), measured by the tomogram, without the mean (k = 0).
 * Each is stored once from the half spectrum, with weight 2 where its Hermitian twin is implied.
 * Plain typed arrays, so that a worker thread gets them without the tomogram's transfer function.
 */
export interface Components {
  readonly n: number;
  readonly count: number;
  /** Frequencies (z, y, x) in cycles per sample. */
  readonly k: Float64Array;
  readonly weight: Float32Array;
  /** Index into an n³ half spectrum (rfft3d layout). */
  readonly index: Int32Array;
}

function measuredComponents(n: number, measured: TransferFunction | undefined): Components {
  const nxh = Math.floor(n / 2) + 1;
  const k: number[] = [], weight: number[] = [], index: number[] = [];
  for (let z = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < nxh; x++) {
    const kz = fftFrequency(z, n), ky = fftFrequency(y, n), kx = x / n;
    const r2 = kz * kz + ky * ky + kx * kx;
    if (r2 === 0 || r2 > 0.25 || (measured && measured(kz, ky, kx) < 0.5)) continue;
    k.push(kz, ky, kx);
    weight.push(x === 0 || 2 * x === n ? 1 : 2);
    index.push((z * n + y) * nxh + x);
  }
  return { n, count: weight.length, k: Float64Array.from(k), weight: Float32Array.from(weight), index: Int32Array.from(index) };
}

/**
 * A particle's components as the comparison reads them: (re, im) pairs scaled to unit weighted
 * norm, and each component's share of that norm (w·|P|²), which weighs the particle's norm over
 * the part of Fourier space the reference covers.
 */
function particleComponents(c: Components, re: Float32Array, im: Float32Array, values: Float32Array, power: Float32Array): void {
  let norm = 0;
  for (let j = 0; j < c.count; j++) {
    const a = re[c.index[j]], b = im[c.index[j]];
    values[2 * j] = a;
    values[2 * j + 1] = b;
    power[j] = c.weight[j] * (a * a + b * b);
    norm += power[j];
  }
  const inv = norm > 0 ? 1 / norm : 0;
  for (let j = 0; j < c.count; j++) {
    values[2 * j] *= Math.sqrt(inv);
    values[2 * j + 1] *= Math.sqrt(inv);
    power[j] *= inv;
  }
}

/**
 * A reference rotated onto the particles' components, ready for NCCs: `values` holds w·c·G/‖G‖
 * per component (G the reference's value, c its coverage, ‖G‖² = Σ w·c·|G|²) and `coverage` c.
 * The NCC with a particle P is then Σ P·values / sqrt(Σ coverage·w|P|²): the constrained
 * cross-correlation over the components both measured.
 */
export interface RotatedReference {
  values: Float32Array;
  coverage: Float32Array;
}

/**
 * The spectrum of a reference, zero-padded for interpolation, with its coverage: the fraction of
 * the averaged particles whose tilt series measured each component (1 everywhere without a wedge).
 * Where the coverage is partial the average is divided by it (a wedge-compensated average), so
 * each component keeps its amplitude however many particles measured it.
 */
export class ReferenceSpectrum {
  /**
   * @param m side of the padded box (`ReferenceSpectrum.side`).
   * @param re, im its half spectrum (rfft3d layout), wedge-compensated where `cover` is given.
   * @param cover the coverage of each component, or undefined for full coverage.
   */
  constructor(
    readonly m: number,
    readonly re: Float32Array,
    readonly im: Float32Array,
    readonly cover: Float32Array | undefined,
  ) {}

  /** Side of the padded box whose spectrum a reference for n³ particle boxes keeps. */
  static side(n: number): number {
    return fastFftSize(PAD * n);
  }

  /**
   * @param masked the masked average, a box of side 2·half + 1 around the reference centre.
   * @param cover the coverage of each component of the padded half spectrum (`coverageGrid`), or undefined for full coverage.
   */
  static fromBox(masked: Float32Array, half: number, n: number, cover: Float32Array | undefined): ReferenceSpectrum {
    const m = ReferenceSpectrum.side(n);
    const { re, im } = rfft3d(centredAtOrigin(masked, half, m), [m, m, m]);
    if (cover) {
      for (let i = 0; i < re.length; i++) {
        const gain = cover[i] >= MIN_COVERAGE ? 1 / cover[i] : 0;
        re[i] *= gain;
        im[i] *= gain;
      }
    }
    return new ReferenceSpectrum(m, re, im, cover);
  }

  /** `coverage` at every component of the padded half spectrum for n³ particle boxes (frequencies in cycles per sample). */
  static coverageGrid(n: number, coverage: (kz: number, ky: number, kx: number) => number): Float32Array {
    const m = ReferenceSpectrum.side(n), nxh = Math.floor(m / 2) + 1;
    const cover = new Float32Array(m * m * nxh);
    for (let z = 0, i = 0; z < m; z++) for (let y = 0; y < m; y++) for (let x = 0; x < nxh; x++, i++) cover[i] = coverage(fftFrequency(z, m), fftFrequency(y, m), x / m);
    return cover;
  }

  /**
   * The reference at R·k for each component frequency k, by trilinear interpolation of the padded
   * spectrum (negative kx from Hermitian symmetry), as a RotatedReference.
   */
  rotated(components: Components, R: Matrix3, out: RotatedReference): RotatedReference {
    const { m, re, im, cover } = this;
    const nxh = Math.floor(m / 2) + 1;
    const { k: kk, weight } = components;
    const { values, coverage } = out;
    let norm = 0;
    for (let j = 0; j < components.count; j++) {
      const kz = kk[3 * j], ky = kk[3 * j + 1], kx = kk[3 * j + 2];
      let qz = (R[0] * kz + R[1] * ky + R[2] * kx) * m;
      let qy = (R[3] * kz + R[4] * ky + R[5] * kx) * m;
      let qx = (R[6] * kz + R[7] * ky + R[8] * kx) * m;
      // F(−q) = conj F(q): look up the half with qx ≥ 0.
      let sign = 1;
      if (qx < 0) (qz = -qz), (qy = -qy), (qx = -qx), (sign = -1);
      const z0 = Math.floor(qz), y0 = Math.floor(qy), x0 = Math.floor(qx);
      const fz = qz - z0, fy = qy - y0, fx = qx - x0;
      let a = 0, b = 0, c = cover ? 0 : 1;
      for (let dz = 0; dz < 2; dz++) {
        const wz = dz ? fz : 1 - fz;
        const iz = (((z0 + dz) % m) + m) % m;
        for (let dy = 0; dy < 2; dy++) {
          const wzy = wz * (dy ? fy : 1 - fy);
          const row = (iz * m + ((((y0 + dy) % m) + m) % m)) * nxh;
          for (let dx = 0; dx < 2; dx++) {
            // x0 + 1 passes the half spectrum only at |R·k| = ½ cycle per sample, with weight ~0.
            const x = x0 + dx;
            if (x >= nxh) continue;
            const w = wzy * (dx ? fx : 1 - fx);
            a += w * re[row + x];
            b += w * im[row + x];
            if (cover) c += w * cover[row + x];
          }
        }
      }
      const wc = weight[j] * c;
      values[2 * j] = wc * a;
      values[2 * j + 1] = wc * sign * b;
      coverage[j] = c;
      norm += wc * (a * a + b * b);
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < 2 * components.count; i++) values[i] *= inv;
    return out;
  }
}

/**
 * What a ParticleSet is made of, as a worker thread (src/pipeline/align-worker.ts) rebuilds it: typed
 * arrays on SharedArrayBuffers arrive as views of the same memory, so the workers write and read
 * the particles' components where the main thread does.
 */
export interface ParticleSetLayout {
  tomogram: Volume;
  centres: readonly VoxelPoint[];
  equivalentRadius: number;
  opts: ResolvedSelfTemplateOptions;
  components: Components;
  /** Unit-norm component vectors of the particles, one after another, and their per-component power. */
  values: Float32Array;
  power: Float32Array;
}

/**
 * Particles (density centres) of one tomogram, each sampled once inside the soft-edged comparison
 * sphere and kept as its measured Fourier components, and the references they are aligned to:
 * boxes around the reference centre at the same sampling stride.
 */
export class ParticleSet {
  /** Sampling stride in voxels. */
  private readonly stride: number;
  /** Box offsets in voxels (z, y, x), −half..half samples on each axis. */
  private readonly boxOffsets: Float64Array;
  private readonly half: number;
  /** Soft mask over the box. */
  private readonly mask: Float32Array;
  private readonly n: number;
  private readonly components: Components;
  private readonly grid: Matrix3[];
  private readonly turns: Matrix3[][];
  private readonly values: Float32Array;
  private readonly power: Float32Array;

  /**
   * The particles are not sampled yet (`sample`).
   * @param arrays where the components live: new arrays for this thread, new SharedArrayBuffers for
   * worker threads, or (in a worker) the shared arrays of the main thread's set.
   */
  constructor(
    private readonly tomogram: Volume,
    private readonly centres: readonly VoxelPoint[],
    private readonly equivalentRadius: number,
    private readonly opts: ResolvedSelfTemplateOptions,
    private readonly measured: TransferFunction | undefined,
    arrays: 'local' | 'shared' | Pick<ParticleSetLayout, 'components' | 'values' | 'power'>,
  ) {
    const radiusVoxels = Math.max(2, opts.maskRadiusFactor * equivalentRadius);
    this.stride = Math.max(1, Math.ceil(radiusVoxels / MAX_SAMPLE_RADIUS));
    const radius = radiusVoxels / this.stride;
    this.half = Math.ceil(radius + MASK_EDGE / 2);
    const side = 2 * this.half + 1;
    this.boxOffsets = new Float64Array(3 * side ** 3);
    this.mask = new Float32Array(side ** 3);
    for (let z = -this.half, k = 0; z <= this.half; z++) for (let y = -this.half; y <= this.half; y++) for (let x = -this.half; x <= this.half; x++, k++) {
      this.boxOffsets.set([z * this.stride, y * this.stride, x * this.stride], 3 * k);
      const r = Math.hypot(z, y, x) - (radius - MASK_EDGE / 2);
      this.mask[k] = r <= 0 ? 1 : r >= MASK_EDGE ? 0 : 0.5 + 0.5 * Math.cos((Math.PI * r) / MASK_EDGE);
    }
    this.n = fastFftSize(side);
    this.grid = rotationGrid(opts.rotationStepDeg);
    const step = (opts.rotationStepDeg * Math.PI) / 180;
    this.turns = Array.from({ length: REFINEMENTS }, (_, k) => neighbourTurns(step / 2 ** (k + 1)));
    if (typeof arrays === 'object') {
      ({ components: this.components, values: this.values, power: this.power } = arrays);
    } else {
      this.components = measuredComponents(this.n, measured);
      const floats = (length: number) => new Float32Array(arrays === 'shared' ? new SharedArrayBuffer(4 * length) : new ArrayBuffer(4 * length));
      this.values = floats(centres.length * 2 * this.components.count);
      this.power = floats(centres.length * this.components.count);
    }
  }

  get layout(): ParticleSetLayout {
    const { tomogram, centres, equivalentRadius, opts, components, values, power } = this;
    return { tomogram, centres, equivalentRadius, opts, components, values, power };
  }

  get size(): number {
    return this.centres.length;
  }

  /** Particles from..to-1 sampled and stored as their components. */
  sample(from: number, to: number): void {
    const count = this.components.count;
    const box = new Float32Array((2 * this.half + 1) ** 3);
    for (let i = from; i < to; i++) {
      sampleRotated(this.tomogram, this.centres[i], IDENTITY, this.boxOffsets, box);
      const spectrum = rfft3d(centredAtOrigin(this.masked(box), this.half, this.n), [this.n, this.n, this.n]);
      particleComponents(this.components, spectrum.re, spectrum.im, this.values.subarray(2 * i * count, 2 * (i + 1) * count), this.power.subarray(i * count, (i + 1) * count));
    }
  }

  /** A box with its masked mean removed and the soft mask applied. */
  private masked(box: Float32Array): Float32Array {
    let sum = 0, weight = 0;
    for (let k = 0; k < box.length; k++) (sum += this.mask[k] * box[k]), (weight += this.mask[k]);
    const mean = sum / weight;
    return box.map((v, k) => (v - mean) * this.mask[k]);
  }

  /**
   * The average of `members`, each turned into the reference frame by its rotation (`rotationOf[i]`
   * for particle i: reference(centre + y) ≈ particle(c + Rᵀ·y)). With no rotations yet, the first member as it is.
   * Member i measured the reference frequency k where the tomogram measured Rᵢᵀ·k.
   */
  reference(members: readonly number[], rotationOf?: readonly Matrix3[]): ReferenceSpectrum {
    const rotations = members.map((i) => rotationOf?.[i] ?? IDENTITY);
    return this.referenceFromAverage(this.average(members, rotations), this.coverage(rotations));
  }

  /**
   * The coverage of an average of particles turned by `rotations` (ReferenceSpectrum.coverageGrid),
   * or undefined where the tomogram measured everything.
   */
  coverage(rotations: readonly Matrix3[]): Float32Array | undefined {
    const measured = this.measured;
    return measured && ReferenceSpectrum.coverageGrid(this.n, (kz, ky, kx) => {
      let c = 0;
      for (const R of rotations) c += measured(R[0] * kz + R[3] * ky + R[6] * kx, R[1] * kz + R[4] * ky + R[7] * kx, R[2] * kz + R[5] * ky + R[8] * kx);
      return c / rotations.length;
    });
  }

  /** A reference from an average of this set's particles (`average`) and its coverage (`coverage`). */
  referenceFromAverage(average: Float32Array, cover: Float32Array | undefined): ReferenceSpectrum {
    return ReferenceSpectrum.fromBox(this.masked(average), this.half, this.n, cover);
  }

  /** A reference from a box sampled elsewhere (its wedge unknown: every component counts as measured). */
  referenceFromBox(box: Float32Array): ReferenceSpectrum {
    return ReferenceSpectrum.fromBox(this.masked(box), this.half, this.n, undefined);
  }

  /** Side of the padded box of this set's references. */
  get referenceSide(): number {
    return ReferenceSpectrum.side(this.n);
  }

  /** The plain average of the members' boxes, each turned into the reference frame (z, y, x samples). */
  average(members: readonly number[], rotations: readonly Matrix3[]): Float32Array {
    const side = 2 * this.half + 1;
    const sum = new Float32Array(side ** 3);
    const sampled = new Float32Array(side ** 3);
    members.forEach((i, k) => {
      sampleRotated(this.tomogram, this.centres[i], transpose(rotations[k]), this.boxOffsets, sampled);
      for (let v = 0; v < sum.length; v++) sum[v] += sampled[v] / members.length;
    });
    return sum;
  }

  /** Box side in samples, and the sampling stride in voxels. */
  get box(): { size: number; stride: number } {
    return { size: 2 * this.half + 1, stride: this.stride };
  }

  /** Rotations in the grid of the exhaustive search. */
  get gridSize(): number {
    return this.grid.length;
  }

  /** Rotation k of the grid; IDENTITY for −1 (no rotation scored). */
  gridRotation(k: number): Matrix3 {
    return k < 0 ? IDENTITY : this.grid[k];
  }

  /** Room for `rotations` rotated references. */
  rotatedReferences(rotations = ROTATION_BLOCK): RotatedReference {
    const count = this.components.count;
    return { values: new Float32Array(rotations * 2 * count), coverage: new Float32Array(rotations * count) };
  }

  /** NCC of particle i with the rotated reference at slot `at` of `ref`. */
  private ncc(i: number, ref: RotatedReference, at = 0): number {
    const { values, power } = this;
    const count = this.components.count;
    let num = 0, den = 0;
    const p = 2 * i * count, q = i * count, r = 2 * at * count, c = at * count;
    for (let j = 0; j < count; j++) {
      num += values[p + 2 * j] * ref.values[r + 2 * j] + values[p + 2 * j + 1] * ref.values[r + 2 * j + 1];
      den += power[q + j] * ref.coverage[c + j];
    }
    return den > 0 ? num / Math.sqrt(den) : 0;
  }

  /**
   * The exhaustive search over grid rotations k0..k1-1, every particle: raises scores[i] to particle
   * i's best NCC there, with best[i] its grid index. Only a higher score replaces the best, so of
   * equal scores the first in grid order stays, and parts of the grid searched apart (scores from
   * −∞) then merged in grid order the same way give what one pass over the grid gives.
   * @param block room for k1 − k0 ≤ ROTATION_BLOCK rotated references (`rotatedReferences()`).
   */
  search(reference: ReferenceSpectrum, k0: number, k1: number, block: RotatedReference, scores: Float64Array, best: Int32Array): void {
    const { components, grid } = this;
    const count = components.count;
    for (let k = k0; k < k1; k++) {
      const at = k - k0;
      reference.rotated(components, grid[k], {
        values: block.values.subarray(2 * at * count, 2 * (at + 1) * count),
        coverage: block.coverage.subarray(at * count, (at + 1) * count),
      });
    }
    for (let i = 0; i < this.centres.length; i++) {
      for (let k = k0; k < k1; k++) {
        const s = this.ncc(i, block, k - k0);
        if (s > scores[i]) (scores[i] = s), (best[i] = k);
      }
    }
  }

  /**
   * Particle i's rotation from the search, refined by hill climbing, and its score.
   * @param trial room for one rotated reference.
   */
  refine(reference: ReferenceSpectrum, i: number, score: number, rotation: Matrix3, trial: RotatedReference): { score: number; rotation: Matrix3 } {
    for (const level of this.turns) {
      const centre = rotation;
      for (const turn of level) {
        const R = multiply(centre, turn);
        const s = this.ncc(i, reference.rotated(this.components, R, trial));
        if (s > score) (score = s), (rotation = R);
      }
    }
    return { score, rotation };
  }

  /**
   * Every particle aligned to `reference`: exhaustive search over the grid, then hill climbing.
   * The grid's rotated references are made a block at a time, so that memory stays at a block's.
   */
  align(reference: ReferenceSpectrum, onParticle: (i: number) => void): Alignment {
    const n = this.centres.length;
    const scores = new Float64Array(n).fill(-Infinity);
    const best = new Int32Array(n).fill(-1);
    const block = this.rotatedReferences();
    for (let k0 = 0; k0 < this.grid.length; k0 += ROTATION_BLOCK) this.search(reference, k0, Math.min(this.grid.length, k0 + ROTATION_BLOCK), block, scores, best);
    const rotations = Array.from(best, (k) => this.gridRotation(k));
    const trial = this.rotatedReferences(1);
    for (let i = 0; i < n; i++) {
      onParticle(i);
      ({ score: scores[i], rotation: rotations[i] } = this.refine(reference, i, scores[i], rotations[i], trial));
    }
    return { scores, rotations };
  }
}

/** Indices `from..to-1` ordered by descending key. */
function ranked(from: number, to: number, key: (i: number) => number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k).sort((a, b) => key(b) - key(a));
}

/** What the template cut compares: density centres of one tomogram (src/pipeline/particle.ts densityCentre). */
export interface SelfTemplateInput {
  tomogram: Volume;
  /** The prompted particles: the first one seeds the reference, all are averaged into it. */
  prompts: readonly VoxelPoint[];
  /** The particles to score against the reference. */
  candidates: readonly VoxelPoint[];
  /** Equivalent-sphere radius of the prompted particles, in voxels: sizes the comparison sphere. */
  equivalentRadius: number;
  /** The Fourier components the tomogram measured (1) and its missing wedge (0); default: all measured. */
  measured?: TransferFunction;
  /**
   * A self-template brought from elsewhere (a saved Reference's average, SelfTemplateResult.average):
   * the first round compares against it instead of the first prompt. Its box must be the one this
   * equivalent radius gives (the same particle size in voxels).
   */
  template?: { data: Float32Array; size: number; stride: number };
}

/** The final round's alignment of every particle to the self-template. */
export interface SelfTemplateResult {
  /** NCC of each prompt with the self-template, in [−1, 1]. */
  promptScores: Float64Array;
  /** NCC of each candidate with the self-template, in [−1, 1]. */
  candidateScores: Float64Array;
  /** Rotation of each particle (prompts, then candidates) into the reference frame (the first prompt's). */
  rotations: Matrix3[];
  /**
   * The self-template after the last round: the average of the prompts and the best candidates in
   * the reference frame (not wedge-compensated: the density as the tomogram shows it), a cube of
   * `size` samples `stride` voxels apart, z, y, x order. Absent without prompts.
   */
  average?: { data: Float32Array; size: number; stride: number };
}

/**
 * Particles per job of sampling or refinement, and grid rotations per job of the search, handed to
 * a worker thread: small enough that the workers finish each stage close together (a job is tens
 * of ms), large enough that the messages cost nothing.
 */
const PARTICLE_CHUNK = 8;
const SEARCH_CHUNK = ROTATION_BLOCK / 2;

/**
 * How many worker threads align `particles` when `threads` are allowed: 0 (this thread) with one
 * thread, or with fewer than two chunks of particles per thread, too few to pay for starting them.
 */
export function alignmentWorkers(particles: number, threads: number): number {
  const t = Math.floor(threads);
  return !(t > 1) || particles < 2 * t * PARTICLE_CHUNK ? 0 : t;
}

/** [from, to) ranges of `size` covering 0..n-1, in order. */
function chunks(n: number, size: number): [number, number][] {
  return Array.from({ length: Math.ceil(n / size) }, (_, k) => [k * size, Math.min(n, (k + 1) * size)]);
}

/**
 * A ParticleSet sampled and aligned by worker threads (src/pipeline/align-worker.ts) over shared
 * memory. The exhaustive search is split into parts of the grid, so that no rotated reference is
 * made twice, and the parts' bests are merged here in grid order; the refinement, independent per particle, is
 * split by particles. Each NCC is the computation one thread makes, so the results are the same.
 */
class WorkerAlignment {
  private constructor(
    private readonly set: ParticleSet,
    private readonly pool: AlignWorkers,
    private readonly shared: AlignWorkerData,
  ) {}

  /** `threads` workers over `set`, made with 'shared' arrays. */
  static async start(set: ParticleSet, threads: number): Promise<WorkerAlignment> {
    const n = set.size, m = set.referenceSide;
    const spectrum = m * m * (Math.floor(m / 2) + 1);
    const float32 = (length: number) => new Float32Array(new SharedArrayBuffer(4 * length));
    const float64 = (length: number) => new Float64Array(new SharedArrayBuffer(8 * length));
    const { tomogram, centres, opts, ...layout } = set.layout;
    const { rotationStepDeg, maskRadiusFactor, rounds, averageFraction } = opts;
    const shared: AlignWorkerData = {
      set: { ...layout, tomogram: { data: inSharedMemory(tomogram.data), shape: tomogram.shape, voxelSize: tomogram.voxelSize }, centres: centres.map(({ x, y, z }) => ({ x, y, z })), opts: { rotationStepDeg, maskRadiusFactor, rounds, averageFraction } },
      reference: { m, re: float32(spectrum), im: float32(spectrum), cover: float32(spectrum) },
      parts: { scores: float64(chunks(set.gridSize, SEARCH_CHUNK).length * n), best: new Int32Array(new SharedArrayBuffer(4 * chunks(set.gridSize, SEARCH_CHUNK).length * n)) },
      alignment: { scores: float64(n), rotations: float64(9 * n) },
    };
    return new WorkerAlignment(set, await AlignWorkers.start(threads, shared), shared);
  }

  /** Every particle sampled into the set's shared components. */
  sample(): Promise<void> {
    return this.pool.run(chunks(this.set.size, PARTICLE_CHUNK).map(([from, to]) => ({ kind: 'sample', from, to })));
  }

  /** `reference` written where the workers read it; whether it carries a coverage. */
  private share(reference: ReferenceSpectrum): boolean {
    const { shared } = this;
    shared.reference.re.set(reference.re);
    shared.reference.im.set(reference.im);
    if (reference.cover) shared.reference.cover.set(reference.cover);
    return reference.cover !== undefined;
  }

  /** ParticleSet.align on the workers; `onRefined` gets the number of particles refined so far. */
  async align(reference: ReferenceSpectrum, onRefined: (done: number) => void): Promise<Alignment> {
    const { set, pool, shared } = this;
    const n = set.size;
    const covered = this.share(reference);
    const parts = chunks(set.gridSize, SEARCH_CHUNK);
    await pool.run(parts.map(([from, to], part) => ({ kind: 'search', part, from, to, covered })));
    // The parts in grid order, a later one replacing the best only with a higher score, as ParticleSet.align's single pass does.
    const scores = new Float64Array(n).fill(-Infinity);
    const best = new Int32Array(n).fill(-1);
    for (let p = 0; p < parts.length; p++) for (let i = 0; i < n; i++) {
      const s = shared.parts.scores[p * n + i];
      if (s > scores[i]) (scores[i] = s), (best[i] = shared.parts.best[p * n + i]);
    }
    shared.alignment.scores.set(scores);
    best.forEach((k, i) => shared.alignment.rotations.set(set.gridRotation(k), 9 * i));
    let refined = 0;
    await pool.run(chunks(n, PARTICLE_CHUNK).map(([from, to]) => ({ kind: 'refine', from, to, covered })), (job) => {
      if (job.kind === 'refine') onRefined((refined += job.to - job.from));
    });
    // Copies: the next round overwrites the shared arrays.
    const { scores: refinedScores, rotations } = shared.alignment;
    return { scores: refinedScores.slice(), rotations: Array.from({ length: n }, (_, i) => rotations.slice(9 * i, 9 * i + 9)) };
  }

  /** ParticleAligner.refine on the workers. */
  async refine(reference: ReferenceSpectrum, from: number, to: number, start: readonly Matrix3[], into: Alignment): Promise<void> {
    const covered = this.share(reference);
    const { scores, rotations } = this.shared.alignment;
    for (let i = from; i < to; i++) (scores[i] = -Infinity), rotations.set(start[i], 9 * i);
    await this.pool.run(chunks(to - from, PARTICLE_CHUNK).map(([a, b]) => ({ kind: 'refine', from: from + a, to: from + b, covered })));
    for (let i = from; i < to; i++) (into.scores[i] = scores[i]), (into.rotations[i] = rotations.slice(9 * i, 9 * i + 9));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Particles of one tomogram sampled once and aligned to any reference made from them, on this
 * thread or on worker threads (the same numbers either way): what the look-alike split
 * (src/pipeline/look-alikes.ts) classifies with.
 */
export interface ParticleAligner {
  readonly set: ParticleSet;
  /** Every particle searched over the grid and refined against `reference`; `onRefined` gets the number refined so far, now and then. */
  align(reference: ReferenceSpectrum, onRefined?: (done: number) => void): Promise<Alignment>;
  /** Particles from..to-1 refined against `reference` by hill climbing from `start[i]`, written into `into`. */
  refine(reference: ReferenceSpectrum, from: number, to: number, start: readonly Matrix3[], into: Alignment): Promise<void>;
  close(): Promise<void>;
}

/** `centres` sampled for alignment, on up to `threads` threads (alignmentWorkers): the template cut's and the look-alike split's. */
export async function particleAligner(
  tomogram: Volume, centres: readonly VoxelPoint[], equivalentRadius: number, measured: TransferFunction | undefined, threads = 1,
  opts: ResolvedSelfTemplateOptions = { ...DEFAULTS.selfTemplate },
): Promise<ParticleAligner> {
  const workers = alignmentWorkers(centres.length, threads);
  const set = new ParticleSet(tomogram, centres, equivalentRadius, opts, measured, workers > 0 ? 'shared' : 'local');
  if (workers > 0) {
    const threaded = await WorkerAlignment.start(set, workers);
    try {
      await threaded.sample();
    } catch (err) {
      await threaded.close();
      throw err;
    }
    return { set, align: (reference, onRefined = () => {}) => threaded.align(reference, onRefined), refine: (...a) => threaded.refine(...a), close: () => threaded.close() };
  }
  set.sample(0, set.size);
  const trial = set.rotatedReferences(1);
  return {
    set,
    align: async (reference, onRefined) => set.align(reference, (i) => {
      if (i % 16 === 0) onRefined?.(i);
    }),
    refine: async (reference, from, to, start, into) => {
      for (let i = from; i < to; i++) ({ score: into.scores[i], rotation: into.rotations[i] } = set.refine(reference, i, -Infinity, start[i], trial));
    },
    close: async () => {},
  };
}

/**
 * Each particle aligned to the self-template (refined over `rounds`), and its NCC. Deterministic:
 * with `threads` > 1 (and enough particles, `alignmentWorkers`) the work is done on worker threads,
 * with the same results to the bit.
 */
export async function alignToSelfTemplate(input: SelfTemplateInput, options: SelfTemplateOptions = {}, onProgress: ProgressCallback = noProgress, threads = 1): Promise<SelfTemplateResult> {
  const opts: ResolvedSelfTemplateOptions = { ...DEFAULTS.selfTemplate, ...options };
  const prompts = input.prompts.length;
  const centres = [...input.prompts, ...input.candidates];
  const count = centres.length;
  const split = (scores: Float64Array, rotations: Matrix3[], average?: SelfTemplateResult['average']): SelfTemplateResult => ({
    promptScores: scores.slice(0, prompts),
    candidateScores: scores.slice(prompts),
    rotations,
    ...(average ? { average } : {}),
  });
  if (count === 0 || (prompts < 1 && !input.template)) return split(new Float64Array(count), centres.map(() => IDENTITY));
  const aligner = await particleAligner(input.tomogram, centres, input.equivalentRadius, input.measured, threads, opts);
  try {
    const { set } = aligner;
    const { template } = input;
    if (template && (template.size !== set.box.size || template.stride !== set.box.stride)) {
      throw new CryosamError(`the self-template is a ${template.size}³ box every ${template.stride} voxels; particles of this size need ${set.box.size}³ every ${set.box.stride}`);
    }
    const total = opts.rounds * count;
    // The prompts and the best `averageFraction` of the candidates under an alignment.
    const membersOf = (a: Alignment) => {
      const best = ranked(prompts, count, (i) => a.scores[i]);
      return [...Array.from({ length: prompts }, (_, i) => i), ...best.slice(0, Math.ceil(opts.averageFraction * best.length))];
    };
    const align = (reference: ReferenceSpectrum, round: number) => aligner.align(reference, (done) => onProgress({ stage: 'verifying', done: round * count + done, total }));
    let alignment = await align(template ? set.referenceFromBox(template.data) : set.reference([0]), 0);
    for (let round = 1; round < opts.rounds; round++) {
      alignment = await align(set.reference(membersOf(alignment), alignment.rotations), round);
    }
    onProgress({ stage: 'verifying', done: total, total });
    const members = membersOf(alignment);
    const average = set.average(members, members.map((i) => alignment.rotations[i]));
    return split(alignment.scores, alignment.rotations, { data: average, ...set.box });
  } finally {
    await aligner.close();
  }
}
