/**
 * `npm run train:live-abr -- [--seed 1] [--iters 300] [--bc-sessions 400] [--bc-epochs 30] [--sizes models/chunk-size]
 *                            [--encodes bench/coding-meta] [--out models/live-abr-drl]`
 *
 * Trains the latency-aware DRL live policy (src/abr/live-drl.ts) in the live simulator (src/sim/abr/live.ts)
 * with the learned chunk-size forecaster's predictions in its state:
 *  1. imitation warm start: live RobustMPC (on the same predicted sizes) plays random sessions — a random
 *     *training* video of the shared chunk dataset (and of our encodes when present), a random *training*
 *     Pensieve trace from a random point — and the actor learns its choices;
 *  2. PPO (clipped, GAE; the critic alone for the first `--value-warmup` iterations) in the noisy environment (each part's bytes x U[0.9, 1.1)), reward = the chunk's
 *     live QoE (core/live-qoe.ts) / (D x the ladder's top kbps), 16 sessions in parallel.
 * The checkpoint is selected on a validation set that never touches the test traces: every 7th training trace
 * (by name) x the *dev* videos. The PPO update is one isolated function (`ppoUpdate`) so that it can move to
 * the shared src/train/ppo.ts once that lands. Writes <out>/{model.json, weights.bin, train.json}.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { LiveBufferBased, LiveRobustMpc, type LiveObservation } from '../abr/live.js';
import { MeanOfPast } from '../abr/size-forecast.js';
import { LIVE_FEATURES, LIVE_GLOBAL, LIVE_RMAX, LiveDrlPolicy, buildLiveDrl, denseArrays, liveFeatures } from '../abr/live-drl.js';
import { LearnedSizeForecaster } from '../abr/size-model.js';
import { loadChunkDataset, loadSizeNet, type ChunkVideo } from '../sim/abr/chunks.js';
import { ForecastSizes, LiveSession, runLiveSession, type LiveVideo, type SizeSource } from '../sim/abr/live.js';
import { dataRoot, loadTraceDir } from '../sim/abr/load.js';
import type { SimTrace } from '../sim/abr/env.js';
import { saveModel } from './io.js';

const { values: a } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    iters: { type: 'string', default: '300' },
    'bc-sessions': { type: 'string', default: '400' },
    'bc-epochs': { type: 'string', default: '10' },
    'value-warmup': { type: 'string', default: '20' },
    'ppo-lr': { type: 'string', default: '3e-5' },
    rollout: { type: 'string', default: '48' },
    entropy: { type: 'string', default: '0.005' },
    'eval-every': { type: 'string', default: '20' },
    'session-s': { type: 'string', default: '120' },
    'target-latency': { type: 'string', default: '3' },
    sizes: { type: 'string', default: 'models/chunk-size' },
    'tune-bb': { type: 'boolean', default: false },
    encodes: { type: 'string', default: 'bench/coding-meta' },
    out: { type: 'string', default: 'models/live-abr-drl' },
  },
});
const SEED = Number(a.seed);
const ITERS = Number(a.iters);
const SESSION_S = Number(a['session-s']);
const TARGET = Number(a['target-latency']);
const OUT = resolve(a.out!);
const t0 = Date.now();
const log = (s: string) => console.log(`[train:live-abr +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
const rng = mulberry32(SEED);
/** seeded Fisher-Yates permutation of 0..n-1 (tf.util's shuffle uses Math.random) */
function shuffled(n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

const root = dataRoot();
const chunksDir = join(root, 'chunks');
const tracesDir = join(root, 'abr', 'traces', 'train');
if (!existsSync(join(chunksDir, 'index.csv')) || !existsSync(tracesDir)) {
  console.error(`needs ${chunksDir} and ${tracesDir} (set EDGEPLAY_DATA)`);
  process.exit(2);
}
const encDir = resolve(a.encodes!);
const haveEnc = existsSync(join(encDir, 'index.csv'));
const trainVideos: ChunkVideo[] = [...loadChunkDataset(chunksDir, ['train']), ...(haveEnc ? loadChunkDataset(encDir, ['train']) : [])];
const devVideos: ChunkVideo[] = [...loadChunkDataset(chunksDir, ['dev']), ...(haveEnc ? loadChunkDataset(encDir, ['dev']) : [])];
const allTraces = loadTraceDir(tracesDir);
const trainTraces = allTraces.filter((_, i) => i % 7 !== 3);
const validTraces = allTraces.filter((_, i) => i % 7 === 3);
const sizeNet = loadSizeNet(resolve(a.sizes!));
log(
  `${trainVideos.length} training videos, ${devVideos.length} dev videos, ${trainTraces.length} training traces, ${validTraces.length} validation traces (from the training set); sizes from ${a.sizes}`,
);

const asLive = (v: ChunkVideo): LiveVideo => ({
  name: `${v.source}/${v.video}`,
  ladderKbps: v.ladderKbps,
  chunkS: v.chunkS,
  sizes: v.sizes,
  meta: v.meta,
});
/** long enough, and a ladder the Pensieve traces (0.1-4.6 Mbps) can carry: top rung <= 10 Mbps (drops the 4K clips) */
const usable = (v: ChunkVideo) => v.sizes.length >= 12 && Math.max(...v.ladderKbps) <= 10000;
/** predicted sizes of every video, computed once */
const sources = new Map<ChunkVideo, SizeSource>();
const sourceOf = (v: ChunkVideo) => {
  let s = sources.get(v);
  if (!s) sources.set(v, (s = new ForecastSizes(asLive(v), new LearnedSizeForecaster(sizeNet), 5, 'predicted')));
  return s;
};
for (const v of [...trainVideos, ...devVideos]) if (usable(v)) sourceOf(v);
log('size forecasts of every training and dev video computed');

const trainPool = trainVideos.filter(usable);
const sessionChunks = (v: ChunkVideo) => Math.min(Math.floor(SESSION_S / v.chunkS), v.sizes.length - 6);

/** A random training session: video, trace, start chunk, trace pointer. */
function randomSession(noise: boolean): LiveSession {
  const v = trainPool[Math.floor(rng() * trainPool.length)];
  const tr = trainTraces[Math.floor(rng() * trainTraces.length)];
  const chunks = sessionChunks(v);
  const start = 5 + Math.floor(rng() * Math.max(1, v.sizes.length - 5 - chunks));
  const ptr = 1 + Math.floor(rng() * (tr.bw.length - 1));
  return new LiveSession(asLive(v), tr, sourceOf(v), {
    startChunk: start,
    chunks,
    targetLatencyS: TARGET,
    tracePtr: ptr,
    noise: noise ? () => 0.9 + 0.2 * rng() : undefined,
  });
}

/** validation sessions: every validation trace with 3 dev videos, deterministic */
const validSet: Array<{ v: ChunkVideo; tr: SimTrace; start: number; chunks: number }> = [];
validTraces.forEach((tr, i) => {
  for (let k = 0; k < 3; k++) {
    const v = devVideos.filter(usable)[(3 * i + k) % devVideos.filter(usable).length];
    const chunks = sessionChunks(v);
    const start = 5 + ((i * 37 + k * 11) % Math.max(1, v.sizes.length - 5 - chunks));
    validSet.push({ v, tr, start, chunks });
  }
});
/** mean QoE per media second (Mbps-equivalent) of a policy on the validation sessions */
function validate(policy: import('../abr/live.js').LivePolicy): number {
  let q = 0;
  for (const s of validSet) {
    const r = runLiveSession(policy, asLive(s.v), s.tr, sourceOf(s.v), { startChunk: s.start, chunks: s.chunks, targetLatencyS: TARGET });
    q += r.qoe.total / r.mediaS / 1000;
  }
  return q / validSet.length;
}

await tf.setBackend('wasm');
await tf.ready();
const { actor, critic } = buildLiveDrl(tf, 64, SEED);
const policyNow = () => new LiveDrlPolicy(denseArrays(actor, ['s1', 's2', 'score']));
log(`validation: robustmpc ${validate(new LiveRobustMpc()).toFixed(4)} QoE/s on ${validSet.length} sessions`);

if (a['tune-bb']) {
  // the live BB's reservoir / cushion (x target latency): a grid on 80 training sessions, mean-of-past sizes
  const grid = mulberry32(5);
  const sess = Array.from({ length: 80 }, () => {
    const v = trainPool[Math.floor(grid() * trainPool.length)];
    const tr = trainTraces[Math.floor(grid() * trainTraces.length)];
    const chunks = sessionChunks(v);
    const start = 5 + Math.floor(grid() * Math.max(1, v.sizes.length - 5 - chunks));
    return { v, tr, chunks, start, ptr: 1 + Math.floor(grid() * (tr.bw.length - 1)) };
  });
  const means = new Map<ChunkVideo, SizeSource>();
  for (const res of [0.1, 0.2, 0.3, 0.4, 0.6, 1, 1.5])
    for (const cush of [0.2, 0.4, 0.6, 1, 1.5, 2.5, 4]) {
      let q = 0;
      for (const s of sess) {
        if (!means.has(s.v)) means.set(s.v, new ForecastSizes(asLive(s.v), new MeanOfPast(), 5, 'mean'));
        const r = runLiveSession(
          new LiveBufferBased({ reservoirS: res * TARGET, cushionS: cush * TARGET }),
          asLive(s.v),
          s.tr,
          means.get(s.v)!,
          {
            startChunk: s.start,
            chunks: s.chunks,
            tracePtr: s.ptr,
            targetLatencyS: TARGET,
          },
        );
        q += r.qoe.total / r.mediaS / 1000;
      }
      log(`bb reservoir ${res} T, cushion ${cush} T: training QoE/s ${(q / sess.length).toFixed(4)}`);
    }
}

const X1 = LIVE_RMAX * LIVE_FEATURES;
const featBuf = new Float32Array(X1);
const maskBuf = new Float32Array(LIVE_RMAX);
function featurize(o: LiveObservation, x: Float32Array, m: Float32Array, g: Float32Array, i: number): void {
  liveFeatures(o, featBuf, maskBuf);
  x.set(featBuf, i * X1);
  m.set(maskBuf, i * LIVE_RMAX);
  g.set(featBuf.subarray(0, LIVE_GLOBAL), i * LIVE_GLOBAL);
}
/** masked logits [S, RMAX] */
function logitsOf(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const s = (actor.apply(x) as tf.Tensor).squeeze([2]);
  return tf.add(s, tf.mul(tf.sub(mask, 1), 1e9));
}

let best = { score: -Infinity, stage: '', weights: [] as tf.Tensor[] };
const keepBest = (stage: string) => {
  const score = validate(policyNow());
  if (score > best.score) {
    best.weights.forEach((w) => w.dispose());
    best = { score, stage, weights: actor.getWeights().map((w) => w.clone()) };
  }
  return score;
};

// ---------- 1. imitation of live RobustMPC ----------
const BC_SESSIONS = Number(a['bc-sessions']);
const BC_EPOCHS = Number(a['bc-epochs']);
if (BC_SESSIONS > 0) {
  const xs: Float32Array[] = [];
  const ms: Float32Array[] = [];
  const ys: number[] = [];
  for (let s = 0; s < BC_SESSIONS; s++) {
    const sess = randomSession(false);
    const mpc = new LiveRobustMpc();
    mpc.start(sess.video.ladderKbps);
    sess.step(0);
    while (!sess.done) {
      const o = sess.observation();
      const q = mpc.decide(o);
      liveFeatures(o, featBuf, maskBuf);
      xs.push(featBuf.slice());
      ms.push(maskBuf.slice());
      ys.push(q);
      sess.step(q);
    }
    if ((s + 1) % 100 === 0) log(`imitation data: ${s + 1}/${BC_SESSIONS} sessions, ${ys.length} decisions`);
  }
  const n = ys.length;
  const X = tf.tensor3d(Float32Array.from(xs.flatMap((x) => Array.from(x))), [n, LIVE_RMAX, LIVE_FEATURES]);
  const M = tf.tensor2d(Float32Array.from(ms.flatMap((x) => Array.from(x))), [n, LIVE_RMAX]);
  const Y = tf.oneHot(tf.tensor1d(Int32Array.from(ys), 'int32'), LIVE_RMAX);
  const opt = tf.train.adam(1e-3);
  const B = 256;
  for (let ep = 0; ep < BC_EPOCHS; ep++) {
    const idx = shuffled(n);
    let lossSum = 0;
    let nb = 0;
    for (let s0 = 0; s0 < n; s0 += B) {
      const ids = tf.tensor1d(Int32Array.from(idx.slice(s0, s0 + B)), 'int32');
      const loss = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), logitsOf(tf.gather(X, ids), tf.gather(M, ids))) as tf.Scalar,
        true,
      );
      lossSum += loss!.dataSync()[0];
      loss!.dispose();
      ids.dispose();
      nb++;
    }
    if (ep % 5 === 4 || ep === BC_EPOCHS - 1)
      log(
        `imitation epoch ${ep + 1}/${BC_EPOCHS}: loss ${(lossSum / nb).toFixed(4)}, validation QoE/s ${keepBest(`bc${ep + 1}`).toFixed(4)}`,
      );
  }
  tf.dispose([X, M, Y]);
  actor.setWeights(best.weights);
}

