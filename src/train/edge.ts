/**
 * `npm run train:edge -- --setting fat|mid|thin [--iters 150] [--seed 1] [--lr 3e-4] [--gamma 0.995] [--init FILE] [--out models/edge-drl]` — the DRL assignment policy:
 * imitation of online-heu as a warm start, then PPO with the reward −(a·P_u + b·(C_T + C_B)) in the
 * arrival/departure simulator (src/sim/edge/sim.ts) on training seeds (1000+), selected on seeds 501–503;
 * bench:edge evaluates on seeds 1–3. Writes models/edge-drl/<setting>.json (plain weights; served without tfjs).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { choose, options, REWARD_A, REWARD_B, type EdgeSetting } from '../assign/edge/model.js';
import { mulberry32 } from '../core/random.js';
import { dataRoot, loadTraceDir } from '../sim/abr/load.js';
import { EDGE_SIM_DEFAULTS, viewers, type EdgeSimParams } from '../sim/edge/sim.js';
import { encode, FEATURE_SETS, GLOBAL_F, IN_F, scores, slotCount, SLOT_F, type ScorerWeights } from '../assign/edge/drl.js';
import { CapacityLedger } from '../assign/edge/ledger.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const SETTING = arg('setting', 'fat') as EdgeSetting;
const ITERS = Number(arg('iters', '150'));
const SEED = Number(arg('seed', '1'));
const LR = Number(arg('lr', '3e-4'));
const OUT = resolve(arg('out', join('models', 'edge-drl')));
/** discount per arrival: a lease lasts ~10 min (~2,400 arrivals), so the cost of taking capacity reaches far */
const GAMMA = Number(arg('gamma', '0.995'));
/** resume: start from a saved scorer (skips imitation) */
const INIT = arg('init', '');
/**
 * reward scale for the critic: the default (1−γ)/0.005 keeps values at the first stage's scale (≈ 200 ×
 * the mean reward, which a small critic with Adam reaches slowly); `--reward-scale` = 1−γ makes values ≈ the
 * mean reward. `--fresh-critic` ignores a saved critic (needed when the scale changes).
 */
