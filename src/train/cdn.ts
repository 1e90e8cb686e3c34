/**
 * Trains the LTS policy (src/assign/cdn/lts.ts; ../shared/papers/lts-multi-cdn-drl.txt §4–5) for each CDN
 * combination in a simulator (src/sim/cdn) on the training days and selects it on the dev days (never the
 * test days, which bench:cdn reports). Entry: `npm run train:cdn` (cli/cdn.ts).
 * 1. imitation warm start: the actions that track the one-step greedy optimum (the simulator's oracle),
 *    then one DAgger round (the network's own states, labelled by the same expert);
 * 1b. optionally (`dagger`, `--dagger`): DAgger rounds towards the one-step greedy oracle restricted to LTS's
 *    actions (`daggerCdn`), from the init or the imitation; the dev-best is kept and PPO continues from it;
 * 2. PPO — the shared implementation (ppo.ts `ppoIteration`, GAE, KL stop) on the paper's network
 *    (cdn-net.ts) with the paper's reward −(SLatency + BufRatio + BufFreq), γ 0.99, whole days as episodes
 *    (terminal at midnight, several days side by side); the dev-best network is kept;
 * 3. Fast-LTS: a decision tree fitted to the network's decisions on training days (plus one DAgger round),
 *    served when it loses less than 2 % QoE against the network on the dev days;
 * 4. the baselines' constants (best weighted round-robin, UCB1, D-UCB) tuned on training days.
 * Writes <out>/<sim>-<set>.json (manifest, tree, dev scores, curve) + .bin (actor weights, bfloat16) and
 * <out>/baselines-<sim>.json.
 *
 * Why PPO rather than A3C/A2C: the paper's A3C gains its speed from many asynchronous CPU workers; here
 * there are two shared cores, so samples are the scarce resource. PPO reuses each batch of simulated days
 * for several epochs under a clipped ratio (stable even when a congested step's reward is 10× the usual),
 * where A2C takes one gradient step per batch. Both are actor-critic with the same networks, discount and
 * advantage estimate (GAE).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { actionCount, applyAction, K_STEPS, lastScores, toPoints, GAMMA } from '../assign/cdn/mdp.js';
import {
  CDN_CHANNELS,
  checkInputs,
  CONV_KERNEL,
  encodeBf16,
  encodeObservation,
  extraInputs,
  inputsName,
  inputWidth,
  LtsNet,
  LtsPolicy,
  ltsModelFromFiles,
  type LtsInputs,
  type LtsManifest,
  type LtsModel,
  type NetWeights,
} from '../assign/cdn/lts.js';
import { FastLtsPolicy, fitTree, treeDepth, treePredict, type FastLtsModel, type TreeModel } from '../assign/cdn/tree.js';
import { cdnCombinations } from '../sim/cdn/cdns.js';
import { loadTraffic, makeSim, missingData } from '../sim/cdn/data.js';
import { actionCosts, greedyAction, GreedyOracle } from '../sim/cdn/greedy.js';
import { meanReward } from '../sim/cdn/run.js';
import { bestWrr, tuneUcb } from '../sim/cdn/tune.js';
import { daysOf, DAY_MIN, type Traffic } from '../sim/cdn/traffic.js';
import type { CdnSim } from '../sim/cdn/env.js';
import { LearnedSim, loadLearnedModels } from '../sim/cdn/learned.js';
import type { MechanisticRandomisation } from '../sim/cdn/mechanistic.js';
import type { CdnSharePolicy } from '../assign/cdn/index.js';
import { InputError } from './errors.js';
import { imitate, ltsPpoModel, narrowInputs, TfLtsNet, toCols, widenInputs } from './cdn-net.js';
import { ppoIteration, type Rollout } from './ppo.js';

/** The simulators a policy can be trained in. */
export const CDN_SIMS = ['mechanistic', 'piecewise', 'learned'] as const;
export type CdnSimKind = (typeof CDN_SIMS)[number];

