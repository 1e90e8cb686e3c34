/** The issue-14 trainers on tiny synthetic inputs, and their command lines. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../../src/core/random.js';
import { LIVE_FEATURES, LIVE_GLOBAL, LIVE_RMAX, LiveDrlPolicy } from '../../src/abr/live-drl.js';
import { LearnedSizeForecaster } from '../../src/abr/size-model.js';
import { loadDenseLayers, loadSizeNet, type ChunkVideo } from '../../src/sim/abr/chunks.js';
import { TrueSizes, runLiveSession } from '../../src/sim/abr/live.js';
import type { SimTrace } from '../../src/sim/abr/env.js';
import { trainChunkSize } from '../../src/train/chunks.js';
import { trainLiveAbr, type TrainLiveAbrOptions } from '../../src/train/live-abr.js';
import type { PartHeadCoefficients } from '../../src/abr/part-size.js';
import type { PartVideo } from '../../src/sim/abr/parts.js';
import { InputError } from '../../src/train/errors.js';
import { dataRelative } from '../../src/train/cli/args.js';

const quiet = () => undefined;
/** a stream whose complexity moves in scenes; 3 rungs, 2 s chunks */
function video(name: string, n: number, seed: number, split: string): ChunkVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  let c = 1;
  const sizes = Array.from({ length: n }, () => {
    if (rng() < 0.15) c = 0.4 + 1.2 * rng();
    const wobble = 0.9 + 0.2 * rng();
    return ladderKbps.map((k) => Math.round((c * wobble * k * 1000 * 2) / 8));
  });
  return { source: 'synthetic', video: name, split, chunkS: 2, ladderKbps, sizes, meta: null, note: '' };
}
const trace = (name: string, mbps: number): SimTrace => ({
  name,
  time: Array.from({ length: 200 }, (_, i) => i),
  bw: Array.from({ length: 200 }, (_, i) => mbps * (1 + 0.4 * Math.sin(i / 5))),
});