// ---------- 2. PPO ----------
interface Batch {
  x: Float32Array;
  m: Float32Array;
  g: Float32Array;
  act: Int32Array;
  logp: Float32Array;
  adv: Float32Array;
  ret: Float32Array;
  n: number;
}
const ppoOpt = tf.train.adam(Number(a['ppo-lr']));
const valueOpt = tf.train.adam(1e-3);
const ENT = Number(a.entropy);
const CLIP = 0.2;
const TARGET_KL = 0.01;

/**
 * One PPO update (Schulman et al. 2017): up to 4 epochs of clipped-surrogate actor steps on minibatches of
 * 256 with an entropy bonus, stopped early when the approximate KL to the rollout policy exceeds 1.5 x 0.01;
 * the critic is fitted to the returns with its own optimiser (alone with `criticOnly`, the warm-up). Isolated
 * so the shared src/train/ppo.ts can replace it. Returns the epochs run and the last KL estimate.
 */
function ppoUpdate(b: Batch, criticOnly = false): { epochs: number; kl: number } {
  const X = tf.tensor3d(b.x, [b.n, LIVE_RMAX, LIVE_FEATURES]);
  const M = tf.tensor2d(b.m, [b.n, LIVE_RMAX]);
  const G = tf.tensor2d(b.g, [b.n, LIVE_GLOBAL]);
  const A = tf.tensor1d(b.act, 'int32');
  const LP = tf.tensor1d(b.logp);
  const ADV = tf.tensor1d(b.adv);
  const RET = tf.tensor1d(b.ret);
  const MB = 256;
  let epochs = 4;
  let kl = 0;
  for (let ep = 0; ep < 4; ep++) {
    if (ep > 0 && !criticOnly) {
      kl = tf.tidy(() => {
        const lp = tf.sum(tf.mul(tf.logSoftmax(logitsOf(X, M)), tf.oneHot(A, LIVE_RMAX)), 1);
        return tf.mean(tf.sub(LP, lp)).dataSync()[0];
      });
      if (kl > 1.5 * TARGET_KL) {
        epochs = ep;
        break;
      }
    }
    const idx = shuffled(b.n);
    for (let s0 = 0; s0 < b.n; s0 += MB) {
      const ids = tf.tensor1d(Int32Array.from(idx.slice(s0, s0 + MB)), 'int32');
      if (!criticOnly)
        ppoOpt.minimize(
          () => {
            const lsm = tf.logSoftmax(logitsOf(tf.gather(X, ids), tf.gather(M, ids)));
            const lp = tf.sum(tf.mul(lsm, tf.oneHot(tf.gather(A, ids), LIVE_RMAX)), 1);
            const ratio = tf.exp(tf.sub(lp, tf.gather(LP, ids)));
            const ad = tf.gather(ADV, ids);
            const pg = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, ad), tf.mul(tf.clipByValue(ratio, 1 - CLIP, 1 + CLIP), ad))));
            const p = tf.exp(lsm);
            const ent = tf.neg(tf.mean(tf.sum(tf.mul(p, lsm), 1))); // padded rungs: p = 0, log p = -1e9 (finite)
            return tf.sub(pg, tf.mul(ent, ENT)) as tf.Scalar;
          },
          false,
          actor.trainableWeights.map((w) => w.read() as tf.Variable),
        );
      valueOpt.minimize(
        () => {
          const v = (critic.apply(tf.gather(G, ids)) as tf.Tensor).squeeze([1]);
          return tf.mean(tf.square(tf.sub(v, tf.gather(RET, ids)))) as tf.Scalar;
        },
        false,
        critic.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      ids.dispose();
    }
  }
  tf.dispose([X, M, G, A, LP, ADV, RET]);
  return { epochs, kl };
}

