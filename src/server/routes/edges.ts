/**
 * The edge caches' reports (the reference edge, src/server/edge/cache-server.ts, pushes its counters here):
 *   POST /v1/edges/:id/stats   an edge's hits, misses, bytes from the origin, rented size, evictions
 *   GET  /v1/edges             every configured edge with its latest report (the dashboard's hit rates)
 * Reports carry the controller's edge key (`Authorization: Bearer KEY`, `--edge-key`): 401 without it or with a
 * wrong one, 403 when the controller has no key (reports are off), checked before the body is read. Only edges the
 * controller knows (its EdgeConfig list) may report; the latest report per edge is kept in memory (counters since
 * the edge started, so a lost report loses nothing). An edge is listed `alive` while its last report says so and
 * is at most 3 report intervals old: a killed edge stops reporting, it never says it died.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EdgeCacheStatsSchema, EdgeListSchema, EdgeParamsSchema, type EdgeCacheStats, type EdgeList } from '../../core/schemas/edges.js';
import type { EdgeConfig } from '../edges.js';

export interface EdgeRoutesOptions {
  /** the edges the controller assigns viewers to */
  edges: () => EdgeConfig[];
  /** the key edges present to report (Bearer); undefined: every report is refused with 403 */
  key?: string;
}

/** The default report interval of the reference edge, ms (cache-server.ts), for reports that do not say theirs. */
const DEFAULT_REPORT_MS = 2000;
/** Report intervals of silence after which an edge is listed as not alive. */
const SILENT_INTERVALS = 3;

const digest = (s: string) => createHash('sha256').update(s).digest();

export const edgeRoutes: FastifyPluginAsyncTypebox<EdgeRoutesOptions> = async (app, o) => {
  const reports = new Map<string, { stats: EdgeCacheStats; at: number }>();
  const keyDigest = o.key ? digest(o.key) : null;
  app.post(
    '/v1/edges/:id/stats',
    {
      schema: { params: EdgeParamsSchema, body: EdgeCacheStatsSchema },
      // before validation: an edge without the key learns nothing about the body or the edges configured
      onRequest: async (req, reply) => {
        if (!keyDigest)
          return reply
            .code(403)
            .send({ error: 'forbidden', message: 'edge reports are off: start the controller with --edge-key (EDGEPLAY_EDGE_KEY)' });
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m)
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="edgeplay-edges"')
            .send({ error: 'unauthorized', message: 'an edge report needs Authorization: Bearer <edge key>' });
        // equal-length digests: the comparison time says nothing about the key
        if (!timingSafeEqual(digest(m[1]), keyDigest))
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="edgeplay-edges"')
            .send({ error: 'unauthorized', message: 'the edge key is not this controller’s' });
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!o.edges().some((e) => e.id === id)) return reply.code(404).send({ error: 'not_found', message: `no edge "${id}" configured` });
      if (req.body.id !== id)
        return reply
          .code(400)
          .send({ error: 'bad_request', message: `body id "${req.body.id}" is not the edge "${id}"`, field: 'body/id' });
      reports.set(id, { stats: req.body, at: Date.now() });
      return { ok: true };
    },
  );
  app.get('/v1/edges', { schema: { response: { 200: EdgeListSchema } } }, async (): Promise<EdgeList> => {
    const now = Date.now();
    return {
      edges: o.edges().map((e) => {
        const r = reports.get(e.id);
        const ago = r ? now - r.at : null;
        const alive = !!r && r.stats.alive && ago! <= SILENT_INTERVALS * (r.stats.reportEveryMs ?? DEFAULT_REPORT_MS);
        return { id: e.id, url: e.url, setting: e.setting, reported_ms_ago: ago, alive, cache: r?.stats ?? null };
      }),
    };
  });
};
