/**
 * The live mode of the ABR simulator: it never fetches past the live edge, its latency accounting is exact,
 * its link is Pensieve's, the live QoE has the evaluator's terms, and the live policies / DRL scorer behave.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { liveQoeSegment, liveQoeWeights } from '../../src/core/live-qoe.js';
import {
  HlsLiveRule,
  LIVE_BASELINES,
  LiveBufferBased,
  LiveRobustMpc,
  LolPlusRule,
  LolpRateController,
  liveBaseline,
  type LiveBaselineName,
  type LiveObservation,
  type LivePolicy,
  type RateController,
} from '../../src/abr/live.js';
import { LIVE_FEATURES, LIVE_RMAX, LiveDrlPolicy, buildLiveDrl, denseArrays, liveFeatures } from '../../src/abr/live-drl.js';
import { MeanOfPast } from '../../src/abr/size-forecast.js';
import { DeclaredSizes, ForecastSizes, LiveSession, TraceLink, TrueSizes, runLiveSession, type LiveVideo } from '../../src/sim/abr/live.js';
import { stepFrom } from '../../src/sim/abr/env.js';
import { LIVE_TEACHER } from '../../src/train/live-abr.js';
import { handTraces, syntheticLiveVideo } from './live-fixtures.js';

/** the specs' synthetic stream (test/node/live-fixtures.ts) */
const video = (n = 80, seed = 1): LiveVideo => syntheticLiveVideo(n, seed);
/** keeps the playback rate at 1 */
class Rate1 implements RateController {
  readonly name = 'rate1';
  reset() {}
  rate() {
    return 1;
  }
}
const traces = handTraces();
const policies = (): LivePolicy[] => [new HlsLiveRule(), new LolPlusRule(), new LiveBufferBased(), new LiveRobustMpc()];

describe('live QoE (dash.js LoL+ evaluator weights)', () => {
  it('has the five terms with the evaluator weights', () => {
    const w = liveQoeWeights([300, 750, 1200]);
    expect(w).toEqual({ bitrate: 1, switch: 1, rebuffer: 1200, latencyLow: 15, latencyHigh: 120, latencyThresholdS: 1.1, speed: 300 });
    const t = liveQoeSegment(w, { kbps: 750, prevKbps: 300, durationS: 2, rebufferS: 0.5, latencyS: 3, playbackRate: 1.1 });
    expect(t.bitrate).toBe(1500);
    expect(t.switch).toBe(450);
    expect(t.rebuffer).toBe(600);
    expect(t.latency).toBeCloseTo(360, 9);
    expect(t.speed).toBeCloseTo(30, 9);
    expect(t.total).toBeCloseTo(1500 - 450 - 600 - 360 - 30, 9);
    const low = liveQoeSegment(w, { kbps: 300, prevKbps: null, durationS: 2, rebufferS: 0, latencyS: 1, playbackRate: 1 });
    expect(low.switch).toBe(0);
    expect(low.latency).toBeCloseTo(15, 9);
    expect(() => liveQoeSegment(w, { kbps: 300, prevKbps: null, durationS: 2, rebufferS: -1, latencyS: 1, playbackRate: 1 })).toThrowError(
      /negative/,
    );
  });
});

