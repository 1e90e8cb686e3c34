/**
 * The demo: `npm start`.
 *
 *   http://127.0.0.1:8080/            player dashboard (hls.js + edgeplay)
 *   /streams/vod/master.m3u8          the on-demand ladder (generated once by the bundled ffmpeg)
 *   /streams/live/master.m3u8         the live ladder, encoded in real time (sliding playlist)
 *   ?trace=NAME                       on a playlist: shape this session's downloads by a throughput
 *                                     trace (built-in: fast, 3g, 4g, varying, stall, collapse, outage; or any file of
 *                                     $EDGEPLAY_DATA/abr/traces/{test,train}, or of --traces DIR)
 *   ?limit=N                          on a VOD playlist: only its first N segments (short test streams)
 *   /api/traces, /api/sessions/:id    trace list, and what a shaped session's link does now
 *   /ops.html                         the operator page: QoE, scores, renditions and requests per CDN / edge, live from
 *                                     the controller's GET /v1/metrics
 * Every stream response carries `X-CDN: cdn` (the edges: their id), and the server and the edges log each response's
 * bytes and timing (request-log.ts; `/__harness/requests?sess=ID` for the tests).
 *
 * It also starts the edge controller (src/server) on :8081 with its SQLite store under ./data, and beside it the
 * inference service for offloaded viewport prediction (POST /v1/tasks, src/server/tasks.ts).
 * Options: --port N, --controller-port N, --no-live, --traces DIR, --data DIR (`npm start -- --help`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { PriorJson } from '../src/viewport/prior.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { build } from 'esbuild';
import { fromCmcdQuery } from '@svta/cml-cmcd';
import { BUILTIN_TRACES, parseTrace, traceMeanMbps, type Trace } from '../src/core/trace.js';
import { randomId } from '../src/core/ids.js';
import { startServer, type RunningServer } from '../src/server/main.js';
import { MemoryTelemetryStore } from '../src/server/store.js';
import { TaskPool } from '../src/server/task-pool.js';
import { TaskService, viewportExecutor, type Executor } from '../src/server/tasks.js';
import { cacheDir, ensureVod, LIVE_SEGMENT_S, startLive, type LiveStream } from './streams.js';
import { ensureVr } from './vr-stream.js';
import { startDemoEdge } from './edges.js';
import type { EdgeCache } from '../src/server/edge/cache-server.js';
import { startDemoCdns, type DemoCdn, type DemoCdnSpec } from './cdns.js';
import { CdnScheduler, loadCdnPolicy, type CdnPolicyName } from '../src/server/cdns.js';
import type { EdgeConfig } from '../src/server/edges.js';
import { ShapedLink } from './shaper.js';
import { envNum, InputError, num, optNum, PORT, runCli } from '../src/train/cli/args.js';
import { filterVariants, limitPlaylist, playlistQuery, rewritePlaylist } from './playlists.js';
import { RequestLog } from './request-log.js';

const ROOT = resolve(import.meta.dirname, '..');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.map': 'application/json',
  '.csv': 'text/csv',
  '.png': 'image/png',
};

export interface DemoServerOptions {
  port?: number;
  controllerPort?: number;
  /** start the edge controller in-process (default true) */
  controller?: boolean;
  live?: boolean;
  dataDir?: string;
  tracesDirs?: string[];
  /** test-only routes under /__harness (stop/start the controller, read the store, kill edges) */
  harness?: boolean;
  /** RTT the dev server ("CDN") shows to probes, ms (default 300) */
  cdnRttMs?: number;
  /** ms between the edges' cache reports to the controller (default 2000) */
  edgeReportMs?: number;
  /** edge caches on loopback the controller assigns viewers to (default: edge-1 mid, edge-2 thin) */
  edges?: Array<{ id: string; setting: 'fat' | 'mid' | 'thin' }>;
  /**
   * several CDNs (demo/cdns.ts: loopback servers whose capacity their transfers share) scheduled by the
   * controller (src/server/cdns.ts); default none (the dev server is the one CDN)
   */
  cdns?: DemoCdnSpec[];
  /** the CDN scheduler's step, ms (default 10 000: faster than LTS's minute, to watch the shares move) */
  cdnStepMs?: number;
  /** the CDN share policy (default 'lts' with models/cdn-lts/mechanistic-ABC.json, 'd-ucb' when that file is absent) */
  cdnPolicy?: CdnPolicyName;
  /**
   * a second controller for the fleet test (harness routes under /__harness/fleet): sessions and leases in this
   * Redis, a fixed token secret (its tokens survive its restart), telemetry into the demo's store
   */
  fleet?: DemoFleetRedis;
  log?: (s: string) => void;
}

