/**
 * The trainer of the latency-aware DRL live policy (`npm run train:live-abr`, entry in cli/live-abr.ts):
 * the ladder-agnostic scorer of src/abr/live-drl.ts in the live simulator (src/sim/abr/live.ts) with the
 * learned chunk-size forecaster's predictions in its state (published sizes of complete chunks + forecasts):
 *  1. imitation warm start: live RobustMPC (on the same predicted sizes) plays random sessions — a random
 *     *training* video of the shared chunk dataset (and of our encodes when present) whose ladder the traces
 *     can carry, a random *training* Pensieve trace from a random point — and the actor learns its choices;
 *  2. PPO through the shared src/train/ppo.ts (clipped surrogate, GAE, masks over the rungs a ladder lacks,
 *     KL early stop, a critic-only warm-up) in the noisy environment (each part's bytes x U[0.9, 1.1)), reward =
 *     the chunk's live QoE (core/live-qoe.ts) / (D x the ladder's top kbps), 16 sessions in parallel.
 * The checkpoint is selected on a validation set that never touches the test traces: every 7th training trace
 * (by name) x 3 *dev* videos each. `tuneBb` also prints the live BB's reservoir / cushion grid on training
 * sessions (where LiveBufferBased's defaults come from).
 * Late decisions (`decideAfterParts` = k > 0, BENCHMARKS.md "Deciding one LL-HLS part later"): every session decides
 * each chunk after its first k LL-HLS parts are published (LiveOptions.decideAfterParts), and the `aitrans_live`
 * videos with part bytes (src/sim/abr/parts.ts; their frame traces in `frames`) see the forecast corrected by those
 * parts' bytes (HeadForecastSizes with the coefficients of `partModel`); a share `partShare` of the training sessions
 * is drawn from them, and the validation adds every validation trace x each dev video with part bytes. `init` warm
 * starts from a previous actor (and its critic, when saved). Writes <out>/{model.json, weights.bin, train.json} and
 * the training-only critic in <out>/critic/ (for a later `init`).
 */
import { parseSizeRisk } from '../abr/size-risk.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { LiveBufferBased, liveBaseline, type LiveBaselineName, type LiveObservation, type LivePolicy } from '../abr/live.js';
import { LIVE_FEATURES, LIVE_GLOBAL, LIVE_RMAX, LiveDrlPolicy, buildLiveDrl, denseArrays, liveFeatures } from '../abr/live-drl.js';
import { rateControlClass, type PartHeadCoefficients } from '../abr/part-size.js';
import { MeanOfPast } from '../abr/size-forecast.js';
import { LearnedSizeForecaster, type SizeNet } from '../abr/size-model.js';
import { loadChunkDataset, loadSizeNet, type ChunkVideo } from '../sim/abr/chunks.js';
import {
  ForecastSizes,
  HeadForecastSizes,
  LiveSession,
  RiskSizes,
  TrueSizes,
  runLiveSession,
  type LiveVideo,
  type SizeSource,
} from '../sim/abr/live.js';
import { dataRoot, heldOutSplit, loadTraceDir } from '../sim/abr/load.js';
import { causalWorld, oracleDecision, rolloutValues, rungValues } from '../sim/abr/live-oracle.js';
import { loadEncodePartVideos, loadPartVideos, type PartVideo } from '../sim/abr/parts.js';
import type { SimTrace } from '../sim/abr/env.js';
import { InputError } from './errors.js';
import { repoRelative } from './cli/args.js';
import { loadModel, saveModel } from './io.js';
import { DEFAULT_FRAMES } from './part-size.js';
import { ppoIteration, type PpoModel } from './ppo.js';
import { supervisedEpochs } from './supervised.js';

/**
 * The baseline the trainer imitates (step 1, a fresh one per imitation session) and scores on the validation set
 * (`mpcValidationQoe`): live RobustMPC with its defaults, built by abr/live.ts liveBaseline — the policy bench:live-abr
 * and bench:part-sizes play as `robustmpc`.
 */
export const LIVE_TEACHER: LiveBaselineName = 'robustmpc';

