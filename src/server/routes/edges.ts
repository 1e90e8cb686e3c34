/**
 * The edge caches' reports (the reference edge, src/server/edge/cache-server.ts, pushes its counters here):
 *   POST /v1/edges/:id/stats   an edge's hits, misses, bytes from the origin, rented size, evictions
 *   GET  /v1/edges             every configured edge with its latest report (the dashboard's hit rates)
 * Only edges the controller knows (its EdgeConfig list) may report; the latest report per edge is kept in
 * memory (counters since the edge started, so a lost report loses nothing).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EdgeCacheStatsSchema, EdgeListSchema, EdgeParamsSchema, type EdgeCacheStats, type EdgeList } from '../../core/schemas/edges.js';
import type { EdgeConfig } from '../edges.js';

export interface EdgeRoutesOptions {
  /** the edges the controller assigns viewers to */
  edges: () => EdgeConfig[];
}

export const edgeRoutes: FastifyPluginAsyncTypebox<EdgeRoutesOptions> = async (app, o) => {
  const reports = new Map<string, { stats: EdgeCacheStats; at: number }>();
  app.post('/v1/edges/:id/stats', { schema: { params: EdgeParamsSchema, body: EdgeCacheStatsSchema } }, async (req, reply) => {
    const { id } = req.params;
    if (!o.edges().some((e) => e.id === id)) return reply.code(404).send({ error: 'not_found', message: `no edge "${id}" configured` });
    if (req.body.id !== id)
      return reply.code(400).send({ error: 'bad_request', message: `body id "${req.body.id}" is not the edge "${id}"`, field: 'body/id' });
    reports.set(id, { stats: req.body, at: Date.now() });
    return { ok: true };
  });
  app.get('/v1/edges', { schema: { response: { 200: EdgeListSchema } } }, async (): Promise<EdgeList> => {
    const now = Date.now();
    return {
      edges: o.edges().map((e) => {
        const r = reports.get(e.id);
        return { id: e.id, url: e.url, setting: e.setting, reported_ms_ago: r ? now - r.at : null, cache: r?.stats ?? null };
      }),
    };
  });
};
