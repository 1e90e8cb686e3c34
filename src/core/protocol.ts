/**
 * The wire protocol between the SDK and the edge controller, as the browser sees it: the constants
 * (core/schemas/common.ts), the types derived from the TypeBox schemas (core/schemas/telemetry.ts,
 * negotiate.ts — re-exported here as types only, so TypeBox never lands in the browser bundle) and
 * `sanitizeData`. The controller and tests import the schemas themselves from core/schemas/.
 */
import { DATA_KEY_PATTERN, LIMITS, type EventData, type EventType, type EventValue } from './schemas/common.js';
import type { TelemetryEvent } from './schemas/telemetry.js';

export {
  DATA_KEY_PATTERN,
  DEVICES,
  EVENT_TYPES,
  LIMITS,
  NAME_PATTERN,
  PROTOCOL_VERSION,
  type Device,
  type EventData,
  type EventType,
  type EventValue,
} from './schemas/common.js';
export type { TelemetryAck, TelemetryBatch, TelemetryEvent } from './schemas/telemetry.js';
export type {
  Assignment,
  NegotiateAnswer,
  NegotiateRequest,
  PathwayClone,
  RenditionRef,
  SteeringManifest,
  SteeringQuery,
  VariantRef,
} from './schemas/negotiate.js';

/** The viewer's telemetry consent: nothing is stored or sent until 'granted'; 'denied' drops everything. */
export type Consent = 'granted' | 'pending' | 'denied';

/**
 * `value` as a consent state: 'granted' | 'pending' | 'denied', or true → 'granted', false → 'denied'.
 * @throws TypeError naming `where` and the value for anything else (an unknown state must not leave events
 *   collecting in a batch that is never sealed)
 */
export function toConsent(value: unknown, where: string): Consent {
  if (value === true || value === 'granted') return 'granted';
  if (value === false || value === 'denied') return 'denied';
  if (value === 'pending') return 'pending';
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  throw new TypeError(`${where}: consent must be 'granted', 'pending', 'denied', true or false, got ${shown.slice(0, 64)}`);
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
  viewstart: {
    content_id: Str;
    channel: Str;
    title: Str;
    url: Str;
    sdk: string;
    hls: Str;
    live?: boolean;
    cmcd_cid?: string;
    /** the device class (`DEVICES`): the app's, else guessed from the user agent */
    device?: string;
    /** Navigation Timing: navigation start → the SDK created (Mux's Page Load Time); the first view of an SDK instance only */
    page_load_ms?: number;
  };
  play: None;
  /** first frame: startup_ms from the later of view start and the first play request; ttff_ms from view start */
  startup: { startup_ms: number; ttff_ms: number; pathway?: string };
  pause: { playhead: number };
  resume: None;
  /**
   * `continued`: the stall a pause interrupted goes on after the resume (the same stall, counted once).
   * `pathway` (startup, rebuffer_start/end, heartbeat): the Content Steering pathway of the last main
   * fragment loaded, when the playlist has steering — the controller's per-CDN QoE (server/cdns.ts).
   */
  rebuffer_start: { playhead: number; continued?: boolean; pathway?: string };
  rebuffer_end: { duration_ms: number; pathway?: string };
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
    pathway?: string;
  };
  error: { fatal: boolean; type: string; details: string; message?: Str };
  /** chat, like, ... plus the app's own fields */
  interaction: { kind: string } & EventData;
  channel_switch: { from: Str; to: string; latency_ms: number; switch_index: number };
  /**
   * 360° head motion, ~1 Hz: where the viewport centre is, how fast it moves, the 1 s prediction's error; where the
   * predictions ran (issue 13, offloading): `placement` of the latest one ('device' | 'edge', null before the first)
   * and `edge_share`, the share of the predictions since the last report that ran on the edge (null: none made)
   */
  viewport: {
    playhead: number;
    yaw: number;
    pitch: number;
    speed_dps: Num;
    pred_error_deg: Num;
    predictor: Str;
    placement: 'device' | 'edge' | null;
    edge_share: Num;
  };
  /** the SDK created → the player ready (hls.js: media attached and manifest parsed); Mux's Player Startup Time; once per SDK */
  player_ready: { player_startup_ms: number };
  /**
   * the element's displayed size in CSS px (`clientWidth` × `clientHeight`), `devicePixelRatio`, and the decoded
   * video's size (`videoWidth` × `videoHeight`, 0 before metadata): the up/downscale inputs; sent when any changes
   */
  player_resize: { width: number; height: number; dpr: number; video_width: number; video_height: number };
  /**
   * the requests one serving host answered since the last report (hls.js' own load stats of manifests, playlists,
   * init and media segments): `host` (URL host), `cdn` (its X-CDN response header when exposed, else the Content Steering pathway,
   * else null), `pathway`; `count` requests (retries included), `segments` of them media segments, `failures`, `bytes`
   * loaded, `busy_ms` Σ(end − start), `ttfb_sum_ms` Σ(first byte − start) and `ttfb_max_ms` over the successful ones,
   * `ok` their number; `interval_ms` since the previous report
   */
  requests: {
    host: string;
    cdn: Str;
    pathway: Str;
    count: number;
    ok: number;
    segments: number;
    failures: number;
    bytes: number;
    busy_ms: number;
    ttfb_sum_ms: number;
    ttfb_max_ms: number;
    interval_ms: number;
  };
  ended: None;
  viewend: { reason: string; dropped: Num; frames: Num; started: boolean; ended: boolean };
  /**
   * The deployment in effect for one inference task (accuracy/latency-aware deployment, "Joint Accuracy- and
   * Latency-aware Model Deployment"; the worker's `deploy()`, src/deploy/select.ts): the model and variant (e.g.
   * `int8+short-history`) on `backend` ('js' | 'cpu' | 'wasm' | 'webgl', or 'edge' with placement 'edge'), or none
   * (model and variant null: nothing fits, the task keeps what it had); `rel_accuracy` on the task's accuracy scale,
   * the predicted `p95_ms` at the device's `speed_factor` (1 = the profiled machine), download `bytes`, the selector's
   * `reason` (at most 512 characters) and the `error` loading the variant, if any. One event per task when the app
   * reports a deployment (`Edgeplay.recordDeployment`), and again at the start of every later view.
   */
  deployment: {
    task: string;
    model: Str;
    variant: Str;
    backend: string;
    placement: 'device' | 'edge';
    rel_accuracy: Num;
    p95_ms: Num;
    bytes: Num;
    speed_factor: Num;
    reason: string;
    error: Str;
  };
  custom: { name: string } & EventData;
}

/**
 * A telemetry event typed by its `type` (a union over the event types: a `switch (e.type)` narrows
 * `e.data`). `TypedEvent<'startup'>` is one member.
 */
export type TypedEvent<K extends EventType = EventType> = K extends EventType
  ? Omit<TelemetryEvent, 'type' | 'data'> & { type: K; data?: EventDataMap[K] }
  : never;

const KEY_RE = new RegExp(DATA_KEY_PATTERN);

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
