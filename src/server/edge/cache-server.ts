/**
 * The reference edge: a pull-through HTTP cache for HLS objects in front of an origin (or CDN), whose size
 * and replacement policy a tuner sets every interval (src/assign/cache; edge-intelligence-immersive-media,
 * "Edge Caching for Multimedia Content"). Fastify, like the controller; independent of the controller's files.
 *
 * - Every GET under any path is an object, keyed by `keyOf(url)` (default: path + query).
 * - A hit is served from memory. On a miss the edge fetches the object from the origin once: concurrent
 *   requests for the same key join that fetch (coalesced) and every one of them is streamed the bytes as they
 *   arrive. When the body is complete (and matches its Content-Length) it is stored if it fits.
 * - Playlists (.m3u8) live `playlistTtlS` (default 1 s; a live playlist changes every segment) unless the
 *   origin says `Cache-Control: max-age`; segments live until evicted; `no-store` / non-200 answers pass
 *   through uncached.
 * - Capacity is in bytes and never exceeded (ByteCache): stored bodies only; fills in flight are transient.
 * - The origin failing mid-body ends every client response joined to that fetch with an error (the socket
 *   is destroyed, so the player sees a failed fragment, never a hang); failing before headers gives 502.
 *   A stalled origin is cut after `originIdleMs` without bytes.
 * - `GET /_edge/stats`: hits, misses, coalesced, bytes served and from the origin, rented size, policy, money.
 *   `GET /probe`: a tiny answer for the player's RTT probes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import {
  CACHE_ECONOMICS,
  FixedTuner,
  TunedCache,
  type CacheEconomics,
  type CacheTuner,
  type IntervalReport,
  type WindowOptions,
} from '../../assign/cache/index.js';

export interface EdgeCacheOptions {
  /** origin base URL, e.g. http://127.0.0.1:8080 (the path of each request is appended) */
  origin: string;
  /** cache capacity in bytes (the rented size); a tuner may change it */
  capacityBytes: number;
  /** replacement policy to start with (lru | lfu | gdsf); default lru */
  policy?: string;
  /** who sets size and policy every interval; default: fixed at capacityBytes / policy */
  tuner?: CacheTuner;
  econ?: CacheEconomics;
  /** seconds between tuner decisions (default 600); 0 = only when endInterval() is called */
  intervalS?: number;
  window?: Partial<WindowOptions>;
  /** seconds a playlist stays fresh when the origin does not say (default 1) */
  playlistTtlS?: number;
  /** cache key of a request URL (default: path + query) */
  keyOf?: (url: URL) => string;
  /** content group of a key for the window's popularity statistics (default: the key's folder) */
  groupOf?: (key: string) => string;
  /** cut an origin response after this long without bytes (ms, default 10000) */
  originIdleMs?: number;
  id?: string;
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** clock in seconds (default: monotonic process time) */
  now?: () => number;
  logger?: boolean;
}

export interface EdgeCacheStats {
  id: string;
  requests: number;
  /** served from the store */
  hits: number;
  /** joined a fetch already in flight (no extra origin request) */
  coalesced: number;
  /** started an origin fetch */
  misses: number;
  /** (hits + coalesced) / requests */
  hitRate: number;
  bytesServed: number;
  bytesFromOrigin: number;
  originRequests: number;
  originErrors: number;
  /** rented size now, bytes used by stored bodies (the ByteCache's count and the bodies' own sum) */
  capacityBytes: number;
  usedBytes: number;
  storedBodyBytes: number;
  objects: number;
  policy: string;
  tuner: string;
  evictions: number;
  /** rented GB·hours and money since start (CacheEconomics prices) */
  rentedGBHours: number;
  rentCost: number;
  egressCost: number;
  intervals: number;
}

export interface EdgeCache {
  id: string;
  url: string;
  port: number;
  app: FastifyInstance;
  tuned: TunedCache<string>;
  stats(): EdgeCacheStats;
  /** close the current tuning interval now (the timer does this every intervalS) */
  endInterval(): IntervalReport;
  /** stop now: close the listener and cut every open connection (the demo's crash of an edge) */
  kill(): void;
  close(): Promise<void>;
}

interface Stored {
  body: Buffer;
  headers: Record<string, string>;
}

