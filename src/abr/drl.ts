/**
 * The DRL bitrate policy: its input features (Pensieve's state, flattened) and its network, defined
 * once with tfjs layers for training (Node, wasm backend) and inference (the worker).
 * Environment-agnostic: tfjs is passed in, never imported here, so the core bundle stays tfjs-free.
 */
import type * as TF from '@tensorflow/tfjs';
import { FastMlp } from '../core/fast-mlp.js';
import { VIDEO_BIT_RATE_KBPS, type AbrObservation, type AbrPolicy } from '../core/abr.js';
import { checkDrlGuard, guardLevel, type DrlGuard } from './drl-guard.js';

export const HISTORY = 8;
const L = VIDEO_BIT_RATE_KBPS.length;
export const FEATURES = 2 + 2 * HISTORY + L + 1 + 1 + 3 * L;

/**
 * The highest throughput sample the policy's inputs carry, bytes/ms (10 Mb/s). The training traces never
 * exceed 9 Mb/s; beyond that the network extrapolates (a 600 Mb/s loopback link made it pick the lowest
 * level). A faster sample is presented as this rate with the download time the same bytes would take at
 * it — "fast enough for the top level", which is all the policy can learn from the training data.
 */
export const THROUGHPUT_CAP_BPMS = 1250;

/**
 * Normalised state: last bitrate, buffer, 8 throughputs (MB/s), 8 delays (10 s), next sizes (MB), chunks
 * left, then derived features (harmonic throughput, per-level download time and buffer margin, last level).
 * Throughput samples above `THROUGHPUT_CAP_BPMS` are bounded to it (and their download times stretched to match).
 */
