/** GET /v1/views/:id — the view's QoE summary (core/qoe.ts, the code the SDK runs), from its stored events; 404 when none. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ID_PATTERN } from '../../core/schemas/common.js';
import { summarizeView } from '../../core/qoe.js';
import type { TelemetryStore } from '../store.js';

export interface ViewRoutesOptions {
  store: TelemetryStore;
}

export const viewRoutes: FastifyPluginAsyncTypebox<ViewRoutesOptions> = async (app, { store }) => {
  app.get('/v1/views/:id', { schema: { params: Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }) } }, async (req, reply) => {
    const events = store.viewEvents(req.params.id);
    if (events.length === 0) return reply.code(404).send({ error: 'not_found', message: `no events for view ${req.params.id}` });
    return summarizeView(events);
  });
};
