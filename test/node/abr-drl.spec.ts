/** The committed DRL bitrate model: loads, has the declared shape, and behaves sensibly on synthetic links. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DrlPolicy, FastActor, FEATURES, buildModel, ensembleForward, features, ladderSlots } from '../../src/abr/drl.js';
import { interpolateWeights } from '../../src/train/soup.js';
import { DEFAULT_DRL_GUARD, guardLevel } from '../../src/abr/drl-guard.js';
import { LEVELS, VIDEO_BIT_RATE_KBPS, type AbrObservation } from '../../src/core/abr.js';
import { loadModel } from '../../src/train/io.js';
import { runPolicy } from '../../src/sim/abr/run.js';
import { benchAbrDev } from '../../bench/abr-dev.js';
import { InputError } from '../../src/train/errors.js';

const DIR = 'models/abr-drl';

describe('DRL bitrate policy (models/abr-drl)', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    model = await loadModel(DIR);
  });

  it('has a model card and the input width of features()', () => {
    expect(existsSync(`${DIR}/MODEL.md`)).toBeTrue();
    expect(model.inputs[0].shape).toEqual([null, FEATURES]);
    const o: AbrObservation = {
      lastQuality: 2,
      bufferS: 12,
      throughputs: [300, 400],
      delaysMs: [900, 800],
      nextSizes: [1e5, 2e5, 3e5, 5e5, 8e5, 1.2e6],
      remain: 30,
      nextIndex: 18,
      totalChunks: 48,
      ladderKbps: VIDEO_BIT_RATE_KBPS,
      rebufS: 0,
    };
    const f = features(o);
    expect(f.length).toBe(FEATURES);
    expect(Array.from(f).every(Number.isFinite)).toBeTrue();
  });

  it('computes the same logits in plain JavaScript as tfjs', () => {
    const fast = new FastActor(model);
    let seed = 3;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let k = 0; k < 20; k++) {
      const x = Float32Array.from({ length: FEATURES }, () => rnd() * 2 - 0.5);
      const ref = tf.tidy(() => ((model.predict(tf.tensor2d(x, [1, FEATURES])) as tf.Tensor[])[0].dataSync() as Float32Array).slice());
      const got = fast.forward(x);
      for (let j = 0; j < ref.length; j++) expect(Math.abs(got[j] - ref[j])).toBeLessThan(1e-4);
    }
  });

  it('streams high on a fast link and low on a slow one, without long stalls', () => {
    // CBR-like synthetic video: chunk bytes = bitrate x 4 s
    const sizes = VIDEO_BIT_RATE_KBPS.map((k) => Array.from({ length: 49 }, () => (k * 1000 * 4) / 8));
    const flat = (mbps: number) => ({
      name: `flat-${mbps}`,
      time: Array.from({ length: 400 }, (_, i) => i),
      bw: Array.from({ length: 400 }, () => mbps),
    });
    const policy = new DrlPolicy(model);
    const [fast] = runPolicy(policy, [flat(12)], sizes);
    const [slow] = runPolicy(policy, [flat(0.6)], sizes);
    expect(fast.bitrateSum / 47).toBeGreaterThan(3.5); // mostly 4.3 Mbps
    expect(slow.bitrateSum / 47).toBeLessThan(0.76); // at most the 750 kbps rung on average
    expect(fast.rebufSum).toBeLessThan(1);
    expect(slow.rebufSum / 4.3).toBeLessThan(5); // seconds of stall over the whole video
  });

  /** an observation with a uniform throughput history (Mb/s) on a ladder (kbps), CBR-like sizes of 4 s chunks */
  const obs = (ladder: readonly number[], mbps: number, bufferS: number, last: number, hist: number): AbrObservation => {
    const bpms = (mbps * 1e6) / 8 / 1000;
    const sizes = ladder.map((k) => (k * 1000 * 4) / 8);
    return {
      lastQuality: last,
      bufferS,
      throughputs: Array.from({ length: hist }, () => bpms),
      delaysMs: Array.from({ length: hist }, () => sizes[last] / bpms),
      nextSizes: sizes,
      remain: 20,
      nextIndex: 20,
      totalChunks: 48,
      ladderKbps: ladder,
      rebufS: 0,
    };
  };
  const LADDERS: number[][] = [
    [...VIDEO_BIT_RATE_KBPS],
    [400, 728, 857], // third-party streams: 1–3 video levels
    [1225, 1240],
    [500],
    [200, 350, 600, 1000, 1600, 2500, 4000, 6500], // more levels than the model's six
  ];

  // issue 18 item 4: the loopback link (108–611 Mb/s measured) made the policy pick level 0
  it('never picks a lower level on a faster link, from 0.01 to 1000 Mb/s, on any ladder', () => {
    const policy = new DrlPolicy(model);
    let checked = 0;
    for (const ladder of LADDERS)
      for (const bufferS of [0.5, 2, 12, 30])
        for (const hist of [1, 4, 8])
          for (let last = 0; last < ladder.length; last += Math.max(1, ladder.length - 2)) {
            let prev = -1;
            for (let e = -2; e <= 3.0001; e += 0.1) {
              const level = policy.decide(obs(ladder, 10 ** e, bufferS, last, hist));
              expect(level)
                .withContext(`ladder ${ladder.length}, ${(10 ** e).toFixed(2)} Mb/s, buffer ${bufferS}`)
                .toBeGreaterThanOrEqual(prev);
              prev = level;
              checked++;
            }
          }
    // the observation from the report: a 600 Mb/s loopback link, full history, a healthy buffer → the top level
    expect(policy.decide(obs(VIDEO_BIT_RATE_KBPS, 600, 12, 5, 8))).toBe(5);
    expect(checked).toBeGreaterThan(3000);
  });

  it('stall guard: lowers the level until the predicted download leaves the reserve, and only then', () => {
    const g = { reserveS: 4, factor: 0.8 };
    // 2 Mb/s history, 12 s of buffer; level 5 (4.3 Mb/s, 2.15 MB) takes 2.15e6 / (0.8 × 250 B/ms) = 10.75 s → 1.25 s left;
    // level 4 (2.85 Mb/s, 1.425 MB) 7.1 s → 4.9 s left: the guard keeps level 4 and stops there
    const o = obs(VIDEO_BIT_RATE_KBPS, 2, 12, 5, 8);
    expect(guardLevel(o, 5, g)).toBe(4);
    expect(guardLevel(o, 3, g)).toBe(3); // never raises
    // the last sample counts when it is below the harmonic mean: a link that just fell to 0.5 Mb/s → lower still
    const fell = { ...o, throughputs: [...o.throughputs.slice(0, -1), 62.5] };
    expect(guardLevel(fell, 5, g)).toBe(1);
    // an empty buffer: the lowest level, never below it; no history: no change
    expect(guardLevel(obs(VIDEO_BIT_RATE_KBPS, 2, 0, 5, 8), 5, g)).toBe(0);
    expect(guardLevel({ ...o, throughputs: [] }, 5, g)).toBe(5);
    expect(() => guardLevel(o, 5, { reserveS: -1, factor: 0.8 })).toThrowError(RangeError, /reserveS/);
    expect(() => new DrlPolicy(model, 'drl', undefined, { reserveS: 4, factor: 1.5 })).toThrowError(RangeError, /factor/);
    // the guarded policy is the policy as trained, then the guard: never higher, and lower where the guard binds
    const plain = new DrlPolicy(model);
    const guarded = new DrlPolicy(model, 'drl', undefined, DEFAULT_DRL_GUARD);
    let lowered = 0;
    for (const mbps of [0.3, 1, 2, 4, 8])
      for (const bufferS of [2, 6, 12, 24]) {
        const x = obs(VIDEO_BIT_RATE_KBPS, mbps, bufferS, 3, 8);
        const p = plain.decide(x);
        expect(guarded.decide(x)).toBe(guardLevel(x, p, DEFAULT_DRL_GUARD));
        if (guarded.decide(x) < p) lowered++;
      }
    expect(lowered).toBeGreaterThan(0);
  });

  // issue 18 item 3: every third-party stream (1–3 levels) was refused ("DRL model expects 6 levels")
  it('decides on any ladder hls.js plays: low on a slow link, high on a fast one', () => {
    const policy = new DrlPolicy(model);
    for (const ladder of LADDERS) {
      const top = ladder.length - 1;
      const slow = policy.decide(obs(ladder, (ladder[0] / 1000) * 0.5, 4, 0, 8));
      const fast = policy.decide(obs(ladder, (ladder[top] / 1000) * 20, 30, top, 8));
      expect(slow).withContext(`ladder ${ladder}`).toBe(0);
      expect(fast).withContext(`ladder ${ladder}`).toBe(top);
      for (let last = 0; last <= top; last++) {
        const l = policy.decide(obs(ladder, 2, 10, last, 4));
        expect(Number.isInteger(l) && l >= 0 && l <= top)
          .withContext(`ladder ${ladder} last ${last}: ${l}`)
          .toBeTrue();
      }
    }
    // how a ladder fills the model's six slots: ends pinned, gaps filled from below, never out of range
    expect(ladderSlots(6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ladderSlots(3)).toEqual([0, 0, 0, 1, 1, 2]);
    expect(ladderSlots(2)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(ladderSlots(1)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ladderSlots(8)).toEqual([0, 1, 3, 4, 6, 7]);
    expect(() => ladderSlots(0)).toThrowError(RangeError);
  });
});

