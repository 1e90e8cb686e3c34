/**
 * The DRL assignment policy's inputs and forward pass (plain JS, no tfjs at serve time). Options sit in
 * fixed slots — the CDN, then each edge × version — each described by its penalty terms, costs and the
 * edge's utilisation after taking it; a shared scorer MLP rates every feasible slot (with the global state:
 * edge utilisation and the viewer's weights, bandwidth, CDN latency) and the policy takes the best.
 */
import { VERSIONS, type EdgeState, type Option, type ViewerRequest } from './model.js';
import type { AssignmentPolicy } from './policy.js';

export const SLOT_F = 10;
export const GLOBAL_F = 7;
export const IN_F = SLOT_F + GLOBAL_F;
/**
 * The second feature set adds, per slot, what the option gains over sending this viewer to the CDN:
 * the gain in reward, and that gain per Mb/s and per vCPU it takes from the edge (the scorer rates slots
 * one by one and cannot see the CDN slot's penalty from another slot). Stored after the global features
 * so the critic's slice stays where it was.
 */
export const GAIN_F = 3;
export const IN_F_GAIN = IN_F + GAIN_F;
export const FEATURE_SETS = [IN_F, IN_F_GAIN] as const;

export function slotCount(edges: number): number {
  return 1 + edges * VERSIONS.length;
}

/** Fill x [S × IN_F] and mask [S] for one decision; returns the option index of each slot (−1: none). */
export function encode(
  req: ViewerRequest,
  opts: Option[],
  edges: EdgeState[],
  edgeIds: string[],
  x: Float32Array,
  mask: Uint8Array,
  inF: number = IN_F,
): Int32Array {
  const S = slotCount(edgeIds.length);
  x.fill(0);
  mask.fill(0);
  const idx = new Int32Array(S).fill(-1);
  // edge utilisation (mean over the live edges; none live: full)
  let um = 0,
    uv = 0;
  for (const e of edges) {
    um += e.usedMbps / e.capMbps;
    uv += e.usedVcpu / e.capVcpu;
  }
  const g = [
    edges.length ? um / edges.length : 1,
    edges.length ? uv / edges.length : 1,
    req.weights.a1 / 10,
    req.weights.a2 / 10,
    req.weights.a3 / 10,
    Math.min(req.bandwidthMbps, 10) / 10,
    req.cdnLatencyS,
  ];
  const cdnReward =
    inF === IN_F_GAIN ? (opts.find((o) => o.target === 'cdn') ?? opts.reduce((a, o) => (o.reward < a.reward ? o : a))).reward : 0;
  opts.forEach((o, k) => {
    const slot = o.target === 'cdn' ? 0 : 1 + edgeIds.indexOf(o.target) * VERSIONS.length + o.version;
    if (slot < 0 || slot >= S) return;
    idx[slot] = k;
    mask[slot] = 1;
    const e = edges.find((z) => z.id === o.target);
    const f = [
      1,
      o.target === 'cdn' ? 1 : 0,
      o.version / 5,
      o.penalty / 5,
      o.costT,
      o.costB,
      o.B,
      o.Ls,
      e ? (e.usedMbps + o.addMbps) / e.capMbps : 0,
      e ? (e.usedVcpu + o.addVcpu) / e.capVcpu : 0,
    ];
    const base = slot * inF;
    for (let j = 0; j < SLOT_F; j++) x[base + j] = f[j];
    for (let j = 0; j < GLOBAL_F; j++) x[base + SLOT_F + j] = g[j];
    if (inF === IN_F_GAIN) {
      const gain = o.reward - cdnReward;
      x[base + IN_F] = gain;
      x[base + IN_F + 1] = o.addMbps > 0 ? gain / o.addMbps : 0;
      // a version the edge already transcodes costs no vCPU: rate it as the cheapest transcode would
      x[base + IN_F + 2] = o.target === 'cdn' ? 0 : gain / Math.max(o.addVcpu, 0.41);
    }
  });
  return idx;
}

export interface ScorerWeights {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  hidden: number;
  /** inputs per slot (a feature set) */ in: number;
}

/** scores of every slot (−Infinity where masked) */
export function scores(wt: ScorerWeights, x: Float32Array, mask: Uint8Array, S: number, out = new Float32Array(S)): Float32Array {
  const h = new Float32Array(wt.hidden);
  for (let s = 0; s < S; s++) {
    if (!mask[s]) {
      out[s] = -Infinity;
      continue;
    }
    h.set(wt.b1);
    const base = s * wt.in;
    for (let i = 0; i < wt.in; i++) {
      const xi = x[base + i];
      if (xi === 0) continue;
      const row = i * wt.hidden;
      for (let j = 0; j < wt.hidden; j++) h[j] += xi * wt.w1[row + j];
    }
    let v = wt.b2[0];
    for (let j = 0; j < wt.hidden; j++) if (h[j] > 0) v += h[j] * wt.w2[j];
    out[s] = v;
  }
  return out;
}

export interface EdgeDrlFile {
  setting: string;
  hidden: number;
  in: number;
  w1: number[];
  b1: number[];
  w2: number[];
  b2: number[];
  iteration?: number;
  eval_mean?: number;
  online_heu?: number;
  command?: string;
}

/** The trained policy, ready to rank options (any number of edges: the scorer is shared by all slots). */
export class DrlAssignment implements AssignmentPolicy {
  readonly name = 'drl';
  private wt: ScorerWeights;
  constructor(file: EdgeDrlFile) {
    if (
      !(FEATURE_SETS as readonly number[]).includes(file?.in) ||
      !(file.hidden > 0) ||
      file.w1?.length !== file.in * file.hidden ||
      file.w2?.length !== file.hidden
    )
      throw new Error(`edge DRL weights do not match this build (inputs ${file?.in}, expected one of ${FEATURE_SETS.join(', ')})`);
    this.wt = {
      w1: Float32Array.from(file.w1),
      b1: Float32Array.from(file.b1),
      w2: Float32Array.from(file.w2),
      b2: Float32Array.from(file.b2),
      hidden: file.hidden,
      in: file.in,
    };
  }

  /** option indices, best first */
  rank(req: ViewerRequest, opts: Option[], edges: EdgeState[], edgeIds: string[]): number[] {
    const S = slotCount(edgeIds.length);
    const x = new Float32Array(S * this.wt.in),
      m = new Uint8Array(S);
    const idx = encode(req, opts, edges, edgeIds, x, m, this.wt.in);
    const sc = scores(this.wt, x, m, S);
    return Array.from({ length: S }, (_, s) => s)
      .filter((s) => m[s])
      .sort((a, b) => sc[b] - sc[a])
      .map((s) => idx[s]);
  }
}
