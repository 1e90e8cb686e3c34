/** The Pensieve simulator re-implementation, pinned to the reference numbers of ../shared/data/abr. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferBased, RobustMpc } from '../../src/abr/baselines.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../../src/sim/abr/load.js';
import { mean, runPolicy } from '../../src/sim/abr/run.js';
import { AbrEnv } from '../../src/sim/abr/env.js';
import { hindsightQ, optimalForTrace, optimalFromState } from '../../src/sim/abr/optimal.js';
import { SYNTHETIC_TRAIN_FAMILIES, stepTrace, syntheticTrace, type SyntheticFamily } from '../../src/sim/abr/synth.js';

const abr = join(dataRoot(), 'abr');
const have = existsSync(join(abr, 'traces', 'test')) && existsSync(join(abr, 'video', 'video_size_0'));
const why = `Pensieve data not found under ${abr} (set EDGEPLAY_DATA)`;

describe('ABR simulator (Pensieve semantics)', () => {
  it('scores BB 30.0432 and RobustMPC 41.1925 on the 142 test traces (within 1e-3)', () => {
    if (!have) return pending(why);
    const traces = loadTraceDir(join(abr, 'traces', 'test'));
    const sizes = loadVideoSizes(join(abr, 'video'));
    expect(traces.length).toBe(142);
    const bb = runPolicy(new BufferBased(), traces, sizes);
    expect(Math.abs(mean(bb.map((r) => r.qoeSum)) - 30.0432)).toBeLessThan(1e-3);
    const mpc = runPolicy(new RobustMpc(sizes), traces, sizes);
    expect(Math.abs(mean(mpc.map((r) => r.qoeSum)) - 41.1925)).toBeLessThan(1e-3);
    // per trace too
    const ref = readFileSync(join(abr, 'reference', 'per_trace_test.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    for (const [name, bbRef, mpcRef] of ref) {
      const i = traces.findIndex((t) => t.name === name);
      expect(Math.abs(bb[i].qoeSum - Number(bbRef)))
        .withContext(`bb ${name}`)
        .toBeLessThan(1e-6);
      expect(Math.abs(mpc[i].qoeSum - Number(mpcRef)))
        .withContext(`mpc ${name}`)
        .toBeLessThan(1e-6);
    }
  });

  it('replays reference/log_bb_norway_bus_1.tsv chunk by chunk', () => {
    if (!have) return pending(why);
    const traces = loadTraceDir(join(abr, 'traces', 'test')).filter((t) => t.name === 'norway_bus_1');
    const sizes = loadVideoSizes(join(abr, 'video'));
    const [r] = runPolicy(new BufferBased(), traces, sizes, { keepLogs: true });
    const rows = readFileSync(join(abr, 'reference', 'log_bb_norway_bus_1.tsv'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.split('\t').map(Number));
    expect(r.log.length).toBe(rows.length);
    rows.forEach(([time, br, buf, rebuf, bytes, delay, reward], i) => {
      const g = r.log[i];
      expect(g.bitrateKbps).withContext(`chunk ${i}`).toBe(br);
      expect(g.chunkBytes).toBe(bytes);
      expect(Math.abs(g.timeS - time))
        .withContext(`time ${i}`)
        .toBeLessThan(1e-5);
      expect(Math.abs(g.bufferS - buf))
        .withContext(`buffer ${i}`)
        .toBeLessThan(1e-5);
      expect(Math.abs(g.rebufS - rebuf)).toBeLessThan(1e-5);
      expect(Math.abs(g.delayMs - delay)).toBeLessThan(1e-5);
      expect(Math.abs(g.reward - reward)).toBeLessThan(1e-8);
    });
  });

  it('training env: seeded noise within [0.9, 1.1) of the test delay, random trace and start', () => {
    const trace = { name: 'flat', time: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], bw: [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8] };
    const sizes = Array.from({ length: 6 }, () => Array.from({ length: 49 }, () => 1_000_000));
    const test = new AbrEnv({ traces: [trace], videoSizes: sizes });
    const base = test.step(0).delayMs; // 1 MB at 1 MB/s x 0.95 + 80 ms
    expect(base).toBeCloseTo(1000 / 0.95 + 80, 6);
    const a = new AbrEnv({ traces: [trace], videoSizes: sizes, train: true, seed: 7 });
    const b = new AbrEnv({ traces: [trace], videoSizes: sizes, train: true, seed: 7 });
    for (let i = 0; i < 20; i++) {
      const da = a.step(0).delayMs;
      expect(da).toBe(b.step(0).delayMs);
      expect(da).toBeGreaterThanOrEqual(base * 0.9 - 1e-9);
      expect(da).toBeLessThan(base * 1.1);
    }
  });
});

describe('offline optimum and the hindsight teacher (synthetic trace)', () => {
  // a 300 s trace swinging between 0.4 and 4 Mb/s, and a 6-level ladder with ±20 % size jitter
  const time: number[] = [],
    bw: number[] = [];
  for (let i = 0; i < 300; i++) {
    time.push(i + 1);
    bw.push(2.2 + 1.8 * Math.sin(i / 9) * (i % 17 < 3 ? 0.2 : 1));
  }
  const trace = { name: 'swing', time, bw };
  const ladder = [300, 750, 1200, 1850, 2850, 4300];
  const sizes = ladder.map((k, q) => Array.from({ length: 48 }, (_, c) => Math.round(k * 500 * (1 + 0.2 * Math.sin(c * 1.7 + q)))));

  it('plans a session whose replay in the simulator scores exactly the plan, above BB and RobustMPC', () => {
    const opt = optimalForTrace(trace, sizes, { bucketMs: 100 });
    expect(opt.qualities.length).toBe(48);
    let i = 0;
    const replay = { name: 'replay', decide: () => opt.qualities[++i] };
    const [r] = runPolicy(replay as never, [trace], sizes);
    expect(Math.abs(r.qoeSum - opt.qoeSum)).toBeLessThan(1e-9);
    expect(opt.qoeSum).toBeGreaterThan(runPolicy(new BufferBased(), [trace], sizes)[0].qoeSum);
    expect(opt.qoeSum).toBeGreaterThan(runPolicy(new RobustMpc(sizes), [trace], sizes)[0].qoeSum);
  });

  it('hindsightQ: its best level is worth what the best plan from that state is worth; the others less or equal', () => {
    const env = new AbrEnv({ traces: [trace], videoSizes: sizes });
    let q = 1;
    for (const upTo of [0, 10, 30]) {
      while (env.chunkIndex <= upTo) {
        env.step(q);
        if (env.chunkIndex <= upTo) q = (q + 1) % 6;
      }
      const st = { ...env.position, lastQ: q };
      const Q = hindsightQ(trace, sizes, st, { bucketMs: 100 });
      const plan = optimalFromState(trace, sizes, st, { bucketMs: 100 });
      expect(plan.qualities.length).toBe(48 - st.chunk);
      expect(Math.abs(Math.max(...Q) - plan.qoeSum))
        .withContext(`chunk ${st.chunk}`)
        .toBeLessThan(1e-9);
      expect(Q[plan.qualities[0]]).toBeCloseTo(plan.qoeSum, 9);
      expect(new Set(Array.from(Q)).size).toBeGreaterThan(1);
    }
  });
});

describe('ABR synthetic trace families (src/sim/abr/synth.ts)', () => {
  const meanMbps = (bw: ArrayLike<number>) => Array.from(bw).reduce((a, b) => a + b, 0) / bw.length;

  it('stepTrace: seeded, sampled every dtS over the duration, mostly faster than the Pensieve sets, with jumps across the range', () => {
    const a = stepTrace('a', { seed: 7 });
    expect(stepTrace('b', { seed: 7 }).bw).toEqual(a.bw);
    expect(stepTrace('c', { seed: 8 }).bw).not.toEqual(a.bw);
    expect(a.time.length).toBe(321);
    expect(a.time[320]).toBe(320);
    for (const x of a.bw) {
      expect(x).toBeGreaterThanOrEqual(0.02);
      expect(x).toBeLessThan(25 * Math.exp(0.35 * 8));
    }
    // over 40 traces most per-trace means are faster than any Pensieve trace's (4.6 Mb/s), some slower; some traces jump ×4 in 1 s
    const traces = Array.from({ length: 40 }, (_, i) => stepTrace(`t${i}`, { seed: 100 + i }));
    const means = traces.map((t) => meanMbps(t.bw));
    expect(Math.min(...means)).toBeLessThan(4.6);
    expect(means.filter((m) => m > 4.6).length).toBeGreaterThan(30);
    expect(Math.max(...means)).toBeGreaterThan(9);
    const jumps = traces.filter((t) => Array.from(t.bw).some((x, i, bw) => i > 0 && (x / bw[i - 1] > 4 || bw[i - 1] / x > 4)));
    expect(jumps.length).toBeGreaterThan(5);
  });

  it('stepTrace rejects a non-positive or inverted range', () => {
    expect(() => stepTrace('x', { seed: 1, minMbps: 0 })).toThrowError(RangeError, /minMbps/);
    expect(() => stepTrace('x', { seed: 1, minMbps: 5, maxMbps: 2 })).toThrowError(RangeError, /minMbps/);
    expect(() => stepTrace('x', { seed: 1, holdMinS: 10, holdMaxS: 2 })).toThrowError(RangeError, /holdMinS/);
  });

  it('syntheticTrace: the training families are faster than markov-train, differ from the held-out ones, and bad input throws', () => {
    const fam = (f: SyntheticFamily) => Array.from({ length: 30 }, (_, i) => syntheticTrace(f, i));
    const avg = (f: SyntheticFamily) => meanMbps(fam(f).map((t) => meanMbps(t.bw)));
    expect(avg('markov-fast')).toBeGreaterThan(avg('markov-train'));
    expect(avg('step-fast')).toBeGreaterThan(avg('markov-train'));
    // no training family reproduces a held-out trace
    const held = [...fam('walk-hi'), ...fam('markov-hi')].map((t) => Array.from(t.bw).slice(0, 20).join());
    for (const f of SYNTHETIC_TRAIN_FAMILIES) for (const t of fam(f)) expect(held).not.toContain(Array.from(t.bw).slice(0, 20).join());
    expect(syntheticTrace('step-fast', 3).name).toBe('synth_step-fast_3');
    expect(() => syntheticTrace('step-fast', -1)).toThrowError(RangeError, /index/);
    expect(() => syntheticTrace('nope' as SyntheticFamily, 0)).toThrowError(RangeError, /unknown synthetic family/);
  });
});
