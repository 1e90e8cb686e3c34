/** The demo dev server: real HLS from the bundled ffmpeg, trace shaping over real HTTP. */
import { startDemoServer, type DemoServer } from '../../demo/server.js';

describe('dev server', () => {
  let demo: DemoServer;
  beforeAll(async () => {
    // generates the VOD ladder on a fresh machine (~3 min) unless `npm run streams` already did
    demo = await startDemoServer({ port: 0, controller: false, live: false, log: (s) => s.startsWith('[streams]') && console.log(s) });
  }, 900000);
  afterAll(async () => demo?.close());

  it('serves the 6-rung ladder (300..4300 kbps) with 4 s fMP4 segments', async () => {
    const master = await (await fetch(`${demo.url}/streams/vod/master.m3u8`)).text();
    const avg = [...master.matchAll(/AVERAGE-BANDWIDTH=(\d+)/g)].map((m) => Number(m[1]) / 1000);
    const nominal = [300, 750, 1200, 1850, 2850, 4300];
    expect(avg.length).toBe(6);
    avg.forEach((a, i) =>
      expect(Math.abs(a - (nominal[i] + 64)) / nominal[i])
        .withContext(`rung ${i}: ${a} kbps`)
        .toBeLessThan(0.25),
    );
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    const media = await (await fetch(`${demo.url}/streams/vod/v0/index.m3u8`)).text();
    expect(media).toContain('#EXT-X-MAP:URI="init.mp4"');
    const durs = [...media.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    expect(durs.length).toBe(48);
    expect(durs.every((d) => Math.abs(d - 4) < 0.05)).toBeTrue();
  });

  it("serves the 360 stream (equirectangular 2:1, 4 s segments), its viewers' traces, prior and the viewer page", async () => {
    const master = await (await fetch(`${demo.url}/streams/vr/master.m3u8`)).text();
    const res = [...master.matchAll(/RESOLUTION=(\d+)x(\d+)/g)].map((m) => Number(m[1]) / Number(m[2]));
    expect(res.length).toBe(2);
    expect(res.every((r) => r === 2)).toBeTrue();
    const media = await (await fetch(`${demo.url}/streams/vr/v0/index.m3u8`)).text();
    expect([...media.matchAll(/#EXTINF:([\d.]+)/g)].length).toBe(6);
    const csv = (await (await fetch(`${demo.url}/streams/vr/viewers.csv`)).text()).trim().split('\n');
    expect(csv[0]).toBe('user,t,yaw,pitch');
    expect(csv.length - 1).toBe(16 * 121); // 16 viewers x 24 s at 5 Hz
    const prior = await (await fetch(`${demo.url}/streams/vr/prior.json`)).json();
    expect(prior.kind).toBe('edgeplay-attention-prior');
    expect(prior.viewers).toBe(15); // everyone but the replay viewer 0
    const page = await fetch(`${demo.url}/vr.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/build/vr.js');
    expect((await fetch(`${demo.url}/build/vr.js`)).status).toBe(200);
    expect((await fetch(`${demo.url}/viewport-data/..%2F..%2Fetc/passwd.csv`)).status).toBe(404);
  });

  it("runs loopback edges that serve the CDN's paths, shaped by the viewer's session link", async () => {
    expect(demo.edges.length).toBe(2);
    const e = demo.edges[0];
    expect((await fetch(`${e.url}/probe`)).status).toBe(200);
    const cdnProbe = performance.now();
    await (await fetch(`${demo.url}/probe`)).text();
    expect(performance.now() - cdnProbe).toBeGreaterThan(250); // the "far" CDN
    const a = Buffer.from(await (await fetch(`${demo.url}/streams/vod/v1/seg_003.m4s`)).arrayBuffer());
    const b = Buffer.from(await (await fetch(`${e.url}/streams/vod/v1/seg_003.m4s`)).arrayBuffer());
    expect(b.equals(a)).toBeTrue();
    const r = await fetch(`${demo.url}/streams/vod/master.m3u8?trace=3g`);
    const sess = r.headers.get('x-edgeplay-session')!;
    const t0 = performance.now();
    const seg = await (await fetch(`${e.url}/streams/vod/v1/seg_000.m4s?trace=3g&sess=${sess}`)).arrayBuffer();
    const secs = (performance.now() - t0) / 1000;
    expect(secs).toBeGreaterThan((0.08 + (seg.byteLength * 8) / 1.2e6) * 0.85); // same link as the CDN's
    expect(e.stats().segments).toBe(2);
    // a cache: another session's request for the same segment is a hit, shaped by that session's own link
    const r2 = await fetch(`${demo.url}/streams/vod/master.m3u8?trace=3g`);
    const sess2 = r2.headers.get('x-edgeplay-session')!;
    const again = await fetch(`${e.url}/streams/vod/v1/seg_000.m4s?trace=3g&sess=${sess2}`);
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(seg))).toBeTrue();
    expect(e.stats().misses).toBe(2);
    // and a shaped session's playlist from the edge carries the session to every URI, as the CDN's does
    const pl = await (await fetch(`${e.url}/streams/vod/v1/index.m3u8?trace=3g&sess=${sess2}`)).text();
    expect(pl).toContain(`URI="init.mp4?trace=3g&sess=${sess2}"`);
    expect((await fetch(`${e.url}/streams/vod/../../package.json`)).status).toBe(404);
  });

  it('rewrites playlists for a shaped session and paces segments by the trace', async () => {
    const r = await fetch(`${demo.url}/streams/vod/master.m3u8?trace=3g`);
    const sess = r.headers.get('x-edgeplay-session');
    expect(sess).toMatch(/^[\w-]+$/);
    const text = await r.text();
    expect(text).toContain(`v0/index.m3u8?trace=3g&sess=${sess}`);
    const media = await (await fetch(`${demo.url}/streams/vod/v1/index.m3u8?trace=3g&sess=${sess}`)).text();
    expect(media).toContain(`URI="init.mp4?trace=3g&sess=${sess}"`);
    const t0 = performance.now();
    const seg = await (await fetch(`${demo.url}/streams/vod/v1/seg_000.m4s?trace=3g&sess=${sess}`)).arrayBuffer();
    const secs = (performance.now() - t0) / 1000;
    // the 3g trace starts at 1.2 Mbps (first 10 s): time = RTT + bytes / rate
    const expected = 0.08 + (seg.byteLength * 8) / 1.2e6;
    expect(secs).toBeGreaterThan(expected * 0.85);
    expect(secs).toBeLessThan(expected * 1.25 + 0.1);
  });

  it('refuses unknown traces with 400 and paths outside the stream with 404', async () => {
    const r = await fetch(`${demo.url}/streams/vod/master.m3u8?trace=nope`);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('unknown trace');
    expect((await fetch(`${demo.url}/streams/vod/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('a playlist query it cannot read (?limit=, ?variants=) is a 400 saying what it must be, on the CDN and on an edge', async () => {
    const e = demo.edges[0];
    const count = (t: string) => [...t.matchAll(/#EXTINF/g)].length;
    // the good ones rewrite
    expect(count(await (await fetch(`${demo.url}/streams/vod/v0/index.m3u8?limit=3`)).text())).toBe(3);
    expect(count(await (await fetch(`${e.url}/streams/vod/v0/index.m3u8?limit=3`)).text())).toBe(3);
    const two = await (await fetch(`${demo.url}/streams/vod/master.m3u8?variants=0,2`)).text();
    expect([...two.matchAll(/#EXT-X-STREAM-INF/g)].length).toBe(2);
    // a bad one is never ignored (the whole 48-segment stream where a test asked for a short one)
    for (const [base, q, what] of [
      [demo.url, 'limit=abc', /limit must be a whole number of segments ≥ 1, got "abc"/],
      [demo.url, 'limit=-3', /limit must be/],
      [demo.url, 'limit=0', /limit must be/],
      [demo.url, 'limit=2.5', /limit must be/],
      [e.url, 'limit=abc', /limit must be/],
      [demo.url, 'variants=0;2', /variants must be variant indices separated by commas/],
    ] as const) {
      const file = q.startsWith('variants') ? 'master.m3u8' : 'v0/index.m3u8';
      const r = await fetch(`${base}/streams/vod/${file}?${q}`);
      expect(r.status)
        .withContext(`${base === e.url ? 'edge' : 'cdn'} ?${q}`)
        .toBe(400);
      expect(await r.text()).toMatch(what);
    }
  });

  it('reads Pensieve-format trace files from EDGEPLAY_DATA when present', async () => {
    const traces = (await (await fetch(`${demo.url}/api/traces`)).json()) as Array<{ name: string; source: string }>;
    if (!traces.some((t) => t.source === 'pensieve-test')) {
      pending(`no Pensieve test traces under EDGEPLAY_DATA (${process.env.EDGEPLAY_DATA ?? '../shared/data'})/abr/traces/test`);
      return;
    }
    const r = await fetch(`${demo.url}/streams/vod/master.m3u8?trace=norway_bus_1`);
    expect(r.status).toBe(200);
  });
});

describe("npm start's prestart check (demo/build-stale.ts)", () => {
  it('asks for a build when dist/ is missing or older than src/, rollup.config.mjs or package.json, not when it is current', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, utimesSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { staleReason } = await import('../../demo/build-stale.js');
    const root = mkdtempSync(join(tmpdir(), 'ep-stale-'));
    try {
      const at = (f: string, s: number) => utimesSync(join(root, f), s, s);
      mkdirSync(join(root, 'src', 'abr'), { recursive: true });
      mkdirSync(join(root, 'dist'));
      writeFileSync(join(root, 'src', 'abr', 'x.ts'), '');
      writeFileSync(join(root, 'package.json'), '{}');
      at('src/abr/x.ts', 1000);
      at('package.json', 1000);
      expect(staleReason(root, ['dist/a.js', 'dist/b.js'])).toBe('dist/a.js, dist/b.js missing');
      for (const f of ['dist/a.js', 'dist/b.js']) writeFileSync(join(root, f), '');
      at('dist/a.js', 2000);
      at('dist/b.js', 2000);
      expect(staleReason(root, ['dist/a.js', 'dist/b.js'])).toBeNull();
      at('src/abr/x.ts', 3000); // a source edited (or pulled) after the build, deep in src/
      expect(staleReason(root, ['dist/a.js', 'dist/b.js'])).toBe('src changed after the last build');
      at('dist/a.js', 4000); // only one output rebuilt: the oldest one decides
      expect(staleReason(root, ['dist/a.js', 'dist/b.js'])).toBe('src changed after the last build');
      at('dist/b.js', 4000);
      at('package.json', 5000);
      expect(staleReason(root, ['dist/a.js', 'dist/b.js'])).toBe('package.json changed after the last build');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