/** What `npm run train:cdn` flags set (same names in camelCase, same defaults), plus library-only inputs. */
export interface TrainCdnOptions {
  /** the simulator trained in (default 'mechanistic'; 'learned' is scored on dev in the mechanistic one) */
  sim?: CdnSimKind;
  /** CDN combinations, e.g. ['ABC', 'ABD'] (default: every 3-of-4) */
  sets?: string[];
  /** PPO iterations after the critic warm-up (default 8) */
  iters?: number;
  /** training days (episodes, side by side) per PPO iteration (default 3) */
  daysPerIter?: number;
  /** training days of the imitation warm start (default 15) */
  imitationDays?: number;
  /** epochs of each imitation fit (default 5) */
  imitationEpochs?: number;
  /** seeds initialisation, day draws, sampling and shuffles (default 1) */
  seed?: number;
  /** output directory (default models/cdn-lts) */
  out?: string;
  /** the learned simulator's models (default models/cdn-sim) */
  learnedDir?: string;
  /** Adam learning rate of the PPO update, actor and critic (default 1e-4) */
  lrActor?: number;
  /** Adam learning rate of the critic-only passes (warm-up and after each update; default 1e-3) */
  lrCritic?: number;
  /** PPO epochs per iteration (default 2; fewer after a KL stop) */
  ppoEpochs?: number;
  /** critic-only epochs after each PPO update (default 1) */
  criticEpochs?: number;
  /** PPO minibatch (default 256) */
  minibatch?: number;
  /** entropy bonus (default 0.005) */
  entropy?: number;
  /** KL target of the early stop (default 0.02) */
  targetKl?: number;
  /** GAE λ (default 0.95) */
  lambda?: number;
  /** PPO iterations between dev evaluations (default 4; the last is always evaluated) */
  evalEvery?: number;
  /** imitation uses every stride-th state of a day (neighbouring minutes are nearly the same; default 3) */
  stride?: number;
  /**
   * start the actor from this trained model (<sim>-<set>.json next to its .bin, the same CDN set) instead of
   * the imitation warm start, which is then skipped (PPO continues from it)
   */
  init?: string;
  /**
   * DAgger towards the one-step greedy oracle restricted to LTS's actions (`daggerCdn`), after the init (or the
   * imitation warm start) and before PPO; the dev-best of the init and every round is kept (default: none)
   */
  dagger?: CdnDaggerOptions;
  /** Adam learning rate of the DAgger fits (default 1e-4) */
  lrDagger?: number;
  /**
   * time-of-day harmonics the network reads beside the paper's history (lts.ts LtsInputs; default: those of the
   * `init` model, else 0, the paper's state). With an `init` of fewer inputs, the init is embedded
   * function-preservingly (cdn-net.ts widenInputs: the new inputs' weights start at 0); with an `init` of more,
   * its extra inputs' weights are dropped (narrowInputs: its function with those weights at 0).
   */
  timeOfDay?: number;
  /** fit Fast-LTS (default true) */
  tree?: boolean;
  /** the baselines are tuned on every N-th training day (default 6: 5 of the 30) */
  tuneEvery?: number;
  /** only distil Fast-LTS from the saved networks (<out>/<sim>-<set>.json), written into their manifests */
  treeOnly?: boolean;
  /** tree depths tried; the dev-best is kept (default [8, 10, 12, 14, 16]) */
  treeDepths?: number[];
  /** DAgger rounds of the distillation (default 4) */
  treeRounds?: number;
  /** training days rolled out per distillation round (default 8) */
  treeDays?: number;
  /** 'also' tunes the baselines after the policies, 'no' skips them, 'only' does nothing else (default 'also') */
  baselines?: 'also' | 'no' | 'only';
  // ---- library-only ----
  /** the traffic (default: loadTraffic() of $EDGEPLAY_DATA/live) */
  traffic?: Traffic;
  /** training / dev days (default daysOf('train') / daysOf('dev')) */
  trainDays?: number[];
  devDays?: number[];
  /**
   * mechanistic only: domain randomisation of the training days the policy is trained on (class weights,
   * throughput scale; src/sim/cdn/mechanistic.ts). Dev scoring, Fast-LTS's dev check and the baselines' tuning
   * use the plain simulator.
   */
  randomise?: MechanisticRandomisation;
  /** the command line recorded in the model files */
  command?: string;
  log?: (s: string) => void;
}

/** What trainCdn did per CDN set: the served model's dev QoE and the training curve. */
export interface TrainCdnSetResult {
  set: string;
  devQoe: number;
  expertTrainQoe: number;
  curve: Array<{ stage: string; dev: number; s: number }>;
  fastLts: { devQoe: number; served: boolean } | null;
}

/** the inputs of a network with `extra` inputs beside the history (2 per time-of-day harmonic) */
const inputsOfExtra = (extra: number): LtsInputs => checkInputs({ timeOfDay: extra / 2 });

/** viewers: workload inputs are divided by this (a CDN carries 0–40k viewers) */
const WORKLOAD_SCALE = 20000;
/** rewards are multiplied by this for the critic: (1 − γ)/10, so that values are about the mean reward / 10 (≈ −1) */
const REWARD_SCALE = (1 - GAMMA) / 10;

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
  const inputs = inputsOfExtra(net?.extra ?? 0);
  const inDim = inputWidth(m, K_STEPS, inputs);
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
    encodeObservation(obs, WORKLOAD_SCALE, K_STEPS, xt, inputs);
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

/** rows t ≡ phase (mod stride) of a day's states (with `extra` inputs beside the history), in im2col layout, and their minutes */
function strided(x: Float32Array, m: number, phase: number, stride: number, extra = 0): { x: Float32Array; idx: Int32Array } {
  const inDim = m * K_STEPS * CDN_CHANNELS + extra;
  const idx = Int32Array.from({ length: Math.ceil((DAY_MIN - phase) / stride) }, (_, i) => phase + i * stride);
  const sel = new Float32Array(idx.length * inDim);
  idx.forEach((t, i) => sel.set(x.subarray(t * inDim, (t + 1) * inDim), i * inDim));
  return { x: toCols(sel, m, K_STEPS, undefined, extra), idx };
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
  const inputs = inputsOfExtra(actor.extra);
  return {
    format: 'edgeplay-cdn-lts/1',
    cdns: set.split(''),
    k: K_STEPS,
    workloadScale: WORKLOAD_SCALE,
    ...(inputs.timeOfDay > 0 ? { inputs } : {}),
    actor: actor.weights(),
  };
}

/**
 * `envs` sampled days as the shared PPO's rollout (time-major, sample t·envs + e): observations in im2col
 * layout, the critic's values of every state (row DAY_MIN = 0: each day ends at midnight, terminal), done at
 * the last minute.
 */
