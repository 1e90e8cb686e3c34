/**
 * The LTS networks in tfjs — the training side of src/assign/cdn/lts.ts (LTS §4.3: per-CDN 1-D convolution,
 * 64 filters of size 4, 64 hidden units), the same layout, so `weights()` feeds LtsNet directly — the im2col
 * layout they read, the actor-critic pair as the shared PPO's model (`ltsPpoModel` for src/train/ppo.ts
 * `ppoIteration`) and the imitation warm start on the shared supervised loop. No RL update lives here.
 */
import * as tf from '@tensorflow/tfjs';
import { CDN_CHANNELS, CONV_FILTERS, CONV_KERNEL, HIDDEN, type NetWeights } from '../assign/cdn/lts.js';
import type { PpoModel } from './ppo.js';
import { supervisedEpochs } from './supervised.js';

/**
 * One LTS network in tfjs: conv (kernel CONV_KERNEL over the k steps, CDN_CHANNELS channels, CONV_FILTERS
 * filters, shared by the m CDNs) → ReLU → dense HIDDEN → ReLU → dense `outputs` (the 3m + 1 logits of the
 * actor, or the critic's 1 value). He-normal initialisation, seeded; the output layer scaled by `outScale`.
 * `extra` inputs beside the history (lts.ts LtsInputs: the time-of-day features) are concatenated to the
 * convolution's flattened output before the hidden layer (w1 has `extra` more rows), as LtsNet reads them.
 */
export class TfLtsNet {
  readonly vars: tf.Variable[];
  private convW: tf.Variable;
  private convB: tf.Variable;
  private w1: tf.Variable;
  private b1: tf.Variable;
  private w2: tf.Variable;
  private b2: tf.Variable;
  readonly positions: number;

  constructor(
    readonly m: number,
    readonly k: number,
    readonly outputs: number,
    seed: number,
    outScale = 1,
    readonly extra = 0,
  ) {
    if (!Number.isInteger(extra) || extra < 0) throw new RangeError(`TfLtsNet: extra inputs must be a non-negative integer, got ${extra}`);
    this.positions = k - CONV_KERNEL + 1;
    const flat = m * this.positions * CONV_FILTERS + extra;
    const he = (shape: number[], fanIn: number, s: number, scale = 1) =>
      tf.variable(tf.randomNormal(shape, 0, scale * Math.sqrt(2 / fanIn), 'float32', s));
    this.convW = he([CONV_KERNEL, CDN_CHANNELS, CONV_FILTERS], CONV_KERNEL * CDN_CHANNELS, seed);
    this.convB = tf.variable(tf.zeros([CONV_FILTERS]));
    this.w1 = he([flat, HIDDEN], flat, seed + 1);
    this.b1 = tf.variable(tf.zeros([HIDDEN]));
    this.w2 = he([HIDDEN, outputs], HIDDEN, seed + 2, outScale);
    this.b2 = tf.variable(tf.zeros([outputs]));
    this.vars = [this.convW, this.convB, this.w1, this.b1, this.w2, this.b2];
  }

  /** width of an im2col row: m · positions · (kernel · channels), then the `extra` inputs */
  get colDim(): number {
    return this.m * this.positions * CONV_KERNEL * CDN_CHANNELS + this.extra;
  }
  /**
   * x: [B, colDim] — the encoded observations in im2col layout (toCols): the convolution is then one matMul
   * (the wasm backend has no Conv2DBackpropFilter, and slicing windows in tfjs costs more than the layer).
   */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const B = x.shape[0];
    const P = this.positions;
    const E = this.extra;
    const hist = E > 0 ? x.slice([0, 0], [B, this.colDim - E]) : x;
    const c = tf.relu(
      hist
        .reshape([B * this.m * P, CONV_KERNEL * CDN_CHANNELS])
        .matMul(this.convW.reshape([CONV_KERNEL * CDN_CHANNELS, CONV_FILTERS]))
        .add(this.convB),
    );
    const conv = c.reshape([B, this.m * P * CONV_FILTERS]);
    const flat = E > 0 ? tf.concat([conv, x.slice([0, this.colDim - E], [B, E])], 1) : conv;
    const h = tf.relu(flat.matMul(this.w1).add(this.b1));
    return h.matMul(this.w2).add(this.b2) as tf.Tensor2D;
  }

  /** the weights as plain arrays, in LtsNet's layout */
  weights(): NetWeights {
    const a = (v: tf.Variable) => Array.from(v.dataSync());
    return { convW: a(this.convW), convB: a(this.convB), w1: a(this.w1), b1: a(this.b1), w2: a(this.w2), b2: a(this.b2) };
  }
  /** sets every weight from `w` (LtsNet's layout); throws when a length does not fit */
  load(w: NetWeights): void {
    const set = (v: tf.Variable, x: ArrayLike<number>) => v.assign(tf.tensor(Array.from(x), v.shape));
    set(this.convW, w.convW);
    set(this.convB, w.convB);
    set(this.w1, w.w1);
    set(this.b1, w.b1);
    set(this.w2, w.w2);
    set(this.b2, w.b2);
  }
}