/** The Redis a fleet controller keeps its sessions in, and how the harness stops and starts it (test/services.ts startRedis). */
export interface DemoFleetRedis {
  /** redis://host:port (append-only, fsync always: a restart loses nothing acknowledged) */
  url: string;
  /** kill redis-server (SIGKILL) */
  kill(): Promise<void>;
  /** start it again on the same port and directory; resolves once it answers */
  start(): Promise<void>;
}

export interface DemoServer {
  url: string;
  port: number;
  controller: RunningServer | null;
  controllerUrl: string;
  /** the edge caches (src/server/edge/cache-server.ts) in front of the dev server */
  edges: EdgeCache[];
  /** the demo's CDNs (none unless `cdns` was given) */
  cdns: DemoCdn[];
  live: LiveStream | null;
  /** every response of the dev server and the edges: bytes and timing (request-log.ts) */
  requests: RequestLog;
  close(): Promise<void>;
}

const viewportDataDir = () => join(dataRoot(), 'viewport');

function dataRoot(): string {
  return resolve(process.env.EDGEPLAY_DATA ?? join(ROOT, '..', 'shared', 'data'));
}

export function loadTrace(name: string, extraDirs: string[] = []): Trace | null {
  if (BUILTIN_TRACES[name]) return BUILTIN_TRACES[name];
  if (!/^[\w.\-]+$/.test(name)) return null;
  const dirs = [...extraDirs, join(dataRoot(), 'abr', 'traces', 'test'), join(dataRoot(), 'abr', 'traces', 'train')];
  for (const d of dirs) {
    const f = join(d, name);
    if (existsSync(f) && statSync(f).isFile()) return parseTrace(readFileSync(f, 'utf8'), name);
  }
  return null;
}

function listTraces(extraDirs: string[]): Array<{ name: string; source: string; mean_mbps: number }> {
  const out = Object.values(BUILTIN_TRACES).map((t) => ({ name: t.name, source: 'builtin', mean_mbps: +traceMeanMbps(t).toFixed(3) }));
  for (const [d, source] of [
    ...extraDirs.map((d) => [d, d] as const),
    [join(dataRoot(), 'abr', 'traces', 'test'), 'pensieve-test'] as const,
  ]) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort().slice(0, 400)) out.push({ name: f, source, mean_mbps: NaN });
  }
  return out;
}

async function buildBundles(log: (s: string) => void): Promise<string> {
  const out = join(cacheDir(), 'demo-build');
  const t0 = Date.now();
  await build({
    entryPoints: {
      app: join(ROOT, 'demo', 'app.ts'),
      'bench-abr': join(ROOT, 'demo', 'bench-abr.ts'),
      'bench-abr-live': join(ROOT, 'demo', 'bench-abr-live.ts'),
      vr: join(ROOT, 'demo', 'vr.ts'),
      ops: join(ROOT, 'demo', 'ops.ts'),
    },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    outdir: out,
    logLevel: 'silent',
  });
  log(`[demo] bundled the dashboard in ${Date.now() - t0} ms`);
  return out;
}