describe('live ABR simulator', () => {
  it("sends bytes on Pensieve's link semantics", () => {
    const tr = traces[1];
    const link = new TraceLink(tr, 1);
    const s = link.send(400000);
    const ref = stepFrom(tr.time, tr.bw, 1, tr.time[0], 0, 400000);
    expect(s * 1000).toBeCloseTo(ref.delayMs - 80, 6);
    expect(link.ptr).toBe(ref.ptr);
    expect(link.last).toBeCloseTo(ref.last, 9);
  });

  it('never fetches past the live edge: no part transfer starts before the part is published', () => {
    const v = video();
    let checked = 0;
    for (const tr of traces)
      for (const p of policies())
        for (const source of [new TrueSizes(v), new DeclaredSizes(v), new ForecastSizes(v, new MeanOfPast())]) {
          const r = runLiveSession(p, v, tr, source, { startChunk: 5, chunks: 40, keepLog: true });
          expect(r.segments).toBe(40);
          for (const seg of r.log) {
            // a preload hint may go out one RTT early; no byte moves before its part is published
            expect(seg.requestS).toBeGreaterThanOrEqual(seg.firstPartPublishedS - 0.08 - 1e-9);
            expect(seg.partStartS.length).toBe(4);
            seg.partStartS.forEach((t, j) => {
              expect(t).toBeGreaterThanOrEqual(seg.partPublishedS[j] - 1e-9);
              checked++;
            });
          }
        }
    expect(checked).toBe(3 * 4 * 3 * 40 * 4);
  });

  it('accounts latency exactly: end - start = stalls + (1 - rate) x time played', () => {
    const v = video();
    for (const tr of traces)
      for (const p of policies()) {
        const r = runLiveSession(p, v, tr, new TrueSizes(v), { startChunk: 5, chunks: 40 });
        expect(r.latencyEndS - r.latencyStartS)
          .withContext(`${p.name} on ${tr.name}`)
          .toBeCloseTo(r.rebufferS + r.rateDeficitS, 6);
      }
  });

  it('at rate 1 on a fast link keeps latency constant; on a starved link latency grows by the stalls', () => {
    const v = video();
    const fast = runLiveSession(new LiveRobustMpc(), v, traces[0], new TrueSizes(v), {
      startChunk: 5,
      chunks: 40,
      rateController: new Rate1(),
    });
    expect(fast.rebufferS).toBe(0);
    expect(fast.latencyEndS).toBeCloseTo(fast.latencyStartS, 9);
    expect(fast.latencyStartS).toBeLessThan(1); // one part + RTT + transfer
    const slow = runLiveSession(new LiveRobustMpc(), v, traces[2], new TrueSizes(v), {
      startChunk: 5,
      chunks: 20,
      rateController: new Rate1(),
    });
    expect(slow.rebufferS).toBeGreaterThan(10); // 0.15 Mbps < 300 kbps
    expect(slow.latencyEndS - slow.latencyStartS).toBeCloseTo(slow.rebufferS, 9);
  });

  it("sums the segments' QoE terms into the session's", () => {
    const v = video();
    const r = runLiveSession(new HlsLiveRule(), v, traces[1], new TrueSizes(v), { startChunk: 5, chunks: 30, keepLog: true });
    let total = 0;
    let rebuf = 0;
    for (const s of r.log) {
      total += s.qoe.total;
      rebuf += s.rebufferS;
    }
    expect(r.qoe.total).toBeCloseTo(total, 6);
    expect(r.rebufferS).toBeCloseTo(rebuf, 6);
    expect(r.qoe.rebuffer).toBeCloseTo(1200 * rebuf, 6);
  });

  it('gives the policy the published sizes of complete chunks and forecasts for the others', () => {
    const v = video();
    const src = new ForecastSizes(v, new MeanOfPast());
    const s = src.sizes(10, 8, 5);
    expect(s[0]).toEqual(v.sizes[8]);
    expect(s[1]).toEqual(v.sizes[9]);
    const mean = (r: number) => v.sizes.slice(0, 10).reduce((a, x) => a + x[r], 0) / 10;
    for (let h = 2; h < 5; h++) for (let r = 0; r < 3; r++) expect(s[h][r]).toBeCloseTo(mean(r), 6);
  });

  it('rejects a rung outside the ladder and a session past the video', () => {
    const v = video(20);
    const sess = new LiveSession(v, traces[0], new TrueSizes(v), { startChunk: 5, chunks: 10 });
    expect(() => sess.step(3)).toThrowError(/rung 3/);
    expect(() => new LiveSession(v, traces[0], new TrueSizes(v), { startChunk: 15, chunks: 10 })).toThrowError(/outside/);
  });
});

