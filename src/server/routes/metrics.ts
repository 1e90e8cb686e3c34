/**
 * GET /v1/metrics?metric=…&group_by=cdn|edge|channel|rendition|device&from=…&to=…&bucket_s=… — medians, p95, means,
 * counts (and Mux's pooled ratios) of one metric over the stored telemetry, per group and optionally per time bucket
 * (core/schemas/metrics.ts; computed in ../metrics.ts from the events `TelemetryStore.viewEventsBetween` finds).
 * 400 naming the parameter: an unknown metric, dimension or parameter, a malformed time, `from` not before `to`, a
 * window over 31 days, more than 1,000 buckets, a metric that cannot be grouped by rendition.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorAnswerSchema } from '../../core/schemas/negotiate.js';
import { MetricsAnswerSchema, MetricsQuerySchema } from '../../core/schemas/metrics.js';
import { computeMetrics, MetricQueryError } from '../metrics.js';
import type { TelemetryStore } from '../store.js';

export interface MetricsRoutesOptions {
  store: TelemetryStore;
  /** the most views one query reads (default 5000; the most recent are kept, the answer says `truncated`) */
  maxViews?: number;
}

const HOUR = 3600_000;
const MAX_WINDOW = 31 * 24 * HOUR;
const MAX_BUCKETS = 1000;

/**
 * epoch ms from the query's digits or ISO date-time (the schema checked the form); NaN when it is no real date — also a
 * day the month does not have (2026-11-31), which Date.parse rolls over into the next month
 */
const parseTime = (s: string): number => {
  if (/^\d+$/.test(s)) return Number(s);
  const [y, m, d] = s.slice(0, 10).split('-').map(Number);
  // day 0 of the next month is the month's last day
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate())) return NaN;
  return Date.parse(s);
};

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { store, maxViews = 5000 }) => {
  app.get(
    '/v1/metrics',
    { schema: { querystring: MetricsQuerySchema, response: { 200: MetricsAnswerSchema, '4xx': ErrorAnswerSchema } } },
    async (req, reply) => {
      const q = req.query;
      const bad = (field: string, message: string) =>
        reply.code(400).send({ error: 'bad_request', message: `querystring/${field} ${message}`, field: `querystring/${field}` });
      const to = q.to !== undefined ? parseTime(q.to) : Date.now();
      if (!Number.isFinite(to)) return bad('to', 'is not a date');
      const from = q.from !== undefined ? parseTime(q.from) : to - HOUR;
      if (!Number.isFinite(from)) return bad('from', 'is not a date');
      if (!(from < to)) return bad('from', `must be before to (${from} ≥ ${to})`);
      if (to - from > MAX_WINDOW) return bad('from', 'window longer than 31 days');
      const bucketMs = q.bucket_s !== undefined ? Number(q.bucket_s) * 1000 : null;
      if (bucketMs !== null && (to - from) / bucketMs > MAX_BUCKETS)
        return bad('bucket_s', `makes more than ${MAX_BUCKETS} buckets in this window`);
      // one view more than kept is read, to know whether the window held more: the least recent is dropped
      const events = await store.viewEventsBetween(from, to, maxViews + 1);
      const truncated = new Set(events.map((e) => e.view_id)).size > maxViews;
      const drop = truncated ? leastRecent(events, from, to) : null;
      const kept = drop === null ? events : events.filter((e) => e.view_id !== drop);
      try {
        return computeMetrics(kept, { metric: q.metric, groupBy: q.group_by ?? null, from, to, bucketMs }, truncated);
      } catch (e) {
        if (e instanceof MetricQueryError) return bad('group_by', e.message.replace(/^querystring\/group_by:\s*/, ''));
        throw e;
      }
    },
  );
};

/** the view whose latest event in [from, to) is the oldest */
function leastRecent(events: ReadonlyArray<{ view_id: string; t: number }>, from: number, to: number): string {
  const last = new Map<string, number>();
  for (const e of events) if (e.t >= from && e.t < to) last.set(e.view_id, Math.max(last.get(e.view_id) ?? -Infinity, e.t));
  let id = '',
    t = Infinity;
  for (const [v, x] of last) if (x < t) [id, t] = [v, x];
  return id;
}
