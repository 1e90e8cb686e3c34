/**
 * The controller as a fleet, in Chromium (issue 16): a viewer negotiates with a controller that keeps its
 * sessions in a real redis-server (append-only, fsync always) and plays from the assigned edge with real hls.js
 * while the harness stops and restarts that controller, then kills and restarts Redis. Counted: every telemetry
 * event the page emitted is stored exactly once; no stall; the steering session goes on after each restart (the
 * same session's reloads are answered 200 again and still put the edge first); during the Redis outage a new
 * viewer's negotiation falls back to the CDN at once. Every step waits for an event (a failed or answered
 * reload, a delivered batch, playback progress), never a clock.
 */
import Hls from 'hls.js';
import type { HlsConfig, Loader, LoaderCallbacks, LoaderConfiguration, LoaderContext } from 'hls.js';
import { createEdgeplay, negotiate, steeringConfig, type TelemetryEvent } from '../../src/index.js';
import { env, harness, makeVideo, storedEvents, until, watchStalls } from './util.js';

interface FleetState {
  available: boolean;
  reason?: string;
  controller: string | null;
  redis: boolean;
}

/** one steering manifest request as the page saw it: HTTP status (0: no answer) and when it ended */
interface SteeringResult {
  status: number;
  at: number;
}

describe('controller fleet in the browser', () => {
  it('keeps playing through a controller restart and a Redis restart: no stall, every event stored once, the session resumes', async () => {
    let fleet = (await harness('/fleet')) as FleetState;
    if (!fleet.available) return pending(fleet.reason ?? 'no fleet controller');
    fleet = (await harness('/fleet/controller/start', 'POST')) as FleetState;
    const controller = fleet.controller!;
    const config = (await (await fetch(`${env.dev}/api/config`)).json()) as {
      edges: Array<{ id: string; url: string; probe: string }>;
      cdnProbe: string;
    };
    const src = `${env.dev}/streams/vod/master.m3u8`;
    const events: TelemetryEvent[] = [];
    const ep = createEdgeplay({
      endpoint: `${controller}/v1/telemetry`,
      consent: 'granted',
      flushIntervalMs: 300,
      heartbeatMs: 1000,
      onEvent: (e) => events.push(e),
    });
    const negotiateFleet = (viewerId: string, timeoutMs = 3000) =>
      negotiate({
        controller,
        viewerId,
        channel: 'vod-1',
        src,
        edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
        cdnProbeUrl: `${env.dev}${config.cdnProbe}`,
        weights: async () => ({ a1: 6, a2: 2, a3: 2 }),
        bandwidthMbps: 20,
        timeoutMs,
      });
    const neg = await negotiateFleet(ep.viewerId);
    expect(neg).not.toBeNull();
    const edgeId = neg!.assignment.target;
    expect(config.edges.map((e) => e.id))
      .withContext('assigned an edge')
      .toContain(edgeId);

    // every steering manifest request of this player, answered or not (a loader around hls.js' own)
    const steering: SteeringResult[] = [];
    const Base = Hls.DefaultConfig.loader as unknown as new (c: HlsConfig) => Loader<LoaderContext>;
    class WatchedLoader extends Base {
      override load(context: LoaderContext, cfg: LoaderConfiguration, cb: LoaderCallbacks<LoaderContext>) {
        if ((context as { type?: string }).type !== 'steering-manifest' || !context.url.includes(`/v1/steering/${neg!.session}`))
          return super.load(context, cfg, cb);
        const note = (status: number) => steering.push({ status, at: performance.now() });
        super.load(context, cfg, {
          ...cb,
          onSuccess: (...a: Parameters<typeof cb.onSuccess>) => (note(200), cb.onSuccess(...a)),
          onError: (...a: Parameters<typeof cb.onError>) => (note(a[0].code), cb.onError(...a)),
          onTimeout: (...a: Parameters<typeof cb.onTimeout>) => (note(0), cb.onTimeout(...a)),
        });
      }
    }
    const pathways: string[] = [];
    const video = makeVideo();
    const stalls = watchStalls(video);
    const hls = new Hls(
      steeringConfig(
        Hls,
        neg,
        ep.hlsConfig({
          maxBufferLength: 12,
          maxMaxBufferLength: 12,
          capLevelToPlayerSize: true,
          loader: WatchedLoader as unknown as typeof Hls.DefaultConfig.loader,
        }),
      ),
    );
    hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_e, d) => pathways.push(String(d.steeringManifest['PATHWAY-PRIORITY']?.[0])));
    const served: string[] = [];
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => d.frag.type === 'main' && served.push(hls.levels[d.frag.level].pathwayId));
    const fatal: string[] = [];
    hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && fatal.push(d.details));
    ep.attach(hls, video, { channel: 'vod-1', contentId: 'vod-1' });
    hls.loadSource(src);
    hls.attachMedia(video);
    void video.play().catch(() => undefined);
    const answered = (after: number) => steering.filter((s) => s.at > after && s.status === 200).length;
    const failed = (after: number, ok: (status: number) => boolean) => steering.filter((s) => s.at > after && ok(s.status)).length;
    let viewId = '';
    try {
      await until(
        () => events.some((e) => e.type === 'startup') && answered(0) >= 1 && ep.stats.delivered >= 1,
        'first frame, a reload, a batch',
        30000,
      );
      viewId = ep.currentView!.id;
      expect(pathways[0]).toBe(edgeId);

      // 1. the controller goes away: reloads and batches fail, playback goes on from the edge
      const downAt = performance.now();
      const failuresBefore = ep.stats.failures;
      await harness('/fleet/controller/stop', 'POST');
      await until(() => failed(downAt, (s) => s !== 200) >= 2 && ep.stats.failures > failuresBefore, 'failed reloads and batches', 30000);
      const timeBeforeRestart = video.currentTime;
      const restartAt = performance.now();
      await harness('/fleet/controller/start', 'POST');
      // the same session, answered by the restarted process from Redis: 200 again, the edge still first
      await until(() => answered(restartAt) >= 2, 'reloads of the same session answered after the restart', 30000);
      expect(pathways[pathways.length - 1]).toBe(edgeId);
      const deliveredAfterRestart = ep.stats.delivered;
      void ep.flush();
      await until(() => ep.stats.delivered > deliveredAfterRestart && ep.stats.pending === 0, 'the held batches delivered', 30000);
      expect(failed(restartAt, (s) => s === 404 || s === 403 || s === 410))
        .withContext('session or token lost')
        .toBe(0);
      await until(() => video.currentTime > timeBeforeRestart + 2, 'playback past the restart', 30000);

      // 2. Redis goes away: reloads answered 503 (the player keeps its pathways), a new viewer falls back to the CDN
      const redisDownAt = performance.now();
      await harness('/fleet/redis/stop', 'POST');
      await until(() => failed(redisDownAt, (s) => s === 503) >= 2, 'reloads answered 503 while Redis is down', 30000);
      const t0 = performance.now();
      const other = await negotiateFleet('viewer-during-redis-outage');
      expect(other).withContext('a negotiation during the Redis outage').toBeNull(); // → the app plays from the CDN
      expect(performance.now() - t0).toBeLessThan(5000);
      const timeBeforeRedis = video.currentTime;
      const redisUpAt = performance.now();
      await harness('/fleet/redis/start', 'POST');
      await until(() => answered(redisUpAt) >= 2, 'reloads of the same session answered after the Redis restart', 30000);
      expect(pathways[pathways.length - 1]).toBe(edgeId);
      expect(failed(redisUpAt, (s) => s === 404 || s === 403 || s === 410))
        .withContext('session or token lost')
        .toBe(0);
      await until(() => video.currentTime > timeBeforeRedis + 2, 'playback past the Redis restart', 30000);

      // the edge served throughout; no stall at any point, no fatal error
      expect(served.filter((p) => p !== edgeId)).toEqual([]);
      expect(stalls).withContext(JSON.stringify(stalls)).toEqual([]);
      expect(fatal).toEqual([]);
      console.log(
        `[measure] fleet: ${steering.length} steering requests (${steering.filter((s) => s.status === 200).length} answered 200, ` +
          `${steering.filter((s) => s.status === 503).length} 503, ${steering.filter((s) => s.status === 0).length} unanswered); ` +
          `${served.length} fragments from ${edgeId}; 0 stalls`,
      );
    } finally {
      await ep.destroy(); // viewend, sealed and sent
      hls.destroy();
      video.remove();
      await neg!.leave();
    }
    // counted server-side: every event the page emitted for this view, each exactly once
    const emitted = events.filter((e) => e.view_id === viewId);
    const stored = await until(
      async () => {
        const ev = await storedEvents(viewId);
        return ev.some((e) => e.type === 'viewend') && ev.length >= emitted.length ? ev : null;
      },
      'the whole view stored',
      30000,
      200,
    );
    const seqs = stored.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(emitted.map((_, i) => i)); // 0..n-1, none twice, none missing
    expect(stored.length).toBe(emitted.length);
    console.log(`[measure] fleet: ${stored.length} events stored exactly once across both restarts`);
    await harness('/fleet/controller/stop', 'POST');
  });
});
