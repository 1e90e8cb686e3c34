/**
 * POST /v1/telemetry — a TelemetryBatch (JSON, sent as application/json or text/plain so that browsers can
 * use sendBeacon / keepalive without a CORS preflight) → 200 TelemetryAck; 400 naming the bad field; 413 too
 * big. Stored once per batch id; a `viewend` folds the view into the channel statistics; a batch tagged with
 * an edge negotiation has its token verified — a bad one never costs the events (they are stored), it only
 * leaves the batch unlinked from the assignment (`edge: 'invalid'`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TelemetryAckSchema, TelemetryBatchSchema, type TelemetryAck } from '../../core/schemas/telemetry.js';
import type { CdnScheduler } from '../cdns.js';
import type { ChannelStats } from '../channels.js';
import type { TelemetryStore } from '../store.js';
import type { TokenService } from '../tokens.js';

export interface TelemetryRoutesOptions {
  store: TelemetryStore;
  channels: ChannelStats;
  tokens: TokenService;
  /** the multi-CDN scheduler, fed each batch (per-CDN workload and QoE) */
  cdns?: CdnScheduler;
  /** the CDN a negotiation session's viewer is on (the scheduler's fallback when events name no pathway) */
  cdnOf?: (session: string) => string | null;
}

export const telemetryRoutes: FastifyPluginAsyncTypebox<TelemetryRoutesOptions> = async (app, { store, channels, tokens, cdns, cdnOf }) => {
  app.post(
    '/v1/telemetry',
    { schema: { body: TelemetryBatchSchema, response: { 200: TelemetryAckSchema } } },
    async (req): Promise<TelemetryAck> => {
      const batch = req.body;
      const r = store.ingest(batch, Date.now());
      if (!r.duplicate)
        for (const e of batch.events) if (e.type === 'viewend') channels.addView(e.view_id, batch.session_id, store.viewEvents(e.view_id));
      const edge = batch.edge ? (tokens.verify(batch.edge.session, batch.edge.token).ok ? 'verified' : 'invalid') : undefined;
      if (cdns && !r.duplicate) cdns.observe(batch, edge === 'verified' && cdnOf ? cdnOf(batch.edge!.session) : null);
      return { batch_id: batch.batch_id, accepted: r.accepted, duplicate: r.duplicate, ...(edge ? { edge } : {}) };
    },
  );
};
