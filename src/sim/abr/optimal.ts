/**
 * Offline optimum of QoE_lin on one trace with full knowledge of the network, by dynamic programming
 * over (chunk, last level, buffer bucket). Each bucket keeps the exact simulator state (trace pointer,
 * position, buffer) of its best path, so every transition is simulated exactly; the only approximation
 * is merging paths whose buffers fall in the same bucket, and refining the bucket shows it converged.
 */
import { DEFAULT_QUALITY, VIDEO_BIT_RATE_KBPS, qoeLin } from '../../core/abr.js';
import { BUFFER_THRESH_MS, stepFrom, type SimTrace } from './env.js';

interface Node {
  ptr: number;
  last: number; // last_time, s
  buf: number; // ms
  value: number;
  q: number;
  parent: Node | null;
}

export interface OptimalResult {
  qoeSum: number;
  qualities: number[];
}

export interface SimState {
  /** index of the next chunk to download */
  chunk: number;
  /** trace pointer and position (s), as AbrEnv keeps them */
  ptr: number;
  last: number;
  /** buffer, ms */
  bufMs: number;
  /** level of the previous chunk */
  lastQ: number;
}

/**
 * The best remaining plan from an explicit simulator state (chunks `st.chunk`..total-1), with full
 * knowledge of the trace: the expert that labels visited states for imitation (DAgger).
 */
export function optimalFromState(
  trace: SimTrace,
  videoSizes: number[][],
  st: SimState,
  opts: { bucketMs?: number; totalChunks?: number; ladder?: readonly number[] } = {},
): OptimalResult {
  return planFrom(trace, videoSizes, st, opts, 0);
}

/** the DP; `value0` is the QoE already collected (summed first, so merges see the same rounding as a longer DP) */
function planFrom(
  trace: SimTrace,
  videoSizes: number[][],
  st: SimState,
  opts: { bucketMs?: number; totalChunks?: number; ladder?: readonly number[] },
  value0: number,
): OptimalResult {
  const bucketMs = opts.bucketMs ?? 100;
  const total = opts.totalChunks ?? 48;
  const ladder = opts.ladder ?? VIDEO_BIT_RATE_KBPS;
  const L = ladder.length;
  const { time, bw } = trace;
  let layer = new Map<number, Node>();
  layer.set(st.lastQ, { ptr: st.ptr, last: st.last, buf: st.bufMs, value: value0, q: st.lastQ, parent: null });
  const buckets = Math.ceil(BUFFER_THRESH_MS / bucketMs) + 2;
  for (let i = st.chunk; i < total; i++) {
    const next = new Map<number, Node>();
    for (const node of layer.values()) {
      for (let q = 0; q < L; q++) {
        const s = stepFrom(time, bw, node.ptr, node.last, node.buf, videoSizes[q][i]);
        const value = node.value + qoeLin(q, node.q, s.rebufS, ladder);
        const key = q * buckets + Math.floor(s.buf / bucketMs);
        const cur = next.get(key);
        if (!cur || value > cur.value) next.set(key, { ptr: s.ptr, last: s.last, buf: s.buf, value, q, parent: node });
      }
    }
    layer = next;
  }
  let best: Node | null = null;
  for (const n of layer.values()) if (!best || n.value > best.value) best = n;
  const qualities: number[] = [];
  for (let n = best; n && n.parent; n = n.parent) qualities.push(n.q);
  return { qoeSum: best!.value, qualities: qualities.reverse() };
}

/** The optimum of a whole session: chunk 0 at the default level (as the simulator does), then the best plan. */
export function optimalForTrace(
  trace: SimTrace,
  videoSizes: number[][],
  opts: { bucketMs?: number; totalChunks?: number; ladder?: readonly number[]; startPtr?: number } = {},
): OptimalResult {
  const { time, bw } = trace;
  const p0 = opts.startPtr ?? 1;
  const s0 = stepFrom(time, bw, p0, time[p0 - 1], 0, videoSizes[DEFAULT_QUALITY][0]);
  const r = optimalFromState(trace, videoSizes, { chunk: 1, ptr: s0.ptr, last: s0.last, bufMs: s0.buf, lastQ: DEFAULT_QUALITY }, opts);
  return { qoeSum: r.qoeSum, qualities: [DEFAULT_QUALITY, ...r.qualities] };
}

/**
 * Hindsight value of each next level from an explicit state: Q[a] = QoE of downloading chunk `st.chunk`
 * at level a, then following the best plan from there with the trace known. The cost-sensitive teacher:
 * its regrets max(Q) − Q[a] say how much each choice gives up.
 */
export function hindsightQ(
  trace: SimTrace,
  videoSizes: number[][],
  st: SimState,
  opts: { bucketMs?: number; totalChunks?: number; ladder?: readonly number[] } = {},
): Float64Array {
  const ladder = opts.ladder ?? VIDEO_BIT_RATE_KBPS;
  const Q = new Float64Array(ladder.length);
  for (let a = 0; a < ladder.length; a++) {
    const s = stepFrom(trace.time, trace.bw, st.ptr, st.last, st.bufMs, videoSizes[a][st.chunk]);
    Q[a] = planFrom(
      trace,
      videoSizes,
      { chunk: st.chunk + 1, ptr: s.ptr, last: s.last, bufMs: s.buf, lastQ: a },
      opts,
      qoeLin(a, st.lastQ, s.rebufS, ladder),
    ).qoeSum;
  }
  return Q;
}
