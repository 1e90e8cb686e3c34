/**
 * Deciding one LL-HLS part later (issue 14, phase 2): the part-conditioned correction of a chunk-size forecast
 * (src/abr/part-size.ts), its least-squares fit (src/train/part-size.ts), and the live simulator's decision after
 * the first part (src/sim/abr/live.ts `decideAfterParts`, HeadForecastSizes). Synthetic streams: no dataset needed.
 */
import {
  coefficientsFor,
  conditionOnHead,
  HeadSlopeAdapter,
  PartShareTracker,
  rateControlClass,
  type PartHeadCoefficients,
} from '../../src/abr/part-size.js';
import type { LiveObservation, LivePolicy } from '../../src/abr/live.js';
import { EwmaForecaster, MeanOfPast } from '../../src/abr/size-forecast.js';
import { mulberry32 } from '../../src/core/random.js';
import { stepTrace } from '../../src/core/trace.js';
import { ForecastSizes, HeadForecastSizes, TrueSizes, runLiveSession, type LiveVideo } from '../../src/sim/abr/live.js';
import type { SimTrace } from '../../src/sim/abr/env.js';
import type { PartVideo } from '../../src/sim/abr/parts.js';
import {
  evaluatePartConditioned,
  fitHeadForm,
  fitPartCoefficients,
  leastSquares,
  mapeFit,
  parseHeadForm,
  trainPartSize,
} from '../../src/train/part-size.js';
import { loadDenseLayers, loadSizeNet } from '../../src/sim/abr/chunks.js';
import { benchPartSizes, livePartRows } from '../../bench/part-sizes.js';
import { existsSync } from 'node:fs';
import { InputError } from '../../src/train/errors.js';

/**
 * A stream whose chunks' complexity c (common to every rung) changes at random: sizes = c · nominal, and the first k
 * of 4 parts hold a fixed share (0.4, 0.6, 0.8) of the chunk, with noise that shrinks as more parts are known.
 */
function partVideo(n = 120, seed = 3, noise = 0.03): PartVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  const share = [0.4, 0.6, 0.8, 1];
  const sizes: number[][] = [];
  const heads: number[][][] = share.map(() => []);
  let c = 1;
  for (let i = 0; i < n; i++) {
    if (rng() < 0.3) c = 0.4 + 1.6 * rng(); // scene change
    const row = ladderKbps.map((k) => (c * k * 1000 * 2) / 8);
    sizes.push(row);
    share.forEach((s, k) => heads[k].push(row.map((b) => (k === 3 ? b : b * s * (1 + (3 - k) * noise * (2 * rng() - 1))))));
  }
  return {
    source: 'synthetic',
    video: `pv${seed}`,
    split: 'train',
    chunkS: 2,
    ladderKbps,
    sizes,
    meta: null,
    note: '',
    parts: 4,
    partS: 0.5,
    heads,
  };
}

const sim = (name: string, steps: Array<[number, number]>): SimTrace => {
  const t = stepTrace(name, steps);
  return { name, time: t.times, bw: t.mbps };
};

/** coefficients knowing the first `parts` parts, fitted on partVideo(160, 3) with mean-of-past forecasts (share alpha 0.3) */
const partCoef = (parts: number): PartHeadCoefficients =>
  fitPartCoefficients(
    evaluatePartConditioned([partVideo(160, 3)], () => new MeanOfPast(), parts, null, 0.3),
    0.5,
    0.3,
    false,
  );

/** the live simulator's setup: partVideo(80, seed) as a LiveVideo with its part bytes, and partCoef(1) */
function partSetup(seed: number): { v: LiveVideo; coef: PartHeadCoefficients } {
  const pv = partVideo(80, seed);
  return { v: { name: pv.video, ladderKbps: pv.ladderKbps, chunkS: 2, sizes: pv.sizes, heads: pv.heads }, coef: partCoef(1) };
}

