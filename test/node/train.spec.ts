/**
 * The training libraries on tiny synthetic inputs (no dataset): the shared PPO (GAE against hand-computed
 * values, the update on a toy bandit, masks, the KL early stop, the critic warm-up), each trainer for a
 * couple of iterations (files of the right shape that load and serve), and the command-line layer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../../src/core/random.js';
import { supervisedEpochs } from '../../src/train/supervised.js';
import { LEVELS, TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS } from '../../src/core/abr.js';
import { DrlAssignment, IN_F } from '../../src/assign/edge/drl.js';
import { EDGE_SIM_DEFAULTS, runEdgeSim } from '../../src/sim/edge/sim.js';
import { fromYawPitch } from '../../src/viewport/geometry.js';
import { inputSize } from '../../src/viewport/model.js';
import { predictProfile, type ProfileNorm } from '../../src/profile/model.js';
import type { ViewportTrace } from '../../src/sim/viewport/data.js';
import { simulatePopulation } from '../../src/sim/viewers/population.js';
import { buildRequests } from '../../src/sim/viewers/requests.js';
import { gae, minibatches, normalizeAdvantages, permutation, ppoIteration, type PpoModel, type Rollout } from '../../src/train/ppo.js';
import { loadModel } from '../../src/train/io.js';
import { trainAbr } from '../../src/train/abr.js';
import { DrlPolicy, FEATURES } from '../../src/abr/drl.js';
import { DEFAULT_ABANDON } from '../../src/abr/abandon.js';
import { runHlsVod, type HlsVodOptions } from '../../src/sim/abr/hls-vod.js';
import { mean, runPolicy } from '../../src/sim/abr/run.js';
import { syntheticTrace } from '../../src/sim/abr/synth.js';
import { trainEdge } from '../../src/train/edge.js';
import { trainProfile } from '../../src/train/profile.js';
import { trainViewport } from '../../src/train/viewport.js';
import { commandLine, InputError, num, oneOf, parseCli } from '../../src/train/cli/args.js';

const quiet = () => undefined;

/** Five traces swinging between 0.4 and ~6 Mb/s within seconds (120 s each) and VBR sizes at the Pensieve ladder. */
function swingFixture() {
  const traces = [1.5, 3, 0.8, 2.5, 4].map((mbps, k) => ({
    name: `swing_${k}`,
    time: Array.from({ length: 120 }, (_, i) => i),
    bw: Array.from({ length: 120 }, (_, i) => Math.max(0.4, mbps * (1 + 0.9 * Math.sin(i / 2 + k)))),
  }));
  const videoSizes = VIDEO_BIT_RATE_KBPS.map((kbps) =>
    Array.from({ length: TOTAL_CHUNKS }, (_, i) => kbps * 500 * (1 + 0.3 * Math.cos(i))),
  );
  return { traces, videoSizes };
}

describe('supervisedEpochs (src/train/supervised.ts)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('visits every sample once per epoch in minibatches and lowers the loss of a linear fit', () => {
    const n = 10;
    const xs = tf.tensor2d(Array.from({ length: n }, (_, i) => [i / n]));
    const ys = xs.mul(3).add(1);
    const w = tf.variable(tf.zeros([1, 1]));
    const b = tf.variable(tf.zeros([1]));
    const seen: number[] = [];
    const sizes: number[] = [];
    const losses = supervisedEpochs(tf.train.sgd(0.5), { n, epochs: 30, batch: 4, rng: mulberry32(3) }, (ids, size) => {
      seen.push(...ids.dataSync());
      sizes.push(size);
      return tf.losses.meanSquaredError(tf.gather(ys, ids), tf.gather(xs, ids).matMul(w).add(b)) as tf.Scalar;
    });
    expect(losses.length).toBe(30);
    expect(sizes.slice(0, 3)).toEqual([4, 4, 2]);
    expect([...seen.slice(0, n)].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(losses[29]).toBeLessThan(losses[0] / 10);
    expect(() => supervisedEpochs(tf.train.sgd(0.1), { n: 0, epochs: 1, batch: 4, rng: Math.random }, () => tf.scalar(0))).toThrowError(
      RangeError,
      /n ≥ 1/,
    );
    tf.dispose([xs, ys, w, b]);
  });
});

