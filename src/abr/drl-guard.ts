/**
 * The DRL policy's stall guard (src/abr/drl.ts `DrlPolicy`, the worker's `initAbr({ guard })`): small and free of
 * tfjs so the page can name the default without bundling the policy.
 */
import type { AbrObservation } from '../core/abr.js';

/**
 * A stall guard over the DRL's answer (not in Pensieve): the level is lowered until the predicted download of the
 * next chunk — its size over `factor` × the lower of the last throughput sample and the harmonic mean of the last 5 —
 * leaves at least `reserveS` seconds of buffer. It binds when the link falls below the level the model keeps (the
 * late collapses that stalled the DRL in real playback while hls.js, lower and with a longer buffer, rode them out).
 */
export interface DrlGuard {
  /** seconds of buffer the predicted download must leave */
  reserveS: number;
  /** share of the throughput estimate counted on (0 < factor ≤ 1) */
  factor: number;
}

/**
 * The guard to use (`initAbr({ guard })` in the worker), selected in the player simulator (stage E, `refetch:
 * 'measured'`) on the Pensieve *training* traces over reserve 3–5 s × factor 0.6–0.9: QoE/chunk 0.3947 against the
 * DRL's 0.3642, stall 4.86 against 5.17 s per run (`npm run bench:abr-guard -- --reserves 3,4,5 --factors
 * 0.6,0.7,0.8,0.9`). In real playback it lost 0.05 QoE/chunk against the DRL and stalled more (more switches, each a
 * possible re-fetch of the fragment just buffered), so nothing turns it on by default (BENCHMARKS "A stall guard over
 * the DRL").
 */
export const DEFAULT_DRL_GUARD: DrlGuard = { reserveS: 4, factor: 0.9 };

/** @throws RangeError when the guard's reserve is negative or its factor outside (0, 1] */
export function checkDrlGuard(g: DrlGuard): void {
  if (!(g.reserveS >= 0) || !(g.factor > 0 && g.factor <= 1))
    throw new RangeError(`DRL guard: reserveS must be ≥ 0 and factor in (0, 1] (got ${g.reserveS}, ${g.factor})`);
}

/**
 * `level` lowered by the guard for observation `o` (see `DrlGuard`); `level` itself when no throughput is known yet.
 * @throws RangeError when the guard's reserve is negative or its factor outside (0, 1]
 */
export function guardLevel(o: AbrObservation, level: number, g: DrlGuard): number {
  checkDrlGuard(g);
  const recent = o.throughputs.slice(-5).filter((x) => x > 0);
  if (!recent.length) return level;
  const harm = recent.length / recent.reduce((a, x) => a + 1 / x, 0);
  const est = g.factor * Math.min(harm, recent[recent.length - 1]); // bytes/ms
  let q = level;
  while (q > 0 && o.bufferS - o.nextSizes[q] / est / 1000 < g.reserveS) q--;
  return q;
}
