/**
 * Trains the DRL bitrate policy (`npm run train:abr`, entry in cli/abr.ts) on the Pensieve training traces only:
 *  1. imitation warm start (as Comyco): an expert — RobustMPC with its look-ahead fixed (default) or the
 *     offline optimum (`expert: 'optimal'`, DP with full knowledge of the trace) — drives the simulator from
 *     random starting points of the training traces; the policy learns its actions from the states along
 *     those trajectories (the dataset is cached in .cache/, so reruns are quick);
 *  1b. (`dagger: N`) N rounds of DAgger with the offline optimum as the teacher (as Comyco's lifelong
 *     imitation): the current policy drives the deterministic simulator on the training traces, every state
 *     it visits is labelled with the optimum's next level from that exact state (DP over the rest of the
 *     session, the trace known), the labels are aggregated across rounds and the actor is refit on them;
 *  2. PPO (ppo.ts), starting from the best weights the selection kept so far (not the last imitation epoch's),
 *     with the QoE_lin reward in the noisy training environment (env.py semantics), 16 parallel
 *     environments, selecting the best weights on a validation split of the *training* traces.
 * `init: DIR` resumes: PPO starts from a saved model (no imitation).
 * The test traces are never read here. Writes OUT/{model.json,weights.bin,train.json}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_QUALITY, LEVELS, TOTAL_CHUNKS, qoeLin, type AbrObservation, type AbrPolicy } from '../core/abr.js';
import { DrlPolicy, FEATURES, buildModel, features } from '../abr/drl.js';
import { checkAbandonRule, type AbandonRule } from '../abr/abandon.js';
import { BufferBased, RobustMpc } from '../abr/baselines.js';
import { AbrEnv, type SimTrace } from '../sim/abr/env.js';
import { mulberry32 } from '../core/random.js';
import { dataRoot, heldOutSplit, loadTraceDir, loadVideoSizes } from '../sim/abr/load.js';
import { hindsightQ, optimalForTrace, optimalFromState } from '../sim/abr/optimal.js';
import { horizonExpert } from '../sim/abr/horizon.js';
import { mean, observe, runPolicy } from '../sim/abr/run.js';
import { HlsVodEnv, runHlsVod } from '../sim/abr/hls-vod.js';
import { SYNTHETIC_TRAIN_FAMILIES, syntheticTrace, type SyntheticTrainFamily } from '../sim/abr/synth.js';
import { InputError } from './errors.js';
import { repoRelative } from './cli/args.js';
import { loadModel, saveModel } from './io.js';
import { ppoIteration, type PpoModel } from './ppo.js';
import { supervisedEpochs } from './supervised.js';

/** What `npm run train:abr` flags set (same names in camelCase, same defaults), plus library-only inputs. */
export interface TrainAbrOptions {
  /** seeds initialisation, dataset start points, environments, sampling and shuffles (default 1) */
  seed?: number;
  /** imitation start points per training trace (default 6) */
  starts?: number;
  /** imitation epochs (default 60) */
  bcEpochs?: number;
  /** PPO iterations (default 1200) */
  ppoIters?: number;
  /** output directory (default models/abr-drl) */
  out?: string;
  /** buffer bucket of the offline optimum used as the expert, ms (default 200) */
  bucketMs?: number;
  /** resume PPO from a saved model directory (skips imitation) */
  init?: string;
  /** imitation expert: RobustMPC with a fixed look-ahead, or the offline optimum (default 'mpc') */
  expert?: 'mpc' | 'optimal';
  /** DAgger rounds with the offline optimum as the teacher (default 0) */
  dagger?: number;
  daggerBucketMs?: number;
  daggerEpochs?: number;
  daggerLr?: number;
  /** round r executes the teacher's action with probability beta^r (default 0.5, or 0 with init) */
  daggerBeta?: number;
  /** 'ce' imitates the optimum's next level; 'regret' minimises the expected hindsight regret (default 'ce') */
  daggerLoss?: 'ce' | 'regret';
  /** DAgger start points per trace (default: starts) */
  daggerStarts?: number;
  /** DAgger teacher: the offline optimum, or Comyco's instant solver over `daggerHorizon` chunks of the true trace (default 'optimal') */
  daggerTeacher?: 'optimal' | 'horizon';
  /** the instant solver's horizon, chunks (default 5) */
  daggerHorizon?: number;
  /** PPO steps per environment per iteration (default 192) */
  rollout?: number;
  /** entropy bonus (default 0.001) */
  entropy?: number;
  /** PPO iterations that fit only the critic first (default 30) */
  valueWarmup?: number;
  /** KL early-stop target (default 0.01) */
  targetKl?: number;
  /** PPO learning rate (default 3e-5) */
  ppoLr?: number;
  /**
   * share of the PPO environments that run the hls.js-semantics simulator (sim/abr/hls-vod.ts) with `hlsSizes` (our
   * stream's segment sizes) instead of Pensieve's, in [0, 1] (default 0; InputError outside); with it, selection
   * averages both simulators
   */
  hlsMix?: number;
  /** synthetic training traces (sim/abr/synth.ts `markov-train`, 0.2–20 Mb/s) added to the training traces (default 0) */
  synthetic?: number;
  /**
   * more synthetic families added to the PPO pool (sim/abr/synth.ts, `SYNTHETIC_TRAIN_FAMILIES`, e.g. fast links):
   * indexes 0..count−1 train; with `select: 'training-synth'` the next ⌈count/2⌉ of each family select (default none)
   */
  syntheticMix?: Array<{ family: SyntheticTrainFamily; count: number }>;
  /**
   * what selects the kept iteration: 'training' (default; every training trace, as the committed model was chosen) or
   * 'dev' (only the held-out split, every 7th training trace, which PPO and imitation never play; in hls mode also
   * synthetic `markov-train` traces numbered after the training ones), or 'dev-hls' (that dev set in the hls-mode
   * simulator only: a variant for hls.js playback), or 'training-synth' (every training trace pooled with the
   * `syntheticMix` families' selection traces, which PPO never plays: the mean QoE/chunk over the union, so a policy
   * conservative on fast links loses there). The test traces never select.
   */
  select?: 'training' | 'dev' | 'dev-hls' | 'training-synth';
  /**
   * which switches re-fetch the just-buffered fragment in the hls-mode simulator (training and selection; default 'up',
   * plain hls.js as first modelled): 'none' is the player as `monitor()` ships it (`createStreamController`,
   * src/abr/hls-stream-controller.ts), 'measured' plain hls.js 1.7 as its load logs show (`HlsVodOptions.refetch`)
   */
  hlsRefetch?: 'up' | 'measured' | 'none';
  /**
   * the controller's abandonment in the hls-mode simulator (`HlsVodOptions.abandonRule`; default null, off):
   * `DEFAULT_ABANDON` is what `monitor()` ships (src/abr/abandon.ts)
   */
  hlsAbandon?: AbandonRule | null;
  // ---- library-only ----
  /** segment sizes of the hls-mode environments (bytes, per level; our VOD stream's video_size_q) */
  hlsSizes?: number[][];
  /** Pensieve data directory with traces/train and video/ (default $EDGEPLAY_DATA/abr) */
  dataDir?: string;
  /** training traces instead of dataDir's (sorted as loadTraceDir sorts; every 7th, from the 4th, is held out) */
  traces?: SimTrace[];
  /** chunk sizes per level (bytes) instead of dataDir's video/ */
  videoSizes?: number[][];
  /** parallel PPO environments (default 16) */
  envs?: number;
  /** PPO iterations between evaluations / selections (default 25) */
  evalEvery?: number;
  /** hidden width of the actor and critic (default 128; the player's model is 128) */
  hidden?: number;
  /** where the imitation dataset is cached; null: no cache (default .cache) */
  cacheDir?: string | null;
  /** the command line recorded in train.json */
  command?: string;
  log?: (s: string) => void;
}