describe('part-conditioned chunk-size correction', () => {
  const unit: PartHeadCoefficients = { partS: 0.5, own: [1, 1, 1], cross: [1, 1, 1], shareAlpha: 0.3 };

  it('with unit slopes and the true share, recovers a common complexity change at every rung; with zero slopes keeps the forecast', () => {
    const forecast = [75_000, 187_500, 300_000];
    const truth = forecast.map((f) => f * 1.7);
    const head = { rung: 1, parts: 1, bytes: truth[1] * 0.4 };
    const p = conditionOnHead(forecast, head, 0.4, unit);
    for (let r = 0; r < 3; r++) expect(p[r]).toBeCloseTo(truth[r], 6);
    const zero = conditionOnHead(forecast, head, 0.4, { ...unit, own: [0, 0, 0], cross: [0, 0, 0] });
    expect(zero[0]).toBeCloseTo(forecast[0], 6);
    expect(zero[2]).toBeCloseTo(forecast[2], 6);
    // the played rung is never predicted below the bytes already published
    expect(zero[1]).toBe(forecast[1]);
    const big = conditionOnHead(forecast, { rung: 1, parts: 1, bytes: 250_000 }, 0.4, { ...unit, own: [0, 0, 0] });
    expect(big[1]).toBe(250_000);
    expect(() => conditionOnHead(forecast, { rung: 3, parts: 1, bytes: 1 }, 0.4, unit)).toThrowError(/rung 3/);
    expect(() => conditionOnHead(forecast, { rung: 0, parts: 4, bytes: 1 }, 0.4, unit)).toThrowError(/4 parts/);
  });

  it("tracks each rung's head share, falls back to the pooled share, then to k / parts", () => {
    const t = new PartShareTracker(2, 3, 0.5);
    expect(t.share(1, 0, 4)).toBeCloseTo(0.25, 9);
    t.observe(
      [
        [40, null, null],
        [60, null, null],
      ],
      [100, null, null],
    );
    expect(t.share(1, 0, 4)).toBeCloseTo(0.4, 9);
    expect(t.share(1, 2, 4)).toBeCloseTo(0.4, 9); // pooled
    t.observe(
      [
        [20, 50, null],
        [60, 60, null],
      ],
      [100, 100, null],
    );
    expect(t.share(1, 1, 4)).toBeCloseTo(0.5, 9);
    expect(t.share(1, 0, 4)).toBeCloseTo(Math.exp(0.5 * Math.log(0.4) + 0.5 * Math.log(0.2)), 9);
  });

  it('least squares recovers known weights', () => {
    const rng = mulberry32(7);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 400; i++) {
      const x = [rng() - 0.5, rng() - 0.5, 1];
      X.push(x);
      y.push(0.8 * x[0] - 0.3 * x[1] + 0.1);
    }
    const w = leastSquares(X, y, 0);
    expect(w[0]).toBeCloseTo(0.8, 6);
    expect(w[1]).toBeCloseTo(-0.3, 6);
    expect(w[2]).toBeCloseTo(0.1, 6);
  });

  it('fitted on one synthetic stream, cuts the mean-of-past error on another by far, more with more parts, and at h = 2', () => {
    const train = [partVideo(160, 3)];
    const dev = [partVideo(160, 4)];
    for (const linear of [false, true]) {
      const coef = fitPartCoefficients(
        evaluatePartConditioned(train, () => new MeanOfPast(), 3, null, 0.3),
        0.5,
        0.3,
        linear,
      );
      const e = evaluatePartConditioned(dev, () => new MeanOfPast(), 3, coef);
      const mape = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
      const base = mape(e.baseApe);
      const k = e.partApe.map(mape);
      expect(base).toBeGreaterThan(0.3);
      expect(k[0]).toBeLessThan(0.25 * base);
      expect(k[2]).toBeLessThan(k[0]);
      // the complexity persists (a scene lasts ~3 chunks): the next horizons move with the head too, and get better
      expect(coef.later![0][0]).toBeGreaterThan(0.3);
      expect(mape(e.laterApe[0][0])).toBeLessThan(0.8 * mape(e.laterBaseApe[0]));
    }
  });
});

describe('live simulator: deciding after the first part', () => {
  const { v, coef } = partSetup(5);

  /** plays rung 1 throughout and records what it was told */
  class Recorder implements LivePolicy {
    readonly name = 'recorder';
    seen: LiveObservation[] = [];
    decide(o: LiveObservation): number {
      this.seen.push(o);
      return 1;
    }
  }

  it('observes after the first part is published, with the corrected forecast, and sends the real part bytes', () => {
    const base = new ForecastSizes(v, new MeanOfPast(), 5, 'mean');
    const src = new HeadForecastSizes(v, base, coef);
    const errs = { base: 0, head: 0 };
    for (const k of [0, 1]) {
      const rec = new Recorder();
      const r = runLiveSession(rec, v, sim('fast', [[600, 20]]), k ? src : base, {
        startChunk: 10,
        chunks: 40,
        decideAfterParts: k,
        keepLog: true,
      });
      expect(rec.seen.length).toBe(39);
      for (const [i, o] of rec.seen.entries()) {
        const c = o.nextIndex;
        if (k) expect(o.producedS).toBeGreaterThanOrEqual(0.5 - 1e-9); // the first part is out
        const row = r.log[i + 1];
        // the request goes out only after the decision: with k = 1 after the first part was published
        if (k) expect(row.requestS).toBeGreaterThan(row.firstPartPublishedS);
        else expect(row.requestS).toBeLessThan(row.firstPartPublishedS);
        for (let q = 0; q < 3; q++) {
          const e = Math.abs(o.sizes[0][q] - v.sizes[c][q]) / v.sizes[c][q];
          if (k) errs.head += e;
          else errs.base += e;
        }
      }
    }
    // the first part's bytes tell the chunk's complexity: the told sizes are far closer to the truth
    expect(errs.head).toBeLessThan(0.3 * errs.base);
  });

  it('the first part carries its real share of the bytes: on a slow link it takes longer than a quarter of the chunk', () => {
    const flat: LiveVideo = { ...v, heads: null };
    const slow = sim('slow', [[600, 0.6]]);
    const one = (video: LiveVideo) => {
      const rec = new Recorder();
      const r = runLiveSession(rec, video, slow, new TrueSizes(video), { startChunk: 10, chunks: 6, keepLog: true });
      const l = r.log[3];
      return l.partStartS[1] - l.partStartS[0];
    };
    // a 40 % first part needs more link time than a 25 % one (both start at the part's publication or later)
    expect(one(v)).toBeGreaterThan(one(flat) + 0.05);
  });
});

