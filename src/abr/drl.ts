/**
 * The DRL bitrate policy: its input features (Pensieve's state, flattened) and its network, defined
 * once with tfjs layers for training (Node, wasm backend) and inference (the worker).
 * Environment-agnostic: tfjs is passed in, never imported here, so the core bundle stays tfjs-free.
 */
import type * as TF from '@tensorflow/tfjs';
import { FastMlp } from '../core/fast-mlp.js';
import { VIDEO_BIT_RATE_KBPS, type AbrObservation, type AbrPolicy } from '../core/abr.js';

export const HISTORY = 8;
const L = VIDEO_BIT_RATE_KBPS.length;
export const FEATURES = 2 + 2 * HISTORY + L + 1 + 1 + 3 * L;

/**
 * Normalised state: last bitrate, buffer, 8 throughputs (MB/s), 8 delays (10 s), next sizes (MB), chunks
 * left, then derived features (harmonic throughput, per-level download time and buffer margin, last level).
 */
export function features(o: AbrObservation, out: Float32Array = new Float32Array(FEATURES)): Float32Array {
  const top = o.ladderKbps[o.ladderKbps.length - 1];
  let k = 0;
  out[k++] = o.ladderKbps[o.lastQuality] / top;
  out[k++] = o.bufferS / 10;
  const n = o.throughputs.length;
  for (let i = 0; i < HISTORY; i++) {
    const j = n - HISTORY + i;
    out[k++] = j >= 0 ? o.throughputs[j] / 1000 : 0;
  }
  for (let i = 0; i < HISTORY; i++) {
    const j = n - HISTORY + i;
    out[k++] = j >= 0 ? o.delaysMs[j] / 1000 / 10 : 0;
  }
  for (let q = 0; q < VIDEO_BIT_RATE_KBPS.length; q++) out[k++] = (o.nextSizes[q] ?? 0) / 1e6;
  out[k++] = Math.min(o.remain, o.totalChunks) / o.totalChunks;
  // derived, MPC-like: harmonic-mean throughput of the last 5 chunks, the next chunk's estimated
  // download time per level and the buffer left after it, and the last level one-hot
  let inv = 0;
  let m = 0;
  for (let j = Math.max(0, n - 5); j < n; j++) {
    if (o.throughputs[j] > 0) {
      inv += 1 / o.throughputs[j];
      m++;
    }
  }
  const harm = m > 0 ? m / inv / 1000 : 0; // MB/s
  out[k++] = harm;
  for (let q = 0; q < L; q++) {
    const dl = harm > 0 ? (o.nextSizes[q] ?? 0) / 1e6 / harm : 10;
    out[k++] = Math.min(dl, 30) / 10;
    out[k++] = Math.max(-3, Math.min(3, (o.bufferS - dl) / 10));
  }
  for (let q = 0; q < L; q++) out[k++] = q === o.lastQuality ? 1 : 0;
  return out;
}

/** Actor-critic MLPs: FEATURES -> 128 -> 128 -> 6 logits, and FEATURES -> 128 -> 128 -> 1 value. */
export function buildModel(tf: typeof TF, hidden = 128, seed = 1): TF.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const inp = tf.input({ shape: [FEATURES], name: 'state' });
  // separate actor and critic towers: fitting the critic never moves the policy
  let h = tf.layers.dense({ units: hidden, activation: 'relu', name: 'h1', kernelInitializer: init(1) }).apply(inp) as TF.SymbolicTensor;
  h = tf.layers.dense({ units: hidden, activation: 'relu', name: 'h2', kernelInitializer: init(2) }).apply(h) as TF.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: VIDEO_BIT_RATE_KBPS.length, name: 'logits', kernelInitializer: init(3) })
    .apply(h) as TF.SymbolicTensor;
  let c = tf.layers.dense({ units: hidden, activation: 'relu', name: 'c1', kernelInitializer: init(5) }).apply(inp) as TF.SymbolicTensor;
  c = tf.layers.dense({ units: hidden, activation: 'relu', name: 'c2', kernelInitializer: init(6) }).apply(c) as TF.SymbolicTensor;
  const value = tf.layers.dense({ units: 1, name: 'value', kernelInitializer: init(4) }).apply(c) as TF.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: [logits, value], name: 'abr_drl' });
}

/** The actor's forward pass in plain JavaScript (see FastMlp): layers h1, h2, logits. */
export class FastActor extends FastMlp {
  constructor(model: TF.LayersModel) {
    super(model, ['h1', 'h2', 'logits']);
  }
}

/** Greedy policy over a model (argmax of the logits). */
export class DrlPolicy implements AbrPolicy {
  readonly name: string;
  private buf = new Float32Array(FEATURES);
  constructor(
    private model: TF.LayersModel,
    name = 'drl',
  ) {
    this.name = name;
  }
  private fast: FastActor | null = null;

  decide(o: AbrObservation): number {
    features(o, this.buf);
    this.fast ??= new FastActor(this.model);
    const logits = this.fast.forward(this.buf);
    let best = 0;
    for (let q = 1; q < logits.length; q++) if (logits[q] > logits[best]) best = q;
    return best;
  }
}
