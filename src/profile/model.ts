/**
 * ELCast's QoE-preference model: the past k records of I_u,h and T_u,h go through 1D-CNN layers, the other
 * five features join them in fully connected layers that predict (I_u, D_u, N_u) for this request.
 * Inputs are log1p-compressed and standardised with the training set's statistics (kept in norm.json
 * next to the weights); outputs are the targets divided by their training means. tfjs is passed in.
 *
 * The 1D convolution (kernel 3 over the k records, 2 channels → 16 filters, 'same' padding) is written as
 * im2col: `normalise` lays out each record's window [r−1, r, r+1] × (I, T) as a 6-vector, and a Dense
 * layer applied along the last axis of [k, 6] is exactly that convolution with shared weights — which
 * trains on the wasm backend (it has no conv-filter gradient); a second, pointwise (kernel 1) conv layer
 * follows.
 */
import type * as TF from '@tensorflow/tfjs';
import { FastMlp, denseKernel } from '../core/fast-mlp.js';
import { K_RECORDS, REQUEST_FEATURES } from './features.js';

export interface ProfileNorm {
  /** per input feature, after log1p: mean and std */
  mean: number[];
  std: number[];
  /** per target (I, D, N): the scale the network's outputs are multiplied by */
  yScale: number[];
}

export function fitNorm(x: Float32Array, y: Float32Array, rows: ArrayLike<number>): ProfileNorm {
  const d = REQUEST_FEATURES;
  const mean = new Array(d).fill(0),
    sq = new Array(d).fill(0),
    ys = [0, 0, 0];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    for (let f = 0; f < d; f++) {
      const v = Math.log1p(x[r * d + f]);
      mean[f] += v;
      sq[f] += v * v;
    }
    for (let k = 0; k < 3; k++) ys[k] += y[r * 3 + k];
  }
  const n = rows.length;
  return {
    mean: mean.map((m) => m / n),
    std: sq.map((s, f) => Math.sqrt(Math.max(1e-8, s / n - (mean[f] / n) ** 2))),
    yScale: ys.map((s) => s / n || 1),
  };
}

/** values per record window (kernel 3 × 2 channels) */
export const PATCH = 6;

/** Normalised model inputs for one request: record windows [K, 6] (im2col, zero padded) and the five scalars. */
export function normalise(
  x: ArrayLike<number>,
  o: number,
  norm: ProfileNorm,
  seq: Float32Array,
  so: number,
  sc: Float32Array,
  sco: number,
): void {
  const v = new Float32Array(K_RECORDS * 2);
  for (let j = 0; j < K_RECORDS; j++) {
    v[2 * j] = (Math.log1p(x[o + j]) - norm.mean[j]) / norm.std[j];
    v[2 * j + 1] = (Math.log1p(x[o + K_RECORDS + j]) - norm.mean[K_RECORDS + j]) / norm.std[K_RECORDS + j];
  }
  for (let j = 0; j < K_RECORDS; j++) {
    for (let d = -1; d <= 1; d++) {
      const src = j + d;
      const at = so + j * PATCH + (d + 1) * 2;
      seq[at] = src >= 0 && src < K_RECORDS ? v[2 * src] : 0;
      seq[at + 1] = src >= 0 && src < K_RECORDS ? v[2 * src + 1] : 0;
    }
  }
  for (let f = 0; f < 5; f++) {
    const g = 2 * K_RECORDS + f;
    sc[sco + f] = (Math.log1p(x[o + g]) - norm.mean[g]) / norm.std[g];
  }
}

/**
 * The profile network; `widths` sets the conv filters and the fc1/fc2 units (default 16, 64, 32 — the shipped
 * model; the distilled deployment variant is narrower).
 */
