/**
 * The on-device profiler from real telemetry: scripted viewers watch real HLS (hls.js + edgeplay) on the
 * dev server; their own events build their history; the model in the worker turns it into weights. A
 * viewer who chats a lot gets a higher a1 (latency) than a silent one, a channel-hopper a higher a2
 * (switching). The history persists in IndexedDB after consent and `clear()` forgets it.
 */
import Hls from 'hls.js';
import {
  createEdgeplay,
  negotiate,
  startWorker,
  workerProfilePort,
  Profiler,
  type Edgeplay,
  type PreferenceWeights,
  type WorkerHandle,
} from '../../src/index.js';
import { env, makeVideo, sleep, uniq, until } from './util.js';

const SRC = () => `${env.dev}/streams/vod/master.m3u8?limit=2`;

async function watch(ep: Edgeplay, channel: string, chats: number): Promise<void> {
  const video = makeVideo();
  const hls = new Hls(ep.hlsConfig({}));
  ep.attach(hls, video, { channel, contentId: channel });
  hls.loadSource(SRC());
  hls.attachMedia(video);
  await video.play().catch(() => undefined);
  await until(() => video.currentTime > 1.2, `playback of ${channel}`, 20000);
  for (let i = 0; i < chats; i++) ep.recordInteraction('chat');
  ep.detach('leave');
  hls.destroy();
  video.remove();
}

/** visits (sessions) of a scripted viewer; the SDK starts a new session after 1.5 s without events */
async function viewer(
  worker: WorkerHandle,
  plan: { visits: number; channels: string[]; chats: number },
  consent: 'granted' | 'pending',
  dbName = uniq('prof'),
) {
  const ep = createEdgeplay({
    endpoint: `${env.controller}/v1/telemetry`,
    consent,
    dbName: uniq('ep'),
    flushIntervalMs: 300,
    sessionTimeoutMs: 1500,
  });
  const profiler = new Profiler({
    ep,
    port: workerProfilePort(worker),
    modelUrl: '/base/models/profile/model.json',
    controller: env.controller,
    dbName,
  });
  const sessions = new Set<string>();
  for (let v = 0; v < plan.visits; v++) {
    if (v) await sleep(1800);
    for (const ch of plan.channels) {
      await watch(ep, ch, plan.chats);
      sessions.add(ep.sessionId);
    }
  }
  await until(() => profiler.history().length === plan.visits * plan.channels.length, 'history recorded', 5000);
  return { ep, profiler, sessions, dbName };
}

