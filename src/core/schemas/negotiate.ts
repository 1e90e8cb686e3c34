/**
 * The edge negotiation wire format (ELCast's assignment carried by HLS Content Steering), declared once as
 * TypeBox schemas with the TypeScript types derived from them (`Static<>`): the controller validates and
 * serializes with the schemas (src/server/routes/negotiation.ts); the SDK (src/edge/client.ts) imports
 * only the types, so TypeBox never reaches the browser bundle.
 *   POST /v1/negotiate              NegotiateRequest → NegotiateAnswer
 *   GET  /v1/steering/:session      SessionParams + SteeringQuery → SteeringManifest (HLS Content Steering,
 *                                   RFC 8216bis §7.2; hls.js adds _HLS_pathway / _HLS_throughput)
 *   POST /v1/sessions/:session/leave SessionParams + TokenQuery → LeaveAnswer
 */
import { Type, type Static } from 'typebox';
import { DEVICES, NAME_PATTERN } from './common.js';
import { Dictionary, Nullable, StringEnum } from './helpers.js';

const Name = Type.String({ pattern: NAME_PATTERN });

/** ELCast preference weights a1 (latency), a2 (channel switching), a3 (bitrate mismatch); they sum to 10. */
export const WeightsSchema = Type.Object(
  {
    a1: Type.Number({ minimum: 0, maximum: 10 }),
    a2: Type.Number({ minimum: 0, maximum: 10 }),
    a3: Type.Number({ minimum: 0, maximum: 10 }),
  },
  { additionalProperties: false },
);

/**
 * A variant of the multivariant playlist: its STABLE-VARIANT-ID, absolute URI on the CDN and declared bitrates
 * (BANDWIDTH, AVERAGE-BANDWIDTH, bit/s) when the playlist gives them.
 */
export const VariantRefSchema = Type.Object(
  {
    id: Name,
    uri: Type.String({ maxLength: 2048, pattern: '^https?://' }),
    bandwidth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e11 })),
    average_bandwidth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e11 })),
  },
  { additionalProperties: false },
);
export type VariantRef = Static<typeof VariantRefSchema>;

/** A rendition with its own playlist (EXT-X-MEDIA with URI: alternate audio, subtitles): STABLE-RENDITION-ID and URI. */
export const RenditionRefSchema = Type.Object(
  { id: Name, uri: Type.String({ maxLength: 2048, pattern: '^https?://' }) },
  { additionalProperties: false },
);
export type RenditionRef = Static<typeof RenditionRefSchema>;

