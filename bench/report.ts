/** The Markdown benchmark report, written from the measured BenchReport (nothing is typed in by hand). */
import type { AnnotationRatio } from '../src/eval/protocol.js';
import { meanSd, num, table } from './markdown.js';
import type { BenchReport } from './run.js';
import type { TargetResult } from './quality.js';

function ratioName(r: AnnotationRatio): string {
  return r === 'one' ? '1 prompt' : `${Math.round(r * 100)}%`;
}

function ratioTable(targets: TargetResult[]): string {
  const rows = targets.flatMap((t) =>
    t.rows.map((r) => [
      t.dataset,
      t.tomogram,
      t.className,
      String(t.particles),
      num(t.radiusVoxels, 1),
      ratioName(r.ratio),
      String(r.prompts),
      meanSd(r.precision),
      meanSd(r.recall),
      meanSd(r.f1),
      num(Math.min(...r.runs.map((run) => run.f1)), 3),
      num(r.seconds.mean, 1),
    ]),
  );
  return table(
    ['dataset', 'tomogram', 'class', 'particles', 'radius (vox)', 'ratio', 'prompts', 'precision', 'recall', 'F1', 'worst F1', 's / run'],
    rows,
  );
}

export function renderReport(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    '# cryosam benchmark\n',
    `- command: \`${r.command}\``,
    `- started: ${r.startedAt}, took ${num(r.seconds, 0)} s${r.quick ? ' (--quick smoke run: small inputs, figures not representative)' : ''}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.platform}, Node.js ${m.node}`,
    `- engine: ${r.engine.engine ?? 'classical'}; sections: ${r.sections.join(', ')}\n`,
  ];

  const q = r.quality;
  if (q) {
    out.push(
      '## Quality\n',
      'Prompts are ground-truth centres of the target class drawn at random per seed; scores are mean ± sample sd over ' +
        'prompt seeds. As in the paper, scoring excludes nothing: prompted particles count like every other pick. ' +
        'A pick matches a particle within the particle radius (optimal one-to-one assignment).\n',
      '### Annotation ratio, simulated tomograms\n',
      ratioTable(q.simulated),
      '![F1 vs annotation ratio](annotation-ratio-simulated.png)\n',
    );
    for (const a of q.ablations) {
      out.push(
        `### Ablations on ${a.dataset}, ${a.className} (one prompt)\n`,
        '**Feature extractor**\n',
        table(
          ['features', 'precision', 'recall', 'F1', 's / run', 'note'],
          a.features.map((f) =>
            f.result
              ? [f.engine, meanSd(f.result.precision), meanSd(f.result.recall), meanSd(f.result.f1), num(f.result.seconds.mean, 1), '']
              : [f.engine, '–', '–', '–', '–', `skipped: ${f.skipped ?? ''}`],
          ),
        ),
        '**Matching**\n',
        table(
          ['matching', 'F1', 'matching stage (s)', 'pick (s)'],
          a.matching.rows.map((m) => [m.matching, meanSd(m.f1), meanSd(m.matchingSeconds, 3), num(m.seconds.mean, 2)]),
        ),
        `Naive / hierarchical matching time: ${num(a.matching.naiveOverHierarchical, 2)}×\n`,
        '**Query** (10% of the particles prompted)\n',
        table(
          ['query', 'precision', 'recall', 'F1', 's / run'],
          a.queries.map((r) => [r.query, meanSd(r.precision), meanSd(r.recall), meanSd(r.f1), num(r.seconds.mean, 1)]),
        ),
        '**Number of proposals K**\n',
        table(
          ['K', 'picks', 'precision', 'recall', 'F1', 's'],
          a.proposals.map((p) => [String(p.k), String(p.picks), num(p.precision), num(p.recall), num(p.f1), num(p.seconds, 1)]),
        ),
        `![precision-recall over K](${a.plot})\n`,
      );
    }
    if (q.wedge.length > 0) {
      out.push(
        '### Missing wedge in the template cut (one prompt)\n',
        'auto: the density comparison leaves out the missing wedge read off the tomogram (the default); none: it compares all Fourier components.\n',
        table(
          ['dataset', 'tomogram', 'tilt range', 'precision', 'recall', 'F1', 'worst F1', 's / run'],
          q.wedge.flatMap((w) => w.rows.map((r) => [w.dataset, w.tomogram, r.tiltRange, meanSd(r.precision), meanSd(r.recall), meanSd(r.f1), num(Math.min(...r.runs.map((x) => x.f1))), num(r.seconds.mean, 1)])),
        ),
      );
    }
    if (q.deepFinder.length > 0) {
      out.push(
        '### DeepFinder toy100 (third-party ground truth)\n',
        'Particles are darker than the background; class radii are the median equivalent-sphere radius of the ' +
          "class's connected regions in the label volume.\n",
        ratioTable(q.deepFinder),
        '![DeepFinder F1 per class](deepfinder-f1-per-class.png)\n',
      );
    }
  }

  const l = r.large;
  if (l) {
    const rep = l.hierarchical.report;
    out.push(
      '## Speed and memory of a full single-prompt pick\n',
      `Preset \`${l.preset}\`: ${l.shape.join('×')} voxels (z×y×x), ${num(l.tomogramMiB, 0)} MiB of float32; run in a ` +
        `child process (peak RSS is that process's). Read ${num(l.readSeconds, 2)} s (peak RSS after reading ` +
        `${num(l.rssAfterReadMiB, 0)} MiB), engine set-up ${num(l.createSeconds, 2)} s (peak RSS after it ${num(l.rssAfterCreateMiB, 0)} MiB), pick ${num(l.hierarchical.seconds, 2)} s ` +
        `(F1 ${num(l.hierarchical.f1)}, ${l.hierarchical.picks} picks).\n`,
      `The last column leaves out the ${num(l.rssAtStartMiB, 0)} MiB the child held before reading (Node.js and its modules).\n`,
      table(
        ['stage', 'seconds', 'peak RSS (MiB)', 'peak RSS / tomogram size', '(peak RSS − start) / tomogram size'],
        rep.stages.map((s) => [
          s.name,
          num(s.seconds, 2),
          num(s.peakRssMiB, 0),
          num(s.peakRssMiB / l.tomogramMiB, 2),
          num((s.peakRssMiB - l.rssAtStartMiB) / l.tomogramMiB, 2),
        ]),
      ),
      `Encoder passes (slices): z ${rep.encoderPasses.z}, y ${rep.encoderPasses.y}, x ${rep.encoderPasses.x}; ` +
        `segmenter embeddings ${rep.segmenterEmbeddings}; proposals ${rep.proposals}.\n`,
      `Matching stage: hierarchical ${num(l.hierarchical.matchingSeconds, 3)} s, naive ${num(l.naive.matchingSeconds, 3)} s ` +
        `(naive / hierarchical ${num(l.naive.matchingSeconds / l.hierarchical.matchingSeconds, 2)}×; F1 ` +
        `${num(l.hierarchical.f1)} vs ${num(l.naive.f1)}). Peak RSS of the whole child: ${num(l.peakRssMiB, 0)} MiB.\n`,
    );
  }
  if (r.engines) {
    out.push(
      '## Engines\n',
      table(['engine', 'role', 'batch', 'slices / s'], r.engines.map((e) => [e.engine, e.role, String(e.batch), num(e.slicesPerSec, 1)])),
    );
  }
  const io = r.mrcRead;
  if (io) {
    out.push(
      '## MRC reading\n',
      table(
        ['file (MB)', 'seconds', 'MB/s', 'peak RSS (MiB)', 'peak RSS / data size'],
        [[num(io.fileBytes / 1e6, 0), num(io.seconds, 2), num(io.mbPerSec, 0), num(io.peakRssMiB, 0), num(io.rssOverData, 2)]],
      ),
      'Read in a fresh process right after writing (warm page cache).\n',
    );
  }
  const v = r.viewer;
  if (v) {
    out.push(
      '## Viewer\n',
      table(
        ['tomogram (voxels)', 'file (MB)', 'open (s)', 'XY step (ms)', 'XZ step (ms)', 'YZ step (ms)', 'worst YZ step (ms)'],
        [[v.shape.join('×'), num(v.fileBytes / 1e6, 0), num(v.openSeconds, 2), num(v.sliceMs.z, 0), num(v.sliceMs.y, 0), num(v.sliceMs.x, 0), num(v.sliceMaxMs.x, 0)]],
      ),
      'Open: server start until the first full-resolution XY slice arrived. Steps: median over consecutive slices, through HTTP.\n',
    );
  }
  const c = r.clicks;
  if (c) {
    out.push(
      '## Clicks off the particle centre\n',
      'One click per pick on a random target particle, at 0, 1/3 and 1/2 of the particle radius from its centre in a random direction (the same particle and direction at each distance); automatic count. F1 within the particle radius; prompt Dice: the clicked particle\'s 3D mask against its true mask; semantic Dice: the union of the pick\'s masks against the union of the target class\'s true masks. Sphere: a sphere of the particle\'s true volume at its true centre.\n',
      table(
        ['preset', 'seeds', 'click off centre (radii)', 'runs', 'precision', 'recall', 'F1', 'worst F1', 'prompt Dice', 'worst prompt Dice', 'semantic Dice', 'sphere Dice'],
        c.presets.flatMap((p) => p.rows.map((row) => [
          p.preset, p.simulationSeeds.join(','), num(row.fraction, 2), String(row.runs.length), meanSd(row.precision), meanSd(row.recall), meanSd(row.f1), num(row.worstF1), meanSd(row.promptDice), num(row.worstPromptDice), meanSd(row.semanticDice), meanSd(p.sphereDice),
        ])),
      ),
    );
  }
  const st = r.structures;
  if (st) {
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const worst = (xs: number[]) => (xs.length ? Math.min(...xs) : NaN);
    const filamentRows = ['microtubule', 'actin'].map((kind) => {
      const rows = st.filamentClicks.filter((c) => c.kind === kind);
      const axis = rows.map((c) => c.axisErrorVoxels).filter((v): v is number => v !== null);
      return [kind, String(rows.length), `${rows.filter((c) => c.decided === 'filament').length}/${rows.length}`,
        `${num(mean(rows.map((c) => c.lengthCovered)))} (${num(worst(rows.map((c) => c.lengthCovered)))})`,
        `${num(mean(rows.map((c) => c.wallCoverage)))} (${num(worst(rows.map((c) => c.wallCoverage)))})`,
        `${num(mean(rows.map((c) => c.inTube)))} (${num(worst(rows.map((c) => c.inTube)))})`,
        num(mean(axis), 2), num(mean(rows.map((c) => c.seconds)), 2)];
    });
    const membraneRows = ['vesicle', 'flat', 'curved'].map((kind) => {
      const rows = st.membraneClicks.filter((c) => c.kind === kind);
      return [kind, String(rows.length), `${rows.filter((c) => c.decided === 'membrane').length}/${rows.length}`,
        `${num(mean(rows.map((c) => c.recall)))} (${num(worst(rows.map((c) => c.recall)))})`,
        `${num(mean(rows.map((c) => c.precision)))} (${num(worst(rows.map((c) => c.precision)))})`, num(mean(rows.map((c) => c.seconds)), 2)];
    });
    const findRows = ['microtubule', 'actin', 'membrane'].map((what) => {
      const rows = st.findAll.filter((f) => f.what === what);
      const sum = (get: (f: (typeof rows)[number]) => number) => rows.reduce((a, f) => a + get(f), 0);
      const truth = sum((f) => f.truth), found = sum((f) => f.found);
      return [what, String(rows.length), String(truth), String(found), num(truth ? sum((f) => f.matchedTruth) / truth : NaN), num(found ? sum((f) => f.truePositives) / found : NaN), num(mean(rows.map((f) => f.seconds)), 1)];
    });
    out.push(
      '## Filaments and membranes from one click\n',
      `Simulated presets \`filaments\` and \`membranes\`, seeds ${st.seeds.join(', ')}; every structure clicked once as a person would (a microtubule on its wall, 10 voxels from its axis in a random direction; actin within a voxel of its axis; a membrane on a random voxel of its measured part), structure auto. Mean (worst).\n`,
      table(['filament', 'clicks', 'segmented as filament', 'length covered', 'wall voxels in mask', 'mask in tube', 'axis error (voxels)', 'seconds'], filamentRows),
      table(['membrane', 'clicks', 'segmented as membrane', 'recall of its measured part', 'precision (within 2 voxels)', 'seconds'], membraneRows),
      'Find all (pick) from the first click of each kind per tomogram: recall and precision of whole structures (a found filament is a true one when half its axis lies within 3 voxels of it; a found membrane when at least half its mask lies within 2 voxels of it; recall counts true structures found, precision found structures that are true, so a vesicle whose two measured lobes are found apart counts once in recall and twice in precision).\n',
      table(['structures', 'tomograms', 'true', 'found', 'recall', 'precision', 'seconds'], findRows),
      `Round particles: ${st.particles.stayedParticles} of ${st.particles.clicks} ribosome clicks on \`${st.particles.preset}\` seed ${st.particles.seed} stayed particles under auto (their segmentation and pick are then those of the particle path).\n`,
      `The real microtubule (../shared/data/real_microtubule/14pf_MT.mrc, 10.52 Å): its axis from the data points along (${num(st.realTube.axisDirection.x, 3)}, ${num(st.realTube.axisDirection.y, 3)}, ${num(st.realTube.axisDirection.z, 3)}); wall 8–14 voxels from it.\n`,
      table(['click (x,y,z)', 'where', 'segmented as', 'length covered', 'wall voxels in mask', 'mask in tube', 'length (nm)', 'outer diameter (nm)', 'seconds'],
        st.realTube.clicks.map((c) => [`${c.click.x},${c.click.y},${c.click.z}`, c.where, c.decided, num(c.lengthCovered), num(c.wallCoverage), num(c.inTube), c.lengthNm === null ? '–' : num(c.lengthNm, 0), c.outerDiameterNm === null ? '–' : num(c.outerDiameterNm, 1), num(c.seconds, 2)])),
      ...st.realTube.pictures.map((p) => `![${p}](${p})\n`),
      `Peak RSS of the section: ${st.peakRssMiB} MiB.\n`,
    );
  }
  const many = r.many;
  if (many) {
    const [few, lots] = [many.rows[0], many.rows[many.rows.length - 1]];
    out.push(
      '## Many particles: one click on a real-size tomogram\n',
      `Preset ${many.preset} imaging and look-alikes, ${many.shape.join('×')} voxels (z×y×x) at 10 Å, seed ${many.seed}; one click on the first truth ribosome (\`cryosam pick --at\`, default settings). F1 within the target's equivalent radius. Rounds: the automatic count segments the paper's 512 proposals first, and twice as many again while the template cut keeps targets to the end of the last round.\n`,
      table(
        ['ribosomes', 'picks', 'precision', 'recall', 'F1', 'seconds', 'proposals (segmented)', 'rounds', 'peak RSS (MiB)'],
        many.rows.map((row) => [String(row.particles), String(row.picks), num(row.precision), num(row.recall), num(row.f1), num(row.seconds, 1), `${row.proposals} (${row.segmented})`, String(row.rounds), String(row.peakRssMiB)]),
      ),
      few && lots && few !== lots ? `Time with ${lots.particles} ribosomes: ${num(lots.seconds / few.seconds, 2)}× that with ${few.particles}.\n` : '',
    );
  }
  const d = r.dataset;
  if (d) {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    out.push(
      '## Dataset: one click, every tomogram\n',
      `A reference saved from one click in ${d.rows[0]?.tomogram} (preset ${d.preset}, seeds ${d.seeds.join(', ')}) picks every tomogram with \`cryosam batch\`; each tomogram is also picked from a click on its own first target particle. F1 within the target's equivalent radius.\n`,
      table(
        ['tomogram', 'seed', 'particles', 'F1 with the reference', 'F1 from its own click', 'peak RSS of its worker (MiB)'],
        [
          ...d.rows.map((row) => [row.tomogram, String(row.seed), String(row.particles), num(row.referenceF1), num(row.ownClickF1), num(row.peakRssMiB, 0)]),
          ['mean', '', '', num(mean(d.rows.map((row) => row.referenceF1))), num(mean(d.rows.map((row) => row.ownClickF1))), ''],
        ],
      ),
      table(
        ['run', 'seconds', 'tomograms / min'],
        [
          ['serial (--jobs 1)', num(d.serialSeconds, 1), num((60 * d.rows.length) / d.serialSeconds, 2)],
          [`--jobs 2 (${d.cores} cores)`, num(d.jobs2Seconds, 1), num((60 * d.rows.length) / d.jobs2Seconds, 2)],
          ['Slurm array + merge', num(d.slurmSeconds, 1), d.slurmSeconds ? num((60 * d.rows.length) / d.slurmSeconds, 2) : '–'],
          ['rerun of a finished batch', num(d.rerunSeconds, 2), ''],
        ],
      ),
      `Slurm: ${d.slurmNote}.\n`,
      table(
        ['one pick', 'wall seconds', 'segment proposals (s)', 'peak RSS (MiB)', 'speed-up'],
        d.singlePick.map((p) => [`${p.workers} worker thread(s)`, num(p.seconds, 1), num(p.segmentSeconds, 1), num(p.peakRssMiB, 0), num(d.singlePick[0].seconds / p.seconds, 2)]),
      ),
      'Picks with worker threads are checked to be byte-identical to those without.' +
        (d.concurrent
          ? ` The machine's ceiling: the one-thread pick run as ${d.concurrent.processes} separate processes at once took ${num(d.concurrent.seconds, 1)} s (one alone: ${num(d.singlePick[0].seconds, 1)} s), so no threading of it can gain more than ${num(d.concurrent.ceiling, 2)}× here.\n`
          : '\n'),
    );
  }
  return out.join('\n') + '\n';
}
