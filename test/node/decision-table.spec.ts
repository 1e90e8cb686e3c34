/**
 * Decision tables (src/abr/decision-table.ts): the observation a download time leads to, the breakpoints the
 * bisection finds, and the committed DRL policy answered from its tables as it answers itself.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DrlPolicy } from '../../src/abr/drl.js';
import { RatioEwmaPredictor } from '../../src/abr/chunk-size.js';
import {
  buildDecisionTable,
  buildDecisionTableSliced,
  bufferAt,
  lookupDecision,
  observationAt,
  type AbrTableRequest,
} from '../../src/abr/decision-table.js';
import type { AbrObservation } from '../../src/core/abr.js';
import { loadModel } from '../../src/train/io.js';

const LADDER = [300, 750, 1200, 1850, 2850, 4300];

function request(over: Partial<AbrTableRequest> = {}, base: Partial<AbrObservation> = {}): AbrTableRequest {
  return {
    base: {
      lastQuality: 2,
      bufferS: 10,
      throughputs: [200, 250, 300],
      delaysMs: [3000, 2400, 2000],
      nextSizes: LADDER.map((k) => k * 500),
      remain: 20,
      nextIndex: 10,
      totalChunks: 30,
      ladderKbps: LADDER,
      rebufS: 0,
      ...base,
    },
    bytes: 600_000,
    elapsedMs: 100,
    drainRate: 1,
    appendS: 4,
    keep: 4,
    ...over,
  };
}

/** a seeded uniform generator (Park–Miller) */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

