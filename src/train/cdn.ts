/**
 * `npm run train:cdn -- [--sim mechanistic|piecewise|learned] [--sets ABC,ABD,ACD,BCD] [--iters 8]
 *   [--days-per-iter 3] [--imitation-days 15] [--imitation-epochs 5] [--seed 1] [--out models/cdn-lts] [--no-tree]
 *   [--no-baselines | --only-baselines]`
 *
 * Trains the LTS policy (src/assign/cdn/lts.ts) for each CDN combination in a simulator (src/sim/cdn) on the
 * training days, selects it on the dev days (never the test days, which bench:cdn reports):
 * 1. imitation warm start: the actions that track the one-step greedy optimum (the simulator's oracle),
 *    then one DAgger round (the network's own states, labelled by the same expert);
 * 2. PPO (src/train/cdn-ppo.ts: why PPO) with the paper's reward, discount 0.99, on whole days;
 *    the dev-best network is kept;
 * 3. Fast-LTS: a decision tree fitted to the network's decisions on training days (plus one DAgger round),
 *    served when it loses less than 2 % QoE against the network on the dev days;
 * 4. the baselines' constants (best weighted round-robin, UCB1, D-UCB) tuned on training days.
 * Writes models/cdn-lts/<sim>-<set>.json (manifest, tree, dev scores) + .bin (actor weights, bfloat16) and
 * models/cdn-lts/baselines-<sim>.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { actionCount, applyAction, K_STEPS, lastScores, toPoints, GAMMA } from '../assign/cdn/mdp.js';
import {
  CDN_CHANNELS,
  CONV_KERNEL,
  encodeBf16,
  encodeObservation,
  LtsNet,
  LtsPolicy,
  ltsModelFromFiles,
  type LtsManifest,
  type LtsModel,
} from '../assign/cdn/lts.js';
import { FastLtsPolicy, fitTree, treeDepth, treePredict, type FastLtsModel, type TreeModel } from '../assign/cdn/tree.js';
import { loadTraffic, makeSim, missingData } from '../sim/cdn/data.js';
import { GreedyOracle } from '../sim/cdn/greedy.js';
import { meanReward } from '../sim/cdn/run.js';
import { bestWrr, tuneUcb } from '../sim/cdn/tune.js';
import { daysOf, DAY_MIN } from '../sim/cdn/traffic.js';
import type { CdnSim } from '../sim/cdn/env.js';
import { LearnedSim, loadLearnedModels } from '../sim/cdn/learned.js';
import { gae, imitate, ppoUpdate, TfLtsNet, toCols, type PpoBatch } from './cdn-ppo.js';
import type { CdnSharePolicy } from '../assign/cdn/index.js';

const { values: args } = parseArgs({
  options: {
    sim: { type: 'string', default: 'mechanistic' },
    sets: { type: 'string', default: 'ABC,ABD,ACD,BCD' },
    iters: { type: 'string', default: '8' },
    'days-per-iter': { type: 'string', default: '3' },
    'imitation-days': { type: 'string', default: '15' },
    'imitation-epochs': { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join('models', 'cdn-lts') },
    'learned-dir': { type: 'string', default: join('models', 'cdn-sim') },
    'lr-actor': { type: 'string', default: '1e-4' },
    'lr-critic': { type: 'string', default: '1e-3' },
    'no-tree': { type: 'boolean', default: false },
    'no-baselines': { type: 'boolean', default: false },
    'only-baselines': { type: 'boolean', default: false },
    'eval-every': { type: 'string', default: '4' },
    stride: { type: 'string', default: '3' },
  },
});
const KIND = args.sim as 'mechanistic' | 'piecewise' | 'learned';
if (!['mechanistic', 'piecewise', 'learned'].includes(KIND)) throw new Error(`--sim: mechanistic, piecewise or learned (got ${KIND})`);
const SETS = args.sets!.split(',').filter(Boolean);
const ITERS = Number(args.iters);
const DPI = Number(args['days-per-iter']);
const IMIT_DAYS = Number(args['imitation-days']);
const IMIT_EPOCHS = Number(args['imitation-epochs']);
const SEED = Number(args.seed);
const OUT = resolve(args.out!);
const EVAL_EVERY = Number(args['eval-every']);
/** gradient steps use every STRIDE-th state of a day (neighbouring minutes are nearly the same state) */
const STRIDE = Number(args.stride);
/** viewers: workload inputs are divided by this (a CDN carries 0–40k viewers) */
const WORKLOAD_SCALE = 20000;
/** rewards are multiplied by this for the critic: (1 − γ)/10, so that values are about the mean reward / 10 (≈ −1) */
const REWARD_SCALE = (1 - GAMMA) / 10;
const GAE_LAMBDA = 0.95;

