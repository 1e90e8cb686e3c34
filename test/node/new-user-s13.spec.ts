/**
 * Faults found by the session-13 new-user trial (h13-user): input the SDK, the controller or a command line took
 * without a clear error and then lost work over. Each spec fails on the code the trial found.
 */
import type Hls from 'hls.js';
import { createEdgeplay } from '../../src/edgeplay.js';
import { Identity } from '../../src/telemetry/identity.js';
import { negotiate } from '../../src/edge/client.js';
import { monitor, type MonitorOptions } from '../../src/monitor.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { buildServer } from '../../src/server/app.js';
import { TaskService } from '../../src/server/tasks.js';
import { TokenService } from '../../src/server/tokens.js';
import { fromYawPitch } from '../../src/viewport/geometry.js';
import { parseCommandLine, startServer, type RunningServer } from '../../src/server/main.js';
import { InputError } from '../../src/train/cli/args.js';
import { prefetchPlan, tileProbabilities } from '../../src/viewport/tiles.js';
import { ViewportClient } from '../../src/viewport/client.js';

describe('createEdgeplay refuses a viewerId the controller would refuse (new-user trial, session 13)', () => {
  it("viewerId 'user-42' or an e-mail address: TypeError naming viewerId (every batch was answered 400 and dropped: all telemetry lost)", async () => {
    const endpoint = 'https://edge.example/v1/telemetry';
    for (const viewerId of ['user-42', 'alice@example.com', 'x'.repeat(65), '']) {
      expect(() => createEdgeplay({ endpoint, viewerId }))
        .withContext(viewerId)
        .toThrowError(TypeError, /edgeplay: viewerId must be 8–64 characters of \[A-Za-z0-9_-\]/);
    }
    const ep = createEdgeplay({ endpoint, viewerId: 'user-00000042' });
    expect(ep.viewerId).toBe('user-00000042');
    await ep.destroy();
  });

  it('a stored viewer or visit id that is not an id (another script of the origin wrote the key) is replaced, not sent', () => {
    const g = globalThis as Record<string, unknown>;
    const m = new Map<string, string>([
      ['edgeplay:viewer', 'alice@example.com'],
      ['edgeplay:session', JSON.stringify({ id: 'not an id', at: Date.now() })],
    ]);
    g.localStorage = {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, String(v)),
      removeItem: (k: string) => void m.delete(k),
    };
    try {
      const id = new Identity({ sessionTimeoutMs: 60_000, granted: true });
      expect(id.viewerId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(id.sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(m.get('edgeplay:viewer')).toBe(id.viewerId);
      // consent granted later adopts a stored id only when it is one
      m.set('edgeplay:viewer', 'bob');
      const later = new Identity({ sessionTimeoutMs: 60_000, granted: false });
      later.grant();
      expect(later.viewerId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(m.get('edgeplay:viewer')).toBe(later.viewerId);
    } finally {
      delete g.localStorage;
    }
  });
});

describe('negotiate() and monitor() with a channel, viewer id or bandwidth the controller refuses (new-user trial, session 13)', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ port: 0, store: new MemoryTelemetryStore() });
  });
  afterAll(async () => {
    await srv.close();
  });
  const base = () => ({ controller: srv.url, viewerId: 'viewer-0001', channel: 'news', src: `${srv.url}/no-such.m3u8`, timeoutMs: 5000 });

  it('bandwidthMbps in bit/s (hls.bandwidthEstimate without / 1e6) is ignored with a warning, as documented (the controller answered 400: null, the CDN, silently)', async () => {
    const warn = spyOn(console, 'warn');
    const n = await negotiate({ ...base(), bandwidthMbps: () => 5e6 });
    expect(n).not.toBeNull();
    expect(n?.assignment.target).toBe('cdn');
    expect(warn).toHaveBeenCalledWith(jasmine.stringMatching(/bandwidthMbps 5000000 > 100000: bit\/s/));
    await n?.leave();
  });

  it("a channel 'BBC One' or a viewer id 'a@b.c' rejects with a TypeError naming it (every negotiation was answered 400 and resolved null: no edge, no error)", async () => {
    await expectAsync(negotiate({ ...base(), channel: 'BBC One' })).toBeRejectedWithError(TypeError, /options\.channel must be 1–128 of/);
    await expectAsync(negotiate({ ...base(), viewerId: 'a@b.c' })).toBeRejectedWithError(TypeError, /options\.viewerId must be 1–128 of/);
    const ok = await negotiate({ ...base(), channel: 'bbc-one.hd:1' });
    expect(ok).not.toBeNull();
    await ok?.leave();
  });

  it("monitor({ channel: 'BBC One' }) throws before it starts anything", async () => {
    const video = { addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as HTMLVideoElement;
    const FakeHls = Object.assign(function FakeHls() {}, { DefaultConfig: {} }) as unknown as typeof Hls;
    const o: MonitorOptions = { Hls: FakeHls, src: 'https://cdn.example/m.m3u8', controller: srv.url, worker: false, channel: 'BBC One' };
    await expectAsync(monitor(video, o)).toBeRejectedWithError(TypeError, /options\.channel must be 1–128 of/);
  });
});

