/**
 * Edge assignment and negotiation: the ELCast penalty model, the lease store (capacity never exceeded,
 * leases expire, channels shared), and the controller routes over HTTP: /v1/negotiate, the Content Steering
 * manifest with CMSD hints, tokens, re-decisions from _HLS_pathway/_HLS_throughput, leave, rate limit.
 */
import { choose, options, VERSIONS, wantedVersion, type EdgeState, type ViewerRequest } from '../../src/assign/edge/model.js';
import { DEFAULT_WEIGHTS } from '../../src/core/preference.js';
import { CapacityLedger } from '../../src/assign/edge/ledger.js';
import { decodeCmsdDynamic } from '@svta/cml-cmsd';
import { buildServer } from '../../src/server/app.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { MemoryAssignmentStore } from '../../src/server/edges.js';

const req = (over: Partial<ViewerRequest> = {}): ViewerRequest => ({
  channel: 'news',
  weights: { ...DEFAULT_WEIGHTS },
  bandwidthMbps: 10,
  cdnLatencyS: 0.4,
  edgeLatencyS: { e1: 0.03 },
  edgeCdnLatencyS: { e1: 0.05 },
  ...over,
});
const edge = (over: Partial<EdgeState> = {}): EdgeState => ({
  id: 'e1',
  capMbps: 400,
  capVcpu: 36,
  usedMbps: 0,
  usedVcpu: 0,
  channels: new Map(),
  ...over,
});

describe('assignment model (ELCast parameters)', () => {
  it('prices the CDN and the edge options and picks the least penalty + cost', () => {
    expect(wantedVersion(10)).toBe(0);
    expect(wantedVersion(2.5)).toBe(2); // 1.85 × 1.2 ≤ 2.5
    expect(wantedVersion(0.1)).toBe(5);
    const opts = options(req(), [edge()]);
    const cdn = opts[0];
    expect(cdn.target).toBe('cdn');
    expect(cdn.Ls).toBeCloseTo(0.4, 9);
    expect(cdn.B).toBe(0);
    const e0 = opts.find((o) => o.target === 'e1' && o.version === 0)!;
    expect(e0.Ls).toBeCloseTo(0.08, 9);
    expect(e0.addMbps).toBeCloseTo(4.3 + 4.3, 9); // the viewer's stream plus the channel's pull
    expect(choose('online-heu', opts).target).toBe('e1');
    expect(choose('cloud-cdn', opts).target).toBe('cdn');
    // a full edge offers nothing
    expect(options(req(), [edge({ usedMbps: 399 })]).length).toBe(1);
    // a channel already carried costs no pull
    const carried = options(req(), [edge({ channels: new Map([['news', new Set([0])]]) })]).find(
      (o) => o.target === 'e1' && o.version === 0,
    )!;
    expect(carried.costB).toBe(0);
    expect(carried.reward).toBeGreaterThan(e0.reward);
  });
});

describe('assignment store (memory, leases)', () => {
  it('never reserves beyond capacity, shares a channel and frees capacity on leave or expiry', () => {
    const st = new CapacityLedger([{ id: 'e1', url: 'http://127.0.0.1:1', setting: 'thin' }]); // 200 Mb/s, 16 vCPU
    const now = Date.now();
    let ok = 0;
    for (let i = 0; i < 100; i++) if (st.reserve(`s${i}`, 'e1', 'news', 0, 1000, now).ok) ok++;
    // 4.3 pull + 4.3 per viewer ≤ 200 → 45 viewers
    expect(ok).toBe(45);
    const s = st.snapshot()[0];
    expect(s.usedMbps).toBeLessThanOrEqual(200);
    expect(st.reserve('x', 'e1', 'news', 0, 1000, now).reason).toMatch(/full/);
    expect(st.release('s0')).toBeTrue();
    expect(st.reserve('x', 'e1', 'news', 0, 1000, now).ok).toBeTrue();
    // expiry frees everything
    expect(st.sweep(now + 2000)).toBe(45);
    expect(st.snapshot()[0].usedMbps).toBe(0);
    // transcoding is shared per (channel, version): two viewers at 720p cost 1.42 vCPU once
    st.reserve('a', 'e1', 'sports', 2, 10000);
    st.reserve('b', 'e1', 'sports', 2, 10000);
    expect(st.snapshot()[0].usedVcpu).toBeCloseTo(1.42, 9);
    st.release('a');
    expect(st.snapshot()[0].usedVcpu).toBeCloseTo(1.42, 9);
    st.release('b');
    expect(st.snapshot()[0].usedVcpu).toBe(0);
    st.markDown('e1', true);
    expect(st.reserve('c', 'e1', 'news', 0, 1000).reason).toMatch(/down/);
  });
});