const REWARD_SCALE = Number(arg('reward-scale', String((1 - GAMMA) / 0.005)));
const FRESH_CRITIC = process.argv.includes('--fresh-critic');
/** PPO iterations that fit only the critic first (a resumed actor would be pushed around by a random critic) */
const CRITIC_WARMUP = Number(arg('critic-warmup', INIT ? '20' : '0'));
const initFile = INIT ? JSON.parse(readFileSync(resolve(INIT), 'utf8')) : null;
// scorer and critic width, and the feature set (--features 17|20: 20 adds each option's gain over the CDN);
// a resumed run keeps its file's
const H = initFile ? Number(initFile.hidden) : Number(arg('hidden', '32'));
const INF = initFile ? Number(initFile.in) : Number(arg('features', String(IN_F)));
if (!(FEATURE_SETS as readonly number[]).includes(INF)) throw new Error(`--features: one of ${FEATURE_SETS.join(', ')}`);
const t0 = Date.now();
const log = (s: string) => console.log(`[train:edge ${SETTING} +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
await tf.setBackend('wasm');
await tf.ready();
const trainDir = join(dataRoot(), 'abr', 'traces', 'train');
const bandwidths = loadTraceDir(trainDir)
  .filter((t) => t.name.startsWith('trace_'))
  .map((t) => Array.from(t.bw).reduce((a: number, b: number) => a + b, 0) / t.bw.length);
const params = (seed: number, hours = 1): EdgeSimParams => ({
  ...EDGE_SIM_DEFAULTS,
  setting: SETTING,
  seed,
  bandwidths,
  durationS: 3600 * hours,
});
const S = slotCount(EDGE_SIM_DEFAULTS.edges);
const edgeIds = Array.from({ length: EDGE_SIM_DEFAULTS.edges }, (_, i) => `e${i + 1}`);

const init = (shape: number[], k: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / shape[0]), 'float32', SEED * 100 + k));
const w1 = init([INF, H], 1),
  b1 = tf.variable(tf.zeros([H])),
  w2 = init([H, 1], 2),
  b2 = tf.variable(tf.zeros([1]));
const cw1 = init([GLOBAL_F, H], 3),
  cb1 = tf.variable(tf.zeros([H])),
  cw2 = init([H, 1], 4),
  cb2 = tf.variable(tf.zeros([1]));
const plain = (): ScorerWeights => ({
  w1: w1.dataSync() as Float32Array,
  b1: b1.dataSync() as Float32Array,
  w2: w2.dataSync() as Float32Array,
  b2: b2.dataSync() as Float32Array,
  hidden: H,
  in: INF,
});

interface Roll {
  x: Float32Array;
  m: Uint8Array;
  a: Int32Array;
  logp: Float32Array;
  r: Float32Array;
  n: number;
  mean: number;
  heu: Int32Array;
}
/** one episode; mode 'sample' (policy), 'greedy' (argmax), 'heu' (online-heu actions, for imitation) */
function rollout(seed: number, mode: 'sample' | 'greedy' | 'heu', hours = 1): Roll {
  const rng = mulberry32(seed * 7919 + 17);
  const { list } = viewers(params(seed, hours));
  const store = new CapacityLedger(edgeIds.map((id) => ({ id, url: `http://${id}`, setting: SETTING })));
  const n = list.length;
  const x = new Float32Array(n * S * INF),
    m = new Uint8Array(n * S),
    a = new Int32Array(n),
    logp = new Float32Array(n),
    r = new Float32Array(n),
    heu = new Int32Array(n);
  const wt = plain();
  const xs = new Float32Array(S * INF),
    ms = new Uint8Array(S),
    sc = new Float32Array(S);
  let sum = 0;
  list.forEach((v, i) => {
    const now = Math.round(v.at * 1000);
    const edges = store.snapshot(now);
    const opts = options(v.req, edges);
    const idx = encode(v.req, opts, edges, edgeIds, xs, ms, INF);
    x.set(xs, i * S * INF);
    m.set(ms, i * S);
    const heuOpt = choose('online-heu', opts);
    const hs = idx.indexOf(opts.indexOf(heuOpt));
    heu[i] = hs;
    scores(wt, xs, ms, S, sc);
    let mx = -Infinity;
    for (let s = 0; s < S; s++) if (sc[s] > mx) mx = sc[s];
    let z = 0;
    for (let s = 0; s < S; s++) z += ms[s] ? Math.exp(sc[s] - mx) : 0;
    let slot: number;
    if (mode === 'heu') slot = hs;
    else if (mode === 'greedy') {
      slot = 0;
      for (let s = 0; s < S; s++) if (ms[s] && sc[s] > sc[slot]) slot = s;
    } else {
      let u = rng() * z;
      slot = 0;
      for (let s = 0; s < S; s++) {
        if (!ms[s]) continue;
        u -= Math.exp(sc[s] - mx);
        slot = s;
        if (u <= 0) break;
      }
    }
    a[i] = slot;
    logp[i] = sc[slot] - mx - Math.log(z);
    let o = opts[idx[slot]];
    if (o.target !== 'cdn' && !store.reserve(`v${i}`, o.target, v.req.channel, o.version, Math.round((v.leaves - v.at) * 1000), now).ok)
      o = opts[0];
    const pen = REWARD_A * o.penalty + REWARD_B * (o.costT + o.costB);
    r[i] = -pen;
    sum += pen;
  });
  return { x, m, a, logp, r, n, mean: sum / n, heu };
}

const policyLogits = (X: tf.Tensor3D, M: tf.Tensor2D, B: number) => {
  const h = tf.relu(tf.matMul(X.reshape([B * S, INF]), w1).add(b1));
  const s = tf.matMul(h, w2).add(b2).reshape([B, S]);
  return s.add(tf.sub(1, M).mul(-1e9));
};
const valueOf = (X: tf.Tensor3D, B: number) => {
  const g = X.slice([0, 0, SLOT_F], [B, 1, GLOBAL_F]).reshape([B, GLOBAL_F]); // slot 0 (the CDN) always exists
  return tf
    .matMul(tf.relu(tf.matMul(g, cw1).add(cb1)), cw2)
    .add(cb2)
    .reshape([B]);
};

