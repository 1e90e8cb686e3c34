/**
 * Builds the deployment variants of the shipped models (`npm run train:variants`, entry in cli/variants.ts;
 * the catalog and its meaning: src/deploy/catalog.ts). For each of abr-drl-player (monitor()'s DRL, the ABR task's),
 * abr-drl, viewport, viewport-prior, profile:
 *   int8       the full model's weights quantised (one scale per tensor), no training
 *   fp16       the full model's weights as half floats, no training
 *   pruned     75 % of every kernel's weights (smallest |w|) set to zero, then fine-tuned with the mask held
 *   distilled  a narrower network trained on the full model's outputs
 * Fine-tuning and distillation fit the full model's outputs (MSE on the viewport residuals, cross-entropy to the
 * ABR actor's softmax, L1 on the profile's scaled targets as its trainer uses) on
 * inputs from the *training* data only: viewport windows of the train split (the trainer's leave-one-user-out
 * priors), states the full ABR policy visits on the training traces (the held-out split left out; throughput
 * histories rescaled, as `DrlPolicy` queries them), the profile's fit requests. The dev benchmarks that score
 * the variants are in bench/deploy.ts. The ABR variants keep the actor only (the critic serves training alone).
 * The large viewport variant (edge only) is trained by `npm run train:viewport` with its own flags (MODEL.md).
 * Writes models/variants/<model>/<variant>/{model.json, weights.bin} (+ norm.json for profile) and
 * models/variants/variants.json (parameters, sparsity, bytes, fit loss per variant).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DrlPolicy, FEATURES, FastActor, buildModel, features } from '../abr/drl.js';
import { DEFAULT_ABANDON } from '../abr/abandon.js';
import type { AbrObservation } from '../core/abr.js';
import { TOTAL_CHUNKS, VIDEO_BIT_RATE_KBPS } from '../core/abr.js';
import { mulberry32 } from '../core/random.js';
import { magnitudeMask, quantizeInt8, toFloat16 } from '../deploy/quantize.js';
import { K_RECORDS, REQUEST_FEATURES } from '../profile/features.js';
import { FastProfile, PATCH, buildProfileModel, normalise, type ProfileNorm } from '../profile/model.js';
import { AbrEnv } from '../sim/abr/env.js';
import { runHlsVod } from '../sim/abr/hls-vod.js';
import { dataRoot, heldOutSplit, loadTraceDir, loadVideoSizes } from '../sim/abr/load.js';
import { observe } from '../sim/abr/run.js';
import { syntheticTrace } from '../sim/abr/synth.js';
import { simulatePopulation } from '../sim/viewers/population.js';
import { buildRequests, splitByTime } from '../sim/viewers/requests.js';
import { loadViewportDir } from '../sim/viewport/data.js';
import { looPriors } from '../sim/viewport/protocol.js';
import { LearnedViewport, buildViewportModel } from '../viewport/model.js';
import { InputError } from './errors.js';
import { loadModel, saveModel } from './io.js';
import { viewportWindows } from './viewport.js';

const MODELS = ['abr-drl-player', 'abr-drl', 'viewport', 'viewport-prior', 'profile'] as const;
type Name = (typeof MODELS)[number];

export interface TrainVariantsOptions {
  /** which models (default all five) */
  models?: Name[];
  /** share of each kernel pruned (default 0.75) */
  sparsity?: number;
  /** seed of initialisation, shuffles, sampling (default 1) */
  seed?: number;
  /** where the shipped models are (default models) */
  modelsDir?: string;
  /** output root (default models/variants) */
  out?: string;
  /** viewport data directory (default $EDGEPLAY_DATA/viewport) */
  viewportData?: string;
  /** ABR data directory (default $EDGEPLAY_DATA/abr) */
  abrData?: string;
  /**
   * abr-drl-player only: the segment sizes (`video_size_<q>` files) of the stream the hls.js-semantics simulator plays
   * (default .cache/streams/vod, built by the dev server — the stream abr-drl-player was trained on). Half of its
   * fitting states come from that simulator with the player's semantics (no re-fetch, `DEFAULT_ABANDON`), half from
   * the Pensieve simulator, as its training mixed the two.
   */
  hlsSizes?: string;
  /** training windows / states / requests used for fine-tuning and distillation (default 160000) */
  samples?: number;
  /** scale every epoch count (default 1; tests use less) */
  epochScale?: number;
  command?: string;
  log?: (s: string) => void;
}

