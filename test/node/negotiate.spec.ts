/**
 * Edge assignment and negotiation: the ELCast penalty model, the lease store (capacity never exceeded,
 * leases expire, channels shared), and the controller routes over HTTP: /v1/negotiate, the Content Steering
 * manifest with CMSD hints, tokens, re-decisions from _HLS_pathway/_HLS_throughput, leave, rate limit.
 */
import { choose, options, VERSIONS, wantedVersion, type EdgeState, type ViewerRequest } from '../../src/assign/edge/model.js';
import { DEFAULT_WEIGHTS } from '../../src/core/preference.js';
import { CapacityLedger } from '../../src/assign/edge/ledger.js';
import { buildServer } from '../../src/server/app.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';

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
  const variants = [0, 1, 2].map((i) => ({ id: `v${i}`, uri: `http://127.0.0.1:8080/streams/vod/v${i}/index.m3u8?x=1` }));
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
      expect(m.headers['cmsd-dynamic']).toBe('"edge-1";mb=4300;etp=20000');
      // low throughput: a lower version, the cap follows in CMSD mb
      const low = await app.inject({ method: 'GET', url: `${man['RELOAD-URI']}&_HLS_pathway=edge-1&_HLS_throughput=1500000` });
      expect(low.headers['cmsd-dynamic']).toBe('"edge-1";mb=1200;etp=1500'); // 1.5 Mb/s sustains 480p (1.2 × 1.2)
      // the player fell back to the CDN pathway: the edge lease is released and the manifest says cdn
      const back = await app.inject({ method: 'GET', url: `${man['RELOAD-URI']}&_HLS_pathway=cdn` });
      expect(back.json()['PATHWAY-PRIORITY']).toEqual(['cdn']);
      // tokens are checked
      const forged = await app.inject({ method: 'GET', url: `/v1/steering/${a.session}?token=1999999999999.AAAA` });
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
        payload: batch('batch-bad1', `${a.token.split('.')[0]}.forged`),
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
