/**
 * `npm run train:cache -- [--iters 40] [--episodes 2] [--seed 1] [--lr 3e-4] [--reward bytes|hits] [--keep-bias 0] [--out models/cache-agent]`
 *
 * The edge-cache agent (src/assign/cache/agent.ts; edge-intelligence-immersive-media, "Edge Caching for
 * Multimedia Content"): PPO over the fused action space (size step × replacement policy) in the cache
 * simulator driven by the Twitch sample (src/sim/cache). Episodes: one day of a training day (days 0–19),
 * after a 6 h warm-up, from a random size in [4, 64] GB and a random policy. Checkpoints are scored greedily on
 * the validation days (21–23) and the best is written to <out>/agent.json (plain JSON, no tfjs to run it).
 * bench:cache reports the held-out test days only.
 *
 * The PPO update is this file's own (`ppoUpdate`, one isolated function): src/train/ppo.ts was not on main
 * when this was written; swap it in there when it lands.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
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
import { buildDemand, DAY_S, type Requests } from '../sim/cache/demand.js';
import { CACHE_SIM_DEFAULTS, runCacheSim } from '../sim/cache/sim.js';
import { CACHE_SPLIT, spanSeconds } from '../sim/cache/split.js';
import { loadTwitchRows } from '../sim/viewers/stats.js';

const { values: args } = parseArgs({
  options: {
    iters: { type: 'string', default: '40' },
    episodes: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    lr: { type: 'string', default: '3e-4' },
    gamma: { type: 'string', default: '0.95' },
    reward: { type: 'string', default: 'bytes' },
    hidden: { type: 'string', default: '32' },
    'eval-every': { type: 'string', default: '5' },
    /** start the actor biased towards "keep the size, LRU" (the best fixed setting on the validation days) */
    'keep-bias': { type: 'string', default: '0' },
    out: { type: 'string', default: join('models', 'cache-agent') },
  },
});
const ITERS = Number(args.iters),
  EPISODES = Number(args.episodes),
  SEED = Number(args.seed),
  LR = Number(args.lr),
  GAMMA = Number(args.gamma),
  H = Number(args.hidden),
  EVAL_EVERY = Number(args['eval-every']);
const REWARD = args.reward as RewardKind;
if (REWARD !== 'bytes' && REWARD !== 'hits') throw new Error('--reward: bytes or hits');
const OUT = resolve(args.out!);
const LAMBDA = 0.9,
  CLIP = 0.2,
  ENT = 0.01,
  WARM_INTERVALS = 36; // 6 h of 10-min intervals: simulated, not learned from
