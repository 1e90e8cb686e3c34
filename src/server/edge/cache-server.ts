/**
 * The reference edge: a pull-through HTTP cache for HLS objects in front of an origin (or CDN), whose size
 * and replacement policy a tuner sets every interval (src/assign/cache; edge-intelligence-immersive-media,
 * "Edge Caching for Multimedia Content"). Fastify, like the controller; independent of the controller's files.
 *
 * - Every GET under any path is an object, keyed by `keyOf(url)` (default: path + query); the key is also the
 *   path + query fetched from the origin, so a key that drops per-viewer parameters (a shaping session, CMCD)
 *   shares one object between viewers.
 * - A `shaper` may take over the delivery of a request (the demo sends a shaped session's bytes through
 *   that viewer's throttled link, and carries the session's query into a playlist's URIs): the edge hands it
 *   the whole object once it is stored or fetched, instead of streaming while filling.
 * - A hit is served from memory. On a miss the edge fetches the object from the origin once: concurrent
 *   requests for the same key join that fetch (coalesced) and every one of them is streamed the bytes as they
 *   arrive. When the body is complete (and matches its Content-Length) it is stored if it fits.
 * - Playlists (.m3u8) live `playlistTtlS` (default 1 s; a live playlist changes every segment) unless the
 *   origin says `Cache-Control: s-maxage` or `max-age`; segments live until evicted; `no-store`, `no-cache`,
 *   `private` and non-200 answers pass through uncached (RFC 9111 §5.2.2; this edge does not revalidate).
 * - Capacity is in bytes and never exceeded (ByteCache): stored bodies only; fills in flight are transient.
 * - The origin failing mid-body ends every client response joined to that fetch with an error (the socket
 *   is destroyed, so the player sees a failed fragment, never a hang); failing before headers gives 502.
 *   A stalled origin is cut after `originIdleMs` without bytes.
 * - `GET /_edge/stats`: hits, misses, coalesced, bytes served and from the origin, rented size, policy, money.
 *   With `report`, the same stats are POSTed to the controller (`POST /v1/edges/:id/stats`) every
 *   `report.everyMs`; a failed report is dropped (the next one carries the counters since the start).
 *   `GET /probe`: a tiny answer for the player's RTT probes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CACHE_ECONOMICS,
  FixedTuner,
  TunedCache,
  type CacheEconomics,
  type CacheTuner,
  type IntervalReport,
  type WindowOptions,
} from '../../assign/cache/index.js';
import type { EdgeCacheStats } from '../../core/schemas/edges.js';

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
  /** cache key of a request URL, also the path + query fetched from the origin (default: path + query) */
  keyOf?: (url: URL) => string;
  /** headers added to every response (e.g. `x-cdn`), over the edge's own CORS headers */
  headers?: Record<string, string>;
  /** called for every GET before it is answered (e.g. a request log that follows the response) */
  onRequest?: (req: IncomingMessage, res: ServerResponse, url: URL) => void;
  /** takes over the delivery of the requests it wants (see EdgeShaper) */
  shaper?: EdgeShaper;
  /**
   * push the stats to the controller: POST `${controller}/v1/edges/${id}/stats` every `everyMs` (default 2000);
   * `controller` may be a function read at each report (null: skip this one); `key` is the controller's edge key,
   * sent as `Authorization: Bearer` (a controller answers 401/403 without it, and the report is dropped)
   */
  report?: { controller: string | (() => string | null); everyMs?: number; key?: string };
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

/**
 * Delivery of a response by someone else than the edge: e.g. through a viewer's shaped link (the demo), or a
 * playlist rewritten for the viewer's session. The edge still counts hits, misses and bytes.
 */
export interface EdgeShaper {
  /** does this request's delivery go through `send` (e.g. it names a shaped session)? */
  wants(url: URL): boolean;
  /**
   * Send the object: write status and headers (add content-length for a changed body) and the body to `res`,
   * resolve when done (reject or destroy `res` on failure). `body` is the whole object as the origin sent it.
   */
  send(url: URL, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): Promise<void>;
}

