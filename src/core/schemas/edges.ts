/**
 * The edge caches' report to the controller, declared once as a TypeBox schema with its type derived
 * (`Static<>`): the reference edge (src/server/edge/cache-server.ts) sends it, the controller validates it
 * (src/server/routes/edges.ts) and lists the latest report of every edge for the dashboard.
 *   POST /v1/edges/:id/stats   EdgeParams + EdgeCacheStats → { ok: true } (404 for an edge the controller does not know)
 *   GET  /v1/edges             → EdgeList
 */
import { Type, type Static } from 'typebox';
import { NAME_PATTERN } from './common.js';
import { Nullable } from './helpers.js';

const Count = Type.Number({ minimum: 0 });

/** An edge cache's counters since it started (bytes, $, GB·h; rates in [0, 1]). */
export const EdgeCacheStatsSchema = Type.Object(
  {
    id: Type.String({ pattern: NAME_PATTERN }),
    /** false once the edge was killed or closed */
    alive: Type.Boolean(),
    requests: Count,
    /** requests for media objects (not playlists) */
    segments: Count,
    /** served from the store */
    hits: Count,
    /** joined an origin fetch already in flight */
    coalesced: Count,
    /** started an origin fetch */
    misses: Count,
    /** (hits + coalesced) / requests */
    hitRate: Type.Number({ minimum: 0, maximum: 1 }),
    bytesServed: Count,
    bytesFromOrigin: Count,
    originRequests: Count,
    originErrors: Count,
    /** rented size now and bytes used, bytes */
    capacityBytes: Count,
    usedBytes: Count,
    storedBodyBytes: Count,
    objects: Count,
    policy: Type.String({ maxLength: 32 }),
    tuner: Type.String({ maxLength: 64 }),
    evictions: Count,
    rentedGBHours: Count,
    rentCost: Count,
    egressCost: Count,
    intervals: Count,
    /** ms between the edge's reports: the controller calls an edge silent for 3 of them (default 2000) */
    reportEveryMs: Type.Optional(Type.Number({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type EdgeCacheStats = Static<typeof EdgeCacheStatsSchema>;

export const EdgeParamsSchema = Type.Object({ id: Type.String({ pattern: NAME_PATTERN }) });

/** Every edge the controller assigns viewers to, with its last cache report (null before the first). */
export const EdgeListSchema = Type.Object({
  edges: Type.Array(
    Type.Object({
      id: Type.String(),
      url: Type.String(),
      setting: Type.String(),
      /** ms since the last report (null: none yet) */
      reported_ms_ago: Nullable(Type.Number()),
      /**
       * the controller's view: the last report says alive and came within 3 report intervals. A killed edge
       * never says otherwise, so its silence is what turns this false.
       */
      alive: Type.Boolean(),
      cache: Type.Union([EdgeCacheStatsSchema, Type.Null()]),
    }),
  ),
});
export type EdgeList = Static<typeof EdgeListSchema>;