describe('QoE-preference profiler', () => {
  it('gives a chatty viewer a higher a1 and a channel-hopper a higher a2 than a silent stayer, from real events', async () => {
    const worker = startWorker('/base/dist/edgeplay.worker.js');
    try {
      const silent = await viewer(worker, { visits: 3, channels: ['news'], chats: 0 }, 'granted');
      const chatty = await viewer(worker, { visits: 3, channels: ['news'], chats: 12 }, 'granted');
      const hopper = await viewer(worker, { visits: 3, channels: ['news', 'sports', 'music', 'games'], chats: 0 }, 'granted');
      expect(silent.sessions.size).toBe(3); // three visits
      const h = hopper.profiler.history();
      expect(h.every((r) => r.hours > 0 && r.hours < 0.01)).toBeTrue(); // seconds-long real watches
      expect(chatty.profiler.history().every((r) => r.msgs === 12)).toBeTrue();
      const [s, c, p] = await Promise.all([silent, chatty, hopper].map((v) => v.profiler.profile('news')));
      console.log(
        `[measure] profiler weights (a1 latency, a2 switching, a3 bitrate): silent ${fmt(s.weights)}, chatty ${fmt(c.weights)}, hopper ${fmt(p.weights)}; predicted N hopper ${p.predicted?.N.toFixed(2)} vs silent ${s.predicted?.N.toFixed(2)}; medians ${JSON.stringify(s.medians)}, predicted silent ${JSON.stringify(s.predicted)} chatty ${JSON.stringify(c.predicted)}`,
      );
      for (const a of [s, c, p]) {
        expect(a.source).toBe('model');
        expect(a.weights.a1 + a.weights.a2 + a.weights.a3).toBeCloseTo(10, 6);
      }
      expect(c.weights.a1).toBeGreaterThan(s.weights.a1);
      expect(p.weights.a2).toBeGreaterThan(s.weights.a2);
      expect(p.predicted!.N).toBeGreaterThan(s.predicted!.N);

      // the weights flow into the negotiation request: the controller answers with the profiler's weights.
      // Compare with what the profiler gave for this request, not with `c`: the channel medians come from
      // the server's telemetry and may have moved since (the other viewers' events are still arriving).
      let sent: PreferenceWeights | null = null;
      const neg = await negotiate({
        controller: env.controller,
        viewerId: chatty.ep.viewerId,
        channel: 'news',
        src: `${env.dev}/streams/vod/master.m3u8`,
        weights: async () => (sent = await chatty.profiler.weights('news')),
        timeoutMs: 5000,
      });
      expect(neg).not.toBeNull();
      expect(sent!.a1)
        .withContext("the chatty viewer's profiled weights, not the defaults")
        .toBeGreaterThan(10 / 3);
      for (const k of ['a1', 'a2', 'a3'] as const) expect(neg!.weights[k]).toBeCloseTo(sent![k], 3);
      await neg!.leave();

      // consent granted: the history survives a new Profiler on the same database; clear() forgets it
      const again = new Profiler({ ep: chatty.ep, dbName: chatty.dbName });
      await until(() => again.history().length === 3, 'history reloaded from IndexedDB', 5000);
      await again.clear();
      const fresh = new Profiler({ ep: chatty.ep, dbName: chatty.dbName });
      await sleep(300);
      expect(fresh.history().length).toBe(0);
      // before consent nothing is stored on the device: a second Profiler on the same database sees nothing
      const pendingEp = createEdgeplay({ endpoint: `${env.controller}/v1/telemetry`, consent: 'pending', dbName: uniq('ep') });
      const db = uniq('prof');
      const p1 = new Profiler({ ep: pendingEp, dbName: db });
      await p1.addRecord({ channel: 'news', visit: 'v1', at: Date.now(), hours: 0.5, msgs: 3 });
      expect(p1.history().length).toBe(1);
      const p2 = new Profiler({ ep: pendingEp, dbName: db, port: workerProfilePort(worker), modelUrl: '/base/models/profile/model.json' });
      await sleep(300);
      expect(p2.history().length).toBe(0);
      // a viewer with no history gets equal weights, not a guess from empty inputs
      const cold = await p2.profile('news');
      expect(cold.source).toBe('default');
      expect(cold.reason).toMatch(/no history/);
      p1.destroy();
      p2.destroy();
      await pendingEp.destroy();
      // without a model (or with a dead worker) the answer is the default weights, never an error
      worker.terminate();
      const dead = new Profiler({
        ep: silent.ep,
        port: workerProfilePort(worker),
        modelUrl: '/base/models/profile/model.json',
        budgetMs: 300,
        dbName: silent.dbName,
      });
      await until(() => dead.history().length === 3, 'silent viewer history reloaded', 5000);
      const d = await dead.profile('news');
      expect(d.source).toBe('default');
      expect(d.reason).not.toMatch(/no history/);
      expect(d.weights.a1).toBeCloseTo(10 / 3, 9);
      dead.destroy();
      for (const v of [silent, chatty, hopper]) {
        v.profiler.destroy();
        await v.ep.destroy();
      }
      again.destroy();
      fresh.destroy();
    } finally {
      worker.terminate();
    }
  });
});

function fmt(w: { a1: number; a2: number; a3: number }): string {
  return `${w.a1.toFixed(2)}/${w.a2.toFixed(2)}/${w.a3.toFixed(2)}`;
}