const opt = tf.train.adam(LR);
// the critic warm-up has its own optimizer (Adam keeps its moments per position in the variable list)
const criticOpt = tf.train.adam(1e-3);
const BATCH = 1024;
function batches(n: number, rng: () => number): Int32Array[] {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  const out: Int32Array[] = [];
  for (let b = 0; b + BATCH <= n; b += BATCH) out.push(p.subarray(b, b + BATCH));
  return out;
}
const gather = (src: Float32Array | Uint8Array | Int32Array, idx: Int32Array, width: number) => {
  const out = new Float32Array(idx.length * width);
  idx.forEach((k, i) => {
    for (let j = 0; j < width; j++) out[i * width + j] = src[k * width + j];
  });
  return out;
};

// selection on validation seeds 501–503 (bench:edge reports seeds 1–3, never seen here)
const evalMean = (mode: 'greedy' | 'heu') => [501, 502, 503].map((s) => rollout(s, mode, 2).mean).reduce((a, b) => a + b, 0) / 3;
const heuEval = evalMean('heu');
log(`online-heu on the validation seeds: ${heuEval.toFixed(4)}`);

// 1. imitation of online-heu (warm start), or the saved scorer
const rngB = mulberry32(SEED);
if (initFile) {
  const f = initFile;
  w1.assign(tf.tensor2d(f.w1, [INF, H]));
  b1.assign(tf.tensor1d(f.b1));
  w2.assign(tf.tensor2d(f.w2, [H, 1]));
  b2.assign(tf.tensor1d(f.b2));
  if (f.critic && !FRESH_CRITIC) {
    cw1.assign(tf.tensor2d(f.critic.w1, [GLOBAL_F, H]));
    cb1.assign(tf.tensor1d(f.critic.b1));
    cw2.assign(tf.tensor2d(f.critic.w2, [H, 1]));
    cb2.assign(tf.tensor1d(f.critic.b2));
  }
  log(`resumed from ${INIT}${f.critic && !FRESH_CRITIC ? ' (actor and critic)' : ' (actor; the critic starts fresh)'}`);
}
for (let ep = 0; ep < (INIT ? 0 : 3); ep++) {
  const d = rollout(1000 + ep, 'heu');
  let tot = 0,
    nb = 0;
  for (const idx of batches(d.n, rngB)) {
    const X = tf.tensor3d(gather(d.x, idx, S * INF), [BATCH, S, INF]),
      M = tf.tensor2d(gather(d.m, idx, S), [BATCH, S]);
    const A = tf.tensor1d(
      Array.from(idx, (k) => d.heu[k]),
      'int32',
    );
    const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(A, S), policyLogits(X, M, BATCH)) as tf.Scalar, true, [
      w1,
      b1,
      w2,
      b2,
    ])!;
    tot += l.dataSync()[0];
    nb++;
    tf.dispose([X, M, A, l]);
  }
  log(`imitation epoch ${ep + 1}: cross-entropy ${(tot / nb).toFixed(4)}`);
}
const weightsNow = () => ({
  w: [w1, b1, w2, b2].map((v) => Array.from(v.dataSync())),
  critic: [cw1, cb1, cw2, cb2].map((v) => Array.from(v.dataSync())),
});
let best = { mean: evalMean('greedy'), it: 0, ...weightsNow() };
log(`${INIT ? 'start' : 'after imitation'}: ${best.mean.toFixed(4)} (online-heu ${heuEval.toFixed(4)})`);

// 2. PPO
const LAMBDA = Number(arg('lambda', '0.95')),
  CLIP = 0.2,
  ENT = Number(arg('entropy', '0.01'));
