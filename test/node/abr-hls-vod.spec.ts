/**
 * The hls.js-semantics ABR simulator (src/sim/abr/hls-vod.ts) on synthetic links and a CBR ladder: the shaped link's
 * arithmetic, hls.js' buffer target, the re-download of the buffered fragment on a switch up, the emergency abort.
 * No dataset needed.
 */
import type { AbrObservation, AbrPolicy } from '../../src/core/abr.js';
import { HLS_VOD_LEVELS, HlsVodEnv, ShapedTraceLink, runHlsVod } from '../../src/sim/abr/hls-vod.js';
import { horizonExpert } from '../../src/sim/abr/horizon.js';
import { DEFAULT_ABANDON } from '../../src/abr/abandon.js';
import type { SimTrace } from '../../src/sim/abr/env.js';

/** a trace of `secs` one-second intervals at `mbps(i)` */
function trace(name: string, secs: number, mbps: (i: number) => number): SimTrace {
  const time: number[] = [0];
  const bw: number[] = [mbps(0)];
  for (let i = 0; i < secs; i++) {
    time.push(i + 1);
    bw.push(mbps(i));
  }
  return { name, time, bw };
}
/** CBR fragments of our ladder: AVERAGE-BANDWIDTH × 4 s */
const sizes = HLS_VOD_LEVELS.averageBps.map((b) => Array.from({ length: 40 }, () => Math.round((b * 4) / 8)));
const fixed = (q: number): AbrPolicy => ({ name: `fixed${q}`, decide: () => q });

