/**
 * The reference edge cache (src/server/edge/cache-server.ts) over real HTTP against a loopback origin:
 * bytes served equal the origin's, concurrent misses coalesce into one origin request, capacity is never
 * exceeded, playlists expire, and an origin killed mid-body ends the client's response with an error.
 */
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mulberry32 } from '../../src/core/random.js';
import { startEdgeCache, type EdgeCache, type EdgeShaper } from '../../src/server/edge/cache-server.js';
import { startServer } from '../../src/server/main.js';
import type { EdgeList } from '../../src/core/schemas/edges.js';

/** deterministic bytes of an object: /seg/<name>-<size>.m4s */
function bytesOf(path: string): Buffer {
  const size = Number(/-(\d+)\.m4s$/.exec(path)?.[1] ?? 0);
  let h = 0;
  for (const c of path) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  const rng = mulberry32(h);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

interface Origin {
  url: string;
  count: Map<string, number>;
  /** every request's path + query, in order */
  urls: string[];
  /** resolves when the origin has received a request for the path */
  seen(path: string): Promise<void>;
  release(path: string): void;
  playlistVersion: number;
  close(): Promise<void>;
}

async function startOrigin(): Promise<Origin> {
  const count = new Map<string, number>();
  const gates = new Map<string, () => void>();
  const gatePromises = new Map<string, Promise<void>>();
  const seenWaiters = new Map<string, Array<() => void>>();
  const sockets = new Set<Socket>();
  const gate = (p: string) => {
    if (!gatePromises.has(p)) gatePromises.set(p, new Promise<void>((r) => gates.set(p, r)));
    return gatePromises.get(p)!;
  };
  const o: Origin = {
    url: '',
    count,
    urls: [],
    playlistVersion: 0,
    seen: (p) => (count.get(p) ? Promise.resolve() : new Promise((r) => seenWaiters.set(p, [...(seenWaiters.get(p) ?? []), r]))),
    release: (p) => {
      gate(p);
      gates.get(p)!();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://o').pathname;
    o.urls.push(req.url ?? '/');
    count.set(path, (count.get(path) ?? 0) + 1);
    for (const w of seenWaiters.get(path) ?? []) w();
    seenWaiters.delete(path);
    // /live/index.m3u8: no Cache-Control; /live/nocache.m3u8: no-cache; /live/shared.m3u8: s-maxage over max-age
    const playlistCc: Record<string, string | undefined> = {
      '/live/index.m3u8': undefined,
      '/live/nocache.m3u8': 'no-cache',
      '/live/shared.m3u8': 'max-age=1, s-maxage=5',
    };
    if (path in playlistCc) {
      o.playlistVersion++;
      const body = `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:${o.playlistVersion}\n`;
      const cc = playlistCc[path];
      res.writeHead(200, {
        'content-type': 'application/vnd.apple.mpegurl',
        'content-length': Buffer.byteLength(body),
        ...(cc ? { 'cache-control': cc } : {}),
      });
      return res.end(body);
    }
    if (path.startsWith('/gate/')) await gate(path);
    if (path.startsWith('/kill/')) {
      const b = bytesOf(path);
      res.writeHead(200, { 'content-type': 'video/iso.segment', 'content-length': b.length });
      // half the body, then the origin dies: the socket is destroyed once that half has been written
      res.write(b.subarray(0, b.length >> 1), () => req.socket.destroy());
      return;
    }
    if (!path.endsWith('.m4s')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('no such object');
    }
    const b = bytesOf(path);
    res.writeHead(200, { 'content-type': 'video/iso.segment', 'content-length': b.length });
    // two writes, so the edge streams a body that arrives in parts
    res.write(b.subarray(0, b.length >> 1));
    res.end(b.subarray(b.length >> 1));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  o.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = o.close;
  o.close = () => {
    for (const s of sockets) s.destroy();
    return close();
  };
  return o;
}

interface Got {
  status: number;
  body: Buffer;
  complete: boolean;
  cache?: string;
  error?: string;
}
/** a GET that resolves on completion or on any error/abort (never on a timer) */
function getRaw(url: string): Promise<Got> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', () => {});
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts),
          complete: res.complete,
          cache: res.headers['x-cache'] as string,
        }),
      );
    });
    req.on('error', (e) => resolve({ status: 0, body: Buffer.alloc(0), complete: false, error: e.message }));
  });
}

