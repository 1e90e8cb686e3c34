/**
 * Live chunk-size forecasting: the baselines' exact semantics, the shared-data yardstick of
 * ../shared/data/chunks/README.md, and the learned forecaster's shapes, tfjs parity and per-stream adaptation.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  EwmaForecaster,
  ForecasterSizes,
  LastValue,
  MeanOfLast,
  MeanOfPast,
  RatioEwmaForecaster,
  RungHistory,
  type SizeForecaster,
} from '../../src/abr/size-forecast.js';
import { RatioEwmaPredictor, WithPredictedSizes } from '../../src/abr/chunk-size.js';
import { benchAbr } from '../../bench/abr.js';
import {
  LearnedSizeForecaster,
  SIZE_FEATURES,
  SIZE_HORIZONS,
  buildSizeNet,
  sizeFeatures,
  sizeNetFromArtifacts,
  type SizeNet,
} from '../../src/abr/size-model.js';
import { apeSummary, evaluateForecaster, loadChunkDataset, loadSizeNet, type ChunkVideo } from '../../src/sim/abr/chunks.js';
import { dataRoot } from '../../src/sim/abr/load.js';
import { mulberry32 } from '../../src/core/random.js';

const ladder = [300, 750, 1200];
const info = { ladderKbps: ladder, chunkS: 2 };
const series = [100, 200, 50, 400, 250, 300];

/** a random SizeNet (seeded) with the given inner steps */
function randomNet(steps: number, seed = 3, alpha = 0.5): SizeNet {
  const rng = mulberry32(seed);
  const dense = (n: number, m: number) => ({
    w: Float32Array.from({ length: n * m }, () => (rng() - 0.5) * (2 / Math.sqrt(n))),
    b: Float32Array.from({ length: m }, () => 0.05),
    n,
    m,
  });
  return {
    body: [dense(SIZE_FEATURES, 16), dense(16, 16)],
    head: { w: new Float32Array(16 * SIZE_HORIZONS), b: new Float32Array(SIZE_HORIZONS), n: 16, m: SIZE_HORIZONS },
    alphaW: new Float32Array(16 * SIZE_HORIZONS).fill(alpha),
    alphaB: new Float32Array(SIZE_HORIZONS).fill(alpha),
    steps,
    window: 10,
  };
}

describe('chunk-size baselines', () => {
  it('follow the data README definitions on one rung', () => {
    const fs = [new LastValue(), new MeanOfPast(), new MeanOfLast(5), new EwmaForecaster(0.3)];
    for (const f of fs) f.start({ ladderKbps: [300], chunkS: 2 });
    let e = series[0];
    series.forEach((s, i) => {
      for (const f of fs) f.observe([s]);
      if (i > 0) e = 0.3 * s + 0.7 * e;
      const past = series.slice(0, i + 1);
      const want = [s, past.reduce((a, b) => a + b) / past.length, past.slice(-5).reduce((a, b) => a + b) / Math.min(5, past.length), e];
      fs.forEach((f, k) => {
        const fc = f.forecast(3);
        expect(fc.length).toBe(3);
        for (const row of fc)
          expect(row[0])
            .withContext(`${f.name} after ${i + 1}`)
            .toBeCloseTo(want[k], 9);
      });
    });
  });

  it('ratio-EWMA learning one rung predicts the others by the nominal ladder', () => {
    const f = new RatioEwmaForecaster(0.6, 1);
    f.start(info);
    expect(f.forecast(1)[0]).toEqual(ladder.map((k) => (k * 1000 * 2) / 8));
    f.observe([null, 300000, null]); // 1.6 x nominal at 750 kbps
    const row = f.forecast(1)[0];
    expect(row[0]).toBeCloseTo(1.6 * 75000, 6);
    expect(row[2]).toBeCloseTo(1.6 * 300000, 6);
  });

  it('RungHistory imputes unknown rungs from the known ones', () => {
    const h = new RungHistory();
    h.start(info);
    h.push([75000, 187500, 300000]);
    h.push([null, 200000, null]);
    expect(h.known[0]).toEqual([true, false]);
    expect(h.sizes[0][1]).toBeGreaterThan(70000);
    expect(h.sizes[2][1]).toBeGreaterThan(h.sizes[1][1]);
    expect(() => h.push([1, 2])).toThrowError(/2 sizes for 3 rungs/);
  });

  it('reproduce the yardstick of ../shared/data/chunks/README.md (dev, pooled)', () => {
    const dir = join(dataRoot(), 'chunks');
    if (!existsSync(join(dir, 'index.csv'))) return pending(`chunk dataset not found under ${dir} (set EDGEPLAY_DATA)`);
    const dev = loadChunkDataset(dir, ['dev']);
    expect(dev.length).toBe(23);
    const want: Array<[() => LastValue | MeanOfPast | MeanOfLast | EwmaForecaster, number[]]> = [
      [() => new LastValue(), [14.2, 8.4, 20.5, 10.8]],
      [() => new MeanOfPast(), [17.4, 9.0, 17.7, 9.3]],
      [() => new MeanOfLast(5), [15.3, 8.0, 18.5, 9.5]],
      [() => new EwmaForecaster(0.3), [14.4, 7.7, 18.0, 9.2]],
    ];
    for (const [make, [m1, med1, m5, med5]] of want) {
      const e = evaluateForecaster(dev, make);
      const h1 = apeSummary(e.ape[0]);
      const h5 = apeSummary(e.ape[4]);
      expect(h1.n).toBe(23636);
      expect(h5.n).toBe(22888);
      expect(+h1.mape.toFixed(1)).toBe(m1);
      expect(+h1.median.toFixed(1)).toBe(med1);
      expect(+h5.mape.toFixed(1)).toBe(m5);
      expect(+h5.median.toFixed(1)).toBe(med5);
    }
  });
});

