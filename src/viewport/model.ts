/**
 * The learned viewport predictor: an MLP over the recent head motion expressed in a yaw-aligned frame
 * (rotate about the vertical so the latest sample looks down -Z; pitch stays absolute, so the model can
 * learn that people drift back to the horizon), optionally joined by features of the attention prior.
 * It outputs a residual per horizon step; the prediction is normalise(last + residual), mapped back to the
 * world frame. Trained with the orthodromic distance (src/train/viewport.ts). tfjs is never imported
 * here: inference is the plain-JS FastMlp over the trained weights.
 */
import type * as TF from '@tensorflow/tfjs';
import { FastMlp } from '../core/fast-mlp.js';
import { reyaw, unyaw } from './geometry.js';
import { AttentionPrior, PRIOR_FEATURES, PRIOR_HORIZONS_S, PRIOR_KAPPAS } from './prior.js';
import { HORIZON_STEPS, type PredictContext, type ViewportPredictor } from './predictors.js';

/** history samples the model reads (2 s at 5 Hz); shorter histories are padded with the oldest sample */
export const MODEL_HISTORY = 10;
export const POSITION_FEATURES = MODEL_HISTORY * 3;

export interface Frame {
  cos: number;
  sin: number;
}

/** The yaw-aligned frame of the latest history sample. */
export function frameOf(hist: ArrayLike<number>): Frame {
  const o = hist.length - 3;
  const x = hist[o],
    z = hist[o + 2];
  const h = Math.hypot(x, z);
  if (h < 1e-9) return { cos: 1, sin: 0 };
  // yaw = atan2(x, -z): cos = -z/h, sin = x/h
  return { cos: -z / h, sin: x / h };
}

/**
 * Position features: the last `history` samples (default MODEL_HISTORY) in the aligned frame, oldest first; a
 * shorter history is padded with its oldest sample.
 */
export function positionFeatures(hist: ArrayLike<number>, f: Frame, out: Float32Array, o = 0, history = MODEL_HISTORY): void {
  const n = hist.length / 3;
  const tmp = [0, 0, 0];
  for (let j = 0; j < history; j++) {
    const src = Math.max(0, n - history + j);
    unyaw(hist, src * 3, f.cos, f.sin, tmp, 0);
    out[o + 3 * j] = tmp[0];
    out[o + 3 * j + 1] = tmp[1];
    out[o + 3 * j + 2] = tmp[2];
  }
}

/**
 * Prior features at playback time t (of the latest sample): for each look-ahead and kernel width, the
 * direction of the prior's local mean around the current view (aligned frame) and its mass, scaled.
 * All zeros when there is no prior.
 */
export function priorFeatures(prior: AttentionPrior | null, t: number, hist: ArrayLike<number>, f: Frame, out: Float32Array, o = 0): void {
  out.fill(0, o, o + PRIOR_FEATURES);
  if (!prior) return;
  const last = hist.length - 3;
  const p = [hist[last], hist[last + 1], hist[last + 2]];
  const lm = new Float64Array(4);
  const tmp = [0, 0, 0];
  let k = o;
  for (const h of PRIOR_HORIZONS_S) {
    for (const kappa of PRIOR_KAPPAS) {
      prior.localMean(t + h, p, kappa, lm, 0);
      const m = Math.hypot(lm[0], lm[1], lm[2]);
      if (lm[3] > 0 && m > 1e-12) {
        unyaw([lm[0] / m, lm[1] / m, lm[2] / m], 0, f.cos, f.sin, tmp, 0);
        out[k] = tmp[0];
        out[k + 1] = tmp[1];
        out[k + 2] = tmp[2];
        // mass relative to a uniform map's (so ~1 means "as popular as average")
        out[k + 3] = Math.log1p(lm[3] * uniformMassInv(kappa));
      }
      k += 4;
    }
  }
}

/** 1 / (mass of a uniform distribution under the kernel e^{κ(cosθ−1)}) = 2κ / (1 − e^{−2κ}) */
function uniformMassInv(kappa: number): number {
  return (2 * kappa) / (1 - Math.exp(-2 * kappa));
}

/** Inputs of the model: 3 per history sample (default MODEL_HISTORY), plus the prior features. */
export function inputSize(withPrior: boolean, history = MODEL_HISTORY): number {
  return 3 * history + (withPrior ? PRIOR_FEATURES : 0);
}

/**
 * MLP inputs → hidden → hidden → 3·steps residuals. `history`: samples read (default MODEL_HISTORY; the edge's
 * large variant reads 25, src/deploy/catalog.ts).
 */
