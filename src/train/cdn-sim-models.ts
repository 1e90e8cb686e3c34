/**
 * Layers of the learned CDN simulator's models (src/sim/cdn/learned.ts) on the tfjs side: the NALU layer
 * (Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018) and the export of LSTM weights in the layout
 * LearnedForward reads; the logged days' windows, the free-running roll-out and its multi-step training data.
 */
import * as tf from '@tensorflow/tfjs';
import type { CdnQoe } from '../sim/cdn/env.js';
import {
  LearnedForward,
  learnFeatures,
  LEARN_FEATURES,
  LEARN_OUTPUTS,
  LEARN_WINDOW,
  type LearnedCdnModel,
  type LstmWeights,
  type NaluWeights,
} from '../sim/cdn/learned.js';

/** NALU (Trask et al. 2018): y = g·(x·W) + (1 − g)·exp(log(|x| + ε)·W), W = tanh(Ŵ)·σ(M̂), g = σ(x·G) */
export class Nalu extends tf.layers.Layer {
  static className = 'Nalu';
  private wHat!: tf.LayerVariable;
  private mHat!: tf.LayerVariable;
  private g!: tf.LayerVariable;
  constructor(
    private units: number,
    private seed = 1,
  ) {
    super({});
  }
  override build(inputShape: tf.Shape): void {
    const d = inputShape[inputShape.length - 1] as number;
    const init = tf.initializers.glorotUniform({ seed: this.seed });
    this.wHat = this.addWeight('wHat', [d, this.units], 'float32', init);
    this.mHat = this.addWeight('mHat', [d, this.units], 'float32', init);
    this.g = this.addWeight('g', [d, this.units], 'float32', init);
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0], this.units];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const W = tf.tanh(this.wHat.read()).mul(tf.sigmoid(this.mHat.read())) as tf.Tensor2D;
      const add = x.matMul(W);
      const mul = tf.exp(tf.minimum(tf.log(tf.abs(x).add(1e-7)).matMul(W), 30));
      const g = tf.sigmoid(x.matMul(this.g.read() as tf.Tensor2D));
      return g.mul(add).add(tf.sub(1, g).mul(mul));
    });
  }
  /** the layer's weights as LearnedCdnModel.nalu */
  weightsOf(): NaluWeights {
    return {
      wHat: Array.from(this.wHat.read().dataSync()),
      mHat: Array.from(this.mHat.read().dataSync()),
      g: Array.from(this.g.read().dataSync()),
    };
  }
}

export function lstmWeightsOf(layer: tf.layers.Layer, units: number): LstmWeights {
  const [k, r, b] = layer.getWeights();
  return { units, kernel: Array.from(k.dataSync()), recurrent: Array.from(r.dataSync()), bias: Array.from(b.dataSync()) };
}

/** One CDN's logged day (the mechanistic simulator's logs, `npm run train:cdn-sim`): per minute of the day. */
export interface CdnLogSeq {
  cdn: string;
  day: number;
  /** concurrent viewers [DAY_MIN] */
  workload: Float64Array;
  /** joins in the minute [DAY_MIN] */
  joins: Float64Array;
  /** the minute's QoE, natural units [DAY_MIN] */
  qoe: CdnQoe[];
}

/** log(1 + metric) of the model's three outputs into out[o..o+2] */
export function qoeTarget(q: CdnQoe, out: Float32Array | Float64Array, o = 0): void {
  out[o] = Math.log1p(q.slatency);
  out[o + 1] = Math.log1p(q.bufratio);
  out[o + 2] = Math.log1p(q.buffreq);
}

/**
 * The range of each output (log(1 + metric) units) over the logged minutes of `seqs`, widened by `margin` × its
 * span on both sides (the low end never below 0, where every metric's log(1 + metric) starts): `LearnedCdnModel.range`,
 * the clamp of the free-running model. The clamp is a guard against divergence, not a forecast, so it is loose:
 * held-out days reach outside the training days' own range (the mechanistic logs' test days go 0.3–0.7 below their
 * training minima in BufRatio), and a tight clamp would cost one-step accuracy there.
 * Throws RangeError when `seqs` holds no minute or `margin` < 0.
 */
export function qoeRange(seqs: CdnLogSeq[], margin = 0): { lo: number[]; hi: number[] } {
  if (!(margin >= 0)) throw new RangeError(`qoeRange: margin must be ≥ 0 (got ${margin})`);
  const lo = [Infinity, Infinity, Infinity],
    hi = [-Infinity, -Infinity, -Infinity];
  const y = new Float64Array(LEARN_OUTPUTS);
  for (const s of seqs)
    for (const q of s.qoe) {
      qoeTarget(q, y);
      for (let c = 0; c < LEARN_OUTPUTS; c++) {
        if (y[c] < lo[c]) lo[c] = y[c];
        if (y[c] > hi[c]) hi[c] = y[c];
      }
    }
  if (!Number.isFinite(lo[0])) throw new RangeError('qoeRange: no logged minute');
  for (let c = 0; c < LEARN_OUTPUTS; c++) {
    const span = hi[c] - lo[c];
    lo[c] = Math.max(0, lo[c] - margin * span);
    hi[c] += margin * span;
  }
  return { lo, hi };
}

