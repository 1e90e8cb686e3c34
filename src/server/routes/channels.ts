/** GET /v1/channels/:id/stats — the channel's I_all / T_all and the population medians (the profiler's inputs; ../channels.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NAME_PATTERN } from '../../core/schemas/common.js';
import type { ChannelStats } from '../channels.js';

export interface ChannelRoutesOptions {
  channels: ChannelStats;
}

export const channelRoutes: FastifyPluginAsyncTypebox<ChannelRoutesOptions> = async (app, { channels }) => {
  app.get('/v1/channels/:id/stats', { schema: { params: Type.Object({ id: Type.String({ pattern: NAME_PATTERN }) }) } }, async (req) =>
    channels.get(req.params.id),
  );
};
