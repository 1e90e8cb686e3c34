/**
 * The reference edge controller (fastify). This file builds the app from one plugin per route family;
 * `main.ts` runs it.
 *
 *   plugins/http.ts          the shared HTTP contract: text/plain JSON bodies, 4xx errors naming the field,
 *                            413, 429, 404 JSON (fastify-plugin: applies app-wide)
 *   @fastify/cors            CORS: the allowed origins (or '*'), methods, headers, max-age, preflight 204
 *   @fastify/rate-limit      per-client-address limits on the routes that ask for one (negotiation); its Redis
 *                            store when a Redis connection is given, so a limit holds across controller processes
 *   routes/telemetry.ts      POST /v1/telemetry
 *   routes/views.ts          GET  /v1/views/:id
 *   routes/channels.ts       GET  /v1/channels/:id/stats
 *   routes/metrics.ts        GET  /v1/metrics (Mux's metrics and scores per CDN / edge / channel / rendition / device)
 *   routes/negotiation.ts    POST /v1/negotiate, GET /v1/steering/:session, POST /v1/sessions/:session/leave
 *   routes/cdns.ts           GET  /v1/cdns (the multi-CDN scheduler of cdns.ts, started and stopped with the app)
 *   routes/edges.ts          POST /v1/edges/:id/stats (an edge cache's report), GET /v1/edges
 *   routes/health.ts         GET  /v1/health
 *   routes/tasks.ts          POST /v1/tasks, GET /v1/tasks/quote (offloaded inference, when `tasks` is given; else 404)
 * Shared pieces are created here and handed to the plugins that need them as options: the telemetry store
 * (store.ts: memory, SQLite; pg-store.ts: PostgreSQL — it also answers the channel statistics), the token
 * service (tokens.ts: negotiation, steering, leave and telemetry linking) and the negotiation service
 * (negotiation.ts over an assignment store: edges.ts memory, redis-store.ts Redis). A process keeps no state of
 * its own: with Redis and PostgreSQL, any number of processes behind one address answer as one. Every route has a schema (TypeBox,
 * src/core/schemas/, types derived from them); bad input is answered 4xx with a message, never 5xx.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { AssignmentPolicyName } from '../assign/edge/model.js';
import type { DrlAssignment } from '../assign/edge/drl.js';
import { LIMITS } from '../core/schemas/common.js';
import type { CdnScheduler } from './cdns.js';
import { MemoryAssignmentStore, type AssignmentStore, type EdgeConfig } from './edges.js';
import { Negotiator } from './negotiation.js';
import httpContract from './plugins/http.js';
import { cdnRoutes } from './routes/cdns.js';
import { channelRoutes } from './routes/channels.js';
import { edgeRoutes } from './routes/edges.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { negotiationRoutes } from './routes/negotiation.js';
import { taskRoutes } from './routes/tasks.js';
import { telemetryRoutes } from './routes/telemetry.js';
import { viewRoutes } from './routes/views.js';
import type { TelemetryStore } from './store.js';
import type { TaskService } from './tasks.js';
import { TokenService, type SigningKey } from './tokens.js';

/** Negotiation settings: HMAC secret, policy, lease and steering TTLs, rate limit. */
export interface NegotiationSettings {
  /** HMAC secret, one key (its kid derived from it; default: random per process — tokens then do not survive a restart) */
  secret?: string;
  /** signing keys, the first one signing, all verifying (tokens.ts; wins over `secret`) */
  keys?: SigningKey[];
  /** 'online-heu' (default), 'cloud-cdn', or 'drl' (needs `drl`) */
  policy?: AssignmentPolicyName | 'drl';
  /** the trained DRL assignment policy (models/edge-drl/<setting>.json) */
  drl?: DrlAssignment;
  /** lease length, ms (default 60 s; every steering reload renews it) */
  leaseMs?: number;
  /** steering manifest TTL, s (default 10) */
  steeringTtlS?: number;
  /** how long a session outlives its last steering reload, ms (default 2 × leaseMs) */
  sessionTtlMs?: number;
  /** negotiations per second per client address (default 50), on average over the window */
  ratePerS?: number;
  /** the rate limit's window, s (default 2: a client may send 2 × ratePerS at once, then ratePerS per second) */
  rateWindowS?: number;
}

