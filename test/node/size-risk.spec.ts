/**
 * Risk-aware chunk sizes for the live policy (issue 14): the forecaster's error quantile measured on the stream as it
 * plays (src/abr/size-risk.ts) and the live simulator's RiskSizes source (src/sim/abr/live.ts), which learns from the
 * chunks the player downloaded. Synthetic streams: no dataset needed.
 */
import type { LiveObservation, LivePolicy } from '../../src/abr/live.js';
import { ErrorQuantile, FixedMargin, parseSizeRisk } from '../../src/abr/size-risk.js';
import { mulberry32 } from '../../src/core/random.js';
import { stepTrace } from '../../src/core/trace.js';
import { RiskSizes, TrueSizes, runLiveSession, type LiveVideo, type SizeSource } from '../../src/sim/abr/live.js';
import type { SimTrace } from '../../src/sim/abr/env.js';

const sim = (name: string, steps: Array<[number, number]>): SimTrace => {
  const t = stepTrace(name, steps);
  return { name, time: t.times, bw: t.mbps };
};

/** a VBR stream: every chunk's complexity drawn in [0.5, 1.5), common to every rung */
function video(n = 80, seed = 4): LiveVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200, 2400];
  const sizes = Array.from({ length: n }, () => {
    const c = 0.5 + rng();
    return ladderKbps.map((k) => (c * k * 1000 * 2) / 8);
  });
  return { name: `vbr${seed}`, ladderKbps, chunkS: 2, sizes, heads: null };
}

/** a forecaster that is `bias` times the truth for the chunks not yet published (published ones are exact) */
class Biased implements SizeSource {
  readonly name = 'biased';
  constructor(
    private v: LiveVideo,
    private bias: (chunk: number, rung: number) => number,
  ) {}
  sizes(origin: number, from: number, H: number): number[][] {
    const n = this.v.sizes.length;
    return Array.from({ length: H }, (_, h) => {
      const c = Math.min(from + h, n - 1);
      return this.v.sizes[c].map((b, r) => (from + h < origin ? b : b * this.bias(c, r)));
    });
  }
}

/** plays `pick(observation index)` and keeps what it was told */
class Recorder implements LivePolicy {
  readonly name = 'recorder';
  seen: LiveObservation[] = [];
  constructor(private pick: (i: number) => number = () => 1) {}
  decide(o: LiveObservation): number {
    this.seen.push(o);
    return this.pick(this.seen.length - 1);
  }
}

describe('size risk: the error quantile of the forecaster on the stream', () => {
  it('is the interpolated quantile of the last `window` log errors, the prior before `minPoints`, clipped', () => {
    const q = new ErrorQuantile(0.8, { window: 5, minPoints: 3, prior: 0.05 });
    expect(q.logFactor()).toBe(0.05);
    q.observe(100, 100 * Math.exp(0.1));
    q.observe(100, 100 * Math.exp(-0.2));
    expect(q.logFactor()).toBe(0.05); // 2 < minPoints
    q.observe(100, 100 * Math.exp(0.3));
    // errors -0.2, 0.1, 0.3: position 0.8 * 2 = 1.6 -> 0.1 + 0.6 * 0.2
    expect(q.logFactor()).toBeCloseTo(0.22, 10);
    for (const e of [0.4, 0.4, 0.4, 0.4]) q.observe(100, 100 * Math.exp(e));
    // the window keeps the last 5: 0.3 and four 0.4s -> the 0.8-quantile is 0.4
    expect(q.logFactor()).toBeCloseTo(0.4, 10);
    q.observe(0, 100); // a missing forecast is ignored
    q.observe(100, Number.NaN);
    expect(q.logFactor()).toBeCloseTo(0.4, 10);
    for (let i = 0; i < 5; i++) q.observe(100, 1000); // log 10 = 2.3, clipped to 1
    expect(q.logFactor()).toBe(1);
    q.reset();
    expect(q.logFactor()).toBe(0.05);
    const low = new ErrorQuantile(0.5, { minPoints: 1 });
    low.observe(100, 10);
    expect(low.logFactor()).toBe(-0.5);
  });

  it('parses qNN and xM and rejects anything else; the fixed margin ignores errors', () => {
    const q = parseSizeRisk('q75');
    expect(q).toBeInstanceOf(ErrorQuantile);
    expect((q as ErrorQuantile).tau).toBe(0.75);
    const x = parseSizeRisk('x1.1');
    expect(x).toBeInstanceOf(FixedMargin);
    x.observe(100, 1000);
    expect(x.logFactor()).toBeCloseTo(Math.log(1.1), 12);
    expect(parseSizeRisk('x1.2u').upOnly).toBeTrue();
    expect(parseSizeRisk('q80u').name).toBe('q80u');
    expect(parseSizeRisk('q80').upOnly).toBeFalse();
    for (const bad of ['q0', 'q100', 'x0', 'x-1', 'p80', '80', 'q8.5', 'q80uu', 'ux1', ''])
      expect(() => parseSizeRisk(bad))
        .withContext(bad)
        .toThrowError(/size risk/);
    expect(() => new ErrorQuantile(1)).toThrowError(/tau/);
  });
});