describe('DRL ensembles (ensembleForward)', () => {
  let a: FastActor;
  let b: FastActor;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    a = new FastActor(await loadModel('models/abr-drl'));
    b = new FastActor(await loadModel('models/abr-drl-player'));
  });
  const inputs = () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    return Array.from({ length: 50 }, () => Float32Array.from({ length: FEATURES }, () => rnd() * 2 - 0.5));
  };
  const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, i, arr) => (x > arr[best] ? i : best), 0);
  const logSoftmax = (v: ArrayLike<number>) => {
    const mx = Math.max(...Array.from(v));
    const lz = mx + Math.log(Array.from(v).reduce((s, x) => s + Math.exp(x - mx), 0));
    return Array.from(v, (x) => x - lz);
  };

  it('answers L log-probabilities: one member keeps its argmax; two are the mean of their log-softmaxes and follow them when they agree', () => {
    const one = ensembleForward([(x) => a.forward(x)]);
    const two = ensembleForward([(x) => a.forward(x), (x) => b.forward(x)]);
    let agreed = 0;
    let disagreed = 0;
    for (const x of inputs()) {
      const la = Array.from(a.forward(x));
      const lb = Array.from(b.forward(x));
      const e1 = Array.from(one(x));
      expect(e1.length).toBe(LEVELS);
      expect(argmax(e1)).toBe(argmax(la));
      expect(Math.abs(e1.reduce((s, v) => s + Math.exp(v), 0) - 1)).toBeLessThan(1e-4); // a distribution
      const e2 = Array.from(two(x));
      const want = logSoftmax(la).map((v, q) => (v + logSoftmax(lb)[q]) / 2);
      for (let q = 0; q < LEVELS; q++) expect(Math.abs(e2[q] - want[q])).toBeLessThan(1e-4);
      if (argmax(la) === argmax(lb)) {
        agreed++;
        expect(argmax(e2)).toBe(argmax(la));
      } else disagreed++;
    }
    expect(agreed).toBeGreaterThan(0);
    expect(disagreed + agreed).toBe(50);
  });

  it('serves as DrlPolicy forward (levels in range on a session), and refuses no members or a wrong width', () => {
    const p = new DrlPolicy(null as never, 'ens', ensembleForward([(x) => a.forward(x), (x) => b.forward(x)]));
    const sizes = VIDEO_BIT_RATE_KBPS.map((k) => Array.from({ length: 49 }, () => (k * 1000 * 4) / 8));
    const trace = {
      name: 'mid',
      time: Array.from({ length: 400 }, (_, i) => i),
      bw: Array.from({ length: 400 }, (_, i) => 2 + Math.sin(i / 7)),
    };
    const r = runPolicy(p, [trace], sizes, { keepLogs: true })[0];
    expect(r.log.length).toBe(48);
    for (const c of r.log) expect(c.quality >= 0 && c.quality < LEVELS).toBeTrue();
    expect(() => ensembleForward([])).toThrowError(RangeError, /at least one member/);
    expect(() => ensembleForward([() => [1, 2, 3]])(new Float32Array(FEATURES))).toThrowError(/3 logits, expected 6/);
  });
});