export async function startDemoServer(opts: DemoServerOptions = {}): Promise<DemoServer> {
  const log = opts.log ?? console.log;
  const vodDir = await ensureVod(log);
  const vrDir = await ensureVr(log);
  const bundleDir = await buildBundles(log);
  const live = opts.live === false ? null : startLive(log);
  const tracesDirs = opts.tracesDirs ?? [];
  const links = new Map<string, ShapedLink>();
  const requestLog = new RequestLog();
  const gc = setInterval(() => {
    for (const [id, l] of links) if (Date.now() - l.lastUsed > 10 * 60 * 1000) links.delete(id);
  }, 60000);

  let controller: RunningServer | null = null;
  const controllerPort = opts.controllerPort ?? envNum('EDGEPLAY_CONTROLLER_PORT', process.env, PORT) ?? 8081;
  const dataDir = opts.dataDir ?? join(ROOT, 'data');
  let sharedStore: RunningServer['store'] | undefined;
  /** the shaped link of a viewer session (one per session: CDN and edges share the viewer's access link) */
  const linkFor = (traceName: string, sess: string, rttParam: string | null): ShapedLink | null => {
    const trace = loadTrace(traceName, tracesDirs);
    if (!trace) return null;
    let link = links.get(sess);
    if (!link || link.trace.name !== trace.name) {
      const rtt = Number(rttParam ?? 80);
      link = new ShapedLink(trace, Number.isFinite(rtt) && rtt >= 0 && rtt <= 2000 ? rtt : 80);
      links.set(sess, link);
    }
    return link;
  };

  const edgeSpecs = opts.edges ?? [
    { id: 'edge-1', setting: 'mid' },
    { id: 'edge-2', setting: 'thin' },
  ];
  // the edge caches start once the dev server (their origin) listens, the controller once they do
  const edges: EdgeCache[] = [];
  let edgeConfigs: EdgeConfig[] = [];
  let controllerUrl = `http://127.0.0.1:${controllerPort}`;
  // the key the demo's edges present when they report to the controller (one per demo process)
  const edgeKey = process.env.EDGEPLAY_EDGE_KEY ?? randomBytes(24).toString('base64url');
  // the live channel is made while it plays: the CDNs pull it from the dev server (their origin) per request
  let originUrl: string | null = null;
  const livePull = { streams: live ? ['live'] : [], origin: () => originUrl };
  const cdnServers = opts.cdns?.length ? await startDemoCdns(opts.cdns, { vod: vodDir, vr: vrDir }, livePull) : [];
  const cdnConfigs = cdnServers.map((c) => ({ id: c.id, url: c.url }));
  const ltsModel = 'models/cdn-lts/mechanistic-ABC.json';
  // the harness's multi-CDN lab (/__harness/cdn-controller/start): its CDNs and controller, stopped with the demo
  const LAB_CDNS: DemoCdnSpec[] = [
    { id: 'cdn-a', capacityMbps: 60 },
    { id: 'cdn-b', capacityMbps: 30 },
    { id: 'cdn-c', capacityMbps: 15 },
  ];
  let cdnLab: { servers: DemoCdn[]; controller: RunningServer } | null = null;
  const stopCdnLab = async () => {
    const lab = cdnLab;
    cdnLab = null;
    if (lab) await Promise.all([lab.controller.close(), ...lab.servers.map((c) => c.close())]);
  };
  const cdnPolicyName: CdnPolicyName = opts.cdnPolicy ?? (existsSync(ltsModel) ? 'lts' : 'd-ucb');
  // the edge's inference service for offloaded viewport prediction (POST /v1/tasks), beside the controller: the
  // model loads once and survives controller restarts (the harness's /controller/stop is the edge going away)
  // on two worker_threads (src/server/task-pool.ts); the model in this process when the threads cannot start
  // the 360 stream's attention prior by its content id ('vr', the viewer's default): with it the edge runs the prior
  // models, the edge-only large one when it is trained and the device sends 5 s of history (src/server/tasks.ts)
  const vrPriors = (): Record<string, PriorJson> => {
    const f = join(vrDir, 'prior.json');
    return existsSync(f) ? { vr: JSON.parse(readFileSync(f, 'utf8')) as PriorJson } : {};
  };
  let viewportExec: Executor | null | undefined;
  let taskPool: TaskPool | null = null;
  const startController = async () => {
    if (viewportExec === undefined)
      viewportExec = await new TaskPool({ size: 2, modelsDir: join(ROOT, 'models'), priors: vrPriors() })
        .ready()
        .then((p) => (taskPool = p).executor())
        .catch(async (e) => {
          log(`[demo] task threads off (${(e as Error).message}): the model runs in this process`);
          return viewportExecutor(join(ROOT, 'models'), new Map(Object.entries(vrPriors())));
        })
        .catch((e) => {
          log(`[demo] offloaded inference off: ${(e as Error).message}`);
          return null;
        });
    const tasks = viewportExec ? new TaskService({ slots: 2, executors: { viewport: viewportExec } }) : undefined;
    const cdns = cdnConfigs.length
      ? new CdnScheduler({
          cdns: cdnConfigs,
          policy: loadCdnPolicy(
            cdnPolicyName,
            cdnConfigs.map((c) => c.id),
            ltsModel,
          ),
          stepMs: opts.cdnStepMs ?? 10000,
        })
      : undefined;
    controller = await startServer({ port: controllerPort, dataDir, store: sharedStore, edges: edgeConfigs, tasks, cdns, edgeKey });
    sharedStore = controller.store;
    controllerUrl = `http://127.0.0.1:${controller.port}`;
    return controller;
  };

  // the fleet controller (harness only): Redis-backed sessions, a fixed secret, 1-s steering TTL so a test sees
  // reloads across each outage without waiting; it keeps its port across restarts (the viewers' steering URIs)
  let fleetCtl: RunningServer | null = null;
  let fleetStore: { close(): Promise<void> } | null = null;
  let fleetPort = 0;
  let fleetRedisUp = true;
  const fleetSecret = randomId();
  const startFleetController = async () => {
    const { RedisAssignmentStore } = await import('../src/server/redis-store.js');
    const assignment = await RedisAssignmentStore.connect(opts.fleet!.url, edgeConfigs, `edgeplay-fleet-${fleetSecret.slice(0, 8)}`);
    fleetCtl = await startServer({
      port: fleetPort,
      dataDir,
      store: sharedStore,
      edges: edgeConfigs,
      assignment,
      redis: assignment.client,
      secret: fleetSecret,
      steeringTtlS: 1,
    }).catch(async (e) => {
      await assignment.close();
      throw e;
    });
    fleetStore = assignment;
    fleetPort = fleetCtl.port;
    sharedStore ??= fleetCtl.store;
  };
  const stopFleetController = async () => {
    if (fleetCtl) await fleetCtl.close();
    if (fleetStore) await fleetStore.close();
    fleetCtl = null;
    fleetStore = null;
  };

  const send = (
    res: ServerResponse,
    code: number,
    body: string | Buffer,
    type = 'text/plain; charset=utf-8',
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(code, {
      'content-type': type,
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };
  const json = (res: ServerResponse, code: number, body: unknown) => send(res, code, JSON.stringify(body), 'application/json');

  const serveStatic = (res: ServerResponse, base: string, rel: string) => {
    const file = normalize(join(base, rel));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, `not found: ${rel}`);
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'cache-control': 'no-cache',
      // the ABR bench page is cross-origin isolated (COOP + COEP), so the decision worker can share an answer slot
      // with it (SharedArrayBuffer); its scripts and workers carry COEP too
      ...(rel === 'bench-abr.html' ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
      ...(extname(file) === '.js' || extname(file) === '.mjs' ? { 'cross-origin-embedder-policy': 'require-corp' } : {}),
    });
    createReadStream(file).pipe(res);
  };

  // CMCD seen on stream requests, by session id (what a CDN log would hold; read by the tests)
  const cmcdLog = new Map<string, { requests: number; cids: Set<string>; keys: Set<string>; byCid: Record<string, number> }>();
  const noteCmcd = (url: URL) => {
    if (!url.searchParams.get('CMCD')) return;
    let c: Record<string, unknown>;
    try {
      c = fromCmcdQuery(url.searchParams) as Record<string, unknown>;
    } catch {
      return; // a malformed CMCD query is the player's bug; the request is still served
    }
    const sid = typeof c.sid === 'string' ? c.sid : null;
    if (!sid) return;
    let e = cmcdLog.get(sid);
    if (!e) {
      if (cmcdLog.size > 1000) cmcdLog.delete(cmcdLog.keys().next().value!);
      cmcdLog.set(sid, (e = { requests: 0, cids: new Set(), keys: new Set(), byCid: {} }));
    }
    e.requests++;
    if (typeof c.cid === 'string') e.cids.add(c.cid);
    const cidKey = typeof c.cid === 'string' ? c.cid : '';
    e.byCid[cidKey] = (e.byCid[cidKey] ?? 0) + 1;
    for (const k of Object.keys(c)) e.keys.add(k);
  };

  const serveStream = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    noteCmcd(url);
    requestLog.track('cdn', req, res, url);
    const [, , kind, ...rest] = url.pathname.split('/'); // /streams/<vod|live|vr>/...
    const base = kind === 'vod' ? vodDir : kind === 'vr' ? vrDir : kind === 'live' && live ? live.dir : null;
    if (!base) return send(res, 404, `no stream ${kind}`);
    const rel = rest.join('/');
    // LL-HLS blocking playlist reload (RFC 8216bis §6.2.5.2): hold the request until the asked part is published
    const rung = kind === 'live' && live ? /^v(\d+)\/index\.m3u8$/.exec(rel) : null;
    const msn = url.searchParams.get('_HLS_msn');
    if (rung && live?.rungs[Number(rung[1])] && msn !== null) {
      const part = url.searchParams.get('_HLS_part');
      if (!/^\d+$/.test(msn) || (part !== null && !/^\d+$/.test(part))) return send(res, 400, '_HLS_msn and _HLS_part are integers');
      try {
        await live.rungs[Number(rung[1])].waitFor(Number(msn), part === null ? undefined : Number(part), 3 * LIVE_SEGMENT_S * 1000);
      } catch (e) {
        return send(res, 400, (e as Error).message);
      }
    }
    // a hinted part (EXT-X-PRELOAD-HINT) is answered once it is published (§6.2.5.1)
    const hinted = kind === 'live' && live ? /^v(\d+)\/part_(\d+)_(\d+)\.m4s$/.exec(rel) : null;
    if (hinted && live?.rungs[Number(hinted[1])] && !existsSync(normalize(join(base, rel)))) {
      try {
        await live.rungs[Number(hinted[1])].waitFor(Number(hinted[2]), Number(hinted[3]), 3 * LIVE_SEGMENT_S * 1000);
      } catch (e) {
        return send(res, 404, (e as Error).message);
      }
    }
    const file = normalize(join(base, rel));
    if (!file.startsWith(base) || !existsSync(file)) return send(res, 404, `not found: ${rel}`);
    const traceName = url.searchParams.get('trace');
    let sess = url.searchParams.get('sess');
    let link: ShapedLink | undefined;
    if (traceName) {
      if (!sess || !/^[\w-]{4,64}$/.test(sess)) sess = randomId(12);
      link = linkFor(traceName, sess, url.searchParams.get('rtt')) ?? undefined;
      if (!link) return send(res, 400, `unknown trace "${traceName}" (see /api/traces)`);
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      return send(res, 404, `gone: ${rel}`); // live segment deleted between check and read
    }
    const ext = extname(file);
    const headers: Record<string, string> = {
      'content-type': MIME[ext] ?? 'application/octet-stream',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-edgeplay-session, x-cdn',
      'cross-origin-resource-policy': 'cross-origin',
      'cache-control': ext === '.m3u8' && kind === 'live' ? 'no-cache' : 'max-age=60',
      'x-cdn': 'cdn',
    };
    if (ext === '.m3u8') {
      let text = body.toString('utf8');
      if (kind === 'live' && live) text = live.meta.annotate(text);
      const pq = playlistQuery(url.searchParams);
      if ('error' in pq) return send(res, 400, pq.error);
      const limit = pq.limit ?? 0;
      if (limit > 0 && kind === 'vod') text = limitPlaylist(text, limit);
      if (pq.variants) text = filterVariants(text, pq.variants);
      const p = new URLSearchParams();
      if (traceName && sess) {
        p.set('trace', traceName);
        p.set('sess', sess);
        if (url.searchParams.get('rtt')) p.set('rtt', url.searchParams.get('rtt')!);
        headers['x-edgeplay-session'] = sess;
      }
      if (limit > 0) p.set('limit', String(limit));
      if ([...p.keys()].length) text = rewritePlaylist(text, p.toString());
      body = Buffer.from(text);
    }
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    if (link && ext !== '.m3u8') await link.send(res, body);
    else res.end(body);
  };

  const harness = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const p = url.pathname.replace('/__harness', '');
    // a slow collector: answers a telemetry POST after `ms`, by forwarding it to the controller
    const slow = /^\/slow\/(\d{1,5})\/v1\/telemetry$/.exec(p);
    if (slow && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await new Promise((r) => setTimeout(r, Number(slow[1])));
      const r = await fetch(`${controllerUrl}/v1/telemetry`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: Buffer.concat(chunks),
      });
      return send(res, r.status, Buffer.from(await r.arrayBuffer()), 'application/json');
    }
    if (p === '/controller/stop' && req.method === 'POST') {
      if (controller) await controller.close();
      controller = null;
      return json(res, 200, { running: false });
    }
    if (p === '/controller/start' && req.method === 'POST') {
      if (!controller) await startController();
      return json(res, 200, { running: true });
    }
    if (p === '/fleet' || p.startsWith('/fleet/')) {
      if (!opts.fleet) return json(res, 200, { available: false, reason: 'no redis-server for the fleet controller (REDIS_SERVER)' });
      const ok = () => json(res, 200, { available: true, controller: fleetCtl?.url ?? null, redis: fleetRedisUp });
      if (p === '/fleet') return ok();
      if (req.method !== 'POST') return send(res, 405, 'POST');
      if (p === '/fleet/controller/start') {
        if (!fleetCtl) await startFleetController();
        return ok();
      }
      if (p === '/fleet/controller/stop') {
        await stopFleetController();
        return ok();
      }
      if (p === '/fleet/redis/stop') {
        if (fleetRedisUp) await opts.fleet.kill();
        fleetRedisUp = false;
        return ok();
      }
      if (p === '/fleet/redis/start') {
        if (!fleetRedisUp) await opts.fleet.start();
        fleetRedisUp = true;
        return ok();
      }
      return send(res, 404, 'no such fleet route');
    }
    // a second controller scheduling three fresh loopback CDNs (no edges: every viewer is on a CDN), for the
    // multi-CDN browser spec: ?step=ms (default 1000), ?policy=lts|equal|d-ucb (default the demo's)
    if (p === '/cdn-controller/start' && req.method === 'POST') {
      await stopCdnLab();
      const servers = await startDemoCdns(LAB_CDNS, { vod: vodDir, vr: vrDir }, livePull);
      const cfg = servers.map((c) => ({ id: c.id, url: c.url }));
      const policy = (url.searchParams.get('policy') ?? cdnPolicyName) as CdnPolicyName;
      const scheduler = new CdnScheduler({
        cdns: cfg,
        policy: loadCdnPolicy(
          policy,
          cfg.map((c) => c.id),
          ltsModel,
        ),
        stepMs: Number(url.searchParams.get('step') ?? 1000),
      });
      const ctl = await startServer({ port: 0, store: new MemoryTelemetryStore(), edges: [], cdns: scheduler, logger: false });
      cdnLab = { servers, controller: ctl };
      return json(res, 200, { controller: ctl.url, cdns: cfg, policy });
    }
    if (p === '/cdn-controller/stop' && req.method === 'POST') {
      await stopCdnLab();
      return json(res, 200, { running: false });
    }
    if (p === '/cdns')
      return json(
        res,
        200,
        (cdnLab?.servers ?? cdnServers).map((c) => ({ id: c.id, url: c.url, capacity_mbps: c.link.capacityBps / 1e6, ...c.stats() })),
      );
    const ck = /^\/cdns\/([\w-]+)\/(kill|capacity)$/.exec(p);
    if (ck && req.method === 'POST') {
      const c = (cdnLab?.servers ?? cdnServers).find((x) => x.id === ck[1]);
      if (!c) return send(res, 404, 'no such CDN');
      if (ck[2] === 'kill') c.kill();
      else {
        const mbps = Number(url.searchParams.get('mbps'));
        if (!(mbps > 0)) return send(res, 400, 'capacity: ?mbps must be a number > 0');
        c.link.capacityBps = mbps * 1e6;
      }
      return json(res, 200, { id: c.id, alive: c.stats().alive, capacity_mbps: c.link.capacityBps / 1e6 });
    }
    if (p === '/stats') return json(res, 200, sharedStore ? await sharedStore.stats() : null);
    // the live encoder's clock: its spawn (the playlists' program dates count from it) and its first part's arrival
    if (p === '/live/clock') return json(res, 200, live ? live.clock : null);
    if (p === '/edges')
      return json(
        res,
        200,
        edges.map((e) => ({ url: e.url, ...e.stats() })),
      );
    const ek = /^\/edges\/([\w-]+)\/kill$/.exec(p);
    if (ek && req.method === 'POST') {
      const e = edges.find((x) => x.id === ek[1]);
      if (!e) return send(res, 404, 'no such edge');
      e.kill();
      return json(res, 200, { killed: e.id });
    }
    const cm = /^\/cmcd\/([\w-]+)$/.exec(p);
    if (cm) {
      const e = cmcdLog.get(cm[1]);
      return json(
        res,
        200,
        e
          ? { requests: e.requests, cids: [...e.cids], keys: [...e.keys].sort(), by_cid: e.byCid }
          : { requests: 0, cids: [], keys: [], by_cid: {} },
      );
    }
    // what the dev server and the edges answered for a shaped session (or all, without sess): bytes and timing
    if (p === '/requests') return json(res, 200, requestLog.query(url.searchParams.get('sess')));
    const m = /^\/views\/([\w-]+)\/events$/.exec(p);
    if (m) return json(res, 200, sharedStore ? await sharedStore.viewEvents(m[1]) : []);
    return send(res, 404, 'no such harness route');
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'OPTIONS')
      return send(res, 204, '', 'text/plain', { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': '*' });
    (async () => {
      if (path.startsWith('/streams/')) return serveStream(req, res, url);
      if (path === '/' || path === '/index.html') return serveStatic(res, join(ROOT, 'demo'), 'index.html');
      if (path.startsWith('/build/')) return serveStatic(res, bundleDir, path.slice('/build/'.length));
      if (path.startsWith('/dist/')) return serveStatic(res, join(ROOT, 'dist'), path.slice('/dist/'.length));
      // hls.js' transmuxer worker: the ESM build of hls.js transmuxes on the main thread unless
      // `workerPath` points at this file (see README, "Keep hls.js' transmuxing off the main thread")
      if (path === '/vendor/hls.worker.js') return serveStatic(res, join(ROOT, 'node_modules', 'hls.js', 'dist'), 'hls.worker.js');
      if (path.startsWith('/models/')) return serveStatic(res, join(ROOT, 'models'), path.slice('/models/'.length));
      if (path === '/favicon.ico') return send(res, 204, '');
      if (path === '/api/traces') return json(res, 200, listTraces(tracesDirs));
      // head traces of the shared viewport data (when present) for the 360 viewer's replay mode
      const vd = /^\/viewport-data\/([\w-]+)\/([\w.-]+\.csv)$/.exec(path);
      if (vd) return serveStatic(res, join(viewportDataDir(), vd[1]), vd[2]);
      if (path === '/api/config')
        return json(res, 200, {
          controller: controllerUrl,
          live: !!live,
          cdnProbe: '/probe',
          edges: edges.map((e) => ({ id: e.id, url: e.url, probe: `${e.url}/probe` })),
        });
      // the demo's CDN is "far" (ELCast: end–CDN latency 0.1–0.7 s) while the edges sit next to the
      // viewer: its probe answers after cdnRttMs, so the client measures what a real CDN would show
      if (path === '/probe') return void setTimeout(() => send(res, 200, 'ok'), opts.cdnRttMs ?? 300);
      const sm = /^\/api\/sessions\/([\w-]+)$/.exec(path);
      if (sm) {
        const l = links.get(sm[1]);
        return l
          ? json(res, 200, { trace: l.trace.name, link_mbps: l.nowMbps(), bytes: l.bytesSent })
          : json(res, 404, { error: 'no such session' });
      }
      if (path.startsWith('/__harness/') && opts.harness) return harness(req, res, url);
      if (/^\/[\w-]+\.(html|css)$/.test(path)) return serveStatic(res, join(ROOT, 'demo'), path.slice(1));
      return send(res, 404, `not found: ${path}`);
    })().catch((e) => {
      log(`[demo] ${req.method} ${path} failed: ${e?.stack ?? e}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  const port = await new Promise<number>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? envNum('EDGEPLAY_DEMO_PORT', process.env, PORT) ?? 8080, '127.0.0.1', () =>
      res((server.address() as { port: number }).port),
    );
  });
  originUrl = `http://127.0.0.1:${port}`;
  for (const e of edgeSpecs)
    edges.push(
      await startDemoEdge({
        id: e.id,
        origin: `http://127.0.0.1:${port}`,
        linkFor,
        // counters to the controller while it runs (the harness may stop it)
        controller: () => (controller ? controllerUrl : null),
        reportEveryMs: opts.edgeReportMs,
        reportKey: edgeKey,
        log: requestLog,
      }),
    );
  edgeConfigs = edgeSpecs.map((e, i) => ({ id: e.id, url: edges[i].url, setting: e.setting, cdnLatencyS: 0.03 }));
  if (opts.controller !== false) await startController();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get controller() {
      return controller;
    },
    get controllerUrl() {
      return controllerUrl;
    },
    edges,
    cdns: cdnServers,
    live,
    requests: requestLog,
    async close() {
      clearInterval(gc);
      await Promise.all([...edges, ...cdnServers].map((e) => e.close()).concat(stopCdnLab()));
      live?.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (controller) await controller.close();
      await (taskPool as TaskPool | null)?.close();
      await stopFleetController();
      await sharedStore?.close();
    },
  };
}

const cli = {
  name: 'start',
  summary:
    'The demo: dev server (player dashboard, VOD/live/360 streams, trace-shaped sessions, loopback edges) and the edge\ncontroller with its SQLite store.',
  flags: {
    port: { type: 'string', arg: 'N', help: 'dev server port, 0 for any free one (default: $EDGEPLAY_DEMO_PORT or 8080)' },
    'controller-port': {
      type: 'string',
      arg: 'N',
      help: 'edge controller port, 0 for any free one (default: $EDGEPLAY_CONTROLLER_PORT or 8081)',
    },
    'no-live': { type: 'boolean', help: 'do not start the real-time live encoder' },
    traces: { type: 'string', arg: 'DIR', help: 'another directory of throughput traces for ?trace=NAME' },
    data: { type: 'string', arg: 'DIR', help: "the controller's telemetry store (default: data/ in the repository)" },
    'no-cdns': { type: 'boolean', help: 'no multi-CDN scheduling (by default three loopback CDNs of 60, 30 and 15 Mb/s)' },
    'cdn-step': { type: 'string', arg: 'S', help: "the CDN scheduler's step, seconds (default 10)" },
  },
} as const;

/**
 * Whether something already listens on `port` of `host` (a listen that fails with EADDRINUSE); port 0 never is.
 * The demo asks before it starts its encoders, so a second `npm start` stops at once with one line.
 */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((res, rej) => {
    const probe = createNetServer();
    probe.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? res(true) : rej(e)));
    probe.listen(port, host, () => probe.close(() => res(false)));
  });
}

