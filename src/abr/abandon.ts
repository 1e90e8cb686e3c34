/**
 * Abandoning a fragment download that will not arrive before the buffer runs out — the policy's own emergency abort,
 * next to hls.js' (`AbrController._abandonRulesCheck`).
 *
 * hls.js' rule walks down from the level below the loading one and stops at the first whose load (at its *peak*
 * BANDWIDTH) fits in min(buffer, duration + ttfb); when none above `minAutoLevel` fits it keeps the load time of the
 * level just above `minAutoLevel` — the lowest level's own time is never weighed — so on a collapse from a middle
 * level it keeps loading: in 84 real-playback runs of bench:browser-abr it fired 7 times, all on a fast link, never on the ~1 Mb/s traces — there a level-2 fragment took 17 s at
 * 248 kb/s with 9.5 s of buffer (norway_bus_13; BENCHMARKS "ABR in real playback"). This rule, in the spirit of
 * dash.js' AbandonRequestsRule (abandon when the rest of the download will outlast the buffer), weighs every lower
 * level with the fragment's own size scaled by the ladder (VBR complexity is shared by the rungs) at the rate this
 * download is getting:
 * - after `minLoadS` of loading (default half the fragment's duration; hls.js waits max(ttfb estimate, half the
 *   fragment at the playback rate)), with some bytes in, at rate r = loaded / time
 *   since the first byte, finishing takes (total − loaded) / r and stalls for max(0, that − buffer / playback rate);
 * - a lower level l would take ttfb + total × ladder[l] / ladder[level] / r and stall for its excess over the buffer;
 * - abandon for the highest lower level (not below `minLevel`) that fits in the buffer with `marginS` to spare, else
 *   for `minLevel`, when that saves at least `minGainS` of stall; otherwise keep loading (the bytes already in are not
 *   thrown away for less).
 * A level whose playlist is not loaded yet costs one more playlist request before its fragment; the rule does not
 * count it (hls.js' does).
 * Pure: the controller (src/abr/hls-controller.ts `abandon`) and the player simulator (src/sim/abr/hls-vod.ts) share it.
 */

/** The rule's constants. */
export interface AbandonRule {
  /** s of loading before the rule looks (default: half the fragment's duration, as hls.js) */
  minLoadS?: number;
  /** the least stall the switch must save over finishing the download, s (> 0) */
  minGainS: number;
  /** buffer kept to spare when choosing the level to switch to, s (≥ 0) */
  marginS: number;
}

/**
 * The default: look after 1 s of loading, abandon when it saves ≥ 0.25 s of stall, for the highest level that leaves
 * 2 s of buffer. Selected in the player simulator on the training traces, with no re-fetch after a switch
 * (`npm run bench:abr-guard -- --no-guards --refetch none --abandon-gains 0.25,0.5,1,2 --abandon-margins 0,1,2
 * --abandon-loads 1,2`: 0.5548 against the DRL's 0.5031 QoE_lin per chunk; the grid spans 0.528–0.555).
 */
export const DEFAULT_ABANDON: AbandonRule = { minGainS: 0.25, marginS: 2, minLoadS: 1 };

/** A fragment download as the rule sees it, every 100 ms while it loads. */
export interface AbandonState {
  /** level loading (index into `ladderBps`) */
  level: number;
  /** fragment duration, s */
  fragS: number;
  /** bytes in so far, and the fragment's size (its Content-Length) */
  loadedBytes: number;
  totalBytes: number;
  /** s since the request, and since its first byte */
  loadingS: number;
  streamingS: number;
  /** time to first byte a new request would wait, s */
  ttfbS: number;
  /** forward buffer now, s of media */
  bufferS: number;
  /** playback rate (0 when paused or not started: nothing drains, nothing is abandoned) */
  playbackRate: number;
  /** the levels' bitrates, b/s (AVERAGE-BANDWIDTH or BANDWIDTH), for the fragment's size at another level */
  ladderBps: readonly number[];
  /** the lowest level the player may switch to (hls.js' `minAutoLevel`; default 0) */
  minLevel?: number;
}

/** Throws on a rule whose constants make no sense. */
export function checkAbandonRule(r: AbandonRule): void {
  if (!(r.minGainS > 0)) throw new Error(`abandon rule: minGainS must be > 0 s, got ${r.minGainS}`);
  if (!(r.marginS >= 0)) throw new Error(`abandon rule: marginS must be ≥ 0 s, got ${r.marginS}`);
  if (r.minLoadS !== undefined && !(r.minLoadS >= 0)) throw new Error(`abandon rule: minLoadS must be ≥ 0 s, got ${r.minLoadS}`);
}

/** The level to abandon the download for, or null to keep loading. */
export function abandonLevel(s: AbandonState, rule: AbandonRule): number | null {
  const floor = Math.max(0, s.minLevel ?? 0);
  if (s.level <= floor || !(s.playbackRate > 0) || !(s.loadedBytes > 0) || !(s.streamingS > 0)) return null;
  if (s.loadingS < (rule.minLoadS ?? s.fragS / 2) || s.totalBytes <= s.loadedBytes) return null;
  const bps = s.loadedBytes / s.streamingS; // bytes/s
  const leftS = s.bufferS / s.playbackRate;
  const keepStall = Math.max(0, (s.totalBytes - s.loadedBytes) / bps - leftS);
  if (keepStall < rule.minGainS) return null;
  const top = s.ladderBps[s.level];
  if (!(top > 0)) return null;
  const timeAt = (l: number) => s.ttfbS + (s.totalBytes * (s.ladderBps[l] / top)) / bps;
  let to = floor;
  for (let l = s.level - 1; l > floor; l--)
    if (timeAt(l) + rule.marginS <= leftS) {
      to = l;
      break;
    }
  const stall = Math.max(0, timeAt(to) - leftS);
  return keepStall - stall >= rule.minGainS ? to : null;
}