describe('bench:part-sizes live rows (livePartRows)', () => {
  it('plays every DRL and baseline with each size source at each decision point, a second DRL on the same sessions', () => {
    for (const d of ['models/chunk-size/head.json', 'models/live-abr-drl/model.json']) if (!existsSync(d)) return pending(`${d} missing`);
    const { v, coef } = partSetup(7);
    const actor = loadDenseLayers('models/live-abr-drl', ['s1', 's2', 'score']);
    const traces = [
      sim('a', [[600, 1.2]]),
      sim('b', [
        [20, 4],
        [20, 0.8],
        [600, 2],
      ]),
    ];
    const rows = livePartRows([v], traces, {
      net: loadSizeNet('models/chunk-size'),
      coef,
      drls: { drl: actor, 'drl-late': actor },
      baselines: ['robustmpc', 'hlsjs'],
      sessionS: 40,
    });
    const key = (r: { policy: string; sizes: string; decide: string }) => `${r.policy} ${r.sizes} ${r.decide}`;
    const plain = [
      'true edge',
      'mean edge',
      'predicted edge',
      'true part1',
      'mean part1',
      'predicted part1',
      'mean+head part1',
      'predicted+head part1',
    ];
    const want = [
      ...['drl', 'drl-late', 'robustmpc'].flatMap((p) => plain.map((c) => `${p} ${c}`)),
      ...[...plain, 'declared edge', 'declared part1'].map((c) => `hlsjs ${c}`),
    ];
    expect(rows.map(key).sort()).toEqual(want.sort());
    for (const r of rows) {
      expect(r.sessions).withContext(key(r)).toBe(2);
      expect(Number.isFinite(r.qoe_mean) && r.bitrate_mbps > 0)
        .withContext(key(r))
        .toBeTrue();
    }
    const at = (p: string, s: string, d: string) => rows.find((r) => key(r) === `${p} ${s} ${d}`)!;
    // the same actor under two names plays the same sessions with the same sources
    for (const c of plain)
      expect(at('drl-late', ...(c.split(' ') as [string, string]))).toEqual({
        ...at('drl', ...(c.split(' ') as [string, string])),
        policy: 'drl-late',
      });
    // the corrected source is the one played after the first part: it changes what the policy is told, so what it does
    expect(at('robustmpc', 'predicted+head', 'part1').qoe_mean).not.toBe(at('robustmpc', 'predicted', 'part1').qoe_mean);
    // and deciding after the first part is another session timing than at the edge
    expect(at('robustmpc', 'true', 'part1').latency_s).not.toBe(at('robustmpc', 'true', 'edge').latency_s);

    // more decision points (after 2 parts) need coefficients that know 2 parts
    expect(() => livePartRows([v], traces, { net: loadSizeNet('models/chunk-size'), coef, drls: {}, decideAfter: [2] })).toThrowError(
      /must be an integer in 1\.\.1/,
    );
    const coef2 = partCoef(2);
    const two = livePartRows([v], traces, {
      net: loadSizeNet('models/chunk-size'),
      coef: coef2,
      drls: { drl: actor },
      baselines: [],
      decideAfter: [1, 2],
      sessionS: 40,
    });
    expect(two.filter((r) => r.decide === 'part2').map((r) => r.sizes)).toEqual([
      'true',
      'mean',
      'predicted',
      'mean+head',
      'predicted+head',
    ]);
    const t2 = two.find((r) => r.decide === 'part2' && r.sizes === 'true')!;
    const t1 = two.find((r) => r.decide === 'part1' && r.sizes === 'true')!;
    expect(t2.latency_s).not.toBe(t1.latency_s);
  });

  it('plays risk-aware sizes (--risk): a margin of 1 plays as the point forecast, a learned quantile does not; bad specs fail first', () => {
    if (!existsSync('models/chunk-size/head.json')) return pending('models/chunk-size missing');
    const { v, coef } = partSetup(7);
    const traces = [sim('a', [[600, 1.2]]), sim('c', [[600, 0.7]])];
    const o = { net: loadSizeNet('models/chunk-size'), coef, drls: {}, baselines: ['robustmpc'], sessionS: 40 };
    const rows = livePartRows([v], traces, { ...o, risks: ['x1', 'q90'] });
    const at = (s: string, d: string) => rows.find((r) => r.sizes === s && r.decide === d)!;
    expect(rows.filter((r) => r.decide === 'part1').map((r) => r.sizes)).toEqual([
      'true',
      'mean',
      'predicted',
      'mean+head',
      'predicted+head',
      'predicted+head+x1',
      'predicted+head+q90',
    ]);
    expect(rows.filter((r) => r.decide === 'edge').map((r) => r.sizes)).toEqual([
      'true',
      'mean',
      'predicted',
      'predicted+x1',
      'predicted+q90',
    ]);
    expect({ ...at('predicted+head+x1', 'part1'), sizes: '' }).toEqual({ ...at('predicted+head', 'part1'), sizes: '' });
    expect({ ...at('predicted+x1', 'edge'), sizes: '' }).toEqual({ ...at('predicted', 'edge'), sizes: '' });
    // the 90 % quantile of the forecast's errors is a margin above the forecast: robustMPC fetches less
    expect(at('predicted+head+q90', 'part1').bitrate_mbps).toBeLessThan(at('predicted+head', 'part1').bitrate_mbps);
    expect(() => livePartRows([v], traces, { ...o, risks: ['p90'] })).toThrowError(/size risk 'p90'/);
  });
});