/** What one written variant holds. */
export interface VariantRecord {
  model: Name;
  variant: string;
  params: number;
  /** share of kernel weights that are zero */
  sparsity: number;
  /** model.json + weights.bin, bytes */
  bytes: number;
  /** the fit loss to the full model's outputs (MSE viewport, L1 profile, cross-entropy ABR) after fine-tuning / distillation */
  fit_loss?: number;
  /** the same loss before it (pruned: right after pruning; distilled: the untrained student) */
  start_loss?: number;
  epochs?: number;
}

/** The fitting loss: MSE, L1, or cross-entropy to the teacher's softmax over logits. */
type Loss = 'mse' | 'l1' | 'softmax-ce';

/** Model inputs as tfjs wants them: one or more float arrays with their per-sample shape. */
interface Inputs {
  parts: Array<{ data: Float32Array; shape: number[] }>;
  n: number;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Save `model` like `saveModel`, re-encoding every float32 weight as int8 (per-tensor scale) or float16 in tfjs'
 * quantised weight format (decoded by `tf.loadLayersModel`).
 */
export async function saveCompressed(model: tf.LayersModel, dir: string, kind: 'int8' | 'fp16'): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const src = new Float32Array(a.weightData as ArrayBuffer);
      const chunks: Uint8Array[] = [];
      const specs = (a.weightSpecs ?? []).map((s) => ({ ...s }));
      let off = 0;
      for (const s of specs) {
        const n = sizeOf(s.shape);
        const w = src.subarray(off, off + n);
        off += n;
        if (kind === 'int8') {
          const q = quantizeInt8(w);
          chunks.push(q.bytes);
          Object.assign(s, { quantization: { dtype: 'uint8', scale: q.scale, min: q.min, original_dtype: 'float32' } });
        } else {
          const h = toFloat16(w);
          chunks.push(new Uint8Array(h.buffer));
          Object.assign(s, { quantization: { dtype: 'float16', original_dtype: 'float32' } });
        }
      }
      const total = chunks.reduce((a2, c) => a2 + c.length, 0);
      const buf = Buffer.alloc(total);
      let p = 0;
      for (const c of chunks) {
        buf.set(c, p);
        p += c.length;
      }
      writeFileSync(join(dir, 'weights.bin'), buf);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: `tfjs ${tf.version.tfjs}`,
          convertedBy: `edgeplay train:variants (${kind})`,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: total } };
    }),
  );
}

/** Dense kernels of a model (the weights named `.../kernel`), to prune and to count sparsity. */
function kernels(model: tf.LayersModel): tf.LayerVariable[] {
  return model.weights.filter((w) => /kernel/.test(w.name));
}

function sparsityOf(model: tf.LayersModel): number {
  let z = 0,
    t = 0;
  for (const k of kernels(model)) {
    const d = k.read().dataSync();
    t += d.length;
    for (let i = 0; i < d.length; i++) if (d[i] === 0) z++;
  }
  return t ? z / t : 0;
}

/**
 * Fit `student` to the teacher's outputs `Y` (n × outDim) on `X` (loss `o.loss`): Adam with cosine decay, minibatches,
 * `masks` (per kernel variable) re-applied after every step so pruned weights stay zero. @returns [start, end] loss
 */
