/**
 * `GET /v1/metrics` — QoE and delivery metrics aggregated over the stored telemetry (Mux Data's metric list, plus the
 * LTS indicators). Query: `metric` (one of `METRICS`), optional `group_by` (`GROUP_BYS`), `from` / `to` (epoch ms or an
 * ISO 8601 date-time; default the last hour), optional `bucket_s` (a time series: one row per group and bucket).
 * Answer: per group (and bucket) the number of samples, their median, 95th percentile, mean and max, and — for the metrics
 * Mux defines as a platform-wide ratio (request throughput, request latency, rebuffer percentage and frequency) —
 * that pooled ratio. The server computes it in src/server/metrics.ts.
 */
import { Type, type Static } from 'typebox';
import { Nullable, StringEnum } from './helpers.js';

/**
 * Every metric the route answers. A sample is one value per view (most), per `requests` report of one host
 * (request_*), or per view and rendition (rendition_playing_time). Units in `METRIC_UNITS`.
 */
export const METRICS = [
  // Viewer Experience Scores (0–100; core/scores.ts)
  'viewer_experience_score',
  'playback_success_score',
  'startup_time_score',
  'smoothness_score',
  'video_quality_score',
  // startup
  'video_startup_time',
  'player_startup_time',
  'page_load_time',
  'aggregate_startup_time',
  'seek_latency',
  // playback success
  'exits_before_video_start',
  'playback_failure_percentage',
  'video_startup_failure_percentage',
  // smoothness
  'rebuffer_percentage',
  'rebuffer_frequency',
  'rebuffer_duration',
  'rebuffer_count',
  // video quality
  'upscale_percentage',
  'downscale_percentage',
  'max_upscale_percentage',
  'max_downscale_percentage',
  'weighted_average_bitrate',
  'rendition_change_count',
  'rendition_playing_time',
  'live_stream_latency',
  // engagement
  'views',
  'unique_viewers',
  'watch_time',
  'playing_time',
  // request metrics (per serving host)
  'request_latency',
  'max_request_latency',
  'request_throughput',
  'request_count',
  'request_failures',
  'request_bytes',
  // beyond Mux: LTS's definitions (per 100 s of view time) and dropped frames
  'lts_buffering_ratio',
  'lts_buffering_frequency',
  'dropped_frame_percentage',
] as const;
export type MetricName = (typeof METRICS)[number];

/** What a metric's values are measured in. */
export const METRIC_UNITS: Record<MetricName, string> = {
  viewer_experience_score: 'score',
  playback_success_score: 'score',
  startup_time_score: 'score',
  smoothness_score: 'score',
  video_quality_score: 'score',
  video_startup_time: 'ms',
  player_startup_time: 'ms',
  page_load_time: 'ms',
  aggregate_startup_time: 'ms',
  seek_latency: 'ms',
  exits_before_video_start: '%',
  playback_failure_percentage: '%',
  video_startup_failure_percentage: '%',
  rebuffer_percentage: '%',
  rebuffer_frequency: 'per min',
  rebuffer_duration: 'ms',
  rebuffer_count: 'count',
  upscale_percentage: '%',
  downscale_percentage: '%',
  max_upscale_percentage: '%',
  max_downscale_percentage: '%',
  weighted_average_bitrate: 'bit/s',
  rendition_change_count: 'count',
  rendition_playing_time: 'ms',
  live_stream_latency: 's',
  views: 'count',
  unique_viewers: 'count',
  watch_time: 'ms',
  playing_time: 'ms',
  request_latency: 'ms',
  max_request_latency: 'ms',
  request_throughput: 'bit/s',
  request_count: 'count',
  request_failures: 'count',
  request_bytes: 'bytes',
  lts_buffering_ratio: 's per 100 s',
  lts_buffering_frequency: 'per 100 s',
  dropped_frame_percentage: '%',
};

/**
 * Dimensions: `cdn` the delivery network (X-CDN header, else the Content Steering pathway, else the host), `edge` the
 * serving host (host:port: a CDN's edge server, or one of our edges); a view counts for the CDN and host that
 * delivered most of its bytes, a request report for its own. `channel` and `device` come from the view's start;
 * `rendition` only groups rendition_playing_time.
 */
export const GROUP_BYS = ['cdn', 'edge', 'channel', 'rendition', 'device'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

/** epoch milliseconds, or an ISO 8601 date-time (`2026-11-21T10:00:00Z`, with an offset or Z) */
const TIME_PATTERN = '^(\\d{1,14}|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))$';

export const MetricsQuerySchema = Type.Object(
  {
    metric: StringEnum(METRICS),
    group_by: Type.Optional(StringEnum(GROUP_BYS)),
    from: Type.Optional(Type.String({ pattern: TIME_PATTERN })),
    to: Type.Optional(Type.String({ pattern: TIME_PATTERN })),
    /** bucket width in seconds (1 … 86400): a time series */
    bucket_s: Type.Optional(Type.String({ pattern: '^[1-9]\\d{0,4}$' })),
  },
  { additionalProperties: false },
);
export type MetricsQuery = Static<typeof MetricsQuerySchema>;

const Num = Nullable(Type.Number());

export const MetricsRowSchema = Type.Object({
  /** the group's value (null: the view or report has none, e.g. no request reports for `cdn`; always null without group_by) */
  group: Nullable(Type.String()),
  /** the bucket's start, epoch ms (null without bucket_s) */
  t: Num,
  /** samples: views, request reports or (view, rendition) pairs */
  count: Type.Integer(),
  median: Num,
  p95: Num,
  mean: Num,
  /** the largest sample (Mux's Max Request Latency is the max of max_request_latency) */
  max: Num,
  /** Σ numerator / Σ denominator where Mux defines the metric so (request throughput and latency, rebuffer percentage and frequency) */
  pooled: Num,
});
export type MetricsRow = Static<typeof MetricsRowSchema>;

export const MetricsAnswerSchema = Type.Object({
  metric: Type.String(),
  unit: Type.String(),
  group_by: Nullable(Type.String()),
  from: Type.Number(),
  to: Type.Number(),
  bucket_s: Num,
  /** views whose events were read (those with an event in [from, to)) */
  views: Type.Integer(),
  /** true when more views matched than the controller reads at once (the most recent are kept) */
  truncated: Type.Boolean(),
  rows: Type.Array(MetricsRowSchema),
});
export type MetricsAnswer = Static<typeof MetricsAnswerSchema>;
