/**
 * The one table of the pipeline's defaults, with why each is what it is. The CLI's help text and
 * the library's option documentation read their defaults from here. What was measured before a
 * default was chosen (and the rules that lost) is in docs/defaults.md.
 */
import type { Axis } from '../volume/volume.js';

export const DEFAULTS = {
  /**
   * Particles are found in the tomogram smoothed with a Gaussian of this σ (voxels): the top of the
   * band, where a weighted back-projection amplifies the noise and the CTF and dose leave little
   * signal, only adds noise to every stage. σ 1 halves the amplitude at 5.3 voxels' period. One
   * click's F1 rose on the tilt-series presets from 0.81–0.96 to 0.97–1.00 and at SNR 0.03 from
   * 0.68–0.72 to 0.84–0.89; band-passed presets lost 0.004–0.02, DeepFinder's smallest classes more.
   * Filaments and membranes are traced in the unsmoothed tomogram (docs/defaults.md).
   */
  smoothingSigma: 1,
  /** Cross-plane self-prompting (src/pipeline/self-prompting.ts). */
  segment: {
    /** Propagation axes: all three planes (the paper); ['z'] is the released CryoSAM code. */
    axes: ['z', 'y', 'x'] as readonly Axis[],
    /** A walk stops when the IoU of adjacent slice masks drops below this (the paper's τ). */
    iouThreshold: 0.5,
    /** A walk stops when the segmenter's predicted mask score drops below this. */
    scoreThreshold: 0.2,
    /** A walk stops when a slice mask grows past this multiple of the prompt plane's mask area. */
    maxAreaFactor: 2,
    /**
     * A clicked particle's 3D mask must stand out of the noise by this many standard deviations of
     * the same mask placed at random in the tomogram (src/pipeline/particle.ts maskSignificance),
     * else the click is refused as "no structure found" (a click in empty ice). On six tomograms of
     * five presets and DeepFinder, 2.5 refused 3 of 284 particle clicks (all 4 voxels off a small
     * protein), 3.0 also masks that lay on small proteins; how many ice clicks it refuses depends on
     * the noise (docs/defaults.md).
     */
    minSignificance: 2.5,
  },
  /** Reference and picking (src/pipeline/reference.ts, matching.ts, segment-proposals.ts, template-cut.ts). */
  pick: {
    /**
     * Proposals segmented: 'auto' segments them best first until autoStopAfterRejects in a row are
     * rejected (at most the bound below), then the template cut
     * chooses how many to keep; a number segments that many and keeps all that pass the volume rule
     * (the paper's K is 512).
     */
    topK: 'auto' as number | 'auto',
    /**
     * 'auto' segments at most the paper's K (autoMinProposals) or, in a tomogram that can hold more,
     * as many proposals as would fill this fraction of its volume with particles of the reference's
     * size: the count follows the tomogram, where a fixed 512 held a 200×1024² tomogram with 900
     * ribosomes to recall 0.46. No cell is a quarter ribosomes by volume, so in practice the stop
     * rule below ends the segmenting; this bounds the time where it does not.
     */
    autoMaxOccupancy: 0.25,
    autoMinProposals: 512,
    /** With topK 'auto', segmenting stops after this many proposals in a row were rejected. */
    autoStopAfterRejects: 48,
    /**
     * Segmented proposals whose volume lies outside this range × the particle's volume (the prompts'
     * mean, or the size the best matches voted: src/pipeline/particle-size.ts) are not the same kind of particle: 0.5–2 drops fragments and smaller proteins without losing
     * targets on the easy, medium and realistic presets (narrower ranges lost targets whenever the
     * prompt's own mask was off in size).
     */
    volumeRange: [0.5, 2] as readonly [number, number],
    /**
     * The best proposals (after the prompts) segmented first to vote the particle's size with the
     * prompts (src/pipeline/particle-size.ts): the median of 16 is robust to a few look-alikes.
     */
    sizeVoters: 16,
    /** Matching mode: the paper's coarse-to-fine pyramid; 'naive' scores every voxel (an ablation). */
    matching: 'hierarchical' as 'hierarchical' | 'naive',
    /** Downsampling ratios of the matching pyramid, coarse to fine (the paper's 1/16, 1/8, 1/4). */
    pyramid: [16, 8, 4] as readonly number[],
    /** Positions below this cosine similarity are dropped at every level (the paper). */
    similarityThreshold: 0.5,
    /** The query: the masked average of the features over all prompted particles (the paper). */
    query: 'mean' as 'mean' | 'per-prompt' | 'centre',
    /** Encode every s-th slice along each axis: the finest matching level is 4 voxels. */
    featureSliceStep: 4,
    /** Smallest NMS radius in voxels, whatever the prompted masks' size. */
    minNmsRadius: 2,
    /** The tilt range whose missing wedge the template cut leaves out: read off the power spectrum. */
    tiltRange: 'auto' as const,
  },
  /**
   * Structures other than round particles (src/pipeline/structure.ts, filament.ts, membrane.ts).
   * Sizes are in Å, turned into voxels with the tomogram's voxel size. The real microtubule crop
   * (../shared/data/real_microtubule, 10.52 Å) and the simulator's filament and membrane presets
   * were used to choose them: docs/defaults.md says what was measured.
   */
  structure: {
    /** What a click segments: 'auto' tries a filament, then a membrane (the 3D tests below), else a particle. */
    kind: 'auto' as 'auto' | 'particle' | 'filament' | 'membrane',
    /** A structure pick traces or grows at most this many matching peaks, best first (the paper's K); the stop rule (pick.autoStopAfterRejects) usually ends it first. */
    maxSeeds: 512,
    /** A clicked slice's mask this many times longer than wide lies along a filament: its long axis is tried first as the filament's direction. */
    elongation: 2.5,
    filament: {
      /** The largest outer radius looked for (a microtubule's is 125–140 Å). */
      maxRadiusA: 180,
      /** The smallest outer radius a filament has (actin's is 35 Å): thinner traces are noise or a wall's ridge. */
      minRadiusA: 25,
      /** Axis points this far apart. */
      stepA: 20,
      /** Cross-sections that fail (a gap, a crossing) are stepped over for this far. */
      maxGapA: 150,
      /** A cross-section continues the filament when its radial profile correlates with the first ones' by this much … */
      minProfileCorrelation: 0.6,
      /** … and is at least this fraction as radially symmetric. */
      minSymmetryFraction: 0.4,
      /**
       * A trace whose cross-sections were found at fewer than this fraction of its points (the rest
       * stepped over) is a chain of things, not a filament: a chaperonin's barrel smeared along the
       * beam by the missing wedge traced 790 Å at 0.85; simulated filaments trace at 0.95–1.
       */
      minMeasuredFraction: 0.9,
      /**
       * A trace along which the density continues on two opposite sides past the outer radius by
       * more than this fraction of the contrast, on average, is a sheet cut across (measured: 0.24–0.32
       * on simulated sheets and vesicles, at most 0.08 on simulated and the real microtubules and actin).
       */
      maxSheetness: 0.15,
      /** Under auto, a trace above this sheetness is a filament only when no membrane grows at the click (a flat sheet traced at 0.13). */
      clearSheetness: 0.1,
      /** A trace shorter than this many outer diameters is not a filament (a particle is about one) … */
      minLengthDiameters: 4,
      /** … nor one shorter than this (a small protein's substructure can run for 3 of its own diameters). */
      minLengthA: 400,
      /** A pick writes a filament as points this far apart along its axis (tubulin's dimer repeat is 80 Å, actin's two-subunit repeat 55 Å). */
      pointSpacingA: 40,
    },
    membrane: {
      /** The thickest sheet looked for (a lipid bilayer is 40–50 Å). */
      maxThicknessA: 70,
      /** Patches this far apart on the sheet. */
      spacingA: 40,
      /** A patch continues the sheet when its depth profile correlates with the clicked patch's by this much, … */
      minProfileCorrelation: 0.6,
      /** … it is at least this fraction as layered, … */
      minLayeringFraction: 0.4,
      /** … and its peak contrast at least this fraction of the clicked patch's. */
      minContrastFraction: 0.4,
      /** A sheet is a membrane when it is at least half this wide in its narrower direction (a ribosome is about 250 Å across). */
      minExtentA: 400,
      /** Growth stops after this many patches. */
      maxPatches: 200_000,
      /** The tightest bend followed, as a radius of curvature (small vesicles: 150–250 Å; a microtubule's wall, 100–125 Å, is not a membrane). */
      minCurvatureRadiusA: 150,
    },
  },
  /**
   * A pick's masks drawn from its self-template average (src/pipeline/average-masks.ts). Chosen by
   * the Dice of the clicked particle's mask and of the pick's semantic mask with the truth, clicks
   * 1/3 radius off centre, on realistic seed 1 (3 clicks), crowded 1, realistic SNR 0.03 seed 2,
   * realistic-tilt 2 and medium 1 (2 clicks each): level 0.25 was best or tied on every tomogram
   * (0.15 and 0.35 lost 0.01–0.04; thresholding at the voted particle volume lost up to 0.04).
   */
  averageMask: {
    /** A voxel is in the mask where the average is this fraction of the way from the background's density to the particle core's. */
    level: 0.25,
    /** No voxel farther than this many equivalent radii from a particle's density centre is in its mask. */
    radiusFactor: 1.5,
  },
  /**
   * Look-alikes split off the cut's particles (src/pipeline/look-alikes.ts). Chosen by probes on
   * realistic and crowded seeds 1–3 (one centred click each), also with the look-alikes taken out
   * of the picks, where nothing may be split off: docs/defaults.md, "Look-alikes split off".
   */
  lookAlikes: {
    /** Class B starts as this fraction of the kept particles, those that correlated least. */
    seedFraction: 0.15,
    /** Rounds with each class averaged from all its members. */
    rounds: 3,
    /** Rounds after those scoring each particle against averages without it, from the other folds. */
    validationRounds: 2,
    /** Folds of those rounds: the particles dealt into this many in turn. */
    folds: 4,
    /** A class B of more than this share of the particles is no look-alike: nothing is split off. */
    maxShare: 1 / 3,
    /** B is split off only when its members' median preference for it (Fisher z of B's correlation − A's, last round) is at least this. */
    minMargin: 0.04,
  },
  /**
   * The template cut's self-template alignment (src/pipeline/self-template.ts). The 30° grid and the
   * sphere of 2 equivalent radii were compared on realistic, medium and crowded seeds 1–5 (a 20°
   * grid ranked no better; 1.0–2.25 radii: 2 generalised best). Rounds and averaged fraction were
   * compared with the wedge left out, by the F1 of the final cut on the proposals of realistic and
   * medium seeds 1–3 and crowded 1–2, 5 random single prompts each (mean, worst): 4 rounds of 20%
   * realistic 0.919 (0.905), medium 0.999 (0.980), crowded 0.886 (0.864); 5 rounds the same within
   * 0.001; 10% lost on every preset (realistic 0.913); 30% gained 0.001–0.004 on realistic and
   * crowded but lost medium's worst prompt (0.926), where ribosomes are only a quarter of the
   * proposals; averaging more than the targets' share of the proposals pulls look-alikes into the
   * reference.
   */
  selfTemplate: {
    /** Angular step of the exhaustive rotation search, in degrees; refinements halve it three times. */
    rotationStepDeg: 30,
    /** Radius of the comparison sphere, in equivalent-sphere radii of the prompted particles. */
    maskRadiusFactor: 2,
    /** Scoring rounds; each round after the first scores against the average of the previous round's best. */
    rounds: 4,
    /** Fraction of the found particles (best first) averaged into the reference with the prompts. */
    averageFraction: 0.2,
  },
} as const;
