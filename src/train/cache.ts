/**
 * Trains the edge-cache agent (`npm run train:cache`, entry in cli/cache.ts; src/assign/cache/agent.ts;
 * edge-intelligence-immersive-media, "Edge Caching for Multimedia Content"): PPO (ppo.ts, the shared
 * implementation) over the fused action space (size step × replacement policy) in the cache simulator driven
 * by the Twitch sample (src/sim/cache). Episodes: one day of a training day (days 0–19), after a 6 h warm-up,
 * from a random size in [4, 64] GB and a random policy; each iteration runs `episodes` of them side by side
 * (GAE per episode; the episode's end is a truncation, bootstrapped from the value of the state after it).
 * Checkpoints are scored greedily on the validation days (21–23) and the best is written to <out>/agent.json
 * (plain JSON, no tfjs to run it). bench:cache reports the held-out test days only.
 * Optional imitation warm start (`imitate`, as the ABR trainers do before PPO): episodes on the training days
 * driven by a walk-to-target rule (`targetAction`: the size step nearest, in log size, to a target size, with a
 * fixed policy); the actor is fitted to its actions by cross-entropy (supervised.ts), validated as iteration 0,
 * then PPO continues from it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  AgentTuner,
  applyAction,
  CacheAgentNet,
  CACHE_ECONOMICS,
  encodeState,
  N_ACTIONS,
  POLICY_NAMES,
  SIZE_STEPS,
  STATE_SIZE,
  type CacheAgentFile,
  type CacheDecision,
  type CacheTuner,
  type RewardKind,
  type TunerObservation,
} from '../assign/cache/index.js';
import { mulberry32 } from '../core/random.js';
import { dataRoot } from '../sim/abr/load.js';
import { buildDemand, DAY_S, type Demand, type Requests } from '../sim/cache/demand.js';
import { CACHE_SIM_DEFAULTS, runCacheSim, type CacheSimResult } from '../sim/cache/sim.js';
import { CACHE_SPLIT, spanSeconds } from '../sim/cache/split.js';
import { loadTwitchRows } from '../sim/viewers/stats.js';
import { InputError } from './errors.js';
import { ppoIteration, type PpoModel } from './ppo.js';
import { supervisedEpochs } from './supervised.js';

/** What `npm run train:cache` flags set (same names in camelCase, same defaults), plus library-only inputs. */
export interface TrainCacheOptions {
  /** PPO iterations (default 40) */
  iters?: number;
  /** episodes (one simulated day each) per iteration (default 2) */
  episodes?: number;
  /** seeds initialisation, episode draws, sampling and shuffles (default 1) */
  seed?: number;
  /** Adam learning rate (default 3e-4) */
  lr?: number;
  /** discount per 10-minute decision (default 0.95) */
  gamma?: number;
  /** GAE λ (default 0.9) */
  lambda?: number;
  /** entropy bonus (default 0.01) */
  entropy?: number;
  /** reward of an interval: 'bytes' (origin bill saved net of rent) or 'hits' (default 'bytes') */
  reward?: RewardKind;
  /** weight of the rent in the reward (≥ 0, default 1; below 1 the agent buys hit rate with rent; saved in the file's meta) */
  rentWeight?: number;
  /** actor and critic width (two hidden layers; default 32) */
  hidden?: number;
  /** iterations between greedy validations (default 5; the last iteration is always validated) */
  evalEvery?: number;
  /**
   * start the actor's output bias at this value for "keep the size, LRU" (the best fixed setting on the
   * validation days), 0 elsewhere (default 0: no prior)
   */
  keepBias?: number;
  /**
   * imitation warm start: the rule walks to `sizeGb` with `policy` (choose both on the validation days, never
   * on the test days); `episodes` one-day episodes from random starts, `epochs` passes (defaults 8 and 20)
   */
  imitate?: { sizeGb: number; policy: string; episodes?: number; epochs?: number };
  /** output directory (default models/cache-agent) */
  out?: string;
  // ---- library-only ----
  /** the demand (default: buildDemand of $EDGEPLAY_DATA/live's Twitch sample) */
  demand?: Demand;
  /** PPO epochs per iteration (default 4) */
  epochs?: number;
  /** PPO minibatch (default 128; the last, shorter one of an epoch is dropped) */
  minibatch?: number;
  /** the command line recorded in the output file */
  command?: string;
  log?: (s: string) => void;
}