export interface ServerOptions {
  store: TelemetryStore;
  /** allowed CORS origins ('*' for any); default '*' — set your player origins in production */
  corsOrigins?: string[] | '*';
  bodyLimit?: number;
  logger?: boolean;
  /** edges the controller assigns viewers to (none: everyone is served by the CDN) */
  edges?: EdgeConfig[];
  /** assignment store: leases and negotiation sessions (default: in memory over `edges`, this app only) */
  assignment?: AssignmentStore;
  /** negotiation settings: HMAC secret, policy, lease and steering TTLs, rate limit */
  negotiation?: NegotiationSettings;
  /** a Redis connection for state shared by controller processes: the rate-limit counters (default: in memory) */
  redis?: Redis;
  /** the inference service for offloaded tasks (tasks.ts); none: POST /v1/tasks answers 404 (start with --task-slots) */
  tasks?: TaskService;
  /** several CDN pathways scheduled by share (cdns.ts): new viewers not on an edge get a CDN by the shares */
  cdns?: CdnScheduler;
  /** the shared key edges present (`Authorization: Bearer`) to report their cache stats; none: reports are refused (403) */
  edgeKey?: string;
}

/** Build the controller app (not listening). @throws Error for an unknown policy, or 'drl' without weights */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? LIMITS.maxBodyBytes;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { allowUnionTypes: true, allErrors: false, coerceTypes: false, removeAdditional: false } },
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const n = opts.negotiation ?? {};
  const tokens = new TokenService(n.keys ?? n.secret);
  const assignment = opts.assignment ?? new MemoryAssignmentStore(opts.edges ?? []);
  const negotiator = new Negotiator({
    store: assignment,
    tokens,
    policy: n.policy,
    drl: n.drl,
    leaseMs: n.leaseMs,
    steeringTtlS: n.steeringTtlS,
    sessionTtlMs: n.sessionTtlMs,
    warn: (m) => app.log.warn(m),
    cdns: opts.cdns,
  });

  await app.register(httpContract, { bodyLimit });
  await app.register(cors, {
    origin: opts.corsOrigins ?? '*',
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization'],
    maxAge: 600,
    // a player on another origin must be able to read these: CMSD hints on steering manifests, a 429's Retry-After
    exposedHeaders: ['CMSD-Dynamic', 'CMSD-Static', 'Retry-After'],
    strictPreflight: false, // an OPTIONS without Origin is answered 204 as well
  });
  await app.register(rateLimit, {
    global: false, // only routes with `config.rateLimit` (POST /v1/negotiate)
    hook: 'preHandler', // after schema validation: a 400 costs the client nothing
    ...(opts.redis ? { redis: opts.redis, nameSpace: 'edgeplay:rate:' } : {}),
    skipOnError: true, // the store (Redis) failing never refuses a viewer
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`too many negotiations from this client; retry in ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s`), {
        statusCode: ctx.statusCode,
      }),
  });

  await app.register(telemetryRoutes, { store: opts.store, tokens, cdns: opts.cdns, cdnOf: (id) => negotiator.cdnOf(id) });
  await app.register(viewRoutes, { store: opts.store });
  await app.register(channelRoutes, { store: opts.store });
  await app.register(metricsRoutes, { store: opts.store });
  await app.register(negotiationRoutes, { negotiator, tokens, ratePerS: n.ratePerS ?? 50, rateWindowS: n.rateWindowS ?? 2 });
  await app.register(cdnRoutes, { scheduler: opts.cdns });
  await app.register(edgeRoutes, { edges: () => assignment.edges(), key: opts.edgeKey });
  await app.register(healthRoutes);
  await app.register(taskRoutes, { tasks: opts.tasks, tokens }); // without tasks: 404 naming --task-slots
  return app;
}
