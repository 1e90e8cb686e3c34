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

export function optimalForTrace(trace: SimTrace, videoSizes: number[][], opts: { bucketMs?: number; totalChunks?: number; ladder?: readonly number[]; startPtr?: number } = {}): OptimalResult {
  const bucketMs = opts.bucketMs ?? 100;
  const total = opts.totalChunks ?? 48;
  const ladder = opts.ladder ?? VIDEO_BIT_RATE_KBPS;
  const L = ladder.length;
  const { time, bw } = trace;
  const p0 = opts.startPtr ?? 1;
  const s0 = stepFrom(time, bw, p0, time[p0 - 1], 0, videoSizes[DEFAULT_QUALITY][0]);
  let layer = new Map<number, Node>();
  layer.set(DEFAULT_QUALITY, { ptr: s0.ptr, last: s0.last, buf: s0.buf, value: 0, q: DEFAULT_QUALITY, parent: null });
  const buckets = Math.ceil(BUFFER_THRESH_MS / bucketMs) + 2;
  for (let i = 1; i < total; i++) {
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
  for (let n = best; n; n = n.parent) qualities.push(n.q);
  return { qoeSum: best!.value, qualities: qualities.reverse() };
}