describe("a forecaster as the player's next-chunk predictor (ForecasterSizes, bench:abr drl-meta)", () => {
  it('learns the fetched rung only, answers horizon 1 at every rung, forgets on reset, refuses a bad ladder', () => {
    const seen: Array<Array<number | null>> = [];
    const spy: SizeForecaster = {
      name: 'spy',
      start: () => void seen.splice(0),
      observe: (s) => void seen.push(Array.from(s)),
      forecast: (h) => Array.from({ length: h }, (_, k) => ladder.map((r) => r * (k + 1))),
    };
    const p = new ForecasterSizes(spy, ladder, 2);
    p.observe(1, 200000);
    p.observe(2, 0); // a zero-byte download teaches nothing
    expect(seen).toEqual([
      [null, 200000, null],
      [null, null, null],
    ]);
    expect(p.predict()).toEqual(ladder); // horizon 1, not 2
    p.reset();
    expect(seen).toEqual([]);
    // the same numbers as the player's RatioEwmaPredictor when the forecaster is its twin (learning the rung fetched)
    const twin = new ForecasterSizes(new RatioEwmaForecaster(0.6, 1), ladder, 2);
    const ratio = new RatioEwmaPredictor(ladder, 0.6, 2);
    for (const [q, b] of [
      [1, 250000],
      [1, 150000],
      [1, 300000],
    ] as const) {
      twin.observe(q, b);
      ratio.observe(q, b);
      twin.predict().forEach((v, r) => expect(v).toBeCloseTo(ratio.predict()[r], 6));
    }
    expect(() => new ForecasterSizes(spy, [], 2)).toThrowError(RangeError, /ladder is empty/);
    expect(() => new ForecasterSizes(spy, ladder, 0)).toThrowError(RangeError, /chunk duration/);
  });

  it('drives a policy through WithPredictedSizes, and bench:abr runs drl-meta beside drl with its gap to the true sizes', async () => {
    // the policy sees the forecaster's sizes, not the true ones
    let got: number[] = [];
    const probe = { name: 'probe', decide: (o: { nextSizes: number[] }) => ((got = o.nextSizes), 0) };
    const fixed: SizeForecaster = { name: 'fixed', start: () => {}, observe: () => {}, forecast: () => [[1, 2, 3]] };
    const w = new WithPredictedSizes(probe as never, new ForecasterSizes(fixed, ladder, 2));
    w.decide({ throughputs: [100], delaysMs: [1000], lastQuality: 0, remain: 5, nextSizes: [9, 9, 9] } as never);
    expect(got).toEqual([1, 2, 3]);
    const dir = join(dataRoot(), 'abr');
    if (!existsSync(join(dir, 'traces', 'test')) || !existsSync(join(dir, 'video')))
      return pending(`Pensieve traces not found under ${dir} (set EDGEPLAY_DATA)`);
    const r = await benchAbr({
      synthetic: { family: 'walk-hi', count: 3 },
      policies: ['drl', 'drl-predicted', 'drl-meta'],
      out: null,
      log: () => {},
    });
    const mean = (p: string) => r.rows.find((x) => x.policy === p)!.qoe_chunk_mean;
    expect(r.rows.map((x) => x.policy)).toEqual(['drl', 'drl-predicted', 'drl-meta']);
    expect(r.size_gap!.map((g) => g.policy)).toEqual(['drl-predicted', 'drl-meta']);
    expect(r.size_gap![1].pct).toBeCloseTo(100 * (mean('drl-meta') / mean('drl') - 1), 9);
    await expectAsync(
      benchAbr({ synthetic: { family: 'walk-hi', count: 1 }, policies: ['drl-meta'], sizeModel: '/nonexistent', out: null, log: () => {} }),
    ).toBeRejectedWithError(/drl-meta needs the chunk-size forecaster: .*missing/);
  });
});

