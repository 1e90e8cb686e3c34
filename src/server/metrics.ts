/**
 * The metrics of `GET /v1/metrics` (core/schemas/metrics.ts), computed from stored events with the code the SDK runs:
 * every view is summarised by core/qoe.ts (Mux's definitions and scores), every `requests` event is one report of one
 * serving host. The store only has to find the events (`TelemetryStore.viewEventsBetween`), so memory, SQLite and
 * PostgreSQL answer the same numbers.
 *
 * Which samples fall in [from, to): a view by its last event (Mux aggregates QoE metrics by the view's end time; a view
 * still playing counts with what it has so far), a request report by its own time. Percentiles: linear interpolation
 * between the closest ranks (p × (n − 1)), so the median of an even count is the mean of the middle two.
 */
import { summarizeView, type QoeSummary } from '../core/qoe.js';
import { METRIC_UNITS, type GroupBy, type MetricName, type MetricsAnswer, type MetricsRow } from '../core/schemas/metrics.js';
import type { StoredEvent } from './store.js';

/** A value of one view; `num`/`den`: its share of the pooled ratio. */
interface ViewSample {
  value: number;
  num?: number;
  den?: number;
}

const pct = (b: boolean) => (b ? 100 : 0);
const started = (s: QoeSummary) => s.startup_ms !== null;

/** Per-view metrics: the value of one view, or null when the view has none (it is then not a sample). */
const VIEW_METRICS: Partial<Record<MetricName, (s: QoeSummary) => ViewSample | number | null>> = {
  viewer_experience_score: (s) => s.score_viewer_experience,
  playback_success_score: (s) => s.score_playback_success,
  startup_time_score: (s) => s.score_startup,
  smoothness_score: (s) => s.score_smoothness,
  video_quality_score: (s) => s.score_video_quality,
  video_startup_time: (s) => s.startup_ms,
  player_startup_time: (s) => s.player_startup_ms,
  page_load_time: (s) => s.page_load_ms,
  aggregate_startup_time: (s) => s.aggregate_startup_ms,
  seek_latency: (s) => s.seek_latency_mean_ms,
  // the rates are over views that played or ended (a view still starting has not decided yet)
  exits_before_video_start: (s) => (started(s) || s.exited_before_start ? pct(s.exited_before_start && s.errors_fatal === 0) : null),
  playback_failure_percentage: (s) => (started(s) || s.exited_before_start || s.errors_fatal > 0 ? pct(s.errors_fatal > 0) : null),
  video_startup_failure_percentage: (s) => (started(s) || s.exited_before_start || s.errors_fatal > 0 ? pct(s.startup_failed) : null),
  rebuffer_percentage: (s) => (started(s) ? { value: s.rebuffer_percentage, num: 100 * s.rebuffer_ms, den: s.watch_ms } : null),
  rebuffer_frequency: (s) => (started(s) ? { value: s.rebuffer_per_min, num: 60000 * s.rebuffer_count, den: s.watch_ms } : null),
  rebuffer_duration: (s) => (started(s) ? s.rebuffer_ms : null),
  rebuffer_count: (s) => (started(s) ? s.rebuffer_count : null),
  upscale_percentage: (s) => s.upscale_pct,
  downscale_percentage: (s) => s.downscale_pct,
  max_upscale_percentage: (s) => s.max_upscale_pct,
  max_downscale_percentage: (s) => s.max_downscale_pct,
  weighted_average_bitrate: (s) => s.bitrate_avg_bps,
  rendition_change_count: (s) => (started(s) ? s.switch_count : null),
  live_stream_latency: (s) => (s.live ? s.latency_avg_s : null),
  views: () => 1,
  // one sample per viewer (the batch's `viewer_id`) and group / bucket: `count` is the number of unique viewers
  unique_viewers: () => 1,
  watch_time: (s) => s.watch_ms,
  playing_time: (s) => s.play_ms,
  lts_buffering_ratio: (s) => (started(s) ? s.rebuffer_ratio_pct : null),
  lts_buffering_frequency: (s) => (started(s) ? s.rebuffer_per_100s : null),
  dropped_frame_percentage: (s) => (s.total_frames > 0 ? (100 * s.dropped_frames) / s.total_frames : null),
};

