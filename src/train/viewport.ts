/**
 * Trains the learned viewport predictors (`npm run train:viewport`, entry in cli/viewport.ts) on the `train`
 * split of every dataset in the viewport data directory (David's derived dev split is held out, see
 * withDerivedDev) with the orthodromic loss, and selects the epoch on the `dev` split (protocol of the data
 * README: mean error over the 25 horizon steps, averaged over datasets). Two models:
 *   models/viewport        position only (the recent head motion)
 *   models/viewport-prior  the same plus the attention prior of the video, built leave-one-user-out from
 *                          the *other* viewers of the same split (a viewer's own trace never enters its prior)
 * Each directory gets model.json, weights.bin, train.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { dataRoot } from '../sim/abr/load.js';
import { loadViewportDir, type ViewportTrace } from '../sim/viewport/data.js';
import { evaluate, looPriors } from '../sim/viewport/protocol.js';
import { AttentionPrior, PRIOR_FEATURES } from '../viewport/prior.js';
import { LearnedViewport, MODEL_HISTORY, buildViewportModel, inputSize, modelInput } from '../viewport/model.js';
import { unyaw } from '../viewport/geometry.js';
import { HORIZON_STEPS, NoMotion, type ViewportPredictor } from '../viewport/predictors.js';
import { InputError } from './errors.js';
import { loadModel, saveModel } from './io.js';

/** What `npm run train:viewport` flags set (same defaults), plus library-only inputs. */
export interface TrainViewportOptions {
  /** train only one of the two models (default: both) */
  only?: 'position' | 'prior';
  /** epochs (cosine learning-rate schedule) (default 12) */
  epochs?: number;
  /** seeds initialisation, shuffles, mirroring and the training priors' viewer subsets (default 1) */
  seed?: number;
  /** minibatch (default 512) */
  batch?: number;
  /** Adam learning rate at the start of the schedule (default 1e-3) */
  lr?: number;
  /** hidden width (default 128) */
  hidden?: number;
  /** training priors use a random subset of the other viewers: between 3 and this many (default 25) */
  priorViewers?: number;
  /** viewport data directory (default $EDGEPLAY_DATA/viewport) */
  data?: string;
  /** models are written to OUT_DIR/viewport and OUT_DIR/viewport-prior (default models) */
  outDir?: string;
  /** history samples the model reads (default MODEL_HISTORY = 10; the edge's large variant reads 25) */
  history?: number;
  /** the attention prior's grid, columns × rows (default 24 × 12; the edge's large variant uses 48 × 24) */
  priorGrid?: [number, number];
  /** the output directory's name under OUT_DIR (default viewport / viewport-prior) */
  name?: string;
  /** training windows per epoch: a fresh seeded random subset each epoch (default all; caps an epoch's time) */
  windowsPerEpoch?: number;
  /**
   * warm start: a directory holding a trained viewport model of the same kind (with/without prior) that is no
   * wider and reads no longer a history; it is embedded function-preservingly (`embedViewportWeights`) before
   * training (default: none, a fresh initialisation)
   */
  initFrom?: string;
  // ---- library-only ----
  /** train and dev traces instead of reading `data` */
  traces?: { train: ViewportTrace[]; dev: ViewportTrace[] };
  /** the command line recorded in train.json */
  command?: string;
  log?: (s: string) => void;
}

/** What one trained model reached. */
export interface ViewportTrainResult {
  name: string;
  out: string;
  epoch: number;
  /** selected epoch's dev score: mean error (deg) over the horizon, averaged over datasets */
  devMeanDeg: number;
  /** the no-motion baseline's dev score */
  noMotionDevMeanDeg: number;
  history: Array<Record<string, unknown>>;
}

/**
 * The viewport trainer; see the file's comment. Throws InputError when the data directory is missing. Selects
 * tfjs' wasm backend (the one the committed models were trained on); seeded, so a run repeats bit for bit.
 */
