/**
 * Trains the DRL assignment policy (`npm run train:edge`, entry in cli/edge.ts): imitation of online-heu as
 * a warm start, then PPO (ppo.ts) with the reward −(a·P_u + b·(C_T + C_B)) in the arrival/departure
 * simulator (src/sim/edge/sim.ts) on training seeds (1000+), selected on seeds 501–503; bench:edge
 * evaluates on seeds 1–3. Writes OUT/<setting>.json (plain weights; served without tfjs).
 *
 * The actor is the slot scorer of assign/edge/drl.ts (one MLP rates every feasible option; masked softmax
 * over the slots); the critic is an MLP on the global features (slot 0's, the CDN's, which always exists).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { choose, EDGE_SETTINGS, options, REWARD_A, REWARD_B, type EdgeSetting } from '../assign/edge/model.js';
import { mulberry32 } from '../core/random.js';
import { dataRoot, loadTraceDir } from '../sim/abr/load.js';
import { EDGE_SIM_DEFAULTS, viewers, type EdgeSimParams } from '../sim/edge/sim.js';
import { encode, FEATURE_SETS, GLOBAL_F, IN_F, scores, slotCount, SLOT_F, type ScorerWeights } from '../assign/edge/drl.js';
import { CapacityLedger } from '../assign/edge/ledger.js';
import { InputError } from './errors.js';
import { gatherRows, maskLogits, minibatches, permutation, ppoIteration, type PpoModel } from './ppo.js';

/** What `npm run train:edge` flags set (same names in camelCase, same defaults), plus library-only inputs. */
export interface TrainEdgeOptions {
  /** edge setting of the simulated edge (default 'fat') */
  setting?: EdgeSetting;
  /** PPO iterations, one episode each (default 150) */
  iters?: number;
  /** seeds initialisation, sampling and shuffles (default 1) */
  seed?: number;
  /** PPO learning rate (Adam; also the imitation's) (default 3e-4) */
  lr?: number;
  /** output directory (default models/edge-drl) */
  out?: string;
  /** discount per arrival (default 0.995); above 0.995 the episode's end bootstraps from the last value */
  gamma?: number;
  /** resume from a saved scorer file (skips imitation; keeps the file's hidden width and feature set) */
  init?: string;
  /** rewards' scale for the critic (default (1−γ)/0.005) */
  rewardScale?: number;
  /** ignore the saved critic of `init` */
  freshCritic?: boolean;
  /** PPO iterations that fit only the critic first (default 20 with init, else 0) */
  criticWarmup?: number;
  /** scorer and critic width (default 32; `init` keeps its file's) */
  hidden?: number;
  /** inputs per slot, one of FEATURE_SETS (default IN_F; `init` keeps its file's) */
  features?: number;
  /** GAE λ (default 0.95) */
  lambda?: number;
  /** entropy bonus (default 0.01) */
  entropy?: number;
  // ---- library-only ----
  /** viewer bandwidths (Mb/s) instead of the means of the FCC training traces */
  bandwidths?: number[];
  /** length of a training episode, s (default 3600) */
  episodeS?: number;
  /** length of a validation episode, s (default 7200) */
  evalEpisodeS?: number;
  /** validation seeds (default 501, 502, 503) */
  evalSeeds?: number[];
  /** imitation episodes of online-heu (default 3) */
  imitationEpisodes?: number;
  /** PPO iterations between validations (default 10) */
  evalEvery?: number;
  /** PPO minibatch (default 1024; an episode's remainder is dropped) */
  minibatch?: number;
  /** the command line recorded in the output file */
  command?: string;
  log?: (s: string) => void;
}

/** The file OUT/<setting>.json: the scorer (served), the critic (for resuming) and the run's figures. */
export interface EdgeModelFile extends Omit<ScorerWeights, 'w1' | 'b1' | 'w2' | 'b2'> {
  setting: EdgeSetting;
  slots: number;
  iteration: number;
  eval_mean: number;
  online_heu: number;
  command: string;
  w1: number[];
  b1: number[];
  w2: number[];
  b2: number[];
  gamma: number;
  reward_scale: number;
  critic: { w1: number[]; b1: number[]; w2: number[]; b2: number[] };
}

export interface TrainEdgeResult {
  file: string;
  model: EdgeModelFile;
  /** mean penalty of the imitation (or the resumed) policy on the validation seeds, before PPO */
  startMean: number;
  /** imitation cross-entropy per epoch */
  imitation: number[];
}

/**
 * The edge trainer; see the file's comment. Throws InputError on a bad setting, feature set or init file.
 * Selects tfjs' wasm backend (the one the committed models were trained on); seeded, so a run repeats bit for bit.
 */
