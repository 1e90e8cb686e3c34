/**
 * GET /v1/metrics over real HTTP: medians, p95, counts and Mux's pooled ratios per CDN / edge / channel / rendition /
 * device and per time bucket, from telemetry posted to the controller; the SQLite and memory stores answer the same;
 * every bad parameter is a 400 naming it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { syntheticView, viewEnd, type SyntheticView } from './telemetry-fixtures.js';

describe('controller: GET /v1/metrics', () => {
  let dir: string;
  let sqlite: RunningServer;
  let memory: RunningServer;
  const T0 = Date.now() - 20 * 60_000; // views start 20 minutes ago
  const from = T0 - 1000;
  const to = Date.now() + 1000;
  const views: SyntheticView[] = [
    // cdn-a (served by a1:1 and a2:2): startups 1, 2, 3, 4 s
    ...[1000, 2000, 3000, 4000].map((startupMs, i) => ({
      start: T0 + i * 60_000,
      viewerId: i < 3 ? 'viewer-x' : 'viewer-y', // two viewers: x watched three views
      startupMs,
      channel: i % 2 ? 'sports' : 'news',
      device: i < 3 ? 'desktop' : 'mobile',
      height: 720,
      bitrate: 2e6,
      playMs: 30_000,
      size: { width: 640, height: 360, dpr: 1, video_width: 1280, video_height: 720 },
      requests: [
        {
          at: 10_000,
          host: i < 2 ? 'a1:1' : 'a2:2',
          cdn: 'cdn-a',
          count: 4,
          bytes: 4e6,
          busy_ms: 2000,
          ttfb_sum_ms: 400,
          ttfb_max_ms: 150,
        },
        {
          at: 20_000,
          host: i < 2 ? 'a1:1' : 'a2:2',
          cdn: 'cdn-a',
          count: 2,
          failures: 1,
          bytes: 1e6,
          busy_ms: 1000,
          ttfb_sum_ms: 50,
          ttfb_max_ms: 50,
        },
      ],
    })),
    // cdn-b: one view, 0.5 s startup, 2 renditions' worth of time is not needed: one at 1080p, shown upscaled ×2
    {
      start: T0 + 5 * 60_000,
      startupMs: 500,
      height: 1080,
      bitrate: 4e6,
      playMs: 10_000,
      size: { width: 1920, height: 1080, dpr: 2, video_width: 1920, video_height: 1080 },
      stalls: [[2000, 1000]],
      requests: [{ at: 5000, host: 'b1:3', cdn: 'cdn-b', count: 3, bytes: 3e6, busy_ms: 500, ttfb_sum_ms: 300, ttfb_max_ms: 200 }],
    },
    // an exit before start after 3 s, and a playback failure before start, on no CDN
    { start: T0 + 6 * 60_000, startupMs: null, exitAfterMs: 3000 },
    { start: T0 + 7 * 60_000, startupMs: null, exitAfterMs: 2000, fatalError: true },
  ];
  const batches = views.map(syntheticView);

  const get = async (srv: RunningServer, q: Record<string, string | number>) => {
    const r = await fetch(`${srv.url}/v1/metrics?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`);
    return { status: r.status, body: await r.json() };
  };
  const rowsOf = async (q: Record<string, string | number>, srv = sqlite) => {
    const r = await get(srv, { from, to, ...q });
    expect(r.status).withContext(JSON.stringify(r.body)).toBe(200);
    return r.body.rows as Array<{
      group: string | null;
      t: number | null;
      count: number;
      median: number;
      p95: number;
      mean: number;
      max: number;
      pooled: number | null;
    }>;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-metrics-'));
    sqlite = await startServer({ port: 0, dataDir: dir });
    memory = await startServer({ port: 0, store: new MemoryTelemetryStore() });
    for (const srv of [sqlite, memory])
      for (const b of batches) {
        const r = await fetch(`${srv.url}/v1/telemetry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b),
        });
        expect(r.status).toBe(200);
      }
  });
  afterAll(async () => {
    for (const srv of [sqlite, memory]) {
      await srv.close();
      srv.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers median, p95, mean and count of video startup time per CDN', async () => {
    const rows = await rowsOf({ metric: 'video_startup_time', group_by: 'cdn' });
    // cdn-a: 1000, 2000, 3000, 4000 → median 2500, p95 at rank 0.95·3 = 2.85 → 3000 + 0.85·1000
    expect(rows.map((r) => [r.group, r.t, r.count, r.median, r.mean, r.pooled])).toEqual([
      ['cdn-a', null, 4, 2500, 2500, null],
      ['cdn-b', null, 1, 500, 500, null],
    ]);
    expect(rows[0].p95).toBeCloseTo(3850, 9);
    expect(rows[1].p95).toBe(500);
  });

  it('groups by edge (the serving host), channel and device', async () => {
    const edge = await rowsOf({ metric: 'video_startup_time', group_by: 'edge' });
    expect(edge.map((r) => [r.group, r.count, r.median])).toEqual([
      ['a1:1', 2, 1500],
      ['a2:2', 2, 3500],
      ['b1:3', 1, 500],
    ]);
    const channel = await rowsOf({ metric: 'video_startup_time', group_by: 'channel' });
    expect(channel.map((r) => [r.group, r.count, r.median])).toEqual([
      ['news', 3, 1000], // 1000, 3000 and cdn-b's 500
      ['sports', 2, 3000],
    ]);
    // unique viewers: x (3 views, desktop) and y (1 view, mobile) on cdn-a; every other view its own viewer
    const unique = await rowsOf({ metric: 'unique_viewers', group_by: 'cdn' });
    expect(unique.map((r) => [r.group, r.count])).toEqual([
      ['cdn-a', 2],
      ['cdn-b', 1],
      [null, 2],
    ]);
    expect((await rowsOf({ metric: 'unique_viewers' }))[0].count).toBe(5);
    const device = await rowsOf({ metric: 'views', group_by: 'device' });
    expect(device.map((r) => [r.group, r.count])).toEqual([
      ['desktop', 6],
      ['mobile', 1],
    ]);
  });

  it('pools request throughput and latency per host as Mux defines them (Σ bits / Σ time, Σ TTFB / requests)', async () => {
    const thr = await rowsOf({ metric: 'request_throughput', group_by: 'edge' });
    const a1 = thr.find((r) => r.group === 'a1:1')!;
    expect(a1.count).toBe(4); // two reports from each of two views
    expect(a1.pooled).toBeCloseTo((2 * 5e6 * 8000) / (2 * 3000), 6);
    expect(a1.median).toBeCloseTo((4e6 * 8000) / 2000 / 2 + (1e6 * 8000) / 1000 / 2, 6); // mean of the middle two: 16 and 8 Mb/s
    const lat = await rowsOf({ metric: 'request_latency', group_by: 'cdn' });
    const a = lat.find((r) => r.group === 'cdn-a')!;
    // 4 views × (400 ms over 4 ok + 50 ms over 1 ok) → pooled 1800 / 20
    expect(a.pooled).toBeCloseTo(1800 / 20, 9);
    expect(lat.find((r) => r.group === 'cdn-b')!.pooled).toBeCloseTo(100, 9);
    const fails = await rowsOf({ metric: 'request_failures', group_by: 'cdn' });
    expect(fails.find((r) => r.group === 'cdn-a')!.mean! * fails.find((r) => r.group === 'cdn-a')!.count).toBe(4);
    const maxLat = await rowsOf({ metric: 'max_request_latency', group_by: 'cdn' });
    expect(maxLat.find((r) => r.group === 'cdn-b')!.max).toBe(200);
    expect(maxLat.find((r) => r.group === 'cdn-a')!.max).toBe(150);
  });

  it('answers the scores, playback success and up/downscaling per CDN', async () => {
    const success = await rowsOf({ metric: 'playback_success_score' });
    // 5 played (100), one exit before start (50), one failure (0)
    expect(success).toEqual([{ group: null, t: null, count: 7, median: 100, p95: 100, mean: 550 / 7, max: 100, pooled: null }]);
    const ebvs = await rowsOf({ metric: 'exits_before_video_start' });
    expect(ebvs[0].mean).toBeCloseTo(100 / 7, 9);
    const failed = await rowsOf({ metric: 'playback_failure_percentage' });
    expect(failed[0].mean).toBeCloseTo(100 / 7, 9);
    const down = await rowsOf({ metric: 'downscale_percentage', group_by: 'cdn' });
    expect(down.find((r) => r.group === 'cdn-a')!.median).toBeCloseTo(50, 9);
    const up = await rowsOf({ metric: 'upscale_percentage', group_by: 'cdn' });
    expect(up.find((r) => r.group === 'cdn-b')!.median).toBeCloseTo(100, 9);
    const startup = await rowsOf({ metric: 'startup_time_score', group_by: 'cdn' });
    expect(startup.find((r) => r.group === 'cdn-b')!.median).toBeCloseTo((8 / 8.5) * 100, 9);
    const reb = await rowsOf({ metric: 'rebuffer_percentage', group_by: 'cdn' });
    // cdn-b: 1 s stalled in a watch time of 0.5 s startup + 10 s playing + 1 s stall
    expect(reb.find((r) => r.group === 'cdn-b')!.pooled).toBeCloseTo(100 / 11.5, 9);
  });

  it('answers rendition playing time grouped by rendition, and refuses another metric by rendition', async () => {
    const rows = await rowsOf({ metric: 'rendition_playing_time', group_by: 'rendition' });
    expect(rows.map((r) => [r.group, r.count, r.median])).toEqual([
      ['1080p@4000k', 1, 10_000],
      ['720p@2000k', 4, 30_000],
    ]);
    const bad = await get(sqlite, { metric: 'video_startup_time', group_by: 'rendition' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('querystring/group_by');
    expect(bad.body.message).toContain('rendition_playing_time');
  });

  it('answers a time series with bucket_s, and keeps views by the end of the window', async () => {
    const rows = await rowsOf({ metric: 'views', bucket_s: 120, from: T0, to: T0 + 8 * 60_000 });
    // views end at 0:31, 1:32, 2:33, 3:34, 5:12, 6:03 and 7:02 (min:s after T0): 2-minute buckets hold 2, 2, 1, 2
    expect(rows.map((r) => [r.t, r.count])).toEqual([
      [T0, 2],
      [T0 + 120_000, 2],
      [T0 + 240_000, 1],
      [T0 + 360_000, 2],
    ]);
    // the window ends before the last two views ended: only the first five are left
    const cut = await rowsOf({ metric: 'views', from: T0, to: viewEnd(batches[4]) + 1 });
    expect(cut[0].count).toBe(5);
    const iso = await rowsOf({ metric: 'views', from: new Date(T0).toISOString(), to: new Date(viewEnd(batches[0]) + 1).toISOString() });
    expect(iso[0].count).toBe(1);
  });

  it('answers the same from SQLite and from memory', async () => {
    const qs: Array<Record<string, string | number>> = [
      { metric: 'viewer_experience_score', group_by: 'cdn' },
      { metric: 'request_throughput', group_by: 'edge', bucket_s: 60 },
      { metric: 'rendition_playing_time', group_by: 'rendition' },
      { metric: 'smoothness_score', group_by: 'channel' },
    ];
    for (const q of qs) expect(await rowsOf(q, memory)).toEqual(await rowsOf(q, sqlite));
  });

  it('refuses bad parameters with a 400 naming the parameter', async () => {
    const cases: Array<[Record<string, string | number>, string]> = [
      [{}, 'querystring'], // no metric
      [{ metric: 'nope' }, 'querystring/metric'],
      [{ metric: 'views', group_by: 'country' }, 'querystring/group_by'],
      [{ metric: 'views', colour: 'red' }, 'querystring'],
      [{ metric: 'views', from: 'yesterday' }, 'querystring/from'],
      [{ metric: 'views', to: '2026-13-45T99:00:00Z' }, 'querystring/to'],
      [{ metric: 'views', from: 2000, to: 1000 }, 'querystring/from'],
      [{ metric: 'views', from: 0, to: 40 * 86400_000 }, 'querystring/from'],
      [{ metric: 'views', from: 0, to: 3600_000, bucket_s: 1 }, 'querystring/bucket_s'],
      [{ metric: 'views', bucket_s: 0 }, 'querystring/bucket_s'],
      [{ metric: 'views', bucket_s: '1.5' }, 'querystring/bucket_s'],
    ];
    for (const [q, field] of cases) {
      const r = await get(sqlite, q);
      expect(r.status).withContext(JSON.stringify(q)).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(String(r.body.field))
        .withContext(JSON.stringify([q, r.body]))
        .toContain(field);
      expect(r.body.message.length).toBeGreaterThan(5);
    }
    // and an empty window is no error: no rows
    const empty = await get(sqlite, { metric: 'views', from: 1000, to: 2000 });
    expect(empty.status).toBe(200);
    expect(empty.body.rows).toEqual([]);
    expect(empty.body.views).toBe(0);
  });
});