describe('live policies', () => {
  const obs = (bytesPerMs: number, bufferS: number): LiveObservation => ({
    ladderKbps: [300, 750, 1200],
    chunkS: 2,
    partS: 0.5,
    nextIndex: 20,
    lastQuality: 1,
    bufferS,
    latencyS: 3,
    targetLatencyS: 3,
    playbackRate: 1,
    stalled: false,
    waitS: 0.2,
    producedS: 0,
    throughputs: [bytesPerMs, bytesPerMs, bytesPerMs],
    wallThroughputs: [bytesPerMs, bytesPerMs, bytesPerMs],
    delaysMs: [500, 500, 500],
    sizes: Array.from({ length: 5 }, () => [75000, 187500, 300000]),
  });
  it('go to the lowest rung on a starved link and to the top on a fat one', () => {
    for (const p of [new HlsLiveRule(), new LiveRobustMpc(), new LolPlusRule()] as LivePolicy[]) {
      p.start?.([300, 750, 1200], 2);
      expect(p.decide(obs(10, 1)))
        .withContext(p.name)
        .toBe(0); // 80 kbps
    }
    for (const p of [new HlsLiveRule(), new LiveRobustMpc()] as LivePolicy[]) {
      p.start?.([300, 750, 1200], 2);
      expect(p.decide(obs(2500, 2.5)))
        .withContext(p.name)
        .toBe(2); // 20 Mbps
    }
    expect(new LiveBufferBased().decide(obs(2500, 0.1))).toBe(0);
    expect(new LiveBufferBased().decide(obs(10, 9.5))).toBe(2);
    expect(new LiveBufferBased().decide(obs(10, 1.8 + 7.5 / 2))).toBe(1); // half-way: 187.5 kB fits
  });

  it('liveBaseline builds each baseline fresh with its defaults: a rung of the ladder on every observation; an unknown name throws', () => {
    const direct: Record<LiveBaselineName, () => LivePolicy> = {
      robustmpc: () => new LiveRobustMpc(),
      hlsjs: () => new HlsLiveRule(),
      lolp: () => new LolPlusRule(),
      bb: () => new LiveBufferBased(),
    };
    expect(Object.keys(direct).sort()).toEqual([...LIVE_BASELINES].sort());
    const sequence = [obs(10, 1), obs(2500, 2.5), obs(200, 1.5), obs(60, 0.3), obs(2500, 9.5), obs(120, 2)];
    for (const name of LIVE_BASELINES) {
      const p = liveBaseline(name);
      const ref = direct[name]();
      expect(p.name).withContext(name).toBe(name);
      expect(p.constructor).withContext(name).toBe(ref.constructor);
      expect(liveBaseline(name)).withContext(name).not.toBe(p); // fresh: policies keep per-session state
      p.start?.([300, 750, 1200], 2);
      ref.start?.([300, 750, 1200], 2);
      for (const [i, o] of sequence.entries()) {
        const q = p.decide(o);
        expect(Number.isInteger(q) && q >= 0 && q < o.ladderKbps.length)
          .withContext(`${name} #${i}: ${q}`)
          .toBeTrue();
        expect(q).withContext(`${name} #${i} as the default-constructed policy`).toBe(ref.decide(o));
      }
    }
    for (const bad of ['drl', 'RobustMPC', ''])
      expect(() => liveBaseline(bad)).toThrowError(
        `unknown live policy ${JSON.stringify(bad)}: the baselines are robustmpc, hlsjs, lolp, bb`,
      );
  });

  it("train:live-abr's teacher (LIVE_TEACHER, built by liveBaseline) is the default LiveRobustMpc it built before: the same sessions", () => {
    const v = video();
    // one instance over several sessions, as the trainer's validation uses it; runLiveSession calls start() as its imitation does
    const teacher = liveBaseline(LIVE_TEACHER);
    const before = new LiveRobustMpc();
    expect(teacher).toBeInstanceOf(LiveRobustMpc);
    expect(teacher).toEqual(before); // the default parameters
    for (const tr of traces) {
      const o = { startChunk: 5, chunks: 40, keepLog: true };
      const a = runLiveSession(teacher, v, tr, new ForecastSizes(v, new MeanOfPast()), o);
      const b = runLiveSession(before, v, tr, new ForecastSizes(v, new MeanOfPast()), o);
      expect(a.log.map((l) => l.quality))
        .withContext(tr.name)
        .toEqual(b.log.map((l) => l.quality));
      expect(a).withContext(tr.name).toEqual(b);
    }
  });

  it('the DRL scorer in plain JavaScript equals the tfjs actor, on ladders of 3 and 10 rungs', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const { actor } = buildLiveDrl(tf, 16, 3);
    const pol = new LiveDrlPolicy(denseArrays(actor, ['s1', 's2', 'score']));
    for (const R of [3, 10]) {
      const o = obs(200, 2);
      o.ladderKbps = Array.from({ length: R }, (_, r) => 300 * 1.3 ** r);
      o.sizes = Array.from({ length: 5 }, (_, h) => o.ladderKbps.map((k) => (k * 250 * (1 + h / 10)) / 1));
      const x = new Float32Array(LIVE_RMAX * LIVE_FEATURES);
      const m = new Float32Array(LIVE_RMAX);
      liveFeatures(o, x, m);
      expect(Array.from(m).reduce((p, q) => p + q)).toBe(R);
      const ref = (actor.predict(tf.tensor3d(x, [1, LIVE_RMAX, LIVE_FEATURES])) as tf.Tensor).dataSync();
      const mine = pol.logits(o);
      expect(mine.length).toBe(R);
      mine.forEach((l, r) => expect(l).toBeCloseTo(ref[r], 4));
      const q = pol.decide(o);
      expect(q).toBe(mine.indexOf(Math.max(...mine)));
    }
    const o = obs(200, 2);
    o.ladderKbps = Array.from({ length: 11 }, (_, r) => 300 + r);
    expect(() => pol.decide(o)).toThrowError(/11 rungs/);
  });
});

