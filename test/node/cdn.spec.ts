/**
 * Multi-CDN scheduling (LTS): the MDP decisions the paper leaves open, the policies, the simulators'
 * invariants. Most specs make their own small data (synthetic traces and traffic); those that need the
 * shared datasets or the trained models are pending without them.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  actionCount,
  applyAction,
  CdnHistory,
  checkPoints,
  decodeAction,
  equalPoints,
  fromPoints,
  platformQoe,
  stepReward,
  toPoints,
  worstOrder,
  K_STEPS,
  lastScores,
} from '../../src/assign/cdn/mdp.js';
import { EqualSplit, UcbShares, WeightedRoundRobin } from '../../src/assign/cdn/baselines.js';
import {
  CDN_CHANNELS,
  checkInputs,
  decodeBf16,
  encodeBf16,
  encodeObservation,
  inputWidth,
  LtsNet,
  LtsPolicy,
  ltsModelFromFiles,
  timeOfDayFeatures,
  type LtsManifest,
} from '../../src/assign/cdn/lts.js';
import { FastLtsPolicy, fitTree, treePredict, type TreeModel } from '../../src/assign/cdn/tree.js';
import type { CdnSharePolicy, CdnStepObservation } from '../../src/assign/cdn/index.js';
import { mulberry32 } from '../../src/core/random.js';
import { buildAbrResponse, E_GRID, JOINER, mixOf, simulatePanel, STATES, type AbrResponse } from '../../src/sim/cdn/abr-response.js';
import { capacityDay, cdnCombinations, CDN_PROFILES, INCIDENT_MIN, profilesOf } from '../../src/sim/cdn/cdns.js';
import { CdnSim, WARMUP_MIN, type CdnQoe } from '../../src/sim/cdn/env.js';
import { actionCosts, greedyAction, GreedyOracle, separableArgmin } from '../../src/sim/cdn/greedy.js';
import {
  clampToRange,
  LearnedForward,
  LEARN_FEATURES,
  LEARN_OUTPUTS,
  LEARN_WINDOW,
  LearnedSim,
  type LearnedCdnModel,
} from '../../src/sim/cdn/learned.js';
import { MechanisticSim } from '../../src/sim/cdn/mechanistic.js';
import { MpcOracle, planBlocks } from '../../src/sim/cdn/mpc.js';
import { UncongestedBoundSim } from '../../src/sim/cdn/bound.js';
import { PiecewiseSim } from '../../src/sim/cdn/piecewise.js';
import { runDay } from '../../src/sim/cdn/run.js';
import { concurrent, DAY_MIN, daySplit, daysOf, flashCrowdMinutes, joinsPerMinute, SURVIVE, Traffic } from '../../src/sim/cdn/traffic.js';
import { dataRoot } from '../../src/sim/abr/load.js';
import { freeRun, freeRunRmse, logWindows, lstmWeightsOf, Nalu, qoeRange, type CdnLogSeq } from '../../src/train/cdn-sim-models.js';
import { imitate, ltsPpoModel, narrowInputs, TfLtsNet, toCols, widenInputs } from '../../src/train/cdn-net.js';
import { averageWeights, daggerCdn, daysRollout, distilFastLts } from '../../src/train/cdn.js';
import { ppoIteration } from '../../src/train/ppo.js';

/** two days of synthetic traffic: a daily cycle of joins (per minute) between 300 and 900 */
function syntheticTraffic(days = 3): Traffic {
  const j = Float64Array.from({ length: days * DAY_MIN }, (_, m) => 600 + 300 * Math.sin((2 * Math.PI * m) / DAY_MIN));
  return new Traffic(j);
}
/** an observation of m CDNs with constant history (QoE per CDN given) */
function obsOf(shares: number[], score: number[][], k = K_STEPS): CdnStepObservation {
  const m = shares.length;
  const h = new CdnHistory(
    Array.from({ length: m }, (_, i) => String.fromCharCode(65 + i)),
    k,
  );
  h.push({
    workload: shares.map((s) => s * 1000),
    slatency: score.map((s) => s[0]),
    bufratio: score.map((s) => s[1]),
    buffreq: score.map((s) => s[2]),
    shares,
  });
  return h.observation();
}