export function daysRollout(
  rolls: Array<{ x: Float32Array; a: Int32Array; logp: Float32Array; r: Float32Array }>,
  critic: TfLtsNet,
): Rollout {
  const envs = rolls.length;
  const { m, colDim } = critic;
  const n = DAY_MIN * envs;
  const obs = new Float32Array(n * colDim);
  const actions = new Int32Array(n);
  const logp = new Float32Array(n);
  const rewards = new Float32Array(n);
  const values = new Float32Array(n + envs);
  const dones = new Uint8Array(n);
  rolls.forEach((r, e) => {
    const cols = toCols(r.x, m, K_STEPS, undefined, critic.extra);
    const v = tf.tidy(() => critic.apply(tf.tensor2d(cols, [DAY_MIN, colDim])).dataSync() as Float32Array);
    for (let t = 0; t < DAY_MIN; t++) {
      const i = t * envs + e;
      obs.set(cols.subarray(t * colDim, (t + 1) * colDim), i * colDim);
      actions[i] = r.a[t];
      logp[i] = r.logp[t];
      rewards[i] = r.r[t];
      values[i] = v[t];
    }
    dones[(DAY_MIN - 1) * envs + e] = 1;
  });
  return { envs, obs, obsShape: [colDim], actions, logp, rewards, values, dones, nActions: actionCount(m) };
}

/** How `daggerCdn` rolls in, labels and fits (the `--dagger-*` flags of `npm run train:cdn`). */
export interface CdnDaggerOptions {
  /** DAgger rounds (each: roll in, label, aggregate, fit) */
  rounds: number;
  /** training days rolled in per round (dealt from the shuffled training days in turn) */
  days: number;
  /** supervised epochs on the whole aggregate after each round */
  epochs: number;
  /** the expert's probability of acting in round 1; round i uses β_i = beta0 · betaDecay^(i−1) (Ross et al. 2011 §3) */
  beta0: number;
  betaDecay: number;
  /** every stride-th minute of a rolled-in day is kept (neighbouring minutes are nearly the same) */
  stride: number;
  /**
   * temperature (cost units = reward points of the next step) of the soft labels p(a) ∝ exp(−(c(a) − c_min)/τ);
   * 0: uniform over the exactly cheapest actions (the oracle's ties, e.g. every action when no CDN is loaded)
   */
  tau: number;
  /**
   * the fit's loss: 'ce' (default), cross-entropy to the soft labels; 'ce+regret', that plus the cost-sensitive
   * expected next-step regret Σ_a π(a|s)·(c(a) − c_min) under the network's softmax (cost units, weight 1)
   */
  loss?: 'ce' | 'ce+regret';
  minibatch: number;
  /**
   * also score the element-wise mean of the rounds' networks (the last `average` rounds; 0 or absent: not tried) on
   * the dev days as one more candidate (stochastic weight averaging, Izmailov et al., UAI 2018): the rounds are
   * successive fine-tunes of one network, whose dev QoE wobbles from round to round
   */
  average?: number;
}

/**
 * The element-wise mean of networks of one shape (`NetWeights`, e.g. the DAgger rounds' actors).
 * @throws RangeError when `ws` is empty or two networks differ in a tensor's length
 */
export function averageWeights(ws: NetWeights[]): NetWeights {
  if (ws.length === 0) throw new RangeError('averageWeights: no networks');
  const keys = ['convW', 'convB', 'w1', 'b1', 'w2', 'b2'] as const;
  const out = {} as Record<(typeof keys)[number], Float32Array>;
  for (const k of keys) {
    const n = ws[0][k].length;
    const acc = new Float64Array(n);
    for (const w of ws) {
      if (w[k].length !== n) throw new RangeError(`averageWeights: ${k} has ${w[k].length} values, expected ${n}`);
      for (let i = 0; i < n; i++) acc[i] += w[k][i];
    }
    out[k] = Float32Array.from(acc, (v) => v / ws.length);
  }
  return out;
}

/** One DAgger round as `daggerCdn` saw it. */
export interface CdnDaggerRound {
  round: number;
  beta: number;
  days: number[];
  /**
   * share of the round's visited minutes (all of them, whoever acted) where the learner's argmax — the network
   * before this round's fit — is one of the oracle's cheapest actions: on-policy agreement with the expert
   */
  agreement: number;
  /** mean QoE of the mixture roll-in on the round's days */
  rollQoe: number;
  /** states in the aggregate after the round */
  states: number;
  /** last epoch's loss (cross-entropy, plus the expected regret with loss 'ce+regret') and argmax accuracy on the aggregate after the fit */
  loss: number;
  acc: number;
  /** dev QoE after the fit (when `evalDev` is given) */
  dev?: number;
  /** seconds since daggerCdn started, at the end of the round */
  s: number;
}

/**
 * DAgger (Ross, Gordon & Bagnell, AISTATS 2011, Algorithm 3.1) for the LTS actor with the one-step greedy oracle
 * restricted to LTS's actions as the expert (sim/cdn/greedy.ts `actionCosts`: with full knowledge of the next
 * step, the action whose shares cost least — the `greedy-lts-actions` row of bench:cdn). Round i rolls in the
 * mixture π_i = β_i·expert + (1 − β_i)·learner (per minute: the expert's cheapest action with probability β_i,
 * else the learner's argmax) on `o.days` training days, labels every kept state with the expert's soft label,
 * adds them to the aggregate of all rounds, and fits the actor on the whole aggregate (softmax cross-entropy, with `loss: 'ce+regret'` plus the expected next-step regret,
 * the shared supervised loop via cdn-net.ts `imitate`), starting from the actor's current weights. After each
 * fit `evalDev` (dev days only, never test days) scores the actor; the caller keeps the dev-best.
 * @returns the rounds (agreement measured before each fit, so round 1's is the initial network's) and the
 * weights after each round's fit. Throws RangeError for rounds, days or stride < 1, or β0 / decay outside [0, 1].
 */
