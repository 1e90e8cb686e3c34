/**
 * The wire protocol's constants and building blocks, shared by the SDK, the controller and the schemas
 * in this folder. Plain values only — no TypeBox here, so the browser bundle can import them.
 */
export { ID_PATTERN } from '../ids.js';

export const PROTOCOL_VERSION = 1;

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
  'viewport', // 360 head motion, ~1 Hz: playhead, yaw, pitch (deg), speed_dps, pred_error_deg (1 s prediction vs truth), predictor, placement (device|edge), edge_share
  'player_ready', // the player can take instructions (hls.js: media attached and manifest parsed): player_startup_ms from SDK creation
  'player_resize', // the element's displayed size (CSS px), devicePixelRatio and the decoded video's size, when any changes
  'requests', // per serving host, since the last report: count, failures, bytes, busy_ms, ttfb_sum_ms, ttfb_max_ms (hls.js load stats)
  'ended',
  'viewend', // data: reason
  'deployment', // the model variant and backend chosen per inference task (or the edge), and why: task, model, variant, backend, placement, rel_accuracy, p95_ms, bytes, speed_factor, reason, error
  'custom',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event data value: primitives only (strings at most `LIMITS.maxStringLength` characters). */
export type EventValue = string | number | boolean | null;
/** Event data: at most `LIMITS.maxDataKeys` snake_case keys (`DATA_KEY_PATTERN`). */
export type EventData = Record<string, EventValue>;

export const LIMITS = {
  maxEventsPerBatch: 500,
  /** request body limit on the server; the SDK seals batches well below it (keepalive allows 64 KiB) */
  maxBodyBytes: 256 * 1024,
  maxDataKeys: 32,
  maxStringLength: 512,
} as const;

/** channel names, viewer ids in negotiations, edge session ids: word characters, '.', ':', '-'; 1–128 */
export const NAME_PATTERN = '^[\\w.:-]{1,128}$';
const NAME_RE = new RegExp(NAME_PATTERN);
/** whether `s` is a NAME_PATTERN name (what the controller takes as a channel or a negotiation's viewer id) */
export const isName = (s: unknown): s is string => typeof s === 'string' && NAME_RE.test(s);
/**
 * Throw unless `v` is a NAME_PATTERN name: the SDK's check of a channel or viewer id before the controller would refuse it.
 * @throws TypeError naming `where` and `key`
 */
export function checkName(where: string, key: string, v: unknown): void {
  if (!isName(v)) throw new TypeError(`${where}: options.${key} must be 1–128 of [A-Za-z0-9_.:-], got ${JSON.stringify(v)}`);
}

/** keys of event data: snake_case, 1–32 characters */
export const DATA_KEY_PATTERN = '^[a-z][a-z0-9_]{0,31}$';

/** the device classes a negotiation may name */
export const DEVICES = ['desktop', 'mobile', 'tv', 'headset', 'other'] as const;
export type Device = (typeof DEVICES)[number];
