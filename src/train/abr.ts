/**
 * `npm run train:abr -- [--seed 1] [--starts 6] [--bc-epochs 60] [--ppo-iters 1200] [--ppo-lr 3e-5] [--out models/abr-drl]`
 *
 * Trains the DRL bitrate policy on the Pensieve training traces only:
 *  1. imitation warm start (as Comyco): an expert — RobustMPC with its look-ahead fixed (default) or the
 *     offline optimum (`--expert optimal`, DP with full knowledge of the trace) — drives the simulator from
 *     random starting points of the training traces; the policy learns its actions from the states along
 *     those trajectories (the dataset is cached in .cache/, so reruns are quick);
 *  1b. (`--dagger N`) N rounds of DAgger with the offline optimum as the teacher (as Comyco's lifelong
 *     imitation): the current policy drives the deterministic simulator on the training traces, every state
 *     it visits is labelled with the optimum's next level from that exact state (DP over the rest of the
 *     session, the trace known), the labels are aggregated across rounds and the actor is refit on them;
 *  2. PPO with the QoE_lin reward in the noisy training environment (env.py semantics), 16 parallel
 *     environments, selecting the best weights on a validation split of the *training* traces.
 * `--init DIR` resumes: PPO starts from a saved model (no imitation).
 * The test traces are never read here. Writes models/abr-drl/{model.json,weights.bin,train.json}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_QUALITY, LEVELS, TOTAL_CHUNKS, qoeLin, type AbrObservation } from '../core/abr.js';
import { DrlPolicy, FEATURES, buildModel, features } from '../abr/drl.js';
import { BufferBased, RobustMpc } from '../abr/baselines.js';
import { AbrEnv, type SimTrace } from '../sim/abr/env.js';
import { mulberry32 } from '../core/random.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../sim/abr/load.js';
import { hindsightQ, optimalForTrace, optimalFromState } from '../sim/abr/optimal.js';
import { mean, observe, runPolicy } from '../sim/abr/run.js';
import { loadModel, saveModel } from './io.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const SEED = Number(arg('seed', '1'));
const STARTS = Number(arg('starts', '6'));
const BC_EPOCHS = Number(arg('bc-epochs', '60'));
const PPO_ITERS = Number(arg('ppo-iters', '1200'));
const OUT = resolve(arg('out', 'models/abr-drl'));
const BUCKET_MS = Number(arg('bucket-ms', '200'));
/** resume: start PPO from a saved model (skips imitation) */
const INIT = arg('init', '');
const VALUE_SCALE = 50;
const EXPERT = arg('expert', 'mpc'); // 'mpc' (RobustMPC, fixed look-ahead) or 'optimal' (DP with full knowledge)
const t0 = Date.now();
const log = (s: string) => console.log(`[train:abr +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);

const abr = join(dataRoot(), 'abr');
if (!existsSync(join(abr, 'traces', 'train'))) {
  console.error(`training traces not found under ${abr}/traces/train (set EDGEPLAY_DATA)`);
  process.exit(2);
}
await tf.setBackend('wasm');
await tf.ready();
const all = loadTraceDir(join(abr, 'traces', 'train'));
const sizes = loadVideoSizes(join(abr, 'video'));
// validation split of the training traces: every 7th trace (by sorted name)
const valid = all.filter((_, i) => i % 7 === 3);
const train = all.filter((_, i) => i % 7 !== 3);
log(`backend ${tf.getBackend()}, ${train.length} training traces, ${valid.length} validation traces (from the training set)`);
const rng = mulberry32(SEED);
/** Seeded Fisher-Yates permutation of 0..n-1 (tf.util's shuffle uses Math.random). */
function shuffled(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

// ---------- 1. imitation dataset from the offline optimum ----------
interface Dataset {
  x: Float32Array;
  y: Int32Array;
  ret: Float32Array;
  n: number;
}
function buildDataset(): Dataset {
  const cache = resolve('.cache', `abr-bc-${EXPERT}-f${FEATURES}-s${SEED}-k${STARTS}-b${BUCKET_MS}.json`);
  if (existsSync(cache)) {
    const j = JSON.parse(readFileSync(cache, 'utf8'));
    log(`imitation dataset from cache: ${j.n} samples (${cache})`);
    return { x: Float32Array.from(j.x), y: Int32Array.from(j.y), ret: Float32Array.from(j.ret), n: j.n };
  }
  const xs: number[] = [];
  const ys: number[] = [];
  const rets: number[] = [];
  const env = new AbrEnv({ traces: train, videoSizes: sizes });
  const buf = new Float32Array(FEATURES);
  let done = 0;
  for (let ti = 0; ti < train.length; ti++) {
    for (let k = 0; k < STARTS; k++) {
      const tr = train[ti];
      const ptr = k === 0 ? 1 : 1 + Math.floor(rng() * (tr.bw.length - 1));
      const opt = EXPERT === 'optimal' ? optimalForTrace(tr, sizes, { bucketMs: BUCKET_MS, startPtr: ptr }) : null;
      const mpc = new RobustMpc(sizes, { fixOffByOne: true });
      env.resetTo(ti, ptr);
      const thr: number[] = [];
      const del: number[] = [];
      const rewards: number[] = [];
      let q = DEFAULT_QUALITY;
      let last = DEFAULT_QUALITY;
      const start = xs.length / FEATURES;
      for (let i = 0; i < TOTAL_CHUNKS; i++) {
        const s = env.step(q);
        rewards.push(qoeLin(q, last, s.rebufS));
        last = q;
        thr.push(s.chunkBytes / s.delayMs);
        del.push(s.delayMs);
        if (i === TOTAL_CHUNKS - 1) break;
        const o = observe(q, s, thr, del, TOTAL_CHUNKS);
        features(o, buf);
        for (const v of buf) xs.push(v);
        q = opt ? opt.qualities[i + 1] : mpc.decide(o);
        ys.push(q);
      }
      // discounted return-to-go of the optimal trajectory, for the value head
      let g = 0;
      const rtg: number[] = [];
      for (let i = rewards.length - 1; i >= 1; i--) {
        g = rewards[i] + 0.99 * g;
        rtg.unshift(g);
      }
      for (let i = 0; i < rtg.length; i++) rets.push(rtg[i]);
      if (rets.length !== ys.length) throw new Error(`dataset misaligned at ${start}`);
      done++;
    }
    if (ti % 10 === 0) log(`optimum on training trace ${ti + 1}/${train.length} (${done} episodes, ${ys.length} samples)`);
  }
  mkdirSync(resolve('.cache'), { recursive: true });
  writeFileSync(cache, JSON.stringify({ n: ys.length, x: xs, y: ys, ret: rets }));
  return { x: Float32Array.from(xs), y: Int32Array.from(ys), ret: Float32Array.from(rets), n: ys.length };
}

function evaluate(model: tf.LayersModel, traces: SimTrace[]): number {
  const r = runPolicy(new DrlPolicy(model), traces, sizes);
  return mean(r.map((x) => x.qoeSum)) / (TOTAL_CHUNKS - 1);
}

{
  const score = (p: () => import('../core/abr.js').AbrPolicy, tr: SimTrace[]) =>
    (mean(runPolicy(p(), tr, sizes).map((r) => r.qoeSum)) / (TOTAL_CHUNKS - 1)).toFixed(4);
  log(
    `baselines QoE/chunk: training set bb ${score(() => new BufferBased(), all)}, robustmpc ${score(() => new RobustMpc(sizes), all)}; held-out split bb ${score(() => new BufferBased(), valid)}, robustmpc ${score(() => new RobustMpc(sizes), valid)}`,
  );
}
const model = buildModel(tf, 128, SEED);
let best = { score: -Infinity, weights: [] as tf.Tensor[], stage: '' };
// selection score: every training trace (127) in test semantics; the held-out split is reported too
const keepBest = (stage: string) => {
  const score = evaluate(model, all);
  if (score > best.score) {
    best.weights.forEach((w) => w.dispose());
    best = { score, weights: model.getWeights().map((w) => w.clone()), stage };
  }
  return score;
};

if (INIT) {
  const init = await loadModel(resolve(INIT));
  model.setWeights(init.getWeights());
  log(`resumed from ${INIT}: training-set QoE/chunk ${keepBest('init').toFixed(4)}`);
}
const data = INIT ? null : buildDataset();
if (data) log(`imitation: ${data.n} samples, ${BC_EPOCHS} epochs`);
if (data) {
  const opt = tf.train.adam(1e-3);
  const X = tf.tensor2d(data.x, [data.n, FEATURES]);
  const Y = tf.oneHot(tf.tensor1d(data.y, 'int32'), LEVELS);
  const R = tf.tensor2d(data.ret, [data.n, 1]);
  const B = 512;
  for (let ep = 0; ep < BC_EPOCHS; ep++) {
    const idx = shuffled(data.n);
    let lossSum = 0;
    let nb = 0;
    for (let s = 0; s < data.n; s += B) {
      const ids = tf.tensor1d(Int32Array.from(idx.slice(s, s + B)), 'int32');
      const loss = opt.minimize(() => {
        const xb = tf.gather(X, ids);
        const [logits, value] = model.apply(xb) as tf.Tensor[];
        const ce = tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), logits);
        const vl = tf.losses.meanSquaredError(tf.gather(R, ids).div(VALUE_SCALE), value);
        return ce.add(vl.mul(0.1)) as tf.Scalar;
      }, true);
      lossSum += loss!.dataSync()[0];
      loss!.dispose();
      ids.dispose();
      nb++;
    }
    if (ep % 5 === 4 || ep === BC_EPOCHS - 1)
      log(
        `imitation epoch ${ep + 1}/${BC_EPOCHS}: loss ${(lossSum / nb).toFixed(4)}, training-set QoE/chunk ${keepBest(`bc${ep + 1}`).toFixed(4)}`,
      );
  }
  X.dispose();
  Y.dispose();
  R.dispose();
}

// ---------- 1b. DAgger with the offline optimum as the teacher ----------
const DAGGER = Number(arg('dagger', '0'));
if (DAGGER > 0) {
  const bucket = Number(arg('dagger-bucket-ms', '500'));
  const epochs = Number(arg('dagger-epochs', '8'));
  const lr = Number(arg('dagger-lr', '3e-4'));
  // round r executes the teacher's action with probability beta0^r (round 1: mostly the teacher, unless resuming)
  const beta0 = Number(arg('dagger-beta', INIT ? '0' : '0.5'));
  // 'ce': imitate the optimum's next level; 'regret' (cost-sensitive): minimise the expected hindsight regret
  // Σ_a π(a|s)·(max Q − Q[a]) with Q from hindsightQ (6 DPs' worth per state, so fewer starts are used)
  const lossKind = arg('dagger-loss', 'ce');
  const starts = Number(arg('dagger-starts', String(STARTS)));
  const opt = tf.train.adam(lr);
  const xs: Float32Array[] = [];
  const ys: number[] = [];
  const regrets: number[] = [];
  const env = new AbrEnv({ traces: train, videoSizes: sizes });
  for (let round = 1; round <= DAGGER; round++) {
    const beta = beta0 ** round;
    const policy = new DrlPolicy(model);
    let agree = 0;
    let seen = 0;
    const buf = new Float32Array(FEATURES);
    for (let ti = 0; ti < train.length; ti++) {
      const tr = train[ti];
      for (let k = 0; k < starts; k++) {
        const ptr = k === 0 ? 1 : 1 + Math.floor(rng() * (tr.bw.length - 1));
        env.resetTo(ti, ptr);
        const thr: number[] = [];
        const del: number[] = [];
        let q = DEFAULT_QUALITY;
        for (let i = 0; i < TOTAL_CHUNKS - 1; i++) {
          const s = env.step(q);
          thr.push(s.chunkBytes / s.delayMs);
          del.push(s.delayMs);
          const o = observe(q, s, thr, del, TOTAL_CHUNKS);
          const pos = env.position;
          let teacher: number;
          if (lossKind === 'regret') {
            const Q = hindsightQ(tr, sizes, { ...pos, lastQ: q }, { bucketMs: bucket });
            let top = 0;
            for (let a = 1; a < LEVELS; a++) if (Q[a] > Q[top]) top = a;
            for (let a = 0; a < LEVELS; a++) regrets.push(Q[top] - Q[a]);
            teacher = top;
          } else teacher = optimalFromState(tr, sizes, { ...pos, lastQ: q }, { bucketMs: bucket }).qualities[0];
          const mine = policy.decide(o);
          xs.push(Float32Array.from(features(o, buf)));
          ys.push(teacher);
          if (mine === teacher) agree++;
          seen++;
          q = rng() < beta ? teacher : mine;
        }
      }
    }
    log(
      `DAgger round ${round}/${DAGGER}: ${seen} states visited (teacher executed with p=${beta.toFixed(2)}), policy agreed with the optimum on ${((100 * agree) / seen).toFixed(1)} %; aggregate ${ys.length} labels`,
    );
    const n = ys.length;
    const flat = new Float32Array(n * FEATURES);
    for (let i = 0; i < n; i++) flat.set(xs[i], i * FEATURES);
    const X = tf.tensor2d(flat, [n, FEATURES]);
    const RG = lossKind === 'regret' ? tf.tensor2d(Float32Array.from(regrets), [n, LEVELS]) : null;
    const Y = RG ? null : tf.oneHot(tf.tensor1d(Int32Array.from(ys), 'int32'), LEVELS);
    const B = 512;
    for (let ep = 0; ep < epochs; ep++) {
      const idx = shuffled(n);
      let lossSum = 0;
      let nb = 0;
      for (let st = 0; st < n; st += B) {
        const ids = tf.tensor1d(Int32Array.from(idx.slice(st, st + B)), 'int32');
        const loss = opt.minimize(() => {
          const [logits] = model.apply(tf.gather(X, ids)) as tf.Tensor[];
          if (RG) return tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.gather(RG, ids)), 1)) as tf.Scalar;
          return tf.losses.softmaxCrossEntropy(tf.gather(Y!, ids), logits) as tf.Scalar;
        }, true);
        lossSum += loss!.dataSync()[0];
        loss!.dispose();
        ids.dispose();
        nb++;
      }
      if (ep === epochs - 1)
        log(
          `DAgger round ${round}: fit ${epochs} epochs, loss ${(lossSum / nb).toFixed(4)}, training-set QoE/chunk ${keepBest(`dagger${round}`).toFixed(4)} (best ${best.score.toFixed(4)} at ${best.stage}), held-out ${evaluate(model, valid).toFixed(4)}`,
        );
    }
    X.dispose();
    Y?.dispose();
    RG?.dispose();
  }
  // PPO continues from the best imitation weights
  model.setWeights(best.weights);
}

// ---------- 2. PPO in the noisy training environment ----------
const N_ENV = 16;
const T = Number(arg('rollout', '192'));
const GAMMA = 0.99;
const LAMBDA = 0.95;
const CLIP = 0.2;
const ENT = Number(arg('entropy', '0.001'));
const VALUE_WARMUP = Number(arg('value-warmup', '30'));
const TARGET_KL = Number(arg('target-kl', '0.01'));
const ppoOpt = tf.train.adam(Number(arg('ppo-lr', '3e-5')));
const valueOpt = tf.train.adam(1e-3);
interface EnvSlot {
  env: AbrEnv;
  q: number;
  last: number;
  thr: number[];
  del: number[];
  obs: AbrObservation | null;
}
const slots: EnvSlot[] = Array.from({ length: N_ENV }, (_, i) => ({
  env: new AbrEnv({ traces: train, videoSizes: sizes, train: true, seed: SEED * 1000 + i }),
  q: DEFAULT_QUALITY,
  last: DEFAULT_QUALITY,
  thr: [],
  del: [],
  obs: null,
}));
// each slot starts by downloading chunk 0 at the default quality
function stepSlot(sl: EnvSlot, q: number): { reward: number; done: boolean } {
  const s = sl.env.step(q);
  const reward = qoeLin(q, sl.last, s.rebufS);
  sl.last = q;
  sl.thr.push(s.chunkBytes / s.delayMs);
  sl.del.push(s.delayMs);
  if (s.endOfVideo) {
    sl.thr = [];
    sl.del = [];
    sl.last = DEFAULT_QUALITY;
    const s0 = sl.env.step(DEFAULT_QUALITY); // chunk 0 of the next video, reward excluded as in testing
    sl.thr.push(s0.chunkBytes / s0.delayMs);
    sl.del.push(s0.delayMs);
    sl.obs = observe(DEFAULT_QUALITY, s0, sl.thr, sl.del, TOTAL_CHUNKS);
    return { reward, done: true };
  }
  sl.obs = observe(q, s, sl.thr, sl.del, TOTAL_CHUNKS);
  return { reward, done: false };
}
for (const sl of slots) {
  sl.last = DEFAULT_QUALITY;
  const s0 = sl.env.step(DEFAULT_QUALITY);
  sl.thr.push(s0.chunkBytes / s0.delayMs);
  sl.del.push(s0.delayMs);
  sl.obs = observe(DEFAULT_QUALITY, s0, sl.thr, sl.del, TOTAL_CHUNKS);
}

const sample = (p: Float32Array, off: number): number => {
  let u = rng();
  for (let q = 0; q < LEVELS; q++) {
    u -= p[off + q];
    if (u <= 0) return q;
  }
  return LEVELS - 1;
};

log(`PPO: ${PPO_ITERS} iterations x ${N_ENV} envs x ${T} steps, entropy ${ENT}`);
const hist: Array<{ iter: number; training_set: number }> = [];
for (let it = 1; it <= PPO_ITERS; it++) {
  const S = N_ENV * T;
  const obs = new Float32Array(S * FEATURES);
  const act = new Int32Array(S);
  const logp = new Float32Array(S);
  const val = new Float32Array((T + 1) * N_ENV);
  const rew = new Float32Array(S);
  const done = new Uint8Array(S);
  const cur = new Float32Array(N_ENV * FEATURES);
  const fb = new Float32Array(FEATURES);
  for (let t = 0; t <= T; t++) {
    for (let e = 0; e < N_ENV; e++) cur.set(features(slots[e].obs!, fb), e * FEATURES);
    const [probs, v] = tf.tidy(() => {
      const [lg, vv] = model.predict(tf.tensor2d(cur, [N_ENV, FEATURES])) as tf.Tensor[];
      return [tf.softmax(lg).dataSync() as Float32Array, vv.dataSync() as Float32Array];
    });
    for (let e = 0; e < N_ENV; e++) val[t * N_ENV + e] = v[e];
    if (t === T) break;
    for (let e = 0; e < N_ENV; e++) {
      const i = t * N_ENV + e;
      obs.set(cur.subarray(e * FEATURES, (e + 1) * FEATURES), i * FEATURES);
      const a = sample(probs, e * LEVELS);
      act[i] = a;
      logp[i] = Math.log(Math.max(probs[e * LEVELS + a], 1e-8));
      const r = stepSlot(slots[e], a);
      rew[i] = r.reward;
      done[i] = r.done ? 1 : 0;
    }
  }
  // GAE
  const adv = new Float32Array(S);
  const ret = new Float32Array(S);
  for (let e = 0; e < N_ENV; e++) {
    let g = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N_ENV + e;
      const nextV = done[i] ? 0 : val[(t + 1) * N_ENV + e] * VALUE_SCALE;
      const delta = rew[i] + GAMMA * nextV - val[i] * VALUE_SCALE;
      g = delta + GAMMA * LAMBDA * (done[i] ? 0 : g);
      adv[i] = g;
      ret[i] = g + val[i] * VALUE_SCALE;
    }
  }
  const am = mean(Array.from(adv));
  const as = Math.sqrt(mean(Array.from(adv, (a) => (a - am) ** 2))) + 1e-8;
  for (let i = 0; i < S; i++) adv[i] = (adv[i] - am) / as;
  const X = tf.tensor2d(obs, [S, FEATURES]);
  const A = tf.tensor1d(act, 'int32');
  const LP = tf.tensor1d(logp);
  const ADV = tf.tensor1d(adv);
  const RET = tf.tensor1d(ret);
  const MB = 512;
  const warm = it <= VALUE_WARMUP; // fit the critic to this environment before moving the policy
  let stoppedAt = 4;
  for (let ep = 0; ep < 4; ep++) {
    if (!warm && ep > 0) {
      // approximate KL(old || new) on the whole batch: stop early when the policy moved enough
      const kl = tf.tidy(() => {
        const [lg] = model.apply(X) as tf.Tensor[];
        const newLp = tf.sum(tf.mul(tf.logSoftmax(lg), tf.oneHot(A, LEVELS)), 1);
        return tf.mean(tf.sub(LP, newLp)).dataSync()[0];
      });
      if (kl > 1.5 * TARGET_KL) {
        stoppedAt = ep;
        break;
      }
    }
    const idx = shuffled(S);
    for (let s = 0; s < S; s += MB) {
      const ids = tf.tensor1d(Int32Array.from(idx.slice(s, s + MB)), 'int32');
      (warm ? valueOpt : ppoOpt).minimize(() => {
        const [lg, v] = model.apply(tf.gather(X, ids)) as tf.Tensor[];
        const lsm = tf.logSoftmax(lg);
        const a = tf.gather(A, ids);
        const newLp = tf.sum(tf.mul(lsm, tf.oneHot(a, LEVELS)), 1);
        const ratio = tf.exp(tf.sub(newLp, tf.gather(LP, ids)));
        const ad = tf.gather(ADV, ids);
        const pg = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, ad), tf.mul(tf.clipByValue(ratio, 1 - CLIP, 1 + CLIP), ad))));
        const vl = tf.mean(tf.square(tf.sub(tf.squeeze(v, [1]), tf.div(tf.gather(RET, ids), VALUE_SCALE))));
        const ent = tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(lsm), lsm), 1)));
        if (warm) return vl as tf.Scalar;
        return tf.addN([pg, tf.mul(vl, 0.5), tf.mul(ent, -ENT)]) as tf.Scalar;
      });
      ids.dispose();
    }
  }
  tf.dispose([X, A, LP, ADV, RET]);
  if (it % 25 === 0 || it === PPO_ITERS) {
    const v = keepBest(`ppo${it}`);
    hist.push({ iter: it, training_set: v });
    log(
      `PPO iteration ${it}/${PPO_ITERS}${warm ? ' (critic warm-up)' : ''}: mean reward/chunk ${mean(Array.from(rew)).toFixed(3)}, epochs ${stoppedAt}, training-set QoE/chunk ${v.toFixed(4)} (best ${best.score.toFixed(4)} at ${best.stage}), held-out ${evaluate(model, valid).toFixed(4)}`,
    );
  }
}

model.setWeights(best.weights);
const heldOut = evaluate(model, valid);
log(`selected ${best.stage}: training set ${best.score.toFixed(4)}, held-out split ${heldOut.toFixed(4)} QoE/chunk`);
mkdirSync(OUT, { recursive: true });
await saveModel(model, OUT);
writeFileSync(
  join(OUT, 'train.json'),
  JSON.stringify(
    {
      command: `npm run train:abr -- ${process.argv.slice(2).join(' ')}`.trim(),
      init: INIT || null,
      dagger: DAGGER,
      seed: SEED,
      starts: STARTS,
      bc_epochs: BC_EPOCHS,
      ppo_iters: PPO_ITERS,
      selected: best.stage,
      training_set_qoe_per_chunk: best.score,
      held_out_qoe_per_chunk: heldOut,
      history: hist,
      seconds: (Date.now() - t0) / 1000,
    },
    null,
    2,
  ) + '\n',
);
log(`wrote ${OUT}`);
