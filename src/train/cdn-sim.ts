/**
 * `npm run train:cdn-sim -- [--epochs 10] [--every 16] [--batch 256] [--units 16,8] [--dad 3] [--dad-epochs 2] [--clamp-margin 0.5] [--seed 1] [--out models/cdn-sim] [--results bench/results/cdn-sim.json]`
 *
 * The learned simulator (src/sim/cdn/learned.ts, LTS §4.4): logs of the mechanistic simulator, then per CDN
 * a model from the recent workload history to the step's QoE, and the LTS Table 1 comparison on held-out
 * (test) days: linear regression, an ARMA-like model, a plain LSTM and the LTS model (LSTM → LSTM → NALU).
 *
 * Logs: every 3-of-4 combination on every day, under a behaviour policy that explores the shares (from a
 * random split, each minute a random LTS action with probability 0.2, else keep) — the logs of a platform
 * that changes its split now and then, so that the fitted models see loads outside one fixed ratio (LTS's
 * extrapolation problem, Fig. 4). Windows of LEARN_WINDOW steps; models fit on training days (every
 * `--every`-th minute), stop on dev days, are scored on test days (every minute). RMSE is in the models'
 * units (log(1 + metric)), one-step (the true QoE of the step before as input) and free-running (the
 * model's own outputs fed back over the whole day, as the simulator runs).
 *
 * Free-running: every model is clamped to the range of its CDN's training logs (`LearnedCdnModel.range`), and the
 * recurrent ones are fitted further on their own fed-back outputs (`--dad` rounds of Data as Demonstrator,
 * `fitRecurrent`), the dev-best by free-running RMSE kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { commandLine, inputOrExit, InputError, num, parseCliOrExit } from './cli/args.js';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../core/random.js';
import { actionCount, applyAction, lastScores, toPoints } from '../assign/cdn/mdp.js';
import { cdnCombinations, CDN_PROFILES } from '../sim/cdn/cdns.js';
import { loadTraffic, makeSim, missingData } from '../sim/cdn/data.js';
import { DAY_MIN, daySplit, FULL_DAYS } from '../sim/cdn/traffic.js';
import { LearnedForward, learnFeatures, LEARN_FEATURES, LEARN_OUTPUTS, LEARN_WINDOW, type LearnedCdnModel } from '../sim/cdn/learned.js';
import type { CdnQoe } from '../sim/cdn/env.js';
import { freeRun, freeRunRmse, logWindows, lstmWeightsOf, Nalu, qoeRange, qoeTarget, type CdnLogSeq } from './cdn-sim-models.js';
import type { LstmWeights } from '../sim/cdn/learned.js';

const cli = {
  name: 'train:cdn-sim',
  summary:
    "The learned CDN simulator (LTS §4.4): per CDN a model from the recent workload history to the step's QoE, fitted on logs\nof the mechanistic simulator (training days), stopped on dev days, and the LTS Table 1 comparison on test days.",
  flags: {
    epochs: { type: 'string', default: '10', arg: 'N', help: 'epochs of the one-step fit' },
    every: { type: 'string', default: '16', arg: 'N', help: 'training windows every N-th minute' },
    batch: { type: 'string', default: '256', arg: 'N', help: 'minibatch' },
    units: { type: 'string', default: '16,8', arg: 'N1,N2', help: 'LSTM sizes (the plain LSTM baseline has N1)' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of the logs and the fits' },
    dad: { type: 'string', default: '3', arg: 'N', help: 'Data-as-Demonstrator rounds on the recurrent models’ own outputs' },
    'dad-epochs': { type: 'string', default: '2', arg: 'N', help: 'epochs per DAD round' },
    'clamp-margin': {
      type: 'string',
      default: '0.5',
      arg: 'X',
      help: "outputs clamped to the training logs' range widened by X × its span",
    },
    out: { type: 'string', default: 'models/cdn-sim', arg: 'DIR', help: 'output directory' },
    results: { type: 'string', default: 'bench/results/cdn-sim.json', arg: 'FILE', help: 'results file' },
  },
} as const;
const args = parseCliOrExit(cli);
// a bad value stops here (exit 2), not after a fit of zero or NaN epochs written over --out
const { EPOCHS, EVERY, BATCH, UNITS, SEED } = inputOrExit(cli.name, () => {
  const units = args.units.split(',');
  if (units.length !== 2) throw new InputError(`--units: two LSTM sizes N1,N2, got "${args.units}"`);
  return {
    EPOCHS: num('epochs', args.epochs, { integer: true, min: 0 }),
    EVERY: num('every', args.every, { integer: true, min: 1 }),
    BATCH: num('batch', args.batch, { integer: true, min: 1 }),
    UNITS: units.map((u, i) => num(`units[${i}]`, u, { integer: true, min: 1 })),
    SEED: num('seed', args.seed, { integer: true }),
  };
});
/** LSTM sizes (LTS: 128, 64; smaller for two shared CPU cores); the plain LSTM baseline has the first */
const [UNITS1, UNITS2] = UNITS;
/** DAD rounds (multi-step fit on the model's own outputs) after the one-step fit of each recurrent model, and epochs per round */
const DAD = Number(args.dad);
const DAD_EPOCHS = Number(args['dad-epochs']);
/** the outputs' clamp: the training logs' range widened by this × its span on both sides (qoeRange) */
const CLAMP_MARGIN = Number(args['clamp-margin']);
if (!(CLAMP_MARGIN >= 0)) {
  console.error(`train:cdn-sim: --clamp-margin must be ≥ 0 (got ${args['clamp-margin']})`);
  process.exit(1);
}
if (!(Number.isInteger(DAD) && DAD >= 0) || !(Number.isInteger(DAD_EPOCHS) && DAD_EPOCHS >= 1)) {
  console.error(`train:cdn-sim: --dad must be an integer ≥ 0 and --dad-epochs ≥ 1 (got ${args.dad}, ${args['dad-epochs']})`);
  process.exit(1);
}
const OUT = resolve(args.out!);
const missing = missingData();
if (missing) {
  console.error(`train:cdn-sim: ${missing}`);
  process.exit(1);
}
const t0 = Date.now();
const log = (s: string) => console.log(`[train:cdn-sim +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
await tf.setBackend('wasm');
await tf.ready();
const traffic = loadTraffic();

// ---- 1. logs of the mechanistic simulator ----
type Seq = CdnLogSeq;
const seqs: Seq[] = [];
const rng = mulberry32(SEED);
for (const set of cdnCombinations()) {
  const sim = makeSim('mechanistic', set, traffic, SEED);
  const m = sim.m;
  const A = actionCount(m);
  for (let day = 0; day < FULL_DAYS; day++) {
    sim.reset(day);
    const s = sim.cdns.map((cdn) => ({
      cdn,
      day,
      workload: new Float64Array(DAY_MIN),
      joins: new Float64Array(DAY_MIN),
      qoe: [] as CdnQoe[],
    }));
    let pts = toPoints(Array.from({ length: m }, () => 0.2 + rng()));
    for (let t = 0; t < DAY_MIN; t++) {
      if (rng() < 0.2) pts = applyAction(pts, Math.floor(rng() * (A - 1)), lastScores(sim.observation()));
      const r = sim.step(pts);
      for (let i = 0; i < m; i++) {
        s[i].workload[t] = r.workload[i];
        s[i].joins[t] = r.joins[i];
        s[i].qoe.push({ slatency: r.slatency[i], bufratio: r.bufratio[i], buffreq: r.buffreq[i] });
      }
    }
    seqs.push(...s);
  }
  log(`logged ${set}: ${FULL_DAYS} days`);
}

// ---- 2. windows ----
const split = (cdn: string, sp: 'train' | 'dev' | 'test') => seqs.filter((s) => s.cdn === cdn && daySplit(s.day) === sp);
function windows(cdn: string, sp: 'train' | 'dev' | 'test', every: number): { x: Float32Array; y: Float32Array; n: number } {
  return logWindows(split(cdn, sp), every);
}
const rmse = (pred: ArrayLike<number>, y: ArrayLike<number>, col = -1) => {
  let s = 0,
    n = 0;
  for (let i = 0; i < y.length; i++) {
    if (col >= 0 && i % LEARN_OUTPUTS !== col) continue;
    s += (pred[i] - y[i]) ** 2;
    n++;
  }
  return Math.sqrt(s / n);
};

// ---- 3. models ----
/** ridge regression y = [x, 1]·W (closed form, normal equations with Cholesky) */
function ridge(x: Float32Array, d: number, y: Float32Array, k: number, lambda = 1e-3): { w: number[]; b: number[] } {
  const n = y.length / k;
  const D = d + 1;
  const A = new Float64Array(D * D);
  const B = new Float64Array(D * k);
  const row = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) row[a] = x[i * d + a];
    row[d] = 1;
    for (let a = 0; a < D; a++) {
      const va = row[a];
      if (va === 0) continue;
      for (let b = 0; b < D; b++) A[a * D + b] += va * row[b];
      for (let c = 0; c < k; c++) B[a * k + c] += va * y[i * k + c];
    }
  }
  for (let a = 0; a < d; a++) A[a * D + a] += lambda * n;
  // Cholesky
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i * D + j];
      for (let p = 0; p < j; p++) s -= L[i * D + p] * L[j * D + p];
      L[i * D + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * D + j];
    }
  const W = new Float64Array(D * k);
  for (let c = 0; c < k; c++) {
    const z = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      let s = B[i * k + c];
      for (let p = 0; p < i; p++) s -= L[i * D + p] * z[p];
      z[i] = s / L[i * D + i];
    }
    for (let i = D - 1; i >= 0; i--) {
      let s = z[i];
      for (let p = i + 1; p < D; p++) s -= L[p * D + i] * W[p * k + c];
      W[i * k + c] = s / L[i * D + i];
    }
  }
  return { w: Array.from(W.subarray(0, d * k)), b: Array.from(W.subarray(d * k)) };
}

/**
 * ARMA-like (ARMAX by Hannan–Rissanen), per metric: a long AR(10) on the metric's own past gives residuals;
 * then y_t = c + Σ_{j≤2} a_j y_{t−j} + Σ_{j≤2} θ_j ê_{t−j} + b·[workload, joins, sin, cos]_t by least squares.
 * Scored one-step on test days (residuals of the long AR computed there too).
 */
function armaRmse(cdn: string): { rmse: number; perMetric: number[] } {
  const P = 10;
  const series = (split: string) => seqs.filter((s) => s.cdn === cdn && daySplit(s.day) === split);
  const feats = (s: Seq, t: number) => {
    const f = new Float32Array(LEARN_FEATURES);
    learnFeatures(s.workload[t], s.joins[t], t, s.qoe[t - 1], f);
    return f;
  };
  const metric = (q: CdnQoe, c: number) => Math.log1p(c === 0 ? q.slatency : c === 1 ? q.bufratio : q.buffreq);
  const perMetric: number[] = [];
  let tot = 0,
    totN = 0;
  for (let c = 0; c < LEARN_OUTPUTS; c++) {
    // stage 1: long AR
    const build1 = (ss: Seq[]) => {
      const xs: number[] = [],
        ys: number[] = [];
      for (const s of ss)
        for (let t = P; t < DAY_MIN; t++) {
          for (let j = 1; j <= P; j++) xs.push(metric(s.qoe[t - j], c));
          ys.push(metric(s.qoe[t], c));
        }
      return { x: Float32Array.from(xs), y: Float32Array.from(ys) };
    };
    const tr1 = build1(series('train'));
    const ar = ridge(tr1.x, P, tr1.y, 1, 1e-6);
    const resid = (s: Seq) => {
      const e = new Float64Array(DAY_MIN);
      for (let t = P; t < DAY_MIN; t++) {
        let p = ar.b[0];
        for (let j = 1; j <= P; j++) p += ar.w[j - 1] * metric(s.qoe[t - j], c);
        e[t] = metric(s.qoe[t], c) - p;
      }
      return e;
    };
    // stage 2: ARMAX(2, 2)
    const D2 = 2 + 2 + 4;
    const build2 = (ss: Seq[]) => {
      const xs: number[] = [],
        ys: number[] = [];
      for (const s of ss) {
        const e = resid(s);
        for (let t = P + 2; t < DAY_MIN; t++) {
          const f = feats(s, t);
          xs.push(metric(s.qoe[t - 1], c), metric(s.qoe[t - 2], c), e[t - 1], e[t - 2], f[0], f[1], f[2], f[3]);
          ys.push(metric(s.qoe[t], c));
        }
      }
      return { x: Float32Array.from(xs), y: Float32Array.from(ys) };
    };
    const tr2 = build2(series('train'));
    const fit = ridge(tr2.x, D2, tr2.y, 1, 1e-6);
    const te = build2(series('test'));
    let s2 = 0;
    const n = te.y.length;
    for (let i = 0; i < n; i++) {
      let p = fit.b[0];
      for (let a = 0; a < D2; a++) p += fit.w[a] * te.x[i * D2 + a];
      s2 += (p - te.y[i]) ** 2;
    }
    perMetric.push(Math.sqrt(s2 / n));
    tot += s2;
    totN += n;
  }
  return { rmse: Math.sqrt(tot / totN), perMetric };
}

/** targets minus the last step's "QoE of the step before" (features 4..6 of the window's last step) */
function residual(w: ReturnType<typeof windows>): Float32Array {
  const W = LEARN_WINDOW * LEARN_FEATURES;
  const out = new Float32Array(w.y.length);
  for (let r = 0; r < w.n; r++)
    for (let c = 0; c < LEARN_OUTPUTS; c++)
      out[r * LEARN_OUTPUTS + c] = w.y[r * LEARN_OUTPUTS + c] - w.x[r * W + W - LEARN_FEATURES + 4 + c];
  return out;
}

/**
 * Fits a recurrent model one step ahead (dev-stopped on the one-step RMSE), then DAD rounds (Data as
 * Demonstrator, Venkatraman et al. AAAI 2015): each round runs the current model free over the training days
 * (clamped to the logs' range, as the simulator runs it), adds those windows — its own outputs as "the QoE of the
 * step before", the logged QoE as the target — to the training set and fits again. The one-step model and every
 * round are scored free-running on the dev days; the dev-best is kept.
 */
function fitRecurrent(
  kind: 'lstm' | 'nalu-lstm',
  cdn: string,
  tr: ReturnType<typeof windows>,
  dev: ReturnType<typeof windows>,
  seed: number,
  base: Pick<LearnedCdnModel, 'cdn' | 'start' | 'range'>,
) {
  const model = tf.sequential();
  const init = (s: number) => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: s }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: s + 100 }),
  });
  model.add(
    tf.layers.lstm({
      units: UNITS1,
      returnSequences: kind === 'nalu-lstm',
      recurrentActivation: 'sigmoid',
      inputShape: [LEARN_WINDOW, LEARN_FEATURES],
      ...init(seed),
    }),
  );
  let nalu: Nalu | null = null;
  if (kind === 'nalu-lstm') {
    model.add(tf.layers.lstm({ units: UNITS2, recurrentActivation: 'sigmoid', ...init(seed + 1) }));
    model.add((nalu = new Nalu(LEARN_OUTPUTS, seed + 2)));
  } else model.add(tf.layers.dense({ units: LEARN_OUTPUTS, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'meanSquaredError' });
  const toModel = (): LearnedCdnModel => {
    const lstm: LstmWeights[] = [lstmWeightsOf(model.layers[0], UNITS1)];
    if (kind === 'nalu-lstm') lstm.push(lstmWeightsOf(model.layers[1], UNITS2));
    if (kind === 'nalu-lstm') return { ...base, kind, lstm, nalu: nalu!.weightsOf() };
    const [w, b] = model.layers[1].getWeights();
    return { ...base, kind, lstm, dense: { w: Array.from(w.dataSync()), b: Array.from(b.dataSync()) } };
  };
  // the recurrent models predict the change from the step before (learned.ts)
  const Xd = tf.tensor3d(dev.x, [dev.n, LEARN_WINDOW, LEARN_FEATURES]);
  const devRes = residual(dev);
  const trainSeqs = split(cdn, 'train');
  const devSeqs = split(cdn, 'dev');
  return (async () => {
    let X = tf.tensor3d(tr.x, [tr.n, LEARN_WINDOW, LEARN_FEATURES]);
    let Y = tf.tensor2d(residual(tr), [tr.n, LEARN_OUTPUTS]);
    let best = Infinity;
    let bestW: tf.Tensor[] = [];
    for (let ep = 0; ep < EPOCHS; ep++) {
      await model.fit(X, Y, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 });
      const pd = tf.tidy(() => (model.predict(Xd) as tf.Tensor).dataSync());
      const e = rmse(pd, devRes);
      if (e < best) {
        best = e;
        tf.dispose(bestW);
        bestW = model.getWeights().map((w) => w.clone());
      }
    }
    model.setWeights(bestW);
    const oneStepDev = best;
    // DAD rounds, selected on the dev days' free-running RMSE
    let bestFree = freeRunRmse(toModel(), devSeqs);
    const curve = [{ round: 0, devFreeRmse: Number(bestFree.toFixed(4)) }];
    log(`${cdn} ${kind}: one-step dev RMSE ${oneStepDev.toFixed(4)}, free-running dev RMSE ${bestFree.toFixed(4)}`);
    let aggX = tr.x,
      aggR = residual(tr),
      aggN = tr.n;
    for (let round = 1; round <= DAD; round++) {
      const md = toModel();
      const fed = trainSeqs.map((sq) => freeRun(md, sq));
      const w = logWindows(trainSeqs, EVERY, fed);
      const nx = new Float32Array(aggX.length + w.x.length);
      nx.set(aggX);
      nx.set(w.x, aggX.length);
      const r = residual(w);
      const nr = new Float32Array(aggR.length + r.length);
      nr.set(aggR);
      nr.set(r, aggR.length);
      aggX = nx;
      aggR = nr;
      aggN += w.n;
      tf.dispose([X, Y]);
      X = tf.tensor3d(aggX, [aggN, LEARN_WINDOW, LEARN_FEATURES]);
      Y = tf.tensor2d(aggR, [aggN, LEARN_OUTPUTS]);
      await model.fit(X, Y, { epochs: DAD_EPOCHS, batchSize: BATCH, shuffle: true, verbose: 0 });
      const e = freeRunRmse(toModel(), devSeqs);
      curve.push({ round, devFreeRmse: Number(e.toFixed(4)) });
      log(`${cdn} ${kind}: DAD round ${round}/${DAD}: ${aggN} windows, free-running dev RMSE ${e.toFixed(4)}`);
      if (e < bestFree) {
        bestFree = e;
        tf.dispose(bestW);
        bestW = model.getWeights().map((t) => t.clone());
      }
    }
    model.setWeights(bestW);
    tf.dispose([X, Y, Xd, ...bestW]);
    const out = toModel();
    model.dispose();
    return { model: out, devRmse: oneStepDev, devFreeRmse: bestFree, curve };
  })();
}

/** one-step RMSE of a plain-JS model on windows */
function jsRmse(md: LearnedCdnModel, w: ReturnType<typeof windows>): { all: number; per: number[] } {
  const f = new LearnedForward(md);
  const W = LEARN_WINDOW * LEARN_FEATURES;
  const pred = new Float32Array(w.y.length);
  const out = new Float64Array(LEARN_OUTPUTS);
  for (let r = 0; r < w.n; r++) {
    f.forward(w.x.subarray(r * W, (r + 1) * W), out);
    for (let c = 0; c < LEARN_OUTPUTS; c++) pred[r * LEARN_OUTPUTS + c] = out[c];
  }
  return { all: rmse(pred, w.y), per: [0, 1, 2].map((c) => rmse(pred, w.y, c)) };
}
const byKind: Record<string, LearnedCdnModel[]> = { 'nalu-lstm': [], lstm: [], linear: [] };
const curves: Array<Record<string, unknown>> = [];
const table: Array<Record<string, unknown>> = [];
const acc: Record<string, { se: number; n: number; free: number; per: number[] }> = {};
const add = (name: string, cdn: string, r: { all: number; per: number[] }, nTest: number, free: number | null) => {
  const a = (acc[name] ??= { se: 0, n: 0, free: 0, per: [0, 0, 0] });
  a.se += r.all ** 2 * nTest;
  a.n += nTest;
  a.free += (free ?? NaN) / CDN_PROFILES.length;
  r.per.forEach((v, i) => (a.per[i] += (v ** 2 * nTest) as number));
  table.push({ model: name, cdn, rmse: Number(r.all.toFixed(4)), free_running_rmse: free === null ? null : Number(free.toFixed(4)) });
};
for (const p of CDN_PROFILES) {
  const cdn = p.id;
  const tr = windows(cdn, 'train', EVERY);
  const dev = windows(cdn, 'dev', EVERY);
  const te = windows(cdn, 'test', 1);
  // typical QoE, the first "step before" of a simulated day
  let sl = 0,
    br = 0,
    bf = 0,
    n = 0;
  for (const s of seqs)
    if (s.cdn === cdn && daySplit(s.day) === 'train')
      for (const q of s.qoe) {
        sl += q.slatency;
        br += q.bufratio;
        bf += q.buffreq;
        n++;
      }
  const start = { slatency: sl / n, bufratio: br / n, buffreq: bf / n };
  // the clamp of every model: the range of the training days' logs, widened by --clamp-margin × its span
  const range = qoeRange(split(cdn, 'train'), CLAMP_MARGIN);
  const testSeqs = split(cdn, 'test');
  log(`${cdn}: ${tr.n} training windows, ${dev.n} dev, ${te.n} test`);
  const lin = ridge(tr.x, LEARN_WINDOW * LEARN_FEATURES, tr.y, LEARN_OUTPUTS);
  const linModel: LearnedCdnModel = { cdn, kind: 'linear', dense: lin, start, range };
  byKind.linear.push(linModel);
  add('linear', cdn, jsRmse(linModel, te), te.n, freeRunRmse(linModel, testSeqs));
  const arma = armaRmse(cdn);
  add('arma', cdn, { all: arma.rmse, per: arma.perMetric }, te.n, null);
  for (const kind of ['lstm', 'nalu-lstm'] as const) {
    const f = await fitRecurrent(kind, cdn, tr, dev, SEED * 10 + cdn.charCodeAt(0), { cdn, start, range });
    byKind[kind].push(f.model);
    add(kind, cdn, jsRmse(f.model, te), te.n, freeRunRmse(f.model, testSeqs));
    curves.push({ cdn, model: kind, oneStepDevRmse: Number(f.devRmse.toFixed(4)), dad: f.curve });
    log(`${cdn} ${kind}: one-step dev RMSE ${f.devRmse.toFixed(4)}, kept free-running dev RMSE ${f.devFreeRmse.toFixed(4)}`);
  }
  log(
    `${cdn}: ${table
      .filter((r) => r.cdn === cdn)
      .map((r) => `${r.model} ${r.rmse}`)
      .join(', ')}`,
  );
}

mkdirSync(OUT, { recursive: true });
for (const [kind, models] of Object.entries(byKind))
  writeFileSync(join(OUT, `${kind}.json`), JSON.stringify({ format: 'edgeplay-cdn-sim/1', kind, window: LEARN_WINDOW, models }));
const rows = Object.entries(acc).map(([model, a]) => ({
  model,
  rmse: Number(Math.sqrt(a.se / a.n).toFixed(4)),
  rmse_slatency: Number(Math.sqrt(a.per[0] / a.n).toFixed(4)),
  rmse_bufratio: Number(Math.sqrt(a.per[1] / a.n).toFixed(4)),
  rmse_buffreq: Number(Math.sqrt(a.per[2] / a.n).toFixed(4)),
  free_running_rmse: Number.isFinite(a.free) ? Number(a.free.toFixed(4)) : null,
}));
console.log(
  '\nLearned simulator, RMSE on the test days (log(1 + metric) units; LTS Table 1: NALU-LSTM 0.006, LSTM 0.012, ARMA 0.020, linear 0.064)',
);
console.log('model       one-step  SLatency  BufRatio  BufFreq  free-running');
for (const r of rows)
  console.log(
    `${r.model.padEnd(11)} ${String(r.rmse).padStart(8)}  ${String(r.rmse_slatency).padStart(8)}  ${String(r.rmse_bufratio).padStart(8)}  ${String(r.rmse_buffreq).padStart(7)}  ${String(r.free_running_rmse ?? '—').padStart(12)}`,
  );
mkdirSync(dirname(resolve(args.results!)), { recursive: true });
writeFileSync(
  resolve(args.results!),
  JSON.stringify(
    {
      command: commandLine('train:cdn-sim'),
      rows,
      perCdn: table,
      dad: curves,
      epochs: EPOCHS,
      every: EVERY,
      dadRounds: DAD,
      dadEpochs: DAD_EPOCHS,
      clampMargin: CLAMP_MARGIN,
      seed: SEED,
    },
    null,
    1,
  ),
);
log(`wrote ${OUT}/{nalu-lstm,lstm,linear}.json and ${args.results}`);
