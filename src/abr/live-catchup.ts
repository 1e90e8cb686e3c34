/**
 * Low-latency live playback in the player (issue 14): LoL+'s hybrid playback-rate control (Bentaleb et al.,
 * "Catching the Moment with LoL+ in Twitch-Like Low-Latency Live Streaming Platforms", IEEE TMM 2021,
 * §IV "Playback Speed Control"; as dash.js implements it, CatchupController with
 * LIVE_CATCHUP_MODE_LOLP) applied to an hls.js live stream: below `bufferMinS` of forward buffer the
 * video slows down (a stall is worse than latency), otherwise it speeds up when latency is above hls.js'
 * target latency and slows down when it is below, within [1 − c, 1 + c]. The rate law is the simulator's
 * (`LolpRateController` in live.ts), so the player runs what the live policies were evaluated with, plus a dead
 * band (hysteresis) the simulator runs without: the latency-based catch-up engages when the latency is more than
 * `deadBandS` off the target and releases to rate 1 within `releaseS` of it (or when the drift changes sign),
 * changing the rate by at least `minRateChange` in between — as dash.js gates its catch-up by `minDrift` and its
 * step mode by start / stop thresholds. Without it LoL+'s law (rate 1 only within 2 % of the target: ±0.03 s at
 * 1.5 s) changed the rate 22–33 times in the low-latency spec's minute of playback.
 *
 * hls.js' own catch-up (`maxLiveSyncPlaybackRate` > 1) only speeds up; leave it at its default 1 when this
 * runs (`liveCatchup` refuses to start otherwise). Latency is hls.js' `latency` (the playlist's live edge,
 * aged by the time since it was loaded, minus the playhead) and the target is `hls.targetLatency` (the
 * playlist's PART-HOLD-BACK in low-latency mode, or the app's `liveSyncDuration`) unless given.
 */
import type Hls from 'hls.js';
import { LolpRateController } from './live.js';

export interface LiveCatchupOptions {
  /** c: the playback rate stays within [1 − c, 1 + c] (dash.js / LoL+ default 0.5; 0 < c < 1) */
  maxDeviation?: number;
  /** forward buffer below which playback slows down, s (dash.js `playbackBufferMin`, default 0.5) */
  bufferMinS?: number;
  /** latency to aim at, s (default: hls.js' `targetLatency`) */
  targetLatencyS?: number;
  /**
   * the dead band: latency-based catch-up engages when |latency − target| > deadBandS (default 0.3 s: more
   * than half of a 0.5 s LL-HLS part, the step by which the live edge moves), s; 0 turns the dead band off (LoL+ as dash.js:
   * every change of 0.02 applied, rate 1 only within 2 % of the target)
   */
  deadBandS?: number;
  /** released (rate 1) once |latency − target| ≤ releaseS or the drift changes sign (default 0.1 s) */
  releaseS?: number;
  /** smallest rate change applied while catching up or slowing down for the buffer (default 0.1; 1 is always applied) */
  minRateChange?: number;
  /** called on every playback-rate change this controller makes */
  onRate?: (e: LiveRateChange) => void;
}

/** One playback-rate change. */
export interface LiveRateChange {
  /** performance.now() of the change, ms */
  at: number;
  /** the new playback rate and the previous one */
  rate: number;
  previous: number;
  /** latency, target and forward buffer the rate was computed from, s */
  latencyS: number;
  targetLatencyS: number;
  bufferS: number;
  /** why: buffer below the minimum, latency above or below the target, or back to 1 (on target, not live, paused) */
  reason: 'low-buffer' | 'catch-up' | 'slow-down' | 'on-target';
}

export interface LiveCatchup {
  /** playback-rate changes made so far */
  readonly changes: number;
  /** stop controlling and set the rate back to 1 (if this controller changed it) */
  stop(): void;
}

/**
 * Start LoL+ playback-rate control on `video` played by `hls`. Ticks on the media element's `timeupdate`
 * (about 4 Hz while playing) and does nothing on VOD, while paused or seeking, or before hls.js measures a
 * latency. Throws a RangeError when `maxDeviation` is outside (0, 1) or the dead band is negative, and an Error when hls.js' own catch-up is
 * on (`maxLiveSyncPlaybackRate` > 1): two controllers would fight over the rate.
 */
export function liveCatchup(hls: Hls, video: HTMLMediaElement, opts: LiveCatchupOptions = {}): LiveCatchup {
  const c = opts.maxDeviation ?? 0.5;
  if (!(c > 0 && c < 1)) throw new RangeError(`liveCatchup: maxDeviation must be in (0, 1), got ${c}`);
  if ((hls.config.maxLiveSyncPlaybackRate ?? 1) > 1)
    throw new Error('liveCatchup: hls.js catch-up is on (maxLiveSyncPlaybackRate > 1); use one controller');
  const bufferMinS = opts.bufferMinS ?? 0.5;
  const deadBandS = opts.deadBandS ?? 0.3;
  if (!(deadBandS >= 0)) throw new RangeError(`liveCatchup: deadBandS must be >= 0, got ${deadBandS}`);
  const releaseS = Math.min(opts.releaseS ?? 0.1, deadBandS);
  const ctl = new LolpRateController(
    c,
    bufferMinS,
    deadBandS > 0 ? { deadBandS, releaseS, minRateChange: opts.minRateChange ?? 0.1 * (c / 0.5) } : null,
  );
  let changes = 0;
  let touched = false;

  const forward = () => {
    const b = video.buffered;
    const t = video.currentTime;
    for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.1 && b.end(i) > t) return b.end(i) - t;
    return 0;
  };
  const set = (rate: number, latencyS: number, targetLatencyS: number, bufferS: number, reason: LiveRateChange['reason']) => {
    const previous = video.playbackRate;
    if (rate === previous) return;
    video.playbackRate = rate;
    touched = true;
    changes++;
    opts.onRate?.({ at: performance.now(), rate, previous, latencyS, targetLatencyS, bufferS, reason });
  };
  const tick = () => {
    const details = hls.levels[hls.currentLevel]?.details ?? hls.levels[hls.loadLevel]?.details;
    const latencyS = hls.latency;
    const targetLatencyS = opts.targetLatencyS ?? hls.targetLatency;
    if (!details?.live || video.paused || video.seeking || !(latencyS > 0) || targetLatencyS == null || !(targetLatencyS > 0)) {
      if (touched && video.playbackRate !== 1) set(1, latencyS, targetLatencyS ?? 0, forward(), 'on-target');
      return;
    }
    const bufferS = forward();
    const current = video.playbackRate;
    const rate = ctl.rate({ latencyS, targetLatencyS, bufferS, current });
    // rates are rounded to 0.01: the media element gets a few distinct values, not a new one on every tick
    const r = Math.round(rate * 100) / 100;
    const reason: LiveRateChange['reason'] = bufferS < bufferMinS ? 'low-buffer' : r > 1 ? 'catch-up' : r < 1 ? 'slow-down' : 'on-target';
    set(r, latencyS, targetLatencyS, bufferS, reason);
  };
  video.addEventListener('timeupdate', tick);
  return {
    get changes() {
      return changes;
    },
    stop() {
      video.removeEventListener('timeupdate', tick);
      if (touched && video.playbackRate !== 1) video.playbackRate = 1;
    },
  };
}
