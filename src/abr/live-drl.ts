/**
 * The latency-aware DRL live bitrate policy (issue 14; the paper's "Edge Intelligence for RL Adaptation":
 * the agent uses the chunk-size predictions as state, QoE as reward). Ladder-agnostic: one shared scorer
 * rates every rung from the global state and that rung's features (its bitrate, the predicted download
 * time of each of the next 5 chunks at that rung, the buffer and latency the next chunk would leave), and a
 * softmax over the rungs is the policy — so the same network plays ladders of 3 to 10 rungs.
 *
 *   input [RMAX, LIVE_GLOBAL + LIVE_RUNG] (rows past the ladder masked) -> dense 64 relu ('s1') -> dense 64
 *   relu ('s2') -> dense 1 ('score') per rung = logits; critic: the global features -> 64 -> 64 -> 1.
 *
 * Environment-agnostic: tfjs is passed in (training) or not used at all (LiveDrlPolicy runs the scorer in
 * plain JavaScript from the weights, as the worker will).
 */
import type * as TF from '@tensorflow/tfjs';
import type { DenseArrays } from './size-model.js';
import { LolpRateController, type LiveObservation, type LivePolicy, type RateController } from './live.js';

export const LIVE_RMAX = 10;
export const LIVE_GLOBAL = 14;
export const LIVE_RUNG = 14;
export const LIVE_FEATURES = LIVE_GLOBAL + LIVE_RUNG;
const H = 5;

const clamp = (x: number, a: number, b: number) => (x < a ? a : x > b ? b : x);

/** harmonic mean of the last 5 transfer throughputs, bytes/s (500 kbps before any) */
export function harmonicBps(o: LiveObservation): number {
  const n = o.throughputs.length;
  let inv = 0;
  let m = 0;
  for (let i = Math.max(0, n - 5); i < n; i++)
    if (o.throughputs[i] > 0) {
      inv += 1 / o.throughputs[i];
      m++;
    }
  return m ? (m / inv) * 1000 : 62500;
}

/**
 * Feature rows of an observation: out[r * LIVE_FEATURES ...] for r < ladder size (global features first,
 * then the rung's), zeros beyond; mask[r] = 1 for real rungs. Throws when the ladder has more than LIVE_RMAX
 * rungs.
 */
export function liveFeatures(o: LiveObservation, out: Float32Array, mask: Float32Array): void {
  const R = o.ladderKbps.length;
  if (R > LIVE_RMAX) throw new Error(`live DRL: ${R} rungs, at most ${LIVE_RMAX}`);
  out.fill(0);
  mask.fill(0);
  const T = o.targetLatencyS;
  const D = o.chunkS;
  const bw = harmonicBps(o);
  const n = o.throughputs.length;
  const last = n ? o.throughputs[n - 1] * 1000 : bw;
  let minT = Infinity;
  let maxT = 0;
  for (let i = Math.max(0, n - 5); i < n; i++) {
    minT = Math.min(minT, o.throughputs[i]);
    maxT = Math.max(maxT, o.throughputs[i]);
  }
  const kMax = o.ladderKbps[R - 1];
  const g = new Float32Array(LIVE_GLOBAL);
  let k = 0;
  g[k++] = clamp(o.bufferS / T, 0, 4);
  g[k++] = clamp(o.latencyS / T, 0, 6);
  g[k++] = clamp((o.latencyS - T) / T, -2, 5);
  g[k++] = o.playbackRate - 1;
  g[k++] = o.stalled ? 1 : 0;
  g[k++] = clamp(o.waitS / D, 0, 2);
  g[k++] = clamp(o.producedS / D, 0, 1);
  g[k++] = D / 4;
  g[k++] = Math.log((bw * 8) / 1e6 + 1e-3) / 3;
  g[k++] = clamp(Math.log(last / bw), -3, 3);
  g[k++] = n ? clamp(Math.log(maxT / Math.max(minT, 1e-6)), 0, 4) : 0;
  g[k++] = R > 1 ? o.lastQuality / (R - 1) : 0;
  g[k++] = R / 10;
  g[k++] = Math.log((kMax * 1000) / (bw * 8)) / 3;
  const parts = Math.max(1, Math.round(D / o.partS));
  const E0 = o.waitS > 0 ? o.waitS - o.partS + D : Math.max(0, D - o.producedS);
  for (let r = 0; r < R; r++) {
    const base = r * LIVE_FEATURES;
    out.set(g, base);
    let j = base + LIVE_GLOBAL;
    const kb = o.ladderKbps[r];
    out[j++] = kb / kMax;
    out[j++] = Math.log(kb / o.ladderKbps[0]) / 4;
    out[j++] = r === o.lastQuality ? 1 : 0;
    out[j++] = (kb - o.ladderKbps[o.lastQuality]) / kMax;
    let sum = 0;
    for (let h = 0; h < H; h++) {
      const dl = o.sizes[Math.min(h, o.sizes.length - 1)][r] / bw;
      sum += dl;
      out[j++] = clamp(dl / D, 0, 5);
    }
    out[j++] = clamp(sum / (H * D), 0, 5);
    // the next chunk: MPC's rebuffer estimate and the buffer / latency it leaves
    const dl0 = o.sizes[0][r] / bw;
    const rebuf = Math.max(0, o.waitS + dl0 / parts - o.bufferS, o.waitS + dl0 - o.bufferS - (D - o.partS));
    const f = Math.max(o.waitS + dl0, E0);
    out[j++] = clamp(rebuf / D, 0, 5);
    out[j++] = clamp((o.bufferS + D - (f - rebuf)) / T, 0, 4);
    out[j++] = clamp((o.latencyS + rebuf) / T, 0, 6);
    out[j++] = clamp(Math.log(o.sizes[0][r] / ((kb * 1000 * D) / 8)), -2, 2);
    mask[r] = 1;
  }
}