export function daggerCdn(
  sim: CdnSim,
  actor: TfLtsNet,
  opt: tf.Optimizer,
  trainDays: number[],
  o: CdnDaggerOptions,
  rng: () => number,
  log: (s: string) => void,
  evalDev?: () => number,
): { rounds: CdnDaggerRound[]; weights: NetWeights[] } {
  if (!(o.rounds >= 1) || !(o.days >= 1) || !(o.stride >= 1) || !(o.beta0 >= 0 && o.beta0 <= 1) || !(o.betaDecay >= 0 && o.betaDecay <= 1))
    throw new RangeError(
      `daggerCdn: need rounds, days, stride ≥ 1 and beta0, betaDecay in [0, 1] (got ${o.rounds}, ${o.days}, ${o.stride}, ${o.beta0}, ${o.betaDecay})`,
    );
  const m = sim.m;
  const A = actionCount(m);
  const inputs = inputsOfExtra(actor.extra);
  const inDim = inputWidth(m, K_STEPS, inputs);
  const colDim = actor.colDim;
  const days = trainDays.slice();
  for (let i = days.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [days[i], days[j]] = [days[j], days[i]];
  }
  const xs: Float32Array[] = [],
    ys: Int32Array[] = [],
    ss: Float32Array[] = [],
    rs: Float32Array[] = [];
  const regretLoss = o.loss === 'ce+regret';
  const rounds: CdnDaggerRound[] = [];
  const weights: NetWeights[] = [];
  const x = new Float32Array(inDim);
  const costs = new Float64Array(A);
  const t0 = Date.now();
  for (let round = 1; round <= o.rounds; round++) {
    const beta = o.beta0 * Math.pow(o.betaDecay, round - 1);
    const net = new LtsNet(actor.weights(), m, K_STEPS, A, actor.extra);
    const dealt = Array.from({ length: o.days }, (_, i) => days[((round - 1) * o.days + i) % days.length]);
    let agree = 0,
      seen = 0,
      qoe = 0;
    for (const day of dealt) {
      sim.reset(day);
      const phase = Math.floor(rng() * o.stride);
      const n = Math.ceil((DAY_MIN - phase) / o.stride);
      const dx = new Float32Array(n * inDim),
        dy = new Int32Array(n),
        ds = new Float32Array(n * A),
        dr = new Float32Array(regretLoss ? n * A : 0);
      let k = 0;
      for (let t = 0; t < DAY_MIN; t++) {
        const obs = sim.observation();
        encodeObservation(obs, WORKLOAD_SCALE, K_STEPS, x, inputs);
        actionCosts(sim, obs, costs);
        const expert = greedyAction(costs);
        const lg = net.forward(x);
        let mine = 0;
        for (let a = 1; a < A; a++) if (lg[a] > lg[mine]) mine = a;
        const cmin = costs[expert];
        const tol = 1e-12 * Math.max(1, Math.abs(cmin));
        if (costs[mine] <= cmin + tol) agree++;
        seen++;
        if (t >= phase && (t - phase) % o.stride === 0) {
          dx.set(x, k * inDim);
          dy[k] = expert;
          const p = ds.subarray(k * A, (k + 1) * A);
          let z = 0;
          for (let a = 0; a < A; a++) z += p[a] = o.tau > 0 ? Math.exp(-(costs[a] - cmin) / o.tau) : costs[a] <= cmin + tol ? 1 : 0;
          for (let a = 0; a < A; a++) p[a] /= z;
          if (regretLoss) for (let a = 0; a < A; a++) dr[k * A + a] = costs[a] - cmin;
          k++;
        }
        const act = rng() < beta ? expert : mine;
        qoe += sim.step(applyAction(toPoints(obs.shares), act, lastScores(obs))).reward;
      }
      xs.push(toCols(dx, m, K_STEPS, undefined, actor.extra));
      ys.push(dy);
      ss.push(ds);
      rs.push(dr);
    }
    const fit = imitate(
      actor,
      opt,
      concat(xs) as Float32Array,
      colDim,
      concat(ys) as Int32Array,
      o.epochs,
      o.minibatch,
      rng,
      concat(ss) as Float32Array,
      regretLoss ? (concat(rs) as Float32Array) : undefined,
    );
    const rec: CdnDaggerRound = {
      round,
      beta: Number(beta.toFixed(4)),
      days: dealt,
      agreement: Number((agree / seen).toFixed(4)),
      rollQoe: Number((qoe / (o.days * DAY_MIN)).toFixed(4)),
      states: ys.reduce((s, y) => s + y.length, 0),
      loss: Number(fit.loss.toFixed(4)),
      acc: Number(fit.acc.toFixed(4)),
      s: 0,
    };
    if (evalDev) rec.dev = Number(evalDev().toFixed(4));
    rec.s = Math.round((Date.now() - t0) / 1000);
    weights.push(actor.weights());
    rounds.push(rec);
    log(
      `DAgger round ${round}/${o.rounds}: β ${rec.beta}, roll-in QoE ${rec.rollQoe.toFixed(3)}, learner picks an oracle action on ${(100 * rec.agreement).toFixed(1)} % of the visited minutes; ${rec.states} states, loss ${rec.loss.toFixed(3)}, accuracy ${rec.acc.toFixed(3)}${rec.dev !== undefined ? `, dev QoE ${rec.dev.toFixed(3)}` : ''}`,
    );
  }
  return { rounds, weights };
}