const EDGE_KEY = 'test-edge-key-0123456789';

describe('edge cache (pull-through, real HTTP)', () => {
  let origin: Origin;
  let edge: EdgeCache;
  let clock = 1000;
  const CAP = 100_000;

  beforeAll(async () => {
    origin = await startOrigin();
    edge = await startEdgeCache({ origin: origin.url, capacityBytes: CAP, policy: 'lru', intervalS: 0, now: () => clock, id: 'edge-t' });
  });
  afterAll(async () => {
    await edge.close();
    await origin.close();
  });

  it('serves exactly the origin bytes, from the origin once and then from memory', async () => {
    const p = '/seg/a-20000.m4s';
    const first = await getRaw(edge.url + p);
    const second = await getRaw(edge.url + p);
    expect(first.status).toBe(200);
    expect(first.body.equals(bytesOf(p))).toBeTrue();
    expect(second.body.equals(bytesOf(p))).toBeTrue();
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(origin.count.get(p)).toBe(1);
  });

  it('coalesces concurrent misses into one origin request and streams every client the same bytes', async () => {
    const p = '/gate/b-30000.m4s';
    const before = edge.stats().requests;
    const K = 6;
    const all = Array.from({ length: K }, () => getRaw(edge.url + p));
    await origin.seen(p);
    // wait until the edge has taken every request (the origin is still held back)
    while (edge.stats().requests < before + K) await new Promise((r) => setImmediate(r));
    origin.release(p);
    const got = await Promise.all(all);
    for (const g of got) {
      expect(g.status).toBe(200);
      expect(g.complete).toBeTrue();
      expect(g.body.equals(bytesOf(p))).toBeTrue();
    }
    expect(origin.count.get(p)).toBe(1);
    expect(got.filter((g) => g.cache === 'MISS').length).toBe(1);
    expect(got.filter((g) => g.cache === 'COALESCED').length).toBe(K - 1);
    expect(edge.stats().coalesced).toBeGreaterThanOrEqual(K - 1);
  });

  it('never exceeds its capacity in bytes, and stores nothing larger than it', async () => {
    const rng = mulberry32(7);
    const paths = Array.from({ length: 25 }, (_, i) => `/seg/c${i}-${5000 + Math.floor(rng() * 25000)}.m4s`);
    for (let round = 0; round < 8; round++) {
      const group = Array.from({ length: 5 }, () => paths[Math.floor(rng() * paths.length)]);
      const got = await Promise.all(group.map((p) => getRaw(edge.url + p)));
      got.forEach((g, i) => expect(g.body.equals(bytesOf(group[i]))).toBeTrue());
      const s = edge.stats();
      expect(s.usedBytes).toBeLessThanOrEqual(CAP);
      expect(s.storedBodyBytes).toBe(s.usedBytes);
    }
    expect(edge.stats().evictions).toBeGreaterThan(0);
    const big = '/seg/big-150000.m4s';
    const g1 = await getRaw(edge.url + big);
    const g2 = await getRaw(edge.url + big);
    expect(g1.body.equals(bytesOf(big))).toBeTrue();
    expect(g2.body.equals(bytesOf(big))).toBeTrue();
    expect(origin.count.get(big)).toBe(2); // too large to keep: fetched each time
    expect(edge.stats().usedBytes).toBeLessThanOrEqual(CAP);
  });

  it('keeps a playlist only for its short lifetime', async () => {
    const p = '/live/index.m3u8';
    const a = await getRaw(edge.url + p);
    const b = await getRaw(edge.url + p);
    expect(b.body.toString()).toBe(a.body.toString());
    expect(b.cache).toBe('HIT');
    clock += 2; // past the 1 s default lifetime
    const c = await getRaw(edge.url + p);
    expect(c.cache).toBe('MISS');
    expect(c.body.toString()).not.toBe(a.body.toString());
    expect(origin.count.get(p)).toBe(2);
  });

  it('never stores a no-cache playlist (it cannot revalidate), and gives s-maxage precedence over max-age (RFC 9111 §5.2.2)', async () => {
    const nc = '/live/nocache.m3u8';
    const a = await getRaw(edge.url + nc);
    const b = await getRaw(edge.url + nc);
    expect([a.cache, b.cache]).toEqual(['MISS', 'MISS']);
    expect(b.body.toString()).not.toBe(a.body.toString());
    expect(origin.count.get(nc)).toBe(2);
    const sh = '/live/shared.m3u8';
    const c = await getRaw(edge.url + sh);
    clock += 3; // past max-age=1, within s-maxage=5
    const d = await getRaw(edge.url + sh);
    expect(d.cache).toBe('HIT');
    expect(d.body.toString()).toBe(c.body.toString());
    clock += 3; // past s-maxage
    expect((await getRaw(edge.url + sh)).cache).toBe('MISS');
    expect(origin.count.get(sh)).toBe(2);
  });

  it('passes an origin error through without caching it', async () => {
    const a = await getRaw(edge.url + '/nothing.txt');
    const b = await getRaw(edge.url + '/nothing.txt');
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(origin.count.get('/nothing.txt')).toBe(2);
  });

  it('ends the client response with an error when the origin dies mid-body (no hang), and caches nothing', async () => {
    const p = '/kill/d-40000.m4s';
    const g = await getRaw(edge.url + p);
    expect(g.complete).toBeFalse();
    expect(g.body.length).toBeLessThan(40000);
    expect(edge.tuned.cache.has(p, clock)).toBeFalse();
    expect(edge.stats().originErrors).toBeGreaterThan(0);
    const again = await getRaw(edge.url + p);
    expect(again.complete).toBeFalse();
    expect(origin.count.get(p)).toBe(2);
  });

  it('kill() cuts a response in flight (the client sees an error, not a hang)', async () => {
    const e2 = await startEdgeCache({ origin: origin.url, capacityBytes: CAP, intervalS: 0 });
    const p = '/gate/k-20000.m4s';
    const pending = getRaw(e2.url + p);
    await origin.seen(p);
    e2.kill();
    const g = await pending;
    expect(g.complete).toBeFalse();
    origin.release(p);
  });

  it('answers 502 when the origin cannot be reached', async () => {
    const dead = await startEdgeCache({ origin: 'http://127.0.0.1:1', capacityBytes: CAP, intervalS: 0 });
    try {
      const g = await getRaw(dead.url + '/seg/x-100.m4s');
      expect(g.status).toBe(502);
      expect(JSON.parse(g.body.toString()).error).toMatch(/origin fetch failed/);
    } finally {
      await dead.close();
    }
  });

  it('reports its counters on /_edge/stats and applies a tuner decision at the end of an interval', async () => {
    const s = (await (await fetch(`${edge.url}/_edge/stats`)).json()) as Record<string, number | string>;
    expect(s.id).toBe('edge-t');
    expect(s.capacityBytes).toBe(CAP);
    expect(Number(s.hits) + Number(s.coalesced) + Number(s.misses)).toBe(Number(s.requests));
    expect(Number(s.bytesFromOrigin)).toBeGreaterThan(0);
    edge.tuned.tuner = { name: 'test', decide: () => ({ capacityBytes: 30_000, policy: 'gdsf' }) };
    clock += 600;
    const r = edge.endInterval();
    expect(r.capacityBytes).toBe(CAP);
    const after = edge.stats();
    expect(after.capacityBytes).toBe(30_000);
    expect(after.policy).toBe('gdsf');
    expect(after.usedBytes).toBeLessThanOrEqual(30_000);
    expect(after.storedBodyBytes).toBe(after.usedBytes);
    expect(after.rentedGBHours).toBeGreaterThan(0);
  });

  it('keys objects by keyOf (asking the origin for the key), and lets a shaper deliver the requests it wants', async () => {
    // the demo's case: a viewer's session parameter is not part of the object
    const keyOf = (u: URL) => {
      const q = new URLSearchParams(u.search);
      q.delete('sess');
      return u.pathname + (q.size ? `?${q}` : '');
    };
    const shaped: string[] = [];
    const shaper: EdgeShaper = {
      wants: (u) => u.searchParams.has('sess'),
      async send(u, res, status, headers, body) {
        shaped.push(`${u.searchParams.get('sess')} ${headers['x-cache']} ${body.length}`);
        res.writeHead(status, { ...headers, 'x-shaped': '1' });
        res.end(body);
      },
    };
    const e = await startEdgeCache({ origin: origin.url, capacityBytes: CAP, intervalS: 0, keyOf, shaper });
    try {
      const p = '/seg/shaped-5000.m4s';
      const a = await getRaw(`${e.url}${p}?sess=aaaa&v=1`);
      const b = await getRaw(`${e.url}${p}?v=1&sess=bbbb`);
      const plain = await getRaw(`${e.url}${p}?v=1`);
      for (const g of [a, b, plain]) expect(g.body.equals(bytesOf(p))).toBeTrue();
      expect([a.cache, b.cache, plain.cache]).toEqual(['MISS', 'HIT', 'HIT']);
      expect(shaped).toEqual(['aaaa MISS 5000', 'bbbb HIT 5000']); // the unshaped request streamed as usual
      expect(origin.urls.filter((u) => u.startsWith(p))).toEqual([`${p}?v=1`]); // once, without the session
      expect(e.stats().segments).toBe(3);
    } finally {
      await e.close();
    }
  });

  it("reports its counters to the controller, which lists each edge's latest report; unknown edges and bad reports are refused", async () => {
    let controllerUrl: string | null = null;
    const e = await startEdgeCache({
      id: 'edge-rep',
      origin: origin.url,
      capacityBytes: CAP,
      intervalS: 0,
      report: { controller: () => controllerUrl, everyMs: 50, key: EDGE_KEY },
    });
    const ctl = await startServer({ port: 0, memory: true, edges: [{ id: 'edge-rep', url: e.url, setting: 'mid' }], edgeKey: EDGE_KEY });
    try {
      const list = async () => ((await (await fetch(`${ctl.url}/v1/edges`)).json()) as EdgeList).edges;
      expect((await list()).map((x) => [x.id, x.alive, x.cache])).toEqual([['edge-rep', false, null]]);
      const p = '/seg/rep-3000.m4s';
      await getRaw(e.url + p);
      await getRaw(e.url + p);
      controllerUrl = ctl.url;
      // wait for a report that carries both requests (reports come every 50 ms; counted, not timed)
      let got: EdgeList['edges'][number] | undefined;
      while (!(got = (await list())[0]).cache || got.cache.requests < 2) await new Promise((r) => setTimeout(r, 50));
      expect(got.cache).toEqual(
        jasmine.objectContaining({ id: 'edge-rep', alive: true, requests: 2, hits: 1, misses: 1, hitRate: 0.5, bytesFromOrigin: 3000 }),
      );
      expect(got.cache!.evictions).toBe(e.stats().evictions);
      expect(got.alive).toBe(true);
      const post = (id: string, body: unknown, key: string | null = EDGE_KEY) =>
        fetch(`${ctl.url}/v1/edges/${id}/stats`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify(body),
        });
      // the key is checked first: without it or with another one, neither the body nor the edge list is looked at
      const noKey = await post('edge-rep', { ...e.stats(), hits: 1e9 }, null);
      expect(noKey.status).toBe(401);
      expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await post('edge-nope', { bad: true }, 'another-key-0123456789')).status).toBe(401);
      expect((await list())[0].cache!.hits).toBeLessThan(1e9);
      expect((await post('edge-nope', { ...e.stats(), id: 'edge-nope' })).status).toBe(404);
      const bad = await post('edge-rep', { ...e.stats(), hits: -1 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { field: string }).field).toBe('body/hits');
      expect((await post('edge-rep', { ...e.stats(), id: 'edge-other' })).status).toBe(400);
      // a killed edge never says so: its silence (3 report intervals) is what the controller lists as not alive
      e.kill();
      let last: EdgeList['edges'][number];
      while ((last = (await list())[0]).alive) await new Promise((r) => setTimeout(r, 50));
      expect(last.cache!.alive).toBe(true); // its last word
      expect(last.reported_ms_ago!).toBeGreaterThan(150);
    } finally {
      await e.close();
      await ctl.close();
    }
  });

  it('refuses every edge report (403) when the controller has no edge key', async () => {
    const ctl = await startServer({ port: 0, memory: true, edges: [{ id: 'edge-t', url: edge.url, setting: 'mid' }] });
    try {
      const r = await fetch(`${ctl.url}/v1/edges/edge-t/stats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${EDGE_KEY}` },
        body: JSON.stringify(edge.stats()),
      });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { message: string }).message).toMatch(/--edge-key/);
      expect(((await (await fetch(`${ctl.url}/v1/edges`)).json()) as EdgeList).edges[0].cache).toBeNull();
    } finally {
      await ctl.close();
    }
  });
});