export async function trainViewport(o: TrainViewportOptions = {}): Promise<ViewportTrainResult[]> {
  const ONLY = o.only ?? '';
  const EPOCHS = o.epochs ?? 12;
  const SEED = o.seed ?? 1;
  const BATCH = o.batch ?? 512;
  const LR = o.lr ?? 1e-3;
  const HIDDEN = o.hidden ?? 128;
  const SKIP = 30;
  /** training priors use a random subset of the other viewers: between 3 and this many */
  const PRIOR_VIEWERS = o.priorViewers ?? 25;
  const DATA = resolve(o.data ?? join(dataRoot(), 'viewport'));
  const OUT_DIR = resolve(o.outDir ?? 'models');
  const H = o.history ?? MODEL_HISTORY;
  const GRID = o.priorGrid ?? [24, 12];
  const gridOpts = { cols: GRID[0], rows: GRID[1] };
  if (!(Number.isInteger(H) && H >= 1 && H <= SKIP)) throw new InputError(`history must be an integer 1…30, got ${H}`);
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:viewport +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  const progress = o.log ? (_: string) => undefined : (s: string) => void process.stdout.write(s);

  if (!o.traces && !existsSync(join(DATA, 'index.csv')))
    throw new InputError(`viewport data not found: ${DATA}/index.csv (set EDGEPLAY_DATA or pass --data)`);
  await tf.setBackend('wasm');
  await tf.ready();
  const train = o.traces?.train ?? loadViewportDir(DATA, (r) => r.split === 'train');
  const dev = o.traces?.dev ?? loadViewportDir(DATA, (r) => r.split === 'dev');
  if (!train.length || !dev.length) throw new InputError(`need train and dev traces, got ${train.length} and ${dev.length} (${DATA})`);
  log(
    `${train.length} train traces, ${dev.length} dev traces (${[...new Set(dev.map((d) => d.dataset))].join(', ')}) from ${o.traces ? 'the caller' : DATA}`,
  );

  const windows = (traces: ViewportTrace[], withPrior: boolean, priors: Map<ViewportTrace, AttentionPrior> | null) =>
    viewportWindows(traces, withPrior, priors, { history: H, skip: SKIP });

  /** signs that mirror a window left/right (x → −x) in the aligned frame */
  function mirrorMask(F: number): Float32Array {
    const m = new Float32Array(F).fill(1);
    for (let j = 0; j < 3 * H; j += 3) m[j] = -1;
    for (let j = 3 * H; j < F; j += 4) m[j] = -1; // prior groups: x, y, z, mass
    return m;
  }

  function devScore(p: ViewportPredictor, priors: Map<ViewportTrace, AttentionPrior> | null) {
    const perDs: Record<string, number[]> = {};
    for (const ds of [...new Set(dev.map((d) => d.dataset))].sort()) {
      const tr = dev.filter((d) => d.dataset === ds);
      const r = evaluate(p, tr, {
        skip: SKIP,
        history: Math.max(H, 5),
        beforeTrace: (t) => {
          if (p instanceof LearnedViewport) p.prior = priors?.get(t) ?? null;
        },
      });
      perDs[ds] = r.errorDeg;
    }
    const score = Object.values(perDs).reduce((a, e) => a + e.reduce((x, y) => x + y, 0) / e.length, 0) / Object.keys(perDs).length;
    return { score, perDs };
  }

  async function trainOne(withPrior: boolean): Promise<ViewportTrainResult> {
    const name = o.name ?? (withPrior ? 'viewport-prior' : 'viewport');
    const priorsTrain = withPrior
      ? looPriors(train, { minViewers: 3, maxViewers: PRIOR_VIEWERS, rng: mulberry32(SEED + 17), ...gridOpts })
      : null;
    const priorsDev = withPrior ? looPriors(dev, gridOpts) : null;
    const data = windows(train, withPrior, priorsTrain);
    log(`${name}: ${data.count} training windows, ${data.F} inputs`);
    const model = buildViewportModel(tf, { withPrior, hidden: HIDDEN, seed: SEED, history: H });
    const params = model.countParams();
    let initDevMeanDeg: number | null = null;
    if (o.initFrom) {
      const small = await loadModel(resolve(o.initFrom));
      embedViewportWeights(tf, small, model, withPrior);
      small.dispose();
      initDevMeanDeg = devScore(new LearnedViewport(model, undefined, { history: H }), priorsDev).score;
      log(`${name}: warm start from ${o.initFrom}: dev mean ${initDevMeanDeg.toFixed(3)}° before training (not a candidate)`);
    }
    const opt = tf.train.adam(LR);
    const rng = mulberry32(SEED);
    const mask = mirrorMask(data.F);
    const S3 = HORIZON_STEPS * 3;
    const xb = new Float32Array(BATCH * data.F);
    const yb = new Float32Array(BATCH * S3);
    const lb = new Float32Array(BATCH * 3);
    const nm = devScore(new NoMotion(), null);
    log(
      `dev no-motion: mean ${nm.score.toFixed(3)}° ${Object.entries(nm.perDs)
        .map(([d, e]) => `${d} 2s ${e[9].toFixed(2)}°`)
        .join(', ')}`,
    );
    let best = { score: Infinity, epoch: -1, perDs: {} as Record<string, number[]>, weights: [] as tf.Tensor[] };
    const history: Array<Record<string, unknown>> = [];
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      const lr = LR * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / EPOCHS));
      (opt as unknown as { learningRate: number }).learningRate = lr;
      const perm = new Uint32Array(data.count);
      for (let i = 0; i < data.count; i++) perm[i] = i;
      for (let i = data.count - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      let lossSum = 0;
      let batches = 0;
      const perEpoch = Math.min(data.count, o.windowsPerEpoch ?? data.count);
      for (let b = 0; b + BATCH <= perEpoch; b += BATCH) {
        for (let r = 0; r < BATCH; r++) {
          const i = perm[b + r];
          const flip = rng() < 0.5;
          for (let j = 0; j < data.F; j++) xb[r * data.F + j] = flip ? data.X[i * data.F + j] * mask[j] : data.X[i * data.F + j];
          for (let j = 0; j < S3; j++) yb[r * S3 + j] = flip && j % 3 === 0 ? -data.Y[i * S3 + j] : data.Y[i * S3 + j];
          for (let j = 0; j < 3; j++) lb[r * 3 + j] = flip && j === 0 ? -data.L[i * 3] : data.L[i * 3 + j];
        }
        const loss = tf.tidy(() => {
          const x = tf.tensor2d(xb, [BATCH, data.F]);
          const y = tf.tensor3d(yb, [BATCH, HORIZON_STEPS, 3]);
          const last = tf.tensor3d(lb, [BATCH, 1, 3]);
          return opt.minimize(() => {
            const r = (model.apply(x, { training: true }) as tf.Tensor).reshape([BATCH, HORIZON_STEPS, 3]);
            const v = last.add(r);
            const p = v.div(v.square().sum(-1, true).add(1e-12).sqrt());
            const chord = p.sub(y).square().sum(-1).add(1e-12).sqrt();
            return chord
              .div(2)
              .clipByValue(0, 1 - 1e-6)
              .asin()
              .mul(2)
              .mean() as tf.Scalar;
          }, true)!;
        });
        lossSum += (await loss.data())[0];
        loss.dispose();
        batches++;
        if (batches % 200 === 0)
          progress(`\r  epoch ${epoch} batch ${batches} loss ${(((lossSum / batches) * 180) / Math.PI).toFixed(3)}°   `);
      }
      progress('\r');
      const p = new LearnedViewport(model, undefined, { history: H });
      const d = devScore(p, priorsDev);
      const row = {
        epoch,
        lr,
        train_loss_deg: ((lossSum / batches) * 180) / Math.PI,
        dev_mean_deg: d.score,
        dev_2s: Object.fromEntries(Object.entries(d.perDs).map(([k, e]) => [k, e[9]])),
      };
      history.push(row);
      log(
        `${name} epoch ${epoch}/${EPOCHS}: train ${row.train_loss_deg.toFixed(3)}°, dev mean ${d.score.toFixed(3)}° (${Object.entries(
          d.perDs,
        )
          .map(([k, e]) => `${k} 2s ${e[9].toFixed(2)}°`)
          .join(', ')})${d.score < best.score ? ' *' : ''}`,
      );
      if (d.score < best.score) {
        best.weights.forEach((w) => w.dispose());
        best = { score: d.score, epoch, perDs: d.perDs, weights: model.getWeights().map((w) => w.clone()) };
      }
    }
    model.setWeights(best.weights);
    // the selected model's own error per horizon on (every 8th trace of) the training split: the spread the
    // player uses to turn a prediction into tile probabilities (never measured on dev)
    const sample = train.filter((_, i) => i % 8 === 0);
    const fin = new LearnedViewport(model, undefined, { history: H });
    const trainErr = evaluate(fin, sample, {
      skip: SKIP,
      history: Math.max(H, 5),
      beforeTrace: (t) => {
        fin.prior = priorsTrain?.get(t) ?? null;
      },
    }).errorDeg;
    const out = join(OUT_DIR, name);
    mkdirSync(out, { recursive: true });
    await saveModel(model, out);
    writeFileSync(
      join(out, 'train.json'),
      JSON.stringify(
        {
          command: o.command ?? 'trainViewport (library call)',
          model: name,
          with_prior: withPrior,
          params,
          seed: SEED,
          epochs: EPOCHS,
          batch: BATCH,
          lr: LR,
          hidden: HIDDEN,
          history_samples: H,
          prior_grid: withPrior ? GRID : null,
          prior_features: withPrior ? PRIOR_FEATURES : 0,
          training_windows: data.count,
          windows_per_epoch: Math.min(data.count, o.windowsPerEpoch ?? data.count),
          selected_epoch: best.epoch,
          train_error_deg: trainErr.map((e) => Math.round(e * 100) / 100),
          dev_mean_deg: best.score,
          dev_error_deg: best.perDs,
          dev_no_motion_deg: nm.perDs,
          prior_viewers_train: withPrior ? [3, PRIOR_VIEWERS] : null,
          init_from: o.initFrom ?? null,
          init_dev_mean_deg: initDevMeanDeg,
          history,
          seconds: Math.round((Date.now() - t0) / 1000),
        },
        null,
        1,
      ),
    );
    log(`${name}: wrote ${out} (epoch ${best.epoch}, dev mean ${best.score.toFixed(3)}°, ${params} parameters)`);
    return { name, out, epoch: best.epoch, devMeanDeg: best.score, noMotionDevMeanDeg: nm.score, history };
  }

  const results: ViewportTrainResult[] = [];
  if (ONLY !== 'prior') results.push(await trainOne(false));
  if (ONLY !== 'position') results.push(await trainOne(true));
  return results;
}

