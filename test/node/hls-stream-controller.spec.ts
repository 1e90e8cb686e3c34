/**
 * The re-fetch rule of `createStreamController` (src/abr/hls-stream-controller.ts): when hls.js, after a level switch,
 * picks the fragment it has just buffered again, the next fragment is loaded instead — only when that is safe.
 * Real hls.js playback with it: test/browser/abr.spec.ts.
 */
import { skipRefetch, type RefetchFragment } from '../../src/abr/hls-stream-controller.js';

/** a level's fragments: `n` of `dur` s, sequence numbers from `sn0` */
function level(level: number, n = 10, dur = 4, sn0 = 0): RefetchFragment[] {
  return Array.from({ length: n }, (_, i) => ({ sn: sn0 + i, level, start: i * dur, duration: dur }));
}

describe('skipRefetch (no re-fetch after a level switch)', () => {
  const low = level(0);
  const high = level(5);
  // fragment 3 ([12, 16)) buffered at level 0, the buffer ending 12 ms short of its end (AAC frames)
  const prev = low[3];
  const pos = 15.988;

  it('loads the next fragment of the new level when hls.js picked the one just buffered', () => {
    expect(skipRefetch(high[3], prev, true, pos, high, 0.25)).toBe(high[4]);
    // with sequence numbers that do not start at 0 (a sliding live window)
    const liveLow = level(0, 6, 4, 100);
    const liveHigh = level(5, 6, 4, 100);
    expect(skipRefetch(liveHigh[2], liveLow[2], true, liveLow[2].start + 3.99, liveHigh, 0.25)).toBe(liveHigh[3]);
  });

  it("keeps hls.js' choice whenever skipping could lose media", () => {
    // no switch, or another fragment than the buffered one
    expect(skipRefetch(low[3], prev, true, pos, low, 0.25)).toBeNull();
    expect(skipRefetch(high[4], prev, true, pos, high, 0.25)).toBeNull();
    // the buffered copy is not whole (still appending, partly evicted)
    expect(skipRefetch(high[3], prev, false, pos, high, 0.25)).toBeNull();
    // 0.2 s short is still within the tolerance (the boundary case); more than it (part of it is missing), or outside it, is not
    expect(skipRefetch(high[3], prev, true, 15.8, high, 0.25)).toBe(high[4]);
    expect(skipRefetch(high[3], prev, true, 15.7, high, 0.25)).toBeNull();
    expect(skipRefetch(high[3], prev, true, 11.9, high, 0.25)).toBeNull();
    expect(skipRefetch(high[3], prev, true, 16, high, 0.25)).toBeNull();
    // renditions not aligned there
    const shifted = high.map((f) => ({ ...f, start: f.start + 0.3 }));
    // (a playlist's times 83 ms off the PTS-corrected ones, as on our stream, are within the tolerance)
    const offset = high.map((f) => ({ ...f, start: f.start + 0.083 }));
    expect(skipRefetch(offset[3], prev, true, pos, offset, 0.25)).toBe(offset[4]);
    expect(skipRefetch(shifted[3], prev, true, pos, shifted, 0.25)).toBeNull();
    const longer = high.map((f, i) => (i === 3 ? { ...f, duration: 4.3 } : f));
    expect(skipRefetch(longer[3], prev, true, pos, longer, 0.25)).toBeNull();
    // the last fragment: nothing after it
    expect(skipRefetch(high[9], low[9], true, 39.99, high, 0.25)).toBeNull();
    // nothing buffered before, or nothing picked
    expect(skipRefetch(high[3], null, true, pos, high, 0.25)).toBeNull();
    expect(skipRefetch(null, prev, true, pos, high, 0.25)).toBeNull();
    // init segments are never media fragments
    expect(skipRefetch({ ...high[3], sn: 'initSegment' }, prev, true, pos, high, 0.25)).toBeNull();
  });
});
