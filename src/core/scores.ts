/**
 * Mux Data's Viewer Experience Scores (0–100 per view, higher is better), with the formulas Mux publishes. The QoE
 * accumulator (qoe.ts) computes them for every view, in the browser and on the controller alike.
 *
 * Sources (Mux Data documentation, "Understand metric definitions"):
 * - Startup Time Score: https://www.mux.com/docs/guides/data-startup-time-metric — 8 / (8 + startup s) × 100;
 *   examples 400 ms → 95, 2 s → 80, 8 s → 50, 20 s → 29.
 * - Smoothness Score: https://www.mux.com/docs/guides/data-smoothness-metric — the average of
 *   100 / √(1 + (rebuffer_count / 2)²) and 100 · e^(−10 · rebuffer_percentage) (a fraction of watch time).
 * - Video Quality Score: https://www.mux.com/docs/guides/data-video-quality-metric — 100 · e^(−0.33 · (0.15 · Um + 0.85 · Ua)),
 *   Um the max and Ua the time-weighted average upscale percentage (fractions: 100 % = 1).
 * - Playback Success Score: https://www.mux.com/docs/guides/data-playback-success-metric — 100 played without a fatal
 *   error, 50 exit before video start (EBVS), 0 playback failure, no score for an EBVS shorter than 1 s.
 * - Overall Viewer Experience Score: https://www.mux.com/docs/guides/data-overall-viewer-experience-metric —
 *   Playback Success × (T(Sm, Q) + T(Sm, Su) + T(Su, Q)) / 3 over pairwise "tradeoff" scores. Mux does not publish
 *   its Tradeoff function (only that it comes from surveys and that Smoothness outweighs Startup, which outweighs
 *   Quality). `tradeoff` below is OUR stand-in: the weighted mean with rank weights Smoothness 3, Startup 2, Quality 1.
 *   EBVS views get no startup, smoothness or quality score (as Mux says); a tradeoff whose two scores are both
 *   missing is left out, one missing score leaves the other alone.
 */

/** Startup Time Score for a video startup time in ms (Mux: 8 / (8 + s) × 100). @throws RangeError for a negative time */
export function startupTimeScore(startupMs: number): number {
  if (!(startupMs >= 0)) throw new RangeError(`startup time must be ≥ 0 ms, got ${startupMs}`);
  return (8 / (8 + startupMs / 1000)) * 100;
}

/**
 * Smoothness Score from the number of rebuffering events and the rebuffering share of watch time (a fraction, 0.05 =
 * 5 %): the mean of 100 / √(1 + (count / 2)²) and 100 · e^(−10 · fraction).
 */
export function smoothnessScore(rebufferCount: number, rebufferFraction: number): number {
  const byCount = 100 / Math.sqrt(1 + (rebufferCount / 2) ** 2);
  const byShare = 100 * Math.exp(-10 * Math.max(0, rebufferFraction));
  return (byCount + byShare) / 2;
}

/**
 * Video Quality Score from the max and the time-weighted average upscale percentage, both as fractions (1 = 100 %
 * upscaling, the video shown at twice its resolution): 100 · e^(−0.33 · (0.15 · max + 0.85 · avg)).
 */
export function videoQualityScore(maxUpscale: number, avgUpscale: number): number {
  return 100 * Math.exp(-0.33 * (0.15 * Math.max(0, maxUpscale) + 0.85 * Math.max(0, avgUpscale)));
}

/**
 * Playback Success Score: 0 after a fatal error, else 50 for an exit before video start lasting ≥ 1 s (null below:
 * "unintentional or programmatic"), else 100 once playback started; null while a view has neither started nor ended.
 * @param ebvsMs how long the viewer waited before leaving (first play request → view end), for an EBVS
 */
export function playbackSuccessScore(v: { failed: boolean; started: boolean; ended: boolean; ebvsMs: number | null }): number | null {
  if (v.failed) return 0;
  if (v.started) return 100;
  if (!v.ended || v.ebvsMs === null) return null;
  return v.ebvsMs < 1000 ? null : 50;
}

/** The weights of our stand-in for Mux's unpublished Tradeoff function (Mux's published order: Sm > Su > Q). */
export const TRADEOFF_WEIGHTS = { smoothness: 3, startup: 2, quality: 1 } as const;

/** OUR stand-in for Mux's Tradeoff(a, b): the weighted mean; a missing score leaves the other; both missing → null. */
export function tradeoff(a: number | null, wa: number, b: number | null, wb: number): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return (wa * a + wb * b) / (wa + wb);
}

/**
 * Overall Viewer Experience Score: playback success (as a 0–1 multiplier) × the mean of the three pairwise tradeoffs
 * of smoothness, startup and quality (Mux's published structure; `tradeoff` is our stand-in). Null when playback
 * success has no score; playback success alone (× 100) when every other score is missing (an EBVS view).
 */
export function viewerExperienceScore(s: {
  playbackSuccess: number | null;
  startup: number | null;
  smoothness: number | null;
  quality: number | null;
}): number | null {
  if (s.playbackSuccess === null) return null;
  const W = TRADEOFF_WEIGHTS;
  const ts = [
    tradeoff(s.smoothness, W.smoothness, s.quality, W.quality),
    tradeoff(s.smoothness, W.smoothness, s.startup, W.startup),
    tradeoff(s.startup, W.startup, s.quality, W.quality),
  ].filter((x): x is number => x !== null);
  const rest = ts.length ? ts.reduce((a, b) => a + b, 0) / ts.length : 100;
  return (s.playbackSuccess / 100) * rest;
}