describe('issue-14 trainers on tiny synthetic inputs', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-live-train-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const train = Array.from({ length: 5 }, (_, i) => video(`t${i}`, 50, i + 1, 'train'));
  const dev = [video('d0', 40, 11, 'dev'), video('d1', 40, 12, 'dev')];

  it('train:chunks — meta-learned and plain: selects on dev, writes a forecaster that loads and forecasts', async () => {
    for (const steps of [1, 0]) {
      const out = join(dir, `chunks${steps}`);
      const r = await trainChunkSize({
        trainVideos: train,
        devVideos: dev,
        innerSteps: steps,
        iters: 16,
        evalEvery: 8,
        batch: 8,
        hidden: 8,
        out,
        log: quiet,
      });
      expect(r.history.map((h) => h.iter)).toEqual([8, 16]);
      expect([8, 16]).toContain(r.selectedIter);
      expect(r.devShared.length).toBe(5);
      const net = loadSizeNet(out);
      expect(net.steps).toBe(steps);
      expect(net.body[0].m).toBe(8);
      const f = new LearnedSizeForecaster(net);
      f.start({ ladderKbps: dev[0].ladderKbps, chunkS: 2 });
      for (let i = 0; i < 12; i++) f.observe(dev[0].sizes[i]);
      for (const row of f.forecast(5)) for (const x of row) expect(Number.isFinite(x) && x > 0).toBeTrue();
      const card = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
      expect(card.inner_steps).toBe(steps);
    }
    await expectAsync(trainChunkSize({ trainVideos: train, devVideos: dev, batch: 12, log: quiet })).toBeRejectedWithError(
      InputError,
      /multiple of 8/,
    );
  });

  it('train:live-abr — imitation then PPO (src/train/ppo.ts); writes an actor the live policy plays', async () => {
    const out = join(dir, 'live');
    // its own forecaster (the spec runs alone too, e.g. with --filter): the smallest meta-learned one
    const sizeDir = join(dir, 'chunks-for-live');
    await trainChunkSize({
      trainVideos: train,
      devVideos: dev,
      innerSteps: 1,
      iters: 8,
      evalEvery: 8,
      batch: 8,
      hidden: 8,
      out: sizeDir,
      log: quiet,
    });
    const sizeNet = loadSizeNet(sizeDir);
    const r = await trainLiveAbr({
      trainVideos: train,
      devVideos: dev,
      trainTraces: [trace('a', 1.5), trace('b', 3)],
      validTraces: [trace('v', 2)],
      sizeNet,
      bcSessions: 4,
      bcEpochs: 3,
      iters: 2,
      envs: 2,
      rollout: 8,
      valueWarmup: 1,
      evalEvery: 1,
      sessionS: 30,
      hidden: 16,
      out,
      log: quiet,
    });
    expect(r.imitationLoss.length).toBe(3);
    expect(r.imitationLoss[2]).toBeLessThan(r.imitationLoss[0]);
    expect(r.history.map((h) => h.iter)).toEqual([1, 2]);
    expect(Number.isFinite(r.mpcValidationQoe)).toBeTrue();
    expect(existsSync(join(out, 'model.json'))).toBeTrue();
    const pol = new LiveDrlPolicy(loadDenseLayers(out, ['s1', 's2', 'score']));
    const v = dev[0];
    const lv = { name: v.video, ladderKbps: v.ladderKbps, chunkS: v.chunkS, sizes: v.sizes };
    const s = runLiveSession(pol, lv, trace('v', 2), new TrueSizes(lv), { startChunk: 5, chunks: 20 });
    expect(s.segments).toBe(20);
    await expectAsync(trainLiveAbr({ trainVideos: [], devVideos: dev, sizeNet, log: quiet })).toBeRejectedWithError(
      InputError,
      /needs training/,
    );
  });

  it('the entry points answer --help and exit 2 on a bad flag', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const help = spawnSync(tsx, ['src/train/cli/live-abr.ts', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--bc-sessions N');
    const bad = spawnSync(tsx, ['bench/cli/live-abr.ts', '--sizes', 'true,oracle'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--sizes: one of true, mean, predicted, declared, got "oracle"');
    const unknown = spawnSync(tsx, ['src/train/cli/chunks.ts', '--inner-step', '3'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--inner-step'");
    const chunks = spawnSync(tsx, ['bench/cli/chunks.ts', '--data', join(tmpdir(), 'no-such-dataset')], { encoding: 'utf8' });
    expect(chunks.status).toBe(2);
    expect(chunks.stderr).toContain('index.csv missing');
  });
});

/** a video with LL-HLS part bytes (4 parts of 0.5 s per 2 s chunk; the first part holds ~40 % of the chunk) */
function partVideo(name: string, n: number, seed: number, split: string): PartVideo {
  const v = video(name, n, seed, split);
  const rng = mulberry32(seed + 100);
  const share = [0.4, 0.6, 0.8, 1];
  const heads = share.map((f, k) => v.sizes.map((row) => row.map((b) => (k === 3 ? b : Math.round(b * f * (0.95 + 0.1 * rng()))))));
  return { ...v, parts: 4, partS: 0.5, heads };
}

describe('train:live-abr deciding one part later, with first-part-corrected sizes (issue 14)', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-live-late-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const coef: PartHeadCoefficients = { partS: 0.5, own: [1], cross: [1], shareAlpha: 0.3 };
  const trainV = [partVideo('p0', 50, 1, 'train'), partVideo('p1', 50, 2, 'train'), video('t0', 50, 3, 'train')];
  const devV = [partVideo('pd', 40, 11, 'dev'), video('d0', 40, 12, 'dev')];
  const base = () => ({
    trainVideos: trainV,
    devVideos: devV,
    trainTraces: [trace('a', 1.5), trace('b', 3)],
    validTraces: [trace('v', 2)],
    envs: 2,
    rollout: 8,
    valueWarmup: 1,
    evalEvery: 1,
    sessionS: 30,
    hidden: 16,
    log: quiet,
  });

  it('trains on late decisions, records them, and a warm start from its output plays exactly the saved actor', async () => {
    const sizeDir = join('models', 'chunk-size');
    if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
    const sizeNet = loadSizeNet(sizeDir);
    const outA = join(dir, 'a');
    const r = await trainLiveAbr({
      ...base(),
      sizeNet,
      partCoef: coef,
      decideAfterParts: 1,
      bcSessions: 4,
      bcEpochs: 2,
      iters: 2,
      out: outA,
    });
    const rec = JSON.parse(readFileSync(join(outA, 'train.json'), 'utf8'));
    expect(rec.decide_after_parts).toBe(1);
    expect(rec.select).toBe('all');
    expect(rec.part_videos).toEqual({ train: ['synthetic/p0', 'synthetic/p1'], dev: ['synthetic/pd'] });
    // one validation trace: 3 sessions of the dev rotation (pd, d0, pd) + pd once more for the part videos
    expect(rec.validation_sessions).toBe(4);
    expect(rec.validation_part_sessions).toBe(3);
    expect(Number.isFinite(r.partValidationQoe!)).toBeTrue();
    expect(existsSync(join(outA, 'critic', 'model.json'))).toBeTrue();

    // warm start, no training: the selected actor is the init one, scored as run A scored its selection
    /** run A's actor warm-started, deciding after the first part, with no training; `extra` adds to these options */
    const warmStart = (extra: Partial<TrainLiveAbrOptions>) =>
      trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 1, bcSessions: 0, iters: 0, init: outA, ...extra });
    const outB = join(dir, 'b');
    const w = await warmStart({ out: outB });
    expect(w.selected).toBe('init');
    expect(w.initValidationQoe).toBe(r.validationQoe);
    const la = loadDenseLayers(outA, ['s1', 's2', 'score']);
    const lb = loadDenseLayers(outB, ['s1', 's2', 'score']);
    la.forEach((l, i) => expect(Array.from(lb[i].w)).toEqual(Array.from(l.w)));
    expect(JSON.parse(readFileSync(join(outB, 'train.json'), 'utf8')).init).toBe(outA);

    // risk-aware sizes in the state: a margin of 1 is the point forecast, a margin of 3 changes what the actor is told
    const same = await warmStart({ risk: 'x1', out: join(dir, 'r1') });
    expect(same.initValidationQoe).toBe(r.validationQoe);
    const wide = await warmStart({ risk: 'x3', out: join(dir, 'r3') });
    expect(wide.initValidationQoe).not.toBe(r.validationQoe);
    expect(JSON.parse(readFileSync(join(dir, 'r3', 'train.json'), 'utf8')).risk).toBe('x3');
    expect(JSON.parse(readFileSync(join(outB, 'train.json'), 'utf8')).risk).toBeNull();

    // the same actor deciding at the live edge with the plain forecast is scored on other sessions' timing
    const edge = await trainLiveAbr({ ...base(), sizeNet, bcSessions: 0, iters: 0, init: outA, out: join(dir, 'c') });
    expect(edge.initValidationQoe).not.toBe(r.validationQoe);
    expect(edge.partValidationQoe).toBeNull();
  });

  // session 10: the asymmetric actor-critic (privilegedCritic)
  it('trains with a critic that also sees the true sizes; the actor keeps its shape, and a critic of another width is not warm-started', async () => {
    const sizeDir = join('models', 'chunk-size');
    if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
    const sizeNet = loadSizeNet(sizeDir);
    const late = { ...base(), sizeNet, partCoef: coef, decideAfterParts: 1, bcSessions: 0 };
    const outP = join(dir, 'priv');
    const r = await trainLiveAbr({ ...late, privilegedCritic: true, iters: 3, out: outP });
    expect(Number.isFinite(r.validationQoe)).toBeTrue();
    const rec = JSON.parse(readFileSync(join(outP, 'train.json'), 'utf8'));
    expect(rec.privileged_critic).toBeTrue();
    const critic = JSON.parse(readFileSync(join(outP, 'critic', 'model.json'), 'utf8'));
    expect(JSON.stringify(critic)).toContain(`[null,${LIVE_GLOBAL + LIVE_RMAX}]`);
    const actor = loadDenseLayers(outP, ['s1', 's2', 'score']);
    expect(actor[0].n).toBe(LIVE_FEATURES);
    // warm start across critic widths: the actor loads, the critic does not
    const logs: string[] = [];
    await trainLiveAbr({ ...late, iters: 0, init: outP, out: join(dir, 'priv2'), log: (m: string) => logs.push(m) });
    expect(logs.some((m) => /critic in .* takes 24 inputs, this one 14: not loaded/.test(m)))
      .withContext(logs.join('\n'))
      .toBeTrue();
  });

  it('refuses inconsistent options with a clear error', async () => {
    const sizeNet = { steps: 0 } as never; // never reached: the options are checked first
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 0 })).toBeRejectedWithError(
      InputError,
      /corrected sizes need decideAfterParts >= 1/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 2 })).toBeRejectedWithError(
      InputError,
      /exceeds the 1 part/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 1, partShare: 2 })).toBeRejectedWithError(
      InputError,
      /partShare must be in \[0, 1\]/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, select: 'part' })).toBeRejectedWithError(
      InputError,
      /select part needs corrected sizes/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, risk: 'p80' })).toBeRejectedWithError(InputError, /risk: size risk 'p80'/);
    // session 10: the train encodes' part bytes join only with corrected sizes, and only from the dataset
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, encodeParts: true })).toBeRejectedWithError(
      InputError,
      /encodeParts needs corrected sizes/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 1, encodeParts: true })).toBeRejectedWithError(
      InputError,
      /encodeParts reads the encodes of the dataset/,
    );
    // session 11: the dev encodes' part bytes likewise
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, devEncodeParts: true })).toBeRejectedWithError(
      InputError,
      /devEncodeParts needs corrected sizes/,
    );
    await expectAsync(
      trainLiveAbr({ ...base(), sizeNet, partCoef: coef, decideAfterParts: 1, devEncodeParts: true }),
    ).toBeRejectedWithError(InputError, /devEncodeParts reads the encodes of the dataset/);
    const noParts = { ...base(), trainVideos: [video('t0', 50, 3, 'train')], sizeNet, partCoef: coef, decideAfterParts: 1 };
    await expectAsync(trainLiveAbr(noParts)).toBeRejectedWithError(InputError, /videos with part bytes/);
    const tsx = join('node_modules', '.bin', 'tsx');
    const bad = spawnSync(tsx, ['src/train/cli/live-abr.ts', '--part-model', 'models/part-size'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('corrected sizes need decideAfterParts >= 1');
  });
});