export function buildViewportModel(
  tf: typeof TF,
  opts: { withPrior: boolean; hidden?: number; steps?: number; seed?: number; history?: number },
): TF.LayersModel {
  const hidden = opts.hidden ?? 128;
  const steps = opts.steps ?? HORIZON_STEPS;
  const seed = opts.seed ?? 1;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const inp = tf.input({ shape: [inputSize(opts.withPrior, opts.history)], name: 'motion' });
  let h = tf.layers.dense({ units: hidden, activation: 'relu', name: 'd1', kernelInitializer: init(1) }).apply(inp) as TF.SymbolicTensor;
  h = tf.layers.dense({ units: hidden, activation: 'relu', name: 'd2', kernelInitializer: init(2) }).apply(h) as TF.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3 * steps, name: 'residual', kernelInitializer: tf.initializers.zeros() })
    .apply(h) as TF.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: out, name: opts.withPrior ? 'viewport_prior' : 'viewport' });
}

/** Build the full input vector for one window (`history` samples, default MODEL_HISTORY). */
export function modelInput(
  hist: ArrayLike<number>,
  withPrior: boolean,
  prior: AttentionPrior | null,
  t: number,
  out: Float32Array = new Float32Array(inputSize(withPrior)),
  history = MODEL_HISTORY,
): { x: Float32Array; frame: Frame } {
  const f = frameOf(hist);
  positionFeatures(hist, f, out, 0, history);
  if (withPrior) priorFeatures(prior, t, hist, f, out, 3 * history);
  return { x: out, frame: f };
}

/** Turn residuals into world-frame unit vectors: normalise(last_aligned + r_k), then back to the world. */
export function decode(hist: ArrayLike<number>, f: Frame, residual: ArrayLike<number>, steps: number): Float64Array {
  const lastA = [0, 0, 0];
  unyaw(hist, hist.length - 3, f.cos, f.sin, lastA, 0);
  const out = new Float64Array(steps * 3);
  const v = [0, 0, 0];
  for (let k = 0; k < steps; k++) {
    v[0] = lastA[0] + residual[3 * k];
    v[1] = lastA[1] + residual[3 * k + 1];
    v[2] = lastA[2] + residual[3 * k + 2];
    const n = Math.hypot(v[0], v[1], v[2]) || 1;
    v[0] /= n;
    v[1] /= n;
    v[2] /= n;
    reyaw(v, 0, f.cos, f.sin, out, 3 * k);
  }
  return out;
}

/** How a `LearnedViewport` reads its model (all optional). */
export interface LearnedViewportOptions {
  /** history samples the model reads (default MODEL_HISTORY; the model's input size must match) */
  history?: number;
  /**
   * the forward pass: model inputs → 3·steps residuals (default: the plain-JS `FastMlp` over the weights; the
   * worker passes a tfjs `predict` to run on a tfjs backend)
   */
  forward?: (x: Float32Array) => ArrayLike<number>;
}

/** The learned predictor (plain-JS forward over a trained tfjs model, or the forward pass it is given). */
export class LearnedViewport implements ViewportPredictor {
  readonly name: string;
  readonly historySamples: number;
  readonly withPrior: boolean;
  readonly steps: number;
  readonly mlp: FastMlp;
  private x: Float32Array;
  private forward: (x: Float32Array) => ArrayLike<number>;
  /** the attention prior of the video being watched (null: none, the prior inputs are zero) */
  prior: AttentionPrior | null = null;

  /** @throws Error when the model's input size fits neither layout for the history */
  constructor(model: TF.LayersModel, name?: string, opts: LearnedViewportOptions = {}) {
    this.mlp = new FastMlp(model, ['d1', 'd2', 'residual']);
    const h = opts.history ?? MODEL_HISTORY;
    this.historySamples = h;
    this.withPrior = this.mlp.inputs === inputSize(true, h);
    if (!this.withPrior && this.mlp.inputs !== inputSize(false, h))
      throw new Error(
        `viewport model expects ${this.mlp.inputs} inputs; with ${h} history samples this build makes ${inputSize(false, h)} or ${inputSize(true, h)}`,
      );
    this.steps = this.mlp.outputs / 3;
    this.name = name ?? (this.withPrior ? 'learned+prior' : 'learned');
    this.x = new Float32Array(this.mlp.inputs);
    this.forward = opts.forward ?? ((x) => this.mlp.forward(x));
  }

  predict(hist: ArrayLike<number>, steps: number, ctx: PredictContext = {}): Float64Array {
    if (steps > this.steps) throw new Error(`model predicts ${this.steps} steps, asked for ${steps}`);
    const { frame } = modelInput(hist, this.withPrior, this.prior, ctx.t ?? 0, this.x, this.historySamples);
    const r = this.forward(this.x);
    return decode(hist, frame, r, steps);
  }
}