describe('per-stream adaptation of the head slopes (HeadSlopeAdapter)', () => {
  const prior: PartHeadCoefficients = { partS: 0.5, own: [0.8], cross: [0.6], ownBias: [-0.01], crossBias: [0], shareAlpha: 0.3 };

  it('keeps the fitted slopes without a prior strength, and moves them to the stream own slope as its evidence grows', () => {
    expect(new HeadSlopeAdapter(prior).coefficients()).toBe(prior);
    const rng = mulberry32(11);
    const a = new HeadSlopeAdapter({ ...prior, adaptLambda: 1 });
    // a stream whose head says nothing about the played rung (slope 0) and half as much about the others
    const pairs = (n: number) => {
      for (let i = 0; i < n; i++) {
        const g = 0.4 * (2 * rng() - 1);
        a.observe(1, true, g, -0.01 + 0.02 * (rng() - 0.5));
        a.observe(1, false, g, 0.3 * g);
      }
    };
    pairs(5);
    const early = a.coefficients();
    expect(early.own[0]).toBeLessThan(0.8);
    expect(early.own[0]).toBeGreaterThan(0.2);
    pairs(2000);
    const late = a.coefficients();
    expect(Math.abs(late.own[0])).toBeLessThan(0.05);
    expect(late.cross[0]).toBeCloseTo(0.3, 1);
    expect(late.ownBias).toEqual([-0.01]);
    // the adapted slopes are what conditionOnHead applies: a surprise no longer moves the played rung
    const out = conditionOnHead([100, 200], { rung: 0, parts: 1, bytes: 60 }, 0.4, late);
    expect(out[0] / 100).toBeCloseTo(Math.exp(late.own[0] * Math.log(1.5) - 0.01), 6);
    expect(() => a.observe(2, true, 0.1, 0.1)).toThrowError(/k 2 outside 1..1/);
    expect(() => new HeadSlopeAdapter({ ...prior, adaptLambda: 0 })).toThrowError(/adaptLambda 0 must be > 0/);
  });
});

/**
 * A CBR-like stream: every chunk's bytes are pinned near the rung's nominal size, while the first parts' share moves
 * with the content (an I-frame-heavy scene start or not), so the head says nothing about the chunk's size.
 */
function cbrPartVideo(n = 120, seed = 5, note = 'cbr scenecut; synthetic'): PartVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  const sizes: number[][] = [];
  const heads: number[][][] = [[], [], [], []];
  for (let i = 0; i < n; i++) {
    const row = ladderKbps.map((k) => Math.round(((k * 1000 * 2) / 8) * (1 + 0.04 * (2 * rng() - 1))));
    const s1 = 0.2 + 0.4 * rng();
    const shares = [s1, s1 + (1 - s1) / 3, s1 + (2 * (1 - s1)) / 3, 1];
    sizes.push(row);
    shares.forEach((s, k) => heads[k].push(row.map((b) => (k === 3 ? b : b * s))));
  }
  return { ...partVideo(n, seed), video: `cbr${seed}`, note, sizes, heads };
}