export interface TrainLiveAbrOptions {
  seed?: number;
  /** PPO iterations (default 300) */
  iters?: number;
  /** imitation: sessions of live RobustMPC (default 400) and epochs (default 10) */
  bcSessions?: number;
  bcEpochs?: number;
  ppoLr?: number;
  /** chunks per environment per PPO iteration (default 48) */
  rollout?: number;
  /** parallel sessions (default 16) */
  envs?: number;
  entropy?: number;
  /** critic-only PPO iterations first (default 20) */
  valueWarmup?: number;
  evalEvery?: number;
  /** media per session, s (default 120) */
  sessionS?: number;
  targetLatencyS?: number;
  hidden?: number;
  /** the forecaster directory (default models/chunk-size), or the net itself */
  sizes?: string;
  sizeNet?: SizeNet;
  /** our encodes (default bench/coding-meta; null: none) */
  encodes?: string | null;
  /** instead of $EDGEPLAY_DATA: videos and traces (tests); validation uses devVideos x validTraces */
  trainVideos?: ChunkVideo[];
  devVideos?: ChunkVideo[];
  trainTraces?: SimTrace[];
  validTraces?: SimTrace[];
  /**
   * Decide each chunk after its first k LL-HLS parts are published (default 0: at the live edge); k must not exceed
   * the part-size coefficients' K when `partModel` / `partCoef` is given.
   */
  decideAfterParts?: number;
  /** part-size coefficients directory (coef.json, models/part-size) or the coefficients: corrected sizes on part videos */
  partModel?: string | null;
  partCoef?: PartHeadCoefficients;
  /** the challenge's frame traces (default .cache/aitrans/dataset/video_trace): part bytes of the aitrans_live videos */
  frames?: string;
  /** share of training sessions drawn from the videos with part bytes (default 0.5; used when there are any) */
  partShare?: number;
  /**
   * With corrected sizes: the *training* encodes of `encodes` join the training videos with part bytes (their
   * parts.csv, loadEncodePartVideos; session 10), besides the aitrans_live streams. Validation is unchanged (the dev
   * encodes keep uncorrected sizes, so the `part` score stays the aitrans dev stream's). Default false.
   */
  encodeParts?: boolean;
  /**
   * With corrected sizes: the *dev* encodes of `encodes` are validated with their part bytes too (session 11), so they
   * decide on corrected sizes and join the `part` score beside the aitrans dev stream (a larger part validation for the
   * selection: each on every validation trace). Default false (the part score is the aitrans dev stream's alone).
   */
  devEncodeParts?: boolean;
  /**
   * Asymmetric actor-critic (session 10): the critic (training only) also sees, per rung, the log ratio of the next
   * chunk's true size to the size the actor is told, so the advantages credit what the forecast missed. The actor and
   * the saved policy are unchanged. A critic of another input width in `init` is not loaded. Default false.
   */
  privilegedCritic?: boolean;
  /**
   * the selection score: the mean validation QoE/s of every validation session (`all`, default) or of the sessions on
   * dev videos with part bytes only (`part`: the setting the late, corrected model is for; needs them)
   */
  select?: 'all' | 'part';
  /**
   * Risk-aware sizes in the policy's state (abr/size-risk.ts `parseSizeRisk`: `qNN` the forecaster's NN % error
   * quantile learned on the session, `xM` a fixed factor; default null: the point forecast), in training and validation;
   * each session gets its own RiskSizes over the video's forecast.
   */
  risk?: string | null;
  /**
   * Distillation of the true-size teacher (session 12; "learning by cheating", DAgger): with `init`, the init actor
   * given the **true** sizes is a frozen teacher; for `distillRounds` rounds the current actor plays
   * `distillSessions` random training sessions on its usual (predicted) sizes, every decision is labelled with the
   * teacher's rung at the same state with true sizes, and the actor is fitted by cross-entropy (`distillEpochs`
   * epochs at `distillLr`) on all rounds' data so far — on the predicted-size features and, so that it still plays
   * true sizes as the teacher, on the true-size features of the same states. Validated (and selectable) after each
   * round, before PPO. Default 0 rounds: none.
   */
  distillRounds?: number;
  distillSessions?: number;
  distillEpochs?: number;
  distillLr?: number;
  /**
   * The expert of the distillation (default `teacher`: the init actor given the true sizes, as above). `oracle-hN`
   * (session 12, Comyco-style imitation of the offline ceiling): every decision the student makes is labelled with the
   * receding-horizon oracle's rung at that state (src/sim/abr/live-oracle.ts `oracleDecision`: beam search over the
   * next N chunks on copies of the session, knowing the future throughput and the true bytes), beam `distillBeam`
   * (default 2, as bench:live-abr's `oracle-horizon-beam`); the rest is unchanged (DAgger from `init`, both feature
   * sets, validated and selectable each round). About 80 ms per decision at N = 5 on one core.
   * `causal-hN` (session 13): the same planner in the session's causal world (live-oracle.ts `causalWorld`: its own
   * throughput estimate × `distillSafety`, the forecast sizes), so its choices can be read from the student's state.
   * `rollout-hN` (session 13): every rung played now and then the round's student itself for N − 1 chunks on the real
   * trace (live-oracle.ts `rolloutValues`): its truncated Q-function, no hindsight after the rung; the label is its
   * argmax (one step of policy improvement), the regrets feed `distillTarget` soft / expected (exact per-rung
   * advantages on the sampled future). About R × N chunk downloads per decision.
   */
  distillExpert?: string;
  distillBeam?: number;
  /**
   * What the student learns from the expert (session 13; `oracle-hN` / `causal-hN` / `rollout-hN` experts only): `label` (default) the
   * expert's rung by cross-entropy, as above; `soft` the soft target softmax(−regret / `distillTau`) over the stream's
   * rungs, where a rung's regret is the expert's best N-chunk QoE minus that rung's (live-oracle.ts `rungValues`, in
   * per-chunk reward units: QoE / (D × the ladder's top kbps)), so cheap rungs are not forbidden; `expected` the
   * expected regret Σ_q π(q) regret(q) of the student's policy (AggreVaTe-style cost-weighted imitation: over futures
   * the student cannot tell apart it minimises the average regret, not the expert's most frequent choice). `soft` and
   * `expected` cost about R times a label per decision (R rungs).
   */
  distillTarget?: 'label' | 'soft' | 'expected';
  /** the soft target's temperature, per-chunk reward units (default 0.1) */
  distillTau?: number;
  /** `causal-hN`: the factor on the session's throughput estimate the expert plans on (default 1; live-oracle.ts `causalWorld`) */
  distillSafety?: number;
  /** with a distillation expert oracle-hN / causal-hN / rollout-hN: play the expert itself on the dev validation first (log and train.json) */
  distillEvalExpert?: boolean;
  /** warm start: a previous actor directory (model.json, weights.bin; critic/ too when present); skips nothing by itself */
  init?: string | null;
  /** print the live BB grid on training sessions */
  tuneBb?: boolean;
  /** output directory (default models/live-abr-drl) */
  out?: string;
  command?: string;
  log?: (s: string) => void;
}

export interface TrainLiveAbrResult {
  selected: string;
  validationQoe: number;
  mpcValidationQoe: number;
  imitationLoss: number[];
  history: Array<{ iter: number; reward: number; validation: number; validation_part?: number }>;
  /** mean validation QoE/s of the init actor (when `init`), and of the selected actor on the part-video sessions only */
  initValidationQoe: number | null;
  partValidationQoe: number | null;
}

const hasParts = (v: ChunkVideo): v is PartVideo => Array.isArray((v as Partial<PartVideo>).heads);
const asLive = (v: ChunkVideo): LiveVideo => ({
  name: `${v.source}/${v.video}`,
  ladderKbps: v.ladderKbps,
  chunkS: v.chunkS,
  sizes: v.sizes,
  meta: v.meta,
  heads: hasParts(v) ? v.heads : null,
  rateControl: rateControlClass(v.note),
});
/** `videos` with each one that `parts` has (same source and name) replaced by its part-byte version */
const withParts = (videos: ChunkVideo[], parts: PartVideo[]): ChunkVideo[] =>
  videos.map((v) => parts.find((p) => p.source === v.source && p.video === v.video) ?? v);
/** long enough, and a ladder the Pensieve traces (0.1-4.6 Mbps) can carry: top rung <= 10 Mbps (drops the 4K clips) */
export const liveUsable = (v: ChunkVideo) => v.sizes.length >= 12 && Math.max(...v.ladderKbps) <= 10000;

