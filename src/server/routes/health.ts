/** GET /v1/health — `{ ok: true }` while the process serves. */
import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/v1/health', async () => ({ ok: true }));
};
