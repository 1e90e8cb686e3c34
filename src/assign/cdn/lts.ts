/**
 * The LTS actor-critic network (../shared/papers/lts-multi-cdn-drl.txt §5.1) and its plain-JS forward pass
 * (no tfjs at serving time: the controller calls it once a minute; a step for 3 CDNs takes ~0.25 ms of CPU).
 *
 * Input per CDN: the last k = 20 steps (oldest first) of CDN_CHANNELS channels: workload / workloadScale,
 * log(1 + SLatency), log(1 + BufRatio), log(1 + BufFreq) and the CDN's share (mdp.ts states why the shares).
 * Actor: one convolution over time with 64 filters of size 4, stride 1, ReLU, the same filters for every
 * CDN (the paper's per-CDN convolution; shared weights so every CDN's history is read alike); the m × 17 × 64
 * outputs are concatenated into a 64-unit hidden layer (ReLU) and a softmax over the 3m + 1 actions. The
 * critic has the same structure with one linear output (§5.1).
 *
 * Weights layout (row-major, as tfjs stores them): conv [kernel][channels][filters], dense [in][out]; the
 * flattened convolution output is ordered (cdn, position, filter).
 *
 * Optional inputs beside the paper's state (`LtsInputs`, recorded in the model file; absent = the paper's state):
 * `timeOfDay: n` appends 2n features, sin and cos of 2π·h·minute/1440 for h = 1..n, of the minute of the day the
 * decision is for (`CdnStepObservation.minuteOfDay`), after the per-CDN history; they enter the hidden layer
 * directly (extra rows of the dense layer's weights, after the convolution's outputs), so a network of the paper's
 * shape embeds function-preservingly with zero rows (src/train/cdn-net.ts `widenInputs`).
 */
import type { CdnSharePolicy, CdnStepObservation } from './index.js';
import { actionCount, applyAction, fromPoints, K_STEPS, lastScores, toPoints } from './mdp.js';

export const CDN_CHANNELS = 5;
export const CONV_FILTERS = 64;
export const CONV_KERNEL = 4;
export const HIDDEN = 64;
/** minutes in a day (the period of the time-of-day input) */
const DAY_MINUTES = 1440;
/** most time-of-day harmonics a model may ask for */
export const MAX_TOD_HARMONICS = 4;

/**
 * What the network reads beside the paper's per-CDN history (§4.1). Recorded in the model file (`inputs`); a
 * file without it is the paper's state.
 */
export interface LtsInputs {
  /**
   * harmonics of the time of day: 2·timeOfDay extra features sin(2π·h·t/1440), cos(2π·h·t/1440), h = 1..timeOfDay,
   * t = the minute of the day of the step decided for (0: none, the paper's state)
   */
  timeOfDay: number;
}
/** the paper's state: no input beside the per-CDN history */
export const PAPER_INPUTS: LtsInputs = Object.freeze({ timeOfDay: 0 });

/**
 * Validate a model file's `inputs` (undefined → the paper's state). @throws Error naming what is wrong: an unknown
 * input (a model needing something this code cannot give it) or a harmonics count outside 0..MAX_TOD_HARMONICS.
 */
export function checkInputs(inputs: unknown): LtsInputs {
  if (inputs === undefined || inputs === null) return PAPER_INPUTS;
  if (typeof inputs !== 'object' || Array.isArray(inputs))
    throw new Error(`LTS inputs: must be an object like {"timeOfDay": 1}, got ${JSON.stringify(inputs)}`);
  for (const key of Object.keys(inputs))
    if (key !== 'timeOfDay')
      throw new Error(`LTS inputs: the model needs the input '${key}', which this code does not provide (known: timeOfDay)`);
  const n = (inputs as { timeOfDay?: unknown }).timeOfDay ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_TOD_HARMONICS)
    throw new Error(`LTS inputs: timeOfDay must be an integer in 0..${MAX_TOD_HARMONICS} (harmonics), got ${JSON.stringify(n)}`);
  return { timeOfDay: n };
}
/** how many features `inputs` add after the per-CDN history (2 per time-of-day harmonic) */
export function extraInputs(inputs: LtsInputs = PAPER_INPUTS): number {
  return 2 * inputs.timeOfDay;
}
/** width of an encoded observation: m · k · CDN_CHANNELS history values, then the extra inputs */
export function inputWidth(m: number, k: number, inputs: LtsInputs = PAPER_INPUTS): number {
  return m * k * CDN_CHANNELS + extraInputs(inputs);
}
/** a readable name of the inputs, for errors and logs ("history" or "history+time-of-day(1)") */
export function inputsName(inputs: LtsInputs = PAPER_INPUTS): string {
  return inputs.timeOfDay > 0 ? `history+time-of-day(${inputs.timeOfDay})` : 'history';
}