for (let it = 1; it <= ITERS; it++) {
  const d = rollout(2000 + it, 'sample');
  // values and GAE
  const V = new Float32Array(d.n);
  for (let b = 0; b < d.n; b += 4096) {
    const k = Math.min(4096, d.n - b);
    const X = tf.tensor3d(d.x.subarray(b * S * INF, (b + k) * S * INF), [k, S, INF]);
    // tidy: valueOf's intermediates (≈1.5 MB per episode) leaked here and ran the wasm heap out near
    // iteration 520 of a 1000-iteration run
    V.set(
      tf.tidy(() => valueOf(X, k).dataSync() as Float32Array),
      b,
    );
    tf.dispose(X);
  }
  const adv = new Float32Array(d.n),
    ret = new Float32Array(d.n);
  let g = 0;
  // rewards scaled by REWARD_SCALE (see its definition); with a long γ the episode's end is a truncation,
  // not a terminal state: bootstrap from the last value
  for (let i = d.n - 1; i >= 0; i--) {
    const next = i + 1 < d.n ? V[i + 1] : GAMMA > 0.995 ? V[i] : 0;
    const delta = d.r[i] * REWARD_SCALE + GAMMA * next - V[i];
    g = delta + GAMMA * LAMBDA * g;
    adv[i] = g;
    ret[i] = g + V[i];
  }
  let mu = 0,
    sd = 0;
  for (const x of adv) mu += x;
  mu /= d.n;
  for (const x of adv) sd += (x - mu) ** 2;
  sd = Math.sqrt(sd / d.n) || 1;
  for (let i = 0; i < d.n; i++) adv[i] = (adv[i] - mu) / sd;
  for (let ep = 0; ep < 3; ep++) {
    for (const idx of batches(d.n, rngB)) {
      const X = tf.tensor3d(gather(d.x, idx, S * INF), [BATCH, S, INF]),
        M = tf.tensor2d(gather(d.m, idx, S), [BATCH, S]);
      const AI = tf.tensor1d(
          Array.from(idx, (k) => d.a[k]),
          'int32',
        ),
        A = tf.oneHot(AI, S);
      const OL = tf.tensor1d(Array.from(idx, (k) => d.logp[k])),
        AD = tf.tensor1d(Array.from(idx, (k) => adv[k])),
        R = tf.tensor1d(Array.from(idx, (k) => ret[k]));
      const l = (it <= CRITIC_WARMUP ? criticOpt : opt).minimize(
        () => {
          const vl = valueOf(X, BATCH).sub(R).square().mean();
          if (it <= CRITIC_WARMUP) return vl as tf.Scalar;
          const lp = tf.logSoftmax(policyLogits(X, M, BATCH));
          const logp = lp.mul(A).sum(1);
          const ratio = tf.exp(logp.sub(OL));
          const surr = tf.minimum(ratio.mul(AD), tf.clipByValue(ratio, 1 - CLIP, 1 + CLIP).mul(AD));
          const p = tf.exp(lp).mul(M);
          const ent = tf.neg(p.mul(lp.mul(M)).sum(1)).mean();
          return tf.neg(surr.mean()).add(vl.mul(0.5)).sub(ent.mul(ENT)) as tf.Scalar;
        },
        true,
        it <= CRITIC_WARMUP ? [cw1, cb1, cw2, cb2] : undefined,
      )!;
      tf.dispose([X, M, AI, A, OL, AD, R, l]);
    }
  }
  if (it % 10 === 0 || it === ITERS) {
    const e = evalMean('greedy');
    const better = e < best.mean;
    if (better) best = { mean: e, it, ...weightsNow() };
    log(
      `PPO ${it}/${ITERS}: train episode ${d.mean.toFixed(4)}, eval (argmax) ${e.toFixed(4)} vs online-heu ${heuEval.toFixed(4)} (${(((e - heuEval) / heuEval) * 100).toFixed(1)}%)${better ? ' *' : ''}${it % 100 === 0 ? ` [${tf.memory().numTensors} tensors]` : ''}`,
    );
  }
}
const out = OUT;
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, `${SETTING}.json`),
  JSON.stringify({
    setting: SETTING,
    hidden: H,
    in: INF,
    slots: S,
    iteration: best.it,
    eval_mean: best.mean,
    online_heu: heuEval,
    command: `npm run train:edge -- ${process.argv.slice(2).join(' ')}`.trim(),
    w1: best.w[0],
    b1: best.w[1],
    w2: best.w[2],
    b2: best.w[3],
    gamma: GAMMA,
    reward_scale: REWARD_SCALE,
    // the critic at that iteration (training only: lets a later run resume PPO without a random critic)
    critic: { w1: best.critic[0], b1: best.critic[1], w2: best.critic[2], b2: best.critic[3] },
  }),
);
log(`wrote ${join(out, `${SETTING}.json`)} (iteration ${best.it}: ${best.mean.toFixed(4)} vs online-heu ${heuEval.toFixed(4)})`);