/** An origin fetch in flight: the bytes so far, and the responses following it. */
class Fill {
  chunks: Buffer[] = [];
  received = 0;
  status = 0;
  headers: Record<string, string> = {};
  done = false;
  error: Error | null = null;
  private waiting = new Set<() => void>();
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  constructor() {
    this.ready = new Promise((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {}); // observed by each follower
  }
  start(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.headers = headers;
    this.resolveReady();
  }
  push(b: Buffer): void {
    this.chunks.push(b);
    this.received += b.length;
    this.notify();
  }
  finish(err: Error | null): void {
    this.done = true;
    this.error = err;
    if (err) this.rejectReady(err);
    this.notify();
  }
  private notify(): void {
    for (const f of [...this.waiting]) f();
  }
  /** stream the fill to `res` from its first byte; resolves with the bytes written, rejects on origin failure */
  follow(res: ServerResponse): Promise<number> {
    return new Promise((resolve, reject) => {
      let i = 0,
        sent = 0;
      const pump = () => {
        if (res.destroyed) return void this.waiting.delete(pump);
        while (i < this.chunks.length) {
          const c = this.chunks[i++];
          sent += c.length;
          res.write(c);
        }
        if (this.error) {
          this.waiting.delete(pump);
          reject(this.error);
        } else if (this.done) {
          this.waiting.delete(pump);
          res.end();
          resolve(sent);
        }
      };
      res.on('close', () => this.waiting.delete(pump));
      this.waiting.add(pump);
      pump();
    });
  }
}

const PASS_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified'];
const defaultGroup = (key: string) => key.slice(0, Math.max(0, key.lastIndexOf('/')));

/** Start an edge cache on `host:port` (default 127.0.0.1, a free port). Throws on a bad origin URL or capacity. */
export async function startEdgeCache(o: EdgeCacheOptions): Promise<EdgeCache> {
  const origin = new URL(o.origin);
  if (!/^https?:$/.test(origin.protocol)) throw new Error(`edge origin must be http(s): ${o.origin}`);
  if (!(o.capacityBytes >= 0)) throw new Error(`edge capacity must be ≥ 0 bytes, got ${o.capacityBytes}`);
  const id = o.id ?? 'edge';
  const policy = o.policy ?? 'lru';
  const now = o.now ?? (() => performance.now() / 1000);
  const keyOf = o.keyOf ?? ((u: URL) => u.pathname + u.search);
  const groupOf = o.groupOf ?? defaultGroup;
  const playlistTtlS = o.playlistTtlS ?? 1;
  const idleMs = o.originIdleMs ?? 10000;
  const bodies = new Map<string, Stored>();
  let storedBodyBytes = 0;
  const tuned = new TunedCache<string>(o.tuner ?? new FixedTuner(o.capacityBytes, policy), {
    capacityBytes: o.capacityBytes,
    policy,
    econ: o.econ ?? CACHE_ECONOMICS,
    window: { intervalS: o.intervalS || 600, ...o.window },
    onEvict: (k) => {
      const b = bodies.get(k as string);
      if (b) {
        storedBodyBytes -= b.body.length;
        bodies.delete(k as string);
      }
    },
  });
  const fills = new Map<string, Fill>();
  const s = { requests: 0, hits: 0, coalesced: 0, misses: 0, bytesServed: 0, bytesFromOrigin: 0, originRequests: 0, originErrors: 0 };

  function fetchOrigin(key: string, url: URL): Fill {
    const fill = new Fill();
    fills.set(key, fill);
    s.originRequests++;
    const ctl = new AbortController();
    let idle = setTimeout(() => ctl.abort(new Error(`origin idle for ${idleMs} ms`)), idleMs);
    const bump = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(new Error(`origin idle for ${idleMs} ms`)), idleMs);
    };
    void (async () => {
      try {
        const r = await fetch(new URL(url.pathname + url.search, origin), { signal: ctl.signal });
        const headers: Record<string, string> = {};
        for (const h of PASS_HEADERS) {
          const v = r.headers.get(h);
          if (v) headers[h] = v;
        }
        const len = r.headers.get('content-length');
        if (len) headers['content-length'] = len;
        fill.start(r.status, headers);
        const reader = r.body?.getReader();
        for (;;) {
          if (!reader) break;
          const { done, value } = await reader.read();
          if (done) break;
          bump();
          fill.push(Buffer.from(value));
        }
        if (len && Number(len) !== fill.received) throw new Error(`origin sent ${fill.received} of ${len} bytes`);
        s.bytesFromOrigin += fill.received;
        fills.delete(key);
        store(key, fill);
        fill.finish(null);
      } catch (e) {
        s.originErrors++;
        s.bytesFromOrigin += fill.received;
        fills.delete(key);
        fill.finish(e instanceof Error ? e : new Error(String(e)));
      } finally {
        clearTimeout(idle);
      }
    })();
    return fill;
  }

  function store(key: string, fill: Fill): void {
    if (fill.status !== 200) return;
    const cc = fill.headers['cache-control'] ?? '';
    if (/no-store|private/i.test(cc)) return;
    const maxAge = /max-age=(\d+)/i.exec(cc);
    const isPlaylist = /\.m3u8$/i.test(key.split('?')[0]);
    const ttl = isPlaylist ? (maxAge ? Number(maxAge[1]) : playlistTtlS) : Infinity;
    if (ttl <= 0) return;
    const body = Buffer.concat(fill.chunks, fill.received);
    if (tuned.cache.insert(key, body.length, now(), undefined, ttl)) {
      bodies.set(key, { body, headers: { ...fill.headers, 'content-length': String(body.length) } });
      storedBodyBytes += body.length;
    }
  }

  const app = Fastify({ logger: o.logger ?? false });
  const cors = { 'access-control-allow-origin': '*', 'x-edge': id };
  app.get('/probe', async (_req, reply) =>
    reply
      .headers({ ...cors, 'cache-control': 'no-store' })
      .type('text/plain')
      .send('ok'),
  );
  app.get('/_edge/stats', async (_req, reply) => reply.headers(cors).send(stats()));
  app.options('/*', async (_req, reply) =>
    reply
      .code(204)
      .headers({ ...cors, 'access-control-allow-headers': '*' })
      .send(),
  );
  app.get('/*', (req, reply) => {
    const url = new URL(req.url, 'http://edge');
    const key = keyOf(url);
    const t = now();
    s.requests++;
    reply.hijack();
    const res = reply.raw;
    const entry = tuned.cache.entry(key);
    const stored = bodies.get(key);
    if (entry && stored && tuned.cache.lookup(key, entry.bytes, t)) {
      s.hits++;
      s.bytesServed += stored.body.length;
      tuned.note(key, groupOf(key), stored.body.length, true, t);
      res.writeHead(200, { ...stored.headers, ...cors, 'x-cache': 'HIT' });
      res.end(stored.body);
      return;
    }
    let fill = fills.get(key);
    const joined = !!fill;
    if (fill) s.coalesced++;
    else {
      s.misses++;
      fill = fetchOrigin(key, url);
    }
    const f = fill;
    f.ready.then(
      () => {
        res.writeHead(f.status, { ...f.headers, ...cors, 'x-cache': joined ? 'COALESCED' : 'MISS' });
        f.follow(res).then(
          (n) => {
            s.bytesServed += n;
            tuned.note(key, groupOf(key), n, joined, now());
          },
          () => res.destroy(),
        );
      },
      (e: Error) => {
        if (res.headersSent) return res.destroy();
        res.writeHead(502, { ...cors, 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `origin fetch failed: ${e.message}` }));
      },
    );
  });
  app.route({
    method: ['POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/*',
    handler: async (_req, reply) => reply.code(405).headers(cors).send({ error: 'the edge cache serves GET only' }),
  });

  function stats(): EdgeCacheStats {
    const hours = tuned.totals.byteSeconds / 1e9 / 3600;
    return {
      id,
      ...s,
      hitRate: s.requests ? (s.hits + s.coalesced) / s.requests : 0,
      capacityBytes: tuned.cache.capacity,
      usedBytes: tuned.cache.used,
      storedBodyBytes,
      objects: tuned.cache.count,
      policy: tuned.cache.policy,
      tuner: tuned.tuner.name,
      evictions: tuned.cache.counters.evictions,
      rentedGBHours: hours,
      rentCost: tuned.totals.rent,
      egressCost: tuned.totals.egress,
      intervals: tuned.totals.intervals,
    };
  }

  const timer = o.intervalS === 0 ? null : setInterval(() => tuned.endInterval(now()), (o.intervalS ?? 600) * 1000);
  timer?.unref();
  await app.listen({ port: o.port ?? 0, host: o.host ?? '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return {
    id,
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    app,
    tuned,
    stats,
    endInterval: () => tuned.endInterval(now()),
    kill: () => {
      if (timer) clearInterval(timer);
      app.server.closeAllConnections();
      void app.close();
    },
    close: async () => {
      if (timer) clearInterval(timer);
      await app.close();
    },
  };
}