describe('npm run server refuses --data beside another telemetry store (new-user trial, session 13)', () => {
  it('--data DIR with --memory, --pg URL or EDGEPLAY_PG is an InputError naming both (memory or PostgreSQL won silently: the SQLite directory asked for got nothing)', () => {
    const env = {};
    expect(() => parseCommandLine(['--memory', '--data', '/tmp/x'], env)).toThrowError(
      InputError,
      /--data and --memory are two telemetry stores/,
    );
    expect(() => parseCommandLine(['--pg', 'postgres://u@h/db', '--data', '/tmp/x'], env)).toThrowError(
      InputError,
      /--data and --pg are two/,
    );
    expect(() => parseCommandLine(['--data', '/tmp/x'], { EDGEPLAY_PG: 'postgres://u@h/db' })).toThrowError(
      InputError,
      /--data and EDGEPLAY_PG/,
    );
    // each alone, and --memory with EDGEPLAY_DATA_DIR set (a default, not a request), still parse
    expect(parseCommandLine(['--data', '/tmp/x'], env).dataDir).toBe('/tmp/x');
    expect(parseCommandLine(['--memory'], { EDGEPLAY_DATA_DIR: '/tmp/x' }).memory).toBeTrue();
  });
});

describe("edgeplay/viewport's tile functions refuse inputs that plan nonsense (new-user trial, session 13)", () => {
  it('prefetchPlan with an undefined or negative budget, or highBits below lowBits: RangeError (an undefined budget put every visible tile at high)', () => {
    const p = tileProbabilities([0, 0, -1], 10);
    expect(prefetchPlan(p, 4e6, 1e5, 4e5).quality.filter((q) => q === 'high').length).toBe(2);
    for (const [budget, low, high] of [
      [undefined, 1e5, 4e5],
      [NaN, 1e5, 4e5],
      [-1, 1e5, 4e5],
      [4e6, -1, 4e5],
      [4e6, 4e5, 1e5],
      [4e6, 1e5, Infinity],
    ])
      expect(() => prefetchPlan(p, budget as number, low as number, high as number))
        .withContext(`${budget}, ${low}, ${high}`)
        .toThrowError(RangeError, /prefetchPlan: budgetBits and lowBits must be/);
  });

  it('tileProbabilities with a NaN or negative sigmaDeg, an empty grid or a field of view beyond the sphere: RangeError (all-zero tiles, or none)', () => {
    expect(() => tileProbabilities([0, 0, -1], NaN)).toThrowError(RangeError, /sigmaDeg/);
    expect(() => tileProbabilities([0, 0, -1], -1)).toThrowError(RangeError, /sigmaDeg/);
    expect(() => tileProbabilities([0, 0, -1], 10, { cols: 0, rows: 4 })).toThrowError(RangeError, /grid/);
    expect(() => tileProbabilities([0, 0, -1], 10, { cols: 8.5, rows: 4 })).toThrowError(RangeError, /grid/);
    expect(() => tileProbabilities([0, 0, -1], 10, undefined, { hDeg: 100, vDeg: 0 })).toThrowError(RangeError, /fov/);
    expect(() => tileProbabilities([0, 0, -1], 10, undefined, { hDeg: 400, vDeg: 90 })).toThrowError(RangeError, /fov/);
    const p = tileProbabilities([0, 0, -1], 0, { cols: 4, rows: 2 }, { hDeg: 360, vDeg: 180 });
    expect(p.length).toBe(8);
  });
});

describe('the controller names the content type of a body that is no JSON (new-user trial, session 13)', () => {
  it("an empty or garbled text/plain telemetry body is a 400 naming text/plain and field 'body' (it said \"content-type is set to 'application/json'\")", async () => {
    const app = await buildServer({ store: new MemoryTelemetryStore() });
    try {
      for (const [payload, what] of [
        ['', 'is empty'],
        ['{"v":', 'is not JSON'],
      ]) {
        const r = await app.inject({
          method: 'POST',
          url: '/v1/telemetry',
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          payload,
        });
        expect(r.statusCode).withContext(payload).toBe(400);
        expect(r.json()).toEqual({
          error: 'bad_request',
          message: `body ${what} (content-type "text/plain;charset=UTF-8"; expected a JSON document)`,
          field: 'body',
        });
      }
      const j = await app.inject({ method: 'POST', url: '/v1/negotiate', headers: { 'content-type': 'application/json' }, payload: 'x' });
      expect(j.json().message).toContain('content-type "application/json"');
    } finally {
      await app.close();
    }
  });
});

