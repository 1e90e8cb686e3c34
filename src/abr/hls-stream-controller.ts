/**
 * hls.js' stream controller without the re-fetch after a level switch.
 *
 * On a level switch hls.js 1.7 looks the buffer end up in the new level's fragments (`findFragmentByPTS`); its
 * `fragmentWithinToleranceTest` accepts the fragment that *contains* the buffer end before any tolerance applies, and
 * the buffered range usually ends a few ms before the segment boundary (AAC frames do not divide a 4 s segment; the
 * media element's buffered range is the intersection of the audio and video ranges). So the segment just buffered is
 * downloaded again at the new level: a whole extra download before the buffer grows, on every switch where it
 * happens (in our real-playback runs, 172 re-fetches in 42 DRL sessions of 120 s, 539 s of transfer time: see
 * BENCHMARKS "ABR in real playback"). Without a switch hls.js takes the next fragment instead (its `fragNext`
 * shortcut); this controller makes a switch do the same when it is safe:
 * - the fragment hls.js picked has the sequence number of the fragment buffered last (`fragPrevious`), on another
 *   level, of a VOD or live playlist alike;
 * - that fragment is fully buffered (hls.js' fragment tracker says so: not partial, not still appending) and the
 *   buffer end lies in it within `maxFragLookUpTolerance` of its end (hls.js' own tolerance for this lookup, default
 *   0.25 s, which its eager match bypasses; on our stream the audio ends 126 ms before the video's fragment end);
 * - the renditions are aligned there (the picked fragment starts and ends within the same tolerance of the buffered
 *   one, as the HLS authoring rules ask of a ladder: a level not played yet keeps its playlist's times, 83 ms off the
 *   PTS-corrected times of the level played on our stream), and the next fragment exists and is not loaded yet (a
 *   hole before a buffered next fragment is left to hls.js' re-fetch, which fills it).
 * Otherwise hls.js' choice stands (a seek, a flush, unaligned renditions, the end of the playlist).
 *
 * The class extends the app's own `Hls.DefaultConfig.streamController` (hls.js stays a peer dependency, never
 * bundled); pass it as `streamController` in the Hls config. It relies on the protected `getNextFragment`,
 * `fragPrevious`, `fragmentTracker` and `config` of hls.js 1.5–1.7.
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';

/** A fragment as the re-fetch rule reads it (a subset of hls.js' `Fragment`). */
export interface RefetchFragment {
  sn: number | 'initSegment';
  level: number;
  start: number;
  duration: number;
}

/**
 * The fragment to load instead of `picked`, or null to keep hls.js' choice.
 * @param picked what hls.js' `getNextFragment(pos, details)` returned
 * @param previous hls.js' `fragPrevious` (the main fragment buffered last)
 * @param previousBuffered whether hls.js' fragment tracker has `previous` fully buffered (state OK)
 * @param pos the buffer end hls.js looked up, s
 * @param fragments the new level's fragments (`details.fragments`), sequence numbers consecutive
 * @param tolS hls.js' `config.maxFragLookUpTolerance` (default 0.25), s: how far the buffer end may fall short of the
 *   buffered fragment's end, and the renditions' boundaries may differ
 */
export function skipRefetch<F extends RefetchFragment>(
  picked: F | null,
  previous: RefetchFragment | null,
  previousBuffered: boolean,
  pos: number,
  fragments: readonly F[],
  tolS: number,
): F | null {
  if (!picked || !previous || !previousBuffered) return null;
  if (typeof picked.sn !== 'number' || typeof previous.sn !== 'number') return null;
  if (picked.sn !== previous.sn || picked.level === previous.level) return null;
  const prevEnd = previous.start + previous.duration;
  // the buffer ends inside the last few ms of the buffered fragment
  if (!(pos >= previous.start && pos < prevEnd && prevEnd - pos <= tolS)) return null;
  if (Math.abs(picked.start - previous.start) > tolS) return null;
  if (Math.abs(picked.start + picked.duration - prevEnd) > tolS) return null;
  const first = fragments[0];
  if (!first || typeof first.sn !== 'number') return null;
  const next = fragments[picked.sn - first.sn + 1];
  return next && next.sn === picked.sn + 1 ? next : null;
}

/** What the re-fetch rule saw, for an app's log or a test: fragment `sn` was not loaded again at level `to`. */
export interface RefetchSkip {
  sn: number;
  /** level of the buffered copy */
  from: number;
  /** level switched to (the next fragment is loaded at it instead) */
  to: number;
  /** buffer end minus the buffered fragment's end, s (negative: how far the buffered range falls short of it) */
  shortS: number;
}

export interface StreamControllerOptions {
  /** called once per re-fetch avoided (hls.js may ask for the next fragment on several ticks before loading it) */
  onSkip?: (s: RefetchSkip) => void;
}

interface BaseStream {
  getNextFragment(pos: number, details: { fragments: RefetchFragment[] }): RefetchFragment | null;
}

/**
 * Build the stream controller class to pass as `streamController` in the Hls config:
 * `new Hls({ streamController: createStreamController(Hls), abrController: createAbrController(Hls, …) })`.
 * It extends the given hls.js' own stream controller, so it is typed as hls.js' `HlsConfig['streamController']`.
 * Throws when this hls.js has no `DefaultConfig.streamController` (before 1.0).
 */
export function createStreamController(HlsCtor: typeof Hls, opts: StreamControllerOptions = {}): HlsConfig['streamController'] {
  const Base = (HlsCtor as unknown as { DefaultConfig: { streamController?: new (...args: never[]) => BaseStream } }).DefaultConfig
    .streamController;
  if (typeof Base !== 'function') throw new Error('createStreamController: this hls.js has no DefaultConfig.streamController');

  class EdgeplayStreamController extends Base {
    /** the re-fetch reported last to `onSkip` (sn at level) */
    private skipped = '';

    override getNextFragment(pos: number, details: { fragments: RefetchFragment[] }): RefetchFragment | null {
      const picked = super.getNextFragment(pos, details);
      const self = this as unknown as {
        fragPrevious: RefetchFragment | null;
        fragmentTracker?: { getState(f: RefetchFragment): string };
        config?: { maxFragLookUpTolerance?: number };
      };
      const prev = self.fragPrevious;
      if (!picked || !prev || picked.sn !== prev.sn) return picked;
      const tracker = self.fragmentTracker;
      const buffered = tracker?.getState(prev) === 'OK';
      const next = skipRefetch(picked, prev, buffered, pos, details.fragments, self.config?.maxFragLookUpTolerance ?? 0.25);
      // only onto a fragment not loaded yet: a buffered next one means a hole before it, which the re-fetch fills
      if (!next || tracker?.getState(next) !== 'NOT_LOADED') return picked;
      const key = `${prev.sn}@${picked.level}`;
      if (key !== this.skipped) {
        this.skipped = key;
        opts.onSkip?.({ sn: prev.sn as number, from: prev.level, to: picked.level, shortS: pos - (prev.start + prev.duration) });
      }
      return next;
    }
  }
  return EdgeplayStreamController as unknown as HlsConfig['streamController'];
}