/**
 * Runs `md` free over one logged day, as the learned simulator does: the logged workload and joins, and as "the QoE
 * of the step before" the model's own previous output (the first LEARN_WINDOW minutes' QoE are given from the log).
 * @returns per minute [DAY_MIN × LEARN_OUTPUTS] the QoE fed back (log(1 + metric) units): logged for
 * t < LEARN_WINDOW, the model's output (clamped to `md.range` when it has one) after.
 */
export function freeRun(md: LearnedCdnModel, seq: CdnLogSeq): Float64Array {
  const T = seq.qoe.length;
  const f = new LearnedForward(md);
  const x = new Float32Array(LEARN_WINDOW * LEARN_FEATURES);
  const out = new Float64Array(LEARN_OUTPUTS);
  const pred = new Float64Array(T * LEARN_OUTPUTS);
  const q = (t: number): CdnQoe => ({
    slatency: Math.expm1(Math.max(0, pred[t * LEARN_OUTPUTS])),
    bufratio: Math.expm1(Math.max(0, pred[t * LEARN_OUTPUTS + 1])),
    buffreq: Math.expm1(Math.max(0, pred[t * LEARN_OUTPUTS + 2])),
  });
  for (let t = 0; t < T; t++) {
    if (t < LEARN_WINDOW) {
      qoeTarget(seq.qoe[t], pred, t * LEARN_OUTPUTS);
      continue;
    }
    for (let j = 0; j < LEARN_WINDOW; j++) {
      const u = t - LEARN_WINDOW + 1 + j;
      learnFeatures(seq.workload[u], seq.joins[u], u, q(u - 1), x, j * LEARN_FEATURES);
    }
    f.forward(x, out);
    for (let c = 0; c < LEARN_OUTPUTS; c++) pred[t * LEARN_OUTPUTS + c] = out[c];
  }
  return pred;
}

/** Free-running RMSE (log(1 + metric) units) of `md` over the minutes t ≥ LEARN_WINDOW of `seqs` (see `freeRun`). */
export function freeRunRmse(md: LearnedCdnModel, seqs: CdnLogSeq[]): number {
  let s = 0,
    n = 0;
  const y = new Float64Array(LEARN_OUTPUTS);
  for (const sq of seqs) {
    const pred = freeRun(md, sq);
    for (let t = LEARN_WINDOW; t < sq.qoe.length; t++) {
      qoeTarget(sq.qoe[t], y);
      for (let c = 0; c < LEARN_OUTPUTS; c++) s += (pred[t * LEARN_OUTPUTS + c] - y[c]) ** 2;
      n += LEARN_OUTPUTS;
    }
  }
  return Math.sqrt(s / n);
}

/**
 * Windows of a logged day with the features LEARN_FEATURES of `learned.ts` at minutes t = LEARN_WINDOW, LEARN_WINDOW
 * + every, …; x [n × LEARN_WINDOW × LEARN_FEATURES], y [n × LEARN_OUTPUTS] the logged QoE at t (log units). With
 * `fed` (a `freeRun` of the day) "the QoE of the step before" in every window step is the fed-back one instead of
 * the logged one: the multi-step training data of Data as Demonstrator (Venkatraman, Hebert & Bagnell, AAAI 2015),
 * which teaches a model fitted one step ahead to correct its own drift back towards the log when it is run free.
 */
export function logWindows(seqs: CdnLogSeq[], every: number, fed?: Float64Array[]): { x: Float32Array; y: Float32Array; n: number } {
  if (!(every >= 1)) throw new RangeError(`logWindows: every must be ≥ 1 (got ${every})`);
  if (fed && fed.length !== seqs.length) throw new RangeError(`logWindows: ${fed.length} free runs for ${seqs.length} days`);
  const rows: Array<[number, number]> = [];
  seqs.forEach((s, i) => {
    for (let t = LEARN_WINDOW; t < s.qoe.length; t += every) rows.push([i, t]);
  });
  const W = LEARN_WINDOW * LEARN_FEATURES;
  const x = new Float32Array(rows.length * W);
  const y = new Float32Array(rows.length * LEARN_OUTPUTS);
  rows.forEach(([i, t], r) => {
    const s = seqs[i];
    const p = fed?.[i];
    for (let j = 0; j < LEARN_WINDOW; j++) {
      const u = t - LEARN_WINDOW + 1 + j;
      const prev: CdnQoe = p
        ? {
            slatency: Math.expm1(Math.max(0, p[(u - 1) * LEARN_OUTPUTS])),
            bufratio: Math.expm1(Math.max(0, p[(u - 1) * LEARN_OUTPUTS + 1])),
            buffreq: Math.expm1(Math.max(0, p[(u - 1) * LEARN_OUTPUTS + 2])),
          }
        : s.qoe[u - 1];
      learnFeatures(s.workload[u], s.joins[u], u, prev, x, r * W + j * LEARN_FEATURES);
    }
    qoeTarget(s.qoe[t], y, r * LEARN_OUTPUTS);
  });
  return { x, y, n: rows.length };
}
