/**
 * The learned simulator (LTS §4.4): per CDN, a model fitted on logs of the mechanistic simulator maps the
 * recent workload history to the CDN's QoE, and the simulator runs on it instead of on capacities and the
 * ABR response. LTS uses two LSTM layers (128, 64) and a NALU layer (Trask et al. 2018) and reports RMSE
 * 0.006 against LSTM 0.012, ARMA 0.020 and linear regression 0.064 (Table 1). Ours has the same shape,
 * smaller (LSTM 16 → LSTM 8 → NALU 3 by default) for two CPU cores; `npm run train:cdn-sim` fits it and the
 * baselines and prints the RMSE table on held-out days.
 *
 * Model input (LEARN_WINDOW steps, oldest first), per step: the CDN's workload / 20,000, its joins / 500,
 * the time of day (sin, cos) and the CDN's QoE of the step before (log(1 + SLatency), log(1 + BufRatio),
 * log(1 + BufFreq)); output: the step's QoE in the same log units. The recurrent models predict the change
 * from the step before (output = its QoE + the network's output: persistence is the identity, the network
 * learns the correction). The simulator feeds its own outputs back
 * as the next step's "QoE of the step before". It knows nothing of capacities or incidents: what the logs
 * taught it is all it has (training the policy here and testing it in the mechanistic simulator is the check).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profilesOf } from './cdns.js';
import { CdnSim, type CdnQoe } from './env.js';
import type { Traffic } from './traffic.js';

export const LEARN_WINDOW = 10;
export const LEARN_FEATURES = 7;
export const LEARN_OUTPUTS = 3;
export const LEARN_WORKLOAD_SCALE = 20000;
export const LEARN_JOIN_SCALE = 500;

/** Features of one step (see the file comment); `prevQoe` in natural units. */
export function learnFeatures(workload: number, joins: number, minuteOfDay: number, prevQoe: CdnQoe, out: Float32Array, o = 0): void {
  const h = (2 * Math.PI * (((minuteOfDay % 1440) + 1440) % 1440)) / 1440;
  out[o] = workload / LEARN_WORKLOAD_SCALE;
  out[o + 1] = joins / LEARN_JOIN_SCALE;
  out[o + 2] = Math.sin(h);
  out[o + 3] = Math.cos(h);
  out[o + 4] = Math.log1p(Math.max(0, prevQoe.slatency));
  out[o + 5] = Math.log1p(Math.max(0, prevQoe.bufratio));
  out[o + 6] = Math.log1p(Math.max(0, prevQoe.buffreq));
}

export interface LstmWeights {
  units: number;
  /** [in][4·units], [units][4·units], [4·units]; gate order i, f, c, o (tfjs), sigmoid gates, tanh */
  kernel: number[];
  recurrent: number[];
  bias: number[];
}
export interface NaluWeights {
  /** [in][out] each: W = tanh(Ŵ)·σ(M̂); gate g = σ(x·G) */
  wHat: number[];
  mHat: number[];
  g: number[];
}
/** One fitted per-CDN model: 'nalu-lstm' (LTS), 'lstm' (LSTM + dense) or 'linear' (over the flattened window). */
export interface LearnedCdnModel {
  cdn: string;
  kind: 'nalu-lstm' | 'lstm' | 'linear';
  lstm?: LstmWeights[];
  nalu?: NaluWeights;
  dense?: { w: number[]; b: number[] };
  /** typical QoE (natural units), the first "step before" of a day */
  start: CdnQoe;
  /**
   * the range of each output (log(1 + metric) units, [LEARN_OUTPUTS] each) seen in the training logs; when present
   * `LearnedForward.forward` clamps every output into it, so a model fed its own outputs (the simulator) stays
   * within what the logs showed instead of diverging. Files written before it have none (no clamp).
   */
  range?: { lo: number[]; hi: number[] };
}

/**
 * Clamps `out[o]` into [range.lo[o], range.hi[o]] for every output (a non-finite value goes to the nearer bound:
 * NaN to lo). No-op without a range. Throws RangeError when the range's length is not LEARN_OUTPUTS or lo > hi.
 */