/** What a run did: the file written, its best validation figures, and every validation. */
export interface TrainCacheResult {
  file: string;
  agent: CacheAgentFile;
  best: { iteration: number; reward: number; hitRate: number; cost: number };
  validations: Array<{ iteration: number; result: CacheSimResult }>;
}

/** 6 h of 10-minute intervals simulated at the start of an episode, not learned from */
const WARM_INTERVALS = 36;

/**
 * The walk-to-target rule's action: the size step of SIZE_STEPS nearest in log size to `targetBytes /
 * capacityBytes` (×2 from 16 to 32 GB, keep within a factor √1.25 of the target), with `policy`.
 * @throws Error for a policy this build does not know or a target ≤ 0.
 */
export function targetAction(capacityBytes: number, targetBytes: number, policy: string): number {
  const p = POLICY_NAMES.indexOf(policy as (typeof POLICY_NAMES)[number]);
  if (p < 0) throw new Error(`imitation policy: one of ${POLICY_NAMES.join(', ')}, got "${policy}"`);
  if (!(targetBytes > 0)) throw new Error(`imitation target size must be > 0, got ${targetBytes}`);
  const want = Math.log(targetBytes / capacityBytes);
  let best = 0;
  for (let i = 1; i < SIZE_STEPS.length; i++)
    if (Math.abs(Math.log(SIZE_STEPS[i]) - want) < Math.abs(Math.log(SIZE_STEPS[best]) - want)) best = i;
  return best * POLICY_NAMES.length + p;
}

/** A tuner that acts by targetAction and records each (state, action) for the imitation. */
class TargetRuleTuner implements CacheTuner {
  readonly name = 'target-rule';
  states: Float32Array[] = [];
  actions: number[] = [];
  constructor(
    private targetBytes: number,
    private policy: string,
  ) {}
  decide(o: TunerObservation): CacheDecision {
    const a = targetAction(o.capacityBytes, this.targetBytes, this.policy);
    this.states.push(encodeState(o));
    this.actions.push(a);
    return applyAction(a, o.capacityBytes);
  }
}

/** A tuner that samples the policy network and records (state, action, log-prob, reward) per interval. */
class SamplingTuner implements CacheTuner {
  readonly name = 'agent-sampling';
  states: Float32Array[] = [];
  actions: number[] = [];
  logp: number[] = [];
  /** reward of the interval that followed each action */
  rewards: number[] = [];
  private net: CacheAgentNet;
  constructor(
    file: CacheAgentFile,
    private rng: () => number,
  ) {
    this.net = new CacheAgentNet(file);
  }
  decide(o: TunerObservation): CacheDecision {
    if (this.actions.length > this.rewards.length) this.rewards.push(o.reward);
    const x = encodeState(o);
    const z = this.net.logits(x);
    let mx = -Infinity;
    for (const v of z) mx = Math.max(mx, v);
    let sum = 0;
    for (const v of z) sum += Math.exp(v - mx);
    let u = this.rng() * sum,
      a = 0;
    for (; a < N_ACTIONS - 1; a++) {
      u -= Math.exp(z[a] - mx);
      if (u <= 0) break;
    }
    this.states.push(x);
    this.actions.push(a);
    this.logp.push(z[a] - mx - Math.log(sum));
    return applyAction(a, o.capacityBytes);
  }
}

/** The requests of [start, end) out of a sorted stream (views of its arrays, no copy). */
function slice(req: Requests, start: number, end: number): Requests {
  let lo = 0,
    hi = req.n;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (req.t[m] < start) lo = m + 1;
    else hi = m;
  }
  let j = lo;
  while (j < req.n && req.t[j] < end) j++;
  return {
    n: j - lo,
    t: req.t.subarray(lo, j),
    key: req.key.subarray(lo, j),
    bytes: req.bytes.subarray(lo, j),
    group: req.group.subarray(lo, j),
  };
}

/**
 * The cache trainer; see the file's comment. Throws InputError when the Twitch sample is missing (and no
 * `demand` is given) or an option is out of range. Selects tfjs' wasm backend; seeded, so a run repeats.
 */
