/**
 * The controller's abandonment rule (src/abr/abandon.ts) on hand-made downloads. In the simulator:
 * test/node/abr-hls-vod.spec.ts; in real hls.js: test/browser/abr.spec.ts.
 */
import { DEFAULT_ABANDON, abandonLevel, checkAbandonRule, type AbandonState } from '../../src/abr/abandon.js';

const LADDER = [363265, 798422, 1236788, 1868632, 2826671, 4248935];

/** a level-5 fragment of 2.1 MB, 200 kB in after 2 s of loading (first byte at 0.1 s): ~100 kB/s */
function state(over: Partial<AbandonState> = {}): AbandonState {
  return {
    level: 5,
    fragS: 4,
    loadedBytes: 190_000,
    totalBytes: 2_100_000,
    loadingS: 2,
    streamingS: 1.9,
    ttfbS: 0.1,
    bufferS: 8,
    playbackRate: 1,
    ladderBps: LADDER,
    ...over,
  };
}

describe('abandonLevel (the controller’s emergency abort)', () => {
  const RULE = { minGainS: 0.5, marginS: 1, minLoadS: 1 };

  it('abandons for the highest lower level that fits in the buffer with the margin', () => {
    // at 100 kB/s the rest takes 19.1 s against 8 s of buffer; level l takes 0.1 + 2.1 MB × ladder[l]/ladder[5] / 100 kB/s:
    // level 2: 6.2 s (+1 s margin fits 8 s), level 3: 9.3 s (does not)
    expect(abandonLevel(state(), RULE)).toBe(2);
    // less buffer: only level 1 fits (4.0 s + 1)
    expect(abandonLevel(state({ bufferS: 5.5 }), RULE)).toBe(1);
    // nothing fits: the lowest level, since it still saves most of the stall
    expect(abandonLevel(state({ bufferS: 0.5 }), RULE)).toBe(0);
  });

  it('keeps loading when finishing fits, when the gain is small, and before it may judge', () => {
    // the rest (19.1 s) fits in 20 s of buffer
    expect(abandonLevel(state({ bufferS: 20 }), RULE)).toBeNull();
    // it would stall 0.3 s: less than the least gain
    expect(abandonLevel(state({ bufferS: 18.8 }), RULE)).toBeNull();
    // the lowest level, paused, no byte yet, too early (minLoadS 1 s), everything in
    expect(abandonLevel(state({ level: 0 }), RULE)).toBeNull();
    expect(abandonLevel(state({ playbackRate: 0 }), RULE)).toBeNull();
    expect(abandonLevel(state({ loadedBytes: 0 }), RULE)).toBeNull();
    expect(abandonLevel(state({ loadingS: 0.9 }), RULE)).toBeNull();
    expect(abandonLevel(state({ loadedBytes: 2_100_000 }), RULE)).toBeNull();
    // without minLoadS the rule waits half the fragment, as hls.js
    expect(abandonLevel(state({ loadingS: 1.5 }), { minGainS: 0.5, marginS: 1 })).toBeNull();
    expect(abandonLevel(state({ loadingS: 2.1 }), { minGainS: 0.5, marginS: 1 })).toBe(2);
    // playing at 2× drains the buffer twice as fast: 8 s of buffer last 4 s, only level 1 fits (4.0 s + 1 > 4: none), so 0
    expect(abandonLevel(state({ playbackRate: 2 }), RULE)).toBe(0);
  });

  it("never goes below the player's lowest allowed level (hls.js' minAutoLevel)", () => {
    // from level 5 with minLevel 2: level 2 takes 6.2 s, fits with 1 s to spare
    expect(abandonLevel(state({ minLevel: 2 }), RULE)).toBe(2);
    // nothing fits: minLevel itself, not level 0
    expect(abandonLevel(state({ minLevel: 3, bufferS: 0.5 }), RULE)).toBe(3);
    // loading at minLevel already: nothing lower to go to (it would reload the same level)
    expect(abandonLevel(state({ level: 3, minLevel: 3, bufferS: 0.5 }), RULE)).toBeNull();
  });

  it('refuses rules whose constants make no sense', () => {
    expect(() => checkAbandonRule({ minGainS: 0, marginS: 1 })).toThrowError(/minGainS/);
    expect(() => checkAbandonRule({ minGainS: 1, marginS: -1 })).toThrowError(/marginS/);
    expect(() => checkAbandonRule({ minGainS: 1, marginS: 1, minLoadS: -2 })).toThrowError(/minLoadS/);
    expect(() => checkAbandonRule(RULE)).not.toThrow();
  });
});