describe('PPO (src/train/ppo.ts)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('computes GAE advantages and returns as worked by hand, with done flags and the truncation bootstrap', () => {
    // γ 0.9, λ 0.8 (γλ 0.72); values V0..V2 and the bootstrap V3 = 0.4
    const values = [0.5, 0.2, 0.1, 0.4];
    const r = gae({ envs: 1, rewards: [1, 0, 2], values }, { gamma: 0.9, lambda: 0.8 });
    // δ2 = 2 + 0.9·0.4 − 0.1 = 2.26; δ1 = 0.9·0.1 − 0.2 = −0.11; δ0 = 1 + 0.9·0.2 − 0.5 = 0.68
    // A2 = 2.26; A1 = −0.11 + 0.72·2.26 = 1.5172; A0 = 0.68 + 0.72·1.5172 = 1.772384
    expect(Array.from(r.advantages)).toEqual([1.772384, 1.5172, 2.26].map(Math.fround));
    expect(Array.from(r.returns)).toEqual([2.272384, 1.7172, 2.36].map(Math.fround));
    // the episode ends with step 1: no bootstrap from V2 and no carry from A2
    const d = gae({ envs: 1, rewards: [1, 0, 2], values, dones: [0, 1, 0] }, { gamma: 0.9, lambda: 0.8 });
    // A1 = −0.2; A0 = 0.68 + 0.72·(−0.2) = 0.536
    expect(d.advantages[1]).toBeCloseTo(-0.2, 6);
    expect(d.advantages[0]).toBeCloseTo(0.536, 6);
    expect(d.advantages[2]).toBeCloseTo(2.26, 6);
  });

  it('keeps parallel environments apart (time-major) and applies the value and reward scales', () => {
    // env 0 as above; env 1 all zero
    const two = gae({ envs: 2, rewards: [1, 0, 0, 0, 2, 0], values: [0.5, 0, 0.2, 0, 0.1, 0, 0.4, 0] }, { gamma: 0.9, lambda: 0.8 });
    expect([two.advantages[0], two.advantages[2], two.advantages[4]]).toEqual([1.772384, 1.5172, 2.26].map(Math.fround));
    expect([two.advantages[1], two.advantages[3], two.advantages[5]]).toEqual([0, 0, 0]);
    // a critic predicting return/2 on rewards scaled ×3: the advantages of rewards×3 with values×2
    const scaled = gae(
      { envs: 1, rewards: [1, 0, 2], values: [0.5, 0.2, 0.1, 0.4] },
      { gamma: 0.9, lambda: 0.8, valueScale: 2, rewardScale: 3 },
    );
    const plain = gae({ envs: 1, rewards: [3, 0, 6], values: [1, 0.4, 0.2, 0.8] }, { gamma: 0.9, lambda: 0.8 });
    for (let i = 0; i < 3; i++) expect(scaled.advantages[i]).toBeCloseTo(plain.advantages[i], 5);
    expect(() => gae({ envs: 1, rewards: [1, 2], values: [0, 0] }, { gamma: 0.9, lambda: 0.9 })).toThrowError(/values/);
  });

  it('normalises advantages and shuffles reproducibly', () => {
    const a = normalizeAdvantages(Float32Array.from([1, 2, 3, 4]));
    expect(a.reduce((s, x) => s + x, 0)).toBeCloseTo(0, 6);
    expect(Math.sqrt(a.reduce((s, x) => s + x * x, 0) / 4)).toBeCloseTo(1, 5);
    expect(Array.from(normalizeAdvantages(Float32Array.from([2, 2]), 0))).toEqual([0, 0]);
    const p = permutation(10, mulberry32(3));
    expect(Array.from(p).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(permutation(10, mulberry32(3)))).toEqual(Array.from(p));
    expect(minibatches(p, 4).map((b) => b.length)).toEqual([4, 4, 2]);
    expect(minibatches(p, 4, true).map((b) => b.length)).toEqual([4, 4]);
  });

  /** A 3-armed bandit: one constant observation, logits = w, value = c. */
  function bandit(lr: number) {
    const w = tf.variable(tf.zeros([1, 3]));
    const c = tf.variable(tf.zeros([1]));
    const model: PpoModel = {
      forward: (x, B) => ({ logits: tf.matMul(x, w), value: tf.matMul(x, c.reshape([1, 1])).reshape([B]) }),
      variables: [w, c],
      criticVariables: [c],
    };
    const probs = (mask?: number[]) =>
      tf.tidy(() => {
        const lg = w.reshape([1, 3]);
        const m = mask ? lg.add(tf.tensor2d([mask]).sub(1).mul(1e9)) : lg;
        return Array.from(tf.softmax(m).dataSync());
      });
    /** a rollout of n pulls sampled from the current policy; reward[a] per arm */
    const rollout = (n: number, reward: number[], rng: () => number, mask?: number[]): Rollout => {
      const p = probs(mask);
      const actions = new Int32Array(n);
      const logp = new Float32Array(n);
      const rewards = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let u = rng(),
          a = 0;
        while (a < 2 && (u -= p[a]) > 0) a++;
        if (mask && !mask[a]) a = mask.indexOf(1);
        actions[i] = a;
        logp[i] = Math.log(p[a]);
        rewards[i] = reward[a];
      }
      return {
        envs: n,
        obs: new Float32Array(n).fill(1),
        obsShape: [1],
        actions,
        logp,
        rewards,
        values: new Float32Array(2 * n),
        ...(mask ? { masks: Uint8Array.from({ length: n * 3 }, (_, i) => mask[i % 3]) } : {}),
        nActions: 3,
      };
    };
    const cfg = (rng: () => number) => ({
      gamma: 0.9,
      lambda: 0.95,
      entropy: 0,
      epochs: 4,
      minibatch: 16,
      optimizer: tf.train.adam(lr),
      criticOptimizer: tf.train.adam(lr),
      rng,
    });
    return { w, c, model, probs, rollout, cfg, dispose: () => tf.dispose([w, c]) };
  }

  it('moves the policy toward the arm with the positive advantage', () => {
    const b = bandit(0.05);
    const rng = mulberry32(7);
    const cfg = b.cfg(rng);
    const before = b.probs();
    for (let it = 0; it < 5; it++) ppoIteration(b.model, b.rollout(64, [0, 1, 0], rng), cfg);
    const after = b.probs();
    expect(before[1]).toBeCloseTo(1 / 3, 6);
    expect(after[1]).toBeGreaterThan(0.6);
    expect(after[0]).toBeLessThan(before[0]);
    expect(after[2]).toBeLessThan(before[2]);
    b.dispose();
  });

  it('never learns toward a masked action and gives it no probability', () => {
    const b = bandit(0.05);
    const rng = mulberry32(8);
    const cfg = b.cfg(rng);
    const mask = [0, 1, 1];
    // the masked arm would pay most; of the feasible two, arm 2 pays
    for (let it = 0; it < 5; it++) ppoIteration(b.model, b.rollout(64, [5, 0, 1], rng, mask), cfg);
    const p = b.probs(mask);
    expect(p[0]).toBe(0);
    expect(b.w.dataSync()[0]).toBe(0); // no gradient ever reached the masked arm's logit
    expect(p[2]).toBeGreaterThan(0.6);
    b.dispose();
  });

  it('stops an iteration early when the policy moved past the KL target, and not without a target', () => {
    const b = bandit(0.5);
    const rng = mulberry32(9);
    const r = b.rollout(64, [0, 1, 0], rng);
    const early = ppoIteration(b.model, r, { ...b.cfg(rng), targetKl: 1e-4 });
    expect(early.epochs).toBeLessThan(4);
    expect(early.kl).toBeGreaterThan(1.5e-4);
    const all = ppoIteration(b.model, b.rollout(64, [0, 1, 0], rng), b.cfg(rng));
    expect(all.epochs).toBe(4);
    b.dispose();
  });

  it('moves only the critic during the warm-up', () => {
    const b = bandit(0.05);
    const rng = mulberry32(10);
    const w0 = Array.from(b.w.dataSync());
    ppoIteration(b.model, b.rollout(64, [1, 1, 1], rng), b.cfg(rng), { criticOnly: true });
    expect(Array.from(b.w.dataSync())).toEqual(w0);
    expect(b.c.dataSync()[0]).toBeGreaterThan(0); // returns are positive, the value rises toward them
    b.dispose();
  });
});