/** The edge's counters (hits, misses, bytes, rented size, evictions, money): the wire schema of its report. */
export type { EdgeCacheStats };

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
  /** the whole body once the fill completes; rejects on origin failure */
  whole(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.error) {
          this.waiting.delete(check);
          reject(this.error);
        } else if (this.done) {
          this.waiting.delete(check);
          resolve(Buffer.concat(this.chunks, this.received));
        }
      };
      this.waiting.add(check);
      check();
    });
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
  let alive = true;
  const s = {
    requests: 0,
    segments: 0,
    hits: 0,
    coalesced: 0,
    misses: 0,
    bytesServed: 0,
    bytesFromOrigin: 0,
    originRequests: 0,
    originErrors: 0,
  };

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
        const r = await fetch(new URL(key, origin), { signal: ctl.signal });
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
    // RFC 9111 §5.2.2: no-store and private forbid a shared cache to store; no-cache forbids reuse without
    // revalidation, which this edge does not do, so it is not stored either; s-maxage overrides max-age (§5.2.2.10)
    if (/(^|[\s,])(no-store|no-cache|private)($|[\s,=])/i.test(cc)) return;
    const maxAge = /(?:^|[\s,])s-maxage=(\d+)/i.exec(cc) ?? /(?:^|[\s,])max-age=(\d+)/i.exec(cc);
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
  const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-edge, x-cache', 'x-edge': id, ...o.headers };
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
    if (!key.startsWith('/')) throw new Error(`edge keyOf must return a path (+ query), got "${key}"`);
    const t = now();
    s.requests++;
    if (!/\.m3u8$/i.test(url.pathname)) s.segments++;
    reply.hijack();
    const res = reply.raw;
    o.onRequest?.(req.raw, res, url);
    const shaped = o.shaper?.wants(url) ? o.shaper : null;
    const entry = tuned.cache.entry(key);
    const stored = bodies.get(key);
    if (entry && stored && tuned.cache.lookup(key, entry.bytes, t)) {
      s.hits++;
      s.bytesServed += stored.body.length;
      tuned.note(key, groupOf(key), stored.body.length, true, t);
      const headers = { ...stored.headers, ...cors, 'x-cache': 'HIT' };
      if (shaped) return void shaped.send(url, res, 200, headers, stored.body).catch(() => res.destroy());
      res.writeHead(200, headers);
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
        const headers = { ...f.headers, ...cors, 'x-cache': joined ? 'COALESCED' : 'MISS' };
        if (shaped) {
          // the whole body first, then the shaper's delivery (a shaped link is far slower than the origin)
          return void f
            .whole()
            .then(
              (body) => {
                s.bytesServed += body.length;
                tuned.note(key, groupOf(key), body.length, joined, now());
                return shaped.send(url, res, f.status, headers, body);
              },
              () => res.destroy(),
            )
            .catch(() => res.destroy());
        }
        res.writeHead(f.status, headers);
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
      alive,
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
  let reporter: ReturnType<typeof setInterval> | null = null;
  if (o.report) {
    const ctl = o.report.controller;
    const { key: reportKey, everyMs = 2000 } = o.report;
    const path = `/v1/edges/${encodeURIComponent(id)}/stats`;
    if (typeof ctl === 'string') new URL(path, ctl); // throws now on a bad URL
    let sending = false;
    reporter = setInterval(() => {
      const base = typeof ctl === 'string' ? ctl : ctl();
      if (sending || !base) return; // one report in flight at a time
      const to = new URL(path, base);
      sending = true;
      fetch(to, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(reportKey ? { authorization: `Bearer ${reportKey}` } : {}) },
        body: JSON.stringify({ ...stats(), reportEveryMs: everyMs }),
        signal: AbortSignal.timeout(5000),
      })
        .then((r) => r.body?.cancel())
        .catch(() => undefined) // a controller down loses a report, never the edge
        .finally(() => (sending = false));
    }, everyMs);
    reporter.unref();
  }
  const stop = () => {
    alive = false;
    if (timer) clearInterval(timer);
    if (reporter) clearInterval(reporter);
  };
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
      if (!alive) return;
      stop();
      app.server.closeAllConnections();
      void app.close();
    },
    close: async () => {
      if (!alive) return;
      stop();
      await app.close();
    },
  };
}
