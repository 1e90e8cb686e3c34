/**
 * Run the edge controller alone: `npm run server -- [--port 8081] [--host 127.0.0.1] [--data DIR] [--memory]`.
 * Environment: EDGEPLAY_PORT, EDGEPLAY_HOST, EDGEPLAY_DATA_DIR.
 */
import { join, resolve } from 'node:path';
import { buildServer } from './app.js';
import type { AssignmentStore, EdgeConfig } from './edges.js';
import type { DrlAssignment } from '../assign/edge/drl.js';
import { MemoryTelemetryStore, SqliteTelemetryStore, type TelemetryStore } from './store.js';

export interface RunningServer {
  url: string;
  port: number;
  store: TelemetryStore;
  close(): Promise<void>;
}

export async function startServer(
  opts: {
    port?: number;
    host?: string;
    dataDir?: string;
    memory?: boolean;
    store?: TelemetryStore;
    logger?: boolean;
    edges?: EdgeConfig[];
    assignment?: AssignmentStore;
    ratePerS?: number;
    policy?: 'online-heu' | 'cloud-cdn' | 'drl';
    drl?: DrlAssignment;
  } = {},
): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir ?? process.env.EDGEPLAY_DATA_DIR ?? 'data');
  const store =
    opts.store ?? (opts.memory ? new MemoryTelemetryStore() : await SqliteTelemetryStore.open(join(dataDir, 'telemetry.sqlite')));
  const app = await buildServer({
    store,
    logger: opts.logger,
    edges: opts.edges,
    assignment: opts.assignment,
    negotiation: {
      ...(process.env.EDGEPLAY_SECRET ? { secret: process.env.EDGEPLAY_SECRET } : {}),
      ...(opts.ratePerS ? { ratePerS: opts.ratePerS } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.drl ? { drl: opts.drl } : {}),
    },
  });
  const host = opts.host ?? process.env.EDGEPLAY_HOST ?? '127.0.0.1';
  const address = await app.listen({ port: opts.port ?? Number(process.env.EDGEPLAY_PORT ?? 8081), host });
  const port = Number(new URL(address).port);
  return {
    url: `http://${host}:${port}`,
    port,
    store,
    async close() {
      await app.close();
    },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // --edges '[{"id":"edge-1","url":"http://…","setting":"mid"}]' (or EDGEPLAY_EDGES); --redis redis://host:port
  // shares reservations with every controller process on that Redis (default: in memory, this process only)
  let edges: EdgeConfig[] = [];
  try {
    edges = JSON.parse(arg('edges') ?? process.env.EDGEPLAY_EDGES ?? '[]');
    if (!Array.isArray(edges)) throw new Error('not an array');
  } catch (e) {
    console.error(`--edges must be a JSON array of {id, url, setting}: ${(e as Error).message}`);
    process.exit(2);
  }
  const redisUrl = arg('redis') ?? process.env.EDGEPLAY_REDIS;
  // --policy online-heu | cloud-cdn | drl [--drl models/edge-drl/mid.json]
  const policy = (arg('policy') ?? 'online-heu') as 'online-heu' | 'cloud-cdn' | 'drl';
  const drlPath = arg('drl') ?? (policy === 'drl' ? 'models/edge-drl/mid.json' : undefined);
  const drl = drlPath
    ? new (await import('../assign/edge/drl.js')).DrlAssignment(JSON.parse((await import('node:fs')).readFileSync(drlPath, 'utf8')))
    : undefined;
  const assignment = redisUrl ? await (await import('./redis-store.js')).RedisAssignmentStore.connect(redisUrl, edges) : undefined;
  const s = await startServer({
    port: arg('port') ? Number(arg('port')) : undefined,
    host: arg('host'),
    dataDir: arg('data'),
    memory: process.argv.includes('--memory'),
    logger: !process.argv.includes('--quiet'),
    edges,
    assignment,
    // negotiations per second per client address (default 50)
    ratePerS: arg('rate') ? Number(arg('rate')) : undefined,
    policy,
    drl,
  });
  console.log(`[edgeplay] controller listening on ${s.url}`);
  const stop = () =>
    s.close().then(async () => {
      s.store.close();
      await assignment?.close();
      process.exit(0);
    });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
