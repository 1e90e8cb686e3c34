/**
 * Loopback file servers for the demo CDNs (cdns.ts): small HTTP servers that serve the same stream files as
 * the dev server under the same paths, plus `/probe` for the client RTT probes. Streams made while they play (the
 * LL-HLS live channel: blocking playlist reloads, parts) are pulled from the origin per request, as a CDN in front
 * of a live origin does (`OriginPull`). Each counts what it served
 * and can be killed mid-stream (tests). (The demo edges are real pull-through caches: edges.ts.)
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { limitPlaylist, playlistQuery, rewritePlaylist } from './playlists.js';
import type { RequestLog } from './request-log.js';

export interface FileServer {
  id: string;
  url: string;
  port: number;
  stats(): { requests: number; segments: number; alive: boolean };
  /** stop now: close the listener and cut every open connection */
  kill(): void;
  close(): Promise<void>;
}

/** query parameters of one viewer's shaped session: never sent to the origin on a pull */
const VIEWER_QUERY = ['trace', 'sess', 'rtt', 'limit'];

/**
 * Streams a file server does not hold but pulls from its origin on every request (path and LL-HLS query as asked, so
 * a blocking playlist reload waits at the origin; the viewer's shaping query, `VIEWER_QUERY`, stays at the CDN):
 * stream name → origin, resolved per request (null while the origin is not listening yet: 503).
 */
export interface OriginPull {
  streams: readonly string[];
  origin: () => string | null;
}

const MIME: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.json': 'application/json',
  '.csv': 'text/csv',
};

/**
 * @param shaper sends a segment body (e.g. through the viewer's shaped link of the dev server); default: at once
 * @param log records every response (bytes, timing) under this edge's id
 * @param pull streams pulled from the origin instead of read from `roots` (the live channel)
 */
export async function startFileServer(
  id: string,
  roots: Record<string, string>,
  port = 0,
  shaper?: (url: URL, res: ServerResponse, body: Buffer) => Promise<void>,
  log?: RequestLog,
  pull?: OriginPull,
): Promise<FileServer> {
  let requests = 0,
    segments = 0,
    alive = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://edge');
    log?.track(id, req, res, url);
    // X-CDN names the delivery network that served a response (Mux's convention; the SDK's request metrics read it)
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-cdn, x-edge',
      'cache-control': 'no-store',
      'x-edge': id,
      'x-cdn': id,
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-headers': '*' });
      return res.end();
    }
    if (url.pathname === '/probe') {
      res.writeHead(200, { ...cors, 'content-type': 'text/plain' });
      return res.end('ok');
    }
    const m = /^\/streams\/(\w+)\/(.+)$/.exec(url.pathname);
    if (m && pull?.streams.includes(m[1]) && req.method === 'GET') {
      const origin = pull.origin();
      if (!origin) {
        res.writeHead(503, { ...cors, 'retry-after': '1' });
        return res.end('origin not ready');
      }
      // the viewer's shaping query (trace, sess, rtt, limit) stays here: the origin serves the CDN, not the viewer,
      // so a live viewer on a CDN pays the CDN's link only, as a VOD viewer does (the LL-HLS _HLS_* query goes on)
      const q = new URLSearchParams(url.search);
      for (const k of VIEWER_QUERY) q.delete(k);
      const search = q.toString() ? `?${q}` : '';
      void (async () => {
        const up = await fetch(origin + url.pathname + search);
        const body = Buffer.from(await up.arrayBuffer());
        const type = up.headers.get('content-type') ?? MIME[extname(url.pathname)] ?? 'application/octet-stream';
        res.writeHead(up.status, { ...cors, 'content-type': type, 'content-length': String(body.length) });
        const media = up.ok && !url.pathname.endsWith('.m3u8');
        if (media) segments++;
        if (media && shaper) return shaper(url, res, body);
        res.end(body);
      })().catch(() => {
        if (!res.headersSent) res.writeHead(502, cors);
        res.end();
      });
      return;
    }
    const base = m ? roots[m[1]] : undefined;
    if (!m || !base) {
      res.writeHead(404, cors);
      return res.end('not found');
    }
    const file = normalize(join(base, m[2]));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, cors);
      return res.end('not found');
    }
    if (file.endsWith('.m3u8')) {
      // a shaped session's query (trace, sess, rtt, limit) goes on to every URI, as the CDN's playlists do:
      // the viewer's link is the same whichever pathway serves it
      let text = readFileSync(file, 'utf8');
      const pq = playlistQuery(url.searchParams);
      if ('error' in pq) {
        res.writeHead(400, { ...cors, 'content-type': 'text/plain; charset=utf-8' });
        return res.end(pq.error);
      }
      if (pq.limit) text = limitPlaylist(text, pq.limit);
      const q = new URLSearchParams();
      for (const k of ['trace', 'sess', 'rtt', 'limit']) if (url.searchParams.get(k)) q.set(k, url.searchParams.get(k)!);
      if ([...q.keys()].length) text = rewritePlaylist(text, q.toString());
      const body = Buffer.from(text);
      res.writeHead(200, { ...cors, 'content-type': MIME['.m3u8'], 'content-length': String(body.length) });
      return res.end(body);
    }
    res.writeHead(200, {
      ...cors,
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': String(statSync(file).size),
    });
    if (file.endsWith('.m4s')) {
      segments++;
      if (shaper) return void shaper(url, res, readFileSync(file)).catch(() => res.destroy());
    }
    createReadStream(file).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
  const p = (server.address() as { port: number }).port;
  return {
    id,
    url: `http://127.0.0.1:${p}`,
    port: p,
    stats: () => ({ requests, segments, alive }),
    kill() {
      if (!alive) return;
      alive = false;
      server.close();
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((res) => {
        if (!alive) return res();
        alive = false;
        server.close(() => res());
        for (const s of sockets) s.destroy();
      }),
  };
}