describe('ViewportClient refuses a tile horizon it cannot predict (new-user trial, session 13)', () => {
  it('tilesAtS 10 or 0.05 s, budgetMs 0, an empty grid: RangeError at construction (the fallback answered all-zero tiles: no tile visible)', async () => {
    expect(() => new ViewportClient({ tilesAtS: 10 })).toThrowError(RangeError, /tilesAtS must be in \[0\.2, 5\] s/);
    expect(() => new ViewportClient({ tilesAtS: 0.05 })).toThrowError(RangeError, /tilesAtS/);
    expect(() => new ViewportClient({ budgetMs: 0 })).toThrowError(RangeError, /budgetMs/);
    expect(() => new ViewportClient({ grid: { cols: 0, rows: 4 } })).toThrowError(RangeError, /ViewportClient: the grid/);
    // the ends of the range predict, and their fallback tiles see the viewport
    const hist = new Float64Array(30);
    for (let i = 0; i < 10; i++) hist[i * 3 + 2] = -1;
    for (const tilesAtS of [0.2, 5]) {
      const p = await new ViewportClient({ tilesAtS }).predict(hist, 5);
      expect(p.fallback).toBeTrue();
      expect(p.tiles.reduce((a, b) => a + b, 0))
        .withContext(String(tilesAtS))
        .toBeGreaterThan(1);
    }
  });
});

describe('POST /v1/tasks refuses a head-motion history that is not unit vectors (new-user trial, session 13)', () => {
  it('a history of zeros or of a sample of length 2 is a 400 naming the sample (the model answered it: confident garbage)', async () => {
    const secret = 'new-user-s13-secret';
    let runs = 0;
    const service = new TaskService({ slots: 1, executors: { viewport: async () => (runs++, { model: 'viewport', points: [0, 0, -1] }) } });
    const app = await buildServer({ store: new MemoryTelemetryStore(), negotiation: { secret }, tasks: service });
    try {
      const token = new TokenService(secret).issue('s1');
      const unit: number[] = [];
      for (let i = 0; i < 10; i++) unit.push(...fromYawPitch(10 + 3 * i, 5).map((v) => Math.round(v * 1e4) / 1e4));
      const post = (hist: number[]) =>
        app.inject({
          method: 'POST',
          url: '/v1/tasks',
          payload: { task: 'viewport', session: 's1', token, deadline_ms: 500, input: { hist, t: 12 } },
        });
      const ok = await post(unit);
      expect(ok.statusCode).toBe(200);
      const zeros = await post(new Array(30).fill(0));
      expect(zeros.statusCode).toBe(400);
      expect(zeros.json()).toEqual(
        jasmine.objectContaining({ field: 'body/input/hist/0', message: jasmine.stringMatching(/sample 0 has length 0\.000/) }),
      );
      const long = [...unit];
      long.splice(12, 3, 1, 1, 1.001);
      const r = await post(long);
      expect(r.statusCode).toBe(400);
      expect(r.json().field).toBe('body/input/hist/12');
      expect(runs).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('npm run server checks an --edges entry as it checks --cdns (new-user trial, session 13)', () => {
  it("a repeated id, an id with a space or named 'cdn', a url that is no http(s) URL, an id shared with --cdns: InputError naming the entry (each started a controller whose pathways clashed or could never report)", () => {
    const edge = (o: Record<string, string>) => ({ id: 'e1', url: 'http://127.0.0.1:9', setting: 'mid', ...o });
    const parse =
      (edges: unknown[], more: string[] = []) =>
      () =>
        parseCommandLine(['--edges', JSON.stringify(edges), ...more], {});
    expect(parse([edge({}), edge({ url: 'http://b' })])).toThrowError(InputError, /--edges entry 1 \("e1"\): "id" is repeated/);
    expect(parse([edge({ id: 'e 1' })])).toThrowError(InputError, /"id" must be 1–64 of/);
    expect(parse([edge({ id: 'edge:1' })])).toThrowError(InputError, /a pathway id/);
    expect(parse([edge({ id: 'cdn' })])).toThrowError(InputError, /playlist's own pathway/);
    expect(parse([edge({ url: 'notaurl' })])).toThrowError(InputError, /"url" must be an absolute http\(s\) URL/);
    const cdns = JSON.stringify([
      { id: 'e1', url: 'http://a' },
      { id: 'b', url: 'http://b' },
    ]);
    expect(parse([edge({})], ['--cdns', cdns])).toThrowError(InputError, /--edges and --cdns both name the pathway 'e1'/);
    expect(parse([edge({}), edge({ id: 'edge-2.b_c', setting: 'thin' })])().edges.length).toBe(2);
  });
});
