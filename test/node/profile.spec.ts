/**
 * QoE-preference profiling: the weights formula, the viewer-population simulator (seeded, calibrated),
 * the request features (device-side builder = simulator's), the tree baselines, the controller's channel
 * statistics route, and the committed model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_WEIGHTS, interactionRate, preferenceWeights, qoePenalty, validWeights } from '../../src/core/preference.js';
import { simulatePopulation } from '../../src/sim/viewers/population.js';
import { paperStats, pollObserve, rowStats, loadTwitchRows } from '../../src/sim/viewers/stats.js';
import { buildRequests, splitByTime } from '../../src/sim/viewers/requests.js';
import { REQUEST_FEATURES } from '../../src/profile/features.js';
import { requestFeatures, type WatchRecord } from '../../src/profile/features.js';
import { Binner, RandomForest, RegressionTree } from '../../src/profile/forest.js';
import { predictProfile } from '../../src/profile/model.js';
import { loadModel } from '../../src/train/io.js';
import { dataRoot } from '../../src/sim/abr/load.js';
import { buildServer } from '../../src/server/app.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';

describe('QoE preference weights (ELCast)', () => {
  it("follows the paper's formula, sums to 10 and rejects bad input", () => {
    const med = { I: 2, D: 0.5, N: 1 };
    const w = preferenceWeights({ I: 20, D: 0.5, N: 1 }, med);
    const a1 = Math.log(1 + 21 / 3),
      a2 = Math.log(2),
      a3 = Math.log(2);
    expect(w.a1).toBeCloseTo((10 * a1) / (a1 + a2 + a3), 9);
    expect(w.a1 + w.a2 + w.a3).toBeCloseTo(10, 9);
    expect(w.a1).toBeGreaterThan(w.a2); // a chatty viewer weighs latency most
    const hopper = preferenceWeights({ I: 0, D: 0.05, N: 6 }, med);
    expect(hopper.a2).toBeGreaterThan(hopper.a1);
    expect(hopper.a2).toBeGreaterThan(hopper.a3);
    expect(validWeights(w)).toBeTrue();
    expect(validWeights({ a1: 5, a2: 5, a3: 5 })).toBeFalse();
    expect(validWeights(DEFAULT_WEIGHTS)).toBeTrue();
    expect(() => preferenceWeights({ I: -1, D: 1, N: 1 }, med)).toThrowError(/prediction\.I/);
    expect(() => preferenceWeights({ I: 1, D: NaN, N: 1 }, med)).toThrowError(/prediction\.D/);
    expect(interactionRate(1, 5 / 3600)).toBe(60); // one message in 5 s counts over a minute
    expect(interactionRate(30, 0.5)).toBe(60);
    expect(interactionRate(0, 0)).toBe(0);
    expect(qoePenalty({ a1: 5, a2: 3, a3: 2 }, { Ls: 2, Lw: 1, B: 0.5 })).toBeCloseTo(14, 12);
  });
});

describe('viewer-population simulator', () => {
  it("is seeded and reproduces ELCast's measured shares", () => {
    const a = simulatePopulation({ viewers: 400, days: 10 });
    const b = simulatePopulation({ viewers: 400, days: 10 });
    expect(a.watches.length).toBe(b.watches.length);
    expect(a.watches[123]).toEqual(b.watches[123]);
    const p = paperStats(simulatePopulation());
    expect(Math.abs(p.never_chat - 0.87)).toBeLessThan(0.03);
    expect(Math.abs(p.watch_about_a_minute - 0.4)).toBeLessThan(0.05);
    expect(p.over_10_msgs_per_session).toBeGreaterThan(0.03);
  });

  it("matches the Twitch sample's popularity, repeat and daily-cycle statistics when observed the same way", () => {
    const dir = join(dataRoot(), 'live');
    if (!existsSync(join(dir, 'twitch100k_sample_train.csv'))) return pending(`Twitch sample not found under ${dir} (set EDGEPLAY_DATA)`);
    const real = rowStats(loadTwitchRows(dir));
    const sim = rowStats(pollObserve(simulatePopulation().watches));
    expect(real.zipf_slope_all).toBeCloseTo(1.03, 2); // the README's facts, measured by our code
    expect(Math.abs(sim.zipf_slope_all - real.zipf_slope_all)).toBeLessThan(0.15);
    expect(Math.abs(sim.zipf_slope_top100 - real.zipf_slope_top100)).toBeLessThan(0.1);
    expect(Math.abs(sim.daily_peak_trough - real.daily_peak_trough)).toBeLessThan(0.3);
    expect(Math.abs(sim.consecutive_different - real.consecutive_different)).toBeLessThan(0.03);
    expect(Math.abs(sim.median_rows_per_user - real.median_rows_per_user) / real.median_rows_per_user).toBeLessThan(0.2);
  });
});

describe('profile features', () => {
  it("the device-side builder gives the simulator's features for the same history", () => {
    const pop = simulatePopulation({ viewers: 60, days: 6 });
    const d = buildRequests(pop.watches);
    const sorted = [...pop.watches].sort((a, b) => a.start - b.start);
    const chAgg = new Map<number, { I: number; T: number; n: number }>();
    let checked = 0;
    for (let r = 0; r < d.n && checked < 200; r++) {
      const w = sorted[r];
      if (r % 7) continue;
      const hist: WatchRecord[] = sorted
        .slice(0, r)
        .filter((o) => o.user === w.user)
        .map((o) => ({ channel: String(o.channel), visit: String(o.visit), at: o.start, hours: o.duration / 3600, msgs: o.msgs }));
      // channel aggregates: watches of anyone that ended before this request
      chAgg.clear();
      for (const o of pop.watches)
        if (o.start + o.duration <= w.start) {
          const a = chAgg.get(o.channel) ?? chAgg.set(o.channel, { I: 0, T: 0, n: 0 }).get(o.channel)!;
          a.I += interactionRate(o.msgs, o.duration / 3600);
          a.T += o.duration / 3600;
          a.n++;
        }
      const a = chAgg.get(w.channel);
      const x = requestFeatures(hist, String(w.channel), { I_all: a ? a.I / a.n : null, T_all: a ? a.T / a.n : null }, String(w.visit));
      for (let f = 0; f < REQUEST_FEATURES; f++)
        expect(x[f])
          .withContext(`request ${r} feature ${f}`)
          .toBeCloseTo(d.x[r * REQUEST_FEATURES + f], 3);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('tree baselines', () => {
  it('a regression tree and a forest learn a step function and beat the mean', () => {
    const n = 4000,
      dft = 3;
    const x = new Float32Array(n * dft),
      y = new Float64Array(n);
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < dft; f++) x[i * dft + f] = rnd();
      y[i] = (x[i * dft + 1] > 0.5 ? 10 : 0) + rnd();
    }
    const rows = Array.from({ length: n }, (_, i) => i);
    const b = new Binner(x, n, dft, rows, 32);
    const xb = b.binAll(x, n, dft);
    const t = new RegressionTree(b, dft).fit(xb, y, Int32Array.from(rows), { maxDepth: 4, minLeaf: 20 });
    const rf = new RandomForest(b, dft).fit(xb, y, rows, { trees: 10, maxDepth: 4, minLeaf: 20, featureFraction: 1 });
    let et = 0,
      ef = 0,
      em = 0;
    for (let i = 0; i < n; i++) {
      et += Math.abs(t.predictRow(x, i * dft) - y[i]);
      ef += Math.abs(rf.predictRow(x, i * dft) - y[i]);
      em += Math.abs(5.5 - y[i]);
    }
    expect(et / n).toBeLessThan(0.6);
    expect(ef / n).toBeLessThan(0.6);
    expect(em / n).toBeGreaterThan(4);
  });
});

describe('profile model (models/profile)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('loads with its card and normalisation, and predicts more chat for chatty histories and more channels for hoppers', async () => {
    const dir = 'models/profile';
    expect(existsSync(join(dir, 'MODEL.md'))).toBeTrue();
    const model = await loadModel(dir);
    const norm = JSON.parse(readFileSync(join(dir, 'norm.json'), 'utf8'));
    const mk = (msgsPerH: number, hours: number, perVisit: number) => {
      const hist: WatchRecord[] = [];
      for (let v = 0; v < 6; v++)
        for (let c = 0; c < perVisit; c++)
          hist.push({ channel: c === 0 ? 'news' : `ch${c}`, visit: `v${v}`, at: v * 1e7 + c, hours, msgs: msgsPerH * hours });
      return requestFeatures(hist, 'news', { I_all: 2, T_all: 0.4 }, 'now');
    };
    const x = new Float32Array(3 * REQUEST_FEATURES);
    x.set(mk(0, 0.5, 1), 0);
    x.set(mk(60, 0.5, 1), REQUEST_FEATURES);
    x.set(mk(0, 0.02, 5), 2 * REQUEST_FEATURES);
    const p = predictProfile(tf, model, norm, x, [0, 1, 2]);
    const [silent, chatty, hopper] = [0, 1, 2].map((i) => ({ I: p[i * 3], D: p[i * 3 + 1], N: p[i * 3 + 2] }));
    expect(chatty.I).toBeGreaterThan(silent.I + 5);
    expect(hopper.N).toBeGreaterThan(silent.N + 1);
    expect(hopper.D).toBeLessThan(silent.D);
  });

  it('is the split the trainer and benchmark use: 80 % of time trains, 20 % tests', () => {
    const d = buildRequests(simulatePopulation({ viewers: 100, days: 10 }).watches);
    const s = splitByTime(d);
    expect(s.train.length + s.test.length).toBe(d.n);
    expect(Math.max(...s.train.map((i) => d.t[i]))).toBeLessThan(Math.min(...s.test.map((i) => d.t[i])));
  });
});

describe('controller: channel statistics', () => {
  it("computes a channel's interaction rate and watch time from ended views, and rejects bad ids", async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      const t = Date.now() - 3600e3;
      const view = (id: string, channel: string, chats: number, playS: number) => [
        { view_id: id, seq: 0, t, type: 'viewstart', data: { channel, content_id: channel } },
        { view_id: id, seq: 1, t: t + 100, type: 'play' },
        { view_id: id, seq: 2, t: t + 200, type: 'startup', data: { startup_ms: 100, ttff_ms: 200 } },
        ...Array.from({ length: chats }, (_, i) => ({
          view_id: id,
          seq: 3 + i,
          t: t + 300 + i,
          type: 'interaction',
          data: { kind: 'chat' },
        })),
        { view_id: id, seq: 3 + chats, t: t + 200 + playS * 1000, type: 'viewend', data: { reason: 'detach' } },
      ];
      const post = (events: unknown[], sid: string, bid: string) =>
        app.inject({
          method: 'POST',
          url: '/v1/telemetry',
          payload: { v: 1, batch_id: bid, viewer_id: 'viewer-1', session_id: sid, sealed_at: t, events },
        });
      expect((await post(view('view-aaaa', 'news', 6, 1800), 'sess-1111', 'batch-0001')).statusCode).toBe(200);
      expect((await post(view('view-bbbb', 'news', 0, 600), 'sess-1111', 'batch-0002')).statusCode).toBe(200);
      expect((await post(view('view-cccc', 'sports', 0, 60), 'sess-2222', 'batch-0003')).statusCode).toBe(200);
      const r = await app.inject({ method: 'GET', url: '/v1/channels/news/stats' });
      expect(r.statusCode).toBe(200);
      const j = r.json();
      expect(j.views).toBe(2);
      expect(j.I_all).toBeCloseTo((6 / 0.5 + 0) / 2, 1); // 6 chats in 0.5 h, and a silent view
      expect(j.T_all).toBeCloseTo((0.5 + 1 / 6) / 2, 2);
      expect(j.population).toEqual({ views: 3, sessions: 2 });
      expect(j.medians.N).toBe(1.5); // channels watched per session: 2 (news twice) and 1 (sports)
      const none = (await app.inject({ method: 'GET', url: '/v1/channels/unknown-ch/stats' })).json();
      expect(none.views).toBe(0);
      expect(none.I_all).toBeNull();
      const bad = await app.inject({ method: 'GET', url: '/v1/channels/bad%20id!/stats' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/id/);
    } finally {
      await app.close();
    }
  });
});