/** Imitation, PPO, selection; writes the actor. Throws InputError when data or the forecaster is missing. */
export async function trainLiveAbr(o: TrainLiveAbrOptions = {}): Promise<TrainLiveAbrResult> {
  const SEED = o.seed ?? 1;
  const ITERS = o.iters ?? 300;
  const SESSION_S = o.sessionS ?? 120;
  const TARGET = o.targetLatencyS ?? 3;
  const OUT = resolve(o.out ?? 'models/live-abr-drl');
  const N_ENV = o.envs ?? 16;
  const T = o.rollout ?? 48;
  const EVAL_EVERY = o.evalEvery ?? 20;
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:live-abr +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  const rng = mulberry32(SEED);

  let trainVideos: ChunkVideo[];
  let devVideos: ChunkVideo[];
  let trainTraces: SimTrace[];
  let validTraces: SimTrace[];
  let encDir: string | null = null;
  const K = o.decideAfterParts ?? 0;
  if (!Number.isInteger(K) || K < 0) throw new InputError(`decideAfterParts must be an integer >= 0, got ${K}`);
  const partDir = o.partCoef || !o.partModel ? null : resolve(o.partModel);
  if (partDir && !existsSync(join(partDir, 'coef.json')))
    throw new InputError(`no part-size coefficients in ${partDir}: run npm run train:part-size`);
  const coef: PartHeadCoefficients | null = o.partCoef ?? (partDir ? JSON.parse(readFileSync(join(partDir, 'coef.json'), 'utf8')) : null);
  if (coef && K > coef.own.length)
    throw new InputError(`decideAfterParts ${K} exceeds the ${coef.own.length} part(s) the coefficients know`);
  if (coef && K === 0) throw new InputError('corrected sizes need decideAfterParts >= 1');
  const SELECT = o.select ?? 'all';
  if (SELECT !== 'all' && SELECT !== 'part') throw new InputError(`select must be all or part, got ${String(SELECT)}`);
  if (SELECT === 'part' && !coef) throw new InputError('select part needs corrected sizes (partModel / partCoef)');
  if (o.encodeParts && !coef) throw new InputError('encodeParts needs corrected sizes (partModel / partCoef)');
  if (o.devEncodeParts && !coef) throw new InputError('devEncodeParts needs corrected sizes (partModel / partCoef)');
  if (o.devEncodeParts && o.trainVideos)
    throw new InputError('devEncodeParts reads the encodes of the dataset; given devVideos carry their own part bytes');
  if (o.encodeParts && o.trainVideos)
    throw new InputError('encodeParts reads the encodes of the dataset; given trainVideos carry their own part bytes');
  if ((o.distillRounds ?? 0) > 0 && !o.init)
    throw new InputError('distillRounds needs init (the teacher is the init actor given the true sizes)');
  if ((o.distillRounds ?? 0) > 0 && (o.bcSessions ?? 400) > 0)
    throw new InputError('distillRounds needs bcSessions 0 (the teacher is the init actor, not its imitation)');
  const EXPERT = o.distillExpert ?? 'teacher';
  const expertH = /^(oracle|causal|rollout)-h([1-9][0-9]*)$/.exec(EXPERT);
  if (EXPERT !== 'teacher' && !expertH)
    throw new InputError(`distillExpert must be teacher, oracle-hN, causal-hN or rollout-hN (N >= 1), got ${EXPERT}`);
  const EXPERT_H = expertH ? Number(expertH[2]) : 0;
  const CAUSAL = expertH?.[1] === 'causal';
  const ROLLOUT = expertH?.[1] === 'rollout';
  const D_TARGET = o.distillTarget ?? 'label';
  if (!['label', 'soft', 'expected'].includes(D_TARGET))
    throw new InputError(`distillTarget must be label, soft or expected, got ${String(D_TARGET)}`);
  if (D_TARGET !== 'label' && !EXPERT_H)
    throw new InputError(`distillTarget ${D_TARGET} needs an oracle-hN, causal-hN or rollout-hN expert`);
  const D_TAU = o.distillTau ?? 0.1;
  if (!(Number.isFinite(D_TAU) && D_TAU > 0)) throw new InputError(`distillTau must be a number > 0, got ${D_TAU}`);
  const D_SAFETY = o.distillSafety ?? 1;
  if (!(Number.isFinite(D_SAFETY) && D_SAFETY > 0)) throw new InputError(`distillSafety must be a number > 0, got ${D_SAFETY}`);
  if (o.distillEvalExpert && !EXPERT_H) throw new InputError('distillEvalExpert needs an oracle-hN, causal-hN or rollout-hN expert');
  const D_BEAM = o.distillBeam ?? 2;
  if (!(Number.isInteger(D_BEAM) && D_BEAM >= 1)) throw new InputError(`distillBeam must be an integer >= 1, got ${D_BEAM}`);
  const RISK = o.risk ?? null;
  if (EXPERT_H && RISK !== null) throw new InputError(`distillExpert ${EXPERT} cannot copy sessions with risk-aware sizes`);
  // the library call checks what the command line checks (a 0 or NaN here ended in a plain RangeError, or trained at lr NaN)
  for (const [k, v] of [
    ['distillSessions', o.distillSessions],
    ['distillEpochs', o.distillEpochs],
  ] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new InputError(`${k} must be an integer >= 1, got ${v}`);
  if (o.distillLr !== undefined && !(Number.isFinite(o.distillLr) && o.distillLr > 0))
    throw new InputError(`distillLr must be a number > 0, got ${o.distillLr}`);
  if (RISK !== null)
    try {
      parseSizeRisk(RISK);
    } catch (e) {
      throw new InputError(`risk: ${(e as Error).message}`);
    }
  let framesDir: string | null = null;
  if (o.trainVideos) {
    trainVideos = o.trainVideos;
    devVideos = o.devVideos ?? [];
    trainTraces = o.trainTraces ?? [];
    validTraces = o.validTraces ?? [];
  } else {
    const root = dataRoot();
    const chunksDir = join(root, 'chunks');
    const tracesDir = join(root, 'abr', 'traces', 'train');
    if (!existsSync(join(chunksDir, 'index.csv')) || !existsSync(tracesDir))
      throw new InputError(`train:live-abr needs ${chunksDir} and ${tracesDir} (set EDGEPLAY_DATA)`);
    const e = o.encodes === null ? null : resolve(o.encodes ?? 'bench/coding-meta');
    encDir = e && existsSync(join(e, 'index.csv')) ? e : null;
    trainVideos = [...loadChunkDataset(chunksDir, ['train']), ...(encDir ? loadChunkDataset(encDir, ['train']) : [])];
    devVideos = [...loadChunkDataset(chunksDir, ['dev']), ...(encDir ? loadChunkDataset(encDir, ['dev']) : [])];
    if (o.encodeParts && !encDir) throw new InputError(`encodeParts needs the encodes (${e ?? 'none given'}: no index.csv)`);
    if (o.devEncodeParts && !encDir) throw new InputError(`devEncodeParts needs the encodes (${e ?? 'none given'}: no index.csv)`);
    if (coef) {
      framesDir = resolve(o.frames ?? DEFAULT_FRAMES);
      if (!existsSync(framesDir)) throw new InputError(`no frame traces in ${framesDir} (models/part-size/MODEL.md says how to get them)`);
      trainVideos = withParts(trainVideos, [
        ...loadPartVideos(chunksDir, framesDir, ['train']),
        ...(o.encodeParts && encDir ? loadEncodePartVideos(encDir, ['train']) : []),
      ]);
      devVideos = withParts(devVideos, [
        ...loadPartVideos(chunksDir, framesDir, ['dev']),
        ...(o.devEncodeParts && encDir ? loadEncodePartVideos(encDir, ['dev']) : []),
      ]);
    }
    const all = loadTraceDir(tracesDir);
    ({ train: trainTraces, dev: validTraces } = heldOutSplit(all));
  }
  const sizesDir = resolve(o.sizes ?? 'models/chunk-size');
  if (!o.sizeNet && !existsSync(join(sizesDir, 'head.json')))
    throw new InputError(`no forecaster in ${sizesDir}: run npm run train:chunks`);
  const sizeNet = o.sizeNet ?? loadSizeNet(sizesDir);
  const trainPool = trainVideos.filter(liveUsable);
  const devPool = devVideos.filter(liveUsable);
  // videos whose forecast the first parts correct (only with coefficients and late decisions)
  const trainParts = coef ? trainPool.filter(hasParts) : [];
  const devParts = coef ? devPool.filter(hasParts) : [];
  const PART_SHARE = o.partShare ?? 0.5;
  if (!(PART_SHARE >= 0 && PART_SHARE <= 1)) throw new InputError(`partShare must be in [0, 1], got ${PART_SHARE}`);
  if (coef && (!trainParts.length || !devParts.length))
    throw new InputError('corrected sizes need training and dev videos with part bytes (aitrans_live and their frame traces)');
  if (!trainPool.length || !devPool.length || !trainTraces.length || !validTraces.length)
    throw new InputError(
      'train:live-abr needs training and dev videos (>= 12 chunks, top rung <= 10 Mbps) and training and validation traces',
    );
  log(
    `${trainPool.length} training videos, ${devPool.length} dev videos, ${trainTraces.length} training traces, ${validTraces.length} validation traces (from the training set); sizes from ${o.sizeNet ? 'the given net' : sizesDir}`,
  );
  log(
    K > 0
      ? `decisions after ${K} part(s); ${coef ? `first-part-corrected sizes on ${trainParts.length} training and ${devParts.length} dev video(s) with part bytes, ${PART_SHARE} of training sessions on them` : 'no size correction'}`
      : 'decisions at the live edge',
  );

  /** predicted sizes of every video, computed once */
  const sources = new Map<ChunkVideo, SizeSource>();
  const sourceOf = (v: ChunkVideo) => {
    let s = sources.get(v);
    if (!s) {
      const lv = asLive(v);
      const base = new ForecastSizes(lv, new LearnedSizeForecaster(sizeNet), 5, 'predicted');
      s = coef && hasParts(v) ? new HeadForecastSizes(lv, base, coef, 'predicted+head') : base;
      sources.set(v, s);
    }
    return s;
  };
  for (const v of [...trainPool, ...devPool]) sourceOf(v);
  /** the source of one session: the video's forecast, with a fresh risk margin when RISK is set */
  const sessionSource = (v: ChunkVideo): SizeSource => (RISK === null ? sourceOf(v) : new RiskSizes(sourceOf(v), parseSizeRisk(RISK)));
  log('size forecasts of every training and dev video computed');
  const sessionChunks = (v: ChunkVideo) => Math.min(Math.floor(SESSION_S / v.chunkS), v.sizes.length - 6);

  /** A random training session: video, trace, start chunk, trace pointer. */
  const randomSession = (noise: boolean): LiveSession => {
    const pool = trainParts.length && PART_SHARE > 0 && rng() < PART_SHARE ? trainParts : trainPool;
    const v = pool[Math.floor(rng() * pool.length)];
    const tr = trainTraces[Math.floor(rng() * trainTraces.length)];
    const chunks = sessionChunks(v);
    const start = 5 + Math.floor(rng() * Math.max(1, v.sizes.length - 5 - chunks));
    const ptr = 1 + Math.floor(rng() * (tr.bw.length - 1));
    return new LiveSession(asLive(v), tr, sessionSource(v), {
      startChunk: start,
      chunks,
      targetLatencyS: TARGET,
      tracePtr: ptr,
      noise: noise ? () => 0.9 + 0.2 * rng() : undefined,
      decideAfterParts: K,
    });
  };

  /** validation sessions: every validation trace with 3 dev videos, deterministic */
  const validSet: Array<{ v: ChunkVideo; tr: SimTrace; start: number; chunks: number }> = [];
  validTraces.forEach((tr, i) => {
    for (let k = 0; k < 3; k++) {
      const v = devPool[(3 * i + k) % devPool.length];
      const chunks = sessionChunks(v);
      const start = 5 + ((i * 37 + k * 11) % Math.max(1, v.sizes.length - 5 - chunks));
      validSet.push({ v, tr, start, chunks });
    }
    // late decisions with corrected sizes: each dev video with part bytes on every validation trace as well
    for (const v of devParts) {
      const chunks = sessionChunks(v);
      validSet.push({ v, tr, start: 5 + ((i * 37) % Math.max(1, v.sizes.length - 5 - chunks)), chunks });
    }
  });
  const nPartValid = validSet.filter((s) => hasParts(s.v) && coef).length;
  let lastPartScore: number | null = null;
  /** mean QoE per media second (Mbps-equivalent) of a policy on the validation sessions */
  const validate = (policy: LivePolicy): number => {
    let q = 0;
    let qp = 0;
    for (const s of validSet) {
      const r = runLiveSession(policy, asLive(s.v), s.tr, sessionSource(s.v), {
        startChunk: s.start,
        chunks: s.chunks,
        targetLatencyS: TARGET,
        decideAfterParts: K,
      });
      q += r.qoe.total / r.mediaS / 1000;
      if (coef && hasParts(s.v)) qp += r.qoe.total / r.mediaS / 1000;
    }
    lastPartScore = nPartValid ? qp / nPartValid : null;
    return q / validSet.length;
  };
  const partNote = () => (lastPartScore === null ? '' : `, part videos ${lastPartScore.toFixed(4)}`);
  /** the same validation sessions with the true sizes (the gap of target (a) on dev; used by the distillation) */
  const validateTrue = (policy: LivePolicy): number => {
    let q = 0;
    for (const s of validSet) {
      const lv = asLive(s.v);
      const r = runLiveSession(policy, lv, s.tr, new TrueSizes(lv), {
        startChunk: s.start,
        chunks: s.chunks,
        targetLatencyS: TARGET,
        decideAfterParts: K,
      });
      q += r.qoe.total / r.mediaS / 1000;
    }
    return q / validSet.length;
  };

  /** the validation sessions played by a decision function that sees the whole session (an expert, not a LivePolicy) */
  const validateExpert = (decide: (s: LiveSession) => number): number => {
    let q = 0;
    for (const s of validSet) {
      const sess = new LiveSession(asLive(s.v), s.tr, sessionSource(s.v), {
        startChunk: s.start,
        chunks: s.chunks,
        targetLatencyS: TARGET,
        decideAfterParts: K,
      });
      sess.step(0);
      while (!sess.done) {
        sess.awaitDecisionPoint();
        sess.step(decide(sess));
      }
      q += sess.result.qoe.total / sess.result.mediaS / 1000;
    }
    return q / validSet.length;
  };

  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  await tf.ready();
  // the asymmetric critic's extra inputs: per rung, the log ratio of the next chunk's true size to the size the actor is told
  const PRIV = o.privilegedCritic ? LIVE_RMAX : 0;
  const { actor, critic } = buildLiveDrl(tf, o.hidden ?? 64, SEED, PRIV);
  const initDir = o.init ? resolve(o.init) : null;
  if (initDir) {
    if (!existsSync(join(initDir, 'model.json'))) throw new InputError(`no actor to warm start from in ${initDir}`);
    const prev = await loadModel(initDir);
    actor.setWeights(prev.getWeights());
    prev.dispose();
    const pcDir = join(initDir, 'critic');
    let pc = existsSync(join(pcDir, 'model.json')) ? await loadModel(pcDir) : null;
    if (pc && pc.inputs[0].shape[1] !== LIVE_GLOBAL + PRIV) {
      log(
        `warm start: the critic in ${repoRelative(pcDir)} takes ${pc.inputs[0].shape[1]} inputs, this one ${LIVE_GLOBAL + PRIV}: not loaded`,
      );
      pc.dispose();
      pc = null;
    }
    if (pc) {
      critic.setWeights(pc.getWeights());
      pc.dispose();
      log(`warm start: actor and critic of ${repoRelative(initDir)}`);
    } else log(`warm start: actor of ${repoRelative(initDir)} (critic from scratch)`);
  }
  const policyNow = () => new LiveDrlPolicy(denseArrays(actor, ['s1', 's2', 'score']));
  const mpcScore = validate(liveBaseline(LIVE_TEACHER));
  const mpcPart = lastPartScore;
  log(`validation: robustmpc ${mpcScore.toFixed(4)} QoE/s on ${validSet.length} sessions${partNote()}`);

  if (o.tuneBb) {
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
          const bb = new LiveBufferBased({ reservoirS: res * TARGET, cushionS: cush * TARGET });
          const r = runLiveSession(bb, asLive(s.v), s.tr, means.get(s.v)!, {
            startChunk: s.start,
            chunks: s.chunks,
            tracePtr: s.ptr,
            targetLatencyS: TARGET,
          });
          q += r.qoe.total / r.mediaS / 1000;
        }
        log(`bb reservoir ${res} T, cushion ${cush} T: training QoE/s ${(q / sess.length).toFixed(4)}`);
      }
  }

  const X1 = LIVE_RMAX * LIVE_FEATURES;
  const featBuf = new Float32Array(X1);
  /** rollout observation: the actor's rungs, plus one row whose first PRIV entries are the critic's extra inputs */
  const ROWS = LIVE_RMAX + (PRIV ? 1 : 0);
  const XR = ROWS * LIVE_FEATURES;
  const maskBuf = new Float32Array(LIVE_RMAX);
  /** masked logits [S, RMAX] */
  const scores = (x: tf.Tensor, B: number): tf.Tensor =>
    (actor.apply(PRIV ? x.slice([0, 0, 0], [B, LIVE_RMAX, LIVE_FEATURES]) : x) as tf.Tensor).reshape([B, LIVE_RMAX]);
  const values = (x: tf.Tensor, B: number): tf.Tensor => {
    const g = x.slice([0, 0, 0], [B, 1, LIVE_GLOBAL]).reshape([B, LIVE_GLOBAL]);
    const inp = PRIV ? tf.concat([g, x.slice([0, LIVE_RMAX, 0], [B, 1, PRIV]).reshape([B, PRIV])], 1) : g;
    return (critic.apply(inp) as tf.Tensor).reshape([B]);
  };
  /** the critic's extra inputs for an observation: clip(log(true / told), ±2) of the next chunk per rung, 0 elsewhere */
  const privileged = (truth: readonly number[] | undefined, ob: LiveObservation, out: Float32Array, at: number) => {
    for (let r = 0; r < PRIV; r++)
      out[at + r] = truth && r < truth.length && ob.sizes[0]?.[r] > 0 ? Math.max(-2, Math.min(2, Math.log(truth[r] / ob.sizes[0][r]))) : 0;
  };
  const model: PpoModel = {
    forward: (X, B) => ({ logits: scores(X, B), value: values(X, B) }),
    variables: [...actor.trainableWeights, ...critic.trainableWeights].map((w) => w.read() as tf.Variable),
    criticVariables: critic.trainableWeights.map((w) => w.read() as tf.Variable),
  };

  /** score: the selection score (SELECT); all / part: the mean over every validation session / the part-video ones */
  let best = { score: -Infinity, all: -Infinity, part: null as number | null, stage: '', weights: [] as tf.Tensor[] };
  const keepBest = (stage: string) => {
    const all = validate(policyNow());
    const score = SELECT === 'part' ? lastPartScore! : all;
    if (score > best.score) {
      best.weights.forEach((w) => w.dispose());
      best = { score, all, part: lastPartScore, stage, weights: actor.getWeights().map((w) => w.clone()) };
    }
    return all;
  };
  let initScore: number | null = null;
  let initPart: number | null = null;
  if (initDir) {
    initScore = keepBest('init');
    initPart = lastPartScore;
    log(`validation: init actor ${initScore.toFixed(4)} QoE/s${partNote()}`);
  }

  // ---------- 1. imitation of live RobustMPC ----------
  const BC_SESSIONS = o.bcSessions ?? 400;
  const BC_EPOCHS = o.bcEpochs ?? 10;
  const imitationLoss: number[] = [];
  if (BC_SESSIONS > 0) {
    const xs: Float32Array[] = [];
    const ms: Float32Array[] = [];
    const ys: number[] = [];
    for (let s = 0; s < BC_SESSIONS; s++) {
      const sess = randomSession(false);
      const mpc = liveBaseline(LIVE_TEACHER);
      mpc.start?.(sess.video.ladderKbps, sess.video.chunkS);
      sess.step(0);
      while (!sess.done) {
        sess.awaitDecisionPoint();
        const ob = sess.observation();
        const q = mpc.decide(ob);
        liveFeatures(ob, featBuf, maskBuf);
        xs.push(featBuf.slice());
        ms.push(maskBuf.slice());
        ys.push(q);
        sess.step(q);
      }
      if ((s + 1) % 100 === 0) log(`imitation data: ${s + 1}/${BC_SESSIONS} sessions, ${ys.length} decisions`);
    }
    const { n, X, M, Y } = imitationTensors(xs, ms, ys);
    const opt = tf.train.adam(1e-3);
    supervisedEpochs(opt, { n, epochs: BC_EPOCHS, batch: 256, rng }, maskedCrossEntropy(scores, X, M, Y), (ep, meanLoss) => {
      imitationLoss.push(meanLoss);
      if (ep % 5 === 4 || ep === BC_EPOCHS - 1)
        log(`imitation epoch ${ep + 1}/${BC_EPOCHS}: loss ${meanLoss.toFixed(4)}, validation QoE/s ${keepBest(`bc${ep + 1}`).toFixed(4)}`);
    });
    tf.dispose([X, M, Y]);
    opt.dispose();
    actor.setWeights(best.weights);
  }

  // ---------- 1b. distillation of the true-size teacher (optional) ----------
  const DISTILL = o.distillRounds ?? 0;
  /** per round: samples so far, last loss, dev QoE/s (predicted, true sizes), share of the round's decisions where the student played the expert's rung */
  const distillHistory: Array<{
    round: number;
    samples: number;
    loss: number;
    validation: number;
    validation_true: number;
    agreement: number;
    /** soft / expected targets: the mean regret (per-chunk reward units) of the rungs the student played in the round */
    student_regret?: number;
  }> = [];
  let expertValidation: number | null = null;
  let initTrueScore: number | null = null;
  if (DISTILL > 0 && initDir) {
    const D_SESS = o.distillSessions ?? 100;
    const D_EPOCHS = o.distillEpochs ?? 3;
    const teacher = new LiveDrlPolicy(denseArrays(actor, ['s1', 's2', 'score']));
    if (initScore === null) throw new Error('distillation: the init actor was not validated');
    initTrueScore = validateTrue(teacher);
    log(
      `distillation: teacher (init actor) on dev validation with true sizes ${initTrueScore.toFixed(4)}, predicted ${initScore.toFixed(4)} (gap ${((100 * (initScore - initTrueScore)) / Math.abs(initTrueScore)).toFixed(2)} %)`,
    );
    const xs: Float32Array[] = [];
    const ms: Float32Array[] = [];
    const ys: number[] = [];
    /** per sample (soft / expected targets): the soft target or the regret of every rung, LIVE_RMAX each */
    const ts: Float32Array[] = [];
    /** the expert's world at a state: the session itself (oracle: the trace and the true bytes) or its causal copy */
    const world = (sess: LiveSession) => (CAUSAL ? causalWorld(sess, D_SAFETY) : sess);
    /** the expert's rung and (soft / expected) every rung's regret in per-chunk reward units (0 beyond the ladder) */
    const expertAt = (sess: LiveSession, student: LivePolicy): { label: number; regret: Float32Array | null } => {
      if (D_TARGET === 'label' && !ROLLOUT) return { label: oracleDecision(world(sess), EXPERT_H, D_BEAM), regret: null };
      const v = ROLLOUT ? rolloutValues(sess, student, EXPERT_H) : rungValues(world(sess), EXPERT_H, D_BEAM);
      let label = 0;
      for (let q = 1; q < v.length; q++) if (v[q] > v[label]) label = q;
      const scale = sess.D * sess.video.ladderKbps[sess.video.ladderKbps.length - 1];
      const regret = new Float32Array(LIVE_RMAX);
      for (let q = 0; q < Math.min(v.length, LIVE_RMAX); q++) regret[q] = (v[label] - v[q]) / scale;
      return { label, regret: D_TARGET === 'label' ? null : regret };
    };
    /** the stored per-sample target row of a regret vector over `mask` */
    const targetRow = (regret: Float32Array, mask: Float32Array): Float32Array => {
      if (D_TARGET === 'expected') return regret.slice();
      const p = new Float32Array(LIVE_RMAX);
      let z = 0;
      for (let q = 0; q < LIVE_RMAX; q++) z += p[q] = mask[q] ? Math.exp(-regret[q] / D_TAU) : 0;
      for (let q = 0; q < LIVE_RMAX; q++) p[q] /= z;
      return p;
    };
    if (o.distillEvalExpert) {
      const initActor = policyNow();
      expertValidation = validateExpert((sess) => expertAt(sess, initActor).label);
      log(
        `distillation: the expert ${EXPERT}${CAUSAL ? ` (safety ${D_SAFETY})` : ''} itself on dev validation ${expertValidation.toFixed(4)} QoE/s`,
      );
    }
    const regretStats = { n: 0, sum: 0 };
    const opt = tf.train.adam(o.distillLr ?? 1e-4);
    for (let round = 1; round <= DISTILL; round++) {
      const student = policyNow();
      let agree = 0;
      let decisions = 0;
      for (let s = 0; s < D_SESS; s++) {
        const sess = randomSession(false);
        sess.step(0);
        while (!sess.done) {
          sess.awaitDecisionPoint();
          const ob = sess.observation();
          const c = ob.nextIndex;
          const n = sess.video.sizes.length;
          const truth = { ...ob, sizes: ob.sizes.map((_, h) => sess.video.sizes[Math.min(c + h, n - 1)].slice()) };
          const { label, regret } = EXPERT_H ? expertAt(sess, student) : { label: teacher.decide(truth), regret: null };
          const q = student.decide(ob);
          if (q === label) agree++;
          decisions++;
          if (regret) {
            regretStats.n++;
            regretStats.sum += regret[q];
          }
          for (const view of [ob, truth]) {
            liveFeatures(view, featBuf, maskBuf);
            xs.push(featBuf.slice());
            ms.push(maskBuf.slice());
            ys.push(label);
            if (regret) ts.push(targetRow(regret, maskBuf));
          }
          sess.step(q);
        }
        if (EXPERT_H && (s + 1) % 20 === 0 && s + 1 < D_SESS)
          log(`distillation round ${round}/${DISTILL}: ${s + 1}/${D_SESS} sessions labelled by ${EXPERT}, ${decisions} decisions`);
      }
      const { n, X, M, Y } = imitationTensors(xs, ms, D_TARGET === 'label' ? ys : ts);
      let lastLoss = NaN;
      const loss = D_TARGET === 'expected' ? maskedExpectedRegret(scores, X, M, Y) : maskedCrossEntropy(scores, X, M, Y);
      supervisedEpochs(opt, { n, epochs: D_EPOCHS, batch: 256, rng }, loss, (_ep, meanLoss) => {
        lastLoss = meanLoss;
      });
      tf.dispose([X, M, Y]);
      const studentRegret = regretStats.n ? regretStats.sum / regretStats.n : null;
      regretStats.n = 0;
      regretStats.sum = 0;
      const v = keepBest(`distill${round}`);
      const vt = validateTrue(policyNow());
      distillHistory.push({
        round,
        samples: n,
        loss: lastLoss,
        validation: v,
        validation_true: vt,
        agreement: agree / Math.max(1, decisions),
        ...(studentRegret === null ? {} : { student_regret: studentRegret }),
      });
      log(
        `distillation round ${round}/${DISTILL}: ${decisions} decisions (student = ${EXPERT} on ${((100 * agree) / Math.max(1, decisions)).toFixed(1)} %${studentRegret === null ? '' : `, its mean regret ${studentRegret.toFixed(4)}`}), ${n} samples, loss ${lastLoss.toFixed(4)}, validation QoE/s ${v.toFixed(4)}${partNote()}, with true sizes ${vt.toFixed(4)} (gap ${((100 * (v - vt)) / Math.abs(vt)).toFixed(2)} %; best ${best.score.toFixed(4)} at ${best.stage})`,
      );
    }
    opt.dispose();
    actor.setWeights(best.weights);
  }

  // ---------- 2. PPO (src/train/ppo.ts) ----------
  const ppoConfig = {
    gamma: 0.97,
    lambda: 0.95,
    entropy: o.entropy ?? 0.005,
    epochs: 4,
    minibatch: 256,
    targetKl: 0.01,
    valueScale: 10,
    optimizer: tf.train.adam(o.ppoLr ?? 3e-5),
    criticOptimizer: tf.train.adam(1e-3),
    rng,
  };
  const VALUE_WARMUP = o.valueWarmup ?? 20;
  const envs: LiveSession[] = Array.from({ length: N_ENV }, () => {
    const s = randomSession(true);
    s.step(0);
    return s;
  });
  const history: TrainLiveAbrResult['history'] = [];
  log(`PPO: ${ITERS} iterations x ${N_ENV} sessions x ${T} chunks, entropy ${ppoConfig.entropy}, critic warm-up ${VALUE_WARMUP}`);
  let rewAcc = 0;
  let rewN = 0;
  for (let it = 1; it <= ITERS; it++) {
    const S = N_ENV * T;
    const x = new Float32Array(S * XR);
    const masks = new Uint8Array(S * LIVE_RMAX);
    const act = new Int32Array(S);
    const logp = new Float32Array(S);
    const rew = new Float32Array(S);
    const done = new Uint8Array(S);
    const val = new Float32Array((T + 1) * N_ENV);
    const cx = new Float32Array(N_ENV * XR);
    const cm = new Float32Array(N_ENV * LIVE_RMAX);
    for (let t = 0; t <= T; t++) {
      for (let e = 0; e < N_ENV; e++) {
        envs[e].awaitDecisionPoint(); // a no-op at the live edge, or once the time is past
        const ob = envs[e].observation();
        liveFeatures(ob, featBuf, maskBuf);
        cx.set(featBuf, e * XR);
        if (PRIV) privileged(envs[e].video.sizes[ob.nextIndex], ob, cx, e * XR + X1);
        cm.set(maskBuf, e * LIVE_RMAX);
      }
      const [probs, v] = tf.tidy(() => {
        const X = tf.tensor3d(cx, [N_ENV, ROWS, LIVE_FEATURES]);
        const lg = tf.add(scores(X, N_ENV), tf.mul(tf.sub(tf.tensor2d(cm, [N_ENV, LIVE_RMAX]), 1), 1e9));
        return [tf.softmax(lg).dataSync() as Float32Array, values(X, N_ENV).dataSync() as Float32Array];
      });
      for (let e = 0; e < N_ENV; e++) val[t * N_ENV + e] = v[e];
      if (t === T) break;
      for (let e = 0; e < N_ENV; e++) {
        const i = t * N_ENV + e;
        x.set(cx.subarray(e * XR, (e + 1) * XR), i * XR);
        for (let r = 0; r < LIVE_RMAX; r++) masks[i * LIVE_RMAX + r] = cm[e * LIVE_RMAX + r];
        let u = rng();
        let q = 0;
        for (; q < LIVE_RMAX - 1; q++) if ((u -= probs[e * LIVE_RMAX + q]) <= 0) break;
        while (cm[e * LIVE_RMAX + q] === 0) q--; // never a rung the ladder lacks
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
    const u = ppoIteration(
      model,
      {
        envs: N_ENV,
        obs: x,
        obsShape: [ROWS, LIVE_FEATURES],
        actions: act,
        logp,
        rewards: rew,
        values: val,
        dones: done,
        masks,
        nActions: LIVE_RMAX,
      },
      ppoConfig,
      // the critic starts untrained: fit it alone first, so its first advantages do not wreck the imitated actor
      { criticOnly: it <= VALUE_WARMUP },
    );
    if (it % EVAL_EVERY === 0 || it === ITERS) {
      const score = keepBest(`ppo${it}`);
      history.push({
        iter: it,
        reward: rewAcc / rewN,
        validation: score,
        ...(lastPartScore === null ? {} : { validation_part: lastPartScore }),
      });
      log(
        `PPO iteration ${it}/${ITERS}${it <= VALUE_WARMUP ? ' (critic warm-up)' : ''}: reward/chunk ${(rewAcc / rewN).toFixed(4)}, epochs ${u.epochs}, validation QoE/s ${score.toFixed(4)}${partNote()} (best ${SELECT === 'part' ? 'part ' : ''}${best.score.toFixed(4)} at ${best.stage}; robustmpc ${mpcScore.toFixed(4)})`,
      );
      rewAcc = 0;
      rewN = 0;
    }
  }
  ppoConfig.optimizer.dispose();
  ppoConfig.criticOptimizer.dispose();

  actor.setWeights(best.weights);
  mkdirSync(OUT, { recursive: true });
  await saveModel(actor, OUT);
  // the last critic, for a later warm start (`init`); training only, never loaded by the player
  mkdirSync(join(OUT, 'critic'), { recursive: true });
  await saveModel(critic, join(OUT, 'critic'));
  writeFileSync(
    join(OUT, 'train.json'),
    JSON.stringify(
      {
        command: o.command ?? 'train:live-abr (library call)',
        seed: SEED,
        iters: ITERS,
        bc_sessions: BC_SESSIONS,
        bc_epochs: BC_EPOCHS,
        sizes: o.sizeNet ? null : repoRelative(sizesDir),
        encodes: encDir === null ? null : repoRelative(encDir),
        target_latency_s: TARGET,
        session_s: SESSION_S,
        decide_after_parts: K,
        part_model: partDir ? repoRelative(partDir) : o.partCoef ? '(given coefficients)' : null,
        frames: framesDir ? repoRelative(framesDir) : null,
        part_share: trainParts.length ? PART_SHARE : null,
        risk: RISK,
        privileged_critic: PRIV > 0,
        part_videos: { train: trainParts.map((v) => `${v.source}/${v.video}`), dev: devParts.map((v) => `${v.source}/${v.video}`) },
        init: initDir ? repoRelative(initDir) : null,
        init_validation_qoe_per_s: initScore,
        init_validation_part_qoe_per_s: initPart,
        validation_sessions: validSet.length,
        validation_part_sessions: nPartValid,
        robustmpc_validation_qoe_per_s: mpcScore,
        robustmpc_validation_part_qoe_per_s: mpcPart,
        selected: best.stage,
        select: SELECT,
        validation_qoe_per_s: best.all,
        validation_part_qoe_per_s: best.part,
        imitation_loss: imitationLoss,
        ...(DISTILL > 0
          ? {
              distill: {
                expert: EXPERT,
                ...(EXPERT_H ? { expert_beam: D_BEAM, target: D_TARGET } : {}),
                ...(D_TARGET === 'soft' ? { tau: D_TAU } : {}),
                ...(CAUSAL ? { safety: D_SAFETY } : {}),
                ...(expertValidation === null ? {} : { expert_validation_qoe_per_s: expertValidation }),
                rounds: DISTILL,
                sessions: o.distillSessions ?? 100,
                epochs: o.distillEpochs ?? 3,
                lr: o.distillLr ?? 1e-4,
                init_validation_true_qoe_per_s: initTrueScore,
                history: distillHistory,
              },
            }
          : {}),
        history,
        seconds: (Date.now() - t0) / 1000,
      },
      null,
      2,
    ) + '\n',
  );
  log(
    `selected ${best.stage} on ${SELECT} validation sessions (validation QoE/s ${best.all.toFixed(4)}${best.part === null ? '' : `, part videos ${best.part.toFixed(4)}`} vs robustmpc ${mpcScore.toFixed(4)}); wrote ${repoRelative(OUT)}`,
  );
  const result: TrainLiveAbrResult = {
    selected: best.stage,
    validationQoe: best.all,
    mpcValidationQoe: mpcScore,
    imitationLoss,
    history,
    initValidationQoe: initScore,
    partValidationQoe: best.part,
  };
  best.weights.forEach((w) => w.dispose());
  tf.dispose([...actor.weights.map((w) => w.read()), ...critic.weights.map((w) => w.read())]);
  return result;
}

/**
 * The imitation / distillation data as tensors: features `[n, LIVE_RMAX, LIVE_FEATURES]`, the rung mask `[n, LIVE_RMAX]`
 * (1 = a rung of the stream's ladder) and the targets `[n, LIVE_RMAX]`, from per-decision arrays (each `xs[i]` of
 * LIVE_RMAX × LIVE_FEATURES floats, `ms[i]` of LIVE_RMAX, `ys[i]` a rung index — one-hot rows — or a row of LIVE_RMAX
 * floats taken as is: soft targets, per-rung regrets). The caller disposes X, M and Y.
 */
function imitationTensors(
  xs: Float32Array[],
  ms: Float32Array[],
  ys: number[] | Float32Array[],
): { n: number; X: tf.Tensor; M: tf.Tensor; Y: tf.Tensor } {
  const n = ys.length;
  const X1 = LIVE_RMAX * LIVE_FEATURES;
  const flatX = new Float32Array(n * X1);
  const flatM = new Float32Array(n * LIVE_RMAX);
  xs.forEach((x, i) => flatX.set(x, i * X1));
  ms.forEach((m, i) => flatM.set(m, i * LIVE_RMAX));
  return {
    n,
    X: tf.tensor3d(flatX, [n, LIVE_RMAX, LIVE_FEATURES]),
    M: tf.tensor2d(flatM, [n, LIVE_RMAX]),
    Y: rowsOrOneHot(ys),
  };
}

/** `[n, LIVE_RMAX]` float rows as given, or the one-hot rows of rung indices */
function rowsOrOneHot(ys: number[] | Float32Array[]): tf.Tensor {
  if (ys.length && typeof ys[0] !== 'number') {
    const flat = new Float32Array(ys.length * LIVE_RMAX);
    (ys as Float32Array[]).forEach((y, i) => flat.set(y, i * LIVE_RMAX));
    return tf.tensor2d(flat, [ys.length, LIVE_RMAX]);
  }
  return tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(ys as number[]), 'int32'), LIVE_RMAX));
}

