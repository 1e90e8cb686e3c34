/**
 * The LTS networks in tfjs (training side of src/assign/cdn/lts.ts: the same layout, so `netWeights` feeds
 * LtsNet directly) and the actor-critic update, kept in one function (`ppoUpdate`) so that it can be folded
 * into the shared PPO of src/train when that lands.
 *
 * Why PPO rather than A3C/A2C: the paper's A3C gains its speed from many asynchronous CPU workers; here
 * there are two shared cores, so samples are the scarce resource. PPO reuses each batch of simulated days
 * for several epochs under a clipped ratio (stable even when a congested step's reward is 10× the usual),
 * where A2C takes one gradient step per batch. Both are actor-critic with the same networks, discount and
 * advantage estimate (GAE).
 */
import * as tf from '@tensorflow/tfjs';
import { CDN_CHANNELS, CONV_FILTERS, CONV_KERNEL, HIDDEN, type NetWeights } from '../assign/cdn/lts.js';

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
  ) {
    this.positions = k - CONV_KERNEL + 1;
    const flat = m * this.positions * CONV_FILTERS;
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

  /** width of an im2col row: m · positions · (kernel · channels) */
  get colDim(): number {
    return this.m * this.positions * CONV_KERNEL * CDN_CHANNELS;
  }
  /**
   * x: [B, colDim] — the encoded observations in im2col layout (toCols): the convolution is then one matMul
   * (the wasm backend has no Conv2DBackpropFilter, and slicing windows in tfjs costs more than the layer).
   */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const B = x.shape[0];
    const P = this.positions;
    const c = tf.relu(
      x
        .reshape([B * this.m * P, CONV_KERNEL * CDN_CHANNELS])
        .matMul(this.convW.reshape([CONV_KERNEL * CDN_CHANNELS, CONV_FILTERS]))
        .add(this.convB),
    );
    const flat = c.reshape([B, this.m * P * CONV_FILTERS]);
    const h = tf.relu(flat.matMul(this.w1).add(this.b1));
    return h.matMul(this.w2).add(this.b2) as tf.Tensor2D;
  }

  weights(): NetWeights {
    const a = (v: tf.Variable) => Array.from(v.dataSync());
    return { convW: a(this.convW), convB: a(this.convB), w1: a(this.w1), b1: a(this.b1), w2: a(this.w2), b2: a(this.b2) };
  }
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
 * encodeObservation rows x[cdn][step][channel] → im2col rows: for each CDN and position p the window
 * x[p..p+3][channels] flattened (offset, channel) — the convW layout [kernel][channels][filters].
 */
export function toCols(x: Float32Array, m: number, k: number, out?: Float32Array): Float32Array {
  const P = k - CONV_KERNEL + 1;
  const W = CONV_KERNEL * CDN_CHANNELS;
  const rows = x.length / (m * k * CDN_CHANNELS);
  const o = out ?? new Float32Array(rows * m * P * W);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < m; i++)
      for (let p = 0; p < P; p++) {
        const src = ((r * m + i) * k + p) * CDN_CHANNELS;
        o.set(x.subarray(src, src + W), ((r * m + i) * P + p) * W);
      }
  return o;
}

/** Generalised advantage estimates for one episode that ends (terminal) after the last reward. */
export function gae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  gamma: number,
  lambda: number,
): { adv: Float32Array; ret: Float32Array } {
  const n = rewards.length;
  const adv = new Float32Array(n);
  const ret = new Float32Array(n);
  let last = 0;
  for (let t = n - 1; t >= 0; t--) {
    const next = t + 1 < n ? values[t + 1] : 0;
    const delta = rewards[t] + gamma * next - values[t];
    last = delta + gamma * lambda * last;
    adv[t] = last;
    ret[t] = last + values[t];
  }
  return { adv, ret };
}

export interface PpoBatch {
  /** states [n × inDim] */
  x: Float32Array;
  inDim: number;
  a: Int32Array;
  /** log-probabilities of the actions under the policy that collected them */
  logp: Float32Array;
  adv: Float32Array;
  ret: Float32Array;
  n: number;
}
export interface PpoOptions {
  epochs: number;
  minibatch: number;
  clip: number;
  entropy: number;
  rng: () => number;
  /** fit only the critic (the warm-up after imitation) */
  criticOnly?: boolean;
}

/**
 * One PPO update (clipped surrogate + entropy bonus for the actor; squared error for the critic, its own
 * optimizer): `epochs` passes over the batch in shuffled minibatches; advantages are normalised per batch.
 * Returns the mean losses and the approximate KL of the last epoch.
 */
