/**
 * The learned live chunk-size forecaster (issue 14; the paper's "Chunk Size Prediction with Meta
 * Learning"): a small network on the stream's own past — sizes at every rung, the coding meta of past
 * chunks when published, the rung ladder — predicts the next 1..5 chunks' sizes at every rung, and a
 * meta-learned head adapts to each stream with a few gradient steps on the stream's own finished chunks.
 *
 * Network (one row per rung, weights shared across rungs, so any ladder size works):
 *   features(rung) [SIZE_FEATURES] -> dense 64 relu ('h1') -> dense 64 relu ('h2') = phi -> dense 5 ('head')
 *   output[h] = log(size[i+h] / size[i-1]) for h = 0..4, i.e. a log ratio to the rung's last size.
 *
 * Meta-learning: ANIL / Meta-SGD on the head (Raghu et al. 2020, "Rapid learning or feature reuse?"; Li et
 * al. 2017, Meta-SGD). Per stream, the head (W, b) takes `steps` gradient steps with learned per-parameter
 * step sizes (alphaW, alphaB) on the last `window` origins of this stream whose targets are already known
 * (support set) — on the squared log error or on the APE itself (`innerLoss`) — then predicts. Because the head is linear in phi, the inner
 * gradient is closed-form (phi^T (phi W + b - y) / n) and MAML's second-order outer gradient is exact and
 * cheap in training (no nested autodiff), while the adaptation in the worker costs a few thousand
 * multiply-adds per chunk. Why not the alternatives: full-network MAML/Reptile would have to back-propagate
 * through the MLP in the worker on every chunk; a closed-form ridge head needs a differentiable linear
 * solve, which tfjs lacks (and a learned step size per parameter already plays the ridge prior's role).
 *
 * Pure TypeScript (no tfjs): weights come as plain arrays (`sizeNetFromModel` in train/ converts a tfjs
 * model); `buildSizeNet` defines the same network with tfjs layers for training.
 */
import type * as TF from '@tensorflow/tfjs';
import { RungHistory, nominalBytes, type ChunkMeta, type SizeForecaster, type StreamInfo } from './size-forecast.js';

export const SIZE_HORIZONS = 5;
/** lags 2..LAGS+1 of the rung's own log size and of the cross-rung mean (lag 1 is the anchor) */
export const LAGS = 10;
const META_CHUNKS = 3;
const META_PER_CHUNK = 6;
export const SIZE_FEATURES = 2 * LAGS + LAGS + 4 + 2 + 6 + 2 + 1 + META_CHUNKS * META_PER_CHUNK;
/** log-ratio targets are clipped to this range (a 20x jump) */
export const LOG_CLIP = 3;

const clip = (x: number, a = LOG_CLIP) => (x > a ? a : x < -a ? -a : x);
const lg = Math.log;

/**
 * The feature row of rung `r` at origin i = h.length (chunks 0..i-1 known), written into out[off..].
 * Requires i >= 1. Shapes: SIZE_FEATURES floats; layout in the comments below.
 */