const VALUE_WARMUP = Number(a['value-warmup']);
const N_ENV = 16;
const T = Number(a.rollout);
const GAMMA = 0.97;
const LAMBDA = 0.95;
const envs: LiveSession[] = Array.from({ length: N_ENV }, () => {
  const s = randomSession(true);
  s.step(0);
  return s;
});
const hist: Array<{ iter: number; reward: number; validation: number }> = [];
log(`PPO: ${ITERS} iterations x ${N_ENV} sessions x ${T} chunks, entropy ${ENT}`);
let rewAcc = 0;
let rewN = 0;
for (let it = 1; it <= ITERS; it++) {
  const S = N_ENV * T;
  const x = new Float32Array(S * X1);
  const m = new Float32Array(S * LIVE_RMAX);
  const g = new Float32Array(S * LIVE_GLOBAL);
  const act = new Int32Array(S);
  const logp = new Float32Array(S);
  const rew = new Float32Array(S);
  const done = new Uint8Array(S);
  const val = new Float32Array((T + 1) * N_ENV);
  const cx = new Float32Array(N_ENV * X1);
  const cm = new Float32Array(N_ENV * LIVE_RMAX);
  const cg = new Float32Array(N_ENV * LIVE_GLOBAL);
  for (let t = 0; t <= T; t++) {
    for (let e = 0; e < N_ENV; e++) featurize(envs[e].observation(), cx, cm, cg, e);
    const [probs, v] = tf.tidy(() => {
      const lg = logitsOf(tf.tensor3d(cx, [N_ENV, LIVE_RMAX, LIVE_FEATURES]), tf.tensor2d(cm, [N_ENV, LIVE_RMAX]));
      const vv = critic.apply(tf.tensor2d(cg, [N_ENV, LIVE_GLOBAL])) as tf.Tensor;
      return [tf.softmax(lg).dataSync() as Float32Array, vv.dataSync() as Float32Array];
    });
    for (let e = 0; e < N_ENV; e++) val[t * N_ENV + e] = v[e];
    if (t === T) break;
    for (let e = 0; e < N_ENV; e++) {
      const i = t * N_ENV + e;
      x.set(cx.subarray(e * X1, (e + 1) * X1), i * X1);
      m.set(cm.subarray(e * LIVE_RMAX, (e + 1) * LIVE_RMAX), i * LIVE_RMAX);
      g.set(cg.subarray(e * LIVE_GLOBAL, (e + 1) * LIVE_GLOBAL), i * LIVE_GLOBAL);
      let u = rng();
      let q = 0;
      for (; q < LIVE_RMAX - 1; q++) if ((u -= probs[e * LIVE_RMAX + q]) <= 0) break;
      while (cm[e * LIVE_RMAX + q] === 0) q--; // never a padded rung
      act[i] = q;
      logp[i] = Math.log(Math.max(probs[e * LIVE_RMAX + q], 1e-8));
      const env = envs[e];
      const terms = env.step(q);
      const kMax = env.video.ladderKbps[env.video.ladderKbps.length - 1];
      rew[i] = terms.total / (env.D * kMax);
      rewAcc += rew[i];
      rewN++;
      if (env.done) {
        done[i] = 1;
        envs[e] = randomSession(true);
        envs[e].step(0);
      }
    }
  }
  const adv = new Float32Array(S);
  const ret = new Float32Array(S);
  for (let e = 0; e < N_ENV; e++) {
    let gae = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N_ENV + e;
      const nextV = done[i] ? 0 : val[(t + 1) * N_ENV + e];
      const delta = rew[i] + GAMMA * nextV - val[i];
      gae = delta + GAMMA * LAMBDA * (done[i] ? 0 : gae);
      adv[i] = gae;
      ret[i] = gae + val[i];
    }
  }
  let am = 0;
  for (const v of adv) am += v;
  am /= S;
  let as = 0;
  for (const v of adv) as += (v - am) ** 2;
  as = Math.sqrt(as / S) + 1e-8;
  for (let i = 0; i < S; i++) adv[i] = (adv[i] - am) / as;
  // the critic starts untrained: fit it alone first, so the first advantages do not wreck the imitated actor
  const u = ppoUpdate({ x, m, g, act, logp, adv, ret, n: S }, it <= VALUE_WARMUP);
  if (it % Number(a['eval-every']) === 0 || it === ITERS) {
    const score = keepBest(`ppo${it}`);
    hist.push({ iter: it, reward: rewAcc / rewN, validation: score });
    log(
      `PPO iteration ${it}/${ITERS}: reward/chunk ${(rewAcc / rewN).toFixed(4)}, epochs ${u.epochs}, kl ${u.kl.toFixed(4)}, validation QoE/s ${score.toFixed(4)} (best ${best.score.toFixed(4)} at ${best.stage})`,
    );
    rewAcc = 0;
    rewN = 0;
  }
}

actor.setWeights(best.weights);
mkdirSync(OUT, { recursive: true });
await saveModel(actor, OUT);
writeFileSync(
  join(OUT, 'train.json'),
  JSON.stringify(
    {
      command: `npm run train:live-abr -- ${process.argv.slice(2).join(' ')}`.trim(),
      seed: SEED,
      iters: ITERS,
      bc_sessions: BC_SESSIONS,
      bc_epochs: BC_EPOCHS,
      sizes: a.sizes,
      encodes: haveEnc ? encDir : null,
      target_latency_s: TARGET,
      session_s: SESSION_S,
      validation_sessions: validSet.length,
      selected: best.stage,
      validation_qoe_per_s: best.score,
      history: hist,
      seconds: (Date.now() - t0) / 1000,
    },
    null,
    2,
  ) + '\n',
);
log(`selected ${best.stage} (validation QoE/s ${best.score.toFixed(4)}); wrote ${OUT}`);