describe('decision tables (FastMPC-style lookup of the policy per download time)', () => {
  it('builds the observation a download time leads to: the new sample, the history kept, the buffer drained', () => {
    const req = request();
    const o = observationAt(req, 3000);
    expect(o.throughputs).toEqual([200, 250, 300, 200]);
    expect(o.delaysMs).toEqual([3000, 2400, 2000, 3000]);
    // 2.9 s drained since the table was asked for (100 ms were gone then), plus the fragment's 4 s
    expect(o.bufferS).toBeCloseTo(10 - 2.9 + 4, 9);
    const full = observationAt(request({ keep: 3 }), 1500);
    expect(full.throughputs).toEqual([250, 300, 400]);
    expect(full.delaysMs).toEqual([2400, 2000, 1500]);
    // an empty buffer stays empty; before playback nothing drains
    expect(bufferAt(req, 20_000)).toBe(4);
    expect(bufferAt(request({ drainRate: 0 }), 20_000)).toBe(14);
    expect(req.base.throughputs).toEqual([200, 250, 300]); // the request is not modified
    expect(() => observationAt(req, 0)).toThrowError(RangeError, /download time/);
  });

  it('finds each breakpoint of a policy to within 1 % of the download time, and answers exactly elsewhere', () => {
    // a threshold policy on the last throughput sample: breakpoints at 1 Mb/s steps
    const steps = [125, 250, 375, 500, 625];
    const decide = (o: AbrObservation) => steps.filter((s) => o.throughputs[o.throughputs.length - 1] >= s).length;
    const req = request();
    let calls = 0;
    const table = buildDecisionTable((o) => (calls++, decide(o)), req);
    expect(table.evaluations).toBe(calls);
    expect(table.bytes).toBe(req.bytes);
    // every breakpoint T = bytes / step is inside an unresolved cell no wider than 1 %
    for (const s of steps) {
      const t = req.bytes / s;
      const i = table.edgesMs.findIndex((e, k) => e <= t && t < table.edgesMs[k + 1]);
      expect(table.levels[i])
        .withContext(`breakpoint at ${t.toFixed(1)} ms`)
        .toBe(-1);
      expect(table.edgesMs[i + 1] / table.edgesMs[i]).toBeLessThanOrEqual(1.01 + 1e-12);
    }
    const r = rng(3);
    let answered = 0;
    for (let k = 0; k < 2000; k++) {
      const t = req.elapsedMs * Math.pow(60_000 / req.elapsedMs, r());
      const l = lookupDecision(table, t);
      if (l === null) continue;
      answered++;
      expect(l)
        .withContext(`T = ${t}`)
        .toBe(decide(observationAt(req, t)));
    }
    expect(answered).toBeGreaterThan(1950);
    // outside the range: no answer
    expect(lookupDecision(table, 50)).toBeNull();
    expect(lookupDecision(table, 70_000)).toBeNull();
    expect(calls).toBeLessThan(10 + 5 * 8);
  });

  it('builds the same table in slices, pausing between policy calls, and abandons a superseded build', async () => {
    const steps = [125, 250, 375, 500, 625];
    const decide = (o: AbrObservation) => steps.filter((s) => o.throughputs[o.throughputs.length - 1] >= s).length;
    const whole = buildDecisionTable(decide, request());
    // sliceMs 0: a pause after every policy call; what runs in a pause (here: a count) runs between two calls
    const order: string[] = [];
    const sliced = await buildDecisionTableSliced((o) => (order.push('call'), decide(o)), request(), {
      sliceMs: 0,
      pause: async () => void order.push('pause'),
    });
    expect(sliced).toEqual(whole);
    expect(order.filter((x) => x === 'pause').length).toBe(whole.evaluations);
    expect(order.slice(0, 4)).toEqual(['call', 'pause', 'call', 'pause']);
    // a slice of 1 s on a clock that advances 0.4 s per call: a pause every third call
    let clock = 0;
    let pauses = 0;
    await buildDecisionTableSliced((o) => ((clock += 400), decide(o)), request(), {
      sliceMs: 1000,
      now: () => clock,
      pause: async () => void pauses++,
    });
    expect(pauses).toBe(Math.floor(whole.evaluations / 3));
    // superseded after the second pause: the build stops there (two calls made) and rejects
    let calls = 0;
    let paused = 0;
    const run = buildDecisionTableSliced((o) => (calls++, decide(o)), request(), {
      sliceMs: 0,
      pause: async () => void paused++,
      superseded: () => paused >= 2,
    });
    await expectAsync(run).toBeRejectedWithError(/superseded/);
    expect(calls).toBe(2);
    await expectAsync(buildDecisionTableSliced(decide, request({ bytes: 0 }), { pause: async () => undefined })).toBeRejectedWithError(
      RangeError,
      /size/,
    );
  });

  it('rejects a table without a size or with a bad resolution', () => {
    expect(() => buildDecisionTable(() => 0, request({ bytes: 0 }))).toThrowError(RangeError, /size/);
    expect(() => buildDecisionTable(() => 0, request(), { coarse: 1 })).toThrowError(RangeError, /coarse/);
  });

  it('the committed DRL policy answers from its tables as it answers itself (≥ 98 % of lookups, ≤ 5 % unresolved)', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const policy = new DrlPolicy(await loadModel('models/abr-drl'));
    const r = rng(11);
    let lookups = 0;
    let unresolved = 0;
    let agree = 0;
    for (let k = 0; k < 24; k++) {
      const mbps = 0.3 * Math.pow(30, r());
      const b = (mbps * 1e6) / 8 / 1000; // bytes/ms
      const q = Math.floor(r() * 6);
      const hist = Array.from({ length: 1 + Math.floor(r() * 8) }, () => b * (0.5 + r()));
      const req = request(
        { bytes: LADDER[q] * 500 * (0.7 + 0.6 * r()), elapsedMs: 20 + 200 * r(), keep: 16 },
        {
          lastQuality: q,
          bufferS: 25 * r(),
          throughputs: hist,
          delaysMs: hist.map((x) => (LADDER[q] * 500) / x),
          nextSizes: LADDER.map((kb) => kb * 500 * (0.8 + 0.4 * r())),
        },
      );
      const table = buildDecisionTable((o) => policy.decide(o), req);
      for (let i = 0; i < 25; i++) {
        const t = req.bytes / (b * (0.3 + 2 * r()));
        if (t < req.elapsedMs) continue;
        lookups++;
        const l = lookupDecision(table, t);
        if (l === null) unresolved++;
        else if (l === policy.decide(observationAt(req, t))) agree++;
      }
    }
    expect(lookups).toBeGreaterThan(400);
    expect(unresolved / lookups).toBeLessThanOrEqual(0.05);
    expect(agree / (lookups - unresolved)).toBeGreaterThanOrEqual(0.98);
  });

  it('RatioEwmaPredictor.clone is independent of the original', () => {
    const p = new RatioEwmaPredictor(LADDER);
    p.observe(2, 700_000);
    const c = p.clone();
    expect(c.predict()).toEqual(p.predict());
    c.observe(2, 300_000);
    expect(c.predict()).not.toEqual(p.predict());
    expect(p.predict()[2]).toBeCloseTo(700_000, 6);
  });
});
