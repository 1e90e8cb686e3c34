/**
 * GET /v1/channels/:id/stats — the channel's I_all / T_all and the population medians (the profiler's inputs;
 * ../channels.ts), computed by the telemetry store from the ended views it holds: every controller process on
 * one database answers the same.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NAME_PATTERN } from '../../core/schemas/common.js';
import type { TelemetryStore } from '../store.js';

export interface ChannelRoutesOptions {
  store: TelemetryStore;
}

export const channelRoutes: FastifyPluginAsyncTypebox<ChannelRoutesOptions> = async (app, { store }) => {
  app.get('/v1/channels/:id/stats', { schema: { params: Type.Object({ id: Type.String({ pattern: NAME_PATTERN }) }) } }, async (req) =>
    store.channelStats(req.params.id),
  );
};