/** The one line a port in use ends `npm start` with (exit 1): which port, which flag chooses another. */
function portBusy(port: number, flag: string): never {
  console.error(`start: port ${port} on 127.0.0.1 is in use (another npm start?): choose another with ${flag} N`);
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void runCli(cli, async (v) => {
    // every value checked before any work: a bad one exits 2 naming its flag or environment variable
    const port = v.port !== undefined ? num('port', v.port, PORT) : (envNum('EDGEPLAY_DEMO_PORT', process.env, PORT) ?? 8080);
    const controllerPort =
      v['controller-port'] !== undefined
        ? num('controller-port', v['controller-port'], PORT)
        : (envNum('EDGEPLAY_CONTROLLER_PORT', process.env, PORT) ?? 8081);
    if (v.traces !== undefined && !(existsSync(v.traces) && statSync(v.traces).isDirectory()))
      throw new InputError(`--traces: no such directory "${v.traces}"`);
    const cdnStepS = optNum('cdn-step', v['cdn-step'], { min: 0.05 }) ?? 10;
    if (await portInUse(port)) portBusy(port, '--port');
    if (await portInUse(controllerPort)) portBusy(controllerPort, '--controller-port');
    const s = await startDemoServer({
      port,
      controllerPort,
      live: !v['no-live'],
      dataDir: v.data,
      tracesDirs: v.traces ? [resolve(v.traces)] : [],
      cdns: v['no-cdns']
        ? undefined
        : [
            { id: 'cdn-a', capacityMbps: 60 },
            { id: 'cdn-b', capacityMbps: 30 },
            { id: 'cdn-c', capacityMbps: 15 },
          ],
      cdnStepMs: Math.round(1000 * cdnStepS),
    }).catch((e: NodeJS.ErrnoException) => {
      // taken between the check and the listen (the error says which port: node's listen error and startServer's)
      if (e.code !== 'EADDRINUSE') throw e;
      return (e as { port?: number }).port === controllerPort ? portBusy(controllerPort, '--controller-port') : portBusy(port, '--port');
    });
    console.log(`[demo] dashboard:   ${s.url}/  (360/VR viewer ${s.url}/vr.html, operator view ${s.url}/ops.html)`);
    console.log(`[demo] controller:  ${s.controllerUrl} (telemetry stored under ${v.data ?? 'data/'})`);
    for (const c of s.cdns)
      console.log(`[demo] cdn:         ${c.id} ${c.url} (capacity shared by its transfers; GET ${s.controllerUrl}/v1/cdns)`);
    for (const e of s.edges)
      console.log(
        `[demo] edge:        ${e.id} ${e.url} (a pull-through cache in front of the dev server; the controller assigns viewers to it)`,
      );
    const stop = () => s.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