describe('bench:abr-dev (selection benchmark on training data)', () => {
  it('scores robustMPC, a model and an ensemble on the training traces and the fast dev set; pooled is the union mean; bad input is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'abr-dev-'));
    mkdirSync(join(root, 'traces', 'train'), { recursive: true });
    mkdirSync(join(root, 'video'));
    for (const [k, mbps] of [0.8, 2.5, 4].entries())
      writeFileSync(
        join(root, 'traces', 'train', `t${k}`),
        Array.from({ length: 300 }, (_, i) => `${i}\t${mbps * (1 + 0.4 * Math.sin(i / 5 + k))}`).join('\n'),
      );
    VIDEO_BIT_RATE_KBPS.forEach((kbps, q) =>
      writeFileSync(
        join(root, 'video', `video_size_${q}`),
        Array.from({ length: 49 }, (_, i) => Math.round(kbps * 500 * (1 + 0.2 * Math.cos(i)))).join('\n'),
      ),
    );
    try {
      const r = await benchAbrDev({
        models: ['models/abr-drl', 'models/abr-drl+models/abr-drl-player'],
        devCount: 2,
        dataDir: root,
        out: null,
        log: () => {},
      });
      expect(r.rows.map((x) => x.policy)).toEqual(['robustmpc', 'models/abr-drl', 'models/abr-drl+models/abr-drl-player']);
      for (const x of r.rows) {
        // 3 training traces, 2 × 2 dev traces
        expect(x.pooled).toBeCloseTo((3 * x.training + 4 * x.fast_dev) / 7, 9);
        for (const v of [x.training, x.training_predicted, x.fast_dev, x.fast_dev_predicted]) expect(Number.isFinite(v)).toBeTrue();
      }
      // the fast dev set is faster than these training traces: every policy streams more QoE there
      for (const x of r.rows) expect(x.fast_dev).toBeGreaterThan(x.training);
      await expectAsync(benchAbrDev({ models: ['models/abr-drl'], devCount: 0, dataDir: root, out: null })).toBeRejectedWithError(
        InputError,
        /N >= 1/,
      );
      await expectAsync(benchAbrDev({ models: [], dataDir: root, out: null })).toBeRejectedWithError(InputError, /at least one model/);
      await expectAsync(
        benchAbrDev({ models: ['models/none'], devCount: 1, dataDir: root, out: null, log: () => {} }),
      ).toBeRejectedWithError(InputError, /no DRL model in models\/none/);
      await expectAsync(benchAbrDev({ models: ['models/abr-drl'], dataDir: join(root, 'nothing'), out: null })).toBeRejectedWithError(
        InputError,
        /EDGEPLAY_DATA/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('DRL weight interpolation (src/train/soup.ts)', () => {
  it('gives A at 0, B at 1, the mean at 0.5 (and a model whose policy runs); refuses alpha outside [0, 1] and different shapes', async () => {
    await tf.setBackend('wasm');
    const a = await loadModel('models/abr-drl');
    const b = await loadModel('models/abr-drl-player');
    const into = await loadModel('models/abr-drl');
    const flat = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const [wa, wb] = [flat(a), flat(b)];
    interpolateWeights(tf, a, b, 0, into);
    expect(flat(into)).toEqual(wa);
    interpolateWeights(tf, a, b, 1, into);
    expect(flat(into)).toEqual(wb);
    interpolateWeights(tf, a, b, 0.5, into);
    const half = flat(into);
    for (let i = 0; i < half.length; i++)
      for (let j = 0; j < half[i].length; j += 97) expect(half[i][j]).toBeCloseTo((wa[i][j] + wb[i][j]) / 2, 5);
    const sizes = VIDEO_BIT_RATE_KBPS.map((k) => Array.from({ length: 49 }, () => (k * 1000 * 4) / 8));
    const trace = { name: 'fast', time: Array.from({ length: 400 }, (_, i) => i), bw: Array.from({ length: 400 }, () => 8) };
    expect(runPolicy(new DrlPolicy(into), [trace], sizes)[0].bitrateSum / 47).toBeGreaterThan(3); // streams high on 8 Mb/s
    expect(() => interpolateWeights(tf, a, b, 1.5, into)).toThrowError(RangeError, /alpha/);
    expect(() => interpolateWeights(tf, a, b, Number.NaN, into)).toThrowError(RangeError, /alpha/);
    const small = buildModel(tf, 16, 1);
    expect(() => interpolateWeights(tf, a, small, 0.5, into)).toThrowError(/differs in shape/);
    [a, b, into, small].forEach((m) => m.dispose());
  });
});
