/**
 * Negotiation and HLS Content Steering routes (the decisions live in ../negotiation.ts):
 *   POST /v1/negotiate               viewer, channel, preference weights, measured RTTs, bandwidth, the
 *                                    playlist's variants → assignment (edge or CDN, version / bitrate cap),
 *                                    a signed session token and the steering URI; rate-limited per client
 *                                    address (429 with Retry-After)
 *   GET  /v1/steering/:session       steering manifest (VERSION 1, TTL, RELOAD-URI with the token,
 *                                    PATHWAY-PRIORITY assigned edge first then the CDN, PATHWAY-CLONES
 *                                    introducing the edge); reads _HLS_pathway / _HLS_throughput and
 *                                    re-decides; renews the lease; CMSD-Dynamic hints (mb, etp, du)
 *   POST /v1/sessions/:session/leave releases the lease
 * Steering and leave need the session's token (403 naming why it was refused).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { validWeights } from '../../core/preference.js';
import {
  ErrorAnswerSchema,
  LeaveAnswerSchema,
  NegotiateAnswerSchema,
  NegotiateRequestSchema,
  SessionParamsSchema,
  SteeringManifestSchema,
  SteeringQuerySchema,
  TokenQuerySchema,
} from '../../core/schemas/negotiate.js';
import { readSteeringQuery, type Negotiator } from '../negotiation.js';
import { refusalError, refusalStatus, type TokenService } from '../tokens.js';

export interface NegotiationRoutesOptions {
  negotiator: Negotiator;
  tokens: TokenService;
  /** negotiations per second per client address, on average over `rateWindowS` */
  ratePerS: number;
  /** the rate limit's window, s: a client may send ratePerS × rateWindowS negotiations per window */
  rateWindowS: number;
}

export const negotiationRoutes: FastifyPluginAsyncTypebox<NegotiationRoutesOptions> = async (app, o) => {
  const { negotiator, tokens } = o;
  app.addHook('onClose', async () => negotiator.close());

  app.post(
    '/v1/negotiate',
    {
      schema: { body: NegotiateRequestSchema, response: { 200: NegotiateAnswerSchema, '4xx': ErrorAnswerSchema } },
      // the @fastify/rate-limit plugin (registered by buildServer) counts this route per client address
      config: { rateLimit: { max: Math.max(1, Math.round(o.ratePerS * o.rateWindowS)), timeWindow: Math.round(o.rateWindowS * 1000) } },
    },
    async (req, reply) => {
      const b = req.body;
      if (b.weights && !validWeights(b.weights))
        return reply.code(400).send({ error: 'bad_request', message: 'body/weights must sum to 10 (a1 + a2 + a3)', field: 'body/weights' });
      return negotiator.negotiate(b);
    },
  );

  app.get(
    '/v1/steering/:session',
    {
      schema: {
        params: SessionParamsSchema,
        querystring: SteeringQuerySchema,
        response: { 200: SteeringManifestSchema, '4xx': ErrorAnswerSchema },
      },
    },
    async (req, reply) => {
      const check = tokens.verify(req.params.session, req.query.token);
      if (!check.ok) return reply.code(refusalStatus(check.reason)).send({ error: refusalError(check.reason), message: check.message });
      const r = await negotiator.steer(req.params.session, readSteeringQuery(req.query));
      if (!r) return reply.code(404).send({ error: 'not_found', message: `no session ${req.params.session} (negotiate again)` });
      return reply.header('cmsd-dynamic', r.cmsd).header('cache-control', 'no-store').send(r.manifest);
    },
  );

  app.post(
    '/v1/sessions/:session/leave',
    {
      schema: {
        params: SessionParamsSchema,
        querystring: TokenQuerySchema,
        response: { 200: LeaveAnswerSchema, '4xx': ErrorAnswerSchema },
      },
    },
    async (req, reply) => {
      const check = tokens.verify(req.params.session, req.query.token);
      if (!check.ok) return reply.code(refusalStatus(check.reason)).send({ error: refusalError(check.reason), message: check.message });
      return { released: await negotiator.leave(req.params.session) };
    },
  );
};
