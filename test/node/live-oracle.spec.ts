/**
 * The offline live ABR ceiling (src/sim/abr/live-oracle.ts): its beam search finds the exhaustive optimum on a small
 * session, its plan replays exactly through the simulator, it is never worse than RobustMPC told the true sizes on
 * hand-built traces and strictly better where looking one chunk ahead is not enough; LiveSession.clone is independent.
 */
import { LiveRobustMpc, type LiveObservation, type LivePolicy } from '../../src/abr/live.js';
import { LiveSession, TrueSizes, runLiveSession, type LiveOptions, type LiveVideo, type SizeSource } from '../../src/sim/abr/live.js';
import { LiveOraclePolicy, oracleDecision, planLiveOracle } from '../../src/sim/abr/live-oracle.js';
import type { SimTrace } from '../../src/sim/abr/env.js';
import { handTraces, sim, syntheticLiveVideo } from './live-fixtures.js';

/** the specs' synthetic stream (test/node/live-fixtures.ts) */
const video = (n = 60, seed = 3): LiveVideo => syntheticLiveVideo(n, seed);
/** plays a fixed sequence of rungs */
class Fixed implements LivePolicy {
  readonly name = 'fixed';
  private i = 0;
  constructor(private seq: number[]) {}
  decide(_o: LiveObservation): number {
    return this.seq[this.i++];
  }
}
const qoe = (p: LivePolicy, v: LiveVideo, tr: SimTrace, opts: LiveOptions) => runLiveSession(p, v, tr, new TrueSizes(v), opts).qoe.total;

/** 1.5 Mbps, then 8 s at 0.25 Mbps, then 1.5 Mbps again: a drop a one-chunk look-ahead walks into */
const drop = sim('drop', [
  [13, 1.5],
  [8, 0.25],
  [40, 1.5],
]);
const hand = [...handTraces(), drop];