async function fitToTeacher(
  student: tf.LayersModel,
  X: Inputs,
  Y: Float32Array,
  outDim: number,
  o: {
    epochs: number;
    lr: number;
    batch?: number;
    seed: number;
    masks?: Map<tf.LayerVariable, tf.Tensor>;
    /** 'mse' (default), 'l1', or 'softmax-ce': cross-entropy to the teacher's softmax (Y holds logits) */
    loss?: Loss;
    log: (s: string) => void;
    tag: string;
  },
): Promise<[number, number]> {
  const lossOf = (pred: tf.Tensor, y: tf.Tensor): tf.Tensor => {
    if (o.loss === 'l1') return pred.sub(y).abs().mean();
    if (o.loss === 'softmax-ce') return tf.softmax(y).mul(tf.logSoftmax(pred)).sum(-1).neg().mean();
    return pred.sub(y).square().mean();
  };
  const B = o.batch ?? 512;
  const opt = tf.train.adam(o.lr);
  const rng = mulberry32(o.seed);
  const evalMse = () => {
    const m = Math.min(X.n, 8192);
    let s = 0;
    for (let b = 0; b < m; b += 2048) {
      const k = Math.min(2048, m - b);
      s += tf.tidy(() => {
        const xs = X.parts.map((p) => tf.tensor(p.data.subarray(b * sizeOf(p.shape), (b + k) * sizeOf(p.shape)), [k, ...p.shape]));
        const pred = student.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
        return lossOf(pred.reshape([k, outDim]), tf.tensor2d(Y.subarray(b * outDim, (b + k) * outDim), [k, outDim])).dataSync()[0] * k;
      });
    }
    return s / m;
  };
  const applyMasks = () => {
    if (!o.masks) return;
    tf.tidy(() => {
      for (const [v, m] of o.masks!) v.write(v.read().mul(m));
    });
  };
  applyMasks();
  const start = evalMse();
  const perm = new Uint32Array(X.n);
  const bufs = X.parts.map((p) => new Float32Array(B * sizeOf(p.shape)));
  const yb = new Float32Array(B * outDim);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    (opt as unknown as { learningRate: number }).learningRate = o.lr * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / o.epochs));
    for (let i = 0; i < X.n; i++) perm[i] = i;
    for (let i = X.n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    let lossSum = 0,
      nb = 0;
    for (let b = 0; b + B <= X.n; b += B) {
      for (let r = 0; r < B; r++) {
        const i = perm[b + r];
        X.parts.forEach((p, pi) => {
          const sz = sizeOf(p.shape);
          bufs[pi].set(p.data.subarray(i * sz, (i + 1) * sz), r * sz);
        });
        yb.set(Y.subarray(i * outDim, (i + 1) * outDim), r * outDim);
      }
      const loss = tf.tidy(() => {
        const xs = X.parts.map((p, pi) => tf.tensor(bufs[pi], [B, ...p.shape]));
        const y = tf.tensor2d(yb, [B, outDim]);
        return opt.minimize(() => {
          const pred = student.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor;
          return lossOf(pred.reshape([B, outDim]), y) as tf.Scalar;
        }, true)!;
      });
      lossSum += (await loss.data())[0];
      loss.dispose();
      applyMasks();
      nb++;
    }
    o.log(`${o.tag} epoch ${epoch}/${o.epochs}: fit loss ${(lossSum / Math.max(1, nb)).toExponential(3)}`);
  }
  opt.dispose();
  return [start, evalMse()];
}

/** Masks keeping the largest (1 − sparsity) share of each kernel; the model's kernels are pruned in place. */
function pruneMasks(model: tf.LayersModel, sparsity: number): Map<tf.LayerVariable, tf.Tensor> {
  const masks = new Map<tf.LayerVariable, tf.Tensor>();
  for (const k of kernels(model)) masks.set(k, tf.tensor(magnitudeMask(k.read().dataSync(), sparsity), k.shape as number[]));
  return masks;
}

/** A fresh copy of a model (same topology, copied weights). */
async function cloneModel(m: tf.LayersModel): Promise<tf.LayersModel> {
  let art: tf.io.ModelArtifacts | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(art!));
}

