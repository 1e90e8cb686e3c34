/**
 * Comyco's instant solver (Huang et al., "Comyco: Quality-Aware Adaptive Video Streaming via Imitation Learning",
 * ACM MM 2019, §4.2): from an exact simulator state, the level sequence over the next `horizon` chunks that maximises
 * QoE_lin, every chunk simulated on the TRUE future throughput of the trace (Pensieve step semantics, `stepFrom`).
 * Unlike the offline optimum it sees only a few chunks ahead, so its risks are the ones a good causal predictor could
 * take. The expert that labels the states a policy visits (DAgger, train/abr.ts `daggerTeacher: 'horizon'`).
 */
import { VIDEO_BIT_RATE_KBPS, qoeLin } from '../../core/abr.js';
import { stepFrom, type SimTrace } from './env.js';
import type { SimState } from './optimal.js';

/**
 * The best first level (and the plan's value) over the next `horizon` chunks (default 5) from `st`, by exhaustive
 * search (6^horizon leaves at most). Ties go to the lower level.
 */
export function horizonExpert(
  trace: SimTrace,
  videoSizes: number[][],
  st: SimState,
  opts: { horizon?: number; totalChunks?: number; ladder?: readonly number[] } = {},
): { level: number; value: number } {
  const h = Math.min(opts.horizon ?? 5, (opts.totalChunks ?? 48) - st.chunk);
  const ladder = opts.ladder ?? VIDEO_BIT_RATE_KBPS;
  const L = ladder.length;
  if (h <= 0) return { level: st.lastQ, value: 0 };
  const { time, bw } = trace;
  const dfs = (depth: number, ptr: number, last: number, buf: number, lastQ: number): number => {
    let best = -Infinity;
    for (let q = 0; q < L; q++) {
      const s = stepFrom(time, bw, ptr, last, buf, videoSizes[q][st.chunk + depth]);
      let v = qoeLin(q, lastQ, s.rebufS, ladder);
      if (depth + 1 < h) v += dfs(depth + 1, s.ptr, s.last, s.buf, q);
      if (v > best) best = v;
    }
    return best;
  };
  let level = 0;
  let value = -Infinity;
  for (let q = 0; q < L; q++) {
    const s = stepFrom(time, bw, st.ptr, st.last, st.bufMs, videoSizes[q][st.chunk]);
    let v = qoeLin(q, st.lastQ, s.rebufS, ladder);
    if (h > 1) v += dfs(1, s.ptr, s.last, s.buf, q);
    if (v > value) {
      value = v;
      level = q;
    }
  }
  return { level, value };
}
