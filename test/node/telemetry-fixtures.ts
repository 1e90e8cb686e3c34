/** Synthetic telemetry for the metrics tests and the operator page test: one batch per view, events as the SDK sends them. */
import { randomId } from '../../src/core/ids.js';
import type { EventData, EventType, TelemetryBatch, TelemetryEvent } from '../../src/core/protocol.js';

export interface RequestReport {
  /** ms after the view's start */
  at: number;
  host: string;
  cdn: string | null;
  count: number;
  ok?: number;
  failures?: number;
  bytes: number;
  busy_ms: number;
  ttfb_sum_ms: number;
  ttfb_max_ms: number;
}

export interface SyntheticView {
  /** epoch ms of the view's start */
  start: number;
  /** the viewer (default: a new one per view) */
  viewerId?: string;
  channel?: string;
  device?: string;
  /** null: the viewer leaves before the first frame (after `exitAfterMs`) */
  startupMs: number | null;
  exitAfterMs?: number;
  /** playing time after the first frame, ms (the view ends then) */
  playMs?: number;
  /** rendition height and bitrate (bit/s) */
  height?: number;
  bitrate?: number;
  /** element CSS size and the decoded video's size (for up/downscaling) */
  size?: { width: number; height: number; dpr: number; video_width: number; video_height: number };
  /** [start ms after the first frame, duration ms] */
  stalls?: Array<[number, number]>;
  fatalError?: boolean;
  requests?: RequestReport[];
}

/** The view's batch (ids random); events in time order, the last one `viewend`. */
export function syntheticView(v: SyntheticView): TelemetryBatch {
  const viewId = randomId();
  const ev: Array<[number, EventType, EventData?]> = [];
  ev.push([0, 'viewstart', { content_id: 'c1', channel: v.channel ?? 'news', device: v.device ?? 'desktop' }]);
  if (v.size) ev.push([0, 'player_resize', { ...v.size }]);
  ev.push([100, 'play']);
  let end: number;
  if (v.startupMs === null) {
    end = 100 + (v.exitAfterMs ?? 3000);
    if (v.fatalError) ev.push([end - 10, 'error', { fatal: true, type: 'networkError', details: 'manifestLoadError' }]);
  } else {
    const first = 100 + v.startupMs;
    ev.push([first, 'startup', { startup_ms: v.startupMs, ttff_ms: first }]);
    if (v.height) ev.push([first, 'bitrate', { bitrate: v.bitrate ?? 1e6, level: 0, width: null, height: v.height }]);
    let t = first;
    for (const [at, dur] of v.stalls ?? []) {
      ev.push([first + at, 'rebuffer_start', { playhead: at / 1000 }]);
      ev.push([first + at + dur, 'rebuffer_end', { duration_ms: dur }]);
      t = first + at + dur;
    }
    end = Math.max(t, first + (v.playMs ?? 20000) + (v.stalls ?? []).reduce((a, [, d]) => a + d, 0));
    if (v.fatalError) ev.push([end - 10, 'error', { fatal: true, type: 'mediaError', details: 'bufferAppendError' }]);
  }
  for (const r of v.requests ?? []) {
    const { at, ok, failures, ...rest } = r;
    ev.push([
      Math.min(at, end - 1),
      'requests',
      { ...rest, pathway: null, ok: ok ?? r.count - (failures ?? 0), segments: r.count, failures: failures ?? 0, interval_ms: 5000 },
    ]);
  }
  ev.push([end, 'viewend', { reason: 'test' }]);
  ev.sort((a, b) => a[0] - b[0]);
  const events: TelemetryEvent[] = ev.map(([dt, type, data], seq) => ({
    view_id: viewId,
    seq,
    t: v.start + dt,
    type,
    ...(data ? { data } : {}),
  }));
  return { v: 1, batch_id: randomId(), viewer_id: v.viewerId ?? randomId(), session_id: randomId(), sealed_at: v.start + end, events };
}

/** When the view of a batch ends (its last event), epoch ms. */
export const viewEnd = (b: TelemetryBatch) => b.events[b.events.length - 1].t;
