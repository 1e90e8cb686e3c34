/**
 * Telemetry in real Chromium with real hls.js, real generated HLS, the shaping dev server and the real
 * edge controller (fastify + SQLite).
 */
import Hls from 'hls.js';
import { createEdgeplay, startWorker, type Edgeplay, type TelemetryEvent } from '../../src/index.js';
import { DurableQueue, spillKey, type StoredBatch } from '../../src/telemetry/queue.js';
import {
  env,
  harness,
  loadFrame,
  makeVideo,
  player,
  serverSummary,
  sleep,
  storedEvents,
  uniq,
  until,
  watchStalls,
  type StoredEvent,
} from './util.js';

const VOD = () => `${env.dev}/streams/vod/master.m3u8`;
const endpoint = () => `${env.controller}/v1/telemetry`;

describe('telemetry in Chromium', () => {
  it('measures startup of a real view and the server agrees', async () => {
    const p = player({ src: VOD() });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 20000);
      const view = p.ep.currentView!;
      const s = view.summary();
      console.log(`[measure] startup_ms=${s.startup_ms} ttff_ms=${s.ttff_ms} (unshaped loopback)`);
      expect(s.startup_ms).toBeGreaterThan(0);
      expect(s.startup_ms!).toBeLessThan(10000);
      expect(s.ttff_ms!).toBeGreaterThanOrEqual(s.startup_ms!);
      // playback really advances
      await until(() => p.video.currentTime > 2, 'playhead past 2 s', 20000);
      expect(p.events.some((e) => e.type === 'bitrate')).toBeTrue();
      const viewId = view.id;
      await p.ep.flush();
      const srv = await serverSummary(viewId);
      expect(srv.startup_ms).toBe(s.startup_ms);
      expect(srv.content_id).toBe('vod-1');
      // CMCD is on with our ids (sid = the view, CTA-5004's playback session): the "CDN" (dev server) saw them
      expect((p.hls.config as { cmcd?: { sessionId?: string } }).cmcd?.sessionId).toBe(viewId);
      const cmcd = (await harness(`/cmcd/${viewId}`)) as { requests: number; cids: string[]; keys: string[] };
      expect(cmcd.requests).toBeGreaterThan(2);
      expect(cmcd.cids).toEqual(['vod-1']);
      expect(cmcd.keys).toEqual(jasmine.arrayContaining(['br', 'bl', 'mtp', 'ot', 'sid', 'cid']));
      // a seek is timed and is not a stall
      p.video.currentTime = 120;
      const seekEnd = await until(() => p.events.find((e) => e.type === 'seek_end'), 'seek to finish', 20000);
      expect(seekEnd.data!.latency_ms as number).toBeGreaterThan(0);
      expect(seekEnd.data!.latency_ms as number).toBeLessThan(10000);
      expect(p.ep.currentView!.summary().seek_count).toBe(1);
      expect(p.ep.currentView!.summary().rebuffer_count).toBe(0);
      console.log(`[measure] seek latency ${seekEnd.data!.latency_ms} ms (unshaped)`);
    } finally {
      await p.destroy();
    }
  });

  it('measures startup on a shaped 3G-like link, plausibly slower than loopback', async () => {
    const p = player({ src: `${VOD()}?trace=3g` });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 40000);
      const s = p.ep.currentView!.summary();
      console.log(`[measure] startup_ms=${s.startup_ms} on trace 3g (0.6-1.6 Mbps, 80 ms RTT)`);
      expect(s.startup_ms!).toBeGreaterThan(300); // at least a playlist + init + one segment over 80 ms RTTs
      expect(s.startup_ms!).toBeLessThan(30000);
    } finally {
      await p.destroy();
    }
  });

  it('counts and times rebuffering like the video element does (shaped below the lowest rung)', async () => {
    const p = player({ src: `${VOD()}?trace=stall`, hlsConfig: { maxBufferLength: 8, maxMaxBufferLength: 8 } });
    const truth = watchStalls(p.video);
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 30000);
      // the stall trace: 10 s at 8 Mbps then 16 s at 0.08 Mbps, repeating; play ~2 cycles
      await until(() => truth.filter((i) => i.end !== null).length >= 2, 'two completed stalls', 120000, 250);
      // finish any open stall before comparing
      await until(() => truth.every((i) => i.end !== null), 'open stall to end', 60000, 250);
      const sdk = p.events.filter((e) => e.type === 'rebuffer_end').map((e) => e.data!.duration_ms as number);
      const el = truth.map((i) => i.end! - i.start);
      console.log(`[measure] stalls element=${JSON.stringify(el.map(Math.round))} sdk=${JSON.stringify(sdk)}`);
      expect(sdk.length).toBe(el.length);
      for (let i = 0; i < el.length; i++)
        expect(Math.abs(sdk[i] - el[i]))
          .withContext(`stall ${i}`)
          .toBeLessThan(250);
      const s = p.ep.currentView!.summary();
      expect(s.rebuffer_count).toBe(el.length);
      expect(Math.abs(s.rebuffer_ms - el.reduce((a, b) => a + b, 0))).toBeLessThan(250 * el.length);
      expect(s.rebuffer_ratio_pct).toBeGreaterThan(0);
      expect(s.rebuffer_per_100s).toBeCloseTo((s.rebuffer_count * 100000) / s.view_ms, 6);
      const viewId = p.ep.currentView!.id;
      await p.ep.flush();
      const srv = await serverSummary(viewId);
      expect(srv.rebuffer_count).toBe(el.length);
      console.log(
        `[measure] rebuffer_count=${s.rebuffer_count} rebuffer_ms=${Math.round(s.rebuffer_ms)} ratio_pct=${s.rebuffer_ratio_pct.toFixed(1)} per_100s=${s.rebuffer_per_100s.toFixed(2)} switches=${s.switch_count} (up ${s.switch_up}, down ${s.switch_down})`,
      );
    } finally {
      await p.destroy();
    }
  });

  it('delivers every event exactly once across a server outage and a page unload', async () => {
    const db = uniq('ep-unload');
    await harness('/controller/stop', 'POST');
    let viewId = '';
    let recordedBeforeUnload = 0;
    try {
      const a = await loadFrame({ src: `${VOD()}`, endpoint: endpoint(), db, flush: '300', heartbeat: '500' });
      const fa = (
        a.contentWindow as unknown as { fixture: { ep: Edgeplay; events: Array<{ seq: number; type: string; view_id: string }> } }
      ).fixture;
      await until(() => fa.events.find((e) => e.type === 'startup'), 'first frame in page A', 20000);
      for (let i = 0; i < 5; i++) fa.ep.recordInteraction('chat');
      fa.ep.recordInteraction('like');
      await sleep(2500); // several seal/send attempts fail: the server is down
      viewId = fa.ep.currentView!.id;
      expect(fa.ep.stats.delivered).toBe(0);
      expect(fa.ep.stats.failures).toBeGreaterThan(0);
      // count what the page emitted up to its pagehide (a heartbeat may still fire before it), viewend included:
      // this listener runs after the SDK's own pagehide handler
      a.contentWindow!.addEventListener('pagehide', () => (recordedBeforeUnload = fa.events.length));
      a.src = 'about:blank'; // unload page A (pagehide: seal, spill, beacon into the void)
      await new Promise((r) => (a.onload = r));
      a.remove();
    } finally {
      await harness('/controller/start', 'POST');
    }
    // Nothing arrived while the server was down.
    expect((await storedEvents(viewId)).length).toBe(0);
    const b = await loadFrame({ endpoint: endpoint(), db }); // a later page of the same site
    try {
      const stored = await until(
        async () => {
          const ev = await storedEvents(viewId);
          return ev.some((e) => e.type === 'viewend') ? ev : null;
        },
        'the unloaded view to arrive',
        30000,
        250,
      );
      await sleep(1000); // let any duplicate re-sends land too
      const final = await storedEvents(viewId);
      const seqs = final.map((e) => e.seq).sort((x, y) => x - y);
      expect(final.length).toBe(stored.length);
      expect(seqs).toEqual(seqs.map((_, i) => i)); // 0..n-1, each exactly once, no gaps
      expect(final.length).toBe(recordedBeforeUnload); // everything the page emitted, the viewend of its pagehide included
      expect(final.filter((e) => e.type === 'interaction').length).toBe(6);
      console.log(`[measure] outage+unload: ${final.length} events stored exactly once in SQLite`);
      const srv = await serverSummary(viewId);
      expect(srv.interactions).toEqual({ chat: 5, like: 1 });
    } finally {
      b.remove();
    }
  });

  it('beacons on unload and the server deduplicates the re-send by batch id', async () => {
    const db = uniq('ep-beacon');
    const before = (await harness('/stats')) as { duplicates: number };
    // long flush interval: the last events are still in the open batch when the page unloads
    const a = await loadFrame({ src: `${VOD()}`, endpoint: endpoint(), db, flush: '60000', heartbeat: '60000' });
    const fa = (a.contentWindow as unknown as { fixture: { ep: Edgeplay; events: Array<{ seq: number; type: string }> } }).fixture;
    await until(() => fa.events.find((e) => e.type === 'startup'), 'first frame', 20000);
    for (let i = 0; i < 3; i++) fa.ep.recordInteraction('like');
    const viewId = fa.ep.currentView!.id;
    let n = -1;
    a.contentWindow!.addEventListener('pagehide', () => (n = fa.events.length)); // after the SDK's viewend
    a.src = 'about:blank';
    await new Promise((r) => (a.onload = r));
    a.remove();
    // the beacon alone delivers the view
    const got = await until(
      async () => {
        const ev = await storedEvents(viewId);
        return ev.some((e) => e.type === 'viewend') ? ev : null;
      },
      'beacon delivery',
      15000,
      200,
    );
    expect(got.length).toBe(n);
    // the next page re-sends the same batches from IndexedDB; stored once, counted as duplicates
    const b = await loadFrame({ endpoint: endpoint(), db });
    try {
      await until(
        async () => ((await harness('/stats')) as { duplicates: number }).duplicates > before.duplicates,
        'duplicate re-send',
        15000,
        200,
      );
      const final: StoredEvent[] = await storedEvents(viewId);
      expect(final.length).toBe(n);
      expect(new Set(final.map((e) => e.seq)).size).toBe(final.length);
    } finally {
      b.remove();
    }
  });

  // issue 18 item 1: a chat in Chinese made a ~115 KB batch that Chromium's keepalive quota (64 KiB) refused forever
  it('seals by UTF-8 bytes: every batch of Chinese chat is delivered and the unload beacon is accepted', async () => {
    const text = '你好'.repeat(200); // 400 characters, 1200 bytes of UTF-8
    const p = player({ src: VOD() });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 20000);
      for (let i = 0; i < 90; i++) p.ep.recordInteraction('chat', { text });
      await p.ep.flush();
      p.ep.recordInteraction('like');
      await p.ep.flush();
      const st = p.ep.stats;
      expect(st.sealed).toBeGreaterThanOrEqual(3); // 108 KB of chat does not fit one 48 KB batch
      expect(st.delivered).toBe(st.sealed);
      expect(st.pending).toBe(0);
      expect(st.failures).toBe(0);
      expect(st.rejected).toBe(0);
      const stored = await storedEvents(p.ep.currentView!.id);
      const chats = stored.filter((e) => e.type === 'interaction' && e.data?.kind === 'chat');
      expect(chats.length).toBe(90);
      expect(chats.every((e) => e.data?.text === text)).toBeTrue();
    } finally {
      await p.destroy();
    }
    // the same on page unload: the beacons go out within their byte quota, the rest waits for the next page
    const db = uniq('ep-utf8');
    const a = await loadFrame({ src: `${VOD()}`, endpoint: endpoint(), db, flush: '60000', heartbeat: '60000' });
    const fa = (a.contentWindow as unknown as { fixture: { ep: Edgeplay; events: Array<{ seq: number; type: string }> } }).fixture;
    await until(() => fa.events.find((e) => e.type === 'startup'), 'first frame', 20000);
    for (let i = 0; i < 90; i++) fa.ep.recordInteraction('chat', { text });
    const viewId = fa.ep.currentView!.id;
    let emitted = -1,
      beacons = -1;
    a.contentWindow!.addEventListener('pagehide', () => {
      emitted = fa.events.length;
      beacons = fa.ep.stats.beacons;
    });
    a.src = 'about:blank';
    await new Promise((r) => (a.onload = r));
    a.remove();
    expect(beacons).toBeGreaterThan(0);
    await until(async () => (await storedEvents(viewId)).length > 0, 'events carried by the unload beacons', 15000, 200);
    const b = await loadFrame({ endpoint: endpoint(), db }); // the next page sends what did not fit
    try {
      const all = await until(
        async () => {
          const ev = await storedEvents(viewId);
          return ev.length === emitted ? ev : null;
        },
        'every event of the unloaded page',
        30000,
        250,
      );
      expect(all.map((e) => e.seq).sort((x, y) => x - y)).toEqual(all.map((_, i) => i));
      expect(all.filter((e) => e.type === 'interaction').length).toBe(90);
    } finally {
      b.remove();
    }
  });

  // issue 18 item 2: a flush during a slow send returned with its batch neither sent nor scheduled
  it('delivers what a flush sealed even while an earlier send is in flight, and destroy() delivers the last view', async () => {
    const video = makeVideo();
    const ep = createEdgeplay({
      endpoint: `${env.dev}/__harness/slow/300/v1/telemetry`, // a collector that answers in 300 ms
      consent: 'granted',
      dbName: uniq('ep-slow'),
      flushIntervalMs: 60000,
      heartbeatMs: 60000,
    });
    const hls = new Hls(ep.hlsConfig({}));
    const view = ep.attach(hls, video, { channel: 'slow', contentId: 'slow-1' });
    try {
      ep.recordInteraction('chat');
      const first = ep.flush(); // batch 1 is on the wire for 300 ms
      await sleep(50);
      ep.recordInteraction('like');
      await ep.flush(); // batch 2 is sealed while batch 1 is in flight
      expect(ep.stats.sealed).toBe(2);
      expect(ep.stats.delivered).toBe(2);
      expect(ep.stats.pending).toBe(0);
      await first;
      // destroy() while a send is in flight: the final viewend still arrives
      ep.recordInteraction('chat');
      void ep.flush();
      await sleep(50);
      await ep.destroy();
      const stored = await storedEvents(view.id);
      expect(stored.some((e) => e.type === 'viewend')).toBeTrue();
      expect(stored.map((e) => e.seq).sort((x, y) => x - y)).toEqual(stored.map((_, i) => i));
    } finally {
      hls.destroy();
      video.remove();
    }
  });

  // issue 18 items 9, 14: attach() after loadSource() left every request without cid; long and non-ASCII ids were sent as they were
  it('CMCD: every request of a view carries its ids whatever the call order, and the ids are valid CTA-5004 values', async () => {
    type Log = { requests: number; cids: string[]; by_cid: Record<string, number> };
    const video = makeVideo();
    const ep = createEdgeplay({ endpoint: endpoint(), consent: 'granted', dbName: uniq('ep-cmcd'), flushIntervalMs: 300 });
    const hls = new Hls(ep.hlsConfig({ maxBufferLength: 8 }));
    let frags = 0;
    hls.on(Hls.Events.FRAG_LOADED, () => frags++);
    try {
      hls.loadSource(`${VOD()}?limit=4`); // the order the README once allowed: loadSource first, then attach
      const view = ep.attach(hls, video, { channel: 'cmcd', contentId: 'cid-42' });
      hls.attachMedia(video);
      void video.play().catch(() => undefined);
      await until(() => frags >= 3, 'three fragments', 20000);
      const log = (await harness(`/cmcd/${view.id}`)) as Log;
      expect(log.requests).toBeGreaterThanOrEqual(5); // manifest, level playlist, init, fragments
      expect(log.cids).toEqual(['cid-42']);
      // only the manifest request left before attach() could run; everything after it carries the content id
      expect(log.by_cid['cid-42']).toBeGreaterThanOrEqual(log.requests - 1);
    } finally {
      await ep.destroy();
      hls.destroy();
      video.remove();
    }
    // a 79-character id and a non-ASCII one become valid CMCD strings (≤ 64 printable ASCII); telemetry keeps both
    for (const id of ['x'.repeat(79), 'Tagesschau – 20:00 Uhr']) {
      const v = makeVideo();
      const events: TelemetryEvent[] = [];
      const e2 = createEdgeplay({ endpoint: endpoint(), consent: 'granted', dbName: uniq('ep-cmcd'), onEvent: (e) => events.push(e) });
      const h2 = new Hls(e2.hlsConfig({ maxBufferLength: 8 }, id));
      let n = 0;
      h2.on(Hls.Events.FRAG_LOADED, () => n++);
      try {
        const view = e2.attach(h2, v, { channel: 'cmcd', contentId: id });
        h2.loadSource(`${VOD()}?limit=2`);
        h2.attachMedia(v);
        await until(() => n >= 1, 'a fragment', 20000);
        const log = (await harness(`/cmcd/${view.id}`)) as Log;
        expect(log.cids.length).withContext(id).toBe(1);
        const sent = log.cids[0];
        expect(sent.length).toBeLessThanOrEqual(64);
        expect(/^[\x20-\x7e]+$/.test(sent))
          .withContext(sent)
          .toBeTrue();
        expect(log.by_cid[sent]).toBe(log.requests); // every request, the manifest included
        const start = events.find((e) => e.type === 'viewstart')!;
        expect(start.data?.content_id).toBe(id);
        expect(start.data?.cmcd_cid).toBe(sent);
      } finally {
        await e2.destroy();
        h2.destroy();
        v.remove();
      }
    }
  });

  it('counts and times channel switches and interactions', async () => {
    const p = player({ src: VOD(), channel: 'ch-a' });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 20000);
      for (let i = 0; i < 3; i++) p.ep.recordInteraction('chat');
      p.ep.recordInteraction('like');
      const v1 = p.ep.currentView!;
      await sleep(1500);
      expect(v1.summary().interactions).toEqual({ chat: 3, like: 1 });
      const t1 = performance.now();
      const v2 = p.ep.switchChannel('ch-b', { src: `${VOD()}?trace=4g`, contentId: 'vod-b', autoplay: true });
      expect(v1.isClosed).toBeTrue();
      const sw2 = await until(
        () => p.events.find((e) => e.type === 'channel_switch' && e.view_id === v2.id),
        'switch 1 first frame',
        30000,
      );
      const wall1 = performance.now() - t1;
      const lat1 = sw2.data!.latency_ms as number;
      expect(lat1).toBeGreaterThan(0);
      expect(lat1).toBeLessThanOrEqual(wall1 + 5);
      expect(sw2.data!.from).toBe('ch-a');
      expect(sw2.data!.to).toBe('ch-b');
      p.ep.recordInteraction('chat');
      await sleep(1000);
      const v3 = p.ep.switchChannel('ch-a', { src: VOD(), contentId: 'vod-1', autoplay: true });
      const sw3 = await until(
        () => p.events.find((e) => e.type === 'channel_switch' && e.view_id === v3.id),
        'switch 2 first frame',
        30000,
      );
      console.log(`[measure] channel switch latency: ${lat1} ms (to shaped 4g), ${sw3.data!.latency_ms} ms (to loopback)`);
      expect(p.ep.channelSwitchCount).toBe(2);
      expect(sw3.data!.switch_index).toBe(2);
      const watch = p.ep.watchDurations();
      expect(watch['ch-a']).toBeGreaterThan(1000);
      expect(watch['ch-b']).toBeGreaterThan(500);
      await p.ep.flush();
      const s1 = await serverSummary(v1.id);
      expect(s1.interactions).toEqual({ chat: 3, like: 1 });
      const s2 = await serverSummary(v2.id);
      expect(s2.channel).toBe('ch-b');
      expect(s2.channel_switch_latency_ms).toBe(lat1);
      expect(s2.interactions).toEqual({ chat: 1 });
    } finally {
      await p.destroy();
    }
  });

  it("reports the worker's deployment in the current view and in every later one, and the controller stores it", async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    const p = player({ src: VOD(), channel: 'ch-a' });
    try {
      // the real selector on the shipped profile (models/variants/profile.json), nothing loaded
      const state = await w.api.deploy({
        modelsUrl: new URL('/base/models/', location.href).href,
        tasks: { viewport: { latencyBudgetMs: 20, accuracyFloor: 0.97 }, abr: { latencyBudgetMs: 5, accuracyFloor: 0.9 } },
        load: false,
      });
      expect(state.choices.map((c) => c.task)).toEqual(['viewport', 'abr']);
      const v1 = p.ep.currentView!;
      const deployments = (viewId: string) => p.events.filter((e) => e.type === 'deployment' && e.view_id === viewId);
      expect(deployments(v1.id).length).toBe(0);
      p.ep.recordDeployment(state);
      const sent = deployments(v1.id);
      expect(sent.map((e) => e.data!.task)).toEqual(['viewport', 'abr']);
      for (const [i, c] of state.choices.entries()) {
        const d = sent[i].data!;
        expect(d.model).toBe(c.model || null);
        expect(d.variant).toBe(c.variant || null);
        expect(d.backend).toBe(c.backend);
        expect(d.placement).toBe(c.placement);
        expect(d.rel_accuracy).toBeCloseTo(c.rel_accuracy, 3);
        expect(d.speed_factor).toBeCloseTo(c.factor, 2);
        expect(d.reason).toBe(c.reason.slice(0, 512));
        expect(d.error).toBeNull();
      }
      // the next view carries it from its start, after its viewstart
      const v2 = p.ep.switchChannel('ch-b', { src: VOD(), contentId: 'vod-b', autoplay: true });
      const again = deployments(v2.id);
      expect(again.map((e) => e.data)).toEqual(sent.map((e) => e.data));
      const v2events = p.events.filter((e) => e.view_id === v2.id);
      expect(v2events.findIndex((e) => e.type === 'viewstart')).toBeLessThan(v2events.findIndex((e) => e.type === 'deployment'));
      expect(() => p.ep.recordDeployment({} as never)).toThrowError(TypeError, /choices/);
      // forgotten: a third view starts without it
      p.ep.recordDeployment(null);
      const v3 = p.ep.switchChannel('ch-a', { src: VOD(), contentId: 'vod-1', autoplay: true });
      expect(deployments(v3.id).length).toBe(0);
      await p.ep.flush();
      // the controller accepted and stored both views' deployment events as sent
      for (const v of [v1, v2]) {
        const stored = await until(async () => {
          const ev = (await storedEvents(v.id)).filter((e) => e.type === 'deployment');
          return ev.length === 2 ? ev : null;
        }, `the deployment events of ${v.id} stored`);
        expect(stored.map((e) => e.data)).toEqual(deployments(v.id).map((e) => e.data as Record<string, unknown>));
      }
    } finally {
      w.terminate();
      await p.destroy();
    }
  });

  // a spill is a page's unload-time copy of its outbox in localStorage, shared by every page of the origin: before this,
  // any SDK instance imported every spill, so an app with another dbName (another endpoint) delivered them too
  it('imports a spill only into the outbox (dbName) that wrote it; spills from before the name go to the default outbox', async () => {
    const batch = (id: string): StoredBatch => ({ id, body: `{"batch_id":"${id}"}`, created: Date.now(), events: 1 });
    const dbA = uniq('ep-spill-a'),
      dbB = uniq('ep-spill-b');
    const legacyKey = `edgeplay:spill:${uniq('tab')}`;
    localStorage.setItem(spillKey(dbA, 'tab-1'), JSON.stringify([batch('spill-a-1')]));
    localStorage.setItem(spillKey(dbB, 'tab-2'), JSON.stringify([batch('spill-b-1'), batch('spill-b-2')]));
    localStorage.setItem(legacyKey, JSON.stringify([batch('spill-legacy')]));
    const opened: DurableQueue[] = [];
    try {
      // a name that starts like another one does not catch its spills
      const c = await DurableQueue.open(`${dbA}:x`, 'tab-5');
      opened.push(c);
      expect(await c.list()).toEqual([]);
      expect(localStorage.getItem(spillKey(dbA, 'tab-1'))).not.toBeNull();
      const a = await DurableQueue.open(dbA, 'tab-3');
      opened.push(a);
      expect((await a.list()).map((b) => b.id)).toEqual(['spill-a-1']);
      expect(localStorage.getItem(spillKey(dbA, 'tab-1'))).toBeNull(); // imported into IndexedDB: gone from the spill
      expect(localStorage.getItem(spillKey(dbB, 'tab-2'))).not.toBeNull(); // another outbox's: untouched
      expect(localStorage.getItem(legacyKey)).not.toBeNull();
      const b = await DurableQueue.open(dbB, 'tab-4');
      opened.push(b);
      expect((await b.list()).map((x) => x.id).sort()).toEqual(['spill-b-1', 'spill-b-2']);
      const d = await DurableQueue.open('edgeplay', 'tab-6');
      opened.push(d);
      expect((await d.list()).map((x) => x.id)).toContain('spill-legacy');
      expect(localStorage.getItem(legacyKey)).toBeNull();
      await d.remove('spill-legacy');
    } finally {
      for (const q of opened) q.close();
      localStorage.removeItem(legacyKey);
    }
  });

  // until session 9 an app that left dbName out kept its outbox in the IndexedDB database "undefined" (Edgeplay passed
  // the unset option through and it overrode the pipeline's default): the default outbox takes those batches over
  it('moves the batches of the misnamed default outbox "undefined" into the default outbox', async () => {
    const old = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('undefined', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('outbox', { keyPath: 'id' });
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const id = uniq('misnamed');
    await new Promise<void>((res, rej) => {
      const tx = old.transaction('outbox', 'readwrite');
      tx.objectStore('outbox').put({ id, body: `{"batch_id":"${id}"}`, created: Date.now(), events: 1 } satisfies StoredBatch);
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
    });
    old.close();
    const other = await DurableQueue.open(uniq('ep-named'), 'tab-7'); // a named outbox leaves it alone
    expect((await other.list()).map((b) => b.id)).not.toContain(id);
    other.close();
    const d = await DurableQueue.open('edgeplay', 'tab-8');
    try {
      expect((await d.list()).map((b) => b.id)).toContain(id);
      const again = await DurableQueue.open('edgeplay', 'tab-9'); // moved, not copied: it is gone from "undefined"
      const left = await new Promise<number>((res, rej) => {
        const r = indexedDB.open('undefined');
        r.onsuccess = () => {
          const c = r.result.transaction('outbox', 'readonly').objectStore('outbox').count();
          c.onsuccess = () => (r.result.close(), res(c.result));
          c.onerror = () => rej(c.error);
        };
        r.onerror = () => rej(r.error);
      });
      expect(left).toBe(0);
      again.close();
      await d.remove(id);
    } finally {
      d.close();
    }
  });

  // an app that spreads its own config passes unset fields as undefined: they must keep the SDK's defaults (review,
  // session 9: `heartbeatMs: undefined` overrode the 10 s default and beat every 0 ms, a flood of heartbeat events)
  it('keeps the defaults for options passed as undefined: a heartbeat every 10 s, not every 0 ms', async () => {
    const video = makeVideo();
    const events: TelemetryEvent[] = [];
    const ep = createEdgeplay({
      endpoint: endpoint(),
      consent: 'granted',
      dbName: uniq('ep-undef'),
      heartbeatMs: undefined,
      sessionTimeoutMs: undefined,
      flushIntervalMs: undefined,
      sampleRate: undefined,
      onEvent: (e) => events.push(e),
    });
    const hls = new Hls(ep.hlsConfig({}));
    try {
      ep.attach(hls, video, { channel: 'ch-undef', contentId: 'vod-1' });
      hls.loadSource(VOD());
      hls.attachMedia(video);
      void video.play().catch(() => undefined);
      await until(() => events.find((e) => e.type === 'startup'), 'first frame', 20000);
      const from = events.length;
      await sleep(1500); // a 0 ms heartbeat emits hundreds of events in this time; the 10 s default at most one
      expect(events.slice(from).filter((e) => e.type === 'heartbeat').length).toBeLessThanOrEqual(1);
    } finally {
      await ep.destroy();
      hls.destroy();
      video.remove();
    }
  });

  it('refuses a consent value it does not know, in the options and in setConsent (events must not collect unsealed)', () => {
    expect(() => createEdgeplay({ endpoint: endpoint(), consent: 'yes' as never, dbName: uniq('ep-consent') })).toThrowError(
      TypeError,
      /consent must be/,
    );
    const ep = createEdgeplay({ endpoint: endpoint(), consent: false, dbName: uniq('ep-consent') });
    try {
      expect(ep.consent).toBe('denied');
      expect(() => ep.setConsent('maybe' as never)).toThrowError(TypeError, /got "maybe"/);
      expect(ep.consent).toBe('denied');
    } finally {
      void ep.destroy();
    }
  });

  it('stores and sends nothing before consent', async () => {
    localStorage.removeItem('edgeplay:viewer');
    localStorage.removeItem('edgeplay:session');
    const p = player({ src: VOD(), consent: 'pending' });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'first frame', 20000);
      const pv = p.ep.currentView!.id;
      await sleep(1200);
      expect(await storedEvents(pv)).toEqual([]);
      expect(p.ep.stats.sealed).toBe(0);
      expect(localStorage.getItem('edgeplay:viewer')).toBeNull();
      expect(localStorage.getItem('edgeplay:session')).toBeNull();
      expect((await indexedDB.databases()).map((d) => d.name)).not.toContain(p.dbName);
      p.ep.setConsent(true);
      await until(async () => (await storedEvents(pv)).some((e) => e.type === 'startup'), 'events after consent', 10000, 200);
      expect(localStorage.getItem('edgeplay:viewer')).toBe(p.ep.viewerId);
      expect((await indexedDB.databases()).map((d) => d.name)).toContain(p.dbName);
      // the events held before consent were sent, in order, none lost
      const stored = await storedEvents(pv);
      expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i));
    } finally {
      await p.destroy();
    }
  });

  it('honours the sampling rate and a denied consent', async () => {
    const q = player({ src: VOD(), sampleRate: 0 });
    const r = player({ src: VOD(), consent: 'pending' });
    try {
      await until(() => q.events.find((e) => e.type === 'startup') && r.events.find((e) => e.type === 'startup'), 'first frames', 20000);
      r.ep.setConsent(false);
      await q.ep.flush();
      await r.ep.flush();
      await sleep(500);
      expect(await storedEvents(q.ep.currentView!.id)).toEqual([]);
      expect(await storedEvents(r.ep.currentView!.id)).toEqual([]);
      expect(q.ep.stats.recorded).toBe(0);
      expect(r.ep.stats.sealed).toBe(0);
    } finally {
      await q.destroy();
      await r.destroy();
    }
  });

  it('reports live latency on the real-time live ladder', async () => {
    if (!env.live) return pending('live encoder not started (--no-live)');
    const p = player({ src: `${env.dev}/streams/live/master.m3u8`, heartbeatMs: 1000 });
    try {
      await until(() => p.events.find((e) => e.type === 'startup'), 'live first frame', 30000);
      const hb = await until(
        () => p.events.find((e) => e.type === 'heartbeat' && typeof e.data?.latency_s === 'number'),
        'a heartbeat with latency',
        15000,
      );
      const lat = hb.data!.latency_s as number;
      console.log(`[measure] live latency ${lat.toFixed(2)} s (LL-HLS: 2 s segments, 0.5 s parts; no catch-up)`);
      expect(lat).toBeGreaterThan(0.5);
      expect(lat).toBeLessThan(20);
      const s = p.ep.currentView!.summary();
      expect(s.live).toBeTrue();
      expect(s.latency_last_s).toBe(lat);
    } finally {
      await p.destroy();
    }
  });
});