/**
 * encodeObservation rows x[cdn][step][channel] (then `extra` inputs) → im2col rows: for each CDN and position p
 * the window x[p..p+3][channels] flattened (offset, channel) — the convW layout [kernel][channels][filters] —
 * then the row's `extra` inputs as they are. @throws RangeError when x is not a whole number of rows.
 */
export function toCols(x: Float32Array, m: number, k: number, out?: Float32Array, extra = 0): Float32Array {
  const P = k - CONV_KERNEL + 1;
  const W = CONV_KERNEL * CDN_CHANNELS;
  const hist = m * k * CDN_CHANNELS;
  const inW = hist + extra;
  const colW = m * P * W + extra;
  const rows = x.length / inW;
  if (!Number.isInteger(rows)) throw new RangeError(`toCols: ${x.length} values are not rows of ${inW}`);
  const o = out ?? new Float32Array(rows * colW);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++)
      for (let p = 0; p < P; p++) {
        const src = r * inW + (i * k + p) * CDN_CHANNELS;
        o.set(x.subarray(src, src + W), r * colW + (i * P + p) * W);
      }
    if (extra > 0) o.set(x.subarray(r * inW + hist, (r + 1) * inW), r * colW + m * P * W);
  }
  return o;
}

/**
 * A network of `fromExtra` inputs beside the history, embedded function-preservingly into one of `toExtra`: the
 * new inputs' rows of the hidden layer's weights are 0, so the outputs are unchanged whatever the new inputs are
 * (the time-of-day features start unused; training moves them). @throws RangeError when toExtra < fromExtra or
 * w1's length is not (m · positions · CONV_FILTERS + fromExtra) · HIDDEN.
 */
export function widenInputs(w: NetWeights, m: number, k: number, fromExtra: number, toExtra: number): NetWeights {
  if (!(toExtra >= fromExtra)) throw new RangeError(`widenInputs: cannot drop inputs (${fromExtra} → ${toExtra} beside the history)`);
  const rows = m * (k - CONV_KERNEL + 1) * CONV_FILTERS + fromExtra;
  if (w.w1.length !== rows * HIDDEN) throw new RangeError(`widenInputs: w1 has ${w.w1.length} weights, expected ${rows * HIDDEN}`);
  const w1 = new Float32Array((rows + toExtra - fromExtra) * HIDDEN);
  w1.set(Array.from(w.w1));
  return { ...w, w1 };
}

/**
 * The inverse of widenInputs: a network of `fromExtra` inputs beside the history cut to its first `toExtra` (for a
 * time-of-day network: its first harmonics; 0: the paper's shape). The result computes what the original computes
 * with the dropped inputs' weights set to 0 — exactly the original when those weights are 0 (a widened network),
 * otherwise the network without what it learned from the dropped inputs (measure it: bench:cdn-tod's "time-of-day
 * weights 0"). @throws RangeError when toExtra > fromExtra or w1's length does not fit fromExtra.
 */