export function sizeFeatures(h: RungHistory, r: number, out: Float32Array, off = 0): void {
  const i = h.length;
  if (i < 1) throw new Error('sizeFeatures: no chunk observed yet');
  const R = h.rungs;
  const s = h.sizes[r];
  const a = lg(s[i - 1]);
  let k = off;
  // own lags 2..LAGS+1 relative to the last size, and their presence
  for (let l = 2; l <= LAGS + 1; l++) out[k++] = i - l >= 0 ? clip(lg(s[i - l]) - a) : 0;
  for (let l = 2; l <= LAGS + 1; l++) out[k++] = i - l >= 0 ? 1 : 0;
  // cross-rung mean of the same lags (content complexity seen by every rung)
  for (let l = 2; l <= LAGS + 1; l++) {
    if (i - l < 0) {
      out[k++] = 0;
      continue;
    }
    let acc = 0;
    for (let q = 0; q < R; q++) acc += lg(h.sizes[q][i - l]) - lg(h.sizes[q][i - 1]);
    out[k++] = clip(acc / R);
  }
  // anchors relative to the last size: EWMA 0.3, EWMA 0.6 (over the last 40 chunks), mean of all, mean of 5
  const from = Math.max(0, i - 40);
  let e3 = s[from];
  let e6 = s[from];
  for (let j = from + 1; j < i; j++) {
    e3 = 0.3 * s[j] + 0.7 * e3;
    e6 = 0.6 * s[j] + 0.4 * e6;
  }
  let m5 = 0;
  const f5 = Math.max(0, i - 5);
  for (let j = f5; j < i; j++) m5 += s[j];
  m5 /= i - f5;
  out[k++] = clip(lg(e3) - a);
  out[k++] = clip(lg(e6) - a);
  out[k++] = clip(lg(h.sums[r] / i) - a);
  out[k++] = clip(lg(m5) - a);
  // volatility: mean |diff of log size| over the last 10, stdev of log size over the last 20
  let md = 0;
  let nd = 0;
  for (let j = Math.max(1, i - 10); j < i; j++) {
    md += Math.abs(lg(s[j]) - lg(s[j - 1]));
    nd++;
  }
  out[k++] = nd ? Math.min(md / nd, 2) : 0;
  let mu = 0;
  const f20 = Math.max(0, i - 20);
  for (let j = f20; j < i; j++) mu += lg(s[j]);
  mu /= i - f20;
  let v = 0;
  for (let j = f20; j < i; j++) v += (lg(s[j]) - mu) ** 2;
  out[k++] = Math.min(Math.sqrt(v / (i - f20)), 2);
  // the rung in its ladder and the stream
  const ladder = h.info.ladderKbps;
  out[k++] = R > 1 ? r / (R - 1) : 0;
  out[k++] = lg(ladder[r] / ladder[0]) / 5;
  out[k++] = clip(lg(nominalBytes(ladder[r], h.info.chunkS)) - a);
  out[k++] = lg(h.info.chunkS);
  out[k++] = lg(1 + i) / 5;
  out[k++] = R / 10;
  // the neighbouring rungs' last sizes relative to this one, beyond the nominal ratio
  out[k++] = r + 1 < R ? clip(lg(h.sizes[r + 1][i - 1]) - a - lg(ladder[r + 1] / ladder[r])) : 0;
  out[k++] = r > 0 ? clip(lg(h.sizes[r - 1][i - 1]) - a - lg(ladder[r - 1] / ladder[r])) : 0;
  // coding meta of the last chunks at this rung, when published
  const metaRow = h.meta[r];
  out[k++] = metaRow[i - 1] ? 1 : 0;
  for (let l = 1; l <= META_CHUNKS; l++) {
    const m: ChunkMeta | null = i - l >= 0 ? metaRow[i - l] : null;
    if (!m) {
      for (let z = 0; z < META_PER_CHUNK; z++) out[k++] = 0;
      continue;
    }
    const es = Math.max(1, m.iBytes + m.pBytes + m.bBytes);
    out[k++] = m.qpMean / 51;
    out[k++] = m.iBytes / es;
    out[k++] = m.bBytes / es;
    out[k++] = Math.min(Math.max(m.iCount - 1, 0), 4) / 2;
    out[k++] = clip(lg(Math.max(1, 2 * m.tailBytes) / es));
    out[k++] = m.scene;
  }
  if (k - off !== SIZE_FEATURES) throw new Error(`sizeFeatures wrote ${k - off} of ${SIZE_FEATURES}`);
}

/** Targets of rung r at origin i (needs chunks up to i+h known): y[h] = log(s[i+h]/s[i-1]) clipped, or NaN. */
export function sizeTargets(sizes: readonly number[][], r: number, i: number, out: Float32Array, off = 0): void {
  const a = lg(sizes[i - 1][r]);
  for (let h = 0; h < SIZE_HORIZONS; h++) out[off + h] = i + h < sizes.length ? clip(lg(sizes[i + h][r]) - a) : NaN;
}

/** One dense layer, row-major kernel [n x m]. */
export interface DenseArrays {
  w: Float32Array;
  b: Float32Array;
  n: number;
  m: number;
}

/** Everything the forecaster needs: the feature layers, the head's initial weights and its meta step sizes. */
export interface SizeNet {
  /** h1, h2 (ReLU) */
  body: DenseArrays[];
  /** the head W0 [d x 5], b0 [5] */
  head: DenseArrays;
  /** learned per-parameter inner step sizes (same shapes as the head); empty when steps = 0 */
  alphaW: Float32Array;
  alphaB: Float32Array;
  /** inner gradient steps per forecast (0: no adaptation) */
  steps: number;
  /** support set: the last `window` origins of the stream */
  window: number;
  /** the inner loss: squared log error (default) or the absolute percentage error */
  innerLoss?: 'l2' | 'ape';
}