export async function trainCache(o: TrainCacheOptions = {}): Promise<TrainCacheResult> {
  const ITERS = o.iters ?? 40;
  const EPISODES = o.episodes ?? 2;
  const SEED = o.seed ?? 1;
  const LR = o.lr ?? 3e-4;
  const GAMMA = o.gamma ?? 0.95;
  const LAMBDA = o.lambda ?? 0.9;
  const ENT = o.entropy ?? 0.01;
  const H = o.hidden ?? 32;
  const EVAL_EVERY = o.evalEvery ?? 5;
  const KEEP_BIAS = o.keepBias ?? 0;
  const REWARD: RewardKind = o.reward ?? 'bytes';
  if (REWARD !== 'bytes' && REWARD !== 'hits') throw new InputError(`reward: bytes or hits, got "${REWARD}"`);
  const RENT_W = o.rentWeight ?? 1;
  if (!(RENT_W >= 0)) throw new InputError(`rent-weight: a number ≥ 0, got ${RENT_W}`);
  if (!(EPISODES >= 1) || !(ITERS >= 0) || !(H >= 1) || !(EVAL_EVERY >= 1))
    throw new InputError('iters ≥ 0, episodes, hidden and evalEvery ≥ 1');
  const OUT = resolve(o.out ?? join('models', 'cache-agent'));
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:cache +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  await tf.setBackend('wasm');
  await tf.ready();

  let demand = o.demand;
  if (!demand) {
    const dir = join(dataRoot(), 'live');
    if (!existsSync(join(dir, 'twitch100k_sample_train.csv')))
      throw new InputError(`train:cache needs the Twitch sample: ${dir}/twitch100k_sample_train.csv (set EDGEPLAY_DATA)`);
    demand = buildDemand(loadTwitchRows(dir));
  }
  log(`demand: ${demand.sessions.length} sessions (${demand.params.scale} viewers per row), ${demand.days} days`);
  // training blocks of 4 days: one request stream each (object ids are consistent within a stream)
  const blocks: Array<{ from: number; req: Requests }> = [];
  for (let d = CACHE_SPLIT.trainDays.from; d < CACHE_SPLIT.trainDays.to; d += 4) {
    blocks.push({ from: d, req: demand.requests(d * DAY_S, Math.min(d + 4, CACHE_SPLIT.trainDays.to) * DAY_S) });
    log(`requests of days ${d}–${d + 3}: ${blocks[blocks.length - 1].req.n}`);
  }
  const val = spanSeconds(CACHE_SPLIT.validation);
  const valReq = demand.requests(val.start, val.end);
  log(`validation days ${CACHE_SPLIT.validation.from}–${CACHE_SPLIT.validation.to - 1}: ${valReq.n} requests`);

  // networks: actor STATE → H → H → N_ACTIONS, critic STATE → H → H → 1
  const init = (shape: number[], k: number, scale = 1) =>
    tf.variable(tf.randomNormal(shape, 0, scale * Math.sqrt(2 / shape[0]), 'float32', SEED * 100 + k));
  const actor = [
    init([STATE_SIZE, H], 1),
    tf.variable(tf.zeros([H])),
    init([H, H], 2),
    tf.variable(tf.zeros([H])),
    init([H, N_ACTIONS], 3, 0.1),
    tf.variable(tf.zeros([N_ACTIONS])),
  ];
  const critic = [
    init([STATE_SIZE, H], 4),
    tf.variable(tf.zeros([H])),
    init([H, H], 5),
    tf.variable(tf.zeros([H])),
    init([H, 1], 6),
    tf.variable(tf.zeros([1])),
  ];
  const mlp = (v: tf.Variable[], x: tf.Tensor) => {
    const h1 = tf.relu(tf.matMul(x as tf.Tensor2D, v[0] as tf.Tensor2D).add(v[1]));
    const h2 = tf.relu(tf.matMul(h1, v[2] as tf.Tensor2D).add(v[3]));
    return tf.matMul(h2, v[4] as tf.Tensor2D).add(v[5]);
  };
  if (KEEP_BIAS) {
    const b = new Float32Array(N_ACTIONS);
    b[SIZE_STEPS.indexOf(1) * POLICY_NAMES.length + POLICY_NAMES.indexOf('lru')] = KEEP_BIAS;
    actor[5].assign(tf.tensor1d(b));
  }
  const model: PpoModel = {
    forward: (x, batch) => ({ logits: mlp(actor, x), value: mlp(critic, x).reshape([batch]) }),
    variables: [...actor, ...critic],
    criticVariables: critic,
  };
  const agentFile = (meta?: Record<string, unknown>): CacheAgentFile => ({
    in: STATE_SIZE,
    hidden: [H, H],
    out: N_ACTIONS,
    layers: [0, 2, 4].map((k) => ({ w: Array.from(actor[k].dataSync()), b: Array.from(actor[k + 1].dataSync()) })),
    // the objective travels with the weights: AgentTuner (agentReward) observes the reward it was trained on
    meta: { reward: REWARD, rent_weight: RENT_W, ...meta },
  });

  const simOpts = (capacityBytes: number, policy: string, measureFrom: number) => ({
    ...CACHE_SIM_DEFAULTS,
    econ: CACHE_ECONOMICS,
    reward: REWARD,
    rentWeight: RENT_W,
    capacityBytes,
    policy,
    measureFrom,
  });
  const rng = mulberry32(SEED);
  const optimizer = tf.train.adam(LR);
  const ppo = { gamma: GAMMA, lambda: LAMBDA, clip: 0.2, entropy: ENT, epochs: o.epochs ?? 4, minibatch: o.minibatch ?? 128 };
  let best = { reward: -Infinity, iteration: 0, file: agentFile(), hitRate: 0, cost: 0 };
  const validations: TrainCacheResult['validations'] = [];
  const file = join(OUT, 'agent.json');
  /** write the best checkpoint so far (on every improvement: a stopped run keeps its best) */
  const save = (): CacheAgentFile => {
    mkdirSync(OUT, { recursive: true });
    const f: CacheAgentFile = {
      ...best.file,
      meta: {
        command: o.command ?? 'trainCache()',
        trainer: 'src/train/cache.ts (PPO: src/train/ppo.ts)',
        iteration: best.iteration,
        validation_days: `${CACHE_SPLIT.validation.from}-${CACHE_SPLIT.validation.to - 1}`,
        validation_reward: best.reward,
        validation_hit_rate: best.hitRate,
        validation_cost: best.cost,
        reward: REWARD,
        rent_weight: RENT_W,
        economics: CACHE_ECONOMICS,
        demand: { ...demand.params },
        seed: SEED,
      },
    };
    writeFileSync(file, JSON.stringify(f));
    return f;
  };
  let saved: CacheAgentFile | null = null;
  const validate = (it: number) => {
    const f = agentFile();
    const v = runCacheSim(valReq, new AgentTuner(f), simOpts(16e9, 'lru', val.measureFrom));
    validations.push({ iteration: it, result: v });
    const better = v.meanReward > best.reward;
    if (better) {
      best = { reward: v.meanReward, iteration: it, file: f, hitRate: v.hitRate, cost: v.cost };
      saved = save();
    }
    return `validation reward ${v.meanReward.toFixed(4)} hit ${(v.hitRate * 100).toFixed(2)} % byte-hit ${(v.byteHitRate * 100).toFixed(2)} % size ${v.meanSizeGB.toFixed(1)} GB cost $${v.cost.toFixed(1)} ${JSON.stringify(Object.fromEntries(Object.entries(v.policyShare).map(([k, x]) => [k, +x.toFixed(2)])))}${better ? ' *' : ''}`;
  };

  if (o.imitate) {
    const { sizeGb, policy, episodes = 8, epochs = 20 } = o.imitate;
    targetAction(16e9, sizeGb * 1e9, policy); // throws now on a bad policy or size
    const xs: Float32Array[] = [];
    const ys: number[] = [];
    for (let e = 0; e < episodes; e++) {
      const blk = blocks[Math.floor(rng() * blocks.length)];
      const span = Math.min(4, CACHE_SPLIT.trainDays.to - blk.from);
      const start = (blk.from + Math.floor(rng() * (span - 1) * 4) / 4) * DAY_S;
      const end = start + DAY_S + WARM_INTERVALS * 600;
      const rule = new TargetRuleTuner(sizeGb * 1e9, policy);
      const cap = 4e9 * 16 ** rng();
      runCacheSim(slice(blk.req, start, end), rule, { ...simOpts(cap, POLICY_NAMES[Math.floor(rng() * POLICY_NAMES.length)], start), end });
      xs.push(...rule.states);
      ys.push(...rule.actions);
    }
    const n = ys.length;
    const flat = new Float32Array(n * STATE_SIZE);
    xs.forEach((x, i) => flat.set(x, i * STATE_SIZE));
    const X = tf.tensor2d(flat, [n, STATE_SIZE]);
    const Y = tf.oneHot(tf.tensor1d(Int32Array.from(ys), 'int32'), N_ACTIONS);
    const bcOpt = tf.train.adam(1e-3);
    const losses = supervisedEpochs(
      bcOpt,
      { n, epochs, batch: 128, rng },
      (ids) => tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), mlp(actor, tf.gather(X, ids))) as tf.Scalar,
    );
    tf.dispose([X, Y]);
    bcOpt.dispose();
    log(
      `imitation of the walk to ${sizeGb} GB ${policy}: ${n} decisions from ${episodes} episodes, loss ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}; ${validate(0)}`,
    );
  }

  for (let it = 1; it <= ITERS; it++) {
    // EPISODES episodes with the current policy, side by side (time-major for ppoIteration)
    const eps: Array<{ S: Float32Array[]; A: number[]; L: number[]; R: number[]; last: Float32Array }> = [];
    const snapshot = agentFile();
    for (let e = 0; e < EPISODES; e++) {
      const blk = blocks[Math.floor(rng() * blocks.length)];
      const span = Math.min(4, CACHE_SPLIT.trainDays.to - blk.from);
      const startDay = blk.from + Math.floor(rng() * (span - 1) * 4) / 4; // quarter-day starts, a full day + warm-up inside the block
      const start = startDay * DAY_S,
        end = start + DAY_S + WARM_INTERVALS * 600;
      const tuner = new SamplingTuner(snapshot, rng);
      const cap = 4e9 * 16 ** rng();
      const pol = POLICY_NAMES[Math.floor(rng() * POLICY_NAMES.length)];
      runCacheSim(slice(blk.req, start, end), tuner, { ...simOpts(cap, pol, start), end });
      const n = tuner.rewards.length; // the last action has no reward yet: its state bootstraps
      eps.push({
        S: tuner.states.slice(WARM_INTERVALS, n),
        A: tuner.actions.slice(WARM_INTERVALS, n),
        L: tuner.logp.slice(WARM_INTERVALS, n),
        R: tuner.rewards.slice(WARM_INTERVALS, n),
        last: tuner.states[n],
      });
    }
    const T = Math.min(...eps.map((x) => x.S.length));
    const E = EPISODES;
    const obs = new Float32Array(T * E * STATE_SIZE);
    const nextObs = new Float32Array((T + 1) * E * STATE_SIZE);
    const actions = new Int32Array(T * E),
      logp = new Float32Array(T * E),
      rewards = new Float32Array(T * E);
    for (let t = 0; t <= T; t++)
      for (let e = 0; e < E; e++) {
        const ep = eps[e];
        const s = t < T ? ep.S[t] : t < ep.S.length ? ep.S[t] : ep.last;
        nextObs.set(s, (t * E + e) * STATE_SIZE);
        if (t === T) continue;
        const i = t * E + e;
        obs.set(s, i * STATE_SIZE);
        actions[i] = ep.A[t];
        logp[i] = ep.L[t];
        rewards[i] = ep.R[t];
      }
    const values = tf.tidy(() => mlp(critic, tf.tensor2d(nextObs, [(T + 1) * E, STATE_SIZE])).dataSync() as Float32Array);
    const stats = ppoIteration(
      model,
      { envs: E, obs, obsShape: [STATE_SIZE], actions, logp, rewards, values, nActions: N_ACTIONS },
      { ...ppo, optimizer, rng, dropPartialMinibatch: true },
    );
    const meanR = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    let line = `iter ${it}/${ITERS}: train reward ${meanR.toFixed(4)} (${rewards.length} steps, ${stats.epochs} epochs)`;
    if (it % EVAL_EVERY === 0 || it === ITERS) line += `; ${validate(it)}`;
    log(line);
  }
  if (!saved) saved = save(); // no iteration: the initial network
  log(`wrote ${file} (iteration ${best.iteration}, validation reward ${best.reward.toFixed(4)})`);
  tf.dispose([...actor, ...critic]);
  return {
    file,
    agent: saved,
    best: { iteration: best.iteration, reward: best.reward, hitRate: best.hitRate, cost: best.cost },
    validations,
  };
}