const missing = missingData();
if (missing) {
  console.error(`train:cdn: ${missing}`);
  process.exit(1);
}
const t0 = Date.now();
const log = (s: string) => console.log(`[train:cdn ${KIND} +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
await tf.setBackend('wasm');
await tf.ready();
mkdirSync(OUT, { recursive: true });
const traffic = loadTraffic();
const trainDays = daysOf('train');
const devDays = daysOf('dev');
const simFor = (set: string): CdnSim =>
  KIND === 'learned'
    ? new LearnedSim(traffic, set, loadLearnedModels(resolve(args['learned-dir']!)), SEED)
    : makeSim(KIND, set, traffic, SEED);
// the mechanistic sim scores the learned-sim policy on the dev days (the honest check); otherwise the same kind
const evalSimFor = (set: string): CdnSim => (KIND === 'learned' ? makeSim('mechanistic', set, traffic, SEED) : simFor(set));

/** temperature (points of L1 distance) of the expert's soft labels */
const SOFT_TAU = 2;
/**
 * The expert: the action whose result is closest (L1, points) to the one-step greedy optimum (ties: keep,
 * then smaller raises), and soft labels p(a) ∝ exp(−(d(a) − d_min)/τ) over all actions (several actions are
 * often nearly as close; hard labels would make the network learn arbitrary tie-breaks).
 */
function expertAction(sim: CdnSim, shares: number[], scores: number[], oracle: GreedyOracle, soft?: Float32Array): number {
  const target = oracle.points();
  const P = toPoints(shares);
  const A = actionCount(sim.m);
  const dist = (q: number[]) => q.reduce((s, x, i) => s + Math.abs(x - target[i]), 0);
  const d = new Float64Array(A);
  d[A - 1] = dist(P);
  let best = A - 1;
  for (let a = 0; a < A - 1; a++) {
    d[a] = dist(applyAction(P, a, scores));
    if (d[a] < d[best] - 1e-9) best = a;
  }
  if (soft) {
    let z = 0;
    for (let a = 0; a < A; a++) z += soft[a] = Math.exp(-(d[a] - d[best]) / SOFT_TAU);
    for (let a = 0; a < A; a++) soft[a] /= z;
  }
  return best;
}

interface Roll {
  x: Float32Array;
  a: Int32Array;
  logp: Float32Array;
  r: Float32Array;
  label: Int32Array;
  /** the expert's soft labels (DAY_MIN × A; expert and dagger modes) */
  soft: Float32Array;
  qoe: number;
}
/**
 * One day. mode 'expert': act by the expert; 'dagger': act by `net` (argmax), label by the expert;
 * 'sample': act by sampling `net` (PPO); 'label': act by `act`, label by `net` argmax (tree distillation).
 */
function rollout(
  sim: CdnSim,
  day: number,
  mode: 'expert' | 'dagger' | 'sample' | 'label',
  net: LtsNet | null,
  rng: () => number,
  act?: CdnSharePolicy & { act(o: unknown): number },
): Roll {
  const m = sim.m;
  const inDim = m * K_STEPS * CDN_CHANNELS;
  const A = actionCount(m);
  const x = new Float32Array(DAY_MIN * inDim);
  const a = new Int32Array(DAY_MIN),
    label = new Int32Array(DAY_MIN);
  const logp = new Float32Array(DAY_MIN),
    r = new Float32Array(DAY_MIN);
  const soft = new Float32Array(mode === 'expert' || mode === 'dagger' ? DAY_MIN * A : 0);
  const oracle = new GreedyOracle(sim, sim.kind === 'learned' ? 5 : 1);
  sim.reset(day);
  let qoe = 0;
  for (let t = 0; t < DAY_MIN; t++) {
    const obs = sim.observation();
    const xt = x.subarray(t * inDim, (t + 1) * inDim);
    encodeObservation(obs, WORKLOAD_SCALE, K_STEPS, xt);
    const sc = lastScores(obs);
    let act_ = A - 1;
    if (mode === 'expert') act_ = label[t] = expertAction(sim, obs.shares, sc, oracle, soft.subarray(t * A, (t + 1) * A));
    else if (mode === 'label') {
      const lg = net!.forward(xt);
      let b = 0;
      for (let i = 1; i < A; i++) if (lg[i] > lg[b]) b = i;
      label[t] = b;
      act_ = act!.act(obs);
    } else {
      const lg = net!.forward(xt);
      let mx = -Infinity;
      for (let i = 0; i < A; i++) mx = Math.max(mx, lg[i]);
      let z = 0;
      for (let i = 0; i < A; i++) z += Math.exp(lg[i] - mx);
      if (mode === 'sample') {
        let u = rng() * z;
        for (act_ = 0; act_ < A - 1; act_++) if ((u -= Math.exp(lg[act_] - mx)) <= 0) break;
      } else {
        act_ = 0;
        for (let i = 1; i < A; i++) if (lg[i] > lg[act_]) act_ = i;
        label[t] = expertAction(sim, obs.shares, sc, oracle, soft.subarray(t * A, (t + 1) * A));
      }
      logp[t] = lg[act_] - mx - Math.log(z);
    }
    a[t] = act_;
    const res = sim.step(applyAction(toPoints(obs.shares), act_, sc));
    r[t] = res.reward * REWARD_SCALE;
    qoe += res.reward;
  }
  return { x, a, logp, r, label, soft, qoe: qoe / DAY_MIN };
}

const concat = (parts: Float32Array[] | Int32Array[]) => {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = parts[0] instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p as never, o);
    o += p.length;
  }
  return out;
};

/** rows t ≡ phase (mod STRIDE) of a day's states, in im2col layout, with the matching entries of `cols` arrays */
function strided(x: Float32Array, m: number, phase: number): { x: Float32Array; idx: Int32Array } {
  const inDim = m * K_STEPS * CDN_CHANNELS;
  const idx = Int32Array.from({ length: Math.ceil((DAY_MIN - phase) / STRIDE) }, (_, i) => phase + i * STRIDE);
  const sel = new Float32Array(idx.length * inDim);
  idx.forEach((t, i) => sel.set(x.subarray(t * inDim, (t + 1) * inDim), i * inDim));
  return { x: toCols(sel, m, K_STEPS), idx };
}
const pick = <T extends Float32Array | Int32Array>(a: T, idx: Int32Array): T => {
  const out = new (a.constructor as new (n: number) => T)(idx.length);
  idx.forEach((t, i) => (out[i] = a[t]));
  return out;
};

/** rows `idx` of a row-major matrix with `w` columns */
function pickRows(a: Float32Array, w: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * w);
  idx.forEach((t, i) => out.set(a.subarray(t * w, (t + 1) * w), i * w));
  return out;
}

function modelOf(set: string, actor: TfLtsNet): LtsModel {
  return { format: 'edgeplay-cdn-lts/1', cdns: set.split(''), k: K_STEPS, workloadScale: WORKLOAD_SCALE, actor: actor.weights() };
}

function trainSet(set: string): void {
  const sim = simFor(set);
  const evalSim = evalSimFor(set);
  const m = sim.m;
  const A = actionCount(m);
  const inDim = m * K_STEPS * CDN_CHANNELS;
  const colDim = m * (K_STEPS - CONV_KERNEL + 1) * CONV_KERNEL * CDN_CHANNELS;
  const rng = mulberry32(SEED * 7919 + set.charCodeAt(0) * 31 + set.charCodeAt(m - 1));
  const actor = new TfLtsNet(m, K_STEPS, A, SEED * 100 + 1, 0.1);
  const critic = new TfLtsNet(m, K_STEPS, 1, SEED * 100 + 11, 0.1);
  const optA = tf.train.adam(Number(args['lr-actor']));
  const optC = tf.train.adam(Number(args['lr-critic']));
  const optI = tf.train.adam(1e-3);
  const jsNet = () => new LtsNet(actor.weights(), m, K_STEPS, A);
  const evalDev = () => meanReward(evalSim, new LtsPolicy(modelOf(set, actor)), devDays);
  const curve: Array<{ stage: string; dev: number; s: number }> = [];
  const note = (stage: string, dev: number) => {
    curve.push({ stage, dev: Number(dev.toFixed(4)), s: Math.round((Date.now() - t0) / 1000) });
    log(`${set} ${stage}: dev QoE ${dev.toFixed(3)}`);
  };

  // 1. imitation of the greedy-tracking expert, then one DAgger round
  const imDays = trainDays.filter((_, i) => i % Math.max(1, Math.floor(trainDays.length / IMIT_DAYS)) === 0).slice(0, IMIT_DAYS);
  const xs: Float32Array[] = [],
    ys: Int32Array[] = [],
    ss: Float32Array[] = [];
  let expertQ = 0;
  for (const d of imDays) {
    const r = rollout(sim, d, 'expert', null, rng);
    const st = strided(r.x, m, Math.floor(rng() * STRIDE));
    xs.push(st.x);
    ys.push(pick(r.label, st.idx));
    ss.push(pickRows(r.soft, A, st.idx));
    expertQ += r.qoe / imDays.length;
  }
  log(`${set} expert (tracks the one-step greedy optimum) on ${imDays.length} training days: QoE ${expertQ.toFixed(3)}`);
  let fit = imitate(
    actor,
    optI,
    concat(xs) as Float32Array,
    colDim,
    concat(ys) as Int32Array,
    IMIT_EPOCHS,
    256,
    rng,
    concat(ss) as Float32Array,
  );
  log(`${set} imitation: loss ${fit.loss.toFixed(3)}, accuracy ${fit.acc.toFixed(3)}`);
  const net0 = jsNet();
  for (const d of imDays.slice(0, Math.ceil(imDays.length / 2))) {
    const r = rollout(sim, d, 'dagger', net0, rng);
    const st = strided(r.x, m, Math.floor(rng() * STRIDE));
    xs.push(st.x);
    ys.push(pick(r.label, st.idx));
    ss.push(pickRows(r.soft, A, st.idx));
  }
  fit = imitate(
    actor,
    optI,
    concat(xs) as Float32Array,
    colDim,
    concat(ys) as Int32Array,
    IMIT_EPOCHS,
    256,
    rng,
    concat(ss) as Float32Array,
  );
  log(`${set} DAgger: loss ${fit.loss.toFixed(3)}, accuracy ${fit.acc.toFixed(3)}`);
  let bestDev = evalDev();
  note('imitation', bestDev);
  let best = actor.weights();

  // 2. PPO (the first iteration fits only the critic)
  for (let it = 0; it <= ITERS; it++) {
    const net = jsNet();
    const rolls: Roll[] = [];
    for (let k = 0; k < DPI; k++) rolls.push(rollout(sim, trainDays[Math.floor(rng() * trainDays.length)], 'sample', net, rng));
    const parts = rolls.map((r) => strided(r.x, m, Math.floor(rng() * STRIDE)));
    const x = concat(parts.map((p) => p.x)) as Float32Array;
    const n = x.length / colDim;
    // the critic's values on every state of the day (GAE needs them all), in chunks
    const adv: Float32Array[] = [],
      ret: Float32Array[] = [];
    rolls.forEach((r, i) => {
      const all = toCols(r.x, m, K_STEPS);
      const values = tf.tidy(() => critic.apply(tf.tensor2d(all, [DAY_MIN, colDim])).dataSync() as Float32Array);
      const g = gae(r.r, values, GAMMA, GAE_LAMBDA);
      adv.push(pick(g.adv, parts[i].idx));
      ret.push(pick(g.ret, parts[i].idx));
    });
    const batch: PpoBatch = {
      x,
      inDim: colDim,
      a: concat(rolls.map((r, i) => pick(r.a, parts[i].idx))) as Int32Array,
      logp: concat(rolls.map((r, i) => pick(r.logp, parts[i].idx))) as Float32Array,
      adv: concat(adv) as Float32Array,
      ret: concat(ret) as Float32Array,
      n,
    };
    const st = ppoUpdate(actor, critic, optA, optC, batch, {
      epochs: it === 0 ? 6 : 3,
      minibatch: 256,
      clip: 0.2,
      entropy: 0.005,
      rng,
      criticOnly: it === 0,
    });
    const q = rolls.reduce((s, r) => s + r.qoe, 0) / rolls.length;
    log(
      `${set} ppo ${it}/${ITERS}: train QoE (sampled) ${q.toFixed(3)}, value loss ${st.valueLoss.toFixed(4)}, entropy ${st.entropy.toFixed(3)}, kl ${st.kl.toFixed(4)}`,
    );
    if (it > 0 && (it % EVAL_EVERY === 0 || it === ITERS)) {
      const dev = evalDev();
      note(`ppo ${it}`, dev);
      if (dev > bestDev) {
        bestDev = dev;
        best = actor.weights();
      }
    }
  }
  actor.load(best);

  // save (bfloat16) and score the saved model, as served
  const name = `${KIND}-${set}`;
  const bin = encodeBf16(best);
  writeFileSync(join(OUT, `${name}.bin`), bin);
  const manifest: LtsManifest = {
    format: 'edgeplay-cdn-lts/1',
    cdns: set.split(''),
    k: K_STEPS,
    workloadScale: WORKLOAD_SCALE,
    weights: `${name}.bin`,
  };
  const served = ltsModelFromFiles(manifest, bin);
  const lts = new LtsPolicy(served);
  const devServed = meanReward(evalSim, lts, devDays);
  log(`${set} saved ${name}.bin (bfloat16): dev QoE ${devServed.toFixed(3)} (float32 ${bestDev.toFixed(3)})`);

  // 3. Fast-LTS
  let tree: (FastLtsModel & { devQoe: number; served: boolean; depth: number; nodes: number; fidelity: number }) | null = null;
  if (!args['no-tree']) {
    const servedNet = new LtsNet(served.actor, m, K_STEPS, A);
    const tx: Float32Array[] = [],
      ty: Int32Array[] = [];
    const tDays = trainDays.filter((_, i) => i % 4 === 1);
    const keep = (r: Roll) => {
      const idx = Int32Array.from({ length: Math.ceil(DAY_MIN / STRIDE) }, (_, i) => i * STRIDE);
      const sel = new Float32Array(idx.length * inDim);
      idx.forEach((t, i) => sel.set(r.x.subarray(t * inDim, (t + 1) * inDim), i * inDim));
      tx.push(sel);
      ty.push(pick(r.label, idx));
    };
    for (const d of tDays) keep(rollout(sim, d, 'label', servedNet, rng, lts));
    let fitted: TreeModel = fitTree(concat(tx) as Float32Array, inDim, concat(ty) as Int32Array, A, { maxDepth: 12, minLeaf: 8 });
    const fastModel = (t: TreeModel): FastLtsModel => ({
      format: 'edgeplay-cdn-fastlts/1',
      cdns: set.split(''),
      k: K_STEPS,
      workloadScale: WORKLOAD_SCALE,
      tree: t,
    });
    // DAgger: the tree's own states, labelled by the network
    for (const d of tDays.slice(0, Math.ceil(tDays.length / 2)))
      keep(rollout(sim, d, 'label', servedNet, rng, new FastLtsPolicy(fastModel(fitted))));
    const X = concat(tx) as Float32Array,
      Y = concat(ty) as Int32Array;
    fitted = fitTree(X, inDim, Y, A, { maxDepth: 12, minLeaf: 8 });
    const fast = new FastLtsPolicy(fastModel(fitted));
    let agree = 0;
    for (let i = 0; i < Y.length; i++) if (treePredict(fitted, X.subarray(i * inDim, (i + 1) * inDim)) === Y[i]) agree++;
    const devTree = meanReward(evalSim, fast, devDays);
    const loss = (devTree - devServed) / Math.abs(devServed);
    tree = {
      ...fastModel(fitted),
      devQoe: devTree,
      served: -loss < 0.02,
      depth: treeDepth(fitted),
      nodes: fitted.feature.length,
      fidelity: agree / Y.length,
    };
    log(
      `${set} Fast-LTS: ${tree.nodes} nodes, depth ${tree.depth}, agrees with the network on ${(100 * tree.fidelity).toFixed(1)} % of training states; dev QoE ${devTree.toFixed(3)} (${(100 * -loss).toFixed(2)} % below the network) → served: ${tree.served ? 'tree' : 'network'}`,
    );
  }
  writeFileSync(
    join(OUT, `${name}.json`),
    JSON.stringify({
      ...manifest,
      meta: {
        sim: KIND,
        evaluatedIn: KIND === 'learned' ? 'mechanistic' : KIND,
        seed: SEED,
        iters: ITERS,
        daysPerIter: DPI,
        imitationDays: IMIT_DAYS,
        imitationEpochs: IMIT_EPOCHS,
        command: `npm run train:cdn -- ${process.argv.slice(2).join(' ')}`,
        devDays,
        devQoe: Number(devServed.toFixed(4)),
        expertTrainQoe: Number(expertQ.toFixed(4)),
        curve,
        trainedAt: new Date().toISOString(),
      },
      fastLts: tree && {
        tree: tree.tree,
        devQoe: Number(tree.devQoe.toFixed(4)),
        served: tree.served,
        depth: tree.depth,
        nodes: tree.nodes,
        fidelity: Number(tree.fidelity.toFixed(4)),
      },
    }),
  );
  tf.dispose([...actor.vars, ...critic.vars]);
  optA.dispose();
  optC.dispose();
  optI.dispose();
}

if (!args['only-baselines']) for (const set of SETS) trainSet(set);

// 4. baselines tuned on training days (every sixth training day, for time)
if (!args['no-baselines'] && KIND !== 'learned') {
  const file = join(OUT, `baselines-${KIND}.json`);
  const prev = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const tuneDays = trainDays.filter((_, i) => i % 6 === 0);
  for (const set of SETS) {
    const sim = simFor(set);
    const wrr = bestWrr(sim, tuneDays, (s) => log(s));
    const ucb1 = tuneUcb(sim, tuneDays, false, (s) => log(s));
    const ducb = tuneUcb(sim, tuneDays, true, (s) => log(s));
    prev[set] = {
      wrr: wrr.value,
      ucb1: ucb1.value,
      dUcb: ducb.value,
      tuneDays,
      trainQoe: { wrr: wrr.reward, ucb1: ucb1.reward, dUcb: ducb.reward },
    };
    writeFileSync(file, JSON.stringify(prev, null, 1));
  }
  log(`baselines → ${file}`);
}
log('done');
