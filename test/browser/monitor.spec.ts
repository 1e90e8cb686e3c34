/**
 * The one-call wiring: `monitor(video, { Hls, src, controller, worker })` plays real HLS with telemetry
 * delivered, the DRL policy deciding from the one worker (which also hosts the profiler: tfjs loads once),
 * and the edge negotiated and carried as Content Steering; each part switches off on its own.
 */
import Hls from 'hls.js';
import { DEFAULT_ABR_MODEL, monitor, type AbrDecisionRecord, type MonitorOptions, type Monitored } from '../../src/index.js';
import { env, makeVideo, storedEvents, uniq, until } from './util.js';

/** the options every call here shares: hls.js, the demo's VOD stream cut to its first `limit` segments, the controller */
const vod = (limit: number) => ({ Hls, src: `${env.dev}/streams/vod/master.m3u8?limit=${limit}`, controller: env.controller });
/** the worker bundle and the repository's model directories, as the test server serves them */
const withModels = { worker: '/base/dist/edgeplay.worker.js', models: '/base/models/' };

/** monitor() on a fresh video element; `body` runs while it plays, then the monitor is destroyed and the element removed */
async function monitored(options: MonitorOptions, body: (m: Monitored, video: HTMLVideoElement) => Promise<void>): Promise<void> {
  const video = makeVideo();
  const m = await monitor(video, options);
  try {
    await body(m, video);
  } finally {
    await m.destroy();
    video.remove();
  }
}

describe('monitor()', () => {
  it('wires telemetry, the one worker (ABR + profiler), negotiation and steering in one call', async () => {
    const config = (await (await fetch(`${env.dev}/api/config`)).json()) as {
      edges: Array<{ id: string; probe: string }>;
      cdnProbe: string;
    };
    const decisions: AbrDecisionRecord[] = [];
    const options: MonitorOptions = {
      ...vod(8),
      ...withModels,
      channel: 'monitor',
      contentId: 'monitor-1',
      edgeplay: { consent: 'granted', dbName: uniq('ep-mon'), flushIntervalMs: 300 },
      abrBudgetMs: 200,
      onAbrDecision: (r) => decisions.push(r),
      negotiation: {
        edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
        cdnProbeUrl: `${env.dev}${config.cdnProbe}`,
        timeoutMs: 3000,
      },
      hlsConfig: { maxBufferLength: 12 },
    };
    await monitored(options, async (m, video) => {
      expect(m.abr).toBe('drl');
      expect(m.worker).not.toBeNull();
      expect(m.negotiation).not.toBeNull();
      expect(m.profiler).not.toBeNull();
      // no re-fetch after a level switch: hls.js runs edgeplay's stream controller (a subclass of its own)
      const StreamCtl = (Hls.DefaultConfig as unknown as { streamController: new () => unknown }).streamController;
      const ours = (m.hls.config as unknown as { streamController: new () => unknown }).streamController;
      expect(ours).not.toBe(StreamCtl);
      expect(ours.prototype instanceof StreamCtl).toBeTrue();
      await until(() => video.currentTime > 3, 'playback', 30000);
      await until(() => decisions.filter((d) => d.source === 'policy').length >= 2, 'DRL decisions from the worker', 60000);
      // one worker hosts both models
      const info = await m.worker!.api.info();
      // the DRL named by its directory: without abrModel, DEFAULT_ABR_MODEL's (info() used to say 'abr-drl' for any)
      expect(info.models).toContain(DEFAULT_ABR_MODEL);
      expect(info.abrModelUrl).toMatch(new RegExp(`/models/${DEFAULT_ABR_MODEL}/model\\.json$`));
      await until(async () => (await m.worker!.api.info()).models.includes('profile'), 'the profiler in the same worker', 20000);
      // telemetry reached the controller, tagged with the negotiation
      await m.ep.flush();
      const stored = await storedEvents(m.view.id);
      expect(stored.some((e) => e.type === 'startup')).toBeTrue();
      expect(m.hls.config.cmcd?.contentId).toBe('monitor-1');
    });
    // abrModel names another model directory: that network is the one the worker loads
    const other: MonitorOptions = {
      ...vod(2),
      ...withModels,
      abrModel: 'abr-drl-player',
      negotiation: false,
      profiler: false,
      edgeplay: { consent: 'granted', dbName: uniq('ep-mon') },
    };
    await monitored(other, async (m3) => {
      await until(async () => (await m3.worker!.api.info()).abrModelUrl !== null, 'the DRL model loaded', 30000);
      expect((await m3.worker!.api.info()).abrModelUrl).toMatch(/\/models\/abr-drl-player\/model\.json$/);
    });
    // every part off but telemetry: hls.js decides, the CDN serves
    const off: MonitorOptions = { ...vod(4), negotiation: false, refetch: 'hls', edgeplay: { consent: 'granted', dbName: uniq('ep-mon') } };
    await monitored(off, async (m2, v2) => {
      expect(m2.abr).toBe('hls');
      expect((m2.hls.config as unknown as { streamController: unknown }).streamController).toBe(
        (Hls.DefaultConfig as unknown as { streamController: unknown }).streamController,
      );
      expect(m2.worker).toBeNull();
      expect(m2.negotiation).toBeNull();
      expect(m2.profiler).toBeNull();
      await until(() => v2.currentTime > 1, 'playback without models', 30000);
    });
  });

  it('says clearly what is missing', async () => {
    const v = makeVideo();
    await expectAsync(monitor(v, { Hls, src: '' })).toBeRejectedWithError(TypeError, /src/);
    await expectAsync(monitor(v, { Hls, src: 'x.m3u8' })).toBeRejectedWithError(TypeError, /controller or options.endpoint/);
    await expectAsync(monitor(v, { Hls, src: 'x.m3u8', controller: env.controller, abrModel: '../abr-drl' })).toBeRejectedWithError(
      TypeError,
      /abrModel/,
    );
    await expectAsync(monitor(null as never, { Hls, src: 'x.m3u8', controller: env.controller })).toBeRejectedWithError(
      TypeError,
      /media element/,
    );
    v.remove();
  });
});