describe('live ABR oracle (offline ceiling, src/sim/abr/live-oracle.ts)', () => {
  it('LiveSession.clone is independent: stepping the copy leaves the original where it was', () => {
    const v = video();
    const s = new LiveSession(v, hand[1], new TrueSizes(v), { startChunk: 5, chunks: 10 });
    s.step(0);
    s.step(2);
    const before = { t: s.t, buf: s.buf, k: s.k, total: s.result.qoe.total, lat: s.latency };
    const c = s.clone();
    c.step(2);
    c.step(1);
    expect({ t: s.t, buf: s.buf, k: s.k, total: s.result.qoe.total, lat: s.latency }).toEqual(before);
    // the original then plays exactly as a fresh session with the same rungs
    s.step(2);
    s.step(1);
    const f = new LiveSession(v, hand[1], new TrueSizes(v), { startChunk: 5, chunks: 10 });
    for (const q of [0, 2, 2, 1]) f.step(q);
    expect(s.result.qoe.total).toBeCloseTo(f.result.qoe.total, 9);
    expect(c.result.qoe.total).toBeCloseTo(f.result.qoe.total, 9);
    expect(c.t).toBeCloseTo(f.t, 12);
  });

  it('finds the exhaustive optimum of a small session (where a beam of 1 does not), and its plan replays to the planned QoE', () => {
    const v = video();
    /** a see-saw link: 1.4 Mbps for 4 s, 0.4 Mbps for 3 s, three times */
    const saw = sim('saw', [
      [4, 1.4],
      [3, 0.4],
      [4, 1.4],
      [3, 0.4],
      [4, 1.4],
      [3, 0.4],
      [40, 1],
    ]);
    for (const [tr, startChunk] of [
      [saw, 2],
      [drop, 6],
    ] as Array<[SimTrace, number]>) {
      const opts: LiveOptions = { startChunk, chunks: 8, targetLatencyS: 3 };
      let best = -Infinity;
      for (let code = 0; code < 3 ** 7; code++) {
        const seq = Array.from({ length: 7 }, (_, i) => Math.floor(code / 3 ** i) % 3);
        best = Math.max(best, qoe(new Fixed(seq), v, tr, opts));
      }
      const plan = planLiveOracle(v, tr, opts, 8);
      expect(plan.plan.length).toBe(7);
      expect(plan.qoeTotal).withContext(tr.name).toBeCloseTo(best, 6);
      const p = new LiveOraclePolicy(v, tr, opts, 8);
      expect(qoe(p, v, tr, opts))
        .withContext(tr.name)
        .toBeCloseTo(plan.qoeTotal, 9);
      if (tr === saw) expect(planLiveOracle(v, tr, opts, 1).qoeTotal).toBeLessThan(best - 100);
    }
  });

  it('is never worse than RobustMPC with true sizes on hand-built traces, and strictly better where myopia costs', () => {
    const v = video();
    const opts: LiveOptions = { startChunk: 5, chunks: 25, targetLatencyS: 3 };
    for (const tr of hand) {
      const o = qoe(new LiveOraclePolicy(v, tr, opts), v, tr, opts);
      const m = qoe(new LiveRobustMpc(), v, tr, opts);
      expect(o)
        .withContext(tr.name)
        .toBeGreaterThanOrEqual(m - 1e-9);
    }
    // the drop: RobustMPC (true sizes, estimated throughput) and a one-chunk clairvoyant planner walk into it; the
    // whole-session plan backs off before it
    const full = qoe(new LiveOraclePolicy(v, drop, opts), v, drop, opts);
    const h1 = qoe(new LiveOraclePolicy(v, drop, opts, 8, 1), v, drop, opts);
    const mpc = qoe(new LiveRobustMpc(), v, drop, opts);
    expect(full).toBeGreaterThan(mpc * 1.05);
    expect(full).toBeGreaterThan(h1 * 1.01);
  });

  it('oracleDecision (the imitation expert) is the receding oracle-hN decision, whatever size source the session tells', () => {
    const v = video();
    const opts: LiveOptions = { startChunk: 5, chunks: 20, targetLatencyS: 3 };
    /** a size source that lies (all sizes x 3): the downloads still take the true bytes */
    const truth = new TrueSizes(v);
    const lying: SizeSource = {
      name: 'x3',
      sizes: (origin: number, from: number, H: number) => truth.sizes(origin, from, H).map((r) => r.map((b) => 3 * b)),
    };
    for (const tr of [hand[1], drop]) {
      const plan = planLiveOracle(v, tr, opts, 2, undefined, 3).plan;
      for (const src of [new TrueSizes(v), lying]) {
        const s = new LiveSession(v, tr, src, opts);
        s.step(0);
        const seq: number[] = [];
        while (!s.done) {
          s.awaitDecisionPoint();
          const k = s.k;
          const q = oracleDecision(s, 3, 2);
          expect(s.k).toBe(k); // the session itself is not stepped
          seq.push(q);
          s.step(q);
        }
        expect(seq).withContext(`${tr.name} ${src.name}`).toEqual(plan);
      }
    }
    const s = new LiveSession(v, drop, new TrueSizes(v), { ...opts, chunks: 2 });
    s.step(0);
    s.step(0);
    expect(() => oracleDecision(s)).toThrowError(/finished/);
    expect(() => oracleDecision(new LiveSession(v, drop, new TrueSizes(v), opts), 0)).toThrowError(/horizon/);
    expect(() => oracleDecision(new LiveSession(v, drop, new TrueSizes(v), opts), 5, 0)).toThrowError(/beam/);
    // a clone shares the noise closure: searching a noisy session would advance its own noise stream (review, session 12)
    const noisy = new LiveSession(v, drop, new TrueSizes(v), { ...opts, noise: () => 1 });
    expect(() => oracleDecision(noisy)).toThrowError(/noise/);
  });

  it('refuses a bad beam, a noisy session and a chunk outside the planned session', () => {
    const v = video();
    const opts: LiveOptions = { startChunk: 5, chunks: 6 };
    expect(() => planLiveOracle(v, drop, opts, 0)).toThrowError(/beam/);
    expect(() => planLiveOracle(v, drop, opts, 8, undefined, -1)).toThrowError(/horizon/);
    expect(() => planLiveOracle(v, drop, { ...opts, noise: () => 1 })).toThrowError(/noise/);
    const p = new LiveOraclePolicy(v, drop, opts, 2);
    expect(p.name).toBe('oracle');
    expect(new LiveOraclePolicy(v, drop, opts, 2, 5).name).toBe('oracle-h5');
    const s = new LiveSession(v, drop, new TrueSizes(v), { ...opts, startChunk: 20 });
    s.step(0);
    expect(() => p.decide(s.observation())).toThrowError(/outside the planned session/);
  });
});