/**
 * The time-of-day features of minute `minute` (of the day; any real, taken modulo 1440) into out[offset..]:
 * sin, cos of 2π·h·minute/1440 for h = 1..harmonics. @throws Error when the minute is not finite.
 */
export function timeOfDayFeatures(minute: number, harmonics: number, out: Float32Array, offset = 0): void {
  if (!Number.isFinite(minute)) throw new Error(`time of day: the minute must be finite, got ${minute}`);
  const ph = (2 * Math.PI * (((minute % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES)) / DAY_MINUTES;
  for (let h = 1; h <= harmonics; h++) {
    out[offset + 2 * (h - 1)] = Math.sin(h * ph);
    out[offset + 2 * (h - 1) + 1] = Math.cos(h * ph);
  }
}

/** One network's weights (plain arrays, as stored in models/cdn-lts/*.json). */
export interface NetWeights {
  convW: ArrayLike<number>;
  convB: ArrayLike<number>;
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}
/**
 * Weights travel as bfloat16 (the upper half of each float32, rounded to nearest even): the actor has
 * ~211k weights for 3 CDNs, 0.4 MB this way. Order: convW, convB, w1, b1, w2, b2.
 */
export function encodeBf16(w: NetWeights): Uint8Array {
  const parts = [w.convW, w.convB, w.w1, w.b1, w.w2, w.b2];
  const n = parts.reduce((a, p) => a + p.length, 0);
  const f = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    f.set(Array.from(p), o);
    o += p.length;
  }
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}
/**
 * Decode encodeBf16's bytes for m CDNs, k steps, `outputs` outputs and `extra` inputs beside the history
 * (extraInputs); throws when the length does not match.
 */
export function decodeBf16(bytes: Uint8Array, m: number, k: number, outputs: number, extra = 0): NetWeights {
  const P = k - CONV_KERNEL + 1;
  const sizes = [
    CONV_KERNEL * CDN_CHANNELS * CONV_FILTERS,
    CONV_FILTERS,
    (m * P * CONV_FILTERS + extra) * HIDDEN,
    HIDDEN,
    HIDDEN * outputs,
    outputs,
  ];
  const n = sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== 2 * n)
    throw new Error(`decodeBf16: ${bytes.byteLength} bytes, expected ${2 * n} (m ${m}, k ${k}, ${extra} inputs beside the history)`);
  const h = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = h[i] << 16;
  const f = new Float32Array(u.buffer);
  const parts: Float32Array[] = [];
  let o = 0;
  for (const s of sizes) {
    parts.push(f.slice(o, o + s));
    o += s;
  }
  return { convW: parts[0], convB: parts[1], w1: parts[2], b1: parts[3], w2: parts[4], b2: parts[5] };
}

/** A trained LTS policy (models/cdn-lts/<sim>-<set>.json holds all but `actor`, which is the .bin beside it). */
export interface LtsModel {
  format: 'edgeplay-cdn-lts/1';
  cdns: string[];
  k: number;
  /** workload divisor of the first input channel (viewers) */
  workloadScale: number;
  /** inputs beside the per-CDN history (absent: the paper's state) */
  inputs?: LtsInputs;
  actor: NetWeights;
  meta?: Record<string, unknown>;
}

/**
 * Encode an observation into x[cdn][step][channel] (m·k·CDN_CHANNELS values), followed by the extra inputs of
 * `inputs` (inputWidth values in all; with timeOfDay, timeOfDayFeatures of `obs.minuteOfDay`). Throws when the
 * observation has fewer than k steps per CDN, the buffer another width, or the inputs need the time of day and
 * the observation has no `minuteOfDay`.
 */