/**
 * Function-preserving widening (Net2Net's idea, Chen et al. 2016, with zero-initialised links instead of unit
 * copies): copies a trained viewport MLP `small` (inputs: Hs history samples × 3, then the prior features;
 * d1 → d2 → residual) into the wider `big` (Hb ≥ Hs samples, hidden width ≥ small's). The small model's inputs
 * are the newest Hs of the big one's samples (positionFeatures lays samples oldest first) and its prior
 * features; its hidden units are the first ones of each layer. Links from the older samples and from the new
 * units into the old units and into the output are zero, so `big` computes what `small` computed (on the same
 * features); the new units keep their fresh initialisation and start learning through their output links.
 * @throws Error when layer shapes do not nest (different prior features, narrower `big`, other steps).
 */
export function embedViewportWeights(tfl: typeof tf, small: tf.LayersModel, big: tf.LayersModel, withPrior: boolean): void {
  const get = (m: tf.LayersModel, n: string) => m.getLayer(n).getWeights();
  const [k1s, b1s] = get(small, 'd1');
  const [k2s, b2s] = get(small, 'd2');
  const [k3s, b3s] = get(small, 'residual');
  const [k1b, b1b] = get(big, 'd1');
  const [k2b, b2b] = get(big, 'd2');
  const [k3b] = get(big, 'residual');
  const [inS, hS] = k1s.shape;
  const [inB, hB] = k1b.shape;
  const pf = withPrior ? PRIOR_FEATURES : 0;
  const histS = (inS - pf) / 3;
  const histB = (inB - pf) / 3;
  if (!Number.isInteger(histS) || !Number.isInteger(histB) || histB < histS || hB < hS || k3b.shape[1] !== k3s.shape[1])
    throw new Error(`embedViewportWeights: cannot nest ${inS}→${hS}→${k3s.shape[1]} into ${inB}→${hB}→${k3b.shape[1]}`);
  const K1 = k1b.arraySync() as number[][];
  const S1 = k1s.arraySync() as number[][];
  const off = 3 * (histB - histS);
  for (let r = 0; r < inB; r++) for (let c = 0; c < hS; c++) K1[r][c] = 0;
  for (let r = 0; r < inS; r++) {
    const rb = r < 3 * histS ? off + r : 3 * histB + (r - 3 * histS);
    for (let c = 0; c < hS; c++) K1[rb][c] = S1[r][c];
  }
  const B1 = b1b.arraySync() as number[];
  (b1s.arraySync() as number[]).forEach((v, i) => (B1[i] = v));
  const K2 = k2b.arraySync() as number[][];
  const S2 = k2s.arraySync() as number[][];
  for (let r = 0; r < hB; r++) for (let c = 0; c < hS; c++) K2[r][c] = r < hS ? S2[r][c] : 0;
  const B2 = b2b.arraySync() as number[];
  (b2s.arraySync() as number[]).forEach((v, i) => (B2[i] = v));
  const K3 = k3b.arraySync() as number[][];
  const S3 = k3s.arraySync() as number[][];
  for (let r = 0; r < hB; r++) for (let c = 0; c < K3[r].length; c++) K3[r][c] = r < hS ? S3[r][c] : 0;
  big.getLayer('d1').setWeights([tfl.tensor2d(K1), tfl.tensor1d(B1)]);
  big.getLayer('d2').setWeights([tfl.tensor2d(K2), tfl.tensor1d(B2)]);
  big.getLayer('residual').setWeights([tfl.tensor2d(K3), tfl.tensor(b3s.arraySync() as number[])]);
}