/** The Fast-LTS record of a manifest (`fastLts`): the tree and how it was chosen. */
export interface FastLtsRecord {
  tree: TreeModel;
  /** the chosen tree's mean QoE on the dev days, and the network's */
  devQoe: number;
  netDevQoe: number;
  /**
   * served instead of the network: it loses less than 2 % QoE to the network on the dev days (the issue's rule,
   * decided without the test days; `testCheck` reports the test days and never changes it)
   */
  served: boolean;
  depth: number;
  nodes: number;
  /** share of the distillation states (all rounds) where the tree picks the network's action */
  fidelity: number;
  /** dev QoE of every depth tried */
  depths: Array<{ maxDepth: number; devQoe: number; nodes: number }>;
  rounds: number;
  states: number;
  /**
   * The test-day check, added to the manifest after training from `bench:cdn --policies lts,fast-lts` (never
   * used to choose the depth): mean QoE of the tree and of the network on the test days, the tree's difference
   * in % of the network's |QoE| (+ = better), whether it loses less than 2 %, and the command that printed it.
   * A new distillation writes a record without it.
   */
  testCheck?: { days: number[]; fastQoe: number; netQoe: number; fastVsNetPct: number; passes: boolean; command: string };
}

interface TreeOpts {
  depths: number[];
  rounds: number;
  days: number;
  minLeaf: number;
  stride: number;
}
const treeOptions = (o: TrainCdnOptions): TreeOpts => ({
  depths: o.treeDepths ?? [8, 10, 12, 14, 16],
  rounds: o.treeRounds ?? 4,
  days: o.treeDays ?? 8,
  minLeaf: 4,
  stride: 2,
});

/**
 * Fast-LTS by DAgger (Ross et al. 2011) with the network as the expert: round 0 labels the states the network
 * itself visits on training days with its action; each further round rolls out the deepest tree fitted so far
 * on other training days and labels the states *the tree* visits with the network's action (the states where a
 * tree's mistakes lead it), aggregating all rounds. Then one tree per depth in `depths` is fitted on the
 * aggregate and scored on the dev days (never the test days); the dev-best is kept (ties: the shallower), and
 * served when it loses less than 2 % QoE to the network there.
 */
export function distilFastLts(
  sim: CdnSim,
  evalSim: CdnSim,
  set: string,
  served: LtsModel,
  trainDays: number[],
  devDays: number[],
  devNet: number,
  o: TreeOpts,
  rng: () => number,
  log: (s: string) => void,
): FastLtsRecord {
  const m = sim.m;
  const A = actionCount(m);
  const inputs = checkInputs(served.inputs);
  const inDim = inputWidth(m, K_STEPS, inputs);
  const net = new LtsNet(served.actor, m, K_STEPS, A, extraInputs(inputs));
  const lts = new LtsPolicy(served);
  const fastModel = (t: TreeModel): FastLtsModel => ({
    format: 'edgeplay-cdn-fastlts/1',
    cdns: set.split(''),
    k: K_STEPS,
    workloadScale: WORKLOAD_SCALE,
    ...(inputs.timeOfDay > 0 ? { inputs } : {}),
    tree: t,
  });
  const tx: Float32Array[] = [],
    ty: Int32Array[] = [];
  const keep = (r: Roll) => {
    const phase = Math.floor(rng() * o.stride);
    const idx = Int32Array.from({ length: Math.ceil((DAY_MIN - phase) / o.stride) }, (_, i) => phase + i * o.stride);
    tx.push(pickRows(r.x, inDim, idx));
    ty.push(pick(r.label, idx));
  };
  // the training days, shuffled, dealt to the rounds in turn
  const days = trainDays.slice();
  for (let i = days.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [days[i], days[j]] = [days[j], days[i]];
  }
  const dealt = (round: number) => Array.from({ length: o.days }, (_, i) => days[(round * o.days + i) % days.length]);
  const deepest = Math.max(...o.depths);
  const fit = (maxDepth: number) =>
    fitTree(concat(tx) as Float32Array, inDim, concat(ty) as Int32Array, A, { maxDepth, minLeaf: o.minLeaf });
  for (const d of dealt(0)) keep(rollout(sim, d, 'label', net, rng, lts));
  for (let round = 1; round <= o.rounds; round++) {
    const tree = new FastLtsPolicy(fastModel(fit(deepest)));
    let q = 0;
    for (const d of dealt(round)) {
      const r = rollout(sim, d, 'label', net, rng, tree);
      q += r.qoe / o.days;
      keep(r);
    }
    log(`${set} Fast-LTS DAgger round ${round}: the depth-${deepest} tree's QoE on its ${o.days} training days ${q.toFixed(3)}`);
  }
  const X = concat(tx) as Float32Array,
    Y = concat(ty) as Int32Array;
  let best: { t: TreeModel; maxDepth: number; dev: number } | null = null;
  const tried: FastLtsRecord['depths'] = [];
  for (const maxDepth of [...o.depths].sort((a, b) => a - b)) {
    const t = fit(maxDepth);
    const dev = meanReward(evalSim, new FastLtsPolicy(fastModel(t)), devDays);
    tried.push({ maxDepth, devQoe: Number(dev.toFixed(4)), nodes: t.feature.length });
    log(`${set} Fast-LTS depth ≤ ${maxDepth}: ${t.feature.length} nodes, dev QoE ${dev.toFixed(3)} (network ${devNet.toFixed(3)})`);
    if (!best || dev > best.dev + 1e-9) best = { t, maxDepth, dev };
  }
  const t = best!.t;
  let agree = 0;
  for (let i = 0; i < Y.length; i++) if (treePredict(t, X.subarray(i * inDim, (i + 1) * inDim)) === Y[i]) agree++;
  const loss = (devNet - best!.dev) / Math.abs(devNet);
  const rec: FastLtsRecord = {
    tree: t,
    devQoe: Number(best!.dev.toFixed(4)),
    netDevQoe: Number(devNet.toFixed(4)),
    served: loss < 0.02,
    depth: treeDepth(t),
    nodes: t.feature.length,
    fidelity: Number((agree / Y.length).toFixed(4)),
    depths: tried,
    rounds: o.rounds,
    states: Y.length,
  };
  log(
    `${set} Fast-LTS: depth ${rec.depth}, ${rec.nodes} nodes, agrees with the network on ${(100 * rec.fidelity).toFixed(1)} % of ${Y.length} DAgger states; dev QoE ${best!.dev.toFixed(3)} (${(100 * loss).toFixed(2)} % below the network) → served: ${rec.served ? 'tree' : 'network'}`,
  );
  return rec;
}