export function clampToRange(out: Float64Array, range: LearnedCdnModel['range']): Float64Array {
  if (!range) return out;
  if (range.lo.length !== LEARN_OUTPUTS || range.hi.length !== LEARN_OUTPUTS)
    throw new RangeError(`learned model range: need ${LEARN_OUTPUTS} bounds each (got ${range.lo.length}, ${range.hi.length})`);
  for (let o = 0; o < LEARN_OUTPUTS; o++) {
    const lo = range.lo[o],
      hi = range.hi[o];
    if (!(lo <= hi)) throw new RangeError(`learned model range: lo ${lo} > hi ${hi} for output ${o}`);
    const v = out[o];
    out[o] = Number.isNaN(v) ? lo : v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const NALU_EPS = 1e-7;

/** Plain-JS forward of a learned model over a window x [LEARN_WINDOW × LEARN_FEATURES] → 3 outputs (log units). */
export class LearnedForward {
  private hs: Float64Array[];
  private cs: Float64Array[];
  private z: Float64Array;
  private seq: Float64Array[];
  /** every layer's (h, c) after the window's second-to-last step, for `forward(x, out, true)` */
  private savedH: Float64Array[];
  private savedC: Float64Array[];
  constructor(readonly model: LearnedCdnModel) {
    const units = (model.lstm ?? []).map((l) => l.units);
    this.hs = units.map((u) => new Float64Array(u));
    this.cs = units.map((u) => new Float64Array(u));
    this.savedH = units.map((u) => new Float64Array(u));
    this.savedC = units.map((u) => new Float64Array(u));
    this.z = new Float64Array(4 * Math.max(1, ...units));
    this.seq = units.map((u) => new Float64Array(LEARN_WINDOW * u));
  }

  /**
   * run the LSTM layers over the window; returns the last layer's final output. With `reuse`, the window's
   * first LEARN_WINDOW − 1 steps are taken to be those of the previous call (only the last step is run).
   */
  private lstmStack(x: Float32Array, reuse: boolean): Float64Array {
    const layers = this.model.lstm!;
    let input: ArrayLike<number> = x;
    let inDim = LEARN_FEATURES;
    for (let li = 0; li < layers.length; li++) {
      const L = layers[li];
      const u = L.units;
      const h = this.hs[li],
        c = this.cs[li],
        z = this.z,
        seq = this.seq[li];
      if (reuse) {
        h.set(this.savedH[li]);
        c.set(this.savedC[li]);
      } else {
        h.fill(0);
        c.fill(0);
      }
      for (let t = reuse ? LEARN_WINDOW - 1 : 0; t < LEARN_WINDOW; t++) {
        if (t === LEARN_WINDOW - 1 && !reuse) {
          this.savedH[li].set(h);
          this.savedC[li].set(c);
        }
        for (let j = 0; j < 4 * u; j++) z[j] = L.bias[j];
        for (let a = 0; a < inDim; a++) {
          const v = input[t * inDim + a];
          if (v === 0) continue;
          const r = a * 4 * u;
          for (let j = 0; j < 4 * u; j++) z[j] += v * L.kernel[r + j];
        }
        for (let a = 0; a < u; a++) {
          const v = h[a];
          if (v === 0) continue;
          const r = a * 4 * u;
          for (let j = 0; j < 4 * u; j++) z[j] += v * L.recurrent[r + j];
        }
        for (let j = 0; j < u; j++) {
          const ig = sigmoid(z[j]),
            fg = sigmoid(z[u + j]),
            cg = Math.tanh(z[2 * u + j]),
            og = sigmoid(z[3 * u + j]);
          c[j] = fg * c[j] + ig * cg;
          h[j] = og * Math.tanh(c[j]);
          seq[t * u + j] = h[j];
        }
      }
      input = seq;
      inDim = u;
    }
    return this.hs[layers.length - 1];
  }

  /**
   * outputs for window x (log(1 + metric) units, clamped to the model's `range` when it has one); `reuse`: x
   * differs from the previous call's only in its last step
   */
  forward(x: Float32Array, out = new Float64Array(LEARN_OUTPUTS), reuse = false): Float64Array {
    return clampToRange(this.raw(x, out, reuse), this.model.range);
  }

  private raw(x: Float32Array, out: Float64Array, reuse: boolean): Float64Array {
    const md = this.model;
    if (md.kind === 'linear') {
      const { w, b } = md.dense!;
      for (let o = 0; o < LEARN_OUTPUTS; o++) out[o] = b[o];
      for (let a = 0; a < x.length; a++) for (let o = 0; o < LEARN_OUTPUTS; o++) out[o] += x[a] * w[a * LEARN_OUTPUTS + o];
      return out;
    }
    const h = this.lstmStack(x, reuse);
    const n = h.length;
    // residual: the last step's "QoE of the step before" (features 4..6)
    const prev = (LEARN_WINDOW - 1) * LEARN_FEATURES + 4;
    if (md.kind === 'lstm') {
      const { w, b } = md.dense!;
      for (let o = 0; o < LEARN_OUTPUTS; o++) {
        let s = b[o];
        for (let a = 0; a < n; a++) s += h[a] * w[a * LEARN_OUTPUTS + o];
        out[o] = x[prev + o] + s;
      }
      return out;
    }
    const { wHat, mHat, g } = md.nalu!;
    for (let o = 0; o < LEARN_OUTPUTS; o++) {
      let add = 0,
        mul = 0,
        gate = 0;
      for (let a = 0; a < n; a++) {
        const k = a * LEARN_OUTPUTS + o;
        const W = Math.tanh(wHat[k]) * sigmoid(mHat[k]);
        add += h[a] * W;
        mul += Math.log(Math.abs(h[a]) + NALU_EPS) * W;
        gate += h[a] * g[k];
      }
      const gg = sigmoid(gate);
      out[o] = x[prev + o] + gg * add + (1 - gg) * Math.exp(Math.min(mul, 30));
    }
    return out;
  }
}

/** Per-CDN models of a directory written by `npm run train:cdn-sim` (models/cdn-sim/<kind>.json). */
export function loadLearnedModels(dir: string, kind: LearnedCdnModel['kind'] = 'nalu-lstm'): Map<string, LearnedCdnModel> {
  const f = join(dir, `${kind}.json`);
  if (!existsSync(f)) throw new Error(`learned simulator: ${f} not found (run npm run train:cdn-sim)`);
  const j = JSON.parse(readFileSync(f, 'utf8')) as { models: LearnedCdnModel[] };
  return new Map(j.models.map((m) => [m.cdn, m]));
}

export class LearnedSim extends CdnSim {
  readonly kind = 'learned' as const;
  private fwd: LearnedForward[];
  /** per CDN: the features of the last LEARN_WINDOW − 1 steps (ring, oldest first) */
  private hist: Float32Array[];
  private prev: CdnQoe[] = [];
  private x = new Float32Array(LEARN_WINDOW * LEARN_FEATURES);
  private y = new Float64Array(LEARN_OUTPUTS);
  /** the forward of CDN i holds the state of its current history's first steps (peeks reuse it) */
  private prefixOk: boolean[] = [];

  /** Throws when a CDN of `set` has no model. */
  constructor(traffic: Traffic, set: string, models: Map<string, LearnedCdnModel>, seed = 1) {
    super(traffic, profilesOf(set), seed);
    this.fwd = this.cdns.map((id) => {
      const md = models.get(id);
      if (!md) throw new Error(`learned simulator: no model for CDN ${id}`);
      return new LearnedForward(md);
    });
    this.hist = this.cdns.map(() => new Float32Array((LEARN_WINDOW - 1) * LEARN_FEATURES));
  }

  protected resetState(): void {
    this.prefixOk = this.cdns.map(() => false);
    this.prev = this.fwd.map((f) => ({ ...f.model.start }));
    this.hist.forEach((h, i) => {
      for (let t = 0; t < LEARN_WINDOW - 1; t++) learnFeatures(this.carried[i], 0, -LEARN_WINDOW, this.prev[i], h, t * LEARN_FEATURES);
    });
  }

  protected evaluate(i: number, joins: number, minute: number): CdnQoe {
    const x = this.x;
    x.set(this.hist[i]);
    learnFeatures(this.carried[i] + joins, joins, minute, this.prev[i], x, (LEARN_WINDOW - 1) * LEARN_FEATURES);
    const y = this.fwd[i].forward(x, this.y, this.prefixOk[i]);
    this.prefixOk[i] = true;
    return { slatency: Math.expm1(Math.max(0, y[0])), bufratio: Math.expm1(Math.max(0, y[1])), buffreq: Math.expm1(Math.max(0, y[2])) };
  }

  /** CDN i's feature history and last QoE (copies) */
  protected saveCdn(i: number): unknown {
    return { hist: this.hist[i].slice(), prev: { ...this.prev[i] } };
  }
  protected loadCdn(i: number, s: unknown): void {
    const v = s as { hist: Float32Array; prev: CdnQoe };
    this.hist[i].set(v.hist);
    this.prev[i] = { ...v.prev };
    this.prefixOk[i] = false;
  }

  protected commit(i: number, joins: number, minute: number): void {
    const q = this.evaluate(i, joins, minute);
    this.prefixOk[i] = false;
    const h = this.hist[i];
    h.copyWithin(0, LEARN_FEATURES);
    learnFeatures(this.carried[i] + joins, joins, minute, this.prev[i], h, (LEARN_WINDOW - 2) * LEARN_FEATURES);
    this.prev[i] = q;
  }
}