export function buildProfileModel(
  tf: typeof TF,
  seed = 1,
  widths: { conv: number; fc1: number; fc2: number } = { conv: 16, fc1: 64, fc2: 32 },
): TF.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const seq = tf.input({ shape: [K_RECORDS, PATCH], name: 'record_windows' });
  const sc = tf.input({ shape: [5], name: 'aggregates' });
  // conv1: kernel 3 (im2col windows), conv2: kernel 1 — Dense along the last axis shares weights over records
  let c = tf.layers
    .dense({ units: widths.conv, activation: 'relu', name: 'conv1', kernelInitializer: init(1) })
    .apply(seq) as TF.SymbolicTensor;
  c = tf.layers.dense({ units: widths.conv, activation: 'relu', name: 'conv2', kernelInitializer: init(2) }).apply(c) as TF.SymbolicTensor;
  c = tf.layers.flatten().apply(c) as TF.SymbolicTensor;
  let h = tf.layers.concatenate().apply([c, sc]) as TF.SymbolicTensor;
  h = tf.layers.dense({ units: widths.fc1, activation: 'relu', name: 'fc1', kernelInitializer: init(3) }).apply(h) as TF.SymbolicTensor;
  h = tf.layers.dense({ units: widths.fc2, activation: 'relu', name: 'fc2', kernelInitializer: init(4) }).apply(h) as TF.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'out', kernelInitializer: init(5) }).apply(h) as TF.SymbolicTensor;
  return tf.model({ inputs: [seq, sc], outputs: out, name: 'profile' });
}

/** Predict (I, D, N) in real units for n requests (rows of x). */
export function predictProfile(
  tf: typeof TF,
  model: TF.LayersModel,
  norm: ProfileNorm,
  x: ArrayLike<number>,
  rows: ArrayLike<number>,
): Float32Array {
  const n = rows.length;
  const seq = new Float32Array(n * K_RECORDS * PATCH),
    sc = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) normalise(x, rows[i] * REQUEST_FEATURES, norm, seq, i * K_RECORDS * PATCH, sc, i * 5);
  const out = tf.tidy(
    () => (model.predict([tf.tensor3d(seq, [n, K_RECORDS, PATCH]), tf.tensor2d(sc, [n, 5])]) as TF.Tensor).dataSync() as Float32Array,
  );
  const res = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) res[i * 3 + k] = Math.max(0, out[i * 3 + k] * norm.yScale[k]);
  return res;
}

/**
 * The profile model's forward pass in plain JavaScript over its weights (the `FastMlp` idea): the shared
 * per-record layers conv1, conv2 (Dense along the record axis), flattened and joined by the five aggregates,
 * then fc1, fc2, out. Equal to `predictProfile` within float32 rounding (test/node/deploy.spec.ts); works for
 * any layer widths (the distilled variant is narrower).
 */
export class FastProfile {
  private conv: FastMlp;
  private head: FastMlp;
  private seq = new Float32Array(K_RECORDS * PATCH);
  private sc = new Float32Array(5);
  private flat: Float32Array;
  private filters: number;

  constructor(model: TF.LayersModel) {
    this.conv = new FastMlp([denseKernel(model, 'conv1'), denseKernel(model, 'conv2')], [], [true, true]);
    this.head = new FastMlp([denseKernel(model, 'fc1'), denseKernel(model, 'fc2'), denseKernel(model, 'out')]);
    this.filters = this.conv.outputs;
    if (this.head.inputs !== K_RECORDS * this.filters + 5)
      throw new Error(`profile model: fc1 takes ${this.head.inputs} inputs, the layout gives ${K_RECORDS * this.filters + 5}`);
    this.flat = new Float32Array(this.head.inputs);
  }

  /** (I, D, N) in real units for one request's raw features (REQUEST_FEATURES at offset `o` of `x`). */
  predict(x: ArrayLike<number>, norm: ProfileNorm, o = 0, out = new Float32Array(3)): Float32Array {
    normalise(x, o, norm, this.seq, 0, this.sc, 0);
    const F = this.filters;
    for (let r = 0; r < K_RECORDS; r++) this.flat.set(this.conv.forward(this.seq.subarray(r * PATCH, (r + 1) * PATCH)), r * F);
    this.flat.set(this.sc, K_RECORDS * F);
    const y = this.head.forward(this.flat);
    for (let k = 0; k < 3; k++) out[k] = Math.max(0, y[k] * norm.yScale[k]);
    return out;
  }
}
