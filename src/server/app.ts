/**
 * The reference edge controller (fastify). This file builds the HTTP app; `main.ts` runs it.
 *
 * Routes:
 *   POST /v1/telemetry      a TelemetryBatch (JSON, sent as application/json or text/plain so that
 *                           browsers can use sendBeacon / keepalive without a CORS preflight)
 *                           -> 200 {batch_id, accepted, duplicate}; 400 naming the bad field; 413 too big
 *   GET  /v1/views/:id      the view's QoE summary, computed from its stored events
 *   GET  /v1/channels/:id/stats  the channel's I_all/T_all and the population medians (profiler inputs)
 *   POST /v1/negotiate, GET /v1/steering/:session, POST /v1/sessions/:session/leave (negotiate.ts)
 *   GET  /v1/health
 * Every route has a schema; bad input is answered 4xx with a message, never 5xx.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { LIMITS, NAME_PATTERN, telemetryBatchSchema, type TelemetryAck, type TelemetryBatch } from '../core/protocol.js';
import { ID_PATTERN } from '../core/ids.js';
import { summarizeView } from '../core/qoe.js';
import type { TelemetryStore } from './store.js';
import { ChannelStats } from './channels.js';
import { MemoryAssignmentStore, type AssignmentStore, type EdgeConfig } from './edges.js';
import { registerNegotiation, type NegotiateOptions } from './negotiate.js';

export interface ServerOptions {
  store: TelemetryStore;
  /** allowed CORS origins ('*' for any); default '*' — set your player origins in production */
  corsOrigins?: string[] | '*';
  bodyLimit?: number;
  logger?: boolean;
  /** edges the controller assigns viewers to (none: everyone is served by the CDN) */
  edges?: EdgeConfig[];
  /** assignment store (default: in memory over `edges`) */
  assignment?: AssignmentStore;
  /** negotiation settings: HMAC secret, policy, lease and steering TTLs, rate limit */
  negotiation?: Omit<NegotiateOptions, 'store'>;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? LIMITS.maxBodyBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { allowUnionTypes: true, allErrors: false, coerceTypes: false, removeAdditional: false } },
    forceCloseConnections: true,
  });
  const store = opts.store;
  const channels = new ChannelStats();
  const negotiation = registerNegotiation(app, {
    store: opts.assignment ?? new MemoryAssignmentStore(opts.edges ?? []),
    ...(opts.negotiation ?? {}),
  });
  const origins = opts.corsOrigins ?? '*';

  // Beacons and keepalive fetches send text/plain (a CORS "simple" request): parse it as JSON too.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, jsonParser);

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin && (origins === '*' || origins.includes(origin))) {
      reply.header('access-control-allow-origin', origins === '*' ? '*' : origin);
      reply.header('vary', 'origin');
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
      reply.header('access-control-allow-headers', 'content-type, authorization');
      reply.header('access-control-max-age', '600');
    }
  });
  app.options('/*', async (_req, reply) => reply.code(204).send());

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'body';
      const first = err.validation[0];
      const path = first ? `${where}${first.instancePath || ''}` : where;
      return reply.code(400).send({ error: 'bad_request', message: `${path} ${first?.message ?? 'is invalid'}`, field: path });
    }
    const code =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 500
        ? err.statusCode
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 413
          : undefined;
    if (code) {
      const message = code === 413 ? `body larger than ${opts.bodyLimit ?? LIMITS.maxBodyBytes} bytes` : err.message;
      return reply.code(code).send({ error: code === 413 ? 'payload_too_large' : 'bad_request', message });
    }
    app.log.error(err);
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  app.get('/v1/health', async () => ({ ok: true }));

  app.post<{ Body: TelemetryBatch }>(
    '/v1/telemetry',
    {
      schema: {
        body: telemetryBatchSchema,
        response: {
          200: {
            type: 'object',
            properties: {
              batch_id: { type: 'string' },
              accepted: { type: 'integer' },
              duplicate: { type: 'boolean' },
              edge: { type: 'string' },
            },
          },
        },
      },
    },
    async (req): Promise<TelemetryAck> => {
      const batch = req.body;
      const r = store.ingest(batch, Date.now());
      if (!r.duplicate)
        for (const e of batch.events) if (e.type === 'viewend') channels.addView(e.view_id, batch.session_id, store.viewEvents(e.view_id));
      // a negotiated playback's token is checked; a bad one never costs the events (they are stored), it only
      // leaves the batch unlinked from the assignment ('invalid')
      const edge = batch.edge ? (negotiation.checkToken(batch.edge.session, batch.edge.token) ? 'invalid' : 'verified') : undefined;
      return { batch_id: batch.batch_id, accepted: r.accepted, duplicate: r.duplicate, ...(edge ? { edge } : {}) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/views/:id',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } } },
    async (req, reply) => {
      const events = store.viewEvents(req.params.id);
      if (events.length === 0) return reply.code(404).send({ error: 'not_found', message: `no events for view ${req.params.id}` });
      return summarizeView(events);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/channels/:id/stats',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: NAME_PATTERN } } } } },
    async (req) => channels.get(req.params.id),
  );

  return app;
}