describe('trainers on tiny synthetic inputs', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-train-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('train:edge — imitation lowers the cross-entropy; PPO writes a scorer the served policy loads', async () => {
    const out = join(dir, 'edge');
    const r = await trainEdge({
      setting: 'mid',
      iters: 2,
      lr: 3e-3,
      out,
      bandwidths: [3, 6, 12, 25, 50],
      episodeS: 300,
      evalEpisodeS: 300,
      evalSeeds: [501],
      imitationEpisodes: 3,
      evalEvery: 1,
      minibatch: 128,
      log: quiet,
    });
    expect(r.imitation.length).toBe(3);
    expect(r.imitation[2]).toBeLessThan(r.imitation[0]);
    const f = JSON.parse(readFileSync(join(out, 'mid.json'), 'utf8'));
    expect(f.in).toBe(IN_F);
    expect(f.w1.length).toBe(IN_F * 32);
    expect(f.critic.w2.length).toBe(32);
    expect([0, 1, 2]).toContain(f.iteration);
    // the file serves: the controller's DRL policy runs a short simulation with it
    const sim = runEdgeSim({ ...EDGE_SIM_DEFAULTS, setting: 'mid', seed: 1, durationS: 120, bandwidths: [5, 20] }, new DrlAssignment(f));
    expect(Number.isFinite(sim.mean)).toBeTrue();
    await expectAsync(trainEdge({ setting: 'huge' as 'mid', log: quiet })).toBeRejectedWithError(InputError, /setting/);
  });

  it('train:abr — imitation lowers its loss; PPO writes a model of the policy network shape that loads', async () => {
    // five traces (the 4th is the held-out split), 40 s each at different rates; chunk sizes = nominal rates × 4 s
    const traces = [1.2, 3, 0.6, 2, 5].map((mbps, k) => ({
      name: `trace_${k}`,
      time: Array.from({ length: 40 }, (_, i) => i),
      bw: Array.from({ length: 40 }, (_, i) => mbps * (1 + 0.5 * Math.sin(i / 3 + k))),
    }));
    const videoSizes = VIDEO_BIT_RATE_KBPS.map((kbps) =>
      Array.from({ length: TOTAL_CHUNKS }, (_, i) => kbps * 500 * (1 + 0.2 * Math.cos(i)) * 1),
    );
    const out = join(dir, 'abr');
    const r = await trainAbr({
      traces,
      videoSizes,
      starts: 2,
      bcEpochs: 4,
      ppoIters: 2,
      envs: 2,
      rollout: 16,
      valueWarmup: 1,
      evalEvery: 1,
      hidden: 16,
      cacheDir: null,
      out,
      log: quiet,
    });
    expect(r.imitationLoss.length).toBe(4);
    expect(r.imitationLoss[3]).toBeLessThan(r.imitationLoss[0]);
    expect(r.history.map((h) => h.iter)).toEqual([1, 2]);
    const m = await loadModel(out);
    expect(m.inputs[0].shape).toEqual([null, FEATURES]);
    expect(m.outputs.map((o) => o.shape)).toEqual([
      [null, LEVELS],
      [null, 1],
    ]);
    expect(JSON.parse(readFileSync(join(out, 'train.json'), 'utf8')).ppo_iters).toBe(2);
    m.dispose();
    r.model.dispose();
  });

  it('train:abr — the dev-hls selection plays the player semantics asked for (re-fetch, abandonment); train.json records them only when used', async () => {
    // traces that swing between 0.4 and 6 Mb/s within seconds, so the policy switches and the semantics matter
    const { traces, videoSizes } = swingFixture();
    const common = {
      traces,
      videoSizes,
      hlsSizes: videoSizes,
      starts: 2,
      bcEpochs: 3,
      ppoIters: 0,
      hidden: 16,
      cacheDir: null,
      log: quiet,
    };
    const out = join(dir, 'abr-hls-none');
    const r = await trainAbr({ ...common, select: 'dev-hls', hlsRefetch: 'none', hlsAbandon: DEFAULT_ABANDON, out });
    // the kept score is the held-out trace (the 4th) played in the hls mode with exactly these semantics
    const play = (o: Partial<HlsVodOptions>) => runHlsVod(new DrlPolicy(r.model), traces[3], { sizes: videoSizes, chunks: 30, ...o });
    const none = play({ refetch: 'none', abandonRule: DEFAULT_ABANDON });
    const up = play({ refetch: 'up', abandonRule: null });
    expect(none.qoeChunk).not.toBe(up.qoeChunk); // the semantics change this policy's score on this trace
    expect(r.trainingSetQoePerChunk).toBeCloseTo(none.qoeChunk, 9);
    const rec = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
    expect(rec.hls_refetch).toBe('none');
    expect(rec.hls_abandon).toEqual(DEFAULT_ABANDON);
    r.model.dispose();
    // without hls mode (no hls-mode environment, Pensieve selection) the semantics are recorded as unused
    const out2 = join(dir, 'abr-hls-unused');
    (await trainAbr({ ...common, hlsRefetch: 'none', hlsAbandon: DEFAULT_ABANDON, out: out2 })).model.dispose();
    const rec2 = JSON.parse(readFileSync(join(out2, 'train.json'), 'utf8'));
    expect([rec2.hls_refetch, rec2.hls_abandon]).toEqual([null, null]);
    // unknown semantics are refused before any work
    await expectAsync(trainAbr({ ...common, hlsAbandon: { ...DEFAULT_ABANDON, minGainS: 0 }, out })).toBeRejectedWithError(
      InputError,
      /hlsAbandon: .*minGainS/,
    );
    await expectAsync(trainAbr({ ...common, select: 'dev-hls', hlsRefetch: 'sometimes' as 'none', out })).toBeRejectedWithError(
      InputError,
      /hlsRefetch/,
    );
  });

  it('train:abr — PPO starts from the imitation epoch the selection kept, not the last one', async () => {
    const BC_EPOCHS = 15;
    // the dev-hls selection scores imitation in another simulator than the one it imitates in, so the best epoch is
    // not the last (session 13: 0.9146 at bc15, 0.6395 at bc60); a critic-only first iteration shows where PPO started
    const { traces, videoSizes } = swingFixture();
    const common = {
      traces,
      videoSizes,
      hlsSizes: videoSizes,
      select: 'dev-hls' as const,
      hlsRefetch: 'none' as const,
      hlsAbandon: DEFAULT_ABANDON,
      seed: 2,
      starts: 2,
      bcEpochs: BC_EPOCHS,
      hidden: 16,
      envs: 2,
      rollout: 16,
      cacheDir: null,
      log: quiet,
    };
    const lines: string[] = [];
    const imitation = await trainAbr({ ...common, ppoIters: 0, out: join(dir, 'abr-bc-only'), log: (l) => lines.push(l) });
    // the premise: the selection kept an earlier epoch, whose score is above the last one's (printed by the trainer)
    expect(imitation.selected).toMatch(/^bc\d+$/);
    expect(imitation.selected).not.toBe(`bc${BC_EPOCHS}`);
    const lastLine = lines.find((l) => l.includes(`imitation epoch ${BC_EPOCHS}/${BC_EPOCHS}:`));
    const last = Number(/QoE\/chunk (-?[\d.]+)/.exec(lastLine ?? '')?.[1]);
    expect(imitation.trainingSetQoePerChunk - last).toBeGreaterThan(0.1);
    imitation.model.dispose();
    const ppo = await trainAbr({ ...common, ppoIters: 1, valueWarmup: 1, evalEvery: 1, out: join(dir, 'abr-bc-ppo') });
    // iteration 1 moves only the critic: its score is the actor PPO started from
    expect(ppo.history.length).toBe(1);
    expect(ppo.history[0].training_set).toBeCloseTo(imitation.trainingSetQoePerChunk, 9);
    ppo.model.dispose();
  });

  it("train:abr — select 'training-synth' scores every training trace pooled with the mix's selection traces; bad mixes are refused", async () => {
    const traces = [1.2, 3, 0.6, 2, 5].map((mbps, k) => ({
      name: `pool_${k}`,
      time: Array.from({ length: 60 }, (_, i) => i),
      bw: Array.from({ length: 60 }, (_, i) => mbps * (1 + 0.5 * Math.sin(i / 3 + k))),
    }));
    const videoSizes = VIDEO_BIT_RATE_KBPS.map((kbps) =>
      Array.from({ length: TOTAL_CHUNKS }, (_, i) => kbps * 500 * (1 + 0.2 * Math.cos(i))),
    );
    const common = { traces, videoSizes, starts: 1, bcEpochs: 2, ppoIters: 0, hidden: 16, cacheDir: null, log: quiet };
    const out = join(dir, 'abr-mix');
    const mix = [
      { family: 'step-fast' as const, count: 2 },
      { family: 'markov-fast' as const, count: 3 },
    ];
    const r = await trainAbr({ ...common, syntheticMix: mix, select: 'training-synth', out });
    // selection traces: indexes count..count+⌈count/2⌉−1 of each family (never the ones PPO plays)
    const selecting = [syntheticTrace('step-fast', 2), syntheticTrace('markov-fast', 3), syntheticTrace('markov-fast', 4)];
    const pooled = runPolicy(new DrlPolicy(r.model), [...traces, ...selecting], videoSizes);
    expect(r.trainingSetQoePerChunk).toBeCloseTo(mean(pooled.map((x) => x.qoeSum)) / (TOTAL_CHUNKS - 1), 9);
    const onlyTraining = runPolicy(new DrlPolicy(r.model), traces, videoSizes);
    expect(mean(onlyTraining.map((x) => x.qoeSum)) / (TOTAL_CHUNKS - 1)).not.toBeCloseTo(r.trainingSetQoePerChunk, 3);
    const rec = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
    expect(rec.select).toBe('training-synth');
    expect(rec.synthetic_mix).toEqual(mix);
    r.model.dispose();
    // the held-out families, markov-train (that is --synthetic), a repeated family, a zero count, and the selection without a mix
    for (const bad of [
      [{ family: 'walk-hi', count: 2 }],
      [{ family: 'markov-train', count: 2 }],
      [mix[0], mix[0]],
      [{ family: 'step-fast', count: 0 }],
    ])
      await expectAsync(trainAbr({ ...common, syntheticMix: bad as typeof mix, select: 'training-synth', out })).toBeRejectedWithError(
        InputError,
        /syntheticMix/,
      );
    await expectAsync(trainAbr({ ...common, select: 'training-synth', out })).toBeRejectedWithError(InputError, /training-synth/);
  });

  it('train:profile — a small population; the written model and norm predict finite profiles', async () => {
    const out = join(dir, 'profile');
    const r = await trainProfile({ epochs: 2, population: { viewers: 80, channels: 60, days: 6 }, batch: 64, out, log: quiet });
    expect(r.history.length).toBe(2);
    expect(r.history[1].loss).toBeLessThan(r.history[0].loss);
    for (const f of ['model.json', 'weights.bin', 'norm.json', 'train.json']) expect(existsSync(join(out, f))).toBeTrue();
    const m = await loadModel(out);
    const norm = JSON.parse(readFileSync(join(out, 'norm.json'), 'utf8')) as ProfileNorm;
    const data = buildRequests(simulatePopulation({ viewers: 80, channels: 60, days: 6 }).watches);
    const rows = [0, 1, 2, data.n - 1];
    const p = predictProfile(tf, m, norm, data.x, rows);
    expect(p.length).toBe(rows.length * 3);
    expect(Array.from(p).every(Number.isFinite)).toBeTrue();
    // the same weights as the returned model: equal predictions
    expect(Array.from(predictProfile(tf, r.model, r.norm, data.x, rows))).toEqual(Array.from(p));
    m.dispose();
    r.model.dispose();
  });

  it('train:viewport — rotating viewers; the model learns and writes a loadable position model', async () => {
    // viewers turning at constant yaw rates (5 Hz, 24 s): the future is the past's continuation
    const trace = (video: string, user: number, split: string): ViewportTrace => {
      const rate = (user % 2 ? 1 : -1) * (10 + 3 * user); // deg/s
      const xyz: number[] = [];
      for (let i = 0; i < 120; i++) xyz.push(...fromYawPitch(((i * 0.2 * rate + 180) % 360) - 180, 10 * Math.sin(i / 15)));
      return { dataset: 'synthetic', video, user: String(user), split, derived: false, t0: 0, xyz: Float64Array.from(xyz) };
    };
    const train = [0, 1, 2, 3, 4, 5].map((u) => trace('v1', u, 'train'));
    const dev = [6, 7].map((u) => trace('v2', u, 'dev'));
    const out = join(dir, 'vp');
    const r = await trainViewport({ traces: { train, dev }, only: 'position', epochs: 3, batch: 32, hidden: 16, outDir: out, log: quiet });
    expect(r.length).toBe(1);
    expect(r[0].name).toBe('viewport');
    const h = r[0].history as Array<{ train_loss_deg: number }>;
    expect(h[2].train_loss_deg).toBeLessThan(h[0].train_loss_deg);
    expect(r[0].devMeanDeg).toBeLessThan(r[0].noMotionDevMeanDeg);
    const m = await loadModel(join(out, 'viewport'));
    expect(m.inputs[0].shape).toEqual([null, inputSize(false)]);
    m.dispose();
  });
});

