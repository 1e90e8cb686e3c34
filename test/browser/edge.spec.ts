/**
 * Edge negotiation in Chromium: the SDK probes the loopback edges, negotiates with the controller and
 * hands the steering URI to hls.js; segments come from the assigned edge; when that edge is killed
 * mid-playback hls.js moves to the CDN pathway with no stall longer than 1 s. A controller that does not
 * answer leaves playback on the CDN at once.
 */
import Hls from 'hls.js';
import { createEdgeplay, negotiate, steeringConfig } from '../../src/index.js';
import { env, harness, makeVideo, until, watchStalls } from './util.js';

interface EdgeInfo {
  id: string;
  url: string;
  probe: string;
}
interface EdgeStats {
  id: string;
  requests: number;
  segments: number;
  alive: boolean;
}

describe('edge negotiation and Content Steering', () => {
  it('falls back to the CDN at once when the controller does not answer', async () => {
    const t0 = performance.now();
    const neg = await negotiate({
      controller: 'http://127.0.0.1:9',
      viewerId: 'viewer-x',
      channel: 'vod-1',
      src: `${env.dev}/streams/vod/master.m3u8`,
      timeoutMs: 800,
    });
    expect(neg).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1500);
    // and a config without a negotiation is the app's config unchanged
    expect(steeringConfig(Hls, null, { maxBufferLength: 20 })).toEqual({ maxBufferLength: 20 });
  });

  // issue 18 item 17: the trace shaped only the CDN; a viewer on a loopback edge got ~1 Gb/s whatever trace was picked
  it("shapes the viewer's link by the chosen trace whichever pathway serves it", async () => {
    const config = (await (await fetch(`${env.dev}/api/config`)).json()) as { controller: string; edges: EdgeInfo[]; cdnProbe: string };
    const sess = `shape-${Math.random().toString(36).slice(2, 10)}`;
    const src = `${env.dev}/streams/vod/master.m3u8?limit=8&trace=3g&sess=${sess}`; // 3g: 0.6–1.6 Mb/s
    const ep = createEdgeplay({ endpoint: `${env.controller}/v1/telemetry`, consent: 'pending' });
    const neg = await negotiate({
      controller: env.controller,
      viewerId: ep.viewerId,
      channel: 'shaped',
      src,
      edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
      cdnProbeUrl: `${env.dev}${config.cdnProbe}`,
      weights: async () => ({ a1: 6, a2: 2, a3: 2 }),
      bandwidthMbps: 20,
      timeoutMs: 3000,
    });
    expect(neg?.assignment.target).withContext('assigned an edge').not.toBe('cdn');
    const edgePort = new URL(neg!.assignment.edge_url!).port;
    const video = makeVideo();
    const hls = new Hls(steeringConfig(Hls, neg, ep.hlsConfig({ maxBufferLength: 30 })));
    const fromEdge: number[] = [];
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
      const st = d.frag.stats;
      if (d.frag.type === 'main' && new URL(d.frag.url).port === edgePort && st.loading.end > st.loading.first)
        fromEdge.push((st.loaded * 8) / (st.loading.end - st.loading.start) / 1000); // Mb/s
    });
    ep.attach(hls, video, { channel: 'shaped', contentId: 'vod-1' });
    hls.loadSource(src);
    hls.attachMedia(video);
    try {
      void video.play().catch(() => undefined);
      await until(() => fromEdge.length >= 3, 'three segments from the edge', 90000, 200);
      // the edge sent them through the viewer's shaped link: at the trace's rate, not the loopback's
      expect(Math.max(...fromEdge))
        .withContext(JSON.stringify(fromEdge))
        .toBeLessThan(2.5);
      const link = (await (await fetch(`${env.dev}/api/sessions/${sess}`)).json()) as { trace: string; bytes: number };
      expect(link.trace).toBe('3g');
      expect(link.bytes).toBeGreaterThan(0);
    } finally {
      void neg?.leave();
      await ep.destroy();
      hls.destroy();
      video.remove();
    }
  });

  it('plays from the assigned edge, and from the CDN without a long stall when the edge dies', async () => {
    const config = (await (await fetch(`${env.dev}/api/config`)).json()) as { controller: string; edges: EdgeInfo[]; cdnProbe: string };
    expect(config.edges.length).toBeGreaterThan(0);
    const src = `${env.dev}/streams/vod/master.m3u8?limit=16`;
    const ep = createEdgeplay({ endpoint: `${env.controller}/v1/telemetry`, consent: 'pending' });
    const neg = await negotiate({
      controller: env.controller,
      viewerId: ep.viewerId,
      channel: 'vod-1',
      src,
      edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
      cdnProbeUrl: `${env.dev}${config.cdnProbe}`,
      weights: async () => ({ a1: 6, a2: 2, a3: 2 }),
      bandwidthMbps: 20,
      timeoutMs: 3000,
    });
    expect(neg).not.toBeNull();
    const edgeId = neg!.assignment.target;
    expect(config.edges.map((e) => e.id)).toContain(edgeId);
    expect(Object.keys(neg!.rttMs)).toContain(edgeId);
    expect(neg!.weights).toEqual({ a1: 6, a2: 2, a3: 2 }); // the viewer's weights went into the negotiation
    const video = makeVideo();
    const stalls = watchStalls(video);
    const hls = new Hls(steeringConfig(Hls, neg, ep.hlsConfig({ maxBufferLength: 12 })));
    ep.attach(hls, video, { channel: 'vod-1', contentId: 'vod-1' });
    const pathways: string[] = [];
    hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_e, d) => pathways.push(String(d.steeringManifest['PATHWAY-PRIORITY']?.[0])));
    const served: string[] = [];
    hls.on(Hls.Events.FRAG_LOADED, (_e, d) => served.push(new URL(d.frag.url).port));
    hls.loadSource(src);
    hls.attachMedia(video);
    try {
      await video.play().catch(() => undefined);
      const edgeStats = async () => ((await harness('/edges')) as EdgeStats[]).find((e) => e.id === edgeId)!;
      const before = (await edgeStats()).segments;
      await until(async () => (await edgeStats()).segments >= before + 3 && video.currentTime > 3, 'segments from the edge', 30000);
      expect(pathways[0]).toBe(edgeId);
      // kill the edge mid-playback
      await harness(`/edges/${edgeId}/kill`, 'POST');
      const killedAt = video.currentTime;
      await until(() => video.currentTime > killedAt + 14, 'playback 14 s past the kill', 60000);
      const longest = Math.max(0, ...stalls.map((s) => (s.end ?? performance.now()) - s.start));
      const origin = (port: string) =>
        config.edges.find((e) => new URL(e.url).port === port)?.id ?? (new URL(env.dev).port === port ? 'cdn' : port);
      const sequence = served.map(origin).filter((x, i, a) => i === 0 || a[i - 1] !== x);
      console.log(
        `[measure] edge ${edgeId} killed at ${killedAt.toFixed(1)} s; segments came from ${sequence.join(' → ')}; longest stall ${longest.toFixed(0)} ms; steering manifests put first: ${pathways.join(', ')}`,
      );
      expect(sequence[0]).toBe(edgeId);
      expect(sequence.slice(1)).not.toContain(edgeId); // nothing from the dead edge after the switch
      expect(longest).toBeLessThan(1000);
      expect(video.error).toBeNull();
      await neg!.leave();
    } finally {
      await ep.destroy();
      hls.destroy();
      video.remove();
    }
  });
});