const t0 = Date.now();
const log = (s: string) => console.log(`[train:cache +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
await tf.setBackend('wasm');
await tf.ready();

const rows = loadTwitchRows(join(dataRoot(), 'live'));
const demand = buildDemand(rows);
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
const mlp = (v: tf.Variable[], x: tf.Tensor2D) => {
  const h1 = tf.relu(tf.matMul(x, v[0] as tf.Tensor2D).add(v[1]));
  const h2 = tf.relu(tf.matMul(h1, v[2] as tf.Tensor2D).add(v[3]));
  return tf.matMul(h2, v[4] as tf.Tensor2D).add(v[5]);
};
if (Number(args['keep-bias'])) {
  const b = new Float32Array(N_ACTIONS);
  b[SIZE_STEPS.indexOf(1) * POLICY_NAMES.length + POLICY_NAMES.indexOf('lru')] = Number(args['keep-bias']);
  actor[5].assign(tf.tensor1d(b));
}
const agentFile = (meta?: Record<string, unknown>): CacheAgentFile => ({
  in: STATE_SIZE,
  hidden: [H, H],
  out: N_ACTIONS,
  layers: [0, 2, 4].map((k) => ({ w: Array.from(actor[k].dataSync()), b: Array.from(actor[k + 1].dataSync()) })),
  meta,
});

/** A tuner that samples the policy network and records (state, action, log-prob, reward) per interval. */
class SamplingTuner implements CacheTuner {
  readonly name = 'agent-sampling';
  states: Float32Array[] = [];
  actions: number[] = [];
  logp: number[] = [];
  rewards: number[] = []; // reward of the interval that followed each action
  private net = new CacheAgentNet(agentFile());
  constructor(private rng: () => number) {}
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

/**
 * One PPO update (clipped surrogate, value loss, entropy bonus) on a batch of transitions. Isolated so a
 * shared PPO (src/train/ppo.ts) can replace it.
 */
function ppoUpdate(
  opt: tf.Optimizer,
  X: Float32Array,
  A: Int32Array,
  oldLogp: Float32Array,
  adv: Float32Array,
  ret: Float32Array,
  rng: () => number,
) {
  const n = A.length,
    B = 128;
  for (let ep = 0; ep < 4; ep++) {
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let b = 0; b + B <= n; b += B) {
      const idx = perm.subarray(b, b + B);
      const xs = new Float32Array(B * STATE_SIZE);
      idx.forEach((k, i) => xs.set(X.subarray(k * STATE_SIZE, (k + 1) * STATE_SIZE), i * STATE_SIZE));
      const x = tf.tensor2d(xs, [B, STATE_SIZE]);
      const a = tf.oneHot(
        tf.tensor1d(
          Array.from(idx, (k) => A[k]),
          'int32',
        ),
        N_ACTIONS,
      );
      const ol = tf.tensor1d(Array.from(idx, (k) => oldLogp[k]));
      const ad = tf.tensor1d(Array.from(idx, (k) => adv[k]));
      const rt = tf.tensor1d(Array.from(idx, (k) => ret[k]));
      const l = opt.minimize(() => {
        const lp = tf.logSoftmax(mlp(actor, x));
        const logp = lp.mul(a).sum(1);
        const ratio = tf.exp(logp.sub(ol));
        const surr = tf.minimum(ratio.mul(ad), tf.clipByValue(ratio, 1 - CLIP, 1 + CLIP).mul(ad));
        const ent = tf.neg(tf.exp(lp).mul(lp).sum(1)).mean();
        const vl = mlp(critic, x).reshape([B]).sub(rt).square().mean();
        return tf.neg(surr.mean()).add(vl.mul(0.5)).sub(ent.mul(ENT)) as tf.Scalar;
      }, true);
      tf.dispose([x, a, ol, ad, rt, l!]);
    }
  }
}

const simOpts = (capacityBytes: number, policy: string, measureFrom: number) => ({
  ...CACHE_SIM_DEFAULTS,
  econ: CACHE_ECONOMICS,
  reward: REWARD,
  capacityBytes,
  policy,
  measureFrom,
});
function validate(file: CacheAgentFile) {
  return runCacheSim(valReq, new AgentTuner(file), simOpts(16e9, 'lru', val.measureFrom));
}

const rng = mulberry32(SEED);
const opt = tf.train.adam(LR);
let best = { reward: -Infinity, it: 0, file: agentFile(), hitRate: 0, cost: 0 };
/** write the best checkpoint so far (on every improvement: a stopped run keeps its best) */
function save(): void {
  mkdirSync(OUT, { recursive: true });
  const file: CacheAgentFile = {
    ...best.file,
    meta: {
      command: `npm run train:cache -- ${process.argv.slice(2).join(' ')}`.trim(),
      iteration: best.it,
      validation_days: `${CACHE_SPLIT.validation.from}-${CACHE_SPLIT.validation.to - 1}`,
      validation_reward: best.reward,
      validation_hit_rate: best.hitRate,
      validation_cost: best.cost,
      reward: REWARD,
      economics: CACHE_ECONOMICS,
      demand: { ...demand.params },
      seed: SEED,
    },
  };
  writeFileSync(join(OUT, 'agent.json'), JSON.stringify(file));
}
for (let it = 1; it <= ITERS; it++) {
  const X: Float32Array[] = [],
    A: number[] = [],
    L: number[] = [],
    adv: number[] = [],
    ret: number[] = [];
  let meanR = 0;
  for (let e = 0; e < EPISODES; e++) {
    const blk = blocks[Math.floor(rng() * blocks.length)];
    const span = Math.min(4, CACHE_SPLIT.trainDays.to - blk.from);
    const startDay = blk.from + Math.floor(rng() * (span - 1) * 4) / 4; // quarter-day starts, a full day + warm-up inside the block
    const start = startDay * DAY_S,
      end = start + DAY_S + WARM_INTERVALS * 600;
    const req = blk.req;
    // the episode's slice of the block's stream
    let lo = 0,
      hi = req.n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (req.t[m] < start) lo = m + 1;
      else hi = m;
    }
    let j = lo;
    while (j < req.n && req.t[j] < end) j++;
    const slice: Requests = {
      n: j - lo,
      t: req.t.subarray(lo, j),
      key: req.key.subarray(lo, j),
      bytes: req.bytes.subarray(lo, j),
      group: req.group.subarray(lo, j),
    };
    const tuner = new SamplingTuner(rng);
    const cap = 4e9 * 16 ** rng();
    const pol = POLICY_NAMES[Math.floor(rng() * POLICY_NAMES.length)];
    runCacheSim(slice, tuner, { ...simOpts(cap, pol, start), end });
    const n = tuner.rewards.length; // the last action has no reward yet
    const S = tuner.states.slice(WARM_INTERVALS, n),
      acts = tuner.actions.slice(WARM_INTERVALS, n),
      lps = tuner.logp.slice(WARM_INTERVALS, n),
      rs = tuner.rewards.slice(WARM_INTERVALS, n);
    const xs = new Float32Array(S.length * STATE_SIZE);
    S.forEach((s, i) => xs.set(s, i * STATE_SIZE));
    const V = tf.tidy(() => mlp(critic, tf.tensor2d(xs, [S.length, STATE_SIZE])).dataSync() as Float32Array);
    // GAE; the episode's end is a truncation: bootstrap from the last value
    let g = 0;
    const ad = new Array<number>(S.length);
    for (let i = S.length - 1; i >= 0; i--) {
      const next = i + 1 < S.length ? V[i + 1] : V[i];
      const delta = rs[i] + GAMMA * next - V[i];
      g = delta + GAMMA * LAMBDA * g;
      ad[i] = g;
    }
    X.push(...S);
    A.push(...acts);
    L.push(...lps);
    adv.push(...ad);
    ret.push(...ad.map((x, i) => x + V[i]));
    meanR += rs.reduce((a, b) => a + b, 0) / rs.length / EPISODES;
  }
  const mu = adv.reduce((a, b) => a + b, 0) / adv.length;
  const sd = Math.sqrt(adv.reduce((a, b) => a + (b - mu) ** 2, 0) / adv.length) || 1;
  const xs = new Float32Array(X.length * STATE_SIZE);
  X.forEach((s, i) => xs.set(s, i * STATE_SIZE));
  ppoUpdate(
    opt,
    xs,
    Int32Array.from(A),
    Float32Array.from(L),
    Float32Array.from(adv, (x) => (x - mu) / sd),
    Float32Array.from(ret),
    rng,
  );
  let line = `iter ${it}/${ITERS}: train reward ${meanR.toFixed(4)} (${X.length} steps)`;
  if (it % EVAL_EVERY === 0 || it === ITERS) {
    const f = agentFile();
    const v = validate(f);
    const better = v.meanReward > best.reward;
    if (better) {
      best = { reward: v.meanReward, it, file: f, hitRate: v.hitRate, cost: v.cost };
      save();
    }
    line += `; validation reward ${v.meanReward.toFixed(4)} hit ${(v.hitRate * 100).toFixed(2)} % byte-hit ${(v.byteHitRate * 100).toFixed(2)} % size ${v.meanSizeGB.toFixed(1)} GB cost $${v.cost.toFixed(1)} ${JSON.stringify(Object.fromEntries(Object.entries(v.policyShare).map(([k, x]) => [k, +x.toFixed(2)])))}${better ? ' *' : ''}`;
  }
  log(line);
}
log(`wrote ${join(OUT, 'agent.json')} (iteration ${best.it}, validation reward ${best.reward.toFixed(4)})`);