export function encodeObservation(
  obs: CdnStepObservation,
  workloadScale: number,
  k = K_STEPS,
  out?: Float32Array,
  inputs: LtsInputs = PAPER_INPUTS,
): Float32Array {
  const m = obs.cdns.length;
  const width = inputWidth(m, k, inputs);
  const x = out ?? new Float32Array(width);
  if (x.length !== width)
    throw new Error(`encodeObservation: buffer of ${x.length} for ${m} CDNs × ${k} steps and inputs ${inputsName(inputs)} (${width})`);
  if (inputs.timeOfDay > 0) {
    if (obs.minuteOfDay === undefined || !Number.isFinite(obs.minuteOfDay))
      throw new Error(
        `encodeObservation: the model reads the time of day (inputs ${inputsName(inputs)}), the observation has no minuteOfDay`,
      );
    timeOfDayFeatures(obs.minuteOfDay, inputs.timeOfDay, x, m * k * CDN_CHANNELS);
  }
  for (let i = 0; i < m; i++) {
    const n = obs.workload[i].length;
    if (n < k) throw new Error(`encodeObservation: ${n} steps of history, the policy needs ${k}`);
    for (let t = 0; t < k; t++) {
      const s = n - k + t;
      const o = (i * k + t) * CDN_CHANNELS;
      x[o] = obs.workload[i][s] / workloadScale;
      x[o + 1] = Math.log1p(Math.max(0, obs.slatency[i][s]));
      x[o + 2] = Math.log1p(Math.max(0, obs.bufratio[i][s]));
      x[o + 3] = Math.log1p(Math.max(0, obs.buffreq[i][s]));
      x[o + 4] = obs.shareHistory[i][s];
    }
  }
  return x;
}

/** hidden units summed per pass of the dense layer (8 accumulators in registers; HIDDEN is a multiple) */
const DENSE_LANES = 8;
/** filters computed per pass of the convolution (the window's inputs loaded once for 4 filters; CONV_FILTERS is a multiple) */
const CONV_LANES = 4;

/**
 * The forward pass of one network (actor: logits of the 3m + 1 actions; critic: [value]) in plain JS, the same
 * function as the tfjs twin (src/train/cdn-net.ts) within float32 rounding (test/node/cdn.spec.ts: < 1e-5 on the
 * served model). Weights are read once into float32 arrays laid out for the loops: the convolution filter-major
 * ([filter][kernel·channel]), four filters per pass over a window; the dense layer in blocks of 8 hidden units
 * ([block][input][8]), summed over the convolution's non-zero outputs only (after ReLU about half are 0) with 8
 * accumulators in registers. Sums are float64. About 0.23 ms of CPU time for 3 CDNs (~170k multiply-adds;
 * BENCHMARKS.md, "Multi-CDN scheduling").
 */
export class LtsNet {
  readonly m: number;
  readonly k: number;
  readonly positions: number;
  readonly outputs: number;
  /** inputs beside the history (the last `extra` values of x), read by the dense layer directly */
  readonly extra: number;
  private convT: Float32Array;
  private convB: Float32Array;
  /** w1 in blocks: w1b[(block · inputs + a) · 8 + t] = w1[a][block · 8 + t] */
  private w1b: Float32Array;
  private b1: Float64Array;
  private w2: Float32Array;
  private b2: Float64Array;
  /** the non-zero convolution outputs of a forward: their input index × 8, and values */
  private activeAt: Int32Array;
  private activeV: Float64Array;
  private h1: Float64Array;
  private out: Float32Array;

  /** Throws when the weights' sizes do not fit m CDNs, k steps, `outputs` and `extra` inputs beside the history. */
  constructor(w: NetWeights, m: number, k: number, outputs: number, extra = 0) {
    this.m = m;
    this.k = k;
    this.positions = k - CONV_KERNEL + 1;
    this.outputs = outputs;
    if (!Number.isInteger(extra) || extra < 0) throw new Error(`LtsNet: extra inputs must be a non-negative integer, got ${extra}`);
    this.extra = extra;
    const flat = m * this.positions * CONV_FILTERS + extra;
    const W = CONV_KERNEL * CDN_CHANNELS;
    const want: Array<[keyof NetWeights, number]> = [
      ['convW', W * CONV_FILTERS],
      ['convB', CONV_FILTERS],
      ['w1', flat * HIDDEN],
      ['b1', HIDDEN],
      ['w2', HIDDEN * outputs],
      ['b2', outputs],
    ];
    for (const [key, n] of want)
      if (w[key].length !== n)
        throw new Error(`LtsNet: ${key} has ${w[key].length} weights, expected ${n} (m ${m}, k ${k}, ${extra} inputs beside the history)`);
    this.convT = new Float32Array(W * CONV_FILTERS);
    for (let j = 0; j < W; j++) for (let f = 0; f < CONV_FILTERS; f++) this.convT[f * W + j] = w.convW[j * CONV_FILTERS + f];
    this.convB = Float32Array.from(w.convB);
    this.w1b = new Float32Array(flat * HIDDEN);
    for (let c = 0; c < HIDDEN / DENSE_LANES; c++)
      for (let a = 0; a < flat; a++)
        for (let t = 0; t < DENSE_LANES; t++) this.w1b[(c * flat + a) * DENSE_LANES + t] = w.w1[a * HIDDEN + c * DENSE_LANES + t];
    this.b1 = Float64Array.from(w.b1);
    this.w2 = Float32Array.from(w.w2);
    this.b2 = Float64Array.from(w.b2);
    this.activeAt = new Int32Array(flat);
    this.activeV = new Float64Array(flat);
    this.h1 = new Float64Array(HIDDEN);
    this.out = new Float32Array(outputs);
  }