/** The network with tfjs layers (training). Layer names: h1, h2, head. */
export function buildSizeNet(tf: typeof TF, hidden = 64, seed = 1): TF.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const inp = tf.input({ shape: [SIZE_FEATURES], name: 'features' });
  let x = tf.layers.dense({ units: hidden, activation: 'relu', name: 'h1', kernelInitializer: init(1) }).apply(inp) as TF.SymbolicTensor;
  x = tf.layers.dense({ units: hidden, activation: 'relu', name: 'h2', kernelInitializer: init(2) }).apply(x) as TF.SymbolicTensor;
  const y = tf.layers
    .dense({ units: SIZE_HORIZONS, name: 'head', kernelInitializer: tf.initializers.zeros() })
    .apply(x) as TF.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: y, name: 'chunk_size' });
}

interface Row {
  /** phi of the row's features */
  phi: Float32Array;
  /** origin and rung */
  i: number;
  r: number;
}

/**
 * The learned forecaster (see the file comment). observe() stores phi of every rung's feature row for
 * the new origin; forecast() adapts a copy of the head on the stored rows whose targets are known, then
 * predicts. Cost per forecast: rows x (64 x 5) x (2 steps + 1) multiply-adds (~20 k for 10 rungs).
 */
export class LearnedSizeForecaster implements SizeForecaster {
  readonly name: string;
  private h = new RungHistory();
  private rows: Row[] = [];
  private feat = new Float32Array(SIZE_FEATURES);
  private scratch: Float32Array[];
  private W: Float32Array;
  private B: Float32Array;
  private gW: Float32Array;
  private gB: Float32Array;
  private d: number;

  constructor(
    private net: SizeNet,
    name?: string,
  ) {
    this.name = name ?? (net.steps > 0 ? 'meta' : 'network');
    this.scratch = net.body.map((l) => new Float32Array(l.m));
    this.d = net.head.n;
    if (net.body[0].n !== SIZE_FEATURES) throw new Error(`size net expects ${net.body[0].n} features, this build has ${SIZE_FEATURES}`);
    this.W = new Float32Array(net.head.w.length);
    this.B = new Float32Array(SIZE_HORIZONS);
    this.gW = new Float32Array(net.head.w.length);
    this.gB = new Float32Array(SIZE_HORIZONS);
  }

  start(info: StreamInfo): void {
    this.h.start(info);
    this.rows = [];
  }

  private phi(x: Float32Array): Float32Array {
    let inp: Float32Array = x;
    for (let li = 0; li < this.net.body.length; li++) {
      const { w, b, n, m } = this.net.body[li];
      const out = this.scratch[li];
      out.set(b);
      for (let a = 0; a < n; a++) {
        const xa = inp[a];
        if (xa === 0) continue;
        const row = a * m;
        for (let j = 0; j < m; j++) out[j] += xa * w[row + j];
      }
      for (let j = 0; j < m; j++) if (out[j] < 0) out[j] = 0;
      inp = out;
    }
    return Float32Array.from(inp);
  }

  observe(sizes: ArrayLike<number | null>, meta?: ReadonlyArray<ChunkMeta | null> | null): void {
    this.h.push(sizes, meta);
    const i = this.h.length;
    for (let r = 0; r < this.h.rungs; r++) {
      sizeFeatures(this.h, r, this.feat);
      this.rows.push({ phi: this.phi(this.feat), i, r });
    }
    // keep the current origin's rows and the support window
    const keep = (this.net.window + 1) * this.h.rungs;
    if (this.rows.length > 2 * keep) this.rows = this.rows.slice(-keep);
  }

  /** head weights after adaptation on this stream's support set (W0, b0 when steps = 0) */
  private adapt(): void {
    const { head, alphaW, alphaB, steps, window } = this.net;
    this.W.set(head.w);
    this.B.set(head.b);
    if (steps === 0) return;
    const i = this.h.length;
    const d = this.d;
    const sizes = this.h.sizes;
    const support = this.rows.filter((row) => row.i < i && row.i >= i - window);
    if (!support.length) return;
    const y = new Float32Array(SIZE_HORIZONS);
    for (let st = 0; st < steps; st++) {
      this.gW.fill(0);
      this.gB.fill(0);
      let cnt = 0;
      for (const row of support) {
        // targets known when row.i + hh <= i - 1
        const a = lg(sizes[row.r][row.i - 1]);
        for (let hh = 0; hh < SIZE_HORIZONS; hh++) {
          if (row.i + hh > i - 1) break;
          y[hh] = clip(lg(sizes[row.r][row.i + hh]) - a);
          let p = this.B[hh];
          for (let a2 = 0; a2 < d; a2++) p += row.phi[a2] * this.W[a2 * SIZE_HORIZONS + hh];
          // d/dp of the inner loss: squared log error (l2) or APE = |exp(p - y) - 1| (ape)
          let e = p - y[hh];
          if (this.net.innerLoss === 'ape') {
            const r = Math.exp(Math.max(-LOG_CLIP, Math.min(LOG_CLIP, e)));
            e = r > 1 ? r : r < 1 ? -r : 0;
          }
          this.gB[hh] += e;
          for (let a2 = 0; a2 < d; a2++) this.gW[a2 * SIZE_HORIZONS + hh] += e * row.phi[a2];
          cnt++;
        }
      }
      if (!cnt) return;
      for (let z = 0; z < this.W.length; z++) this.W[z] -= (alphaW[z] * this.gW[z]) / cnt;
      for (let z = 0; z < SIZE_HORIZONS; z++) this.B[z] -= (alphaB[z] * this.gB[z]) / cnt;
    }
  }

