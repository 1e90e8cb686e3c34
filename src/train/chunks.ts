/**
 * The trainer of the live chunk-size forecaster (`npm run train:chunks`, entry in cli/chunks.ts): the
 * network of src/abr/size-model.ts on the *train* videos of the shared chunk dataset ($EDGEPLAY_DATA/chunks)
 * and of our own encodes with coding meta (bench/coding-meta, made by `npm run data:encodes`, when present),
 * the checkpoint selected on their *dev* videos (mean MAPE over horizons 1..5, pooled; shared dev 0.8,
 * encodes dev 0.2). Test videos are never read.
 *
 * Episodes (one per (video, origin i)): the query is every rung's feature row at origin i and its next
 * 1..5 sizes; the support set is every rung's rows at the previous `window` origins, each with only the
 * targets already known at i. With `innerSteps` K > 0 the head takes K Meta-SGD steps on the support set
 * (closed-form inner gradient, learned per-parameter step sizes) before the query loss — MAML on the head,
 * second order, exact. `innerSteps` 0 trains the same network without meta-learning (the ablation). Loss:
 * `ape`, the query's absolute percentage error — the metric itself, whose optimum (a 1/size-weighted median)
 * leans low — or `logl1`, |log(pred / true)|, whose optimum is the median. Writes
 * <out>/{model.json, weights.bin, head.json, train.json}.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { RungHistory } from '../abr/size-forecast.js';
import {
  LearnedSizeForecaster,
  SIZE_FEATURES,
  SIZE_HORIZONS,
  buildSizeNet,
  sizeFeatures,
  sizeTargets,
  type SizeNet,
} from '../abr/size-model.js';
import { apeSummary, evaluateForecaster, loadChunkDataset, type ChunkVideo } from '../sim/abr/chunks.js';
import { dataRoot } from '../sim/abr/load.js';
import { InputError } from './errors.js';
import { repoRelative } from './cli/args.js';
import { saveModel } from './io.js';

export interface TrainChunkSizeOptions {
  /** Meta-SGD steps of the head per forecast (0: the plain network; default 2) */
  innerSteps?: number;
  /** support window, origins (default 10) */
  window?: number;
  iters?: number;
  /** episodes per batch, a multiple of 8 (default 32) */
  batch?: number;
  lr?: number;
  hidden?: number;
  seed?: number;
  evalEvery?: number;
  loss?: 'ape' | 'logl1';
  innerLoss?: 'l2' | 'ape';
  /** share of the batches' blocks drawn from our encodes (default 0.1) */
  encodesShare?: number;
  /** the shared chunk dataset (default $EDGEPLAY_DATA/chunks) */
  data?: string;
  /** our encodes (default bench/coding-meta; null: none) */
  encodes?: string | null;
  /** instead of the directories: the videos themselves (tests) */
  trainVideos?: ChunkVideo[];
  devVideos?: ChunkVideo[];
  devEncodes?: ChunkVideo[];
  /** output directory (default models/chunk-size) */
  out?: string;
  command?: string;
  log?: (s: string) => void;
}

export interface TrainChunkSizeResult {
  selectedIter: number;
  /** dev MAPE h1..5 of the selected checkpoint */
  devShared: number[];
  devEncodes: number[] | null;
  history: Array<{ iter: number; loss: number; dev_shared: number[]; dev_encodes: number[] | null }>;
}

