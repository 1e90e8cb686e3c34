/**
 * The media clock against the wall clock, for the real-playback bench pages (demo/bench-abr.ts, VOD, and
 * demo/bench-abr-live.ts, live): on a machine starved of CPU Chromium plays slower than real time without a
 * 'waiting' event, which hides stalls; bench/browser-abr.ts (`playbackLagShare`, `--max-lag`) rejects such runs.
 *
 * From the first 'playing' on, the clock integrates the media time the wall clock says should have played — wall
 * time × `playbackRate` while the element is playing (not between 'waiting'/'pause'/'ended' and the next
 * 'playing'), so a live catch-up at 1.5× or a slow-down at 0.8× is expected, not lag — and the media time that did
 * play: forward steps of `currentTime` sampled at every 'timeupdate' and every 100 ms, a step larger than the
 * expected advance + 0.5 s or backwards being a jump (a seek, hls.js skipping a gap), not playback.
 * `playback_lag_s` = expected − played: media seconds the wall clock allowed that neither played nor fell in a
 * reported stall.
 */

/** The parts of an HTMLMediaElement the clock reads (an EventTarget with the media clock). */
export interface MediaClockSource extends EventTarget {
  readonly currentTime: number;
  readonly playbackRate: number;
}

/** What a page reports: wall seconds since the first 'playing', media seconds played, the lag (both in s; null before playback). */
export interface PlaybackClockReport {
  play_wall_s: number | null;
  media_s: number | null;
  playback_lag_s: number | null;
}

/**
 * Starts measuring `video` (see the file comment). `now` (ms, default performance.now) and the sampling interval
 * (default 100 ms; 0: only 'timeupdate') are for tests. `report()` may be called at any time; `stop()` ends the
 * interval timer.
 */
export function playbackClock(
  video: MediaClockSource,
  now: () => number = () => performance.now(),
  sampleMs = 100,
): { report: () => PlaybackClockReport; stop: () => void } {
  let firstWallMs = NaN;
  let runningSinceMs = NaN; // NaN while not playing
  let rate = 1;
  let expectedS = 0; // media the wall clock allowed
  let playedS = 0; // media that played
  let lastMediaS = NaN;
  let lastWallMs = NaN;
  const settle = () => {
    if (Number.isNaN(runningSinceMs)) return;
    expectedS += ((now() - runningSinceMs) / 1000) * rate;
    runningSinceMs = now();
  };
  const sample = () => {
    if (Number.isNaN(firstWallMs)) return;
    const t = video.currentTime;
    const w = now();
    if (!Number.isNaN(lastMediaS)) {
      const step = t - lastMediaS;
      const allowed = Number.isNaN(runningSinceMs) ? 0 : ((w - lastWallMs) / 1000) * Math.max(rate, 1);
      if (step > 0 && step <= allowed + 0.5) playedS += step;
    }
    lastMediaS = t;
    lastWallMs = w;
  };
  const on = (type: string, f: () => void) => video.addEventListener(type, f);
  on('playing', () => {
    if (Number.isNaN(firstWallMs)) {
      firstWallMs = now();
      lastMediaS = video.currentTime;
      lastWallMs = firstWallMs;
    } else sample();
    rate = video.playbackRate;
    runningSinceMs = now();
  });
  for (const type of ['waiting', 'pause', 'ended'])
    on(type, () => {
      sample();
      settle();
      runningSinceMs = NaN;
    });
  // a seek (hls.js jumping a gap or to the live edge) is no playback: measure from the new position on. It does not
  // stop the wall clock's expectation (a seek into buffered media fires no 'playing' after it); a seek that has to
  // wait for data fires 'waiting'.
  for (const type of ['seeking', 'seeked'])
    on(type, () => {
      lastMediaS = video.currentTime;
      lastWallMs = now();
    });
  on('ratechange', () => {
    sample();
    settle();
    rate = video.playbackRate;
  });
  on('timeupdate', sample);
  const timer = sampleMs > 0 ? setInterval(sample, sampleMs) : null;
  return {
    report: () => {
      if (Number.isNaN(firstWallMs)) return { play_wall_s: null, media_s: null, playback_lag_s: null };
      sample();
      settle();
      return { play_wall_s: (now() - firstWallMs) / 1000, media_s: playedS, playback_lag_s: expectedS - playedS };
    },
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