export interface TrainAbrResult {
  /** the selected weights (also written to `out`) */
  model: tf.LayersModel;
  /** the stage the weights come from: init, bcN, daggerN or ppoN */
  selected: string;
  trainingSetQoePerChunk: number;
  heldOutQoePerChunk: number;
  history: Array<{ iter: number; training_set: number }>;
  /** imitation loss (cross-entropy + 0.1 × value MSE) per epoch; empty with init */
  imitationLoss: number[];
  out: string;
}

/** the families `syntheticMix` may name (markov-train is `synthetic`) */
const MIX_FAMILIES: readonly string[] = SYNTHETIC_TRAIN_FAMILIES.filter((f) => f !== 'markov-train');

/**
 * The ABR trainer; see the file's comment. Throws InputError when the training data is missing. Selects tfjs'
 * wasm backend (the one the committed models were trained on). Seeded, with one quirk kept from the script it
 * replaces: a cached imitation dataset skips the start-point draws, so the run that builds the cache and a
 * rerun that reads it see different random streams from there on.
 */
export async function trainAbr(o: TrainAbrOptions = {}): Promise<TrainAbrResult> {
  const SEED = o.seed ?? 1;
  const STARTS = o.starts ?? 6;
  const BC_EPOCHS = o.bcEpochs ?? 60;
  const PPO_ITERS = o.ppoIters ?? 1200;
  const OUT = resolve(o.out ?? 'models/abr-drl');
  const BUCKET_MS = o.bucketMs ?? 200;
  const INIT = o.init ?? '';
  const VALUE_SCALE = 50;
  const EXPERT = o.expert ?? 'mpc';
  const EVAL_EVERY = o.evalEvery ?? 25;
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:abr +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);

  // the hls-mode semantics are checked before any work
  if (o.hlsRefetch !== undefined && !['up', 'measured', 'none'].includes(o.hlsRefetch))
    throw new InputError(`hlsRefetch: expected up, measured or none, got "${String(o.hlsRefetch)}"`);
  if (o.hlsAbandon) {
    try {
      checkAbandonRule(o.hlsAbandon);
    } catch (e) {
      throw new InputError(`hlsAbandon: ${(e as Error).message}`);
    }
  }
  const abr = o.dataDir ?? join(dataRoot(), 'abr');
  if (!o.traces && !existsSync(join(abr, 'traces', 'train')))
    throw new InputError(`training traces not found under ${abr}/traces/train (set EDGEPLAY_DATA)`);
  await tf.setBackend('wasm');
  await tf.ready();
  const all = o.traces ?? loadTraceDir(join(abr, 'traces', 'train'));
  const sizes = o.videoSizes ?? loadVideoSizes(join(abr, 'video'));
  // validation split of the training traces: every 7th trace (by sorted name)
  const { train, dev: valid } = heldOutSplit(all);
  if (!train.length || !valid.length) throw new InputError(`need at least 4 training traces (the 4th is held out), got ${all.length}`);
  const synth = Array.from({ length: o.synthetic ?? 0 }, (_, i) => syntheticTrace('markov-train', i));
  const mix = o.syntheticMix ?? [];
  for (const m of mix)
    if (!MIX_FAMILIES.includes(m.family) || !(Number.isInteger(m.count) && m.count >= 1))
      throw new InputError(
        `syntheticMix: FAMILY:COUNT with FAMILY one of ${MIX_FAMILIES.join(', ')} (markov-train is --synthetic) and COUNT >= 1, got ${m.family}:${m.count}`,
      );
  if (new Set(mix.map((m) => m.family)).size !== mix.length) throw new InputError('syntheticMix: a family appears twice');
  const mixTrain = mix.flatMap((m) => Array.from({ length: m.count }, (_, i) => syntheticTrace(m.family, i)));
  // the mix's selection traces (select 'training-synth'): numbered after the training ones, never played by PPO
  const mixSelect = mix.flatMap((m) => Array.from({ length: Math.ceil(m.count / 2) }, (_, i) => syntheticTrace(m.family, m.count + i)));
  if (o.select === 'training-synth' && !mixSelect.length) throw new InputError("select 'training-synth' needs syntheticMix");
  const HLS_MIX = o.hlsMix ?? 0;
  if (!(HLS_MIX >= 0 && HLS_MIX <= 1)) throw new InputError(`hlsMix is a share of the PPO environments, in [0, 1], got ${HLS_MIX}`);
  if (HLS_MIX > 0 && !o.hlsSizes) throw new InputError('hlsMix needs hlsSizes (the stream the hls-mode simulator plays)');
  if (o.select === 'dev-hls' && !o.hlsSizes)
    throw new InputError("select 'dev-hls' needs hlsSizes (the stream the hls-mode selection plays; --hls-sizes DIR)");
  const SELECT = o.select ?? 'training';
  /** the player semantics every hls-mode environment and the hls selection run with */
  const hlsSemantics = { refetch: o.hlsRefetch ?? 'up', abandonRule: o.hlsAbandon ?? null } as const;
  const hlsUsed = HLS_MIX > 0 || SELECT === 'dev-hls';
  // the hls-mode selection set, 30 fragments as bench:browser-abr plays: every 4th training trace and every 4th synthetic
  // one, or (select 'dev') the held-out split and synthetic traces training never draws
  const devSynth = Array.from({ length: Math.ceil(synth.length / 4) }, (_, i) => syntheticTrace('markov-train', synth.length + i));
  const hlsSelect =
    SELECT === 'dev' || SELECT === 'dev-hls'
      ? [...valid, ...devSynth]
      : [...all.filter((_, i) => i % 4 === 0), ...synth.filter((_, i) => i % 4 === 0)];
  log(
    `backend ${tf.getBackend()}, ${train.length} training traces, ${valid.length} validation traces (from the training set), ${synth.length} synthetic markov-train, ${mixTrain.length} synthetic of ${mix.map((m) => `${m.family}:${m.count}`).join(',') || 'no other family'} (+${mixSelect.length} selecting), hls-mode share ${HLS_MIX}`,
  );
  const rng = mulberry32(SEED);

  // ---------- 1. imitation dataset from the expert ----------
  interface Dataset {
    x: Float32Array;
    y: Int32Array;
    ret: Float32Array;
    n: number;
  }
  function buildDataset(): Dataset {
    const cacheDir = o.cacheDir === undefined ? '.cache' : o.cacheDir;
    const cache = cacheDir === null ? null : resolve(cacheDir, `abr-bc-${EXPERT}-f${FEATURES}-s${SEED}-k${STARTS}-b${BUCKET_MS}.json`);
    if (cache && existsSync(cache)) {
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
          const ob = observe(q, s, thr, del, TOTAL_CHUNKS);
          features(ob, buf);
          for (const v of buf) xs.push(v);
          q = opt ? opt.qualities[i + 1] : mpc.decide(ob);
          ys.push(q);
        }
        // discounted return-to-go of the expert's trajectory, for the value head
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
    if (cache) {
      mkdirSync(resolve(cacheDir!), { recursive: true });
      writeFileSync(cache, JSON.stringify({ n: ys.length, x: xs, y: ys, ret: rets }));
    }
    return { x: Float32Array.from(xs), y: Int32Array.from(ys), ret: Float32Array.from(rets), n: ys.length };
  }

  function evaluate(m: tf.LayersModel, traces: SimTrace[]): number {
    const r = runPolicy(new DrlPolicy(m), traces, sizes);
    return mean(r.map((x) => x.qoeSum)) / (TOTAL_CHUNKS - 1);
  }
  /** QoE/chunk in the hls-mode simulator on the hls selection set (30 fragments of our stream) */
  function evaluateHls(m: tf.LayersModel): number {
    const p = new DrlPolicy(m);
    return mean(hlsSelect.map((t) => runHlsVod(p, t, { ...hlsSemantics, sizes: o.hlsSizes!, chunks: 30 }).qoeChunk));
  }

  {
    const score = (p: () => AbrPolicy, tr: SimTrace[]) =>
      (mean(runPolicy(p(), tr, sizes).map((r) => r.qoeSum)) / (TOTAL_CHUNKS - 1)).toFixed(4);
    log(
      `baselines QoE/chunk: training set bb ${score(() => new BufferBased(), all)}, robustmpc ${score(() => new RobustMpc(sizes), all)}; held-out split bb ${score(() => new BufferBased(), valid)}, robustmpc ${score(() => new RobustMpc(sizes), valid)}`,
    );
  }
  const model = buildModel(tf, o.hidden ?? 128, SEED);
  let best = { score: -Infinity, weights: [] as tf.Tensor[], stage: '' };
  // selection score: every training trace (127) in test semantics; the held-out split is reported too
  let lastParts = '';
  const keepBest = (stage: string) => {
    const pens = evaluate(model, SELECT === 'training' ? all : SELECT === 'training-synth' ? [...all, ...mixSelect] : valid);
    const hls = HLS_MIX > 0 || SELECT === 'dev-hls' ? evaluateHls(model) : null;
    const score = hls === null ? pens : SELECT === 'dev-hls' ? hls : (pens + hls) / 2;
    lastParts = hls === null ? '' : ` (pensieve ${pens.toFixed(4)}, hls mode ${hls.toFixed(4)})`;
    if (score > best.score) {
      best.weights.forEach((w) => w.dispose());
      best = { score, weights: model.getWeights().map((w) => w.clone()), stage };
    }
    return score;
  };

  if (INIT) {
    const init = await loadModel(resolve(INIT));
    model.setWeights(init.getWeights());
    init.dispose();
    log(`resumed from ${INIT}: training-set QoE/chunk ${keepBest('init').toFixed(4)}${lastParts}`);
  }
  const data = INIT ? null : buildDataset();
  const imitationLoss: number[] = [];
  if (data) log(`imitation: ${data.n} samples, ${BC_EPOCHS} epochs`);
  if (data) {
    const opt = tf.train.adam(1e-3);
    const X = tf.tensor2d(data.x, [data.n, FEATURES]);
    const Y = tf.oneHot(tf.tensor1d(data.y, 'int32'), LEVELS);
    const R = tf.tensor2d(data.ret, [data.n, 1]);
    supervisedEpochs(
      opt,
      { n: data.n, epochs: BC_EPOCHS, batch: 512, rng },
      (ids) => {
        const xb = tf.gather(X, ids);
        const [logits, value] = model.apply(xb) as tf.Tensor[];
        const ce = tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), logits);
        const vl = tf.losses.meanSquaredError(tf.gather(R, ids).div(VALUE_SCALE), value);
        return ce.add(vl.mul(0.1)) as tf.Scalar;
      },
      (ep, meanLoss) => {
        imitationLoss.push(meanLoss);
        if (ep % 5 === 4 || ep === BC_EPOCHS - 1)
          log(
            `imitation epoch ${ep + 1}/${BC_EPOCHS}: loss ${meanLoss.toFixed(4)}, training-set QoE/chunk ${keepBest(`bc${ep + 1}`).toFixed(4)}`,
          );
      },
    );
    tf.dispose([X, Y, R]);
    opt.dispose();
  }

  // ---------- 1b. DAgger with the offline optimum as the teacher ----------
  const DAGGER = o.dagger ?? 0;
  if (DAGGER > 0) {
    const bucket = o.daggerBucketMs ?? 500;
    const epochs = o.daggerEpochs ?? 8;
    const lr = o.daggerLr ?? 3e-4;
    // round r executes the teacher's action with probability beta0^r (round 1: mostly the teacher, unless resuming)
    const beta0 = o.daggerBeta ?? (INIT ? 0 : 0.5);
    // 'ce': imitate the optimum's next level; 'regret' (cost-sensitive): minimise the expected hindsight regret
    // Σ_a π(a|s)·(max Q − Q[a]) with Q from hindsightQ (6 DPs' worth per state, so fewer starts are used)
    const lossKind = o.daggerLoss ?? 'ce';
    const starts = o.daggerStarts ?? STARTS;
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
            const ob = observe(q, s, thr, del, TOTAL_CHUNKS);
            const pos = env.position;
            let teacher: number;
            if (lossKind === 'regret') {
              const Q = hindsightQ(tr, sizes, { ...pos, lastQ: q }, { bucketMs: bucket });
              let top = 0;
              for (let a = 1; a < LEVELS; a++) if (Q[a] > Q[top]) top = a;
              for (let a = 0; a < LEVELS; a++) regrets.push(Q[top] - Q[a]);
              teacher = top;
            } else if (o.daggerTeacher === 'horizon')
              teacher = horizonExpert(tr, sizes, { ...pos, lastQ: q }, { horizon: o.daggerHorizon ?? 5 }).level;
            else teacher = optimalFromState(tr, sizes, { ...pos, lastQ: q }, { bucketMs: bucket }).qualities[0];
            const mine = policy.decide(ob);
            xs.push(Float32Array.from(features(ob, buf)));
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
      supervisedEpochs(
        opt,
        { n, epochs, batch: 512, rng },
        (ids) => {
          const [logits] = model.apply(tf.gather(X, ids)) as tf.Tensor[];
          if (RG) return tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.gather(RG, ids)), 1)) as tf.Scalar;
          return tf.losses.softmaxCrossEntropy(tf.gather(Y!, ids), logits) as tf.Scalar;
        },
        (ep, meanLoss) => {
          if (ep === epochs - 1)
            log(
              `DAgger round ${round}: fit ${epochs} epochs, loss ${meanLoss.toFixed(4)}, training-set QoE/chunk ${keepBest(`dagger${round}`).toFixed(4)} (best ${best.score.toFixed(4)} at ${best.stage}), held-out ${evaluate(model, valid).toFixed(4)}`,
            );
        },
      );
      X.dispose();
      Y?.dispose();
      RG?.dispose();
    }
    opt.dispose();
    // PPO continues from the best imitation weights
    model.setWeights(best.weights);
  }

  // PPO starts from the selected weights, not the last imitation epoch's: with a selection the imitation does not optimise
  // (dev-hls: another simulator) the last epoch can be far below the best (session 13: dev-hls 0.6395 at bc60 against
  // 0.9146 at bc15); DAgger has already done this. With init and nothing before PPO, best is the init.
  if (data && DAGGER === 0) model.setWeights(best.weights);

  // ---------- 2. PPO in the noisy training environment ----------
  const N_ENV = o.envs ?? 16;
  const T = o.rollout ?? 192;
  const ENT = o.entropy ?? 0.001;
  const VALUE_WARMUP = o.valueWarmup ?? 30;
  const ppoOpt = tf.train.adam(o.ppoLr ?? 3e-5);
  const valueOpt = tf.train.adam(1e-3);
  // the actor and critic towers of buildModel: the warm-up moves only the critic's
  const vars = (names: string[]) => names.flatMap((n) => model.getLayer(n).trainableWeights.map((w) => w.read() as tf.Variable));
  const net: PpoModel = {
    forward: (x) => {
      const [logits, v] = model.apply(x) as tf.Tensor[];
      return { logits, value: tf.squeeze(v, [1]) };
    },
    variables: vars(['h1', 'h2', 'logits', 'c1', 'c2', 'value']),
    criticVariables: vars(['c1', 'c2', 'value']),
  };
  const ppoConfig = {
    gamma: 0.99,
    lambda: 0.95,
    clip: 0.2,
    valueScale: VALUE_SCALE,
    entropy: ENT,
    epochs: 4,
    minibatch: 512,
    targetKl: o.targetKl ?? 0.01,
    optimizer: ppoOpt,
    criticOptimizer: valueOpt,
    rng,
  };
  interface EnvSlot {
    env: AbrEnv;
    last: number;
    thr: number[];
    del: number[];
    obs: AbrObservation | null;
    /** an hls-mode environment instead of `env` */
    hls?: HlsVodEnv;
    rng?: () => number;
  }
  const pool = [...train, ...synth, ...mixTrain];
  const nHls = Math.round(N_ENV * HLS_MIX);
  const slots: EnvSlot[] = Array.from({ length: N_ENV }, (_, i) => ({
    env: new AbrEnv({ traces: pool, videoSizes: sizes, train: true, seed: SEED * 1000 + i }),
    last: DEFAULT_QUALITY,
    thr: [],
    del: [],
    obs: null,
    ...(i < nHls
      ? { hls: new HlsVodEnv({ ...hlsSemantics, sizes: o.hlsSizes!, chunks: TOTAL_CHUNKS }), rng: mulberry32(SEED * 7919 + i) }
      : {}),
  }));
  /** a new hls-mode session: a random trace of the pool, a random start in it, 30 or 48 fragments */
  function hlsReset(sl: EnvSlot): void {
    const r = sl.rng!;
    const t = pool[Math.floor(r() * pool.length)];
    const span = t.time[t.time.length - 1] - t.time[0];
    sl.hls = new HlsVodEnv({ ...hlsSemantics, sizes: o.hlsSizes!, chunks: r() < 0.5 ? 30 : TOTAL_CHUNKS });
    sl.obs = sl.hls.reset(t, r() * span);
  }
  // each slot starts by downloading chunk 0 at the default quality
  function stepSlot(sl: EnvSlot, q: number): { reward: number; done: boolean } {
    if (sl.hls) {
      const st = sl.hls.step(q);
      if (st.done) hlsReset(sl);
      else sl.obs = st.obs;
      return { reward: st.reward, done: st.done };
    }
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
    if (sl.hls) {
      hlsReset(sl);
      continue;
    }
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
    const warm = it <= VALUE_WARMUP; // fit the critic to this environment before moving the policy
    const st = ppoIteration(
      net,
      { envs: N_ENV, obs, obsShape: [FEATURES], actions: act, logp, rewards: rew, values: val, dones: done, nActions: LEVELS },
      ppoConfig,
      { criticOnly: warm },
    );
    if (it % EVAL_EVERY === 0 || it === PPO_ITERS) {
      const v = keepBest(`ppo${it}`);
      hist.push({ iter: it, training_set: v });
      log(
        `PPO iteration ${it}/${PPO_ITERS}${warm ? ' (critic warm-up)' : ''}: mean reward/chunk ${mean(Array.from(rew)).toFixed(3)}, epochs ${st.epochs}, training-set QoE/chunk ${v.toFixed(4)}${lastParts} (best ${best.score.toFixed(4)} at ${best.stage}), held-out ${evaluate(model, valid).toFixed(4)}`,
      );
    }
  }
  ppoOpt.dispose();
  valueOpt.dispose();

  model.setWeights(best.weights);
  best.weights.forEach((w) => w.dispose());
  const heldOut = evaluate(model, valid);
  log(`selected ${best.stage}: selection score (${SELECT}) ${best.score.toFixed(4)}, held-out split ${heldOut.toFixed(4)} QoE/chunk`);
  mkdirSync(OUT, { recursive: true });
  await saveModel(model, OUT);
  writeFileSync(
    join(OUT, 'train.json'),
    JSON.stringify(
      {
        command: o.command ?? 'trainAbr (library call)',
        init: INIT ? repoRelative(INIT) : null,
        dagger: DAGGER,
        seed: SEED,
        starts: STARTS,
        bc_epochs: BC_EPOCHS,
        ppo_iters: PPO_ITERS,
        hls_mix: HLS_MIX,
        // null when no hls-mode environment or evaluation ran (hlsMix 0, select 'training')
        hls_refetch: hlsUsed ? hlsSemantics.refetch : null,
        hls_abandon: hlsUsed ? hlsSemantics.abandonRule : null,
        select: SELECT,
        synthetic: synth.length,
        synthetic_mix: mix,
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
  return {
    model,
    selected: best.stage,
    trainingSetQoePerChunk: best.score,
    heldOutQoePerChunk: heldOut,
    history: hist,
    imitationLoss,
    out: OUT,
  };
}