export async function trainEdge(o: TrainEdgeOptions = {}): Promise<TrainEdgeResult> {
  const SETTING = o.setting ?? 'fat';
  if (!Object.hasOwn(EDGE_SETTINGS, SETTING))
    throw new InputError(`setting: one of ${Object.keys(EDGE_SETTINGS).join(', ')}, got "${SETTING}"`);
  const ITERS = o.iters ?? 150;
  const SEED = o.seed ?? 1;
  const LR = o.lr ?? 3e-4;
  const OUT = resolve(o.out ?? join('models', 'edge-drl'));
  /** discount per arrival: a lease lasts ~10 min (~2,400 arrivals), so the cost of taking capacity reaches far */
  const GAMMA = o.gamma ?? 0.995;
  /** resume: start from a saved scorer (skips imitation) */
  const INIT = o.init ?? '';
  /**
   * reward scale for the critic: the default (1−γ)/0.005 keeps values at the first stage's scale (≈ 200 ×
   * the mean reward, which a small critic with Adam reaches slowly); rewardScale = 1−γ makes values ≈ the
   * mean reward. freshCritic ignores a saved critic (needed when the scale changes).
   */
  const REWARD_SCALE = o.rewardScale ?? (1 - GAMMA) / 0.005;
  const FRESH_CRITIC = o.freshCritic ?? false;
  /** PPO iterations that fit only the critic first (a resumed actor would be pushed around by a random critic) */
  const CRITIC_WARMUP = o.criticWarmup ?? (INIT ? 20 : 0);
  let initFile: (Pick<EdgeModelFile, 'w1' | 'b1' | 'w2' | 'b2' | 'hidden' | 'in'> & { critic?: EdgeModelFile['critic'] }) | null = null;
  if (INIT) {
    try {
      initFile = JSON.parse(readFileSync(resolve(INIT), 'utf8'));
    } catch (e) {
      throw new InputError(`init: cannot read ${INIT}: ${(e as Error).message}`);
    }
  }
  // scorer and critic width, and the feature set (17|20: 20 adds each option's gain over the CDN);
  // a resumed run keeps its file's
  const H = initFile ? Number(initFile.hidden) : (o.hidden ?? 32);
  const INF = initFile ? Number(initFile.in) : (o.features ?? IN_F);
  if (!(FEATURE_SETS as readonly number[]).includes(INF)) throw new InputError(`features: one of ${FEATURE_SETS.join(', ')}, got ${INF}`);
  const BATCH = o.minibatch ?? 1024;
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:edge ${SETTING} +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  await tf.setBackend('wasm');
  await tf.ready();
  const bandwidths =
    o.bandwidths ??
    loadTraceDir(join(dataRoot(), 'abr', 'traces', 'train'))
      .filter((t) => t.name.startsWith('trace_'))
      .map((t) => Array.from(t.bw).reduce((a: number, b: number) => a + b, 0) / t.bw.length);
  const params = (seed: number, durationS: number): EdgeSimParams => ({
    ...EDGE_SIM_DEFAULTS,
    setting: SETTING,
    seed,
    bandwidths,
    durationS,
  });
  const EPISODE_S = o.episodeS ?? 3600;
  const EVAL_S = o.evalEpisodeS ?? 7200;
  const S = slotCount(EDGE_SIM_DEFAULTS.edges);
  const edgeIds = Array.from({ length: EDGE_SIM_DEFAULTS.edges }, (_, i) => `e${i + 1}`);

  // variables in this order (Adam keeps its moments by position; imitation moves the first four)
  const init = (shape: number[], k: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / shape[0]), 'float32', SEED * 100 + k));
  const w1 = init([INF, H], 1),
    b1 = tf.variable(tf.zeros([H])),
    w2 = init([H, 1], 2),
    b2 = tf.variable(tf.zeros([1]));
  const cw1 = init([GLOBAL_F, H], 3),
    cb1 = tf.variable(tf.zeros([H])),
    cw2 = init([H, 1], 4),
    cb2 = tf.variable(tf.zeros([1]));
  const actorVars = [w1, b1, w2, b2];
  const criticVars = [cw1, cb1, cw2, cb2];
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
  function rollout(seed: number, mode: 'sample' | 'greedy' | 'heu', durationS: number): Roll {
    const rng = mulberry32(seed * 7919 + 17);
    const { list } = viewers(params(seed, durationS));
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
      let op = opts[idx[slot]];
      if (
        op.target !== 'cdn' &&
        !store.reserve(`v${i}`, op.target, v.req.channel, op.version, Math.round((v.leaves - v.at) * 1000), now).ok
      )
        op = opts[0];
      const pen = REWARD_A * op.penalty + REWARD_B * (op.costT + op.costB);
      r[i] = -pen;
      sum += pen;
    });
    return { x, m, a, logp, r, n, mean: sum / n, heu };
  }

  /** the scorer's raw slot scores [B, S] */
  const slotScores = (X: tf.Tensor, B: number) => {
    const h = tf.relu(tf.matMul(X.reshape([B * S, INF]), w1).add(b1));
    return tf.matMul(h, w2).add(b2).reshape([B, S]);
  };
  const valueOf = (X: tf.Tensor, B: number) => {
    const g = X.slice([0, 0, SLOT_F], [B, 1, GLOBAL_F]).reshape([B, GLOBAL_F]); // slot 0 (the CDN) always exists
    return tf
      .matMul(tf.relu(tf.matMul(g, cw1).add(cb1)), cw2)
      .add(cb2)
      .reshape([B]);
  };
  const net: PpoModel = {
    forward: (X, B) => ({ logits: slotScores(X, B), value: valueOf(X, B) }),
    variables: [...actorVars, ...criticVars],
    criticVariables: criticVars,
  };

  const opt = tf.train.adam(LR);
  // the critic warm-up has its own optimizer (Adam keeps its moments per position in the variable list)
  const criticOpt = tf.train.adam(1e-3);

  // selection on the validation seeds (bench:edge reports seeds 1–3, never seen here)
  const evalSeeds = o.evalSeeds ?? [501, 502, 503];
  const evalMean = (mode: 'greedy' | 'heu') =>
    evalSeeds.map((s) => rollout(s, mode, EVAL_S).mean).reduce((a, b) => a + b, 0) / evalSeeds.length;
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
  const imitation: number[] = [];
  for (let ep = 0; ep < (INIT ? 0 : (o.imitationEpisodes ?? 3)); ep++) {
    const d = rollout(1000 + ep, 'heu', EPISODE_S);
    let tot = 0,
      nb = 0;
    for (const idx of minibatches(permutation(d.n, rngB), BATCH, true)) {
      const X = tf.tensor3d(gatherRows(d.x, idx, S * INF), [BATCH, S, INF]),
        M = tf.tensor2d(gatherRows(d.m, idx, S), [BATCH, S]);
      const A = tf.tensor1d(
        Array.from(idx, (k) => d.heu[k]),
        'int32',
      );
      const l = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(A, S), maskLogits(slotScores(X, BATCH), M)) as tf.Scalar,
        true,
        actorVars,
      )!;
      tot += l.dataSync()[0];
      nb++;
      tf.dispose([X, M, A, l]);
    }
    imitation.push(tot / nb);
    log(`imitation epoch ${ep + 1}: cross-entropy ${(tot / nb).toFixed(4)}`);
  }
  const weightsNow = () => ({
    w: actorVars.map((v) => Array.from(v.dataSync())),
    critic: criticVars.map((v) => Array.from(v.dataSync())),
  });
  let best = { mean: evalMean('greedy'), it: 0, ...weightsNow() };
  const startMean = best.mean;
  log(`${INIT ? 'start' : 'after imitation'}: ${best.mean.toFixed(4)} (online-heu ${heuEval.toFixed(4)})`);

  // 2. PPO
  const ppoConfig = {
    gamma: GAMMA,
    lambda: o.lambda ?? 0.95,
    clip: 0.2,
    entropy: o.entropy ?? 0.01,
    rewardScale: REWARD_SCALE,
    advantageEpsilon: 0,
    epochs: 3,
    minibatch: BATCH,
    dropPartialMinibatch: true,
    optimizer: opt,
    criticOptimizer: criticOpt,
    rng: rngB,
  };
  const EVAL_EVERY = o.evalEvery ?? 10;
  for (let it = 1; it <= ITERS; it++) {
    const d = rollout(2000 + it, 'sample', EPISODE_S);
    // the critic's values, then one more for the bootstrap: with a long γ the episode's end is a truncation,
    // not a terminal state (the value of the last state stands in for the next one's)
    const V = new Float32Array(d.n + 1);
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
    V[d.n] = GAMMA > 0.995 ? V[d.n - 1] : 0;
    ppoIteration(
      net,
      { envs: 1, obs: d.x, obsShape: [S, INF], actions: d.a, logp: d.logp, rewards: d.r, values: V, masks: d.m, nActions: S },
      ppoConfig,
      { criticOnly: it <= CRITIC_WARMUP },
    );
    if (it % EVAL_EVERY === 0 || it === ITERS) {
      const e = evalMean('greedy');
      const better = e < best.mean;
      if (better) best = { mean: e, it, ...weightsNow() };
      log(
        `PPO ${it}/${ITERS}: train episode ${d.mean.toFixed(4)}, eval (argmax) ${e.toFixed(4)} vs online-heu ${heuEval.toFixed(4)} (${(((e - heuEval) / heuEval) * 100).toFixed(1)}%)${better ? ' *' : ''}${it % 100 === 0 ? ` [${tf.memory().numTensors} tensors]` : ''}`,
      );
    }
  }
  opt.dispose();
  criticOpt.dispose();
  tf.dispose([...actorVars, ...criticVars]);
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${SETTING}.json`);
  const model: EdgeModelFile = {
    setting: SETTING,
    hidden: H,
    in: INF,
    slots: S,
    iteration: best.it,
    eval_mean: best.mean,
    online_heu: heuEval,
    command: o.command ?? 'trainEdge (library call)',
    w1: best.w[0],
    b1: best.w[1],
    w2: best.w[2],
    b2: best.w[3],
    gamma: GAMMA,
    reward_scale: REWARD_SCALE,
    // the critic at that iteration (training only: lets a later run resume PPO without a random critic)
    critic: { w1: best.critic[0], b1: best.critic[1], w2: best.critic[2], b2: best.critic[3] },
  };
  writeFileSync(file, JSON.stringify(model));
  log(`wrote ${file} (iteration ${best.it}: ${best.mean.toFixed(4)} vs online-heu ${heuEval.toFixed(4)})`);
  return { file, model, startMean, imitation };
}