describe('live simulator: RiskSizes', () => {
  const v = video();
  const fast = sim('fast', [[600, 20]]);

  it("learns a forecaster's bias from the downloaded chunks only and tells the policy the corrected sizes", () => {
    // the forecaster under-predicts rung 1 by 0.7x and rung 2 by 0.5x; the policy fetches rung 1 only, so the
    // median error it learns is rung 1's: log(1 / 0.7) — applied to every rung
    const base = new Biased(v, (_c, r) => (r === 2 ? 0.5 : 0.7));
    const src = new RiskSizes(base, new ErrorQuantile(0.5, { minPoints: 3 }));
    const rec = new Recorder();
    runLiveSession(rec, v, fast, src, { startChunk: 10, chunks: 40 });
    expect(rec.seen.length).toBe(39);
    for (const [i, o] of rec.seen.entries()) {
      const c = o.nextIndex;
      const told = o.sizes[0][1] / v.sizes[c][1];
      // the first decisions see the point forecast; from the 4th on, 3 downloaded chunks have taught the bias
      if (i < 3) expect(told).withContext(`decision ${i}`).toBeCloseTo(0.7, 9);
      else {
        expect(told).withContext(`decision ${i}`).toBeCloseTo(1, 9);
        expect(o.sizes[0][2] / v.sizes[c][2]).toBeCloseTo(0.5 / 0.7, 9);
      }
    }
    // a second session with the same source instance starts over only after reset()
    src.reset();
    const again = new Recorder();
    runLiveSession(again, v, fast, src, { startChunk: 10, chunks: 10 });
    expect(again.seen[0].sizes[0][1] / v.sizes[again.seen[0].nextIndex][1]).toBeCloseTo(0.7, 9);
  });

  it('learns at the rung actually fetched, and never inflates published chunks', () => {
    // exact at rung 0, 0.8x at rung 3; the policy switches from rung 0 to rung 3 at decision 10
    const base = new Biased(v, (_c, r) => (r === 3 ? 0.8 : 1));
    const src = new RiskSizes(base, new ErrorQuantile(0.9, { window: 4, minPoints: 1 }));
    const rec = new Recorder((i) => (i < 10 ? 0 : 3));
    runLiveSession(rec, v, sim('slowish', [[600, 6]]), src, { startChunk: 10, chunks: 30 });
    const ratio = (i: number) => rec.seen[i].sizes[0][0] / v.sizes[rec.seen[i].nextIndex][0];
    // rung 0's forecast is exact: nothing to learn while fetching rung 0
    for (let i = 1; i <= 10; i++) expect(ratio(i)).withContext(`decision ${i}`).toBeCloseTo(1, 9);
    // after 4 chunks at rung 3 every error in the window is log 1.25
    for (let i = 15; i < rec.seen.length; i++) expect(ratio(i)).withContext(`decision ${i}`).toBeCloseTo(1.25, 9);
    // rows of published chunks stay the truth (exact) whatever the factor: look further ahead into the past
    const pub = src.sizes(40, 35, 5);
    for (let h = 0; h < 5; h++) expect(pub[h]).toEqual(v.sizes[35 + h]);
    const ahead = src.sizes(40, 40, 2);
    expect(ahead[0][3] / v.sizes[40][3]).toBeCloseTo(0.8 * 1.25, 9);
  });

  it('with upOnly, inflates only the rungs above the one last fetched', () => {
    const base = new Biased(v, () => 0.8);
    const src = new RiskSizes(base, parseSizeRisk('q50u', { minPoints: 1 }));
    expect(src.name).toBe('biased+q50u');
    const rec = new Recorder((i) => (i < 8 ? 1 : 2));
    runLiveSession(rec, v, fast, src, { startChunk: 10, chunks: 20 });
    for (let i = 1; i < rec.seen.length; i++) {
      const o = rec.seen[i];
      const last = i <= 8 ? 1 : 2; // the rung fetched before decision i
      for (let r = 0; r < 4; r++)
        expect(o.sizes[0][r] / v.sizes[o.nextIndex][r])
          .withContext(`decision ${i} rung ${r}`)
          .toBeCloseTo(r > last ? 1 : 0.8, 9);
    }
  });

  it('with true sizes and any quantile margin of zero errors, plays exactly as the true sizes do', () => {
    const t = new TrueSizes(v);
    const runs = [t, new RiskSizes(t, new ErrorQuantile(0.9, { minPoints: 1 }))].map((s) => {
      const p = new Recorder((i) => (i % 3) + 1);
      return runLiveSession(p, v, sim('mid', [[600, 3]]), s, { startChunk: 10, chunks: 30 });
    });
    expect(runs[1]).toEqual(runs[0]);
  });
});
