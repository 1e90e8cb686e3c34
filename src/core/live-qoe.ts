/**
 * The per-segment QoE of low-latency live streaming used by the low-latency community: the MMSys'20
 * Twitch grand challenge ("Adaptation Algorithm for Near-Second Latency") and dash.js' LoL+ evaluator
 * (`samples/low-latency/abr/LoL_qoeEvaluator.js`, weights by A. Bentaleb, 30 Mar 2020). For one segment:
 *
 *   QoE = D * R  -  1 * |R - R_prev|  -  R_max * E  -  w_L(L) * L  -  R_min * |1 - P|
 *
 * R: the segment's bitrate (kbps), D: segment duration (s), E: rebuffering (s) attributed to the segment,
 * L: live latency (s) when it is appended, P: playback rate then, R_max / R_min: the ladder's highest /
 * lowest bitrate (kbps); w_L(L) = 0.05 * R_min when L <= 1.1 s, else 0.1 * R_max. The first segment of a
 * session has no switch term. Units: kbps x s = kbit; the totals below are divided by 1000 (Mbit).
 * Pure: no DOM, no Node.
 */

export interface LiveQoeWeights {
  /** multiplies D * R (the evaluator's bitrateReward is the segment duration) */
  bitrate: number;
  /** per kbps of bitrate change */
  switch: number;
  /** per second of rebuffering, kbps (R_max) */
  rebuffer: number;
  /** per second of latency, kbps, at or below `latencyThresholdS` (0.05 R_min) */
  latencyLow: number;
  /** per second of latency, kbps, above it (0.1 R_max) */
  latencyHigh: number;
  latencyThresholdS: number;
  /** per unit of |1 - playback rate|, kbps (R_min) */
  speed: number;
}

/** The evaluator's weights for a ladder (kbps, any order). */
export function liveQoeWeights(ladderKbps: readonly number[]): LiveQoeWeights {
  const max = Math.max(...ladderKbps);
  const min = Math.min(...ladderKbps);
  return { bitrate: 1, switch: 1, rebuffer: max, latencyLow: 0.05 * min, latencyHigh: 0.1 * max, latencyThresholdS: 1.1, speed: min };
}

/** The five terms of one segment (kbit; penalties positive) and their total. */
export interface LiveQoeTerms {
  bitrate: number;
  switch: number;
  rebuffer: number;
  latency: number;
  speed: number;
  total: number;
}

/**
 * QoE of one segment (see the file comment). `prevKbps` null for the session's first segment.
 * Throws on a negative duration, rebuffer or latency.
 */
export function liveQoeSegment(
  w: LiveQoeWeights,
  seg: { kbps: number; prevKbps: number | null; durationS: number; rebufferS: number; latencyS: number; playbackRate: number },
): LiveQoeTerms {
  if (seg.durationS < 0 || seg.rebufferS < 0 || seg.latencyS < 0) throw new Error('liveQoeSegment: negative duration, rebuffer or latency');
  const bitrate = w.bitrate * seg.durationS * seg.kbps;
  const sw = seg.prevKbps === null ? 0 : w.switch * Math.abs(seg.kbps - seg.prevKbps);
  const rebuffer = w.rebuffer * seg.rebufferS;
  const latency = (seg.latencyS <= w.latencyThresholdS ? w.latencyLow : w.latencyHigh) * seg.latencyS;
  const speed = w.speed * Math.abs(1 - seg.playbackRate);
  return { bitrate, switch: sw, rebuffer, latency, speed, total: bitrate - sw - rebuffer - latency - speed };
}
