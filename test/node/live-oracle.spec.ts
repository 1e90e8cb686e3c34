/**
 * The offline live ABR ceiling (src/sim/abr/live-oracle.ts): its beam search finds the exhaustive optimum on a small
 * session, its plan replays exactly through the simulator, it is never worse than RobustMPC told the true sizes on
 * hand-built traces and strictly better where looking one chunk ahead is not enough; LiveSession.clone is independent.
 */
import { LiveRobustMpc, type LiveObservation, type LivePolicy } from '../../src/abr/live.js';
import { LiveSession, TrueSizes, runLiveSession, type LiveOptions, type LiveVideo, type SizeSource } from '../../src/sim/abr/live.js';
import {
  LiveOraclePolicy,
  causalThroughputMbps,
  causalWorld,
  oracleDecision,
  planLiveOracle,
  rolloutValues,
  rungValues,
} from '../../src/sim/abr/live-oracle.js';
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

  describe('the oracle as a per-rung score and the causal expert (session 13)', () => {
    const flat = sim('flat', [[600, 1.1]]);
    const opts: LiveOptions = { startChunk: 5, chunks: 8 };
    /** the session's total QoE after playing `seq` from a copy of `s` */
    const after = (s: LiveSession, seq: number[]) => {
      const c = s.clone();
      for (const q of seq) {
        c.awaitDecisionPoint();
        c.step(q);
      }
      return c.result.qoe.total;
    };

    it('rungValues: each rung is scored by its best continuation (the exhaustive one with a wide beam), and horizon 1 is that chunk alone', () => {
      const v = video();
      for (const tr of [drop, hand[1]]) {
        const s = new LiveSession(v, tr, new TrueSizes(v), opts);
        s.step(0);
        s.step(2);
        const k = s.k;
        // horizon 3 on 3 rungs: 9 continuations per rung; a beam of 9 per rung keeps them all
        const v3 = rungValues(s, 3, 9);
        expect(v3.length).toBe(3);
        for (let q = 0; q < 3; q++) {
          let best = -Infinity;
          for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) best = Math.max(best, after(s, [q, a, b]));
          expect(v3[q]).withContext(`${tr.name} rung ${q}`).toBeCloseTo(best, 6);
        }
        const v1 = rungValues(s, 1);
        for (let q = 0; q < 3; q++) expect(v1[q]).toBeCloseTo(after(s, [q]), 9);
        // the session itself was not stepped
        expect(s.k).toBe(k);
        // and the best rung of a deep search is never worse than the receding oracle's own pick
        const v5 = rungValues(s, 5, 2);
        expect(Math.max(...v5)).toBeGreaterThanOrEqual(v5[oracleDecision(s, 5, 2)] - 1e-9);
      }
      const s = new LiveSession(v, drop, new TrueSizes(v), opts);
      expect(() => rungValues(s, 0)).toThrowError(/horizon/);
      expect(() => rungValues(s, 2, 0)).toThrowError(/beam/);
      expect(() => rungValues(new LiveSession(v, drop, new TrueSizes(v), { ...opts, noise: () => 1 }))).toThrowError(/noise/);
    });

    it('rolloutValues: each rung then the given policy for horizon − 1 chunks on the real trace; never above the best continuation', () => {
      const v = video();
      const steady = new Fixed(Array(100).fill(1));
      for (const tr of [drop, hand[1]]) {
        const s = new LiveSession(v, tr, new TrueSizes(v), opts);
        s.step(0);
        s.step(2);
        const k = s.k;
        const r = rolloutValues(s, steady, 3);
        for (let q = 0; q < 3; q++)
          expect(r[q])
            .withContext(`${tr.name} rung ${q}`)
            .toBeCloseTo(after(s, [q, 1, 1]), 9);
        // the exhaustive best continuation (rungValues, beam 9 on 3 rungs) is at least any policy's
        const best = rungValues(s, 3, 9);
        for (let q = 0; q < 3; q++) expect(best[q]).toBeGreaterThanOrEqual(r[q] - 1e-6);
        const one = rolloutValues(s, steady, 1);
        const v1 = rungValues(s, 1);
        for (let q = 0; q < 3; q++) expect(one[q]).toBeCloseTo(v1[q], 9);
        expect(s.k).toBe(k);
      }
      // the continuation is asked on its own observations, after the rung: a policy that copies the last rung keeps it
      const copy: LivePolicy = { name: 'copy', decide: (o) => o.lastQuality };
      const s = new LiveSession(v, hand[0], new TrueSizes(v), opts);
      s.step(0);
      const r = rolloutValues(s, copy, 4);
      for (let q = 0; q < 3; q++) expect(r[q]).toBeCloseTo(after(s, [q, q, q, q]), 9);
      expect(() => rolloutValues(s, copy, 0)).toThrowError(/horizon/);
      expect(() => rolloutValues(new LiveSession(v, drop, new TrueSizes(v), { ...opts, noise: () => 1 }), copy)).toThrowError(/noise/);
    });

    it('LiveSession.imagined plays the sizes and the constant rate it is given: twice the bytes at twice the rate is the same session', () => {
      const v = video();
      const s = new LiveSession(v, flat, new TrueSizes(v), opts);
      s.step(0);
      s.step(1);
      const t = s.t;
      const rows = v.sizes.slice(s.opts.startChunk + s.k, s.opts.startChunk + s.k + 5);
      // the true bytes at the trace's own rate: the imagined copy is the real session
      const same = s.imagined(rows, 1.1);
      const doubled = s.imagined(
        rows.map((r) => r.map((b) => 2 * b)),
        2.2,
      );
      const slower = s.imagined(rows, 0.55);
      const seq = [2, 2, 1, 2];
      expect(after(same, seq)).toBeCloseTo(after(s, seq), 6);
      expect(after(doubled, seq)).toBeCloseTo(after(s, seq), 6);
      // half the rate: the same rungs stall (QoE lower), so the link really is the imagined one
      expect(after(slower, seq)).toBeLessThan(after(s, seq) - 1);
      expect(s.t).toBe(t);
      expect(() => s.imagined(rows, 0)).toThrowError(/rate/);
      expect(() => s.imagined([[1, 2]], 1)).toThrowError(/rows of 3/);
      expect(() => s.imagined([], 1)).toThrowError(/rows of 3/);
    });

    it('causalThroughputMbps reads the link rate back from the measured throughputs (harmonic mean of the last 5, x safety)', () => {
      expect(causalThroughputMbps([])).toBe(0.5);
      const v = video();
      const s = new LiveSession(v, flat, new TrueSizes(v), opts);
      for (const q of [0, 1, 2]) s.step(q);
      const th = s.observation().throughputs;
      expect(causalThroughputMbps(th)).toBeCloseTo(1.1, 6);
      expect(causalThroughputMbps(th, 0.8)).toBeCloseTo(0.88, 6);
      // harmonic: one slow chunk pulls the estimate down more than an arithmetic mean would
      const mixed = causalThroughputMbps([250, 50]);
      expect(mixed).toBeCloseTo((2 / (1 / 250 + 1 / 50)) * (8 / 1000 / 0.95), 9);
      expect(mixed).toBeLessThan(((250 + 50) / 2) * (8 / 1000 / 0.95));
      expect(() => causalThroughputMbps(th, 0)).toThrowError(/safety/);
    });

    it('causalWorld: on a steady link with true sizes the causal expert scores every rung as the oracle does; before a drop it cannot see the drop', () => {
      const v = video();
      const steady = new LiveSession(v, flat, new TrueSizes(v), opts);
      for (const q of [0, 1, 1]) steady.step(q);
      const oracleV = rungValues(steady, 4, 3);
      const causalV = rungValues(causalWorld(steady), 4, 3);
      for (let q = 0; q < 3; q++) expect(causalV[q]).withContext(`rung ${q}`).toBeCloseTo(oracleV[q], 4);
      // the drop trace: 13 s at 1.5 Mb/s, then 0.25 Mb/s; decide just before it
      const s = new LiveSession(v, drop, new TrueSizes(v), { startChunk: 5, chunks: 20 });
      const t0 = s.t; // the link's clock starts at the trace's 0 when the session joins
      s.step(0);
      while (s.t - t0 < 11) s.step(1);
      const o = rungValues(s, 5, 2);
      const c = rungValues(causalWorld(s), 5, 2);
      const arg = (x: number[]) => x.indexOf(Math.max(...x));
      // the oracle, seeing the drop, plays lower than the causal planner, which plans on the 1.5 Mb/s it measured
      expect(arg(o)).withContext(`oracle ${o} causal ${c}`).toBeLessThan(arg(c));
      const done = new LiveSession(v, drop, new TrueSizes(v), { ...opts, chunks: 1 });
      done.step(0);
      expect(() => causalWorld(done)).toThrowError(/finished/);
    });
  });
});