describe('hls.js-semantics ABR simulator (hls-vod)', () => {
  it('shaped link: the last byte arrives after the RTT plus bytes / rate, across rate changes', () => {
    const link = new ShapedTraceLink(
      trace('steps', 100, (i) => (i < 10 ? 8 : 4)),
      80,
    );
    // 8 Mb/s = 1e6 B/s: 500 kB from t = 1 s ends at 1.5 s
    expect(link.deliver(1000, 500_000)).toBeCloseTo(1500, 6);
    // from 9.5 s: 0.5 s at 1e6 B/s (500 kB), the remaining 500 kB at 0.5e6 B/s (1 s): 11 s
    expect(link.deliver(9500, 1_000_000)).toBeCloseTo(11000, 6);
    expect(link.bytesBetween(9500, 11000)).toBeCloseTo(1_000_000, 3);
  });

  it('a level the link carries: no stall, and the first fragment fetched again at the level switched up to', () => {
    const r = runHlsVod(
      fixed(2),
      trace('flat10', 600, () => 10),
      { sizes, chunks: 20 },
    );
    expect(r.stallS).toBe(0);
    expect(r.levels).toEqual(new Array(20).fill(2));
    // fragment 0 at the start level 0, then again at level 2 (hls.js' up-switch behaviour), then one load each
    expect(r.loads.length).toBe(21);
    expect(r.loads[0]).toEqual(jasmine.objectContaining({ index: 0, level: 0 }));
    expect(r.loads[1]).toEqual(jasmine.objectContaining({ index: 0, level: 2 }));
    expect(r.aborts).toBe(0);
    expect(r.bitrateMean).toBeCloseTo(1.2, 9);
  });

  it("the measured re-fetch rule: never the first fragment, always on a new level's first switch, 45 % of switches back", () => {
    // levels by fragment index (the decision after fragment i names fragment i + 1's level): up after the first
    // fragment, then alternate between two levels already played
    const plan = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3];
    const policy: AbrPolicy = { name: 'plan', decide: (o) => plan[Math.min(o.nextIndex - 1, plan.length - 1)] };
    const r = runHlsVod(
      policy,
      trace('flat20', 600, () => 20),
      { sizes, chunks: 22, refetch: 'measured' },
    );
    const again = r.loads.filter((l, i) => i > 0 && l.index === r.loads[i - 1].index);
    // no load of fragment 0 at level 2: the switch after the first fragment loads fragment 1
    expect(r.loads.filter((l) => l.index === 0).length).toBe(1);
    // level 3's first switch re-fetches, the 19 switches back to a played level re-fetch on floor(19 × 0.45) = 8
    expect(again[0]).toEqual(jasmine.objectContaining({ level: 3 }));
    expect(again.length).toBe(1 + 8);
    // the default ('up'): every up-switch after the first fragment re-fetches, and fragment 0 too
    const up = runHlsVod(
      policy,
      trace('flat20', 600, () => 20),
      { sizes, chunks: 22 },
    );
    expect(up.loads.filter((l, i) => i > 0 && l.index === up.loads[i - 1].index).length).toBe(11);
    // 'none' (the player runs createStreamController): one load per fragment, the same levels, and no slower
    const none = runHlsVod(
      policy,
      trace('flat20', 600, () => 20),
      { sizes, chunks: 22, refetch: 'none' },
    );
    expect(none.loads.length).toBe(22);
    expect(none.loads.map((l) => l.index)).toEqual(Array.from({ length: 22 }, (_, i) => i));
    // every fragment at the level the plan named for it (the decision for fragment i + 1 is plan[i])
    expect(none.levels.slice(1)).toEqual(plan.slice(0, 21));
    expect(none.loads[21].endMs).toBeLessThan(r.loads[r.loads.length - 1].endMs);
  });

  it("keeps the forward buffer at hls.js' target for the level: 8 × 60 MB / BANDWIDTH, at least 30 s", () => {
    const target = (q: number) => Math.max((8 * 60e6) / HLS_VOD_LEVELS.peakBps[q], 30);
    const top = runHlsVod(
      fixed(5),
      trace('fast', 900, () => 40),
      { sizes, chunks: 40 },
    );
    const maxTop = Math.max(...top.loads.map((l) => l.bufferS));
    expect(maxTop).toBeGreaterThan(target(5) - 1);
    expect(maxTop).toBeLessThanOrEqual(target(5) + 4 + 1e-9);
    const low = runHlsVod(
      fixed(1),
      trace('fast', 900, () => 40),
      { sizes, chunks: 40 },
    );
    // 8 × 60 MB / 1.31 Mb/s = 365 s > the 160 s stream: the buffer never waits, it holds nearly all of it
    expect(Math.max(...low.loads.map((l) => l.bufferS))).toBeGreaterThan(140);
    expect(top.stallS + low.stallS).toBe(0);
  });

  it('abandons a top-level fragment when the link collapses, refetches it lower, and stalls less than without the abort', () => {
    const collapse = trace('collapse', 600, (i) => (i < 3 ? 30 : 0.6));
    const withAbort = runHlsVod(fixed(5), collapse, { sizes, chunks: 12 });
    const noAbort = runHlsVod(fixed(5), collapse, { sizes, chunks: 12, abort: false });
    expect(withAbort.aborts).toBeGreaterThan(0);
    const i = withAbort.loads.findIndex((l) => l.aborted);
    const next = withAbort.loads[i + 1];
    expect(next.index).toBe(withAbort.loads[i].index);
    expect(next.level).toBeLessThan(withAbort.loads[i].level);
    expect(noAbort.aborts).toBe(0);
    expect(withAbort.stallS).toBeLessThan(noAbort.stallS);
  });

  it("with the controller's abandonment, catches the mid-level collapse hls.js' rule lets through", () => {
    // 8 Mb/s for 3 s, then 0.25 Mb/s: a level-2 fragment (618 kB) takes ~20 s, the buffer holds ~13 s
    const collapse = trace('mid', 600, (i) => (i < 3 ? 8 : 0.25));
    const hlsOnly = runHlsVod(fixed(2), collapse, { sizes, chunks: 12 });
    const ours = runHlsVod(fixed(2), collapse, { sizes, chunks: 12, abandonRule: DEFAULT_ABANDON });
    // hls.js weighs only level 1 (its peak 1.31 Mb/s: ~21 s) and keeps loading
    expect(hlsOnly.aborts).toBe(0);
    expect(ours.aborts).toBeGreaterThan(0);
    const i = ours.loads.findIndex((l) => l.aborted);
    expect(ours.loads[i + 1].index).toBe(ours.loads[i].index);
    expect(ours.loads[i + 1].level).toBeLessThan(2);
    expect(ours.stallS).toBeLessThan(hlsOnly.stallS - 1);
  });

  it("sends the controller's observation: buffer incl. the fragment just loaded, bytes/ms throughputs, remaining count", () => {
    const env = new HlsVodEnv({ sizes, chunks: 10 });
    const obs: AbrObservation = env.reset(trace('flat8', 600, () => 8));
    expect(obs.remain).toBe(9);
    expect(obs.nextIndex).toBe(1);
    expect(obs.throughputs.length).toBe(1);
    // 8 Mb/s = 1000 bytes/ms at most, less with the RTT
    expect(obs.throughputs[0]).toBeLessThan(1000);
    expect(obs.throughputs[0]).toBeGreaterThan(500);
    expect(obs.bufferS).toBeGreaterThanOrEqual(4);
    let steps = 0;
    for (let s = env.step(0); !s.done; s = env.step(0)) steps++;
    expect(steps).toBe(8);
    expect(() => env.step(0)).toThrowError(/ended/);
  });

  it("reads the buffer as the controller does at FRAG_LOADED: before the fragment's append, plus its 4 s — never counted twice (session 12)", () => {
    // createAbrController sends bufferAhead(media) + the fragment's duration when the fragment has *loaded*, i.e. before
    // it is appended; the simulator read the buffer after the append and added the 4 s again (8 s after the first one)
    const env = new HlsVodEnv({ sizes, chunks: 12, refetch: 'none' });
    let obs: AbrObservation | null = env.reset(trace('flat8', 600, () => 8));
    expect(obs.bufferS).toBeCloseTo(4, 9); // nothing was buffered before the first fragment
    let checked = 0;
    while (obs) {
      const s = env.step(1);
      obs = s.obs;
      if (!obs) break;
      // computed independently from the load log: k fragments (4 s each) appended before fragment k's load ended,
      // playback running since fragment 0's append (its last byte + appendMs 30 ms), no stall on this link; plus 4 s
      const r = env.result();
      const k = r.loads.length - 1;
      const playedS = (r.loads[k].endMs - (r.loads[0].endMs + 30)) / 1000;
      expect(r.stallS).toBe(0);
      expect(obs.bufferS)
        .withContext(`fragment ${k}`)
        .toBeCloseTo(4 * k - playedS + 4, 6);
      checked++;
    }
    expect(checked).toBe(10);
  });
});

describe("Comyco's instant solver (horizon expert)", () => {
  it('on a constant link takes the top levels on a fast link with a buffer, the lowest ones on a starved link', () => {
    const ladder = [300, 750, 1200, 1850, 2850, 4300];
    const cbr = ladder.map((k) => Array.from({ length: 48 }, () => k * 500));
    const tr = trace('flat3', 600, () => 3);
    const st = { chunk: 5, ptr: 20, last: 0, bufMs: 12000, lastQ: 3 };
    const a = horizonExpert(tr, cbr, st, { horizon: 3 });
    // 2850 kb/s fits a 3 Mb/s link with a 12 s buffer; 4300 kb/s drains it 1.4 s per chunk, which three chunks afford
    expect(a.level).toBeGreaterThanOrEqual(4);
    const starved = horizonExpert(
      trace('slow', 600, () => 0.5),
      cbr,
      { ...st, bufMs: 0 },
      { horizon: 3 },
    );
    expect(starved.level).toBeLessThanOrEqual(1);
  });
});