describe('LTS MDP (mdp.ts)', () => {
  it('has 3m + 1 actions: raise one CDN by 1, 5 or 10 points, or keep', () => {
    expect(actionCount(3)).toBe(10);
    expect(decodeAction(0, 3)).toEqual({ cdn: 0, delta: 1 });
    expect(decodeAction(5, 3)).toEqual({ cdn: 1, delta: 10 });
    expect(decodeAction(9, 3)).toBeNull();
    expect(() => decodeAction(10, 3)).toThrowError(/0\.\.9/);
  });

  it("reproduces the paper's example: (20, 30, 50), C worst, raise A by 5 → (25, 30, 45)", () => {
    // A best, C worst
    expect(applyAction([20, 30, 50], 1, [1, 2, 3])).toEqual([25, 30, 45]);
  });

  it('ranks "worst" by SLatency + BufRatio + BufFreq (the reward\'s own weights), not by one metric', () => {
    // B has the worst startup, C the worst sum
    const obs = obsOf(
      [0.34, 0.33, 0.33],
      [
        [2, 1, 0.5],
        [6, 0.5, 0.2],
        [3, 4, 1],
      ],
    );
    // raise A by 10: the points come from C (score 8 > B's 6.7), through LtsPolicy's own path (lastScores)
    const leaf: TreeModel = { feature: [-1], threshold: [0], left: [-1], right: [-1], value: [2] };
    const fast = new FastLtsPolicy({ format: 'edgeplay-cdn-fastlts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 1, tree: leaf });
    expect(toPoints(fast.step(obs))).toEqual([44, 33, 23]);
    // ties: larger share first, then the lower index
    expect(worstOrder([1, 1, 1], [10, 50, 40])).toEqual([1, 2, 0]);
    expect(worstOrder([1, 1, 1], [30, 30, 40])).toEqual([2, 0, 1]);
  });

  it('never takes from the raised CDN itself: raising the worst takes from the worst of the others', () => {
    expect(applyAction([30, 30, 40], 8, [1, 2, 3])).toEqual([30, 20, 50]); // raise C (worst) by 10: B gives
  });

  it('clips at 0 %: a donor gives what it has, the rest comes from the next-worst; at 100 % the raise stops', () => {
    expect(applyAction([60, 37, 3], 2, [1, 2, 3])).toEqual([70, 30, 0]); // C gives 3, B gives 7
    expect(applyAction([100, 0, 0], 2, [3, 2, 1])).toEqual([100, 0, 0]);
    expect(applyAction([0, 0, 100], 0, [1, 2, 3])).toEqual([1, 0, 99]);
  });

  it('keeps shares integer, non-negative and summing to 100 over any action sequence', () => {
    const rng = mulberry32(7);
    for (const m of [2, 3, 4]) {
      let p = equalPoints(m);
      for (let t = 0; t < 3000; t++) {
        const sc = Array.from({ length: m }, () => Math.floor(rng() * 3));
        p = applyAction(p, Math.floor(rng() * actionCount(m)), sc);
        expect(() => checkPoints(p)).not.toThrow();
      }
    }
    expect(() => applyAction([50, 50, 1], 0, [0, 0, 0])).toThrowError(/sum to 100/);
  });

  it('rounds fractions to points summing to 100 (largest remainder), bad entries count as 0', () => {
    expect(toPoints([1 / 3, 1 / 3, 1 / 3])).toEqual([34, 33, 33]);
    expect(toPoints([0.25, 0.5, 0.25])).toEqual([25, 50, 25]);
    expect(toPoints([0.126, 0.874])).toEqual([13, 87]);
    expect(toPoints([-1, NaN, 2])).toEqual([0, 0, 100]);
    expect(toPoints([0, 0])).toEqual([50, 50]);
    const rng = mulberry32(3);
    for (let i = 0; i < 500; i++) {
      const p = toPoints(Array.from({ length: 3 }, () => rng()));
      expect(p.reduce((a, b) => a + b, 0)).toBe(100);
    }
  });

  it('divides another total in proportion to weights (largest remainder, ties to the lower index); a bad total throws', () => {
    expect(toPoints([40, 45, 15], 0)).toEqual([0, 0, 0]);
    expect(toPoints([30, 30], 40)).toEqual([20, 20]);
    expect(toPoints([45, 15], 40)).toEqual([30, 10]);
    expect(toPoints([30, 30, 30], 10)).toEqual([4, 3, 3]); // 3.33 each: the one spare point to the lowest index
    expect(toPoints([1, 2], 7)).toEqual([2, 5]); // 2.33, 4.67: the larger remainder gets it
    expect(toPoints([0, 0, 0], 5)).toEqual([2, 2, 1]); // all zero: the equal split of the total
    expect(toPoints([0.25, 0.75], 8)).toEqual([2, 6]);
    expect(toPoints([1 / 3, 1 / 3, 1 / 3])).toEqual(toPoints([1 / 3, 1 / 3, 1 / 3], 100)); // 100 is the default
    const rng = mulberry32(5);
    for (let i = 0; i < 300; i++) {
      const total = Math.floor(rng() * 60);
      const w = Array.from({ length: 4 }, () => rng() * 50);
      const p = toPoints(w, total);
      expect(p.reduce((a, b) => a + b, 0)).toBe(total);
      const sw = w.reduce((a, b) => a + b, 0);
      p.forEach((x, j) => expect(Math.abs(x - (w[j] / sw) * total)).toBeLessThan(1)); // each within one point of its exact share
    }
    expect(() => toPoints([1, 1], 2.5)).toThrowError(/non-negative integer/);
    expect(() => toPoints([1, 1], -1)).toThrowError(/non-negative integer/);
  });

  it('weights the reward by viewers: SLatency by joins, BufRatio and BufFreq by concurrent viewers', () => {
    const q = { joins: [10, 30], workload: [100, 300], slatency: [2, 4], bufratio: [1, 3], buffreq: [0.5, 1] };
    const p = platformQoe(q);
    expect(p.slatency).toBeCloseTo((10 * 2 + 30 * 4) / 40, 10);
    expect(p.bufratio).toBeCloseTo((100 * 1 + 300 * 3) / 400, 10);
    expect(p.buffreq).toBeCloseTo((100 * 0.5 + 300 * 1) / 400, 10);
    expect(stepReward(q)).toBeCloseTo(-(p.slatency + p.bufratio + p.buffreq), 10);
  });

  it('keeps the last k steps, oldest first, repeating the oldest until k are seen', () => {
    const h = new CdnHistory(['A', 'B'], 4);
    expect(() => h.observation()).toThrowError(/no step/);
    for (let t = 0; t < 6; t++) h.push({ workload: [t, 10 * t], slatency: [1, 1], bufratio: [0, 0], buffreq: [0, 0], shares: [0.5, 0.5] });
    expect(h.observation().workload).toEqual([
      [2, 3, 4, 5],
      [20, 30, 40, 50],
    ]);
    const g = new CdnHistory(['A', 'B'], 4);
    g.push({ workload: [7, 8], slatency: [1, 1], bufratio: [0, 0], buffreq: [0, 0], shares: [0.5, 0.5] });
    expect(g.observation().workload[0]).toEqual([7, 7, 7, 7]);
    expect(() => g.push({ workload: [1], slatency: [1, 1], bufratio: [0, 0], buffreq: [0, 0], shares: [1, 0] })).toThrowError(
      /workload has 1/,
    );
  });
});

describe('LTS network (lts.ts) and its training twin (train/cdn-net.ts)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  it('computes the same logits in plain JS as in tfjs (conv 64×4 per CDN, 64 hidden)', () => {
    const net = new TfLtsNet(3, K_STEPS, actionCount(3), 5, 1);
    const rng = mulberry32(11);
    const n = 8;
    const x = Float32Array.from({ length: n * 3 * K_STEPS * CDN_CHANNELS }, () => rng() * 2 - 0.5);
    const tfOut = tf.tidy(() => net.apply(tf.tensor2d(toCols(x, 3, K_STEPS), [n, net.colDim])).dataSync());
    const js = new LtsNet(net.weights(), 3, K_STEPS, actionCount(3));
    for (let r = 0; r < n; r++) {
      const o = js.forward(x.subarray(r * 300, (r + 1) * 300));
      for (let a = 0; a < 10; a++) expect(Math.abs(o[a] - tfOut[r * 10 + a])).toBeLessThan(1e-4);
    }
    tf.dispose(net.vars);
  });

  it("serves the trained actor's forward pass in plain JS: the tfjs model's outputs within 1e-5 (models/cdn-lts, every CDN set)", () => {
    const dir = join(process.cwd(), 'models', 'cdn-lts');
    const files = ['ABC', 'ABD', 'ACD', 'BCD'].map((set) => join(dir, `mechanistic-${set}.json`)).filter((f) => existsSync(f));
    if (!files.length) return pending('no models/cdn-lts/mechanistic-*.json (npm run train:cdn)');
    const rng = mulberry32(12);
    const n = 32;
    for (const file of files) {
      const man = JSON.parse(readFileSync(file, 'utf8'));
      const w = ltsModelFromFiles(man, new Uint8Array(readFileSync(join(dir, man.weights)))).actor;
      const net = new TfLtsNet(3, K_STEPS, actionCount(3), 1, 0.1);
      net.load(w); // the tfjs model holding the served weights; the plain-JS net reads them once from it
      const js = new LtsNet(net.weights(), 3, K_STEPS, actionCount(3));
      // inputs in the encoded ranges: workload / 20000, log1p of SLatency, BufRatio, BufFreq, the share
      const x = Float32Array.from({ length: n * 300 }, (_, i) => [rng() * 1.5, rng() * 2.5, rng() * 3, rng() * 2, rng()][i % 5]);
      const tfOut = tf.tidy(() => net.apply(tf.tensor2d(toCols(x, 3, K_STEPS), [n, net.colDim])).dataSync());
      let worst = 0;
      for (let r = 0; r < n; r++) {
        const o = js.forward(x.subarray(r * 300, (r + 1) * 300));
        for (let a = 0; a < 10; a++) worst = Math.max(worst, Math.abs(o[a] - tfOut[r * 10 + a]));
      }
      expect(worst).withContext(file).toBeLessThan(1e-5);
      tf.dispose(net.vars);
    }
  });

  it('trains on the shared PPO (ppoIteration): an action with a positive advantage gains probability, the critic fits', () => {
    const m = 3;
    const A = actionCount(m);
    const actor = new TfLtsNet(m, K_STEPS, A, 21, 0.1);
    const critic = new TfLtsNet(m, K_STEPS, 1, 31, 0.1);
    const model = ltsPpoModel(actor, critic);
    const rng = mulberry32(5);
    const T = 96;
    const obs = toCols(
      Float32Array.from({ length: T * m * K_STEPS * CDN_CHANNELS }, () => rng()),
      m,
      K_STEPS,
    );
    const X = tf.tensor2d(obs, [T, actor.colDim]);
    const probOf = (a: number) => tf.tidy(() => tf.softmax(actor.apply(X)).slice([0, a], [T, 1]).mean().dataSync()[0]);
    const lp0 = tf.tidy(() => tf.logSoftmax(actor.apply(X)).dataSync());
    const actions = Int32Array.from({ length: T }, (_, t) => t % A);
    const rollout = {
      envs: 1,
      obs,
      obsShape: [actor.colDim],
      actions,
      logp: Float32Array.from(actions, (a, t) => lp0[t * A + a]),
      // action 4 is rewarded, every other action costs: a one-step episode each (done), value target = reward
      rewards: Float32Array.from(actions, (a) => (a === 4 ? 1 : -0.1)),
      values: new Float32Array(T + 1),
      dones: new Uint8Array(T).fill(1),
      nActions: A,
    };
    const before = probOf(4);
    const cfg = {
      gamma: 0.99,
      lambda: 0.95,
      entropy: 0,
      epochs: 4,
      minibatch: 32,
      optimizer: tf.train.adam(3e-3),
      criticOptimizer: tf.train.adam(3e-3),
      rng,
    };
    const vErr = () => tf.tidy(() => critic.apply(X).reshape([T]).sub(tf.tensor1d(rollout.rewards)).square().mean().dataSync()[0]);
    const e0 = vErr();
    for (let i = 0; i < 3; i++) ppoIteration(model, rollout, cfg);
    ppoIteration(model, rollout, cfg, { criticOnly: true });
    expect(probOf(4)).toBeGreaterThan(before * 1.5);
    expect(vErr()).toBeLessThan(e0);
    tf.dispose([X, ...actor.vars, ...critic.vars]);
  });

  it('imitates labels on the shared supervised loop: the loss falls, accuracy rises on a separable rule', () => {
    const m = 3;
    const actor = new TfLtsNet(m, K_STEPS, actionCount(m), 51, 0.1);
    const rng = mulberry32(9);
    const n = 512;
    const w = m * K_STEPS * CDN_CHANNELS;
    const raw = Float32Array.from({ length: n * w }, () => rng());
    // label: 0 when the first input is below 0.5, else 9
    const labels = Int32Array.from({ length: n }, (_, i) => (raw[i * w] < 0.5 ? 0 : 9));
    const x = toCols(raw, m, K_STEPS);
    const opt = tf.train.adam(3e-3);
    const first = imitate(actor, opt, x, actor.colDim, labels, 1, 64, rng);
    const later = imitate(actor, opt, x, actor.colDim, labels, 15, 64, rng);
    expect(later.loss).toBeLessThan(first.loss);
    expect(later.acc).toBeGreaterThan(0.8);
    tf.dispose(actor.vars);
  });

  it('adds the expected regret to the cross-entropy (cost-sensitive) on the shared supervised loop: the chosen actions end up cheap', () => {
    const m = 3;
    const A = actionCount(m);
    const actor = new TfLtsNet(m, K_STEPS, A, 52, 0.1);
    const rng = mulberry32(10);
    const n = 512;
    const w = m * K_STEPS * CDN_CHANNELS;
    const raw = Float32Array.from({ length: n * w }, () => rng());
    // regret: below 0.5 on the first input action 0 is free and action 3 nearly so; above, only action 9 is free
    const regret = new Float32Array(n * A);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const low = raw[i * w] < 0.5;
      labels[i] = low ? 0 : 9;
      for (let a = 0; a < A; a++) regret[i * A + a] = a === labels[i] ? 0 : low && a === 3 ? 0.01 : 1 + a / A;
    }
    const x = toCols(raw, m, K_STEPS);
    // the mean regret of the network's argmax over the n states
    const argmaxRegret = () => {
      const pred = tf.tidy(() =>
        actor
          .apply(tf.tensor2d(x, [n, actor.colDim]))
          .argMax(1)
          .dataSync(),
      );
      let r = 0;
      for (let i = 0; i < n; i++) r += regret[i * A + pred[i]];
      return r / n;
    };
    const before = argmaxRegret();
    const opt = tf.train.adam(3e-3);
    const first = imitate(actor, opt, x, actor.colDim, labels, 1, 64, rng, undefined, regret);
    const later = imitate(actor, opt, x, actor.colDim, labels, 15, 64, rng, undefined, regret);
    // the loss counts both terms: at least the expected regret of a near-uniform policy at first
    expect(first.loss).toBeGreaterThan(0.5);
    expect(later.loss).toBeLessThan(first.loss / 2);
    expect(before).toBeGreaterThan(0.5);
    expect(argmaxRegret()).toBeLessThan(0.1);
    expect(() => imitate(actor, opt, x, actor.colDim, labels, 1, 64, rng, undefined, regret.subarray(1))).toThrowError(
      RangeError,
      /regret/,
    );
    tf.dispose(actor.vars);
    opt.dispose();
  });

  it("lays whole days out as the shared PPO's rollout: time-major, terminal at midnight, no bootstrap", () => {
    const m = 3;
    const critic = new TfLtsNet(m, K_STEPS, 1, 41, 1);
    const inDim = m * K_STEPS * CDN_CHANNELS;
    const day = (v: number) => ({
      x: new Float32Array(DAY_MIN * inDim).fill(v),
      a: Int32Array.from({ length: DAY_MIN }, (_, t) => (t + v) % 10),
      logp: new Float32Array(DAY_MIN).fill(-v),
      r: Float32Array.from({ length: DAY_MIN }, (_, t) => t + 10000 * v),
    });
    const r = daysRollout([day(1), day(2)], critic);
    expect(r.envs).toBe(2);
    expect(r.actions.length).toBe(2 * DAY_MIN);
    expect(r.obs.length).toBe(2 * DAY_MIN * critic.colDim);
    // sample t·2 + e is day e's minute t
    expect(r.rewards[7 * 2 + 1]).toBe(7 + 20000);
    expect(r.actions[7 * 2]).toBe(8);
    expect(r.obs[(7 * 2 + 1) * critic.colDim]).toBe(2);
    expect(Array.from(r.dones!).reduce((s, d) => s + d, 0)).toBe(2);
    expect(r.dones![(DAY_MIN - 1) * 2 + 1]).toBe(1);
    expect(r.values.length).toBe(2 * DAY_MIN + 2);
    expect(r.values[2 * DAY_MIN]).toBe(0);
    expect(r.values[0]).not.toBe(0);
    tf.dispose(critic.vars);
  });

  it('stores weights as bfloat16 (relative error < 0.4 %) and rejects a wrong length', () => {
    const rng = mulberry32(2);
    const w = (k: number) => Float32Array.from({ length: k }, () => rng() * 2 - 1);
    const weights = { convW: w(20 * 64), convB: w(64), w1: w(3 * 17 * 64 * 64), b1: w(64), w2: w(640), b2: w(10) };
    const bytes = encodeBf16(weights);
    expect(bytes.byteLength).toBe(2 * (1280 + 64 + 208896 + 64 + 640 + 10));
    const back = decodeBf16(bytes, 3, K_STEPS, 10);
    for (let i = 0; i < 2000; i++)
      expect(Math.abs(back.w1[i] - weights.w1[i])).toBeLessThanOrEqual(Math.abs(weights.w1[i]) * 0.004 + 1e-30);
    expect(() => decodeBf16(bytes.subarray(2), 3, K_STEPS, 10)).toThrowError(/expected/);
    const man: LtsManifest = { format: 'edgeplay-cdn-lts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 20000, weights: 'x.bin' };
    expect(ltsModelFromFiles(man, bytes).actor.b2.length).toBe(10);
    expect(() => ltsModelFromFiles({ ...man, format: 'nope' as 'edgeplay-cdn-lts/1' }, bytes)).toThrowError(/unknown format/);
  });

  it('decides a step for 3 CDNs in well under a millisecond of CPU time: the network and Fast-LTS (median of many steps)', () => {
    const rng = mulberry32(4);
    const w = (k: number) => Float32Array.from({ length: k }, () => (rng() * 2 - 1) * 0.1);
    const model = {
      format: 'edgeplay-cdn-lts/1' as const,
      cdns: ['A', 'B', 'C'],
      k: K_STEPS,
      workloadScale: 20000,
      actor: { convW: w(1280), convB: w(64), w1: w(208896), b1: w(64), w2: w(640), b2: w(10) },
    };
    // a depth-12 tree (the largest train:cdn grows), every path as long as possible
    const tree: TreeModel = { feature: [], threshold: [], left: [], right: [], value: [] };
    const grow = (d: number): number => {
      const id = tree.feature.length;
      tree.feature.push(d < 12 ? Math.floor(rng() * 300) : -1);
      tree.threshold.push(rng());
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(Math.floor(rng() * 10));
      if (d < 12) {
        tree.left[id] = grow(d + 1);
        tree.right[id] = grow(d + 1);
      }
      return id;
    };
    grow(0);
    const obs = obsOf(
      [0.3, 0.3, 0.4],
      [
        [3, 1, 0.5],
        [4, 2, 0.6],
        [5, 3, 0.7],
      ],
    );
    // the median CPU time of one step (process.cpuUsage has µs resolution: a tree step reads 0, so it is timed in blocks of 20)
    const cpuMs = (pol: { step(o: CdnStepObservation): number[] }, n: number, block: number) => {
      for (let i = 0; i < 100; i++) pol.step(obs); // warm up the JIT
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        const c0 = process.cpuUsage();
        for (let b = 0; b < block; b++) pol.step(obs);
        const c = process.cpuUsage(c0);
        t.push((c.user + c.system) / 1000 / block);
      }
      const s = pol.step(obs);
      expect(Math.abs(s.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
      return t.sort((a, b) => a - b)[n >> 1];
    };
    const net = cpuMs(new LtsPolicy(model), 1000, 1);
    const fast = cpuMs(
      new FastLtsPolicy({ format: 'edgeplay-cdn-fastlts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 20000, tree }),
      500,
      20,
    );
    console.log(`[measure] a step for 3 CDNs, median CPU time: LTS network ${net.toFixed(3)} ms, Fast-LTS ${fast.toFixed(4)} ms`);
    expect(fast).toBeLessThan(0.1);
    expect(fast).toBeLessThan(net / 5);
    // the network too, well under a millisecond (about 0.25 ms on this machine; a loaded core doubles it)
    expect(net).toBeLessThan(0.6);
  });

  it('refuses an observation of other CDNs than the model was trained for', () => {
    const w = (k: number) => new Float32Array(k);
    const pol = new LtsPolicy({
      format: 'edgeplay-cdn-lts/1',
      cdns: ['A', 'B', 'C'],
      k: K_STEPS,
      workloadScale: 1,
      actor: { convW: w(1280), convB: w(64), w1: w(208896), b1: w(64), w2: w(640), b2: w(10) },
    });
    const obs = obsOf(
      [0.5, 0.5],
      [
        [1, 1, 1],
        [1, 1, 1],
      ],
    );
    expect(() => pol.step(obs)).toThrowError(/trained for CDNs A,B,C/);
  });
});

describe('CDN baselines (baselines.ts)', () => {
  const obs = (shares: number[], scores: number[]) =>
    obsOf(
      shares,
      scores.map((s) => [s, 0, 0]),
    );
  it('equal split and weighted round-robin are static and sum to 1', () => {
    expect(new EqualSplit().step(obs([0.1, 0.2, 0.7], [1, 2, 3]))).toEqual(fromPoints([34, 33, 33]));
    const w = new WeightedRoundRobin([50, 30, 20]);
    expect(w.step(obs([0.1, 0.2, 0.7], [1, 2, 3]))).toEqual([0.5, 0.3, 0.2]);
    expect(() => w.step(obs([0.5, 0.5], [1, 1]))).toThrowError(/3 shares for 2 CDNs/);
  });

  it('UCB1 with no exploration and ρ = 1 gives every point to the best arm; D-UCB forgets', () => {
    const u = new UcbShares({ c: 0, rho: 1, gamma: 1 });
    expect(u.step(obs([0.34, 0.33, 0.33], [5, 2, 8]))).toEqual([0, 1, 0]);
    // with ρ < 1 the shares move towards the allocation and always sum to 1
    const d = new UcbShares({ c: 0.1, rho: 0.1, gamma: 0.9 });
    let s = [0.34, 0.33, 0.33];
    for (let t = 0; t < 50; t++) {
      s = d.step(obs(s, [5, 2, 8]));
      expect(Math.abs(s.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
    }
    expect(s[1]).toBeGreaterThan(0.8);
    // the best arm turns bad: D-UCB moves away from it
    for (let t = 0; t < 80; t++) s = d.step(obs(s, [2, 9, 5]));
    expect(s[1]).toBeLessThan(0.2);
  });

  it('rejects constants outside their range', () => {
    expect(() => new UcbShares({ c: 0, rho: 0, gamma: 1 })).toThrowError(/rho/);
    expect(() => new UcbShares({ c: -1, rho: 1, gamma: 1 })).toThrowError(/c/);
  });
});

describe('Fast-LTS tree (tree.ts)', () => {
  it('fits a problem a tree can separate exactly, and serves it as a share policy', () => {
    const rng = mulberry32(5);
    const n = 3000,
      d = 6;
    const x = Float32Array.from({ length: n * d }, () => rng());
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * d + 2] > 0.5 ? (x[i * d + 4] > 0.3 ? 2 : 1) : 0));
    const t = fitTree(x, d, y, 3, { maxDepth: 4, minLeaf: 5, bins: 64 });
    let ok = 0;
    for (let i = 0; i < n; i++) if (treePredict(t, x.subarray(i * d, (i + 1) * d)) === y[i]) ok++;
    expect(ok / n).toBeGreaterThan(0.98);
    expect(() =>
      fitTree(
        x,
        d,
        Int32Array.from(y, () => 7),
        3,
      ),
    ).toThrowError(/label 7/);
    // a one-leaf tree that always raises CDN B by 5
    const leaf: TreeModel = { feature: [-1], threshold: [0], left: [-1], right: [-1], value: [4] };
    const fast = new FastLtsPolicy({ format: 'edgeplay-cdn-fastlts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 1, tree: leaf });
    expect(
      toPoints(
        fast.step(
          obsOf(
            [0.3, 0.3, 0.4],
            [
              [1, 0, 0],
              [1, 0, 0],
              [9, 0, 0],
            ],
          ),
        ),
      ),
    ).toEqual([30, 35, 35]);
    const bad: TreeModel = { ...leaf, value: [7] };
    expect(
      () => new FastLtsPolicy({ format: 'edgeplay-cdn-fastlts/1', cdns: ['A', 'B'], k: K_STEPS, workloadScale: 1, tree: bad }),
    ).toThrowError(/outside 0\.\.6/);
  });
});

describe('CDN traffic (traffic.ts)', () => {
  it('splits the 42 full days 30 / 6 / 6 by weekday (test: day % 7 = 6, dev: 5)', () => {
    expect(daysOf('train').length).toBe(30);
    expect(daysOf('dev')).toEqual([5, 12, 19, 26, 33, 40]);
    expect(daysOf('test')).toEqual([6, 13, 20, 27, 34, 41]);
    expect(() => daySplit(42)).toThrowError(/0\.\.41/);
  });

  it('interpolates slot joins to minutes (flat slots stay flat, a ramp keeps its total)', () => {
    const flat = joinsPerMinute([20, 20, 20], 10);
    expect(Array.from(flat)).toEqual(new Array(30).fill(20));
    const ramp = joinsPerMinute([10, 20, 30, 40], 1);
    const mid = ramp.slice(10, 30).reduce((a, b) => a + b, 0);
    expect(mid).toBeCloseTo(20 + 30, 6); // the interior slots' rows are kept
    expect(ramp[15]).toBeGreaterThan(ramp[14]);
  });

  it('flags flash crowds by LTS: > 20 % growth within 10 min and a peak over 5,000', () => {
    const w = new Float64Array(100).fill(10000);
    for (let t = 50; t < 100; t++) w[t] = 10000 + Math.min(10, t - 49) * 300; // +30 % in 10 min
    const f = flashCrowdMinutes(w);
    expect(f[55]).toBe(0); // +18 % over the last 10 min
    expect(f[57]).toBe(1); // +24 %
    expect(f[75]).toBe(0); // flat again at +30 %
    const expected = Array.from(w, (v, t) => (v > 1.2 * w[Math.max(0, t - 10)] ? 1 : 0));
    expect(Array.from(f)).toEqual(expected);
    const small = flashCrowdMinutes(w.map((v) => v / 10)); // peak 1,300
    expect(small.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('keeps concurrent viewers consistent with joins and the survival per minute', () => {
    const n = concurrent([100, 100, 100], 50);
    expect(n[0]).toBeCloseTo(50 * SURVIVE + 100, 9);
    expect(n[2]).toBeCloseTo(SURVIVE * n[1] + 100, 9);
  });
});

/** synthetic traces (constant bandwidth at three levels) and a synthetic ladder's chunk sizes */
const mkTrace = (name: string, mbps: number) => ({
  name,
  time: Float64Array.from({ length: 400 }, (_, i) => i),
  bw: new Float64Array(400).fill(mbps),
});
const synthTraces = [mkTrace('a', 1.0), mkTrace('b', 2.0), mkTrace('c', 3.5)];
const synthSizes = [300, 750, 1200, 1850, 2850, 4300].map((k) =>
  Array.from({ length: 49 }, (_, i) => Math.round((k * 1000 * 4) / 8) * (1 + 0.1 * Math.sin(i))),
);
let smallResponse: AbrResponse | null = null;
function response(): AbrResponse {
  return (smallResponse ??= buildAbrResponse({
    traces: synthTraces,
    videoSizes: synthSizes,
    sessions: 200,
    minutesPerSession: 6,
    seed: 3,
  }));
}

describe('ABR response (abr-response.ts)', () => {
  it('gives probability rows, and slower startups and more stalls at lower e', () => {
    const r = response();
    for (let g = 0; g < E_GRID.length; g++)
      for (let s = 0; s <= STATES; s++) {
        let z = 0;
        for (let u = 0; u < STATES; u++) z += r.next[g][s * STATES + u];
        expect(Math.abs(z - 1)).toBeLessThan(1e-4);
      }
    // constant-bandwidth traces: the first chunk's time is exactly monotone in e
    for (let g = 1; g < E_GRID.length; g++) expect(r.startupS[g]).toBeLessThan(r.startupS[g - 1]);
    const stall = (g: number) => r.stationary[g].reduce((a, p, s) => a + p * r.stallS[g][s], 0);
    expect(stall(0)).toBeGreaterThan(stall(E_GRID.length - 1) + 1);
    expect(r.stallS[0][JOINER]).toBeGreaterThanOrEqual(0);
  });

  it('as a fluid over viewer states, follows a directly simulated panel of viewers through congestion', () => {
    const r = response();
    const e = [1, 1, 1, 0.2, 0.2, 0.2, 0.2, 1, 1, 1];
    const panel = simulatePanel(synthTraces, synthSizes, e, 200, 17);
    // fluid: one unit of joiners in minute 0, then the measured transitions at each minute's e
    const g = (x: number) => E_GRID.indexOf(x as (typeof E_GRID)[number]);
    let pi = new Float64Array(STATES);
    const fluid = e.map((x, m) => {
      const G = g(x);
      if (m === 0) {
        for (let u = 0; u < STATES; u++) pi[u] = r.next[G][JOINER * STATES + u];
        return r.stallS[G][JOINER];
      }
      let st = 0;
      const nx = new Float64Array(STATES);
      for (let s2 = 0; s2 < STATES; s2++) {
        st += pi[s2] * r.stallS[G][s2];
        for (let u = 0; u < STATES; u++) nx[u] += pi[s2] * r.next[G][s2 * STATES + u];
      }
      pi = nx;
      return st;
    });
    const sum = (a: ArrayLike<number>, i: number, j: number) =>
      Array.from(a)
        .slice(i, j)
        .reduce((x, y) => x + y, 0);
    console.log(
      `[measure] fluid vs direct panel, stall s per viewer per minute: ${fluid.map((f, m) => `${f.toFixed(2)}/${panel.stallS[m].toFixed(2)}`).join(' ')}`,
    );
    const congestedPanel = sum(panel.stallS, 3, 7);
    expect(congestedPanel).toBeGreaterThan(5);
    expect(Math.abs(sum(fluid, 3, 7) - congestedPanel) / congestedPanel).toBeLessThan(0.35);
    expect(sum(fluid, 0, 3)).toBeLessThan(0.2 * congestedPanel);
    expect(sum(panel.stallS, 0, 3)).toBeLessThan(0.2 * congestedPanel);
  });
});

describe('CDN simulators (piecewise, mechanistic, greedy)', () => {
  const traffic = syntheticTraffic();
  const prof = profilesOf('ABC');

  it('lists the 3-of-4 combinations and rejects unknown CDNs', () => {
    expect(cdnCombinations()).toEqual(['ABC', 'ABD', 'ACD', 'BCD']);
    expect(() => profilesOf('ABX')).toThrowError(/unknown CDN X/);
  });

  it("halves a CDN's capacity for an hour during an incident", () => {
    const p = { ...CDN_PROFILES[2], incidentProb: 1, noise: 0 };
    const c = capacityDay(p, 3, 1, WARMUP_MIN);
    expect(c.incident).toBeGreaterThanOrEqual(0);
    const at = (m: number) => c.cap[m + WARMUP_MIN];
    const base = { ...p, incidentProb: 0 };
    const ref = capacityDay(base, 3, 1, WARMUP_MIN);
    expect(at(c.incident + 10) / ref.cap[c.incident + 10 + WARMUP_MIN]).toBeCloseTo(0.5, 6);
    expect(at(c.incident + INCIDENT_MIN + 1) / ref.cap[c.incident + INCIDENT_MIN + 1 + WARMUP_MIN]).toBeCloseTo(1, 6);
  });

  it('piecewise: QoE flat below the load threshold, rising linearly above it', () => {
    const sim = new PiecewiseSim(traffic, prof);
    sim.reset(1);
    // the cost of CDN 0 as a function of its points: flat (times its load share) until the threshold
    const th = sim.threshold(0, 0);
    const costs = [0, 10, 20, 40, 60, 80, 100].map((p) => sim.peekCost(0, p));
    expect(costs.every((c, i) => i === 0 || c >= costs[i - 1])).toBeTrue();
    expect(th).toBeGreaterThan(0);
  });

  it("conserves viewers: the CDNs' workloads sum to the traffic's concurrent viewers", () => {
    for (const sim of [new PiecewiseSim(traffic, prof), new MechanisticSim(traffic, prof, mixOf(response()))]) {
      sim.reset(1);
      const rng = mulberry32(9);
      for (let t = 0; t < 300; t++) {
        const r = sim.step(toPoints([rng(), rng(), rng()]));
        const tot = r.workload.reduce((a, b) => a + b, 0);
        expect(Math.abs(tot - traffic.workload[DAY_MIN + t]) / tot).toBeLessThan(1e-9);
        expect(Math.abs(r.shares.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
        expect(r.reward).toBeCloseTo(-(r.platform.slatency + r.platform.bufratio + r.platform.buffreq), 10);
      }
    }
  });

  it('mechanistic: a CDN that takes all new viewers stalls more than when they are spread', () => {
    const run = (pts: number[]) => {
      const sim = new MechanisticSim(traffic, prof, mixOf(response()));
      sim.reset(1);
      let last = sim.step(pts);
      for (let t = 1; t < 240; t++) last = sim.step(pts);
      return last;
    };
    const spread = run([50, 30, 20]);
    const piled = run([0, 0, 100]); // C is the smallest CDN
    expect(piled.workload[2]).toBeGreaterThan(spread.workload[2] * 3);
    expect(piled.bufratio[2]).toBeGreaterThan(spread.bufratio[2]);
    expect(piled.slatency[2]).toBeGreaterThan(spread.slatency[2]);
    expect(piled.reward).toBeLessThan(spread.reward);
  });

  it('greedy: the separable programme finds the brute-force optimum of the next step', () => {
    const rng = mulberry32(13);
    const cost = Array.from({ length: 3 }, () => Array.from({ length: 101 }, () => rng()));
    const got = separableArgmin(
      (i, p) => cost[i][p],
      [0, 1, 2].map(() => Array.from({ length: 101 }, (_, p) => p)),
    );
    let best = Infinity;
    for (let a = 0; a <= 100; a++) for (let b = 0; a + b <= 100; b++) best = Math.min(best, cost[0][a] + cost[1][b] + cost[2][100 - a - b]);
    expect(cost[0][got[0]] + cost[1][got[1]] + cost[2][got[2]]).toBeCloseTo(best, 12);
    // in the piecewise simulator: the oracle's next step beats every 5-point split
    const sim = new PiecewiseSim(traffic, prof);
    sim.reset(1);
    for (let t = 0; t < 600; t++) sim.step([34, 33, 33]);
    const g = new GreedyOracle(sim).points();
    const c = (p: number[]) => p.reduce((s, x, i) => s + sim.peekCost(i, x), 0);
    for (let a = 0; a <= 100; a += 5)
      for (let b = 0; a + b <= 100; b += 5) expect(c(g)).toBeLessThanOrEqual(c([a, b, 100 - a - b]) + 1e-12);
  });

  it('runs a day with any policy: one decision per minute, shares applied to the next step', () => {
    const sim = new PiecewiseSim(traffic, prof);
    const r = runDay(sim, new WeightedRoundRobin([60, 30, 10]), 1, { keepShares: true });
    expect(r.reward.length).toBe(DAY_MIN);
    expect(r.shares![100]).toEqual([0.6, 0.3, 0.1]);
    expect(() => sim.step([34, 33, 33])).toThrowError(/day is over/);
  });
});

/**
 * A two-CDN world where the one-step greedy oracle is provably myopic: CDN X serves any load at no cost until its
 * capacity drops to `capAfter` viewers at minute `drop` for `len` minutes (each viewer over capacity then costs
 * `over` per minute), CDN Y costs `base` per viewer-minute always. Before the drop greedy sends every joiner to X
 * (cost 0 < base), and the viewers it parked there are still on X when the capacity goes.
 */
class CliffSim extends CdnSim {
  readonly kind = 'piecewise' as const;
  constructor(
    traffic: Traffic,
    readonly drop: number,
    readonly len: number,
    readonly capAfter: number,
    readonly over = 20,
    readonly base = 1,
  ) {
    super(traffic, profilesOf('AB'));
  }
  protected resetState(): void {}
  protected commit(): void {}
  protected saveCdn(): unknown {
    return null;
  }
  protected loadCdn(): void {}
  protected evaluate(i: number, joins: number, minute: number): CdnQoe {
    if (i === 1) return { slatency: 0, bufratio: this.base, buffreq: 0 };
    const N = this.carried[i] + joins;
    const cap = minute >= this.drop && minute < this.drop + this.len ? this.capAfter : Infinity;
    return { slatency: 0, bufratio: N > cap ? (this.over * (N - cap)) / N : 0, buffreq: 0 };
  }
}

describe('multi-step oracle (mpc.ts) and the simulators’ rollouts (CdnSim.rolloutCdn)', () => {
  const traffic = syntheticTraffic();
  const prof = profilesOf('ABC');
  const flat = new Traffic(new Float64Array(2 * DAY_MIN).fill(100));
  const dayQoe = (sim: CdnSim, p: CdnSharePolicy) => {
    const r = runDay(sim, p, 1, { keepShares: true });
    return { qoe: r.reward.reduce((a, b) => a + b, 0) / DAY_MIN, shares: r.shares! };
  };

  /** Σ over the 3 CDNs of `plan`'s per-CDN rollouts from the simulator's state (each CDN's share of the step's joins), with the joins and load used */
  const plannedCost = (sim: CdnSim, plan: number[][]) => {
    const J = plan.map((_, t) => traffic.joinsAt(1, sim.minute + t));
    const load = sim.platformLoad(plan.length);
    let planned = 0;
    for (let i = 0; i < 3; i++)
      planned += sim.rolloutCdn(
        i,
        J.map((j, t) => (j * plan[t][i]) / 100),
        load,
      );
    return { J, load, planned };
  };

  it('rolls each CDN forward as the simulator steps: Σ over CDNs of a plan’s rollouts = −Σ reward of playing it, state unchanged', () => {
    for (const make of [() => new PiecewiseSim(traffic, prof), () => new MechanisticSim(traffic, prof, mixOf(response()))]) {
      const sim = make();
      sim.reset(1);
      const rng = mulberry32(21);
      for (let t = 0; t < 100; t++) sim.step(toPoints([rng(), rng(), rng()]));
      const H = 12;
      const plan = Array.from({ length: H }, () => toPoints([rng(), rng(), 0.2 * rng()]));
      const before = [0, 1, 2].map((i) => sim.peekCost(i, 40));
      const { J, load, planned } = plannedCost(sim, plan);
      // one step: the greedy oracle's cost; and the state is untouched, also after a kept rollout restored
      for (let i = 0; i < 3; i++) expect(sim.rolloutCdn(i, [(J[0] * 40) / 100], load)).toBeCloseTo(before[i], 12);
      const snap = sim.snapshotCdn(0);
      sim.rolloutCdn(0, [J[0], J[1]], load, 0, true);
      expect(sim.peekCost(0, 40)).not.toBeCloseTo(before[0], 6);
      sim.restoreCdn(0, snap);
      expect([0, 1, 2].map((i) => sim.peekCost(i, 40))).toEqual(before);
      let played = 0;
      for (const p of plan) played -= sim.step(p).reward;
      expect(Math.abs(planned - played) / played).toBeLessThan(1e-9);
      // past the day's end: a clear error
      while (sim.minute < DAY_MIN - 3) sim.step([34, 33, 33]);
      expect(() => sim.platformLoad(4)).toThrowError(/past the day's end/);
      expect(() => sim.rolloutCdn(0, [1, 1, 1, 1], sim.platformLoad(3))).toThrowError(/past the day's end/);
    }
  });

  it('the learned simulator rolls forward and restores too: Σ rollouts = −Σ played reward, peekCost unchanged after a restore (review, session 12)', () => {
    // LearnedSim keeps the most state per CDN (its input window and previous QoE); small linear models, bounded by a range
    const d = LEARN_WINDOW * LEARN_FEATURES;
    const models = new Map<string, LearnedCdnModel>();
    for (const [k, id] of ['A', 'B', 'C'].entries()) {
      const rng = mulberry32(40 + k);
      const w = Array.from({ length: d * LEARN_OUTPUTS }, () => (rng() - 0.5) * 0.05);
      models.set(id, {
        cdn: id,
        kind: 'linear',
        dense: { w, b: [0.2 + 0.1 * k, 0.1, 0.05] },
        start: { slatency: 3, bufratio: 1, buffreq: 0.5 },
        range: { lo: [0, 0, 0], hi: [3, 3, 2] },
      });
    }
    const sim = new LearnedSim(traffic, 'ABC', models);
    sim.reset(1);
    const rng = mulberry32(22);
    for (let t = 0; t < 80; t++) sim.step(toPoints([rng(), rng(), rng()]));
    const H = 10;
    const plan = Array.from({ length: H }, () => toPoints([rng(), rng(), 0.3 * rng()]));
    const before = [0, 1, 2].map((i) => sim.peekCost(i, 40));
    const { J, load, planned } = plannedCost(sim, plan);
    expect([0, 1, 2].map((i) => sim.peekCost(i, 40))).toEqual(before);
    const snap = sim.snapshotCdn(1);
    sim.rolloutCdn(1, [J[0], J[1], J[2]], load, 0, true);
    sim.restoreCdn(1, snap);
    expect([0, 1, 2].map((i) => sim.peekCost(i, 40))).toEqual(before);
    let played = 0;
    for (const p of plan) played -= sim.step(p).reward;
    expect(played).not.toBe(0);
    expect(Math.abs(planned - played) / Math.abs(played)).toBeLessThan(1e-9);
  });

  it('with a horizon of one step it is the greedy oracle, decision for decision', () => {
    const sim = new MechanisticSim(traffic, prof, mixOf(response()));
    sim.reset(1);
    const g = new GreedyOracle(sim);
    const mpc = new MpcOracle(sim, { horizon: 1 });
    for (let t = 0; t < 150; t++) {
      const p = g.points();
      expect(mpc.points()).toEqual(p);
      sim.step(p);
    }
  });

  it('beats the one-step greedy oracle where greedy is provably myopic (a free CDN about to lose its capacity), never worse on any variant', () => {
    // the base case: greedy parks everyone on X until the drop; the planner moves joiners to Y before it
    const sim = new CliffSim(flat, 300, 60, 1000);
    const g = dayQoe(sim, new GreedyOracle(sim));
    const m = dayQoe(sim, new MpcOracle(sim, { horizon: 30 }));
    expect(g.shares[299][0]).toBe(1); // greedy: all of the step before the drop on X
    expect(m.shares.slice(270, 300).some((s) => s[0] < 0.5)).toBeTrue(); // the planner: off X before the drop
    expect(m.qoe).toBeGreaterThan(g.qoe + 0.05 * Math.abs(g.qoe));
    // a longer look ahead sees more of the viewers the drop will catch
    expect(dayQoe(sim, new MpcOracle(sim, { horizon: 10 })).qoe).toBeLessThan(m.qoe);
    for (const [drop, len, cap] of [
      [200, 30, 500],
      [700, 120, 2000],
      [1000, 60, 3000],
      [1400, 40, 0],
    ]) {
      const s = new CliffSim(flat, drop, len, cap);
      const gq = dayQoe(s, new GreedyOracle(s)).qoe;
      for (const h of [5, 20]) expect(dayQoe(s, new MpcOracle(s, { horizon: h })).qoe).toBeGreaterThanOrEqual(gq - 1e-9);
    }
  });

  it('the uncongested best-path world (bound.ts): every minute the best path of the set, no capacity, shares irrelevant; scores above the real policies', () => {
    const resp = mixOf(response());
    const ub = new UncongestedBoundSim(traffic, prof, resp);
    const real = new MechanisticSim(traffic, prof, resp);
    real.reset(1);
    ub.reset(1);
    for (const m of [0, 300, 700, 1200]) expect(ub.pathFactor(0, m)).toBe(Math.max(...[0, 1, 2].map((i) => real.pathFactor(i, m))));
    expect(ub.factor(0, 500, 1e9)).toBe(ub.pathFactor(0, 500)); // no load ever congests it
    const q = (sim: CdnSim, p: CdnSharePolicy) => runDay(sim, p, 1).reward.reduce((a, b) => a + b, 0) / DAY_MIN;
    const bound = q(ub, new EqualSplit());
    expect(q(ub, new WeightedRoundRobin([90, 10]))).toBeCloseTo(bound, 9);
    for (const p of [new EqualSplit(), new GreedyOracle(real), new MpcOracle(real, { horizon: 5 })]) expect(q(real, p)).toBeLessThan(bound);
  });

  it('splits the horizon into the decision and even blocks; rejects bad options', () => {
    expect(planBlocks(1, 3)).toEqual([0, 1]);
    expect(planBlocks(15, 3)).toEqual([0, 1, 8, 15]);
    expect(planBlocks(2, 5)).toEqual([0, 1, 2]);
    expect(planBlocks(10, 1)).toEqual([0, 10]);
    const sim = new PiecewiseSim(traffic, prof);
    expect(() => new MpcOracle(sim, { horizon: 0 })).toThrowError(/horizon/);
    expect(() => new MpcOracle(sim, { horizon: 5, blocks: 1.5 })).toThrowError(/blocks/);
    expect(() => new MpcOracle(sim, { horizon: 5, coarse: 0 })).toThrowError(/coarse/);
  });
});

describe('CDN simulator trace sets and domain randomisation (session 11: data.ts, mechanistic.ts)', () => {
  /** a data root with N training traces (named t00, t01, …) and, when withTest, test traces named x00, … */
  function fakeRoot(n: number, withTest: boolean): string {
    const root = mkdtempSync(join(tmpdir(), 'cdn-traces-'));
    const write = (dir: string, name: string, mbps: number) => {
      mkdirSync(join(root, 'abr', 'traces', dir), { recursive: true });
      writeFileSync(
        join(root, 'abr', 'traces', dir, name),
        Array.from({ length: 20 }, (_, i) => `${i}\t${mbps + 0.01 * i}`).join('\n') + '\n',
      );
    };
    for (let i = 0; i < n; i++) write('train', `t${String(i).padStart(2, '0')}`, 1 + i / 10);
    if (withTest) for (let i = 0; i < 5; i++) write('test', `x${String(i).padStart(2, '0')}`, 2 + i / 10);
    return root;
  }

  it('dev days play held-out every-7th training traces, disjoint from the training ones, and never read the test traces', async () => {
    const { traceSet, traceSetForDay } = await import('../../src/sim/cdn/data.js');
    // no test directory at all: training and dev trace sets still load, the test set cannot
    const root = fakeRoot(22, false);
    const train = traceSet('train', root).map((t) => t.name);
    const dev = traceSet('dev', root).map((t) => t.name);
    expect(dev).toEqual(['t03', 't10', 't17']);
    expect(train.length).toBe(19);
    expect(train.filter((x) => dev.includes(x))).toEqual([]);
    expect([...train, ...dev].sort()).toEqual(Array.from({ length: 22 }, (_, i) => `t${String(i).padStart(2, '0')}`));
    expect(() => traceSet('test', root)).toThrowError(/not found/);
    expect(() => traceSet('valid' as never, root)).toThrowError(/unknown trace set/);
    // with test traces: only the test set reads them
    const root2 = fakeRoot(8, true);
    expect(traceSet('test', root2).map((t) => t.name)).toEqual(['x00', 'x01', 'x02', 'x03', 'x04']);
    expect(traceSet('dev', root2).map((t) => t.name)).toEqual(['t03']);
    // every day's trace set is its own split's: dev days the dev traces, never the test ones
    for (const d of daysOf('dev')) expect(traceSetForDay(d)).toBe('dev');
    for (const d of daysOf('test')) expect(traceSetForDay(d)).toBe('test');
    for (const d of daysOf('train')) expect(traceSetForDay(d)).toBe('train');
    // too few training traces for a dev split: a clear error
    expect(() => traceSet('dev', fakeRoot(3, false))).toThrowError(/no dev traces/);
  });

  it('the shared data: dev traces are the every-7th training traces, none of them in the training or test sets', async () => {
    const { missingData, traceSet } = await import('../../src/sim/cdn/data.js');
    if (missingData()) return pending('no shared data (EDGEPLAY_DATA)');
    const all = readdirSync(join(dataRoot(), 'abr', 'traces', 'train'))
      .filter((f) => !f.startsWith('.'))
      .sort();
    const train = traceSet('train').map((t) => t.name);
    const dev = traceSet('dev').map((t) => t.name);
    const test = new Set(traceSet('test').map((t) => t.name));
    expect(dev).toEqual(all.filter((_, i) => i % 7 === 3));
    expect(train.length + dev.length).toBe(all.length);
    expect(dev.some((x) => train.includes(x))).toBeFalse();
    expect(dev.some((x) => test.has(x)) || train.some((x) => test.has(x))).toBeFalse();
  });

  it('randomises the class weights and throughput scale of training days only, anew on each reset', () => {
    const traffic7 = syntheticTraffic(7);
    const prof = profilesOf('ABC');
    const r = response();
    const mix = { classes: [r, r, r], weights: [1 / 3, 1 / 3, 1 / 3] };
    const plain = new MechanisticSim(traffic7, prof, mix, 1);
    const rand = new MechanisticSim(traffic7, prof, mix, 1, { weightsSigma: 0.5, scale: [0.5, 2] });
    const seen: string[] = [];
    for (let k = 0; k < 3; k++) {
      rand.reset(2); // a training day
      const c = rand.dayConditions();
      expect(c.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(c.weights.some((w) => Math.abs(w - 1 / 3) > 1e-3)).toBeTrue();
      expect(c.scale).toBeGreaterThanOrEqual(0.5);
      expect(c.scale).toBeLessThanOrEqual(2);
      seen.push(JSON.stringify(c));
    }
    expect(new Set(seen).size).toBe(3);
    // a dev day (5) and a test day (6) are the measured conditions, step for step the plain simulator's
    for (const day of [5, 6]) {
      rand.reset(day);
      plain.reset(day);
      expect(rand.dayConditions()).toEqual({ weights: [1 / 3, 1 / 3, 1 / 3], scale: 1 });
      for (let t = 0; t < 30; t++) expect(rand.step([50, 30, 20])).toEqual(plain.step([50, 30, 20]));
    }
    // the scale multiplies the congestion factor: a fixed scale 0.5 halves it, and a slower network stalls more
    const half = new MechanisticSim(traffic7, prof, mix, 1, { scale: [0.5, 0.5] });
    half.reset(2);
    plain.reset(2);
    expect(half.factor(0, 100, 1e6)).toBeCloseTo(0.5 * plain.factor(0, 100, 1e6), 12);
    let sh = 0,
      sp = 0;
    for (let t = 0; t < 240; t++) {
      sh += half.step([50, 30, 20]).reward;
      sp += plain.step([50, 30, 20]).reward;
    }
    expect(sh).toBeLessThan(sp);
    expect(() => new MechanisticSim(traffic7, prof, mix, 1, { weightsSigma: -1 })).toThrowError(RangeError, /weightsSigma/);
    expect(() => new MechanisticSim(traffic7, prof, mix, 1, { scale: [2, 1] })).toThrowError(RangeError, /scale/);
  });
});

describe('learned simulator (learned.ts) against its tfjs models', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  it('runs LSTM → LSTM → NALU and LSTM → dense in plain JS as tfjs does', () => {
    for (const kind of ['nalu-lstm', 'lstm'] as const) {
      const model = tf.sequential();
      const init = (s: number) => ({
        kernelInitializer: tf.initializers.glorotUniform({ seed: s }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: s + 1 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: s + 2 }),
      });
      model.add(
        tf.layers.lstm({
          units: 8,
          returnSequences: kind === 'nalu-lstm',
          recurrentActivation: 'sigmoid',
          inputShape: [LEARN_WINDOW, LEARN_FEATURES],
          ...init(1),
        }),
      );
      let nalu: Nalu | null = null;
      if (kind === 'nalu-lstm') {
        model.add(tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', ...init(5) }));
        model.add((nalu = new Nalu(LEARN_OUTPUTS, 9)));
      } else model.add(tf.layers.dense({ units: LEARN_OUTPUTS, biasInitializer: 'ones' }));
      const rng = mulberry32(21);
      const n = 5;
      const x = Float32Array.from({ length: n * LEARN_WINDOW * LEARN_FEATURES }, () => rng() * 2 - 1);
      const net = tf.tidy(() => (model.predict(tf.tensor3d(x, [n, LEARN_WINDOW, LEARN_FEATURES])) as tf.Tensor).dataSync());
      // the recurrent models add their output to the last step's previous QoE (features 4..6)
      const W = LEARN_WINDOW * LEARN_FEATURES;
      const ref = Float32Array.from(net, (v, i) => v + x[Math.floor(i / LEARN_OUTPUTS) * W + W - LEARN_FEATURES + 4 + (i % LEARN_OUTPUTS)]);
      const md: LearnedCdnModel =
        kind === 'nalu-lstm'
          ? {
              cdn: 'A',
              kind,
              lstm: [lstmWeightsOf(model.layers[0], 8), lstmWeightsOf(model.layers[1], 4)],
              nalu: nalu!.weightsOf(),
              start: { slatency: 3, bufratio: 1, buffreq: 0.5 },
            }
          : {
              cdn: 'A',
              kind,
              lstm: [lstmWeightsOf(model.layers[0], 8)],
              dense: {
                w: Array.from(model.layers[1].getWeights()[0].dataSync()),
                b: Array.from(model.layers[1].getWeights()[1].dataSync()),
              },
              start: { slatency: 3, bufratio: 1, buffreq: 0.5 },
            };
      const f = new LearnedForward(md);
      // a window that differs from the previous call's only in its last step may reuse the first steps' state
      const W2 = LEARN_WINDOW * LEARN_FEATURES;
      const x0 = x.slice(0, W2),
        x1 = x0.slice();
      for (let c = W2 - LEARN_FEATURES; c < W2; c++) x1[c] = rng() * 2 - 1;
      const full1 = Array.from(new LearnedForward(md).forward(x1));
      f.forward(x0);
      const reused = Array.from(f.forward(x1, undefined, true));
      for (let c = 0; c < LEARN_OUTPUTS; c++) expect(Math.abs(reused[c] - full1[c])).toBeLessThan(1e-12);
      for (let r = 0; r < n; r++) {
        const o = f.forward(x.subarray(r * LEARN_WINDOW * LEARN_FEATURES, (r + 1) * LEARN_WINDOW * LEARN_FEATURES));
        for (let c = 0; c < LEARN_OUTPUTS; c++)
          expect(Math.abs(o[c] - ref[r * LEARN_OUTPUTS + c]))
            .withContext(kind)
            .toBeLessThan(1e-4);
      }
      model.dispose();
    }
  });
});

describe('averageWeights (train/cdn.ts, --dagger-average)', () => {
  it('is the element-wise mean of the networks; refuses none or mismatched shapes', () => {
    const net = (v: number, n = 2) => ({
      convW: [v, 2 * v],
      convB: [v],
      w1: Array.from({ length: n }, (_, i) => v + i),
      b1: [0],
      w2: [v],
      b2: [-v],
    });
    const m = averageWeights([net(1), net(2), net(6)]);
    expect(Array.from(m.convW)).toEqual([3, 6]);
    expect(Array.from(m.w1)).toEqual([3, 4]);
    expect(Array.from(m.b2)).toEqual([-3]);
    expect(() => averageWeights([])).toThrowError(RangeError);
    expect(() => averageWeights([net(1), net(1, 3)])).toThrowError(RangeError, /w1 has 3 values, expected 2/);
  });
});

describe("learned simulator run free: the clamp to the logs' range and the multi-step (DAD) windows", () => {
  /** a synthetic logged day: workload on a daily-like wave, QoE rising with it */
  const seqOf = (T: number, phase: number): CdnLogSeq => {
    const workload = new Float64Array(T),
      joins = new Float64Array(T);
    const qoe = [];
    for (let t = 0; t < T; t++) {
      workload[t] = 10000 + 6000 * Math.sin((t + phase) / 9);
      joins[t] = 200 + 50 * Math.cos(t / 5);
      const z = workload[t] / 20000;
      qoe.push({ slatency: 2 + 3 * z, bufratio: 0.5 + 4 * z * z, buffreq: 0.2 + z });
    }
    return { cdn: 'A', day: 0, workload, joins, qoe };
  };
  /** a linear model that feeds back 1.5× its previous output (features 4..6 of the last step): it diverges run free */
  const explosive = (range?: LearnedCdnModel['range']): LearnedCdnModel => {
    const d = LEARN_WINDOW * LEARN_FEATURES;
    const w = new Array(d * LEARN_OUTPUTS).fill(0);
    for (let c = 0; c < LEARN_OUTPUTS; c++) w[(d - LEARN_FEATURES + 4 + c) * LEARN_OUTPUTS + c] = 1.5;
    return { cdn: 'A', kind: 'linear', dense: { w, b: [0.1, 0.1, 0.1] }, start: { slatency: 3, bufratio: 1, buffreq: 0.5 }, range };
  };

  it('clamps every output into the range, NaN to its low end; no range: unchanged; a bad range throws', () => {
    const range = { lo: [0, 0.1, 0.2], hi: [1, 2, 3] };
    expect(Array.from(clampToRange(Float64Array.from([5, NaN, -1]), range))).toEqual([1, 0.1, 0.2]);
    expect(Array.from(clampToRange(Float64Array.from([0.5, 1, 2.5]), range))).toEqual([0.5, 1, 2.5]);
    expect(Array.from(clampToRange(Float64Array.from([5, -7, 9]), undefined))).toEqual([5, -7, 9]);
    expect(() => clampToRange(new Float64Array(3), { lo: [2, 0, 0], hi: [1, 1, 1] })).toThrowError(RangeError, /lo 2 > hi 1/);
    expect(() => clampToRange(new Float64Array(3), { lo: [0], hi: [1] })).toThrowError(RangeError, /3 bounds/);
  });

  it("a model that diverges when fed its own outputs stays within the logs' range once it carries one", () => {
    const seq = seqOf(200, 0);
    const range = qoeRange([seq]);
    // the range is the logs' own: log(1 + metric) of the smallest and largest minute
    expect(range.lo[0]).toBeCloseTo(Math.log1p(Math.min(...seq.qoe.map((q) => q.slatency))), 10);
    expect(range.hi[1]).toBeCloseTo(Math.log1p(Math.max(...seq.qoe.map((q) => q.bufratio))), 10);
    // widened by a margin × the span on both sides, never below 0; a negative margin is refused
    const wide = qoeRange([seq], 0.5);
    for (let c = 0; c < LEARN_OUTPUTS; c++) {
      const span = range.hi[c] - range.lo[c];
      expect(wide.hi[c]).toBeCloseTo(range.hi[c] + 0.5 * span, 10);
      expect(wide.lo[c]).toBeCloseTo(Math.max(0, range.lo[c] - 0.5 * span), 10);
    }
    expect(qoeRange([seq], 10).lo).toEqual([0, 0, 0]);
    expect(() => qoeRange([seq], -0.1)).toThrowError(RangeError, /margin/);
    const free = freeRun(explosive(), seq);
    // 1.5^190 overflows to non-finite values (Inf · 0 = NaN): the failure of the committed recurrent models run free
    expect(free.some((v) => !Number.isFinite(v))).toBeTrue();
    expect(Number.isFinite(freeRunRmse(explosive(), [seq]))).toBeFalse();
    const held = freeRun(explosive(range), seq);
    for (let t = LEARN_WINDOW; t < 200; t++)
      for (let c = 0; c < LEARN_OUTPUTS; c++) {
        const v = held[t * LEARN_OUTPUTS + c];
        expect(v).toBeGreaterThanOrEqual(range.lo[c]);
        expect(v).toBeLessThanOrEqual(range.hi[c]);
      }
    expect(Number.isFinite(freeRunRmse(explosive(range), [seq]))).toBeTrue();
    // the first LEARN_WINDOW minutes of a free run are the logged ones
    expect(held[0]).toBeCloseTo(Math.log1p(seq.qoe[0].slatency), 10);
  });

  it('multi-step windows carry the model\'s own fed-back outputs as "the QoE of the step before", the logged QoE as target', () => {
    const seqs = [seqOf(80, 0), seqOf(80, 30)];
    const range = qoeRange(seqs);
    const md = explosive(range);
    const fed = seqs.map((s) => freeRun(md, s));
    const every = 7;
    const one = logWindows(seqs, every);
    const multi = logWindows(seqs, every, fed);
    expect(multi.n).toBe(one.n);
    expect(one.n).toBe(2 * Math.ceil((80 - LEARN_WINDOW) / every));
    expect(Array.from(multi.y)).toEqual(Array.from(one.y)); // same targets: the log
    const W = LEARN_WINDOW * LEARN_FEATURES;
    let differs = 0;
    for (let r = 0; r < one.n; r++) {
      const i = r < one.n / 2 ? 0 : 1;
      const t = LEARN_WINDOW + (r % (one.n / 2)) * every;
      for (let j = 0; j < LEARN_WINDOW; j++) {
        const u = t - LEARN_WINDOW + 1 + j;
        for (let c = 0; c < LEARN_OUTPUTS; c++) {
          const got = multi.x[r * W + j * LEARN_FEATURES + 4 + c];
          // fed-back outputs are in log units already (≥ 0 here): the feature is the fed value itself
          expect(got).toBeCloseTo(fed[i][(u - 1) * LEARN_OUTPUTS + c], 4);
          const logged = one.x[r * W + j * LEARN_FEATURES + 4 + c];
          if (Math.abs(got - logged) > 1e-3) differs++;
        }
        // workload and joins are the log's in both
        expect(multi.x[r * W + j * LEARN_FEATURES]).toBe(one.x[r * W + j * LEARN_FEATURES]);
      }
    }
    expect(differs).toBeGreaterThan(0); // the clamped model's outputs are not the log
    expect(() => logWindows(seqs, 0)).toThrowError(RangeError);
    expect(() => logWindows(seqs, 1, [fed[0]])).toThrowError(RangeError, /1 free runs for 2 days/);
  });
});

describe('Fast-LTS distillation by DAgger (train/cdn.ts distilFastLts)', () => {
  it("aggregates the network's own states and the states each tree visits, labelled by the network; keeps the dev-best depth", async () => {
    if (!existsSync(join(dataRoot(), 'live'))) return pending('data not found (set EDGEPLAY_DATA)');
    const { loadTraffic, makeSim } = await import('../../src/sim/cdn/data.js');
    const sim = makeSim('piecewise', 'ABC', loadTraffic());
    const rng = mulberry32(8);
    const w = (k: number) => Float32Array.from({ length: k }, () => (rng() * 2 - 1) * 0.1);
    const served = {
      format: 'edgeplay-cdn-lts/1' as const,
      cdns: ['A', 'B', 'C'],
      k: K_STEPS,
      workloadScale: 20000,
      actor: { convW: w(1280), convB: w(64), w1: w(208896), b1: w(64), w2: w(640), b2: w(10) },
    };
    const dev = daysOf('dev').slice(0, 2);
    const { meanReward } = await import('../../src/sim/cdn/run.js');
    const devNet = meanReward(sim, new LtsPolicy(served), dev);
    const lines: string[] = [];
    const rec = distilFastLts(
      sim,
      sim,
      'ABC',
      served,
      daysOf('train'),
      dev,
      devNet,
      { depths: [6, 2], rounds: 2, days: 1, minLeaf: 4, stride: 2 },
      rng,
      (l) => lines.push(l),
    );
    expect(rec.states).toBe(3 * (DAY_MIN / 2)); // round 0 (the network's states) + 2 rounds of the tree's, 1 day each, every 2nd minute
    expect(lines.filter((l) => /DAgger round/.test(l)).length).toBe(2);
    expect(rec.depths.map((d) => d.maxDepth)).toEqual([2, 6]);
    const best = Math.max(...rec.depths.map((d) => d.devQoe));
    expect(rec.devQoe).toBe(best); // the dev-best depth is kept
    expect(rec.netDevQoe).toBeCloseTo(devNet, 3);
    expect(rec.served).toBe((devNet - rec.devQoe) / Math.abs(devNet) < 0.02);
    expect(rec.depth).toBeLessThanOrEqual(6);
    expect(rec.fidelity).toBeGreaterThan(0.3);
    expect(rec.tree.value.every((a) => a >= 0 && a < actionCount(3))).toBeTrue();
    // the recorded dev QoE is the tree's, as served
    const again = meanReward(
      sim,
      new FastLtsPolicy({ format: 'edgeplay-cdn-fastlts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 20000, tree: rec.tree }),
      dev,
    );
    expect(again).toBeCloseTo(rec.devQoe, 3);
  });
});

describe('models/cdn-lts records', () => {
  it('name no absolute path in any recorded command or path (repo-relative, so they reproduce from any clone)', () => {
    const dir = join(process.cwd(), 'models', 'cdn-lts');
    if (!existsSync(dir)) return pending(`${dir} not found`);
    const found: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (typeof v === 'string') {
        // an absolute path as a whole value or as one word of a command line
        if (v.split(/[\s=]+/).some((w) => /^\/(work|tmp|home|root|Users|var)\b/.test(w))) found.push(`${at}: ${v}`);
      } else if (Array.isArray(v)) {
        if (v.length && typeof v[0] !== 'number') v.forEach((x, i) => walk(x, `${at}[${i}]`));
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) walk(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    expect(found).toEqual([]);
  });
});

describe('DAgger towards the greedy oracle over LTS actions (train/cdn.ts daggerCdn)', () => {
  for (const loss of ['ce', 'ce+regret'] as const)
    it(`raises the learner's on-policy agreement with the oracle: mixture roll-in with decaying β, aggregated states, held-out day (loss ${loss})`, async () => {
      await tf.setBackend('wasm');
      await tf.ready();
      // twice the synthetic traffic: ~50k concurrent viewers, so the CDNs' load thresholds bind and actions matter
      const j = Float64Array.from({ length: 4 * DAY_MIN }, (_, m) => 2 * (600 + 300 * Math.sin((2 * Math.PI * m) / DAY_MIN)));
      const sim = new PiecewiseSim(new Traffic(j), profilesOf('ABC'));
      const A = actionCount(3);
      const actor = new TfLtsNet(3, K_STEPS, A, 5, 0.1);
      const opt = tf.train.adam(1e-3);
      // the learner's own roll-out on a day: share of minutes where its argmax is one of the oracle's cheapest actions,
      // and its mean next-step regret (its action's cost above the cheapest)
      const ownRollout = (w: ReturnType<TfLtsNet['weights']>, day: number) => {
        const net = new LtsNet(w, 3, K_STEPS, A);
        const x = new Float32Array(3 * K_STEPS * CDN_CHANNELS);
        sim.reset(day);
        let agree = 0,
          regret = 0;
        for (let t = 0; t < DAY_MIN; t++) {
          const obs = sim.observation();
          encodeObservation(obs, 20000, K_STEPS, x);
          const lg = net.forward(x);
          let a = 0;
          for (let i = 1; i < A; i++) if (lg[i] > lg[a]) a = i;
          const c = actionCosts(sim, obs);
          const cmin = c[greedyAction(c)];
          if (c[a] <= cmin + 1e-9) agree++;
          regret += c[a] - cmin;
          sim.step(applyAction(toPoints(obs.shares), a, lastScores(obs)));
        }
        return { agreement: agree / DAY_MIN, regret: regret / DAY_MIN };
      };
      try {
        const before = ownRollout(actor.weights(), 3);
        const lines: string[] = [];
        const { rounds, weights } = daggerCdn(
          sim,
          actor,
          opt,
          [1, 2],
          { rounds: 4, days: 1, epochs: 4, beta0: 1, betaDecay: 0.5, stride: 4, tau: 0, loss, minibatch: 64 },
          mulberry32(3),
          (l) => lines.push(l),
        );
        expect(rounds.map((r) => r.beta)).toEqual([1, 0.5, 0.25, 0.125]);
        expect(rounds.map((r) => r.states)).toEqual([360, 720, 1080, 1440]); // every 4th minute of one day per round, aggregated
        expect(rounds.map((r) => r.days.length)).toEqual([1, 1, 1, 1]);
        expect(lines.length).toBe(4);
        const after = ownRollout(weights[3], 3);
        // round 1 measures the untrained network on the states it visits; round 4 the network after 3 fits
        expect(rounds[0].agreement).toBeLessThan(0.2);
        expect(rounds[3].agreement).toBeGreaterThan(0.3);
        // on a day never rolled in, acting alone, the learner agrees with the oracle far more than at init,
        // and its next-step regret (cost above the oracle's, per minute) falls to a small fraction of the init's
        expect(before.agreement).toBeLessThan(0.2);
        expect(after.agreement).toBeGreaterThan(before.agreement + 0.15);
        expect(after.agreement).toBeGreaterThan(0.3);
        expect(after.regret).toBeLessThan(before.regret / 10);
      } finally {
        tf.dispose(actor.vars);
        opt.dispose();
      }
    });
});

describe('trained LTS and Fast-LTS (models/cdn-lts) in the mechanistic simulator', () => {
  const dir = join(process.cwd(), 'models', 'cdn-lts');
  const file = join(dir, 'mechanistic-ABC.json');
  const why = !existsSync(file)
    ? `${file} not found (npm run train:cdn)`
    : !existsSync(join(dataRoot(), 'live'))
      ? 'data not found (set EDGEPLAY_DATA)'
      : '';

  it("the tree plays a dev day within 2 % of the network's QoE (the Fast-LTS target), picks the network's action on most states of a training day, at a fraction of its CPU time", async () => {
    if (why) return pending(why);
    const { loadTraffic, makeSim } = await import('../../src/sim/cdn/data.js');
    const man = JSON.parse(readFileSync(file, 'utf8'));
    const lts = new LtsPolicy(ltsModelFromFiles(man, new Uint8Array(readFileSync(join(dir, man.weights)))));
    const fast = new FastLtsPolicy({
      format: 'edgeplay-cdn-fastlts/1',
      cdns: man.cdns,
      k: man.k,
      workloadScale: man.workloadScale,
      tree: man.fastLts.tree,
    });
    const traffic = loadTraffic();
    /** one day driven by `driver` (the other policy asked on the same states): mean reward per minute, agreement, CPU µs */
    const play = (day: number, driver: 'net' | 'tree') => {
      const sim = makeSim('mechanistic', 'ABC', traffic);
      sim.reset(day);
      let agree = 0,
        netCpu = 0,
        treeCpu = 0,
        reward = 0;
      for (let t = 0; t < DAY_MIN; t++) {
        const obs = sim.observation();
        let c = process.cpuUsage();
        const a = lts.act(obs);
        netCpu += process.cpuUsage(c).user;
        c = process.cpuUsage();
        const b = fast.act(obs);
        treeCpu += process.cpuUsage(c).user;
        if (a === b) agree++;
        const last = obs.cdns.map((_, i) => obs.slatency[i][K_STEPS - 1] + obs.bufratio[i][K_STEPS - 1] + obs.buffreq[i][K_STEPS - 1]);
        reward += sim.step(applyAction(toPoints(obs.shares), driver === 'net' ? a : b, last)).reward;
      }
      expect(encodeObservation(sim.observation(), 20000).length).toBe(3 * K_STEPS * CDN_CHANNELS);
      return { qoe: reward / DAY_MIN, agree: agree / DAY_MIN, netCpu, treeCpu };
    };
    // the target: served alone on a dev day (held-out traces' ABR response), the tree's QoE within 2 % of the network's
    const dev = daysOf('dev')[0];
    const net = play(dev, 'net');
    const tree = play(dev, 'tree');
    const gapPct = (100 * (tree.qoe - net.qoe)) / Math.abs(net.qoe);
    // fidelity where it was distilled: the network's own trajectory on a training day
    const trainDay = play(daysOf('train')[0], 'net');
    console.log(
      `[measure] Fast-LTS on dev day ${dev}: QoE ${tree.qoe.toFixed(3)} vs the network's ${net.qoe.toFixed(3)} (${gapPct.toFixed(2)} %), agreement ${(100 * net.agree).toFixed(1)} % on the network's dev trajectory, ${(100 * trainDay.agree).toFixed(1)} % on a training day; CPU per decision: network ${(net.netCpu / DAY_MIN / 1000).toFixed(3)} ms, tree ${(net.treeCpu / DAY_MIN / 1000).toFixed(4)} ms`,
    );
    expect(gapPct).toBeGreaterThan(-2);
    expect(trainDay.agree).toBeGreaterThan(0.7);
    expect(net.treeCpu).toBeLessThan(net.netCpu / 5);
  });
});

describe('LTS time-of-day input (lts.ts LtsInputs; train:cdn --time-of-day)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  const A = actionCount(3);
  const HIST = 3 * K_STEPS * CDN_CHANNELS;
  const tod = { timeOfDay: 1 };

  it('encodes sin/cos of the minute after the history: the features change with the minute, the history part does not', () => {
    const base = obsOf(
      [0.5, 0.3, 0.2],
      [
        [2, 1, 0.5],
        [3, 2, 1],
        [4, 3, 2],
      ],
    );
    const paper = encodeObservation(base, 1000);
    expect(paper.length).toBe(HIST);
    const at = (minute: number) => encodeObservation({ ...base, minuteOfDay: minute }, 1000, K_STEPS, undefined, tod);
    const x0 = at(0),
      x6 = at(360),
      x12 = at(720);
    expect(x0.length).toBe(HIST + 2);
    expect(Array.from(x0.subarray(0, HIST))).toEqual(Array.from(paper));
    expect(Array.from(x6.subarray(0, HIST))).toEqual(Array.from(paper));
    expect(x0[HIST]).toBeCloseTo(0, 6); // sin
    expect(x0[HIST + 1]).toBeCloseTo(1, 6); // cos
    expect(x6[HIST]).toBeCloseTo(1, 6);
    expect(x6[HIST + 1]).toBeCloseTo(0, 6);
    expect(x12[HIST + 1]).toBeCloseTo(-1, 6);
    expect(Array.from(at(1440 + 360).subarray(HIST))).toEqual(Array.from(x6.subarray(HIST))); // a day later: the same
    const x2 = new Float32Array(4);
    timeOfDayFeatures(360, 2, x2);
    expect(Array.from(x2).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 0, 0, -1]);
    expect(inputWidth(3, K_STEPS, { timeOfDay: 2 })).toBe(HIST + 4);
    // a time-of-day model's encoding needs the minute
    expect(() => encodeObservation(base, 1000, K_STEPS, undefined, tod)).toThrowError(/time of day.*no minuteOfDay/);
  });

  it("the simulators' observation carries the coming step's minute of the day", () => {
    const sim = new PiecewiseSim(syntheticTraffic(), profilesOf('ABC'));
    sim.reset(1);
    expect(sim.observation().minuteOfDay).toBe(0);
    sim.step([34, 33, 33]);
    sim.step([34, 33, 33]);
    expect(sim.observation().minuteOfDay).toBe(2);
  });

  it('reads the time of day in plain JS as in tfjs, and a widened paper network keeps its outputs (function-preserving)', () => {
    const net = new TfLtsNet(3, K_STEPS, A, 7, 1, 2);
    const rng = mulberry32(21);
    const n = 6;
    const x = Float32Array.from({ length: n * (HIST + 2) }, () => rng() * 2 - 0.5);
    const tfOut = tf.tidy(() => net.apply(tf.tensor2d(toCols(x, 3, K_STEPS, undefined, 2), [n, net.colDim])).dataSync());
    const js = new LtsNet(net.weights(), 3, K_STEPS, A, 2);
    for (let r = 0; r < n; r++) {
      const o = js.forward(x.subarray(r * (HIST + 2), (r + 1) * (HIST + 2)));
      for (let a = 0; a < A; a++) expect(Math.abs(o[a] - tfOut[r * A + a])).toBeLessThan(1e-4);
    }
    // the extra inputs matter: only the minute differs, the logits differ
    const xa = x.slice(0, HIST + 2),
      xb = xa.slice();
    timeOfDayFeatures(100, 1, xa, HIST);
    timeOfDayFeatures(900, 1, xb, HIST);
    const la = Array.from(js.forward(xa)),
      lb = Array.from(js.forward(xb));
    expect(la.some((v, i) => Math.abs(v - lb[i]) > 1e-3)).toBeTrue();
    // a paper network embedded with zero rows: the same logits whatever the minute
    const paper = new TfLtsNet(3, K_STEPS, A, 8, 1);
    const p = new LtsNet(paper.weights(), 3, K_STEPS, A);
    const wide = new LtsNet(widenInputs(paper.weights(), 3, K_STEPS, 0, 2), 3, K_STEPS, A, 2);
    const ref = Array.from(p.forward(xa.subarray(0, HIST)));
    expect(Array.from(wide.forward(xa))).toEqual(ref);
    expect(Array.from(wide.forward(xb))).toEqual(ref);
    expect(() => widenInputs(widenInputs(paper.weights(), 3, K_STEPS, 0, 2), 3, K_STEPS, 2, 0)).toThrowError(/cannot drop inputs/);
    // cut back to the paper's shape: a widened network exactly; a trained one = its time-of-day weights at 0
    expect(Array.from(narrowInputs(widenInputs(paper.weights(), 3, K_STEPS, 0, 2), 3, K_STEPS, 2, 0).w1)).toEqual(
      Array.from(paper.weights().w1),
    );
    const cut = new LtsNet(narrowInputs(net.weights(), 3, K_STEPS, 2, 0), 3, K_STEPS, A);
    const w0 = net.weights();
    const zeroed = Float32Array.from(w0.w1).fill(0, w0.w1.length - 2 * 64);
    const ref0 = new LtsNet({ ...w0, w1: zeroed }, 3, K_STEPS, A, 2).forward(xa);
    const got = cut.forward(xa.subarray(0, HIST));
    for (let a = 0; a < A; a++) expect(Math.abs(got[a] - ref0[a])).toBeLessThan(1e-5);
    expect(() => narrowInputs(paper.weights(), 3, K_STEPS, 0, 2)).toThrowError(/cannot add inputs/);
    tf.dispose([...net.vars, ...paper.vars]);
  });

  it('a model file records its inputs; a model whose weights do not fit them, or that needs an unknown input, is refused with a clear error', () => {
    const paperNet = new TfLtsNet(3, K_STEPS, A, 9, 0.1);
    const paperBytes = encodeBf16(paperNet.weights());
    const todBytes = encodeBf16(widenInputs(paperNet.weights(), 3, K_STEPS, 0, 2));
    tf.dispose(paperNet.vars);
    const man: LtsManifest = { format: 'edgeplay-cdn-lts/1', cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 20000, weights: 'x.bin' };
    // the right pairs load; the time-of-day model says so
    expect(ltsModelFromFiles(man, paperBytes).inputs).toBeUndefined();
    const todModel = ltsModelFromFiles({ ...man, inputs: tod }, todBytes);
    expect(todModel.inputs).toEqual(tod);
    // wrong widths: the manifest says time of day, the weights are the paper's (and the reverse)
    expect(() => ltsModelFromFiles({ ...man, inputs: tod }, paperBytes)).toThrowError(/do not fit the inputs.*history\+time-of-day\(1\)/);
    expect(() => ltsModelFromFiles(man, todBytes)).toThrowError(/do not fit the inputs the manifest records \(history\)/);
    expect(() => new LtsNet(decodeBf16(todBytes, 3, K_STEPS, A, 2), 3, K_STEPS, A)).toThrowError(/w1 has .* expected/);
    // inputs this code does not know, or a bad harmonics count
    expect(() => ltsModelFromFiles({ ...man, inputs: { weather: 1 } as never }, paperBytes)).toThrowError(/needs the input 'weather'/);
    expect(() => checkInputs({ timeOfDay: 1.5 })).toThrowError(/integer/);
    // the policy refuses an observation without the minute, and decides with it
    const pol = new LtsPolicy(todModel);
    const obs = obsOf(
      [0.4, 0.3, 0.3],
      [
        [2, 1, 0.5],
        [3, 2, 1],
        [4, 3, 2],
      ],
    );
    expect(() => pol.step(obs)).toThrowError(/no minuteOfDay/);
    expect(pol.step({ ...obs, minuteOfDay: 600 }).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // Fast-LTS: a tree reading the time of day refuses a file that records the paper's inputs
    const leaf: TreeModel = { feature: [HIST + 1, -1, -1], threshold: [0, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 9, 0] };
    const fast = { format: 'edgeplay-cdn-fastlts/1' as const, cdns: ['A', 'B', 'C'], k: K_STEPS, workloadScale: 20000, tree: leaf };
    expect(() => new FastLtsPolicy(fast)).toThrowError(/reads feature 301.*give 300/);
    const ft = new FastLtsPolicy({ ...fast, inputs: tod });
    // cos ≤ 0 at 12:00 → left → keep (action 9); cos > 0 at 01:00 → right → raise A by 1 (action 0)
    ft.step({ ...obs, minuteOfDay: 720 });
    expect(ft.lastAction).toBe(9);
    ft.step({ ...obs, minuteOfDay: 60 });
    expect(ft.lastAction).toBe(0);
  });
});
