/**
 * The telemetry wire format (SDK → `POST /v1/telemetry` → ack), declared once as TypeBox schemas; the
 * TypeScript types are derived from them (`Static<>`). The controller validates bodies with these schemas
 * (fastify/ajv, JSON schema draft-07); the SDK imports only the types (`import type`, via core/protocol.ts),
 * so TypeBox never reaches the browser bundle.
 */
import { Type, type Static } from 'typebox';
import { DATA_KEY_PATTERN, EVENT_TYPES, ID_PATTERN, LIMITS, NAME_PATTERN, PROTOCOL_VERSION, type EventValue } from './common.js';
import { Dictionary, StringEnum } from './helpers.js';

const Id = Type.String({ pattern: ID_PATTERN });

/** string (≤ maxStringLength), number, boolean or null — one type array, as ajv checks fastest */
const EventValueSchema = Type.Unsafe<EventValue>({ type: ['string', 'number', 'boolean', 'null'], maxLength: LIMITS.maxStringLength });

export const TelemetryEventSchema = Type.Object(
  {
    /** view id */
    view_id: Id,
    /** per-view sequence number, 0, 1, 2, ... (the server can see gaps) */
    seq: Type.Integer({ minimum: 0, maximum: 1e9 }),
    /** epoch milliseconds */
    t: Type.Number({ minimum: 0, maximum: 1e14 }),
    type: StringEnum(EVENT_TYPES),
    data: Type.Optional(Dictionary(EventValueSchema, { maxProperties: LIMITS.maxDataKeys, propertyNames: { pattern: DATA_KEY_PATTERN } })),
  },
  { additionalProperties: false },
);
/** An event as it travels: its data is any flat record of primitives (the schema checks only that; core/protocol.ts types each event type). */
export type TelemetryEvent = Static<typeof TelemetryEventSchema>;

/** The edge negotiation a playback runs under: its session and signed token (see server/tokens.ts). */
export const EdgeTagSchema = Type.Object(
  { session: Type.String({ pattern: NAME_PATTERN }), token: Type.String({ maxLength: 256 }) },
  { additionalProperties: false },
);

export const TelemetryBatchSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    /** idempotency key: a batch is stored once however often it is sent */
    batch_id: Id,
    viewer_id: Id,
    session_id: Id,
    /** epoch ms when the batch was sealed */
    sealed_at: Type.Number({ minimum: 0, maximum: 1e14 }),
    /** the edge negotiation this playback runs under (its session and signed token), when there is one */
    edge: Type.Optional(EdgeTagSchema),
    events: Type.Array(TelemetryEventSchema, { minItems: 1, maxItems: LIMITS.maxEventsPerBatch }),
  },
  { $id: 'edgeplay/telemetry-batch', additionalProperties: false },
);
export type TelemetryBatch = Static<typeof TelemetryBatchSchema>;

export const TelemetryAckSchema = Type.Object({
  batch_id: Type.String(),
  accepted: Type.Integer(),
  duplicate: Type.Boolean(),
  /** for a batch tagged with an edge negotiation: whether its token checked out */
  edge: Type.Optional(StringEnum(['verified', 'invalid'] as const)),
});
export type TelemetryAck = Static<typeof TelemetryAckSchema>;