describe('models/chunk-size, chunk-size-plain, live-abr-drl(-late), part-size and abr-drl-player records', () => {
  it('name no absolute path in any recorded command or path (repo- or data-relative, so they reproduce from any clone)', () => {
    const dirs = ['chunk-size', 'chunk-size-plain', 'live-abr-drl', 'live-abr-drl-late', 'part-size', 'abr-drl-player']
      .map((d) => join(process.cwd(), 'models', d))
      .filter((d) => existsSync(d));
    if (!dirs.length) return pending('no models/chunk-size* or models/live-abr-drl* found');
    const found: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (typeof v === 'string') {
        // an absolute path as a whole value or as one word of a command line
        if (v.split(/[\s=]+/).some((w) => /^\/(work|tmp|home|root|Users|var)\b/.test(w))) found.push(`${at}: ${v}`);
      } else if (Array.isArray(v)) {
        if (v.length && typeof v[0] !== 'number') v.forEach((x, i) => walk(x, `${at}[${i}]`));
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    for (const d of dirs) {
      const name = d.split('/').pop();
      expect(readdirSync(d)).withContext(`models/${name} has its record`).toContain('train.json');
      // every record of the model's chained runs (train.json, train-run1.json, ...)
      for (const f of readdirSync(d).filter((x) => /^train.*\.json$/.test(x)))
        walk(JSON.parse(readFileSync(join(d, f), 'utf8')), `${name}/${f}`);
    }
    expect(found).toEqual([]);
  });

  it('dataRelative names a shared dataset by $EDGEPLAY_DATA, a path in the checkout repo-relative, anything else as typed', () => {
    const root = join(tmpdir(), 'shared', 'data');
    expect(dataRelative(join(root, 'chunks'), root)).toBe('$EDGEPLAY_DATA/chunks');
    expect(dataRelative(root, root)).toBe('$EDGEPLAY_DATA');
    expect(dataRelative(join(process.cwd(), 'models', 'x'), root)).toBe('models/x');
    expect(dataRelative(join(tmpdir(), 'shared', 'database'), root)).toBe(join(tmpdir(), 'shared', 'database'));
    expect(dataRelative('bench/coding-meta', root)).toBe('bench/coding-meta');
  });
});

// session 12: distilling the init actor given true sizes into the actor on predicted sizes (DAgger)
describe('train:live-abr distillation of the true-size teacher (issue 14)', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-live-distill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = () => ({
    trainVideos: Array.from({ length: 3 }, (_, i) => video(`t${i}`, 50, i + 1, 'train')),
    devVideos: [video('d0', 40, 11, 'dev')],
    trainTraces: [trace('a', 1.5), trace('b', 3)],
    validTraces: [trace('v', 2)],
    envs: 2,
    rollout: 8,
    valueWarmup: 1,
    evalEvery: 1,
    sessionS: 30,
    hidden: 16,
    log: quiet,
  });

  it('aggregates every round (two samples per decision), validates each round with predicted and true sizes, and records it', async () => {
    const sizeDir = join('models', 'chunk-size');
    if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
    const sizeNet = loadSizeNet(sizeDir);
    const outA = join(dir, 'a');
    await trainLiveAbr({ ...base(), sizeNet, bcSessions: 4, bcEpochs: 2, iters: 0, out: outA });
    const outD = join(dir, 'd');
    const logs: string[] = [];
    const r = await trainLiveAbr({
      ...base(),
      sizeNet,
      bcSessions: 0,
      iters: 0,
      init: outA,
      distillRounds: 2,
      distillSessions: 3,
      distillEpochs: 2,
      distillLr: 1e-3,
      out: outD,
      log: (m: string) => logs.push(m),
    });
    const rec = JSON.parse(readFileSync(join(outD, 'train.json'), 'utf8'));
    const h = rec.distill.history as Array<{ round: number; samples: number; validation: number; validation_true: number }>;
    expect(h.map((x) => x.round)).toEqual([1, 2]);
    // three 30-s sessions of 2-s chunks per round: 14 decisions each, a predicted- and a true-size sample per decision
    expect(h[0].samples).toBe(3 * 14 * 2);
    expect(h[1].samples).toBe(2 * h[0].samples);
    // the teacher (init actor) with true sizes, on the validation sessions, as the trainer's own validation plays them
    const teacher = new LiveDrlPolicy(loadDenseLayers(outA, ['s1', 's2', 'score']));
    const d0 = base().devVideos[0];
    const lv = { name: 'synthetic/d0', ladderKbps: d0.ladderKbps, chunkS: d0.chunkS, sizes: d0.sizes, meta: null };
    const sess = [0, 1, 2].map((k) =>
      runLiveSession(teacher, lv, trace('v', 2), new TrueSizes(lv), { startChunk: 5 + ((k * 11) % 20), chunks: 15, targetLatencyS: 3 }),
    );
    const q = sess.reduce((a, x) => a + x.qoe.total / x.mediaS / 1000, 0) / 3;
    expect(rec.distill.init_validation_true_qoe_per_s).toBeCloseTo(q, 9);
    expect(['init', 'distill1', 'distill2']).toContain(r.selected);
    expect(logs.some((m) => /distillation round 2\/2: 42 decisions/.test(m)))
      .withContext(logs.join('\n'))
      .toBeTrue();
  });

  it('with the oracle-h2 expert: a strong round moves the student toward the expert (agreement rises), recorded per round', async () => {
    const sizeDir = join('models', 'chunk-size');
    if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
    const sizeNet = loadSizeNet(sizeDir);
    const outA = join(dir, 'oa');
    await trainLiveAbr({ ...base(), sizeNet, bcSessions: 2, bcEpochs: 1, iters: 0, seed: 4, out: outA });
    const outO = join(dir, 'o');
    const logs: string[] = [];
    await trainLiveAbr({
      ...base(),
      sizeNet,
      seed: 4,
      bcSessions: 0,
      iters: 0,
      init: outA,
      distillExpert: 'oracle-h2',
      distillBeam: 1,
      distillRounds: 2,
      distillSessions: 6,
      distillEpochs: 40,
      distillLr: 3e-3,
      out: outO,
      log: (m: string) => logs.push(m),
    });
    const rec = JSON.parse(readFileSync(join(outO, 'train.json'), 'utf8'));
    expect(rec.distill.expert).toBe('oracle-h2');
    expect(rec.distill.expert_beam).toBe(1);
    const h = rec.distill.history as Array<{ round: number; samples: number; agreement: number }>;
    expect(h.map((x) => x.round)).toEqual([1, 2]);
    expect(h[0].samples).toBe(6 * 14 * 2);
    // round 1: the init actor's own choices against the expert's; round 2: the actor fitted to round 1's labels
    expect(h[1].agreement)
      .withContext(JSON.stringify(h))
      .toBeGreaterThan(h[0].agreement + 0.1);
    expect(logs.some((m) => /student = oracle-h2 on/.test(m)))
      .withContext(logs.join('\n'))
      .toBeTrue();
  });

  for (const expert of ['oracle-h2', 'rollout-h3'])
    it(`with the ${expert} per-rung score (expected regret): a strong round lowers the regret of the rungs the student plays, recorded per round`, async () => {
      const sizeDir = join('models', 'chunk-size');
      if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
      const sizeNet = loadSizeNet(sizeDir);
      const outA = join(dir, `ra-${expert}`);
      await trainLiveAbr({ ...base(), sizeNet, bcSessions: 2, bcEpochs: 1, iters: 0, seed: 5, out: outA });
      const outR = join(dir, `r-${expert}`);
      const logs: string[] = [];
      await trainLiveAbr({
        ...base(),
        sizeNet,
        seed: 5,
        bcSessions: 0,
        iters: 0,
        init: outA,
        distillExpert: expert,
        distillBeam: 1,
        distillTarget: 'expected',
        distillRounds: 2,
        distillSessions: 6,
        distillEpochs: 40,
        distillLr: 3e-3,
        out: outR,
        log: (m: string) => logs.push(m),
      });
      const rec = JSON.parse(readFileSync(join(outR, 'train.json'), 'utf8'));
      expect(rec.distill.target).toBe('expected');
      const h = rec.distill.history as Array<{ round: number; student_regret: number }>;
      expect(h.map((x) => x.round)).toEqual([1, 2]);
      for (const x of h) expect(x.student_regret).toBeGreaterThanOrEqual(0);
      // round 1: the init actor's own rungs; round 2: the actor fitted to round 1's regrets plays cheaper rungs
      expect(h[1].student_regret)
        .withContext(JSON.stringify(h))
        .toBeLessThan(0.8 * h[0].student_regret);
      expect(logs.some((m) => /its mean regret/.test(m)))
        .withContext(logs.join('\n'))
        .toBeTrue();
    });

  it('with the causal-h2 expert and soft targets: plays the expert on dev first and records it, the temperature and the safety', async () => {
    const sizeDir = join('models', 'chunk-size');
    if (!existsSync(join(sizeDir, 'head.json'))) return pending('models/chunk-size missing');
    const sizeNet = loadSizeNet(sizeDir);
    const outA = join(dir, 'ca');
    await trainLiveAbr({ ...base(), sizeNet, bcSessions: 2, bcEpochs: 1, iters: 0, seed: 6, out: outA });
    const outC = join(dir, 'c');
    const logs: string[] = [];
    const common = {
      ...base(),
      sizeNet,
      seed: 6,
      bcSessions: 0,
      iters: 0,
      init: outA,
      distillExpert: 'causal-h2',
      distillBeam: 1,
      distillTarget: 'soft' as const,
      distillTau: 0.05,
      distillRounds: 1,
      distillSessions: 3,
      distillEvalExpert: true,
    };
    await trainLiveAbr({ ...common, distillSafety: 0.8, out: outC, log: (m: string) => logs.push(m) });
    const rec = JSON.parse(readFileSync(join(outC, 'train.json'), 'utf8'));
    expect(rec.distill).toEqual(jasmine.objectContaining({ expert: 'causal-h2', target: 'soft', tau: 0.05, safety: 0.8 }));
    expect(Number.isFinite(rec.distill.expert_validation_qoe_per_s)).toBeTrue();
    // a planner on a slower imagined link plays lower: its dev QoE differs from the same planner at safety 0.3
    const outD = join(dir, 'd');
    await trainLiveAbr({ ...common, distillSafety: 0.3, out: outD, log: quiet });
    const recD = JSON.parse(readFileSync(join(outD, 'train.json'), 'utf8'));
    expect(recD.distill.expert_validation_qoe_per_s).not.toBeCloseTo(rec.distill.expert_validation_qoe_per_s, 6);
    expect(logs.some((m) => /the expert causal-h2 \(safety 0\.8\) itself on dev validation/.test(m)))
      .withContext(logs.join('\n'))
      .toBeTrue();
  });

  it('refuses a per-rung target without a planner expert, a bad temperature or safety, and evaluating the teacher', async () => {
    const sizeNet = { steps: 0 } as never;
    const o = { ...base(), sizeNet, bcSessions: 0, init: 'x', distillRounds: 1 };
    await expectAsync(trainLiveAbr({ ...o, distillTarget: 'soft' })).toBeRejectedWithError(
      InputError,
      /needs an oracle-hN, causal-hN or rollout-hN/,
    );
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'causal-h3', distillTarget: 'hard' as never })).toBeRejectedWithError(
      InputError,
      /distillTarget/,
    );
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'oracle-h3', distillTarget: 'soft', distillTau: 0 })).toBeRejectedWithError(
      InputError,
      /distillTau/,
    );
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'causal-h3', distillSafety: -1 })).toBeRejectedWithError(
      InputError,
      /distillSafety/,
    );
    await expectAsync(trainLiveAbr({ ...o, distillEvalExpert: true })).toBeRejectedWithError(InputError, /distillEvalExpert/);
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'causal-h0' })).toBeRejectedWithError(InputError, /distillExpert/);
  });

  it('refuses an unknown distillation expert, a bad beam and an oracle over risk-aware sizes', async () => {
    const sizeNet = { steps: 0 } as never;
    const o = { ...base(), sizeNet, bcSessions: 0, init: 'x', distillRounds: 1 };
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'oracle' })).toBeRejectedWithError(InputError, /distillExpert/);
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'oracle-h5', distillBeam: 0 })).toBeRejectedWithError(InputError, /distillBeam/);
    await expectAsync(trainLiveAbr({ ...o, distillExpert: 'oracle-h5', risk: 'q90' })).toBeRejectedWithError(InputError, /risk/);
  });

  it('refuses distillation sessions, epochs or a learning rate that cannot train, as the command line does (review, session 12)', async () => {
    const sizeNet = { steps: 0 } as never;
    const o = { ...base(), sizeNet, bcSessions: 0, init: 'x', distillRounds: 1 };
    await expectAsync(trainLiveAbr({ ...o, distillSessions: 0 })).toBeRejectedWithError(InputError, /distillSessions/);
    await expectAsync(trainLiveAbr({ ...o, distillEpochs: 1.5 })).toBeRejectedWithError(InputError, /distillEpochs/);
    await expectAsync(trainLiveAbr({ ...o, distillLr: NaN })).toBeRejectedWithError(InputError, /distillLr/);
    await expectAsync(trainLiveAbr({ ...o, distillLr: -1e-4 })).toBeRejectedWithError(InputError, /distillLr/);
  });

  it('refuses distillation without a teacher or after an imitation', async () => {
    const sizeNet = { steps: 0 } as never;
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, bcSessions: 0, distillRounds: 1 })).toBeRejectedWithError(
      InputError,
      /distillRounds needs init/,
    );
    await expectAsync(trainLiveAbr({ ...base(), sizeNet, init: 'x', distillRounds: 1 })).toBeRejectedWithError(
      InputError,
      /distillRounds needs bcSessions 0/,
    );
  });
});