/** The actor's scores for the batch `ids`, with the rungs the stream lacks (mask 0 in `M`) pushed to −1e9. */
function maskedLogits(scores: (x: tf.Tensor, B: number) => tf.Tensor, X: tf.Tensor, M: tf.Tensor, ids: tf.Tensor1D, b: number): tf.Tensor {
  return tf.add(scores(tf.gather(X, ids), b), tf.mul(tf.sub(tf.gather(M, ids), 1), 1e9));
}

/**
 * The batch loss of cost-weighted imitation (session 13, AggreVaTe-style): the student's expected regret
 * Σ_q softmax(scores)_q · regret_q over the stream's rungs (masked rungs get −1e9, so probability 0), averaged over the
 * batch; `R` holds each sample's per-rung regret `[n, LIVE_RMAX]` (≥ 0, per-chunk reward units).
 */
function maskedExpectedRegret(
  scores: (x: tf.Tensor, B: number) => tf.Tensor,
  X: tf.Tensor,
  M: tf.Tensor,
  R: tf.Tensor,
): (ids: tf.Tensor1D, b: number) => tf.Scalar {
  return (ids, b) => tf.mean(tf.sum(tf.mul(tf.softmax(maskedLogits(scores, X, M, ids, b)), tf.gather(R, ids)), 1)) as tf.Scalar;
}

/** The batch loss of imitation: softmax cross-entropy of the actor's scores over the stream's rungs only (masked rungs get −1e9). */
function maskedCrossEntropy(
  scores: (x: tf.Tensor, B: number) => tf.Tensor,
  X: tf.Tensor,
  M: tf.Tensor,
  Y: tf.Tensor,
): (ids: tf.Tensor1D, b: number) => tf.Scalar {
  return (ids, b) => tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), maskedLogits(scores, X, M, ids, b)) as tf.Scalar;
}