/**
 * Trains, selects and writes the LTS policy of each CDN set (and tunes the baselines), as the module's
 * header says. Throws InputError when the data or the learned simulator's models are missing, or a set names
 * CDNs the simulators do not have.
 */
export async function trainCdn(o: TrainCdnOptions = {}): Promise<TrainCdnSetResult[]> {
  const kind = o.sim ?? 'mechanistic';
  if (!CDN_SIMS.includes(kind)) throw new InputError(`sim: one of ${CDN_SIMS.join(', ')}, got "${kind}"`);
  const known = cdnCombinations();
  const sets = o.sets ?? known;
  for (const set of sets) if (!known.includes(set)) throw new InputError(`sets: "${set}" is not one of ${known.join(', ')}`);
  const iters = o.iters ?? 8;
  const dpi = o.daysPerIter ?? 3;
  const imitDays = o.imitationDays ?? 15;
  const imitEpochs = o.imitationEpochs ?? 5;
  const seed = o.seed ?? 1;
  const out = resolve(o.out ?? join('models', 'cdn-lts'));
  const evalEvery = o.evalEvery ?? 4;
  const stride = o.stride ?? 3;
  const baselines = o.baselines ?? 'also';
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => console.log(`[train:cdn ${kind} +${Math.round((Date.now() - t0) / 1000)}s] ${s}`));
  if (o.randomise && kind !== 'mechanistic') throw new InputError(`randomisation is for the mechanistic simulator, not ${kind}`);
  if (!o.traffic) {
    const missing = missingData();
    if (missing) throw new InputError(missing);
  }
  await tf.setBackend('wasm');
  await tf.ready();
  mkdirSync(out, { recursive: true });
  const traffic = o.traffic ?? loadTraffic();
  const trainDays = o.trainDays ?? daysOf('train');
  const devDays = o.devDays ?? daysOf('dev');
  const learnedDir = resolve(o.learnedDir ?? join('models', 'cdn-sim'));
  if (kind === 'learned' && !existsSync(join(learnedDir, 'nalu-lstm.json')))
    throw new InputError(`${learnedDir}/nalu-lstm.json not found: run npm run train:cdn-sim first`);
  const plainSimFor = (set: string): CdnSim =>
    kind === 'learned' ? new LearnedSim(traffic, set, loadLearnedModels(learnedDir), seed) : makeSim(kind, set, traffic, seed);
  // the training days' simulator: randomised when asked (training days only)
  const simFor = (set: string): CdnSim =>
    kind === 'mechanistic' && o.randomise ? makeSim(kind, set, traffic, seed, undefined, o.randomise) : plainSimFor(set);
  // the mechanistic sim scores the learned-sim policy on the dev days (the honest check); otherwise the same kind, never randomised
  const evalSimFor = (set: string): CdnSim => (kind === 'learned' ? makeSim('mechanistic', set, traffic, seed) : plainSimFor(set));
  const results: TrainCdnSetResult[] = [];

  const trainSet = (set: string): TrainCdnSetResult => {
    const sim = simFor(set);
    const evalSim = evalSimFor(set);
    const m = sim.m;
    const A = actionCount(m);
    // the inputs: --time-of-day, else the init's, else the paper's state
    let initMan: LtsManifest | null = null;
    let initFile = '';
    if (o.init) {
      initFile = resolve(o.init);
      if (!existsSync(initFile)) throw new InputError(`init: ${initFile} not found`);
      initMan = JSON.parse(readFileSync(initFile, 'utf8')) as LtsManifest;
      if (initMan.cdns.join('') !== set) throw new InputError(`init: ${initFile} is a model of ${initMan.cdns.join('')}, not ${set}`);
    }
    const initInputs = initMan ? checkInputs(initMan.inputs) : null;
    let inputs: LtsInputs;
    try {
      inputs = checkInputs({ timeOfDay: o.timeOfDay ?? initInputs?.timeOfDay ?? 0 });
    } catch (e) {
      throw new InputError(`time-of-day: ${(e as Error).message}`);
    }
    const extra = extraInputs(inputs);
    const colDim = m * (K_STEPS - CONV_KERNEL + 1) * CONV_KERNEL * CDN_CHANNELS + extra;
    const rng = mulberry32(seed * 7919 + set.charCodeAt(0) * 31 + set.charCodeAt(m - 1));
    const actor = new TfLtsNet(m, K_STEPS, A, seed * 100 + 1, 0.1, extra);
    const critic = new TfLtsNet(m, K_STEPS, 1, seed * 100 + 11, 0.1, extra);
    if (colDim !== actor.colDim) throw new Error('trainCdn: im2col width mismatch');
    const model = ltsPpoModel(actor, critic);
    const optA = tf.train.adam(o.lrActor ?? 1e-4);
    const optC = tf.train.adam(o.lrCritic ?? 1e-3);
    const optI = tf.train.adam(1e-3);
    const ppo = {
      gamma: GAMMA,
      lambda: o.lambda ?? 0.95,
      entropy: o.entropy ?? 0.005,
      epochs: o.ppoEpochs ?? 2,
      minibatch: o.minibatch ?? 256,
      targetKl: o.targetKl ?? 0.02,
      optimizer: optA,
      criticOptimizer: optC,
      rng,
    };
    const jsNet = () => new LtsNet(actor.weights(), m, K_STEPS, A, extra);
    const evalDev = () => meanReward(evalSim, new LtsPolicy(modelOf(set, actor)), devDays);
    const curve: Array<{ stage: string; dev: number; s: number }> = [];
    const note = (stage: string, dev: number) => {
      curve.push({ stage, dev: Number(dev.toFixed(4)), s: Math.round((Date.now() - t0) / 1000) });
      log(`${set} ${stage}: dev QoE ${dev.toFixed(3)}`);
    };

    let expertQ = NaN;
    if (initMan && initInputs) {
      const w = ltsModelFromFiles(initMan, new Uint8Array(readFileSync(join(dirname(initFile), initMan.weights)))).actor;
      const from = extraInputs(initInputs);
      actor.load(from === extra ? w : from < extra ? widenInputs(w, m, K_STEPS, from, extra) : narrowInputs(w, m, K_STEPS, from, extra));
      log(
        `${set} actor from ${initFile} (no imitation)${
          from === extra
            ? ''
            : from < extra
              ? `: ${inputsName(initInputs)} embedded in ${inputsName(inputs)} (the new inputs' weights 0)`
              : `: cut from ${inputsName(initInputs)} to ${inputsName(inputs)} (the dropped inputs' weights removed: not the same function unless they were 0)`
        }`,
      );
    } else {
      // 1. imitation of the greedy-tracking expert, then one DAgger round
      const imDays = trainDays.filter((_, i) => i % Math.max(1, Math.floor(trainDays.length / imitDays)) === 0).slice(0, imitDays);
      const xs: Float32Array[] = [],
        ys: Int32Array[] = [],
        ss: Float32Array[] = [];
      expertQ = 0;
      for (const d of imDays) {
        const r = rollout(sim, d, 'expert', null, rng);
        const st = strided(r.x, m, Math.floor(rng() * stride), stride, extra);
        xs.push(st.x);
        ys.push(pick(r.label, st.idx));
        ss.push(pickRows(r.soft, A, st.idx));
        expertQ += r.qoe / imDays.length;
      }
      log(`${set} expert (tracks the one-step greedy optimum) on ${imDays.length} training days: QoE ${expertQ.toFixed(3)}`);
      const fitAll = () =>
        imitate(
          actor,
          optI,
          concat(xs) as Float32Array,
          colDim,
          concat(ys) as Int32Array,
          imitEpochs,
          256,
          rng,
          concat(ss) as Float32Array,
        );
      let fit = fitAll();
      log(`${set} imitation: loss ${fit.loss.toFixed(3)}, accuracy ${fit.acc.toFixed(3)}`);
      const net0 = jsNet();
      for (const d of imDays.slice(0, Math.ceil(imDays.length / 2))) {
        const r = rollout(sim, d, 'dagger', net0, rng);
        const st = strided(r.x, m, Math.floor(rng() * stride), stride, extra);
        xs.push(st.x);
        ys.push(pick(r.label, st.idx));
        ss.push(pickRows(r.soft, A, st.idx));
      }
      fit = fitAll();
      log(`${set} DAgger: loss ${fit.loss.toFixed(3)}, accuracy ${fit.acc.toFixed(3)}`);
    }
    let bestDev = evalDev();
    note(o.init ? 'init' : 'imitation', bestDev);
    let best = actor.weights();

    // 1b. DAgger towards the greedy oracle over LTS's actions; the dev-best of the init and each round is kept
    let dagger: CdnDaggerRound[] | null = null;
    if (o.dagger) {
      const optD = tf.train.adam(o.lrDagger ?? 1e-4);
      const d0 = Math.round((Date.now() - t0) / 1000);
      const res = daggerCdn(sim, actor, optD, trainDays, o.dagger, rng, (s) => log(`${set} ${s}`), evalDev);
      optD.dispose();
      dagger = res.rounds;
      res.rounds.forEach((r, i) => {
        curve.push({ stage: `dagger ${r.round}`, dev: r.dev!, s: d0 + r.s });
        if (r.dev! > bestDev) {
          bestDev = r.dev!;
          best = res.weights[i];
        }
      });
      const nAvg = Math.min(o.dagger.average ?? 0, res.weights.length);
      if (nAvg >= 2) {
        const mean = averageWeights(res.weights.slice(-nAvg));
        actor.load(mean);
        const dev = evalDev();
        note(`dagger mean of the last ${nAvg} rounds`, dev);
        if (dev > bestDev) {
          bestDev = dev;
          best = mean;
        }
      }
      actor.load(best);
    }

    // 2. PPO (the shared ppoIteration); iteration 0 fits only the critic (warm-up after imitation)
    for (let it = 0; it <= iters; it++) {
      const net = jsNet();
      const rolls = Array.from({ length: dpi }, () => rollout(sim, trainDays[Math.floor(rng() * trainDays.length)], 'sample', net, rng));
      const batch = daysRollout(rolls, critic);
      let line: string;
      if (it === 0) {
        ppoIteration(model, batch, { ...ppo, epochs: 6 }, { criticOnly: true });
        line = 'critic warm-up';
      } else {
        const st = ppoIteration(model, batch, ppo);
        const ce = o.criticEpochs ?? 1;
        if (ce > 0) ppoIteration(model, batch, { ...ppo, epochs: ce }, { criticOnly: true });
        line = `${st.epochs} epochs, kl ${Number.isNaN(st.kl) ? '-' : st.kl.toFixed(4)}`;
      }
      const q = rolls.reduce((s, r) => s + r.qoe, 0) / rolls.length;
      log(`${set} ppo ${it}/${iters}: train QoE (sampled) ${q.toFixed(3)}, ${line}`);
      if (it > 0 && (it % evalEvery === 0 || it === iters)) {
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
    const name = `${kind}-${set}`;
    const bin = encodeBf16(best);
    writeFileSync(join(out, `${name}.bin`), bin);
    const manifest: LtsManifest = {
      format: 'edgeplay-cdn-lts/1',
      cdns: set.split(''),
      k: K_STEPS,
      workloadScale: WORKLOAD_SCALE,
      weights: `${name}.bin`,
      ...(extra > 0 ? { inputs } : {}),
    };
    const served = ltsModelFromFiles(manifest, bin);
    const lts = new LtsPolicy(served);
    const devServed = meanReward(evalSim, lts, devDays);
    log(`${set} saved ${name}.bin (bfloat16): dev QoE ${devServed.toFixed(3)} (float32 ${bestDev.toFixed(3)})`);

    // 3. Fast-LTS
    const tree =
      (o.tree ?? true) ? distilFastLts(sim, evalSim, set, served, trainDays, devDays, devServed, treeOptions(o), rng, log) : null;
    writeFileSync(
      join(out, `${name}.json`),
      JSON.stringify({
        ...manifest,
        meta: {
          sim: kind,
          evaluatedIn: kind === 'learned' ? 'mechanistic' : kind,
          seed,
          iters,
          daysPerIter: dpi,
          imitationDays: imitDays,
          imitationEpochs: imitEpochs,
          ppo: { epochs: ppo.epochs, minibatch: ppo.minibatch, entropy: ppo.entropy, targetKl: ppo.targetKl, lambda: ppo.lambda },
          command: o.command ?? 'trainCdn (library call)',
          devDays,
          devQoe: Number(devServed.toFixed(4)),
          expertTrainQoe: Number.isNaN(expertQ) ? null : Number(expertQ.toFixed(4)),
          init: o.init ?? null,
          devTraces: kind === 'learned' ? null : 'held-out every-7th training traces (session 11)',
          ...(o.randomise ? { randomise: o.randomise } : {}),
          ...(o.dagger ? { dagger: { ...o.dagger, lr: o.lrDagger ?? 1e-4, expert: 'greedy-lts-actions', log: dagger } } : {}),
          curve,
          trainedAt: new Date().toISOString(),
        },
        fastLts: tree,
      }),
    );
    tf.dispose([...actor.vars, ...critic.vars]);
    optA.dispose();
    optC.dispose();
    optI.dispose();
    return {
      set,
      devQoe: devServed,
      expertTrainQoe: expertQ,
      curve,
      fastLts: tree && { devQoe: tree.devQoe, served: tree.served },
    };
  };

  if (o.treeOnly) {
    // 3 alone: distil Fast-LTS from each set's saved network, written into its manifest
    for (const set of sets) {
      const file = join(out, `${kind}-${set}.json`);
      if (!existsSync(file)) throw new InputError(`tree-only: ${file} not found (train the network first)`);
      const man = JSON.parse(readFileSync(file, 'utf8')) as LtsManifest & { fastLts?: FastLtsRecord };
      const served = ltsModelFromFiles(man, new Uint8Array(readFileSync(join(out, man.weights))));
      const sim = simFor(set);
      const evalSim = evalSimFor(set);
      const devNet = meanReward(evalSim, new LtsPolicy(served), devDays);
      log(`${set} network (${file}): dev QoE ${devNet.toFixed(3)}`);
      const rng = mulberry32(seed * 7919 + set.charCodeAt(0) * 31 + set.charCodeAt(2) + 17);
      man.fastLts = distilFastLts(sim, evalSim, set, served, trainDays, devDays, devNet, treeOptions(o), rng, log);
      man.meta = { ...(man.meta ?? {}), devQoe: Number(devNet.toFixed(4)), fastLtsCommand: o.command ?? 'trainCdn (library call)' };
      writeFileSync(file, JSON.stringify(man));
      results.push({
        set,
        devQoe: devNet,
        expertTrainQoe: NaN,
        curve: [],
        fastLts: { devQoe: man.fastLts!.devQoe, served: man.fastLts!.served },
      });
    }
    log('done');
    return results;
  }

  if (baselines !== 'only') for (const set of sets) results.push(trainSet(set));

  // 4. baselines tuned on training days (every tuneEvery-th training day, for time)
  if (baselines !== 'no' && kind !== 'learned') {
    const file = join(out, `baselines-${kind}.json`);
    const prev = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    const every = o.tuneEvery ?? 6;
    const tuneDays = trainDays.filter((_, i) => i % every === 0);
    for (const set of sets) {
      const sim = plainSimFor(set);
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
  return results;
}