export const NegotiateRequestSchema = Type.Object(
  {
    viewer_id: Name,
    channel: Name,
    region: Type.Optional(Type.String({ maxLength: 64 })),
    device: Type.Optional(StringEnum(DEVICES)),
    weights: Type.Optional(WeightsSchema),
    /** measured round-trip times, ms, by pathway ('cdn' or an edge id) */
    rtt_ms: Type.Optional(Dictionary(Type.Number({ minimum: 0, maximum: 60000 }), { maxProperties: 32 })),
    /** the viewer's bandwidth estimate, Mb/s */
    bandwidth_mbps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100000 })),
    /** every variant of the multivariant playlist; none (a media playlist, or the client could not read it): the CDN */
    variants: Type.Optional(Type.Array(VariantRefSchema, { maxItems: 32 })),
    /** every rendition with a URI of the multivariant playlist */
    renditions: Type.Optional(Type.Array(RenditionRefSchema, { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type NegotiateRequest = Static<typeof NegotiateRequestSchema>;

/** A PATHWAY-CLONES entry (HLS Content Steering): a new pathway copied from BASE-ID with its own URIs. */
export const PathwayCloneSchema = Type.Object({
  'BASE-ID': Type.String(),
  ID: Type.String(),
  'URI-REPLACEMENT': Type.Object({
    HOST: Type.Optional(Type.String()),
    PARAMS: Type.Optional(Dictionary(Type.String())),
    'PER-VARIANT-URIS': Type.Optional(Dictionary(Type.String())),
    'PER-RENDITION-URIS': Type.Optional(Dictionary(Type.String())),
  }),
});
export type PathwayClone = Static<typeof PathwayCloneSchema>;

export const AssignmentSchema = Type.Object({
  /** 'cdn' or the edge id */
  target: Type.String(),
  /**
   * the Content Steering pathway that serves the viewer: the edge id, the CDN id of `cdn` when the answer
   * carries that CDN's clone (several CDNs and known variants), else 'cdn' (the playlist's own)
   */
  pathway: Type.String(),
  /**
   * with several CDN pathways (the controller's --cdns): the CDN chosen for a viewer not on an edge by the
   * scheduler's shares; the first steering manifest lists it first
   */
  cdn: Type.Optional(Type.String()),
  /** the ELCast version (1440p … 240p) */
  version: Type.String(),
  /** that version's bitrate, Mb/s */
  bitrate_cap_mbps: Type.Number(),
  /** the edge's base URL (null for the CDN) */
  edge_url: Nullable(Type.String()),
  /**
   * the pathway to start on with every variant and rendition URI moved (the clone the steering manifest
   * carries): the edge's, or with several CDNs the assigned CDN's (`cdn`); the client starts playback on
   * it. Absent for the playlist's own pathway.
   */
  clone: Type.Optional(PathwayCloneSchema),
  /**
   * BANDWIDTH (bit/s) of the highest variant the viewer may fetch on the assigned edge (CMSD mb): the highest
   * variant whose average bitrate is at or below the version's, else the lowest. Null: no cap (the CDN, or
   * the variants' bitrates are unknown).
   */
  max_variant_bps: Nullable(Type.Integer()),
});
export type Assignment = Static<typeof AssignmentSchema>;

export const NegotiateAnswerSchema = Type.Object({
  session: Type.String(),
  /** signed session token (server/tokens.ts): steering, leave and telemetry carry it */
  token: Type.String(),
  assignment: AssignmentSchema,
  /** relative to the controller, token included */
  steering_uri: Type.String(),
  /** the weights the controller decided with */
  weights: WeightsSchema,
  /** the assignment policy that decided */
  policy: Type.String(),
});
export type NegotiateAnswer = Static<typeof NegotiateAnswerSchema>;

export const SessionParamsSchema = Type.Object({ session: Name });
export type SessionParams = Static<typeof SessionParamsSchema>;

export const TokenQuerySchema = Type.Object({ token: Type.Optional(Type.String({ maxLength: 256 })) });
export type TokenQuery = Static<typeof TokenQuerySchema>;

/**
 * The steering manifest request: our token, and what hls.js adds — _HLS_pathway (the pathway it plays from)
 * and _HLS_throughput (its estimate, bit/s, as `(estimate | 0)`: negative above 2^31). Their values are not
 * constrained here: the controller reads what it can use and ignores the rest (negotiation.ts,
 * `readSteeringQuery`); an unusable value never refuses the manifest.
 */
export const SteeringQuerySchema = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 256 })),
  _HLS_pathway: Type.Optional(Type.Unknown()),
  _HLS_throughput: Type.Optional(Type.Unknown()),
});
export type SteeringQuery = Static<typeof SteeringQuerySchema>;

/** The steering manifest (VERSION 1) as hls.js reads it. */
export const SteeringManifestSchema = Type.Object({
  VERSION: Type.Literal(1),
  /** seconds until the player reloads it */
  TTL: Type.Number(),
  'RELOAD-URI': Type.Optional(Type.String()),
  'PATHWAY-PRIORITY': Type.Array(Type.String()),
  'PATHWAY-CLONES': Type.Optional(Type.Array(PathwayCloneSchema)),
});
export type SteeringManifest = Static<typeof SteeringManifestSchema>;

export const LeaveAnswerSchema = Type.Object({ released: Type.Boolean() });
export type LeaveAnswer = Static<typeof LeaveAnswerSchema>;

/** Every 4xx/5xx answer of the controller. */
export const ErrorAnswerSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
export type ErrorAnswer = Static<typeof ErrorAnswerSchema>;