  /** outputs for x[cdn][step][channel] (the returned array is reused by the next call) */
  forward(x: ArrayLike<number>): Float32Array {
    const { m, k, positions: P, convT, convB, w1b, b1, w2, activeAt, activeV, h1 } = this;
    const F = CONV_FILTERS,
      C = CDN_CHANNELS,
      W = CONV_KERNEL * CDN_CHANNELS,
      H = HIDDEN,
      L = DENSE_LANES,
      A = this.outputs,
      E = this.extra,
      N = m * P * F + E;
    // convolution + ReLU; the window of position p is x[p..p+3][channels]: W contiguous values
    let n = 0;
    for (let i = 0; i < m; i++)
      for (let p = 0; p < P; p++) {
        const xo = (i * k + p) * C;
        const o = (i * P + p) * F;
        for (let f = 0; f < F; f += CONV_LANES) {
          let s0 = convB[f],
            s1 = convB[f + 1],
            s2 = convB[f + 2],
            s3 = convB[f + 3];
          const w0 = f * W;
          for (let j = 0; j < W; j++) {
            const v = x[xo + j];
            s0 += v * convT[w0 + j];
            s1 += v * convT[w0 + W + j];
            s2 += v * convT[w0 + 2 * W + j];
            s3 += v * convT[w0 + 3 * W + j];
          }
          if (s0 > 0) ((activeAt[n] = (o + f) * L), (activeV[n++] = s0));
          if (s1 > 0) ((activeAt[n] = (o + f + 1) * L), (activeV[n++] = s1));
          if (s2 > 0) ((activeAt[n] = (o + f + 2) * L), (activeV[n++] = s2));
          if (s3 > 0) ((activeAt[n] = (o + f + 3) * L), (activeV[n++] = s3));
        }
      }
    // the extra inputs (no ReLU: they enter the dense layer as they are)
    for (let e = 0, xo = m * k * C; e < E; e++) {
      const v = x[xo + e];
      if (v !== 0) ((activeAt[n] = (N - E + e) * L), (activeV[n++] = v));
    }
    // dense + ReLU over the non-zero inputs, 8 hidden units per pass
    for (let j0 = 0; j0 < H; j0 += L) {
      const base = j0 * N;
      let s0 = b1[j0],
        s1 = b1[j0 + 1],
        s2 = b1[j0 + 2],
        s3 = b1[j0 + 3],
        s4 = b1[j0 + 4],
        s5 = b1[j0 + 5],
        s6 = b1[j0 + 6],
        s7 = b1[j0 + 7];
      for (let q = 0; q < n; q++) {
        const v = activeV[q];
        const r = base + activeAt[q];
        s0 += v * w1b[r];
        s1 += v * w1b[r + 1];
        s2 += v * w1b[r + 2];
        s3 += v * w1b[r + 3];
        s4 += v * w1b[r + 4];
        s5 += v * w1b[r + 5];
        s6 += v * w1b[r + 6];
        s7 += v * w1b[r + 7];
      }
      h1[j0] = s0;
      h1[j0 + 1] = s1;
      h1[j0 + 2] = s2;
      h1[j0 + 3] = s3;
      h1[j0 + 4] = s4;
      h1[j0 + 5] = s5;
      h1[j0 + 6] = s6;
      h1[j0 + 7] = s7;
    }
    const out = this.out;
    for (let a = 0; a < A; a++) out[a] = this.b2[a];
    for (let j = 0; j < H; j++) {
      const v = h1[j];
      if (v <= 0) continue;
      const r = j * A;
      for (let a = 0; a < A; a++) out[a] += v * w2[r + a];
    }
    return out;
  }
}