export function ppoUpdate(
  actor: TfLtsNet,
  critic: TfLtsNet,
  optA: tf.Optimizer,
  optC: tf.Optimizer,
  b: PpoBatch,
  o: PpoOptions,
): { policyLoss: number; valueLoss: number; entropy: number; kl: number } {
  let mean = 0,
    sq = 0;
  for (let i = 0; i < b.n; i++) mean += b.adv[i];
  mean /= b.n;
  for (let i = 0; i < b.n; i++) sq += (b.adv[i] - mean) ** 2;
  const sd = Math.sqrt(sq / b.n) + 1e-8;
  const advN = Float32Array.from(b.adv, (v) => (v - mean) / sd);
  let pl = 0,
    vl = 0,
    en = 0,
    kl = 0,
    cnt = 0;
  for (let ep = 0; ep < o.epochs; ep++) {
    const perm = Int32Array.from({ length: b.n }, (_, i) => i);
    for (let i = b.n - 1; i > 0; i--) {
      const j = Math.floor(o.rng() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const last = ep === o.epochs - 1;
    for (let s = 0; s + o.minibatch <= b.n; s += o.minibatch) {
      const idx = perm.subarray(s, s + o.minibatch);
      const B = idx.length;
      const xs = new Float32Array(B * b.inDim);
      const as = new Int32Array(B),
        lp = new Float32Array(B),
        ad = new Float32Array(B),
        rt = new Float32Array(B);
      idx.forEach((k, i) => {
        xs.set(b.x.subarray(k * b.inDim, (k + 1) * b.inDim), i * b.inDim);
        as[i] = b.a[k];
        lp[i] = b.logp[k];
        ad[i] = advN[k];
        rt[i] = b.ret[k];
      });
      tf.tidy(() => {
        const X = tf.tensor2d(xs, [B, b.inDim]);
        const A = tf.oneHot(tf.tensor1d(as, 'int32'), actor.outputs);
        if (!o.criticOnly) {
          const stats = { p: 0, e: 0, kl: 0 };
          optA.minimize(
            () => {
              const logits = actor.apply(X);
              const logpAll = tf.logSoftmax(logits);
              const logpA = logpAll.mul(A).sum(1);
              const ratio = tf.exp(logpA.sub(tf.tensor1d(lp)));
              const adv = tf.tensor1d(ad);
              const surr = tf.minimum(ratio.mul(adv), tf.clipByValue(ratio, 1 - o.clip, 1 + o.clip).mul(adv));
              const ent = tf.neg(tf.exp(logpAll).mul(logpAll).sum(1)).mean();
              const loss = tf.neg(surr.mean()).sub(ent.mul(o.entropy));
              stats.p = -surr.mean().dataSync()[0];
              stats.e = ent.dataSync()[0];
              stats.kl = tf.tensor1d(lp).sub(logpA).mean().dataSync()[0];
              return loss as tf.Scalar;
            },
            false,
            actor.vars,
          );
          if (last) {
            pl += stats.p;
            en += stats.e;
            kl += stats.kl;
          }
        }
        const v = optC.minimize(
          () => tf.losses.meanSquaredError(tf.tensor1d(rt), critic.apply(X).reshape([B])) as tf.Scalar,
          true,
          critic.vars,
        );
        if (last) {
          vl += v!.dataSync()[0];
          cnt++;
        }
      });
    }
  }
  const n = Math.max(1, cnt);
  return { policyLoss: pl / n, valueLoss: vl / n, entropy: en / n, kl: kl / n };
}

/**
 * Supervised epochs of the actor on (state, action) pairs (imitation warm start), against soft labels
 * (n × actions probabilities) when given; returns the last epoch's loss and accuracy (argmax = label).
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
): { loss: number; acc: number } {
  const A = actor.outputs;
  const n = labels.length;
  let loss = 0,
    acc = 0,
    cnt = 0;
  for (let ep = 0; ep < epochs; ep++) {
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    loss = acc = cnt = 0;
    for (let s = 0; s + minibatch <= n; s += minibatch) {
      const idx = perm.subarray(s, s + minibatch);
      const xs = new Float32Array(minibatch * inDim);
      const ys = new Int32Array(minibatch);
      const ps = soft ? new Float32Array(minibatch * A) : null;
      idx.forEach((k, i) => {
        xs.set(x.subarray(k * inDim, (k + 1) * inDim), i * inDim);
        ys[i] = labels[k];
        ps?.set(soft!.subarray(k * A, (k + 1) * A), i * A);
      });
      tf.tidy(() => {
        const X = tf.tensor2d(xs, [minibatch, inDim]);
        const Y = ps ? tf.tensor2d(ps, [minibatch, A]) : tf.oneHot(tf.tensor1d(ys, 'int32'), A);
        let pred: ArrayLike<number> = [];
        const l = opt.minimize(
          () => {
            const logits = actor.apply(X);
            pred = logits.argMax(1).dataSync();
            return tf.losses.softmaxCrossEntropy(Y, logits) as tf.Scalar;
          },
          true,
          actor.vars,
        );
        loss += l!.dataSync()[0];
        for (let i = 0; i < minibatch; i++) if (pred[i] === ys[i]) acc++;
        cnt += minibatch;
      });
    }
  }
  const batches = Math.max(1, Math.floor(n / minibatch));
  return { loss: loss / batches, acc: acc / Math.max(1, cnt) };
}