describe('command lines (src/train/cli/args.ts)', () => {
  const cli = {
    name: 'train:test',
    summary: 'test',
    flags: {
      seed: { type: 'string', default: '1', arg: 'N', help: 'seed' },
      init: { type: 'string', arg: 'DIR', help: 'resume' },
      'fresh-critic': { type: 'boolean', help: 'fresh' },
    },
  } as const;

  it('parses flags with parseArgs, defaults included, and rejects unknown flags, missing values and positionals', () => {
    expect(parseCli(cli, [])).toEqual({ seed: '1', 'fresh-critic': false });
    expect(parseCli(cli, ['--seed', '7', '--init=models/x', '--fresh-critic'])).toEqual({
      seed: '7',
      init: 'models/x',
      'fresh-critic': true,
    });
    expect(() => parseCli(cli, ['--sead', '7'])).toThrowError(InputError, /--sead/);
    expect(() => parseCli(cli, ['--seed'])).toThrowError(InputError, /--seed/);
    expect(() => parseCli(cli, ['stray'])).toThrowError(InputError, /stray/);
    expect(num('seed', '7', { integer: true })).toBe(7);
    expect(() => num('seed', 'x')).toThrowError(InputError, /--seed: expected a number/);
    expect(() => num('seed', '1.5', { integer: true })).toThrowError(InputError, /integer/);
    expect(() => oneOf('setting', 'huge', ['fat', 'mid'])).toThrowError(InputError, /one of fat, mid/);
  });

  it("records an empty or spaced argument quoted, so the recorded command reproduces ('--baselines' '' was lost: exit 2 on a re-run)", () => {
    const rec = commandLine('bench:part-sizes', ['--baselines', '', '--no-mape', '--note', "a b's", '--out', 'x.json'], process.cwd());
    expect(rec).toBe(`npm run bench:part-sizes -- --baselines '' --no-mape --note 'a b'\\''s' --out x.json`);
    // the shell gives back the arguments as typed
    const back = spawnSync('sh', ['-c', `for a in ${rec.slice('npm run bench:part-sizes -- '.length)}; do printf '[%s]' "$a"; done`], {
      encoding: 'utf8',
    }).stdout;
    expect(back).toBe("[--baselines][][--no-mape][--note][a b's][--out][x.json]");
  });

  it('records absolute paths inside a checkout of the project relative to its root (this one or another worktree), others as typed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmdline-'));
    try {
      const pkg = (d: string, name: string) => {
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'package.json'), JSON.stringify({ name }));
      };
      const here = join(dir, 'copy'); // the checkout the trainer runs in
      const other = join(dir, 'wt-12'); // another worktree of the same project
      pkg(here, 'edgeplay');
      pkg(other, 'edgeplay');
      pkg(join(dir, 'elsewhere'), 'not-edgeplay');
      const argv = [
        '--out',
        join(other, 'models', 'cdn-lts'),
        `--init=${join(here, 'models', 'cdn-lts', 'mechanistic-ABC.json')}`,
        '--learned-dir',
        join(dir, 'elsewhere', 'm'),
        '--sets',
        'ABC',
        '--data',
        here,
        '--log',
        '/nonexistent-root/x.json',
        '--policies',
        `robustmpc,drl:${join(here, 'models', 'abr-drl-player')}`,
      ];
      expect(commandLine('train:cdn', argv, here)).toBe(
        `npm run train:cdn -- --out models/cdn-lts --init=models/cdn-lts/mechanistic-ABC.json --learned-dir ${join(dir, 'elsewhere', 'm')} --sets ABC --data . --log /nonexistent-root/x.json --policies robustmpc,drl:models/abr-drl-player`,
      );
      expect(commandLine('train:cdn', [], here)).toBe('npm run train:cdn --');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the trainer and benchmark entry points answer --help and exit 2 on a bad flag', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const help = spawnSync(tsx, ['src/train/cli/edge.ts', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--setting fat|mid|thin');
    expect(help.stdout).toContain('--fresh-critic');
    const bad = spawnSync(tsx, ['bench/cli/edge.ts', '--seeds', 'many'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--seeds: expected a number, got "many"');
    const unknown = spawnSync(tsx, ['src/train/cli/abr.ts', '--ppo-iter', '3'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--ppo-iter'");
  });

  // session 9: the defaults had become the candidate search (our encodes, every weighting, the slope adaptation) while
  // --out stayed models/part-size, so the documented bare command overwrote the shipped head with the candidate
  // session 10: the shipped head gained per-rate-control slopes fitted on the train encodes (--rate-control cbr+vbr)
  // session 11: and head forms and share EWMAs per class (--forms, --class-alphas)
  it("train:part-size's defaults fit the shipped head's configuration into models/part-size: per-rate-control slopes from the encodes, point weighting, no adaptation", () => {
    const help = spawnSync(join('node_modules', '.bin', 'tsx'), ['src/train/cli/part-size.ts', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ *--encodes DIR .*\(default: bench\/coding-meta\)$/m);
    expect(help.stdout).toMatch(/^ *--rate-control LIST .*\(default: cbr\+vbr\)$/m);
    expect(help.stdout).toMatch(/^ *--weightings LIST .*\(default: points\)$/m);
    expect(help.stdout).toMatch(/^ *--adapt LIST .*\(default: \)$/m);
    // session 11: the class slopes choose their head form and share EWMA on each class's dev streams
    expect(help.stdout).toMatch(
      /^ *--forms LIST .*\(default: linear,hinge,hinge\+nominal,mean\+linear,mean\+hinge,mean\+hinge\+nominal\)$/m,
    );
    expect(help.stdout).toMatch(/^ *--class-alphas LIST .*\(default: 0\.1,0\.3,0\.6\)$/m);
    expect(help.stdout).toMatch(/^ *--out DIR .*\(default: models\/part-size\)$/m);
  });

  it('bench:cdn and train:cdn-sim (module-level scripts, parseCliOrExit) answer --help and exit 2 on an unknown flag before any work', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const scripts = [
      { file: 'bench/cdn.ts', name: 'bench:cdn', flag: '--learned-dir DIR', unknown: '--polices' },
      { file: 'src/train/cdn-sim.ts', name: 'train:cdn-sim', flag: '--clamp-margin X', unknown: '--epoch' },
    ];
    for (const s of scripts) {
      const help = spawnSync(tsx, [s.file, '--help'], { encoding: 'utf8' });
      expect(help.status).withContext(s.name).toBe(0);
      expect(help.stdout).toContain(`usage: npm run ${s.name} -- [options]`);
      expect(help.stdout).toContain(s.flag);
      expect(help.stderr).withContext(s.name).toBe('');
      const bad = spawnSync(tsx, [s.file, s.unknown, '3'], { encoding: 'utf8' });
      expect(bad.status).withContext(s.name).toBe(2);
      expect(bad.stderr).toContain(`${s.name}: Unknown option '${s.unknown}'`);
      expect(bad.stdout).withContext(s.name).toBe(''); // nothing ran
      const stray = spawnSync(tsx, [s.file, 'extra'], { encoding: 'utf8' });
      expect(stray.status).withContext(s.name).toBe(2);
      expect(stray.stderr).toContain(`${s.name}: Unexpected argument 'extra'`);
    }
  });

  it('bench:cdn, train:cdn-sim and train:cdn refuse a bad flag value with exit 2 before any work (no zero-epoch fit over models/cdn-sim)', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const cases = [
      { argv: ['src/train/cdn-sim.ts', '--epochs', '1O'], err: 'train:cdn-sim: --epochs: expected a number, got "1O"' },
      { argv: ['src/train/cdn-sim.ts', '--units', '16'], err: 'train:cdn-sim: --units: two LSTM sizes N1,N2, got "16"' },
      { argv: ['src/train/cdn-sim.ts', '--batch', '0'], err: 'train:cdn-sim: --batch: must be at least 1, got "0"' },
      { argv: ['bench/cdn.ts', '--cdns', '5'], err: 'bench:cdn: --cdns: must be at most 4, got "5"' },
      { argv: ['bench/cdn.ts', '--policies', 'lts,bogus'], err: 'bench:cdn: --policies: one of equal, wrr,' },
      { argv: ['bench/cdn.ts', '--sim', 'fluid'], err: 'bench:cdn: --sim: one of piecewise, mechanistic, learned' },
      { argv: ['bench/cdn.ts', '--days', '3,x'], err: 'bench:cdn: --days: x is not a day in 0..' },
      { argv: ['bench/cdn.ts', '--validate', '--policies', 'bogus'], err: 'bench:cdn: --policies: one of' },
      { argv: ['src/train/cli/cdn.ts', '--randomise-scale', '2,1'], err: 'train:cdn: --randomise-scale: expected 0 < LO ≤ HI, got "2,1"' },
      { argv: ['src/train/cli/cdn.ts', '--randomise-scale', '1'], err: 'train:cdn: --randomise-scale: expected LO,HI, got "1"' },
      {
        argv: ['src/train/cli/cdn.ts', '--sim', 'piecewise', '--randomise-weights', '0.5'],
        err: 'train:cdn: randomisation is for the mechanistic simulator, not piecewise',
      },
    ];
    for (const c of cases) {
      // the timeout only bounds a failure: without the checks, train:cdn-sim starts its logs and fit
      const r = spawnSync(tsx, c.argv, { encoding: 'utf8', timeout: 60000 });
      expect(r.status).withContext(c.argv.join(' ')).toBe(2);
      expect(r.stderr).withContext(c.argv.join(' ')).toContain(c.err);
      expect(r.stdout).withContext(c.argv.join(' ')).toBe(''); // nothing ran
    }
  });
});