/** Trains, selects on dev, writes the model. Throws InputError on bad options or missing data. */
export async function trainChunkSize(o: TrainChunkSizeOptions = {}): Promise<TrainChunkSizeResult> {
  const STEPS = o.innerSteps ?? 2;
  const WINDOW = o.window ?? 10;
  const ITERS = o.iters ?? 3000;
  const BATCH = o.batch ?? 32;
  const SEED = o.seed ?? 1;
  const HIDDEN = o.hidden ?? 64;
  const EVAL_EVERY = o.evalEvery ?? 250;
  const OUT = resolve(o.out ?? 'models/chunk-size');
  const LOSS = o.loss ?? 'ape';
  const INNER = o.innerLoss ?? 'l2';
  if (!['l2', 'ape'].includes(INNER)) throw new InputError('innerLoss must be l2 (squared log error) or ape');
  if (!['ape', 'logl1'].includes(LOSS))
    throw new InputError('loss must be ape (the MAPE metric itself) or logl1 (|log pred/true|: the median)');
  if (BATCH % 8) throw new InputError(`batch must be a multiple of 8, got ${BATCH}`);
  const t0 = Date.now();
  const out = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => out(`[train:chunks +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);

  let train: ChunkVideo[];
  let devShared: ChunkVideo[];
  let devEnc: ChunkVideo[];
  let encDir: string | null = null;
  if (o.trainVideos) {
    train = o.trainVideos;
    devShared = o.devVideos ?? [];
    devEnc = o.devEncodes ?? [];
  } else {
    const chunksDir = resolve(o.data ?? join(dataRoot(), 'chunks'));
    if (!existsSync(join(chunksDir, 'index.csv')))
      throw new InputError(`chunk dataset not found: ${chunksDir}/index.csv (set EDGEPLAY_DATA or --data)`);
    const e = o.encodes === null ? null : resolve(o.encodes ?? 'bench/coding-meta');
    encDir = e && existsSync(join(e, 'index.csv')) ? e : null;
    train = [...loadChunkDataset(chunksDir, ['train']), ...(encDir ? loadChunkDataset(encDir, ['train']) : [])];
    devShared = loadChunkDataset(chunksDir, ['dev']);
    devEnc = encDir ? loadChunkDataset(encDir, ['dev']) : [];
  }
  if (!train.length || !devShared.length) throw new InputError('train:chunks needs training and dev videos');
  const haveEnc = train.some((v) => v.meta !== null);
  log(
    `loss ${LOSS}; ${train.length} training videos (${haveEnc ? 'shared + our encodes' : 'shared only'}), dev: ${devShared.length} shared + ${devEnc.length} encodes; inner steps ${STEPS}, window ${WINDOW}`,
  );

  // ---------- feature rows of every (video, origin, rung) ----------
  const RMAX = Math.max(...train.map((v) => v.ladderKbps.length));
  interface Vid {
    n: number;
    R: number;
    /** row of (origin i, rung r) = off + (i - 1) * R + r, i = 1..n-1 */
    off: number;
  }
  const vids: Vid[] = [];
  let rows = 0;
  for (const v of train) {
    vids.push({ n: v.sizes.length, R: v.ladderKbps.length, off: rows });
    rows += (v.sizes.length - 1) * v.ladderKbps.length;
  }
  const X = new Float32Array(rows * SIZE_FEATURES);
  const Y = new Float32Array(rows * SIZE_HORIZONS);
  {
    const feat = new Float32Array(SIZE_FEATURES);
    const tgt = new Float32Array(SIZE_HORIZONS);
    train.forEach((v, vi) => {
      const h = new RungHistory();
      h.start({ ladderKbps: v.ladderKbps, chunkS: v.chunkS });
      const { n, R, off } = vids[vi];
      for (let i = 1; i < n; i++) {
        h.push(v.sizes[i - 1], v.meta?.[i - 1] ?? null);
        for (let r = 0; r < R; r++) {
          const row = off + (i - 1) * R + r;
          sizeFeatures(h, r, feat);
          X.set(feat, row * SIZE_FEATURES);
          sizeTargets(v.sizes, r, i, tgt);
          Y.set(tgt, row * SIZE_HORIZONS);
        }
      }
    });
  }
  log(`${rows} feature rows of ${SIZE_FEATURES} features; ${RMAX} rungs at most`);

  // ---------- model and meta parameters ----------
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  await tf.ready();
  const model = buildSizeNet(tf, HIDDEN, SEED);
  const h1 = model.getLayer('h1');
  const h2 = model.getLayer('h2');
  const head = model.getLayer('head');
  const logAlphaW = tf.variable(tf.fill([HIDDEN, SIZE_HORIZONS], Math.log(0.3)), true, 'logAlphaW');
  const logAlphaB = tf.variable(tf.fill([SIZE_HORIZONS], Math.log(0.3)), true, 'logAlphaB');
  const opt = tf.train.adam(o.lr ?? 1e-3);
  const Xall = tf.tensor2d(X, [rows, SIZE_FEATURES]);
  const rng = mulberry32(SEED);
  // videos drawn with probability ~ sqrt(origins): long live streams count more, but not linearly; our
  // encodes (with coding meta, few and short) make up `--encodes-share` of the blocks when present
  const ENC_SHARE = o.encodesShare ?? 0.1;
  const isEnc = train.map((v) => v.meta !== null);
  const weights = vids.map((v) => Math.sqrt(Math.max(1, v.n - 5)));
  const pickFrom = (enc: boolean) => {
    const idx = weights.map((_, i) => i).filter((i) => isEnc[i] === enc);
    let u = rng() * idx.reduce((x, i) => x + weights[i], 0);
    for (const i of idx) if ((u -= weights[i]) <= 0) return i;
    return idx[idx.length - 1];
  };
  const anyEnc = isEnc.some(Boolean);
  const pickVideo = () => pickFrom(anyEnc && rng() < ENC_SHARE);

  /**
   * One batch of episodes in blocks of BLOCK consecutive origins of one video: a block's feature rows cover
   * origins i0 - WINDOW .. i0 + BLOCK - 1 (x RMAX rungs, padded), so the support windows of its episodes are
   * overlapping slices of one tensor and every row goes through the network once. Targets and masks are
   * laid out per episode: query [BATCH, RMAX, 5], support [BATCH, WINDOW * RMAX, 5] (support targets only
   * where already known at the query origin).
   */
  const BLOCK = 8;
  const NB = BATCH / BLOCK;
  const L = WINDOW + BLOCK;
  function batch() {
    const xRow = new Int32Array(NB * L * RMAX);
    const qY = new Float32Array(BATCH * RMAX * SIZE_HORIZONS);
    const qM = new Float32Array(BATCH * RMAX * SIZE_HORIZONS);
    const sY = new Float32Array(BATCH * WINDOW * RMAX * SIZE_HORIZONS);
    const sM = new Float32Array(BATCH * WINDOW * RMAX * SIZE_HORIZONS);
    for (let b = 0; b < NB; b++) {
      let vi = pickVideo();
      while (vids[vi].n < 7) vi = pickVideo();
      const { n, R, off } = vids[vi];
      const i0 = 5 + Math.floor(rng() * Math.max(1, n - 5 - BLOCK + 1));
      const rowOf = (o: number, r: number) => (o >= 1 && o <= n - 1 && r < R ? off + (o - 1) * R + r : -1);
      for (let l = 0; l < L; l++) for (let r = 0; r < RMAX; r++) xRow[(b * L + l) * RMAX + r] = Math.max(0, rowOf(i0 - WINDOW + l, r));
      for (let k = 0; k < BLOCK; k++) {
        const e = b * BLOCK + k;
        const i = i0 + k;
        if (i > n - 1) continue; // a short video: the episode is masked out
        for (let r = 0; r < R; r++) {
          const row = rowOf(i, r);
          for (let h = 0; h < SIZE_HORIZONS; h++) {
            const y = Y[row * SIZE_HORIZONS + h];
            const z = (e * RMAX + r) * SIZE_HORIZONS + h;
            if (!Number.isNaN(y)) ((qY[z] = y), (qM[z] = 1));
          }
        }
        if (STEPS === 0) continue;
        for (let w = 0; w < WINDOW; w++) {
          const j = i - WINDOW + w;
          for (let r = 0; r < R; r++) {
            const row = rowOf(j, r);
            if (row < 0) continue;
            for (let h = 0; h < SIZE_HORIZONS && j + h <= i - 1; h++) {
              const y = Y[row * SIZE_HORIZONS + h];
              const z = ((e * WINDOW + w) * RMAX + r) * SIZE_HORIZONS + h;
              if (!Number.isNaN(y)) ((sY[z] = y), (sM[z] = 1));
            }
          }
        }
      }
    }
    return { xRow, qY, qM, sY, sM };
  }

  const body = (x: tf.Tensor) => h2.apply(h1.apply(x)) as tf.Tensor;

  /**
   * The query loss of a batch after `STEPS` inner Meta-SGD steps of the head on each episode's support set.
   * Shapes: phi [NB, L, RMAX, d]; per episode phiS [W * RMAX, d] (a slice), phiQ [RMAX, d]; head W [d, 5], b [5].
   */
  function episodeLoss(bt: ReturnType<typeof batch>): tf.Scalar {
    const d = HIDDEN;
    const [Wk, bk] = head.trainableWeights.map((w) => w.read());
    const phi = body(tf.gather(Xall, tf.tensor1d(bt.xRow, 'int32'))).reshape([NB, L, RMAX, d]);
    const qs: tf.Tensor[] = [];
    const ss: tf.Tensor[] = [];
    for (let b = 0; b < NB; b++)
      for (let k = 0; k < BLOCK; k++) {
        qs.push(tf.slice(phi, [b, WINDOW + k, 0, 0], [1, 1, RMAX, d]).reshape([RMAX, d]));
        if (STEPS > 0) ss.push(tf.slice(phi, [b, k, 0, 0], [1, WINDOW, RMAX, d]).reshape([WINDOW * RMAX, d]));
      }
    const phiQ = tf.stack(qs);
    const qY = tf.tensor3d(bt.qY, [BATCH, RMAX, SIZE_HORIZONS]);
    const qM = tf.tensor3d(bt.qM, [BATCH, RMAX, SIZE_HORIZONS]);
    let W: tf.Tensor = tf.tile(Wk.expandDims(0), [BATCH, 1, 1]);
    let b: tf.Tensor = tf.tile(bk.reshape([1, 1, SIZE_HORIZONS]), [BATCH, 1, 1]);
    if (STEPS > 0) {
      const n = WINDOW * RMAX;
      const phiS = tf.stack(ss);
      const sY = tf.tensor3d(bt.sY, [BATCH, n, SIZE_HORIZONS]);
      const sM = tf.tensor3d(bt.sM, [BATCH, n, SIZE_HORIZONS]);
      const cnt = tf.maximum(tf.sum(sM, [1, 2], true), 1);
      const aW = tf.exp(logAlphaW).expandDims(0);
      const aB = tf.exp(logAlphaB).reshape([1, 1, SIZE_HORIZONS]);
      for (let st = 0; st < STEPS; st++) {
        const P = tf.add(tf.matMul(phiS, W), b);
        // d(inner loss)/dP: P - y (squared log error / 2) or sign(r - 1) r with r = exp(P - y) (APE)
        const D = tf.sub(P, sY);
        const G =
          INNER === 'ape'
            ? tf.tidy(() => {
                const r = tf.exp(tf.clipByValue(D, -3, 3));
                return tf.mul(tf.sign(tf.sub(r, 1)), r);
              })
            : D;
        const E = tf.div(tf.mul(G, sM), cnt);
        const gW = tf.matMul(phiS, E, true, false);
        const gB = tf.sum(E, 1, true);
        W = tf.sub(W, tf.mul(aW, gW));
        b = tf.sub(b, tf.mul(aB, gB));
      }
    }
    const P = tf.clipByValue(tf.add(tf.matMul(phiQ, W), b), -3, 3);
    const err = LOSS === 'ape' ? tf.abs(tf.sub(tf.exp(tf.sub(P, qY)), 1)) : tf.abs(tf.sub(P, qY));
    return tf.div(tf.sum(tf.mul(err, qM)), tf.maximum(tf.sum(qM), 1)) as tf.Scalar;
  }

  function currentNet(): SizeNet {
    const dense = (name: string) => {
      const [k, b] = model.getLayer(name).getWeights();
      return { w: k.dataSync() as Float32Array, b: b.dataSync() as Float32Array, n: k.shape[0], m: k.shape[1]! };
    };
    return {
      body: [dense('h1'), dense('h2')],
      head: dense('head'),
      alphaW: tf.tidy(() => tf.exp(logAlphaW).dataSync() as Float32Array),
      alphaB: tf.tidy(() => tf.exp(logAlphaB).dataSync() as Float32Array),
      steps: STEPS,
      window: WINDOW,
      innerLoss: INNER,
    };
  }

  function devScore(net: SizeNet) {
    const mk = () => new LearnedSizeForecaster(net);
    const sc = (videos: ChunkVideo[]) => {
      if (!videos.length) return null;
      const e = evaluateForecaster(videos, mk);
      return e.ape.map((x) => apeSummary(x).mape);
    };
    const shared = sc(devShared)!;
    const enc = sc(devEnc);
    const m = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
    // our encodes are 2 short dev videos (282 points per horizon vs 23 k): a noisy score, so it weighs 0.2
    return { shared, enc, score: enc ? 0.8 * m(shared) + 0.2 * m(enc) : m(shared) };
  }

  let best = {
    score: Infinity,
    iter: 0,
    net: null as SizeNet | null,
    weights: [] as tf.Tensor[],
    shared: [] as number[],
    enc: null as number[] | null,
  };
  const history: Array<{ iter: number; loss: number; dev_shared: number[]; dev_encodes: number[] | null }> = [];
  let lossAcc = 0;
  let lossN = 0;
  for (let it = 1; it <= ITERS; it++) {
    const bt = batch();
    const loss = opt.minimize(() => episodeLoss(bt), true);
    lossAcc += loss!.dataSync()[0];
    lossN++;
    loss!.dispose();
    if (it % EVAL_EVERY === 0 || it === ITERS) {
      const net = currentNet();
      const d = devScore(net);
      const f = (x: number[] | null) => (x ? x.map((y) => y.toFixed(1)).join('/') : '-');
      history.push({ iter: it, loss: lossAcc / lossN, dev_shared: d.shared, dev_encodes: d.enc });
      if (d.score < best.score) {
        best.weights.forEach((w) => w.dispose());
        best = { score: d.score, iter: it, net, weights: model.getWeights().map((w) => w.clone()), shared: d.shared, enc: d.enc };
      }
      log(
        `iter ${it}/${ITERS}: train APE ${((100 * lossAcc) / lossN).toFixed(2)} %, dev MAPE h1..5 shared ${f(d.shared)}, encodes ${f(d.enc)} (score ${d.score.toFixed(2)}; best ${best.score.toFixed(2)} at ${best.iter})`,
      );
      lossAcc = 0;
      lossN = 0;
    }
  }

  model.setWeights(best.weights);
  mkdirSync(OUT, { recursive: true });
  await saveModel(model, OUT);
  const net = best.net!;
  writeFileSync(
    join(OUT, 'head.json'),
    JSON.stringify({
      features: SIZE_FEATURES,
      steps: STEPS,
      window: WINDOW,
      innerLoss: INNER,
      alphaW: Array.from(net.alphaW),
      alphaB: Array.from(net.alphaB),
    }) + '\n',
  );
  writeFileSync(
    join(OUT, 'train.json'),
    JSON.stringify(
      {
        command: o.command ?? 'train:chunks (library call)',
        seed: SEED,
        inner_steps: STEPS,
        loss: LOSS,
        inner_loss: INNER,
        window: WINDOW,
        iters: ITERS,
        batch: BATCH,
        hidden: HIDDEN,
        train_videos: train.length,
        encodes: encDir === null ? null : repoRelative(encDir),
        selected_iter: best.iter,
        dev_shared_mape_h1_5: best.shared,
        dev_encodes_mape_h1_5: best.enc,
        history,
        seconds: (Date.now() - t0) / 1000,
      },
      null,
      2,
    ) + '\n',
  );
  log(`selected iter ${best.iter}; wrote ${OUT}`);
  opt.dispose();
  tf.dispose([Xall, logAlphaW, logAlphaB, ...best.weights]);
  return { selectedIter: best.iter, devShared: best.shared, devEncodes: best.enc, history };
}