function dirBytes(dir: string): number {
  return ['model.json', 'weights.bin'].reduce((a, f) => a + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
}

/** The variants trainer; see the file's comment. @throws InputError when a shipped model or a dataset is missing */
export async function trainVariants(o: TrainVariantsOptions = {}): Promise<VariantRecord[]> {
  const SEED = o.seed ?? 1;
  const SPARSITY = o.sparsity ?? 0.75;
  const MODELS_DIR = resolve(o.modelsDir ?? 'models');
  const OUT = resolve(o.out ?? join(MODELS_DIR, 'variants'));
  const N = o.samples ?? 160000;
  const ES = o.epochScale ?? 1;
  const ep = (n: number) => Math.max(1, Math.round(n * ES));
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[train:variants +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  await tf.setBackend('wasm');
  await tf.ready();
  const records: VariantRecord[] = [];
  const rng = mulberry32(SEED + 101);

  /** write the int8 and fp16 copies and the pruned / distilled fits of one model */
  async function build(
    name: Name,
    full: tf.LayersModel,
    X: Inputs,
    teacher: Float32Array,
    outDim: number,
    student: tf.LayersModel,
    epochs: { pruned: number; distilled: number; lrPruned: number; lrDistilled: number; loss: Loss },
    extra?: (dir: string) => void,
  ) {
    const rec = (variant: string, m: tf.LayersModel, fit?: [number, number], e?: number) => {
      const dir = join(OUT, name, variant);
      extra?.(dir);
      const r: VariantRecord = {
        model: name,
        variant,
        params: m.countParams(),
        sparsity: sparsityOf(m),
        bytes: dirBytes(dir),
        ...(fit ? { start_loss: fit[0], fit_loss: fit[1], epochs: e } : {}),
      };
      records.push(r);
      log(
        `${name}/${variant}: ${r.params} parameters, sparsity ${(r.sparsity * 100).toFixed(1)} %, ${r.bytes} bytes${fit ? `, fit loss ${fit[0].toExponential(2)} → ${fit[1].toExponential(2)}` : ''}`,
      );
    };
    for (const kind of ['int8', 'fp16'] as const) {
      await saveCompressed(full, join(OUT, name, kind), kind);
      rec(kind, full);
    }
    const pruned = await cloneModel(full);
    const masks = pruneMasks(pruned, SPARSITY);
    const fp = await fitToTeacher(pruned, X, teacher, outDim, {
      epochs: epochs.pruned,
      lr: epochs.lrPruned,
      seed: SEED,
      masks,
      loss: epochs.loss,
      log,
      tag: `${name}/pruned`,
    });
    mkdirSync(join(OUT, name, 'pruned'), { recursive: true });
    await saveModel(pruned, join(OUT, name, 'pruned'));
    rec('pruned', pruned, fp, epochs.pruned);
    const fd = await fitToTeacher(student, X, teacher, outDim, {
      epochs: epochs.distilled,
      lr: epochs.lrDistilled,
      seed: SEED,
      loss: epochs.loss,
      log,
      tag: `${name}/distilled`,
    });
    mkdirSync(join(OUT, name, 'distilled'), { recursive: true });
    await saveModel(student, join(OUT, name, 'distilled'));
    rec('distilled', student, fd, epochs.distilled);
  }

  for (const name of o.models ?? MODELS) {
    const dir = join(MODELS_DIR, name);
    if (!existsSync(join(dir, 'model.json'))) throw new InputError(`no shipped model in ${dir}`);
    const full = await loadModel(dir);
    if (name === 'viewport' || name === 'viewport-prior') {
      const withPrior = name === 'viewport-prior';
      const DATA = resolve(o.viewportData ?? join(dataRoot(), 'viewport'));
      if (!existsSync(join(DATA, 'index.csv'))) throw new InputError(`viewport data not found: ${DATA}/index.csv (set EDGEPLAY_DATA)`);
      const train = loadViewportDir(DATA, (r) => r.split === 'train');
      const priors = withPrior ? looPriors(train, { minViewers: 3, maxViewers: 25, rng: mulberry32(SEED + 17) }) : null;
      const w = viewportWindows(train, withPrior, priors);
      // a seeded subsample of the training windows
      const n = Math.min(N, w.count);
      const X = new Float32Array(n * w.F);
      for (let i = 0; i < n; i++) {
        const j = Math.floor(rng() * w.count);
        X.set(w.X.subarray(j * w.F, (j + 1) * w.F), i * w.F);
      }
      const lv = new LearnedViewport(full);
      const outDim = lv.steps * 3;
      const Y = new Float32Array(n * outDim);
      for (let i = 0; i < n; i++) Y.set(lv.mlp.forward(X.subarray(i * w.F, (i + 1) * w.F)), i * outDim);
      log(`${name}: ${n} of ${w.count} training windows, ${w.F} inputs`);
      const student = buildViewportModel(tf, { withPrior, hidden: 32, seed: SEED + 1 });
      await build(name, full, { parts: [{ data: X, shape: [w.F] }], n }, Y, outDim, student, {
        pruned: ep(3),
        distilled: ep(8),
        lrPruned: 3e-4,
        lrDistilled: 2e-3,
        loss: 'mse',
      });
    } else if (name === 'abr-drl' || name === 'abr-drl-player') {
      const ABR = resolve(o.abrData ?? join(dataRoot(), 'abr'));
      if (!existsSync(join(ABR, 'traces', 'train'))) throw new InputError(`ABR training traces not found under ${ABR}/traces/train`);
      const all = loadTraceDir(join(ABR, 'traces', 'train'));
      const trainTraces = heldOutSplit(all).train; // the held-out split stays out, as in train:abr
      const sizes = loadVideoSizes(join(ABR, 'video'));
      const policy = new DrlPolicy(full);
      const obs: AbrObservation[] = [];
      const actRng = mulberry32(SEED + 9);
      if (name === 'abr-drl-player') {
        // monitor()'s DRL was trained mostly in the hls.js-semantics simulator with the player's semantics: half the
        // states from there (training traces and the synthetic markov-train ones it trained on, never its dev set)
        const hlsDir = resolve(o.hlsSizes ?? '.cache/streams/vod');
        if (!existsSync(join(hlsDir, 'video_size_0')))
          throw new InputError(`abr-drl-player variants need the hls simulator's segment sizes: ${hlsDir}/video_size_0 (npm run streams)`);
        const hlsSizes = loadVideoSizes(hlsDir);
        const pool = [...trainTraces, ...Array.from({ length: 80 }, (_, i) => syntheticTrace('markov-train', i))];
        const explore = {
          name: 'drl+explore',
          decide: (ob: AbrObservation) => {
            if (obs.length < N / 10) obs.push(ob);
            const a = policy.decide(ob);
            return actRng() < 0.2 ? Math.floor(actRng() * ob.ladderKbps.length) : a;
          },
        };
        while (obs.length < N / 10) {
          const t = pool[Math.floor(actRng() * pool.length)];
          runHlsVod(explore, t, {
            sizes: hlsSizes,
            chunks: Math.min(TOTAL_CHUNKS, hlsSizes[0].length),
            refetch: 'none',
            abandonRule: DEFAULT_ABANDON,
          });
        }
        log(`${name}: ${obs.length} states from the hls.js-semantics simulator (${hlsDir})`);
      }
      // states the full policy visits in the noisy training environment, 20 % of the actions random
      const env = new AbrEnv({ traces: trainTraces, videoSizes: sizes, train: true, seed: SEED + 5 });
      while (obs.length < N / 5) {
        const ti = Math.floor(actRng() * trainTraces.length);
        env.resetTo(ti, 1 + Math.floor(actRng() * (trainTraces[ti].bw.length - 1)));
        let q = 1;
        const thr: number[] = [],
          del: number[] = [];
        for (;;) {
          const s = env.step(q);
          thr.push(s.chunkBytes / s.delayMs);
          del.push(s.delayMs);
          if (s.endOfVideo || obs.length >= N / 5) break;
          const ob = observe(q, s, thr.slice(-8), del.slice(-8), env.totalChunks, VIDEO_BIT_RATE_KBPS);
          obs.push(ob);
          const a = policy.decide(ob);
          q = actRng() < 0.2 ? Math.floor(actRng() * VIDEO_BIT_RATE_KBPS.length) : a;
        }
      }
      // each state as DrlPolicy queries it: the history as measured and rescaled (its monotone grid)
      const n = obs.length * 5;
      const X = new Float32Array(n * FEATURES);
      const fast = new FastActor(full);
      const Y = new Float32Array(n * 6);
      let k = 0;
      const buf = new Float32Array(FEATURES);
      for (const ob of obs) {
        for (let r = 0; r < 5; r++) {
          const c = r === 0 ? 1 : 10 ** (-2 * actRng());
          const scaled = { ...ob, throughputs: ob.throughputs.map((x) => x * c), delaysMs: ob.delaysMs.map((d) => d / c) };
          features(scaled, buf);
          X.set(buf, k * FEATURES);
          Y.set(fast.forward(buf), k * 6);
          k++;
        }
      }
      log(
        `${name}: ${obs.length} states from the training traces${name === 'abr-drl-player' ? ' (both simulators)' : ''}, ${n} inputs with rescaled histories`,
      );
      // deploy the actor only: the critic serves training alone
      const actor = tf.model({ inputs: full.inputs, outputs: full.getLayer('logits').output as tf.SymbolicTensor, name: 'abr_drl_actor' });
      const sb = buildModel(tf, 32, SEED + 1);
      const student = tf.model({ inputs: sb.inputs, outputs: sb.getLayer('logits').output as tf.SymbolicTensor, name: 'abr_drl_actor' });
      await build(name, actor, { parts: [{ data: X, shape: [FEATURES] }], n }, Y, 6, student, {
        pruned: ep(8),
        distilled: ep(30),
        lrPruned: 3e-4,
        lrDistilled: 2e-3,
        loss: 'softmax-ce',
      });
    } else {
      const norm = JSON.parse(readFileSync(join(dir, 'norm.json'), 'utf8')) as ProfileNorm;
      const pop = simulatePopulation();
      const data = buildRequests(pop.watches);
      const { train } = splitByTime(data);
      const fitRows = train.slice(0, Math.floor(train.length * 0.875)); // as train:profile: its validation eighth stays out
      const n = Math.min(N, fitRows.length);
      const seq = new Float32Array(n * K_RECORDS * PATCH),
        sc = new Float32Array(n * 5);
      const Y = new Float32Array(n * 3);
      const fp = new FastProfile(full);
      const tmp = new Float32Array(3);
      for (let i = 0; i < n; i++) {
        const r = fitRows[Math.floor(rng() * fitRows.length)];
        normalise(data.x, r * REQUEST_FEATURES, norm, seq, i * K_RECORDS * PATCH, sc, i * 5);
        fp.predict(data.x, norm, r * REQUEST_FEATURES, tmp);
        for (let q = 0; q < 3; q++) Y[i * 3 + q] = tmp[q] / norm.yScale[q];
      }
      log(`profile: ${n} fit requests (of ${fitRows.length})`);
      const student = buildProfileModel(tf, SEED + 1, { conv: 8, fc1: 24, fc2: 12 });
      await build(
        'profile',
        full,
        {
          parts: [
            { data: seq, shape: [K_RECORDS, PATCH] },
            { data: sc, shape: [5] },
          ],
          n,
        },
        Y,
        3,
        student,
        { pruned: ep(3), distilled: ep(10), lrPruned: 3e-4, lrDistilled: 2e-3, loss: 'l1' },
        (d) => {
          mkdirSync(d, { recursive: true });
          copyFileSync(join(dir, 'norm.json'), join(d, 'norm.json'));
        },
      );
    }
  }
  mkdirSync(OUT, { recursive: true });
  const manifest = join(OUT, 'variants.json');
  const prevJson = existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { command?: string; commands?: Record<string, string>; variants: VariantRecord[] })
    : null;
  const prev = prevJson?.variants ?? [];
  const merged = [...prev.filter((p) => !records.some((r) => r.model === p.model && r.variant === p.variant)), ...records];
  const command = o.command ?? 'trainVariants (library call)';
  // the command that built each model's variants (a run of some models keeps the others' rows and commands)
  const commands: Record<string, string> = {};
  for (const r of merged)
    commands[r.model] = records.some((x) => x.model === r.model)
      ? command
      : (prevJson?.commands?.[r.model] ?? prevJson?.command ?? 'unknown');
  writeFileSync(
    manifest,
    JSON.stringify(
      {
        command,
        commands,
        seed: SEED,
        sparsity: SPARSITY,
        samples: N,
        variants: merged,
        seconds: Math.round((Date.now() - t0) / 1000),
      },
      null,
      1,
    ) + '\n',
  );
  log(`wrote ${records.length} variants under ${OUT}`);
  return records;
}
