/**
 * The demo's edges: reference edge caches (src/server/edge/cache-server.ts, pull-through, LRU by default) on
 * loopback in front of the dev server, which plays the origin/CDN. What the demo adds to a plain edge cache:
 * - the cache key drops the per-viewer query — the shaping session (`trace`, `sess`, `rtt`) and CMCD — so
 *   every viewer of an object shares one stored copy and the origin is asked without them (it would
 *   otherwise shape the edge's own fetch through the viewer's link);
 * - a shaper (EdgeShaper): a shaped session's segments go through that viewer's throttled link (the same
 *   link the CDN uses: the viewer's access link is the same whichever pathway serves it), and its playlists
 *   get the session's query on every URI, as the CDN's do;
 * - `X-CDN: <edge id>` on every response, and every response in the demo's request log.
 */
import type { ServerResponse } from 'node:http';
import type { RequestLog } from './request-log.js';
import { startEdgeCache, type EdgeCache, type EdgeShaper } from '../src/server/edge/cache-server.js';
import { rewritePlaylist } from './playlists.js';

/** query parameters that belong to one viewer, not to the object: not part of the cache key, not sent to the origin */
export const VIEWER_PARAMS = ['trace', 'sess', 'rtt', 'CMCD'] as const;

/** The cache key (and origin path) of a request: path + the query without VIEWER_PARAMS, parameters sorted. */
export function demoEdgeKey(url: URL): string {
  const q = new URLSearchParams();
  const kept = [...url.searchParams]
    .filter(([k]) => !(VIEWER_PARAMS as readonly string[]).includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of kept) q.append(k, v);
  const s = q.toString();
  return url.pathname + (s ? `?${s}` : '');
}

/** A viewer session's shaped link, as the dev server keeps them (null: no such trace). */
export type LinkFor = (
  trace: string,
  sess: string,
  rtt: string | null,
) => { send(res: ServerResponse, body: Buffer): Promise<void> } | null;

/** The demo's shaper: shaped sessions (a valid `trace` + `sess`) get their link and their playlist query. */
export function demoShaper(linkFor: LinkFor): EdgeShaper {
  const session = (url: URL) => {
    const trace = url.searchParams.get('trace'),
      sess = url.searchParams.get('sess');
    return trace && sess && /^[\w-]{4,64}$/.test(sess) ? { trace, sess, rtt: url.searchParams.get('rtt') } : null;
  };
  return {
    wants: (url) => session(url) !== null,
    async send(url, res, status, headers, body) {
      const s = session(url)!;
      if (/\.m3u8$/i.test(url.pathname) && status === 200) {
        const q = new URLSearchParams({ trace: s.trace, sess: s.sess });
        if (s.rtt) q.set('rtt', s.rtt);
        const text = Buffer.from(rewritePlaylist(body.toString('utf8'), q.toString()));
        res.writeHead(status, { ...headers, 'content-length': String(text.length) });
        res.end(text);
        return;
      }
      const link = status === 200 ? linkFor(s.trace, s.sess, s.rtt) : null;
      res.writeHead(status, headers);
      if (link) await link.send(res, body);
      else res.end(body);
    },
  };
}

export interface DemoEdgeOptions {
  id: string;
  /** the dev server's URL (the origin) */
  origin: string;
  linkFor: LinkFor;
  /** the controller the edge reports its cache stats to, or a function read at each report (default: none) */
  controller?: string | (() => string | null);
  /** rented size, bytes (default 2 GB: the demo's streams fit) */
  capacityBytes?: number;
  policy?: string;
  /** ms between reports (default 2000) */
  reportEveryMs?: number;
  /** the controller's edge key (its `edgeKey`), sent with every report */
  reportKey?: string;
  /** records every response (bytes, timing) under this edge's id */
  log?: RequestLog;
}

/** Start one demo edge: an EdgeCache with the demo's key and shaper, reporting to the controller. */
export function startDemoEdge(o: DemoEdgeOptions): Promise<EdgeCache> {
  return startEdgeCache({
    id: o.id,
    origin: o.origin,
    capacityBytes: o.capacityBytes ?? 2e9,
    policy: o.policy ?? 'lru',
    keyOf: demoEdgeKey,
    // X-CDN names the delivery network that served a response (Mux's convention; the SDK's request metrics read it)
    headers: { 'x-cdn': o.id, 'access-control-expose-headers': 'x-cdn, x-edge, x-cache' },
    ...(o.log ? { onRequest: (req, res, url) => o.log!.track(o.id, req, res, url) } : {}),
    shaper: demoShaper(o.linkFor),
    ...(o.controller ? { report: { controller: o.controller, everyMs: o.reportEveryMs ?? 2000, key: o.reportKey } } : {}),
  });
}