describe('per-rate-control head slopes (session 10)', () => {
  const mape = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const vbrNote = (v: PartVideo, note: string): PartVideo => ({ ...v, note });

  it('reads the class from an encode description and unknown from anything else', () => {
    expect(rateControlClass('cbr zerolatency scenecut; 10 scenes: rotate')).toBe('cbr');
    expect(rateControlClass('abr scenecut; 9 scenes')).toBe('vbr');
    expect(rateControlClass('capped-crf crf 20 scenecut; 10 scenes')).toBe('vbr');
    expect(rateControlClass('cbrx')).toBeNull();
    expect(rateControlClass('sports')).toBeNull();
    expect(rateControlClass('')).toBeNull();
  });

  it("picks the class's slopes, falls back to the default ones, and refuses slopes of another K", () => {
    const coef: PartHeadCoefficients = {
      partS: 0.5,
      own: [0.8, 0.9],
      cross: [0.6, 0.7],
      later: [[0.3], [0.4]],
      shareAlpha: 0.3,
      linOwn: [[1, 0, 0, 0, 0]],
      linCross: [[1, 0, 0, 0, 0]],
      byRateControl: { cbr: { own: [0.05, 0.1], cross: [0.02, 0.05], ownBias: [0.01, 0], crossBias: [0, 0] } },
    };
    const c = coefficientsFor(coef, 'cbr');
    expect(c.own).toEqual([0.05, 0.1]);
    expect(c.cross).toEqual([0.02, 0.05]);
    expect(c.ownBias).toEqual([0.01, 0]);
    expect(c.later).toEqual([[0.3], [0.4]]); // no later slopes of its own: the default ones
    expect(c.linOwn).toBeUndefined();
    expect(coefficientsFor(coef, 'vbr')).toBe(coef);
    expect(coefficientsFor(coef, null)).toBe(coef);
    // a surprise moves the played rung by the class's slope, not the default one
    const out = conditionOnHead([100, 200], { rung: 0, parts: 1, bytes: 60 }, 0.4, c);
    expect(out[0] / 100).toBeCloseTo(Math.exp(0.05 * Math.log(1.5) + 0.01), 9);
    expect(() => coefficientsFor({ ...coef, byRateControl: { cbr: { own: [0.1], cross: [0.1] } } }, 'cbr')).toThrowError(
      /cbr slopes are not for k = 1..2/,
    );
  });

  it('a CBR stream evaluated with CBR slopes fitted on another CBR stream loses less than with the VBR slopes; a VBR stream is unchanged', () => {
    const vbrTrain = [vbrNote(partVideo(160, 3), 'capped-crf crf 20; synthetic')];
    const cbrTrain = [cbrPartVideo(160, 5)];
    const base = fitPartCoefficients(
      evaluatePartConditioned(vbrTrain, () => new MeanOfPast(), 1, null, 0.3),
      0.5,
      0.3,
      false,
      'mape',
    );
    const cbrFit = fitPartCoefficients(
      evaluatePartConditioned(cbrTrain, () => new MeanOfPast(), 1, null, 0.3),
      0.5,
      0.3,
      false,
      'mape',
    );
    // on a CBR stream the head is no evidence: the fitted slope is near zero, far below the VBR one
    expect(cbrFit.own[0]).toBeLessThan(0.15);
    expect(base.own[0]).toBeGreaterThan(0.6);
    const perRc: PartHeadCoefficients = {
      ...base,
      byRateControl: { cbr: { own: cbrFit.own, cross: cbrFit.cross, ownBias: cbrFit.ownBias, crossBias: cbrFit.crossBias } },
    };
    const cbrDev = [cbrPartVideo(120, 6)];
    const plain = evaluatePartConditioned(cbrDev, () => new MeanOfPast(), 1, base);
    const classed = evaluatePartConditioned(cbrDev, () => new MeanOfPast(), 1, perRc);
    expect(mape(plain.partApe[0])).toBeGreaterThan(1.5 * mape(plain.baseApe)); // the VBR slopes hurt on CBR
    expect(mape(classed.partApe[0])).toBeLessThan(1.1 * mape(classed.baseApe));
    // the same CBR stream of unknown class keeps the default slopes
    const unknown = evaluatePartConditioned([{ ...cbrDev[0], note: '' }], () => new MeanOfPast(), 1, perRc);
    expect(Array.from(unknown.partApe[0])).toEqual(Array.from(plain.partApe[0]));
    // a VBR stream: byte-identical figures with or without the CBR slopes
    const vbrDev = [vbrNote(partVideo(120, 4), 'abr; synthetic')];
    const a = evaluatePartConditioned(vbrDev, () => new MeanOfPast(), 1, base);
    const b = evaluatePartConditioned(vbrDev, () => new MeanOfPast(), 1, perRc);
    expect(Array.from(b.partApe[0])).toEqual(Array.from(a.partApe[0]));
    // the live simulator's corrected sizes follow the stream's class too
    const live = (rc: 'cbr' | null) => {
      const v: LiveVideo = {
        name: 'c',
        ladderKbps: cbrDev[0].ladderKbps,
        chunkS: 2,
        sizes: cbrDev[0].sizes,
        heads: cbrDev[0].heads,
        rateControl: rc,
      };
      const s = new HeadForecastSizes(v, new ForecastSizes(v, new MeanOfPast(), 5, 'mean'), perRc);
      return s.sizesAfterHead(30, 30, 1, { rung: 1, parts: 1, bytes: cbrDev[0].heads[0][30][1] })[0];
    };
    const truth = cbrDev[0].sizes[30];
    const err = (p: number[]) => p.reduce((s, x, r) => s + Math.abs(x - truth[r]) / truth[r], 0);
    expect(live('cbr')).not.toEqual(live(null));
    expect(err(live('cbr'))).toBeLessThan(0.5 * err(live(null)) + 0.03);
  });

  it('train:part-size selects per-rate-control slopes on dev when the dev set has CBR streams, and refuses a class it has no stream of', () => {
    const vbrTrain = [vbrNote(partVideo(120, 3), 'capped-crf crf 20; synthetic')];
    const cbrTrain = [cbrPartVideo(120, 5)];
    const dev = [vbrNote(partVideo(100, 4), 'abr; synthetic'), cbrPartVideo(100, 6), cbrPartVideo(100, 7)];
    const rows = trainPartSize({
      trainSets: [{ name: 'synthetic', videos: vbrTrain }],
      dev,
      bases: [{ name: 'mean_all', make: () => new MeanOfPast() }],
      K: 1,
      shareAlphas: [0.3],
      weightings: ['points'],
      rateControlSets: [[], ['cbr'], ['cbr', 'vbr']],
      rateControlTrain: [...cbrTrain, ...vbrTrain],
      out: null,
      log: () => undefined,
    });
    expect(rows[0].rate_control).toMatch(/^cbr/);
    expect(rows[0].coef.byRateControl?.cbr?.own[0]).toBeLessThan(0.15);
    expect(() =>
      trainPartSize({
        trainSets: [{ name: 'synthetic', videos: vbrTrain }],
        dev,
        bases: [{ name: 'mean_all', make: () => new MeanOfPast() }],
        K: 1,
        rateControlSets: [['cbr']],
        rateControlTrain: vbrTrain,
        out: null,
        log: () => undefined,
      }),
    ).toThrowError(/no training stream of rate control cbr/);
  });

  it('train:part-size refuses an empty rate-control list (it silently searched only the ls+linear fits) and a grid left empty by the weightings (it crashed with a TypeError)', () => {
    const vbrTrain = [vbrNote(partVideo(120, 3), 'capped-crf crf 20; synthetic')];
    const dev = [vbrNote(partVideo(100, 4), 'abr; synthetic'), cbrPartVideo(100, 6)];
    const base = {
      trainSets: [{ name: 'synthetic', videos: vbrTrain }],
      dev,
      bases: [{ name: 'mean_all', make: () => new MeanOfPast() }],
      K: 1,
      shareAlphas: [0.3],
      out: null,
      log: () => undefined,
    };
    // `--rate-control ''` (as `--adapt ''` means none): no set to select from is a bad command line, not a smaller grid
    expect(() => trainPartSize({ ...base, weightings: ['points'], rateControlSets: [] })).toThrowError(InputError, /rate-control/);
    // 'source' weighting needs two sources; with one, no configuration is left to select
    expect(() => trainPartSize({ ...base, weightings: ['source'] })).toThrowError(InputError, /source/);
    expect(() => trainPartSize({ ...base, weightings: [] })).toThrowError(InputError, /weighting/);
  });
});