describe('controller: negotiation and Content Steering', () => {
  // BANDWIDTH / AVERAGE-BANDWIDTH as a playlist declares them: 1.2 / 0.8, 3 / 1.9, 6 / 4 Mb/s
  const ladder = [
    [1200000, 800000],
    [3000000, 1900000],
    [6000000, 4000000],
  ];
  const variants = [0, 1, 2].map((i) => ({
    id: `v${i}`,
    uri: `http://127.0.0.1:8080/streams/vod/v${i}/index.m3u8?x=1`,
    bandwidth: ladder[i][0],
    average_bandwidth: ladder[i][1],
  }));
  const build = (rate?: number) =>
    buildServer({
      store: new MemoryTelemetryStore(),
      edges: [{ id: 'edge-1', url: 'http://127.0.0.1:9101', setting: 'mid' }],
      negotiation: { secret: 'test-secret', ratePerS: rate },
    });

  it('assigns the close edge, serves a signed steering manifest with CMSD, re-decides and releases', async () => {
    const app = await build();
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/negotiate',
        payload: {
          viewer_id: 'viewer-1',
          channel: 'news',
          weights: { a1: 5, a2: 3, a3: 2 },
          rtt_ms: { cdn: 600, 'edge-1': 40 },
          bandwidth_mbps: 20,
          variants,
        },
      });
      expect(r.statusCode).toBe(200);
      const a = r.json();
      expect(a.assignment.target).toBe('edge-1');
      expect(a.assignment.edge_url).toBe('http://127.0.0.1:9101');
      expect(a.assignment.version).toBe('1440p');
      expect(a.steering_uri).toMatch(/^\/v1\/steering\/[\w-]+\?token=/);
      // the first reload comes from the playlist's own pathway ('cdn'): that is not a fallback
      const m = await app.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=cdn&_HLS_throughput=20000000` });
      expect(m.statusCode).toBe(200);
      const man = m.json();
      expect(man.VERSION).toBe(1);
      expect(man.TTL).toBeGreaterThan(0);
      expect(man['PATHWAY-PRIORITY']).toEqual(['edge-1', 'cdn']);
      expect(man['RELOAD-URI']).toContain('token=');
      const clone = man['PATHWAY-CLONES'][0];
      expect(clone['BASE-ID']).toBe('cdn');
      expect(clone.ID).toBe('edge-1');
      expect(clone['URI-REPLACEMENT']['PER-VARIANT-URIS'].v1).toBe('http://127.0.0.1:9101/streams/vod/v1/index.m3u8?x=1');
      // issue 18 (13): mb is the session's highest variant at or below 1440p's 4.3 Mb/s (v2, 4 Mb/s on average;
      // its BANDWIDTH 6 Mb/s is what the player compares); no etp: hls.js' first _HLS_throughput is its default
      expect(m.headers['cmsd-dynamic']).toBe('"edge-1";mb=6000');
      // low throughput: a lower version, the cap follows in CMSD mb
      const low = await app.inject({ method: 'GET', url: `${man['RELOAD-URI']}&_HLS_pathway=edge-1&_HLS_throughput=1500000` });
      expect(low.headers['cmsd-dynamic']).toBe('"edge-1";mb=1200;etp=1500'); // 1.5 Mb/s sustains 480p (1.2 × 1.2)
      // the player fell back to the CDN pathway: the edge lease is released and the manifest says cdn
      const back = await app.inject({ method: 'GET', url: `${man['RELOAD-URI']}&_HLS_pathway=cdn` });
      expect(back.json()['PATHWAY-PRIORITY']).toEqual(['cdn']);
      // tokens are checked
      const kid = (a.token as string).split('.')[0];
      const forged = await app.inject({ method: 'GET', url: `/v1/steering/${a.session}?token=${kid}.1999999999999.AAAA` });
      expect(forged.statusCode).toBe(403);
      expect(forged.json().message).toMatch(/token invalid/);
      expect((await app.inject({ method: 'GET', url: `/v1/steering/${a.session}` })).statusCode).toBe(403);
      const leave = await app.inject({ method: 'POST', url: `/v1/sessions/${a.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(leave.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('checks the negotiation token carried by telemetry, and never drops the events for a bad one', async () => {
    const app = await build();
    try {
      const a = (await app.inject({ method: 'POST', url: '/v1/negotiate', payload: { viewer_id: 'viewer-1', channel: 'news' } })).json();
      const batch = (id: string, token: string) => ({
        v: 1,
        batch_id: id,
        viewer_id: 'viewer-1',
        session_id: 'sess-0001',
        sealed_at: Date.now(),
        edge: { session: a.session, token },
        events: [{ view_id: 'view-0001', seq: 0, t: Date.now(), type: 'play' }],
      });
      const ok = await app.inject({ method: 'POST', url: '/v1/telemetry', payload: batch('batch-ok01', a.token) });
      expect(ok.json()).toEqual({ batch_id: 'batch-ok01', accepted: 1, duplicate: false, edge: 'verified' });
      const forged = await app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        payload: batch('batch-bad1', `${a.token.split('.').slice(0, 2).join('.')}.forged`),
      });
      expect(forged.statusCode).toBe(200);
      expect(forged.json()).toEqual({ batch_id: 'batch-bad1', accepted: 1, duplicate: false, edge: 'invalid' });
      const untagged = await app.inject({ method: 'POST', url: '/v1/telemetry', payload: { ...batch('batch-none', ''), edge: undefined } });
      expect(untagged.json().edge).toBeUndefined();
      const badShape = await app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        payload: { ...batch('batch-shap', a.token), edge: { session: a.session } },
      });
      expect(badShape.statusCode).toBe(400);
      expect(badShape.json().message).toMatch(/edge/);
    } finally {
      await app.close();
    }
  });

  it('answers bad input with 4xx saying what is wrong, and rate-limits a client', async () => {
    const app = await build(2);
    try {
      const bad = async (payload: unknown, re: RegExp) => {
        const r = await app.inject({ method: 'POST', url: '/v1/negotiate', payload: payload as object });
        expect(r.statusCode).withContext(JSON.stringify(payload)).toBe(400);
        expect(r.json().message).toMatch(re);
      };
      await bad({ channel: 'news' }, /viewer_id/);
      await bad({ viewer_id: 'v1', channel: 'bad channel!' }, /channel/);
      await bad({ viewer_id: 'v1', channel: 'news', weights: { a1: 1, a2: 1, a3: 1 } }, /sum to 10/);
      await bad({ viewer_id: 'v1', channel: 'news', variants: [{ id: 'v0', uri: 'file:///etc/passwd' }] }, /uri/);
      await bad({ viewer_id: 'v1', channel: 'news', extra: 1 }, /additional/);
      let limited = 0;
      for (let i = 0; i < 10; i++)
        if ((await app.inject({ method: 'POST', url: '/v1/negotiate', payload: { viewer_id: 'v1', channel: 'news' } })).statusCode === 429)
          limited++;
      expect(limited).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('sends everyone to the CDN when no edge can serve', async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      const a = (await app.inject({ method: 'POST', url: '/v1/negotiate', payload: { viewer_id: 'viewer-1', channel: 'news' } })).json();
      expect(a.assignment.target).toBe('cdn');
      expect(a.weights).toEqual({ a1: 10 / 3, a2: 10 / 3, a3: 10 / 3 });
      const man = (await app.inject({ method: 'GET', url: a.steering_uri })).json();
      expect(man['PATHWAY-PRIORITY']).toEqual(['cdn']);
      expect(man['PATHWAY-CLONES']).toBeUndefined();
      expect(VERSIONS.length).toBe(6);
    } finally {
      await app.close();
    }
  });

  it('keeps no session of its own: another app over the same store answers the reloads and the leave, after the first is gone', async () => {
    const assignment = new MemoryAssignmentStore([{ id: 'edge-1', url: 'http://127.0.0.1:9101', setting: 'mid' }]);
    const mk = () => buildServer({ store: new MemoryTelemetryStore(), assignment, negotiation: { secret: 'test-secret' } });
    const first = await mk();
    const second = await mk();
    try {
      const payload = { viewer_id: 'viewer-1', channel: 'news', rtt_ms: { cdn: 600, 'edge-1': 40 }, bandwidth_mbps: 20, variants };
      const a = (await first.inject({ method: 'POST', url: '/v1/negotiate', payload })).json();
      expect(a.assignment.target).toBe('edge-1');
      const held = (await assignment.lease(a.session))!;
      expect(held.edge).toBe('edge-1');
      await first.close(); // the process that negotiated is gone
      const m = await second.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=edge-1` });
      expect(m.statusCode).toBe(200);
      expect(m.json()['PATHWAY-PRIORITY']).toEqual(['edge-1', 'cdn']);
      // what the session learnt on the first app is there on the second: a later reload from the CDN pathway
      // is a fallback from the edge the (second app's) manifest advertised — the lease is released
      const back = await second.inject({ method: 'GET', url: `${m.json()['RELOAD-URI']}&_HLS_pathway=cdn` });
      expect(back.json()['PATHWAY-PRIORITY']).toEqual(['cdn']);
      expect(await assignment.lease(a.session)).toBeNull();
      const leave = await second.inject({ method: 'POST', url: `/v1/sessions/${a.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(leave.statusCode).toBe(200);
      expect(assignment.sessionCount).toBe(0);
      expect((await second.inject({ method: 'GET', url: a.steering_uri })).statusCode).toBe(404); // left: negotiate again
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('tokens across a fleet: key rotation and session binding (issue 16)', () => {
  const EDGES = [{ id: 'edge-1', url: 'http://127.0.0.1:9101', setting: 'mid' as const }];
  const variants = [0, 1, 2].map((i) => ({ id: `v${i}`, uri: `http://127.0.0.1:9/streams/vod/v${i}/index.m3u8` }));
  const OLD = { kid: 'k-old', secret: 'old-secret-0123456789' };
  const NEW = { kid: 'k-new', secret: 'new-secret-0123456789' };
  const payload = (viewer: string) => ({
    viewer_id: viewer,
    channel: 'news',
    rtt_ms: { cdn: 600, 'edge-1': 40 },
    bandwidth_mbps: 20,
    variants,
  });

  it('rotates signing keys without logging anyone out: old tokens verify until their key is retired, then 401 saying so', async () => {
    const assignment = new MemoryAssignmentStore(EDGES);
    const mk = (keys: Array<{ kid: string; secret: string }>) =>
      buildServer({ store: new MemoryTelemetryStore(), assignment, negotiation: { keys } });
    const before = await mk([OLD]); // the fleet before the rotation
    const during = await mk([NEW, OLD]); // the new key signs, the old still verifies
    const after = await mk([NEW]); // the old key retired
    try {
      const a = (await before.inject({ method: 'POST', url: '/v1/negotiate', payload: payload('viewer-rot') })).json();
      expect(a.token.startsWith('k-old.')).toBeTrue();
      // a process already rotated answers the old token's reload, and its RELOAD-URI carries a token of the new key
      const m = await during.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=edge-1` });
      expect(m.statusCode).toBe(200);
      expect(m.json()['PATHWAY-PRIORITY']).toEqual(['edge-1', 'cdn']);
      const reload = m.json()['RELOAD-URI'] as string;
      expect(new URL(reload, 'http://x').searchParams.get('token')!.startsWith('k-new.')).toBeTrue();
      // once the old key is retired the old token is refused 401, naming its key id; the new one is served
      const old = await after.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=edge-1` });
      expect(old.statusCode).toBe(401);
      expect(old.json()).toEqual({
        error: 'unauthorized',
        message: "token key id 'k-old' unknown: its key was retired or is not ours (negotiate again)",
      });
      const oldLeave = await after.inject({ method: 'POST', url: `/v1/sessions/${a.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(oldLeave.statusCode).toBe(401);
      expect(await assignment.lease(a.session)).not.toBeNull(); // a refused leave released nothing
      const fresh = await after.inject({ method: 'GET', url: `${reload}&_HLS_pathway=edge-1` });
      expect(fresh.statusCode).toBe(200);
      // and new negotiations on the rotated processes sign with the new key
      const b = (await during.inject({ method: 'POST', url: '/v1/negotiate', payload: payload('viewer-rot-2') })).json();
      expect(b.token.startsWith('k-new.')).toBeTrue();
      expect((await after.inject({ method: 'GET', url: b.steering_uri })).statusCode).toBe(200);
      // a process that does not hold the new key yet: 401 (roll a key out to every process before it signs)
      expect((await before.inject({ method: 'GET', url: b.steering_uri })).statusCode).toBe(401);
    } finally {
      await Promise.all([before.close(), during.close(), after.close()]);
    }
  });

  it("binds a token to its session: another session's token is refused for steering, leave and telemetry linking", async () => {
    const assignment = new MemoryAssignmentStore(EDGES);
    const store = new MemoryTelemetryStore();
    const app = await buildServer({ store, assignment, negotiation: { keys: [NEW] } });
    try {
      const a = (await app.inject({ method: 'POST', url: '/v1/negotiate', payload: payload('viewer-a') })).json();
      const b = (await app.inject({ method: 'POST', url: '/v1/negotiate', payload: payload('viewer-b') })).json();
      expect(a.session).not.toBe(b.session);
      const heldB = await assignment.lease(b.session);
      expect(heldB).not.toBeNull();
      // A's valid token replayed on B's session
      const steer = await app.inject({ method: 'GET', url: `/v1/steering/${b.session}?token=${encodeURIComponent(a.token)}` });
      expect(steer.statusCode).toBe(403);
      expect(steer.json().message).toMatch(/token invalid/);
      const leave = await app.inject({ method: 'POST', url: `/v1/sessions/${b.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(leave.statusCode).toBe(403);
      expect(await assignment.lease(b.session)).toEqual(heldB); // B keeps its edge
      expect((await app.inject({ method: 'GET', url: b.steering_uri })).statusCode).toBe(200); // and its session
      // telemetry claiming B's session with A's token: stored (never dropped), the link marked invalid
      const batch = {
        v: 1,
        batch_id: 'batch-bind-01',
        viewer_id: 'viewer-b',
        session_id: 'sess-page-b',
        sealed_at: Date.now(),
        events: [{ view_id: 'view-bind', seq: 0, t: Date.now(), type: 'play' }],
        edge: { session: b.session, token: a.token },
      };
      const t = await app.inject({ method: 'POST', url: '/v1/telemetry', payload: batch });
      expect(t.statusCode).toBe(200);
      expect(t.json()).toEqual({ batch_id: 'batch-bind-01', accepted: 1, duplicate: false, edge: 'invalid' });
      expect((await store.viewEvents('view-bind')).length).toBe(1);
      // A's own leave still works
      const own = await app.inject({ method: 'POST', url: `/v1/sessions/${a.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(own.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('Content Steering and CMSD, as hls.js 1.7 and CTA-5006 read them (issue 18)', () => {
  const EDGE = { id: 'edge-1', url: 'http://127.0.0.1:9101', setting: 'mid' as const };
  const CDN = 'http://cdn.example:8080/streams/vod';
  // the demo ladder's declared BANDWIDTH / AVERAGE-BANDWIDTH (bit/s)
  const demo = [
    [569700, 363265],
    [1314700, 798422],
    [2107746, 1236788],
    [3170392, 1868632],
    [4900780, 2826671],
    [7413026, 4248935],
  ];
  const variants = demo.map(([bandwidth, average_bandwidth], i) => ({
    id: `v${i}`,
    uri: `${CDN}/v${i}/index.m3u8`,
    bandwidth,
    average_bandwidth,
  }));
  const near = { viewer_id: 'viewer-1', channel: 'news', weights: { a1: 6, a2: 2, a3: 2 }, rtt_ms: { cdn: 600, 'edge-1': 20 } };
  const build = () => buildServer({ store: new MemoryTelemetryStore(), edges: [EDGE], negotiation: { secret: 's' } });
  const negotiate = async (app: Awaited<ReturnType<typeof build>>, payload: object) => {
    const r = await app.inject({ method: 'POST', url: '/v1/negotiate', payload });
    expect(r.statusCode).toBe(200);
    return r.json();
  };
  const cmsd = (header: unknown) => decodeCmsdDynamic(String(header));

  it('assigns the CDN, holding no lease, when the negotiation brings no variant (an empty clone moves nothing)', async () => {
    const app = await build();
    try {
      // what negotiate() sends for a media playlist, or when its own fetch of the playlist failed
      const a = await negotiate(app, { ...near, bandwidth_mbps: 20 });
      expect(a.assignment.target).toBe('cdn');
      expect(a.assignment.edge_url).toBeNull();
      expect(a.assignment.clone).toBeUndefined();
      const man = await app.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=.&_HLS_throughput=500000` });
      expect(man.json()['PATHWAY-PRIORITY']).toEqual(['cdn']);
      expect(man.json()['PATHWAY-CLONES']).toBeUndefined();
      // and with the variants the same viewer gets the edge: the edge was free, the request was the reason
      const b = await negotiate(app, { ...near, bandwidth_mbps: 20, variants });
      expect(b.assignment.target).toBe('edge-1');
      const left = await app.inject({ method: 'POST', url: `/v1/sessions/${a.session}/leave?token=${encodeURIComponent(a.token)}` });
      expect(left.json().released).toBeFalse(); // the CDN session never held a lease
    } finally {
      await app.close();
    }
  });

  it('moves every variant and rendition URI to the edge, in the answer and in the steering manifest alike', async () => {
    const app = await build();
    try {
      const renditions = [
        { id: 'aud-en', uri: `${CDN}/audio/en/index.m3u8` },
        { id: 'sub-de', uri: `${CDN}/subs/de/index.m3u8?lang=de` },
      ];
      const a = await negotiate(app, { ...near, bandwidth_mbps: 20, variants, renditions });
      expect(a.assignment.target).toBe('edge-1');
      const clone = a.assignment.clone;
      expect(clone['BASE-ID']).toBe('cdn');
      expect(clone.ID).toBe('edge-1');
      const perVariant = clone['URI-REPLACEMENT']['PER-VARIANT-URIS'];
      const perRendition = clone['URI-REPLACEMENT']['PER-RENDITION-URIS'];
      expect(Object.keys(perVariant).sort()).toEqual(variants.map((v) => v.id).sort());
      for (const v of variants) expect(perVariant[v.id]).toBe(v.uri.replace('http://cdn.example:8080', EDGE.url));
      expect(perRendition).toEqual({
        'aud-en': 'http://127.0.0.1:9101/streams/vod/audio/en/index.m3u8',
        'sub-de': 'http://127.0.0.1:9101/streams/vod/subs/de/index.m3u8?lang=de',
      });
      const man = (await app.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=edge-1` })).json();
      expect(man['PATHWAY-CLONES']).toEqual([clone]);
    } finally {
      await app.close();
    }
  });

  it('reads _HLS_throughput and _HLS_pathway the way hls.js sends them (wrapped negative above 2^31 bit/s)', async () => {
    const { readSteeringQuery } = await import('../../src/server/negotiation.js');
    expect(readSteeringQuery({ _HLS_throughput: String(3e9 | 0) })).toEqual({ throughputBps: 3e9 }); // -1294967296
    expect(readSteeringQuery({ _HLS_throughput: String((2 ** 31) | 0) })).toEqual({ throughputBps: 2 ** 31 });
    expect(readSteeringQuery({ _HLS_throughput: '20000000', _HLS_pathway: 'edge-1' })).toEqual({ throughputBps: 2e7, pathway: 'edge-1' });
    for (const t of ['abc', '', '0', '12.5', '1e400', '-', String(-(2 ** 31) - 1), '9'.repeat(14), 'NaN'])
      expect(readSteeringQuery({ _HLS_throughput: t }))
        .withContext(t)
        .toEqual({});
    expect(readSteeringQuery({ _HLS_throughput: ['1000', '2000'], _HLS_pathway: ['cdn', 'edge-1'] })).toEqual({
      throughputBps: 2000,
      pathway: 'edge-1',
    });
    expect(readSteeringQuery({ _HLS_pathway: 'x'.repeat(129) })).toEqual({});
  });

  it('serves the steering manifest whatever hls.js puts in _HLS_throughput / _HLS_pathway: an unusable value is ignored', async () => {
    const app = await build();
    try {
      const a = await negotiate(app, { ...near, bandwidth_mbps: 2.5, variants }); // 720p
      expect(a.assignment.version).toBe('720p');
      const first = await app.inject({ method: 'GET', url: `${a.steering_uri}&_HLS_pathway=edge-1&_HLS_throughput=500000` });
      expect(first.statusCode).toBe(200);
      const reload = first.json()['RELOAD-URI'];
      for (const q of [
        '_HLS_throughput=abc',
        '_HLS_throughput=1e400',
        '_HLS_throughput=&_HLS_pathway=',
        `_HLS_pathway=${'p'.repeat(300)}`,
        '_HLS_throughput=1&_HLS_throughput=2',
        '_HLS_pathway=edge-1&_HLS_pathway=edge-1',
      ]) {
        const r = await app.inject({ method: 'GET', url: `${reload}&${q}` });
        expect(r.statusCode).withContext(q).toBe(200);
        expect(r.json()['PATHWAY-PRIORITY']).withContext(q).toEqual(['edge-1', 'cdn']);
      }
      // hls.js above 2^31 bit/s: the estimate wraps negative; the viewer is fast, not refused (1440p now)
      const fast = await app.inject({ method: 'GET', url: `${reload}&_HLS_pathway=edge-1&_HLS_throughput=${3e9 | 0}` });
      expect(fast.statusCode).toBe(200);
      expect(fast.json()['PATHWAY-PRIORITY']).toEqual(['edge-1', 'cdn']);
      expect(cmsd(fast.headers['cmsd-dynamic'])[0].params.etp).toBe(3e6);
      expect(cmsd(fast.headers['cmsd-dynamic'])[0].params.mb).toBe(7414); // v5 now: 1440p
    } finally {
      await app.close();
    }
  });

  it('sends CMSD a player on another origin can read: mb a real variant of the session, etp only from a measurement', async () => {
    const app = await build();
    try {
      // 2.5 Mb/s sustains 720p (1.85 Mb/s): the highest variant whose average is at or below it is v2 (1.24 Mb/s
      // average; v3 averages 1.87): mb is v2's BANDWIDTH, 2107746 bit/s, rounded up to kbit/s
      const a = await negotiate(app, { ...near, bandwidth_mbps: 2.5, variants });
      expect(a.assignment.version).toBe('720p');
      expect(a.assignment.max_variant_bps).toBe(2107746);
      const first = await app.inject({
        method: 'GET',
        url: `${a.steering_uri}&_HLS_pathway=edge-1&_HLS_throughput=500000`,
        headers: { origin: 'https://player.example' },
      });
      expect(String(first.headers['access-control-expose-headers']).toLowerCase().split(/,\s*/)).toContain('cmsd-dynamic');
      const [d] = cmsd(first.headers['cmsd-dynamic']);
      expect(d.value).toBe('edge-1');
      expect(d.params.mb).toBe(2108);
      expect(demo.map(([bw]) => Math.ceil(bw / 1000))).toContain(d.params.mb as number);
      // the first _HLS_throughput is hls.js' default estimate (500 kbit/s): no etp, and no re-decision on it
      expect(d.params.etp).toBeUndefined();
      const reload = first.json()['RELOAD-URI'];
      // a measurement: etp says it, and the decision follows it (20 Mb/s sustains 1440p: every variant fits)
      const m = await app.inject({ method: 'GET', url: `${reload}&_HLS_pathway=edge-1&_HLS_throughput=20000000` });
      expect(cmsd(m.headers['cmsd-dynamic'])[0].params).toEqual({ mb: 7414, etp: 20000 });
      // a request without a throughput keeps the last measurement; below the lowest variant, mb is the lowest
      const low = await negotiate(app, { ...near, bandwidth_mbps: 0.2, variants: variants.slice(1) }); // 240p, ladder from 0.8 Mb/s
      expect(low.assignment.version).toBe('240p');
      expect(low.assignment.max_variant_bps).toBe(1314700);
      const lm = await app.inject({ method: 'GET', url: `${low.steering_uri}&_HLS_pathway=edge-1` });
      expect(cmsd(lm.headers['cmsd-dynamic'])[0].params).toEqual({ mb: 1315 });
      // without declared bitrates there is no mb to give
      const bare = await negotiate(app, { ...near, bandwidth_mbps: 2.5, variants: variants.map(({ id, uri }) => ({ id, uri })) });
      expect(bare.assignment.max_variant_bps).toBeNull();
      const bm = await app.inject({ method: 'GET', url: `${bare.steering_uri}&_HLS_pathway=edge-1` });
      expect(cmsd(bm.headers['cmsd-dynamic'])[0].params?.mb).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('DRL assignment policy (models/edge-drl)', () => {
  it('beats the online heuristic in the simulator for every edge setting, in well under a millisecond per decision', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const { DrlAssignment } = await import('../../src/assign/edge/drl.js');
    const { EDGE_SIM_DEFAULTS, POLICIES, runEdgeSim } = await import('../../src/sim/edge/sim.js');
    expect(existsSync('models/edge-drl/MODEL.md')).toBeTrue();
    for (const setting of ['fat', 'mid', 'thin'] as const) {
      const drl = new DrlAssignment(JSON.parse(readFileSync(`models/edge-drl/${setting}.json`, 'utf8')));
      // a seed neither training (1000+), selection (501–503) nor the benchmark (1–3) uses; 30 min, lognormal bandwidths
      const p = { ...EDGE_SIM_DEFAULTS, setting, seed: 77, durationS: 1800 };
      let calls = 0,
        ms = 0;
      const r = runEdgeSim(p, {
        name: 'drl-timed',
        rank(req, opts, edges, ids) {
          const t = performance.now();
          const k = drl.rank(req, opts, edges, ids);
          ms += performance.now() - t;
          calls++;
          return k;
        },
      });
      const h = runEdgeSim(p, POLICIES['online-heu']);
      expect(r.mean).withContext(setting).toBeLessThan(h.mean);
      expect(ms / calls).toBeLessThan(0.2);
    }
    expect(() => new DrlAssignment({ setting: 'x', hidden: 4, in: 3, w1: [], b1: [], w2: [], b2: [] })).toThrowError(/do not match/);
  });

  it("encodes each option's gain over the CDN in the second feature set, and loads either set", async () => {
    const { DrlAssignment, encode, IN_F, IN_F_GAIN, slotCount } = await import('../../src/assign/edge/drl.js');
    const edges = [edge({ usedMbps: 100, usedVcpu: 5 })];
    const opts = options(req({ bandwidthMbps: 3 }), edges);
    const S = slotCount(1);
    const x17 = new Float32Array(S * IN_F),
      x20 = new Float32Array(S * IN_F_GAIN),
      m = new Uint8Array(S);
    const idx17 = encode(req({ bandwidthMbps: 3 }), opts, edges, ['e1'], x17, m);
    const idx = encode(req({ bandwidthMbps: 3 }), opts, edges, ['e1'], x20, m, IN_F_GAIN);
    expect(Array.from(idx)).toEqual(Array.from(idx17));
    const cdn = opts.find((o) => o.target === 'cdn')!;
    let edgeSlots = 0;
    for (let s = 0; s < S; s++) {
      if (!m[s]) continue;
      const o = opts[idx[s]];
      // the first 17 inputs are the first feature set's, unchanged
      expect(Array.from(x20.subarray(s * IN_F_GAIN, s * IN_F_GAIN + IN_F))).toEqual(Array.from(x17.subarray(s * IN_F, (s + 1) * IN_F)));
      const gain = x20[s * IN_F_GAIN + IN_F];
      expect(gain).toBeCloseTo(o.reward - cdn.reward, 5);
      if (o.target === 'cdn') {
        expect(gain).toBe(0);
        continue;
      }
      edgeSlots++;
      expect(x20[s * IN_F_GAIN + IN_F + 1]).toBeCloseTo((o.reward - cdn.reward) / o.addMbps, 5);
      expect(x20[s * IN_F_GAIN + IN_F + 2]).toBeCloseTo((o.reward - cdn.reward) / Math.max(o.addVcpu, 0.41), 5);
    }
    expect(edgeSlots).toBeGreaterThan(2);
    const file = (n: number) => ({ setting: 'x', hidden: 2, in: n, w1: Array(n * 2).fill(0.1), b1: [0, 0], w2: [1, -1], b2: [0] });
    const pick17 = new DrlAssignment(file(IN_F)).rank(req(), opts, edges, ['e1']);
    const pick20 = new DrlAssignment(file(IN_F_GAIN)).rank(req(), opts, edges, ['e1']);
    expect(pick17.length).toBe(opts.length);
    expect(pick20.length).toBe(opts.length);
    expect(() => new DrlAssignment(file(19))).toThrowError(/expected one of 17, 20/);
  });

  it('is served by the controller (policy drl)', async () => {
    const { readFileSync } = await import('node:fs');
    const { DrlAssignment } = await import('../../src/assign/edge/drl.js');
    const drl = new DrlAssignment(JSON.parse(readFileSync('models/edge-drl/mid.json', 'utf8')));
    await expectAsync(buildServer({ store: new MemoryTelemetryStore(), negotiation: { policy: 'drl' } })).toBeRejectedWithError(/drl/);
    const app = await buildServer({
      store: new MemoryTelemetryStore(),
      edges: [{ id: 'edge-1', url: 'http://127.0.0.1:9101', setting: 'mid' }],
      negotiation: { policy: 'drl', drl },
    });
    try {
      const a = (
        await app.inject({
          method: 'POST',
          url: '/v1/negotiate',
          payload: {
            viewer_id: 'viewer-1',
            channel: 'news',
            weights: { a1: 6, a2: 2, a3: 2 },
            rtt_ms: { cdn: 800, 'edge-1': 20 },
            bandwidth_mbps: 6,
            variants: [{ id: 'v0', uri: 'http://127.0.0.1:8080/streams/vod/v0/index.m3u8' }], // a playlist an edge can carry
          },
        })
      ).json();
      expect(a.policy).toBe('drl');
      expect(a.assignment.target).toBe('edge-1'); // an empty edge next door and a far CDN
    } finally {
      await app.close();
    }
  });
});