describe('learned chunk-size forecaster', () => {
  it('forecasts 5 horizons x every rung, positive, for ladders of 3 and 9 rungs, with and without coding meta', () => {
    for (const R of [3, 9]) {
      const f = new LearnedSizeForecaster(randomNet(2));
      const lad = Array.from({ length: R }, (_, r) => 300 * 1.5 ** r);
      f.start({ ladderKbps: lad, chunkS: 4 });
      const first = f.forecast(5);
      expect(first.length).toBe(5);
      expect(first[0]).toEqual(lad.map((k) => (k * 1000 * 4) / 8));
      const rng = mulberry32(R);
      for (let i = 0; i < 30; i++) {
        const level = 1 + rng();
        const meta =
          R === 3
            ? lad.map(() => ({
                bytes: 1e5,
                frames: 48,
                qpMean: 30,
                iCount: 1,
                pCount: 30,
                bCount: 17,
                iBytes: 2e4,
                pBytes: 6e4,
                bBytes: 1e4,
                tailBytes: 4e4,
                scene: rng(),
              }))
            : null;
        f.observe(
          lad.map((k, r) => (r === 1 && i % 3 === 0 ? null : (level * k * 1000 * 4) / 8)),
          meta,
        );
        const fc = f.forecast(5);
        expect(fc.length).toBe(5);
        for (const row of fc) {
          expect(row.length).toBe(R);
          for (const x of row) expect(Number.isFinite(x) && x > 0).toBeTrue();
        }
      }
    }
  });

  it('adapts to a stream: on steadily growing chunks, the inner steps cut the error of the unadapted head', () => {
    const err = (steps: number) => {
      const f = new LearnedSizeForecaster(randomNet(steps, 3, 0.9));
      f.start(info);
      let s = 0;
      let n = 0;
      let size = 50000;
      for (let i = 0; i < 40; i++) {
        if (i >= 15) {
          const fc = f.forecast(1)[0];
          s += Math.abs(fc[1] - size * 2.5) / (size * 2.5);
          n++;
        }
        f.observe([size, size * 2.5, size * 4]);
        size *= 1.1;
      }
      return s / n;
    };
    const before = err(0);
    const one = err(1);
    const three = err(3);
    expect(before).toBeGreaterThan(0.05);
    expect(one).toBeLessThan(before);
    expect(three).toBeLessThan(one);
    expect(three).toBeLessThan(0.5 * before);
  });

  it('computes the same unadapted forecast as the tfjs network it was exported from', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const model = buildSizeNet(tf, 16, 7);
    // non-zero head so the comparison means something
    const head = model.getLayer('head');
    head.setWeights([tf.randomNormal([16, SIZE_HORIZONS], 0, 0.1, 'float32', 5), tf.fill([SIZE_HORIZONS], 0.02)]);
    const specs: Array<{ name: string; shape: number[]; dtype: string }> = [];
    const parts: Float32Array[] = [];
    for (const name of ['h1', 'h2', 'head'])
      model
        .getLayer(name)
        .getWeights()
        .forEach((w, k) => {
          specs.push({ name: `${name}/${k === 0 ? 'kernel' : 'bias'}`, shape: w.shape as number[], dtype: 'float32' });
          parts.push(w.dataSync() as Float32Array);
        });
    const flat = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) (flat.set(p, off), (off += p.length));
    const net = sizeNetFromArtifacts(specs, flat.buffer, { features: SIZE_FEATURES, steps: 0, window: 10, alphaW: [], alphaB: [] });
    const f = new LearnedSizeForecaster(net);
    f.start(info);
    const h = new RungHistory();
    h.start(info);
    for (const s of series) {
      f.observe([s * 1000, s * 2500, s * 4000]);
      h.push([s * 1000, s * 2500, s * 4000]);
    }
    const x = new Float32Array(SIZE_FEATURES);
    sizeFeatures(h, 2, x);
    const y = (model.predict(tf.tensor2d(x, [1, SIZE_FEATURES])) as tf.Tensor).dataSync();
    const fc = f.forecast(5);
    for (let k = 0; k < SIZE_HORIZONS; k++) expect(fc[k][2]).toBeCloseTo(series[series.length - 1] * 4000 * Math.exp(y[k]), 1);
    expect(() =>
      sizeNetFromArtifacts(specs, flat.buffer, { features: SIZE_FEATURES + 1, steps: 0, window: 10, alphaW: [], alphaB: [] }),
    ).toThrowError(/features/);
  });

  it('the committed models load and beat mean-of-past at h=1 on the dev videos', () => {
    const dir = join(dataRoot(), 'chunks');
    if (!existsSync('models/chunk-size/model.json')) return pending('models/chunk-size not trained');
    if (!existsSync(join(dir, 'index.csv'))) return pending(`chunk dataset not found under ${dir}`);
    const net = loadSizeNet('models/chunk-size');
    expect(net.steps).toBeGreaterThan(0);
    const dev = loadChunkDataset(dir, ['dev']);
    const mine = apeSummary(evaluateForecaster(dev, () => new LearnedSizeForecaster(net)).ape[0]).mape;
    const mean = apeSummary(evaluateForecaster(dev, () => new MeanOfPast()).ape[0]).mape;
    expect(mine).toBeLessThan(mean);
  });
});