export function features(o: AbrObservation, out: Float32Array = new Float32Array(FEATURES)): Float32Array {
  const top = o.ladderKbps[o.ladderKbps.length - 1];
  let k = 0;
  out[k++] = o.ladderKbps[o.lastQuality] / top;
  out[k++] = o.bufferS / 10;
  const n = o.throughputs.length;
  const thr = (j: number) => Math.min(o.throughputs[j], THROUGHPUT_CAP_BPMS);
  // the same bytes at the bounded rate: bytes = throughput × delay
  const delay = (j: number) =>
    o.throughputs[j] > THROUGHPUT_CAP_BPMS ? (o.throughputs[j] * o.delaysMs[j]) / THROUGHPUT_CAP_BPMS : o.delaysMs[j];
  for (let i = 0; i < HISTORY; i++) {
    const j = n - HISTORY + i;
    out[k++] = j >= 0 ? thr(j) / 1000 : 0;
  }
  for (let i = 0; i < HISTORY; i++) {
    const j = n - HISTORY + i;
    out[k++] = j >= 0 ? delay(j) / 1000 / 10 : 0;
  }
  for (let q = 0; q < VIDEO_BIT_RATE_KBPS.length; q++) out[k++] = (o.nextSizes[q] ?? 0) / 1e6;
  out[k++] = Math.min(o.remain, o.totalChunks) / o.totalChunks;
  // derived, MPC-like: harmonic-mean throughput of the last 5 chunks, the next chunk's estimated
  // download time per level and the buffer left after it, and the last level one-hot
  let inv = 0;
  let m = 0;
  for (let j = Math.max(0, n - 5); j < n; j++) {
    if (o.throughputs[j] > 0) {
      inv += 1 / thr(j);
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

/**
 * An ensemble's forward pass: the mean of its members' log-probabilities (log-softmax of each member's logits), a
 * geometric mean of their action distributions; its argmax is the level the members agree on most. The result is
 * usable wherever logits are (`DrlPolicy`'s `forward`).
 * @param members forward passes features → L logits (e.g. `FastActor.forward` of several trained models)
 * @returns features → L averaged log-probabilities (the returned array is reused by the next call)
 * @throws RangeError when there are no members; Error when a member answers a length other than L
 */
export function ensembleForward(members: Array<(x: Float32Array) => ArrayLike<number>>): (x: Float32Array) => Float32Array {
  if (!members.length) throw new RangeError('an ensemble needs at least one member');
  const out = new Float32Array(L);
  return (x) => {
    out.fill(0);
    for (const f of members) {
      const lg = f(x);
      if (lg.length !== L) throw new Error(`ensemble member answered ${lg.length} logits, expected ${L}`);
      let mx = -Infinity;
      for (let q = 0; q < L; q++) mx = Math.max(mx, lg[q]);
      let z = 0;
      for (let q = 0; q < L; q++) z += Math.exp(lg[q] - mx);
      const lz = mx + Math.log(z);
      for (let q = 0; q < L; q++) out[q] += (lg[q] - lz) / members.length;
    }
    return out;
  };
}

/**
 * Where each of the model's L input slots takes its level from, for a stream of `n` levels (low to high):
 * the model was trained on a 6-rung ladder; a stream with fewer levels spreads them over the slots (the
 * lowest at slot 0, the highest at slot L−1) and fills the gaps with the level below; a stream with more
 * levels offers the model L of them, evenly spread (the lowest and the highest always among them).
 * @returns slot → stream level, non-decreasing
 */
export function ladderSlots(n: number): number[] {
  if (!(n >= 1)) throw new RangeError(`ladder must have at least one level, got ${n}`);
  if (n === L) return Array.from({ length: L }, (_, q) => q);
  if (n > L) return Array.from({ length: L }, (_, q) => Math.round((q * (n - 1)) / (L - 1)));
  const out = new Array<number>(L).fill(-1);
  for (let i = 0; i < n; i++) out[n === 1 ? 0 : Math.round((i * (L - 1)) / (n - 1))] = i;
  for (let q = 1; q < L; q++) if (out[q] < 0) out[q] = out[q - 1];
  return out;
}

/** The observation as the model's L slots see it (`slots` from `ladderSlots`). */
function toSlots(o: AbrObservation, slots: number[]): AbrObservation {
  let last = 0;
  for (let q = 0; q < L; q++)
    if (Math.abs(o.ladderKbps[slots[q]] - o.ladderKbps[o.lastQuality]) < Math.abs(o.ladderKbps[slots[last]] - o.ladderKbps[o.lastQuality]))
      last = q;
  return { ...o, lastQuality: last, ladderKbps: slots.map((r) => o.ladderKbps[r]), nextSizes: slots.map((r) => o.nextSizes[r] ?? 0) };
}

/** throughput grid of the monotone decision, bytes/ms: 10 points per decade from 0.01 Mb/s up to the cap */
const GRID = Array.from({ length: 31 }, (_, k) => 1.25 * 10 ** (k / 10)).filter((s) => s <= THROUGHPUT_CAP_BPMS * 1.0001);

/**
 * Greedy policy over a model (argmax of the logits), for any ladder (`ladderSlots`) and monotone in the
 * link: with the same history shape, a faster link never gets a lower level. The decision is the highest
 * level the model picks with the throughput history scaled to any grid point (10 per decade) at or below
 * the history's harmonic mean — the model alone is not monotone (at a 2 s buffer it picked level 1 at
 * 4 Mb/s and level 0 at 8 Mb/s), a faster link must never be worse.
 */
export class DrlPolicy implements AbrPolicy {
  readonly name: string;
  private buf = new Float32Array(FEATURES);
  /**
   * @param forward the actor's forward pass, features → logits (default: `FastActor`, plain JS over the weights;
   *   the worker passes a tfjs `predict` to run a deployment variant on a tfjs backend, src/deploy/)
   * @param guard a stall guard over the answer (`guardLevel`); none by default (the policy as trained)
   */
  constructor(
    private model: TF.LayersModel,
    name = 'drl',
    private forward?: (x: Float32Array) => ArrayLike<number>,
    private guard: DrlGuard | null = null,
  ) {
    this.name = name;
    if (guard) checkDrlGuard(guard);
  }

  decide(o: AbrObservation): number {
    const level = this.decideModel(o);
    return this.guard ? guardLevel(o, level, this.guard) : level;
  }
  private fast: FastActor | null = null;
  private thrBuf: number[] = [];
  private delBuf: number[] = [];

  /** the model's own argmax for an observation on its L-slot ladder */
  private argmax(o: AbrObservation, usable: (q: number) => boolean): number {
    features(o, this.buf);
    let logits: ArrayLike<number>;
    if (this.forward) logits = this.forward(this.buf);
    else {
      this.fast ??= new FastActor(this.model);
      logits = this.fast.forward(this.buf);
    }
    let best = -1;
    for (let q = 0; q < logits.length; q++) if (usable(q) && (best < 0 || logits[q] > logits[best])) best = q;
    return best;
  }

  /** the model's monotone answer, before the guard */
  private decideModel(o: AbrObservation): number {
    const n = o.ladderKbps.length;
    if (n <= 1) return 0;
    const slots = ladderSlots(n);
    const m = n === L ? o : toSlots(o, slots);
    // a level that fills several slots is offered once (its lowest slot)
    const usable = (q: number) => q === 0 || slots[q] !== slots[q - 1];
    const recent = o.throughputs.slice(-5).filter((x) => x > 0);
    const harm = recent.length ? recent.length / recent.reduce((a, x) => a + 1 / x, 0) : 0;
    if (!(harm > 0)) return slots[this.argmax(m, usable)];
    let best = -1;
    const top = slots[L - 1];
    const thr = this.thrBuf.length === m.throughputs.length ? this.thrBuf : (this.thrBuf = new Array(m.throughputs.length));
    const del = this.delBuf.length === m.delaysMs.length ? this.delBuf : (this.delBuf = new Array(m.delaysMs.length));
    const scaled: AbrObservation = { ...m, throughputs: thr, delaysMs: del };
    for (let k = GRID.length - 1; k >= 0 && best < top; k--) {
      if (GRID[k] > harm) continue;
      const c = GRID[k] / harm;
      for (let j = 0; j < thr.length; j++) {
        thr[j] = m.throughputs[j] * c;
        del[j] = m.delaysMs[j] / c;
      }
      best = Math.max(best, slots[this.argmax(scaled, usable)]);
    }
    // slower than the grid's first point: the model as it is
    return best >= 0 ? best : slots[this.argmax(m, usable)];
  }
}