/** softmax of logits into `out` (numerically stable) */
export function softmax(logits: ArrayLike<number>, out = new Float64Array(logits.length)): Float64Array {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; i++) mx = Math.max(mx, logits[i]);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += out[i] = Math.exp(logits[i] - mx);
  for (let i = 0; i < logits.length; i++) out[i] /= z;
  return out;
}

/**
 * LTS as a share policy: encode the observation, run the actor, take the most likely action (or sample it
 * with `rng`), apply it to the shares in force (mdp.ts). Throws when the observation's CDNs are not the
 * model's (same ids, same order).
 */
export class LtsPolicy implements CdnSharePolicy {
  readonly name: string;
  readonly actor: LtsNet;
  /** what the network reads (model.inputs, checked) */
  readonly inputs: LtsInputs;
  private x: Float32Array;
  /** the last decision's action (for logs and distillation) */
  lastAction = -1;

  constructor(
    readonly model: LtsModel,
    private opts: { rng?: () => number; name?: string } = {},
  ) {
    if (model.format !== 'edgeplay-cdn-lts/1') throw new Error(`LtsPolicy: unknown model format ${String(model.format)}`);
    const m = model.cdns.length;
    this.inputs = checkInputs(model.inputs);
    this.actor = new LtsNet(model.actor, m, model.k, actionCount(m), extraInputs(this.inputs));
    this.x = new Float32Array(inputWidth(m, model.k, this.inputs));
    this.name = opts.name ?? 'lts';
  }

  /** the action for an observation (argmax, or sampled with the rng) */
  act(obs: CdnStepObservation): number {
    const ids = this.model.cdns;
    if (obs.cdns.length !== ids.length || obs.cdns.some((c, i) => c !== ids[i]))
      throw new Error(`LtsPolicy: trained for CDNs ${ids.join(',')}, observed ${obs.cdns.join(',')}`);
    encodeObservation(obs, this.model.workloadScale, this.model.k, this.x, this.inputs);
    const logits = this.actor.forward(this.x);
    let a = 0;
    if (this.opts.rng) {
      const p = softmax(logits);
      let u = this.opts.rng();
      for (a = 0; a < p.length - 1; a++) if ((u -= p[a]) <= 0) break;
    } else for (let i = 1; i < logits.length; i++) if (logits[i] > logits[a]) a = i;
    return (this.lastAction = a);
  }

  step(obs: CdnStepObservation): number[] {
    const a = this.act(obs);
    return fromPoints(applyAction(toPoints(obs.shares), a, lastScores(obs)));
  }
}

/** The manifest of a saved policy (models/cdn-lts/<sim>-<set>.json); the actor's weights are in the .bin beside it. */
export interface LtsManifest {
  format: 'edgeplay-cdn-lts/1';
  cdns: string[];
  k: number;
  workloadScale: number;
  /** file name of the actor's bfloat16 weights (encodeBf16), relative to the manifest */
  weights: string;
  /** inputs beside the per-CDN history the network reads (absent: the paper's state; checkInputs) */
  inputs?: LtsInputs;
  meta?: Record<string, unknown>;
}
/**
 * Build a model from its manifest and weight bytes; throws with what is wrong — among others an input the
 * manifest asks for that this code does not know (checkInputs), or weights whose width does not fit the inputs
 * the manifest records (a network trained with other inputs than its file says).
 */
export function ltsModelFromFiles(manifest: LtsManifest, bin: Uint8Array): LtsModel {
  if (manifest?.format !== 'edgeplay-cdn-lts/1') throw new Error(`LTS manifest: unknown format ${String(manifest?.format)}`);
  if (!Array.isArray(manifest.cdns) || manifest.cdns.length < 2) throw new Error('LTS manifest: needs at least two CDN ids');
  if (!(manifest.workloadScale > 0)) throw new Error('LTS manifest: workloadScale must be > 0');
  const m = manifest.cdns.length;
  const inputs = checkInputs(manifest.inputs);
  let actor: NetWeights;
  try {
    actor = decodeBf16(bin, m, manifest.k, actionCount(m), extraInputs(inputs));
  } catch (e) {
    throw new Error(
      `LTS manifest: the weights (${manifest.weights}) do not fit the inputs the manifest records (${inputsName(inputs)}): ${(e as Error).message}`,
    );
  }
  return {
    format: manifest.format,
    cdns: manifest.cdns,
    k: manifest.k,
    workloadScale: manifest.workloadScale,
    ...(inputs.timeOfDay > 0 ? { inputs } : {}),
    actor,
    meta: manifest.meta,
  };
}