export function narrowInputs(w: NetWeights, m: number, k: number, fromExtra: number, toExtra: number): NetWeights {
  if (!(toExtra >= 0 && toExtra <= fromExtra))
    throw new RangeError(`narrowInputs: cannot add inputs (${fromExtra} → ${toExtra} beside the history)`);
  const rows = m * (k - CONV_KERNEL + 1) * CONV_FILTERS + fromExtra;
  if (w.w1.length !== rows * HIDDEN) throw new RangeError(`narrowInputs: w1 has ${w.w1.length} weights, expected ${rows * HIDDEN}`);
  return { ...w, w1: Float32Array.from(w.w1).slice(0, (rows - fromExtra + toExtra) * HIDDEN) };
}

/**
 * The actor and critic as the shared PPO's model (src/train/ppo.ts PpoModel): observations are im2col rows
 * ([batch, colDim], `toCols`); logits are the actor's 3m + 1 outputs, the value the critic's one output.
 * `variables` = actor then critic; `criticVariables` = the critic's (the critic-only passes).
 */
export function ltsPpoModel(actor: TfLtsNet, critic: TfLtsNet): PpoModel {
  if (critic.outputs !== 1) throw new Error(`ltsPpoModel: the critic needs 1 output, has ${critic.outputs}`);
  if (actor.colDim !== critic.colDim) throw new Error('ltsPpoModel: actor and critic read different observations');
  return {
    forward(obs: tf.Tensor, batch: number) {
      const x = obs.reshape([batch, actor.colDim]) as tf.Tensor2D;
      return { logits: actor.apply(x), value: critic.apply(x).reshape([batch]) };
    },
    variables: [...actor.vars, ...critic.vars],
    criticVariables: critic.vars,
  };
}

/**
 * Supervised epochs of the actor on (state, action) pairs (the imitation warm start), on the shared
 * minibatch loop (supervised.ts `supervisedEpochs`): softmax cross-entropy against soft labels (n × actions
 * probabilities) when given, else one-hot `labels`. With `regret` (n × actions, each action's cost above the
 * cheapest, ≥ 0) the cost-sensitive expected regret Σ_a π(a|s)·regret(s, a) is added to the cross-entropy (both
 * averaged over the minibatch): it weighs each state by how much a wrong choice costs there (alone, without the
 * cross-entropy, it barely moved a fresh network in our trials).
 * x: [n × inDim] im2col rows. Returns the last epoch's mean loss and the accuracy (argmax = label) over all n
 * afterwards. @throws RangeError for n < 1 or a `regret` of another length than n × actions.
 */
export function imitate(
  actor: TfLtsNet,
  opt: tf.Optimizer,
  x: Float32Array,
  inDim: number,
  labels: Int32Array,
  epochs: number,
  minibatch: number,
  rng: () => number,
  soft?: Float32Array,
  regret?: Float32Array,
): { loss: number; acc: number } {
  const A = actor.outputs;
  const n = labels.length;
  if (n < 1) throw new RangeError('imitate: need at least one state');
  if (regret && regret.length !== n * A) throw new RangeError(`imitate: regret has ${regret.length} entries, need ${n} × ${A}`);
  const X = tf.tensor2d(x, [n, inDim]);
  const Y = soft ? tf.tensor2d(soft, [n, A]) : tf.oneHot(tf.tensor1d(labels, 'int32'), A);
  const R = regret ? tf.tensor2d(regret, [n, A]) : null;
  try {
    const losses = supervisedEpochs(opt, { n, epochs, batch: minibatch, rng }, (ids) => {
      const logits = actor.apply(tf.gather(X, ids) as tf.Tensor2D);
      const ce = tf.losses.softmaxCrossEntropy(tf.gather(Y, ids), logits) as tf.Scalar;
      return R ? (tf.add(ce, tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.gather(R, ids)), 1))) as tf.Scalar) : ce;
    });
    let acc = 0;
    for (let s = 0; s < n; s += 1024) {
      const pred = tf.tidy(() =>
        actor
          .apply(X.slice([s, 0], [Math.min(1024, n - s), inDim]))
          .argMax(1)
          .dataSync(),
      );
      for (let i = 0; i < pred.length; i++) if (pred[i] === labels[s + i]) acc++;
    }
    return { loss: losses.length ? losses[losses.length - 1] : NaN, acc: acc / n };
  } finally {
    tf.dispose([X, Y]);
    R?.dispose();
  }
}