type Report = Record<string, unknown>;
const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Per-report metrics (one `requests` event = one host's requests over one heartbeat of one view). */
const REQUEST_METRICS: Partial<Record<MetricName, (d: Report) => ViewSample | number | null>> = {
  request_latency: (d) => (n(d.ok) > 0 ? { value: n(d.ttfb_sum_ms) / n(d.ok), num: n(d.ttfb_sum_ms), den: n(d.ok) } : null),
  max_request_latency: (d) => (n(d.ok) > 0 ? n(d.ttfb_max_ms) : null),
  request_throughput: (d) =>
    n(d.busy_ms) > 0 ? { value: (n(d.bytes) * 8000) / n(d.busy_ms), num: n(d.bytes) * 8000, den: n(d.busy_ms) } : null,
  request_count: (d) => n(d.count),
  request_failures: (d) => n(d.failures),
  request_bytes: (d) => n(d.bytes),
};

/** The p-quantile (0…1) of sorted values, linear between the closest ranks; null for none. */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const x = p * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

/** Group events (any order) by view, each view's events in seq order. */
function byView(events: readonly StoredEvent[]): Map<string, StoredEvent[]> {
  const m = new Map<string, StoredEvent[]>();
  for (const e of events) {
    let l = m.get(e.view_id);
    if (!l) m.set(e.view_id, (l = []));
    l.push(e);
  }
  for (const l of m.values()) l.sort((a, b) => a.seq - b.seq);
  return m;
}

/** A metric that cannot be grouped by that dimension (the route answers 400 with this message). */
export class MetricQueryError extends Error {}

export interface MetricsRequest {
  metric: MetricName;
  groupBy: GroupBy | null;
  /** epoch ms, [from, to) */
  from: number;
  to: number;
  /** bucket width, ms (null: one row per group) */
  bucketMs: number | null;
}

/**
 * Aggregate one metric over the events of the views in the window (as `viewEventsBetween` returns them).
 * Rows are sorted by group (null last), then bucket.
 * @throws MetricQueryError when the metric cannot be grouped so (rendition groups only rendition_playing_time)
 */
export function computeMetrics(events: readonly StoredEvent[], q: MetricsRequest, truncated = false): MetricsAnswer {
  if (q.groupBy === 'rendition' && q.metric !== 'rendition_playing_time')
    throw new MetricQueryError(`querystring/group_by: ${q.metric} cannot be grouped by rendition (only rendition_playing_time can)`);
  const views = byView(events);
  const cells = new Map<string, { group: string | null; t: number | null; values: number[]; num: number; den: number; pooled: boolean }>();
  const seen = new Set<string>();
  /** `once`: a sample counts once per cell with this key (unique viewers) */
  const add = (group: string | null, t: number, s: ViewSample | number | null, once?: string) => {
    if (s === null) return;
    const v = typeof s === 'number' ? { value: s } : s;
    if (!Number.isFinite(v.value)) return;
    const bucket = q.bucketMs ? q.from + Math.floor((t - q.from) / q.bucketMs) * q.bucketMs : null;
    const key = `${group}\u0000${bucket}`;
    if (once !== undefined) {
      if (seen.has(`${key}\u0000${once}`)) return;
      seen.add(`${key}\u0000${once}`);
    }
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { group, t: bucket, values: [], num: 0, den: 0, pooled: false }));
    c.values.push(v.value);
    if (v.den !== undefined && v.num !== undefined) {
      c.pooled = true;
      c.num += v.num;
      c.den += v.den;
    }
  };
  const inWindow = (t: number) => t >= q.from && t < q.to;
  const viewGroup = (s: QoeSummary): string | null =>
    q.groupBy === 'cdn'
      ? s.cdn
      : q.groupBy === 'edge'
        ? s.host
        : q.groupBy === 'channel'
          ? s.channel
          : q.groupBy === 'device'
            ? s.device
            : null;

  const viewFn = VIEW_METRICS[q.metric];
  const reqFn = REQUEST_METRICS[q.metric];
  for (const evs of views.values()) {
    const s = summarizeView(evs);
    const last = evs.reduce((m, e) => Math.max(m, e.t), -Infinity);
    if (viewFn) {
      if (inWindow(last)) add(viewGroup(s), last, viewFn(s), q.metric === 'unique_viewers' ? evs[0].viewer_id : undefined);
    } else if (reqFn) {
      for (const e of evs) {
        if (e.type !== 'requests' || !e.data || !inWindow(e.t)) continue;
        const host = typeof e.data.host === 'string' ? e.data.host : null;
        const cdn = typeof e.data.cdn === 'string' ? e.data.cdn : host;
        const group = q.groupBy === 'cdn' ? cdn : q.groupBy === 'edge' ? host : viewGroup(s);
        add(group, e.t, reqFn(e.data));
      }
    } else if (inWindow(last)) {
      // rendition_playing_time: one sample per rendition the view played
      for (const [rend, ms] of Object.entries(s.rendition_play_ms)) add(q.groupBy === 'rendition' ? rend : viewGroup(s), last, ms);
    }
  }

  const rows: MetricsRow[] = [...cells.values()]
    .map((c) => {
      const v = c.values.sort((a, b) => a - b);
      return {
        group: q.groupBy ? c.group : null,
        t: c.t,
        count: v.length,
        median: quantile(v, 0.5),
        p95: quantile(v, 0.95),
        mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null,
        max: v.length ? v[v.length - 1] : null,
        pooled: c.pooled && c.den > 0 ? c.num / c.den : null,
      };
    })
    .sort((a, b) =>
      a.group === b.group ? (a.t ?? 0) - (b.t ?? 0) : a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : 1,
    );
  return {
    metric: q.metric,
    unit: METRIC_UNITS[q.metric],
    group_by: q.groupBy,
    from: q.from,
    to: q.to,
    bucket_s: q.bucketMs ? q.bucketMs / 1000 : null,
    views: views.size,
    truncated,
    rows,
  };
}