/**
 * The actor-critic with tfjs layers (training). Actor layers s1, s2, score; critic c1, c2, value on the LIVE_GLOBAL
 * global features plus `criticExtra` training-only inputs (an asymmetric critic: information the actor never sees,
 * e.g. the true sizes; session 10).
 */
export function buildLiveDrl(tf: typeof TF, hidden = 64, seed = 1, criticExtra = 0): { actor: TF.LayersModel; critic: TF.LayersModel } {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const inp = tf.input({ shape: [LIVE_RMAX, LIVE_FEATURES], name: 'rungs' });
  let x = tf.layers.dense({ units: hidden, activation: 'relu', name: 's1', kernelInitializer: init(1) }).apply(inp) as TF.SymbolicTensor;
  x = tf.layers.dense({ units: hidden, activation: 'relu', name: 's2', kernelInitializer: init(2) }).apply(x) as TF.SymbolicTensor;
  const score = tf.layers.dense({ units: 1, name: 'score', kernelInitializer: init(3) }).apply(x) as TF.SymbolicTensor;
  const actor = tf.model({ inputs: inp, outputs: score, name: 'live_abr_actor' });
  const gin = tf.input({ shape: [LIVE_GLOBAL + criticExtra], name: 'global' });
  let c = tf.layers.dense({ units: hidden, activation: 'relu', name: 'c1', kernelInitializer: init(4) }).apply(gin) as TF.SymbolicTensor;
  c = tf.layers.dense({ units: hidden, activation: 'relu', name: 'c2', kernelInitializer: init(5) }).apply(c) as TF.SymbolicTensor;
  const v = tf.layers.dense({ units: 1, name: 'value', kernelInitializer: init(6) }).apply(c) as TF.SymbolicTensor;
  const critic = tf.model({ inputs: gin, outputs: v, name: 'live_abr_critic' });
  return { actor, critic };
}

/**
 * The greedy DRL policy from the actor's weights (s1, s2 ReLU, score linear), in plain JavaScript. Its
 * playback rate follows LoL+'s hybrid controller, as in training.
 */
export class LiveDrlPolicy implements LivePolicy {
  readonly name: string;
  private x = new Float32Array(LIVE_RMAX * LIVE_FEATURES);
  private mask = new Float32Array(LIVE_RMAX);
  private h: Float32Array[];
  constructor(
    private layers: DenseArrays[],
    name = 'drl',
  ) {
    this.name = name;
    if (layers[0].n !== LIVE_FEATURES) throw new Error(`live DRL weights expect ${layers[0].n} features, this build has ${LIVE_FEATURES}`);
    this.h = layers.map((l) => new Float32Array(l.m));
  }
  rateController(): RateController {
    return new LolpRateController();
  }
  /** logits of every rung of the observation's ladder */
  logits(o: LiveObservation): number[] {
    liveFeatures(o, this.x, this.mask);
    const R = o.ladderKbps.length;
    const out: number[] = [];
    for (let r = 0; r < R; r++) {
      let inp: Float32Array = this.x.subarray(r * LIVE_FEATURES, (r + 1) * LIVE_FEATURES);
      for (let li = 0; li < this.layers.length; li++) {
        const { w, b, n, m } = this.layers[li];
        const y = this.h[li];
        y.set(b);
        for (let a = 0; a < n; a++) {
          const xa = inp[a];
          if (xa === 0) continue;
          const row = a * m;
          for (let j = 0; j < m; j++) y[j] += xa * w[row + j];
        }
        if (li < this.layers.length - 1) for (let j = 0; j < m; j++) if (y[j] < 0) y[j] = 0;
        inp = y;
      }
      out.push(inp[0]);
    }
    return out;
  }
  decide(o: LiveObservation): number {
    const l = this.logits(o);
    let best = 0;
    for (let q = 1; q < l.length; q++) if (l[q] > l[best]) best = q;
    return best;
  }
}

/** Dense layers of a tfjs layers model by name, as plain arrays (float32, kernel [n x m] row-major). */
export function denseArrays(model: TF.LayersModel, names: string[]): DenseArrays[] {
  return names.map((name) => {
    const [k, b] = model.getLayer(name).getWeights();
    return { w: Float32Array.from(k.dataSync()), b: Float32Array.from(b.dataSync()), n: k.shape[0], m: k.shape[1]! };
  });
}