describe('bench:chunks --bounds (forecastBounds)', () => {
  /** a video whose rungs keep exact ratios 1 : 2 : 4 to a common complexity that changes every chunk */
  const video = (complexity: number[]): ChunkVideo => ({
    source: 's',
    video: 'v',
    split: 'dev',
    chunkS: 2,
    ladderKbps: [300, 600, 1200],
    sizes: complexity.map((c) => [1e4 * c, 2e4 * c, 4e4 * c]),
    meta: null,
    note: '',
  });
  /** a forecaster always `factor` × the true level of a constant-complexity stream */
  class Scaled extends LastValue {
    constructor(private factor: number) {
      super();
    }
    override forecast(h: number): number[][] {
      return super.forecast(h).map((row) => row.map((x) => x * this.factor));
    }
  }

  it("removes exactly the error each piece of information explains, and reports the forecaster's own on the same points", async () => {
    const { forecastBounds } = await import('../../bench/chunks.js');
    const rng = mulberry32(7);
    const changing = video(Array.from({ length: 40 }, () => 0.5 + rng()));
    const [common, rung0, stream] = forecastBounds([changing], () => new LastValue(), 'last');
    // the last value misses every change of the common complexity; the ratios between rungs are exact
    expect(common.mape_without).toBeGreaterThan(10);
    expect(common.mape).toBeLessThan(1e-9);
    expect(rung0.mape).toBeLessThan(1e-9);
    expect(rung0.points).toBe(35 * 2); // origins 5..39, rungs 1..2
    expect(stream.mape).toBeGreaterThan(5); // a constant factor per stream cannot follow the changes
    // a forecaster 20 % high on a steady stream: only the per-stream level fixes it... and the others too
    const steady = video(Array(40).fill(1));
    const [c2, , s2] = forecastBounds([steady], () => new Scaled(1.2), 'scaled');
    expect(c2.mape_without).toBeCloseTo(20, 6);
    expect(s2.mape).toBeLessThan(1e-9);
    expect(c2.mape).toBeLessThan(1e-9);
  });

  it("adds the first-half bound only with coding meta: a chunk's first half at a steady share tells its size", async () => {
    const { forecastBounds } = await import('../../bench/chunks.js');
    const rng = mulberry32(3);
    const v = video(Array.from({ length: 30 }, () => 0.5 + rng()));
    expect(forecastBounds([v], () => new LastValue(), 'last').map((b) => b.bound)).toEqual(['common', 'rung0', 'stream']);
    // every chunk: 40 % of its elementary-stream bytes in the first half; segment bytes = 1.02 x the elementary stream
    v.meta = v.sizes.map((row) =>
      row.map((bytes) => {
        const es = bytes / 1.02;
        return {
          bytes,
          frames: 48,
          qpMean: 30,
          iCount: 1,
          pCount: 47,
          bCount: 0,
          iBytes: 0.1 * es,
          pBytes: 0.9 * es,
          bBytes: 0,
          tailBytes: 0.6 * es,
          scene: 0,
        };
      }),
    );
    const head = forecastBounds([v], () => new LastValue(), 'last').find((b) => b.bound === 'head')!;
    expect(head.mape_without).toBeGreaterThan(10);
    expect(head.mape).toBeLessThan(1e-6);
  });
});