describe('LoL+ playback-rate control with a dead band', () => {
  /** 4 Hz ticks: latency moves by (1 - rate) per second played, plus `wobble(t)` (hls.js' estimate moving by parts) */
  function run(ctl: LolpRateController, startLatency: number, seconds: number, wobble: (t: number) => number) {
    let base = startLatency;
    let rate = 1;
    let changes = 0;
    const lat: number[] = [];
    for (let k = 0; k < seconds * 4; k++) {
      const t = k / 4;
      const latencyS = base + wobble(t);
      const r = Math.round(ctl.rate({ latencyS, targetLatencyS: 1.5, bufferS: 1, current: rate }) * 100) / 100;
      if (r !== rate) changes++;
      rate = r;
      base -= (rate - 1) * 0.25;
      lat.push(latencyS);
    }
    return { changes, lat, rate };
  }
  const saw = (t: number) => 0.25 - ((t * 2) % 1) * 0.5; // +-0.25 s, a 0.5 s part at a time

  it('does not react to a latency estimate wobbling by a part around the target; LoL+ without it does', () => {
    const plain = run(new LolpRateController(0.5, 0.5), 1.5, 60, saw);
    const banded = run(new LolpRateController(0.5, 0.5, { deadBandS: 0.3, releaseS: 0.1, minRateChange: 0.1 }), 1.5, 60, saw);
    expect(plain.changes).toBeGreaterThan(60);
    expect(banded.changes).toBe(0);
  });

  it('catches up from 3 s above the target with a few changes and ends at rate 1 near the target', () => {
    const plain = run(new LolpRateController(0.5, 0.5), 4.5, 30, () => 0);
    const banded = run(new LolpRateController(0.5, 0.5, { deadBandS: 0.3, releaseS: 0.1, minRateChange: 0.1 }), 4.5, 30, () => 0);
    const end = banded.lat[banded.lat.length - 1];
    expect(banded.rate).toBe(1);
    expect(end).toBeGreaterThan(1.5);
    expect(end).toBeLessThanOrEqual(1.5 + 0.3);
    expect(banded.changes).toBeLessThan(plain.changes);
    expect(banded.changes).toBeLessThanOrEqual(12);
    // as fast as without the band while far from the target: the same latency after 5 s
    expect(Math.abs(banded.lat[20] - plain.lat[20])).toBeLessThan(0.2);
  });

  it('releases when the drift changes sign, slows down below the target, and keeps the buffer rule', () => {
    const ctl = new LolpRateController(0.5, 0.5, { deadBandS: 0.3, releaseS: 0.1, minRateChange: 0.1 });
    expect(ctl.rate({ latencyS: 1.7, targetLatencyS: 1.5, bufferS: 1, current: 1 })).toBe(1);
    expect(ctl.rate({ latencyS: 2.0, targetLatencyS: 1.5, bufferS: 1, current: 1 })).toBeGreaterThan(1.3);
    expect(ctl.rate({ latencyS: 1.75, targetLatencyS: 1.5, bufferS: 1, current: 1.4 })).toBeGreaterThan(1); // still engaged
    expect(ctl.rate({ latencyS: 1.3, targetLatencyS: 1.5, bufferS: 1, current: 1.2 })).toBe(1); // overshot: released
    expect(ctl.rate({ latencyS: 1.0, targetLatencyS: 1.5, bufferS: 1, current: 1 })).toBeLessThan(0.8);
    expect(ctl.rate({ latencyS: 3, targetLatencyS: 1.5, bufferS: 0.2, current: 1 })).toBeLessThan(1);
    expect(() => new LolpRateController(0.5, 0.5, { deadBandS: 0.1, releaseS: 0.2, minRateChange: 0.1 })).toThrowError(RangeError);
  });
});