/**
 * A CBR stream whose content sometimes cannot fill the rate (a simple scene: the chunk undershoots to 0.3–0.8 of the
 * nominal bytes, its first part with it), while a large first part (an I-frame) leaves the chunk at the nominal bytes.
 */
function cbrUndershootVideo(n = 160, seed = 11): PartVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  const sizes: number[][] = [];
  const heads: number[][][] = [[], [], [], []];
  for (let i = 0; i < n; i++) {
    const c = rng() < 0.25 ? 0.3 + 0.5 * rng() : 1 + 0.04 * (2 * rng() - 1);
    const row = ladderKbps.map((k) => Math.round(((k * 1000 * 2) / 8) * c * (1 + 0.02 * (2 * rng() - 1))));
    const s1 = 0.25 + 0.35 * rng();
    const shares = [s1, s1 + (1 - s1) / 3, s1 + (2 * (1 - s1)) / 3, 1];
    sizes.push(row);
    shares.forEach((s, k) => heads[k].push(row.map((b) => (k === 3 ? b : b * s))));
  }
  return { ...partVideo(n, seed), video: `cbru${seed}`, note: 'cbr scenecut; synthetic', sizes, heads };
}

describe('head forms of the class slopes (session 11)', () => {
  const mape = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const head = (bytes: number) => ({ rung: 0, parts: 1, bytes });

  it('a hinge moves a small head by the negative slope and a large one by the positive one; nominal and base-mean terms as documented', () => {
    const hinge: PartHeadCoefficients = { partS: 0.5, own: [0.2], cross: [0.1], ownNeg: [0.9], crossNeg: [0.8], shareAlpha: 0.3 };
    // share 0.4: a 20-byte head estimates 50 (g = log 0.5 < 0), a 60-byte head 150 (g = log 1.5 > 0), against 100
    let out = conditionOnHead([100, 200], head(20), 0.4, hinge);
    expect(out[0]).toBeCloseTo(100 * 0.5 ** 0.9, 9);
    expect(out[1]).toBeCloseTo(200 * 0.5 ** 0.8, 9);
    out = conditionOnHead([100, 200], head(60), 0.4, hinge);
    expect(out[0]).toBeCloseTo(100 * 1.5 ** 0.2, 9);
    expect(out[1]).toBeCloseTo(200 * 1.5 ** 0.1, 9);
    // the nominal pull: z_r = log(nominal_r / base_r); a head that matches the forecast (g = 0) moves nothing else
    const nominal: PartHeadCoefficients = { partS: 0.5, own: [0], cross: [0], ownNominal: [0.5], crossNominal: [1], shareAlpha: 0.3 };
    out = conditionOnHead([100, 200], head(40), 0.4, nominal, { nominalBytes: [150, 100] });
    expect(out[0]).toBeCloseTo(100 * 1.5 ** 0.5, 9);
    expect(out[1]).toBeCloseTo(100, 9);
    expect(() => conditionOnHead([100, 200], head(40), 0.4, nominal)).toThrowError(/no nominal bytes/);
    expect(() => conditionOnHead([100, 200], head(40), 0.4, nominal, { nominalBytes: [150] })).toThrowError(/no nominal bytes/);
    // the base: forecast^(1-w) · mean^w, and the surprise is taken against it
    const meanBase: PartHeadCoefficients = { partS: 0.5, own: [1], cross: [1], baseMean: 1, shareAlpha: 0.3 };
    out = conditionOnHead([100, 200], head(40), 0.4, meanBase, { meanBytes: [50, 100] });
    expect(out[0]).toBeCloseTo(100, 9); // base 50, head estimate 100: g = log 2, unit slope
    expect(out[1]).toBeCloseTo(200, 9);
    out = conditionOnHead([100, 200], head(40), 0.4, { ...meanBase, own: [0], cross: [0], baseMean: 0.5 }, { meanBytes: [25, 800] });
    expect(out[0]).toBeCloseTo(50, 9);
    expect(out[1]).toBeCloseTo(400, 9);
    // no mean known yet (the stream's first chunk): the forecast alone
    out = conditionOnHead([100, 200], head(40), 0.4, { ...meanBase, own: [0], cross: [0] }, { meanBytes: null });
    expect(out).toEqual([100, 200]);
  });

  it("coefficientsFor carries a class's form and share EWMA, and refuses bad lengths and weights", () => {
    const coef: PartHeadCoefficients = {
      partS: 0.5,
      own: [0.7],
      cross: [0.6],
      shareAlpha: 0.3,
      byRateControl: {
        cbr: {
          own: [0.1],
          cross: [0.1],
          ownNeg: [0.6],
          crossNeg: [0.5],
          ownNominal: [0.4],
          crossNominal: [0.3],
          baseMean: 1,
          shareAlpha: 0.1,
        },
      },
    };
    const c = coefficientsFor(coef, 'cbr');
    expect([c.ownNeg, c.crossNeg, c.ownNominal, c.crossNominal, c.baseMean, c.shareAlpha]).toEqual([[0.6], [0.5], [0.4], [0.3], 1, 0.1]);
    expect(coefficientsFor(coef, 'vbr')).toBe(coef);
    const bad = (s: object) => ({ ...coef, byRateControl: { cbr: { own: [0.1], cross: [0.1], ...s } } });
    expect(() => coefficientsFor(bad({ ownNeg: [0.1, 0.2] }), 'cbr')).toThrowError(/not for k = 1..1/);
    expect(() => coefficientsFor(bad({ baseMean: 1.5 }), 'cbr')).toThrowError(/baseMean 1.5/);
    expect(() => coefficientsFor(bad({ shareAlpha: 0 }), 'cbr')).toThrowError(/shareAlpha 0/);
    // the share tracker's mean of past sizes is the mean_all forecast
    const t = new PartShareTracker(1, 2, 0.3);
    expect(t.meanBytes()).toBeNull();
    t.observe([[10, null]], [100, null]);
    t.observe([[30, 40]], [300, 400]);
    const m = t.meanBytes()!;
    expect(m[0]).toBe(200);
    expect(m[1]).toBe(400);
  });

  it('parseHeadForm reads the forms and refuses others; mapeFit finds exact weights', () => {
    expect(parseHeadForm('linear')).toEqual({ name: 'linear', baseMean: 0, hinge: false, nominal: false });
    expect(parseHeadForm('mean+hinge+nominal')).toEqual({ name: 'mean+hinge+nominal', baseMean: 1, hinge: true, nominal: true });
    expect(parseHeadForm('mean0.5+linear').baseMean).toBe(0.5);
    for (const bad of ['', 'hinge+linear', 'nominal', 'hinge+mean', 'mean2+hinge', 'linear+nominal+nominal', 'quadratic'])
      expect(() => parseHeadForm(bad))
        .withContext(bad)
        .toThrowError(/head form/);
    const rng = mulberry32(4);
    const X = Array.from({ length: 300 }, () => [2 * rng() - 1, 2 * rng() - 1, 1]);
    const y = X.map((x) => 0.7 * x[0] - 0.3 * x[1] + 0.05);
    const w = mapeFit(X, y, undefined, [0, 0, 0]);
    expect(w[0]).toBeCloseTo(0.7, 2);
    expect(w[1]).toBeCloseTo(-0.3, 2);
    expect(w[2]).toBeCloseTo(0.05, 2);
    expect(() => mapeFit([[NaN, 1]], [0])).toThrowError(/no usable rows/);
  });

  it('on CBR streams that undershoot, mean+hinge+nominal slopes fitted on one beat the linear ones on another, in the evaluation and the live simulator; train:part-size picks a form per class', () => {
    const train = [cbrUndershootVideo(200, 11)];
    const dev = cbrUndershootVideo(160, 12);
    const slopes = (spec: string) => {
      const form = parseHeadForm(spec);
      const pass = evaluatePartConditioned(train, () => new MeanOfPast(), 1, null, 0.3, 5, form.baseMean);
      return fitHeadForm(pass, form, 'mape', train);
    };
    const base: PartHeadCoefficients = { partS: 0.5, own: [0.7], cross: [0.7], shareAlpha: 0.3 };
    const linear = { ...base, byRateControl: { cbr: slopes('linear') } };
    const rich = { ...base, byRateControl: { cbr: slopes('mean+hinge+nominal') } };
    expect(rich.byRateControl.cbr.ownNeg![0]).toBeGreaterThan(rich.byRateControl.cbr.own[0]); // a small head says more
    // the base: an EWMA of the sizes (as the learned forecaster, it follows the last chunks, not the stream's mean)
    const meta = () => new EwmaForecaster(0.5);
    const eLin = mape(evaluatePartConditioned([dev], meta, 1, linear).partApe[0]);
    const eRich = mape(evaluatePartConditioned([dev], meta, 1, rich).partApe[0]);
    expect(eRich).toBeLessThan(0.9 * eLin);
    // the live simulator applies the same form (mean of past and nominal bytes from the stream)
    const v: LiveVideo = { name: 'u', ladderKbps: dev.ladderKbps, chunkS: 2, sizes: dev.sizes, heads: dev.heads, rateControl: 'cbr' };
    let errLin = 0;
    let errRich = 0;
    for (let o = 20; o < 150; o++) {
      const h = { rung: 1, parts: 1, bytes: dev.heads[0][o][1] };
      const l = new HeadForecastSizes(v, new ForecastSizes(v, new EwmaForecaster(0.5), 5, 'f'), linear).sizesAfterHead(o, o, 1, h)[0];
      const r = new HeadForecastSizes(v, new ForecastSizes(v, new EwmaForecaster(0.5), 5, 'f'), rich).sizesAfterHead(o, o, 1, h)[0];
      errLin += Math.abs(l[1] - dev.sizes[o][1]) / dev.sizes[o][1];
      errRich += Math.abs(r[1] - dev.sizes[o][1]) / dev.sizes[o][1];
    }
    expect(errRich).toBeLessThan(0.9 * errLin);
    // train:part-size chooses the class's form on its dev streams
    const rows = trainPartSize({
      trainSets: [{ name: 'synthetic', videos: [partVideo(120, 3)] }],
      dev: [cbrUndershootVideo(120, 13), { ...partVideo(100, 4), note: 'abr; synthetic' }],
      bases: [{ name: 'mean_all', make: () => new EwmaForecaster(0.5) }],
      K: 1,
      shareAlphas: [0.3],
      weightings: ['points'],
      rateControlSets: [['cbr']],
      rateControlTrain: train,
      forms: ['linear', 'mean+hinge+nominal'],
      classShareAlphas: [0.3, 0.6],
      out: null,
      log: () => undefined,
    });
    expect(rows[0].rate_control_forms?.cbr).toMatch(/^mean\+hinge\+nominal alpha 0\.[36]$/);
    expect(rows[0].coef.byRateControl?.cbr?.baseMean).toBe(1);
    expect([0.3, 0.6]).toContain(rows[0].coef.byRateControl!.cbr!.shareAlpha!);
  });

  it('bench:part-sizes --live-encodes needs --encodes, and only it (or --no-live) lets --split test run', async () => {
    const o = { frames: '.cache/aitrans/dataset/video_trace', out: null, log: () => undefined };
    await expectAsync(benchPartSizes({ ...o, liveEncodes: true })).toBeRejectedWithError(/--live-encodes needs --encodes DIR/);
    await expectAsync(benchPartSizes({ ...o, split: 'test', encodes: 'bench/coding-meta' })).toBeRejectedWithError(
      /--split test needs --encodes DIR and --no-live or --live-encodes/,
    );
    await expectAsync(benchPartSizes({ ...o, split: 'test', liveEncodes: true })).toBeRejectedWithError(/--split test needs --encodes DIR/);
  });
});
