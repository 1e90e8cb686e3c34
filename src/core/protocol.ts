/**
 * Wire protocol between the SDK and the edge controller: telemetry batches.
 * Plain types plus the JSON schema the server validates with (fastify/ajv). No DOM, no Node.
 */
import { ID_PATTERN } from './ids.js';

export const PROTOCOL_VERSION = 1;

/** The viewer's telemetry consent: nothing is stored or sent until 'granted'; 'denied' drops everything. */
export type Consent = 'granted' | 'pending' | 'denied';

/** Every event type the SDK emits. */
export const EVENT_TYPES = [
  'viewstart', // data: content_id, channel, url, live, sdk, hls
  'play', // the player asked to play (user or autoplay)
  'startup', // first frame: startup_ms (play request or load -> first frame), ttff_ms (load -> first frame)
  'pause',
  'resume',
  'rebuffer_start', // data: playhead
  'rebuffer_end', // data: duration_ms
  'seek_start', // data: from
  'seek_end', // data: to, latency_ms
  'bitrate', // data: bitrate (bps of the level now playing), prev_bitrate, level, width, height
  'heartbeat', // data: playhead, buffer_s, bitrate, bw_estimate, latency_s, dropped, frames
  'error', // data: fatal, type, details
  'interaction', // data: kind (chat | like | ...)
  'channel_switch', // data: from, to, latency_ms, switch_index (switches so far in this visit)
  'viewport', // 360 head motion, ~1 Hz: playhead, yaw, pitch (deg), speed_dps, pred_error_deg (1 s prediction vs truth), predictor
  'ended',
  'viewend', // data: reason
  'custom',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type EventValue = string | number | boolean | null;
export type EventData = Record<string, EventValue>;

/** An event as it travels: its data is any flat record of primitives (the schema checks only that). */
export interface TelemetryEvent {
  /** view id */
  view_id: string;
  /** per-view sequence number, 0, 1, 2, ... (the server can see gaps) */
  seq: number;
  /** epoch milliseconds */
  t: number;
  type: EventType;
  data?: EventData;
}

type Num = number | null;
type Str = string | null;
type None = Record<string, never>;

/**
 * The data each event type carries (hls.js' `HlsListeners` idea): emitters and consumers name fields
 * through this map instead of re-parsing a record. Units: ms for durations, s for playheads and buffers,
 * bit/s for bitrates, degrees for angles. Stored events are validated only as flat records, so a consumer
 * of stored events still checks each value's type at run time.
 */
export interface EventDataMap {
  /** `cmcd_cid`: the content id as CMCD carries it, when it differs from `content_id` (too long, not ASCII) */
  viewstart: { content_id: Str; channel: Str; title: Str; url: Str; sdk: string; hls: Str; live?: boolean; cmcd_cid?: string };
  play: None;
  /** first frame: startup_ms from the later of view start and the first play request; ttff_ms from view start */
  startup: { startup_ms: number; ttff_ms: number };
  pause: { playhead: number };
  resume: None;
  /** `continued`: the stall a pause interrupted goes on after the resume (the same stall, counted once) */
  rebuffer_start: { playhead: number; continued?: boolean };
  rebuffer_end: { duration_ms: number };
  seek_start: { from: number };
  seek_end: { to: number; latency_ms: number };
  /**
   * the level now playing: bitrate (AVERAGE-BANDWIDTH, else BANDWIDTH; `measured`: from its fragments, the playlist
   * declaring none; null until measured), its peak, the previous one
   */
  bitrate: { bitrate: Num; peak_bitrate: Num; prev_bitrate: Num; level: number; width: Num; height: Num; measured?: boolean };
  heartbeat: {
    playhead: number;
    buffer_s: number;
    bitrate: Num;
    bw_estimate: Num;
    latency_s: Num;
    dropped: Num;
    frames: Num;
    live: boolean;
    state: string;
  };
  error: { fatal: boolean; type: string; details: string; message?: Str };
  /** chat, like, ... plus the app's own fields */
  interaction: { kind: string } & EventData;
  channel_switch: { from: Str; to: string; latency_ms: number; switch_index: number };
  /** 360° head motion, ~1 Hz: where the viewport centre is, how fast it moves, the 1 s prediction's error */
  viewport: { playhead: number; yaw: number; pitch: number; speed_dps: Num; pred_error_deg: Num; predictor: Str };
  ended: None;
  viewend: { reason: string; dropped: Num; frames: Num; started: boolean; ended: boolean };
  custom: { name: string } & EventData;
}

/**
 * A telemetry event typed by its `type` (a union over the event types: a `switch (e.type)` narrows
 * `e.data`). `TypedEvent<'startup'>` is one member.
 */
export type TypedEvent<K extends EventType = EventType> = K extends EventType
  ? Omit<TelemetryEvent, 'type' | 'data'> & { type: K; data?: EventDataMap[K] }
  : never;

export interface TelemetryBatch {
  v: typeof PROTOCOL_VERSION;
  /** idempotency key: a batch is stored once however often it is sent */
  batch_id: string;
  viewer_id: string;
  session_id: string;
  /** epoch ms when the batch was sealed */
  sealed_at: number;
  events: TelemetryEvent[];
  /** the edge negotiation this playback runs under (its session and signed token), when there is one */
  edge?: { session: string; token: string };
}

export interface TelemetryAck {
  batch_id: string;
  accepted: number;
  duplicate: boolean;
  /** for a batch tagged with an edge negotiation: whether its token checked out */
  edge?: 'verified' | 'invalid';
}

export const LIMITS = {
  maxEventsPerBatch: 500,
  /** request body limit on the server; the SDK seals batches well below it (keepalive allows 64 KiB) */
  maxBodyBytes: 256 * 1024,
  maxDataKeys: 32,
  maxStringLength: 512,
} as const;

const idSchema = { type: 'string', pattern: ID_PATTERN } as const;

/** JSON schema (draft-07, as ajv in fastify uses it) of a telemetry batch. */
/** channel names, viewer ids in negotiations, edge session ids: word characters, '.', ':', '-'; 1–128 */
export const NAME_PATTERN = '^[\\w.:-]{1,128}$';

export const telemetryBatchSchema = {
  $id: 'edgeplay/telemetry-batch',
  type: 'object',
  additionalProperties: false,
  required: ['v', 'batch_id', 'viewer_id', 'session_id', 'sealed_at', 'events'],
  properties: {
    v: { const: PROTOCOL_VERSION },
    batch_id: idSchema,
    viewer_id: idSchema,
    session_id: idSchema,
    sealed_at: { type: 'number', minimum: 0, maximum: 1e14 },
    edge: {
      type: 'object',
      additionalProperties: false,
      required: ['session', 'token'],
      properties: { session: { type: 'string', pattern: NAME_PATTERN }, token: { type: 'string', maxLength: 256 } },
    },
    events: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.maxEventsPerBatch,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['view_id', 'seq', 't', 'type'],
        properties: {
          view_id: idSchema,
          seq: { type: 'integer', minimum: 0, maximum: 1e9 },
          t: { type: 'number', minimum: 0, maximum: 1e14 },
          type: { type: 'string', enum: [...EVENT_TYPES] },
          data: {
            type: 'object',
            maxProperties: LIMITS.maxDataKeys,
            propertyNames: { pattern: '^[a-z][a-z0-9_]{0,31}$' },
            additionalProperties: {
              type: ['string', 'number', 'boolean', 'null'],
              maxLength: LIMITS.maxStringLength,
            },
          },
        },
      },
    },
  },
} as const;

const KEY_RE = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * Make app-supplied event data valid for the schema instead of letting one bad field get a whole batch
 * rejected: keys normalised to snake_case (invalid ones dropped), values reduced to primitives,
 * strings truncated, at most `maxDataKeys` keys.
 */
export function sanitizeData(data: Record<string, unknown>): EventData {
  const out: EventData = {};
  let n = 0;
  for (const [k0, v] of Object.entries(data)) {
    if (n >= LIMITS.maxDataKeys) break;
    const k = k0
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 32);
    if (!KEY_RE.test(k) || k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    let val: EventValue;
    if (v === null || typeof v === 'boolean') val = v;
    else if (typeof v === 'number') val = Number.isFinite(v) ? v : null;
    else if (typeof v === 'string') val = v.slice(0, LIMITS.maxStringLength);
    else if (v === undefined) continue;
    else {
      let s: string;
      try {
        s = JSON.stringify(v) ?? String(v);
      } catch {
        s = String(v);
      }
      val = s.slice(0, LIMITS.maxStringLength);
    }
    out[k] = val;
    n++;
  }
  return out;
}