  forecast(horizons: number): number[][] {
    const R = this.h.rungs;
    const i = this.h.length;
    const { ladderKbps, chunkS } = this.h.info;
    if (i === 0) return Array.from({ length: horizons }, () => ladderKbps.map((k) => nominalBytes(k, chunkS)));
    this.adapt();
    const out = Array.from({ length: horizons }, () => new Array<number>(R).fill(0));
    const cur = this.rows.filter((row) => row.i === i);
    for (const row of cur) {
      const last = this.h.sizes[row.r][i - 1];
      for (let hh = 0; hh < horizons; hh++) {
        const k = Math.min(hh, SIZE_HORIZONS - 1);
        let p = this.B[k];
        for (let a = 0; a < this.d; a++) p += row.phi[a] * this.W[a * SIZE_HORIZONS + k];
        out[hh][row.r] = last * Math.exp(clip(p));
      }
    }
    return out;
  }
}

/**
 * Dense layers by name from tfjs layers artifacts: the weight specs of model.json's
 * `weightsManifest[0].weights` and the bytes of weights.bin (float32, little-endian). No tfjs needed.
 * Throws when a layer is missing or the specs do not describe the data.
 */
export function denseFromArtifacts(
  weightSpecs: ReadonlyArray<{ name: string; shape: number[]; dtype?: string }>,
  weightData: ArrayBuffer,
  layers: readonly string[],
): DenseArrays[] {
  const all = new Float32Array(weightData);
  const byName = new Map<string, { data: Float32Array; shape: number[] }>();
  let off = 0;
  for (const s of weightSpecs) {
    if (s.dtype && s.dtype !== 'float32') throw new Error(`weights: ${s.name} is ${s.dtype}, expected float32`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    byName.set(s.name, { data: all.subarray(off, off + n), shape: s.shape });
    off += n;
  }
  if (off !== all.length) throw new Error(`weights: the manifest describes ${off} floats, the data holds ${all.length}`);
  return layers.map((layer) => {
    const k = byName.get(`${layer}/kernel`);
    const b = byName.get(`${layer}/bias`);
    if (!k || !b) throw new Error(`weights: layer ${layer} missing`);
    return { w: Float32Array.from(k.data), b: Float32Array.from(b.data), n: k.shape[0], m: k.shape[1] };
  });
}

/** The meta part of models/chunk-size*: head.json. */
export interface SizeHeadJson {
  features: number;
  steps: number;
  window: number;
  innerLoss?: 'l2' | 'ape';
  alphaW: number[];
  alphaB: number[];
}

/**
 * A SizeNet from the tfjs layers artifacts (model.json's `weightsManifest[0].weights` specs, the bytes of
 * weights.bin, float32 little-endian) and head.json. No tfjs needed, so the worker and the simulators can
 * load it with fetch / readFile. Throws when a layer is missing or the feature count differs from this build.
 */
export function sizeNetFromArtifacts(
  weightSpecs: ReadonlyArray<{ name: string; shape: number[]; dtype?: string }>,
  weightData: ArrayBuffer,
  head: SizeHeadJson,
): SizeNet {
  const [h1, h2, h] = denseFromArtifacts(weightSpecs, weightData, ['h1', 'h2', 'head']);
  if (head.features !== SIZE_FEATURES)
    throw new Error(`size net was trained on ${head.features} features, this build computes ${SIZE_FEATURES}`);
  return {
    body: [h1, h2],
    head: h,
    alphaW: Float32Array.from(head.alphaW),
    alphaB: Float32Array.from(head.alphaB),
    steps: head.steps,
    window: head.window,
    innerLoss: head.innerLoss ?? 'l2',
  };
}