describe('bench:browser-abr --live statistics', () => {
  it('pairs policies by trace, averages repeats first and names the page query of each policy', async () => {
    const { summariseLive, livePolicyQuery } = await import('../../bench/browser-abr-live.js');
    expect(livePolicyQuery('hls')).toEqual({ abr: 'hls', catchup: 'none' });
    expect(livePolicyQuery('edgeplay')).toEqual({ abr: 'edgeplay', catchup: 'lolp' });
    expect(livePolicyQuery('edgeplay+lolp-nodb')).toEqual({ abr: 'edgeplay', catchup: 'lolp-nodb' });
    expect(() => livePolicyQuery('dash+lolp')).toThrowError(/unknown live policy/);
    const row = (trace: string, policy: string, qoe: number, latency: number) => ({ trace, policy, qoe_s: qoe, latency_mean_s: latency });
    const rows = [
      row('a', 'hls', 1, 3),
      row('a', 'edgeplay', 1.5, 2),
      row('a', 'edgeplay', 2.5, 2), // a repeat: trace a averages to 2
      row('b', 'hls', 0, 4),
      row('b', 'edgeplay', 0.5, 3),
      row('c', 'hls', 9, 9), // no edgeplay run on c: not paired, left out
    ];
    const [h, e] = summariseLive(rows, ['hls', 'edgeplay']);
    expect(h.traces).toBe(2);
    expect(h.qoe_s_mean).toBeCloseTo(0.5, 9);
    expect(e.qoe_s_mean).toBeCloseTo(1.25, 9);
    expect(e.diff_vs_hls).toBeCloseTo(0.75, 9); // (1 + 0.5) / 2
    expect(e.diff_ci_low!).toBeLessThan(0.75);
    expect(e.latency_diff_vs_hls).toBeCloseTo(-1, 9);
    expect(h.diff_vs_hls).toBeNull();
  });

  it('prints the paired stall and rate-change differences: to hls.js in the row, and to every earlier policy in pairs', async () => {
    const { summariseLive } = await import('../../bench/browser-abr-live.js');
    const row = (trace: string, policy: string, stall: number, rate: number) => ({
      trace,
      policy,
      qoe_s: 0,
      latency_mean_s: 2,
      rebuffer_s: stall,
      rate_changes_per_min: rate,
    });
    const rows = [
      row('a', 'hls', 1, 0),
      { ...row('a', 'edgeplay', 3, 50), rate_change_reasons: { 'catch-up': 2, 'low-buffer': 5 } },
      row('a', 'edgeplay+lolp-nodb', 4, 90),
      row('b', 'hls', 2, 0),
      { ...row('b', 'edgeplay', 6, 60), rate_change_reasons: { 'low-buffer': 1 } },
      row('b', 'edgeplay+lolp-nodb', 6, 100),
      row('c', 'hls', 0, 0),
      row('c', 'edgeplay', 3, 40),
      row('c', 'edgeplay+lolp-nodb', 5, 100),
    ];
    const [h, e, n] = summariseLive(rows, ['hls', 'edgeplay', 'edgeplay+lolp-nodb']);
    expect(h.pairs).toEqual([]);
    expect(h.rebuffer_diff_vs_hls).toBeNull();
    // edgeplay − hls per trace: stall 2, 4, 3 (mean 3); rate changes 50, 60, 40 (mean 50)
    expect(e.rebuffer_diff_vs_hls).toBeCloseTo(3, 9);
    expect(e.rebuffer_diff_ci_low!).toBeLessThan(3);
    expect(e.rebuffer_diff_ci_high!).toBeGreaterThan(3);
    expect(e.rate_changes_diff_vs_hls).toBeCloseTo(50, 9);
    // t(0.975, 2) = 4.303, sd 10, n 3: half-width 24.84
    expect(e.rate_changes_diff_ci_low!).toBeCloseTo(50 - 24.84, 1);
    expect(e.pairs.map((p) => p.vs)).toEqual(['hls']);
    expect(e.rate_change_reasons).toEqual({ 'catch-up': 2, 'low-buffer': 6 });
    expect(e.pairs[0].rebuffer_s.mean).toBeCloseTo(3, 9);
    // without the dead band − with it: rate changes 40, 40, 60 (mean 46.67); stall 1, 0, 2 (mean 1)
    expect(n.pairs.map((p) => p.vs)).toEqual(['hls', 'edgeplay']);
    const db = n.pairs[1];
    expect(db.rate_changes_per_min.mean).toBeCloseTo(140 / 3, 9);
    expect(db.rebuffer_s.mean).toBeCloseTo(1, 9);
    expect(db.latency_s).toEqual({ mean: 0, low: 0, high: 0 });
    expect(h.rate_change_reasons).toEqual({});
  });
});