/** Training windows of the viewport protocol (see `viewportWindows`). */
export interface ViewportWindows {
  /** inputs, count × F */
  X: Float32Array;
  /** targets: the next HORIZON_STEPS samples in each window's aligned frame, count × HORIZON_STEPS × 3 */
  Y: Float32Array;
  /** the window's last sample in its aligned frame, count × 3 */
  L: Float32Array;
  count: number;
  F: number;
}

/**
 * Every window of the traces as the trainer sees it: history end i ≥ `skip` (default 30), Wu2017 at stride 2;
 * inputs by `modelInput` with `history` samples (default MODEL_HISTORY) and, with `withPrior`, the trace's prior.
 * Shared by the viewport trainer and the deployment variants' trainer (src/train/variants.ts).
 */
export function viewportWindows(
  traces: ViewportTrace[],
  withPrior: boolean,
  priors: Map<ViewportTrace, AttentionPrior> | null,
  o: { history?: number; skip?: number } = {},
): ViewportWindows {
  const H = o.history ?? MODEL_HISTORY;
  const SKIP = o.skip ?? 30;
  const F = inputSize(withPrior, H);
  let count = 0;
  const stride = (t: ViewportTrace) => (t.dataset === 'wu2017' ? 2 : 1);
  for (const t of traces) count += Math.max(0, Math.floor((t.xyz.length / 3 - HORIZON_STEPS - 1 - SKIP) / stride(t)) + 1);
  const X = new Float32Array(count * F);
  const Y = new Float32Array(count * HORIZON_STEPS * 3);
  const L = new Float32Array(count * 3);
  let w = 0;
  const tmp = [0, 0, 0];
  const x = new Float32Array(F);
  for (const t of traces) {
    const n = t.xyz.length / 3;
    const prior = priors?.get(t) ?? null;
    for (let i = SKIP; i + HORIZON_STEPS < n; i += stride(t)) {
      const hist = t.xyz.subarray(Math.max(0, i - H + 1) * 3, (i + 1) * 3);
      const { frame } = modelInput(hist, withPrior, prior, t.t0 + i * 0.2, x, H);
      X.set(x, w * F);
      unyaw(t.xyz, i * 3, frame.cos, frame.sin, tmp, 0);
      L.set(tmp, w * 3);
      for (let k = 0; k < HORIZON_STEPS; k++) {
        unyaw(t.xyz, (i + 1 + k) * 3, frame.cos, frame.sin, tmp, 0);
        Y.set(tmp, (w * HORIZON_STEPS + k) * 3);
      }
      w++;
    }
  }
  if (w !== count) throw new Error(`window count ${w} != ${count}`);
  return { X, Y, L, count, F };
}
