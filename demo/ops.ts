/**
 * The operator page (`/ops.html`): what the controller's `GET /v1/metrics` answers, refreshed every few seconds —
 * the Viewer Experience Scores, QoE over time per CDN / edge / channel / device (score, startup, rebuffering),
 * playing time per rendition, request latency and throughput per serving host — drawn with uPlot (the dashboard's
 * chart library). Every number shown keeps the API's value in `data-value` (the browser test compares them), and the
 * page's `data-from` / `data-to` the window it asked for.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsAnswer, MetricsRow } from '../src/core/schemas/metrics.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const config = (await (await fetch('/api/config')).json()) as { controller: string };
const controller = params.get('controller') ?? config.controller;
const REFRESH_MS = Number(params.get('refresh_ms') ?? 3000);

const windowSel = $<HTMLSelectElement>('window');
windowSel.value = params.get('window') ?? '900';
const groupSel = $<HTMLSelectElement>('group');
groupSel.value = params.get('group') ?? 'cdn';
windowSel.onchange = groupSel.onchange = () => void refresh();

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#f59e0b', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569'];

async function metric(q: Record<string, string | number>): Promise<MetricsAnswer> {
  const r = await fetch(`${controller}/v1/metrics?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`);
  if (!r.ok) throw new Error(`GET /v1/metrics ${JSON.stringify(q)}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<MetricsAnswer>;
}

const fmt = (v: number | null | undefined, digits = 1) => (v == null ? '—' : v.toFixed(digits));
const cell = (v: number | null | undefined, digits: number, attrs: Record<string, string>) =>
  `<td ${Object.entries(attrs)
    .map(([k, x]) => `data-${k}="${x}"`)
    .join(' ')} data-value="${v ?? ''}">${fmt(v, digits)}</td>`;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A time-series chart whose series follow the groups the API returns (re-created when they change). */
class SeriesChart {
  private plot: uPlot | null = null;
  private key = '';
  constructor(
    private el: HTMLElement,
    private title: string,
    private scale = 1,
  ) {}

  draw(ans: MetricsAnswer, stat: 'mean' | 'median' | 'pooled'): void {
    const groups = [...new Set(ans.rows.map((r) => r.group ?? 'all'))].sort();
    const step = (ans.bucket_s ?? 60) * 1000;
    const xs: number[] = [];
    for (let t = ans.from; t < ans.to; t += step) xs.push(t / 1000);
    const ys = groups.map((g) => {
      const byT = new Map(ans.rows.filter((r) => (r.group ?? 'all') === g).map((r) => [r.t, r[stat]]));
      return xs.map((x) => {
        const v = byT.get(x * 1000);
        return v == null ? null : v * this.scale;
      });
    });
    const key = groups.join('|');
    if (!this.plot || key !== this.key) {
      this.plot?.destroy();
      this.key = key;
      this.plot = new uPlot(
        {
          title: this.title,
          width: this.width(),
          height: 220,
          scales: { x: { time: true } },
          series: [
            {},
            ...groups.map((g, i) => ({ label: g, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 5 } })),
          ],
          axes: [{}, { size: 60 }],
        },
        [xs, ...ys] as uPlot.AlignedData,
        this.el,
      );
    } else this.plot.setData([xs, ...ys] as uPlot.AlignedData);
  }

  width(): number {
    return Math.max(320, (this.el.parentElement?.clientWidth ?? 600) - 28);
  }

  resize(): void {
    this.plot?.setSize({ width: this.width(), height: 220 });
  }
}

/** Playing time per rendition: bars (x = rendition, sorted by height). */
class RenditionChart {
  private plot: uPlot | null = null;
  private key = '';
  constructor(private el: HTMLElement) {}

  draw(ans: MetricsAnswer): void {
    const rows = ans.rows.filter((r) => r.group !== null);
    const h = (g: string) => Number(/^(\d+)p/.exec(g)?.[1] ?? 0);
    rows.sort((a, b) => h(a.group!) - h(b.group!) || (a.group! < b.group! ? -1 : 1));
    const labels = rows.map((r) => r.group!);
    const xs = labels.map((_, i) => i);
    const total = rows.map((r) => ((r.mean ?? 0) * r.count) / 1000);
    const key = labels.join('|');
    if (!this.plot || key !== this.key) {
      this.plot?.destroy();
      this.key = key;
      this.plot = new uPlot(
        {
          title: 'playing time per rendition (s, all views)',
          width: Math.max(320, (this.el.parentElement?.clientWidth ?? 600) - 28),
          height: 220,
          scales: {
            x: { time: false, range: [-0.6, Math.max(0.6, labels.length - 0.4)] },
            y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
          },
          series: [
            {},
            {
              label: 'playing time (s)',
              fill: '#93c5fd',
              stroke: '#2563eb',
              paths: uPlot.paths.bars!({ size: [0.6, 80] }),
              points: { show: false },
            },
          ],
          axes: [{ splits: () => xs, values: (_u, v) => v.map((i) => labels[i] ?? '') }, { size: 60 }],
        },
        [xs, total],
        this.el,
      );
    } else this.plot.setData([xs, total]);
  }

  resize(): void {
    this.plot?.setSize({ width: Math.max(320, (this.el.parentElement?.clientWidth ?? 600) - 28), height: 220 });
  }
}

const charts = {
  qoe: new SeriesChart($('chart-qoe'), 'viewer experience score (mean) per group'),
  startup: new SeriesChart($('chart-startup'), 'video startup time p50 (ms) per group'),
  rebuffer: new SeriesChart($('chart-rebuffer'), 'rebuffer percentage (of watch time) per group'),
  latency: new SeriesChart($('chart-latency'), 'request latency: time to first byte (ms) per host'),
  throughput: new SeriesChart($('chart-throughput'), 'request throughput (Mb/s) per host', 1e-6),
  renditions: new RenditionChart($('chart-renditions')),
};
addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

const SCORES: Array<[string, string]> = [
  ['viewer_experience_score', 'overall viewer experience'],
  ['playback_success_score', 'playback success'],
  ['startup_time_score', 'startup time'],
  ['smoothness_score', 'smoothness'],
  ['video_quality_score', 'video quality'],
];

let busy = false;
async function refresh(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    const windowS = Number(windowSel.value);
    const to = Date.now();
    const from = to - windowS * 1000;
    const bucket = Math.max(5, Math.round(windowS / 60));
    const group = groupSel.value;
    const base = { from, to };
    const series = (m: string, g: string) => metric({ ...base, metric: m, group_by: g, bucket_s: bucket });
    const [scores, views, qoe, startup, rebuf, lat, thr, rend, perGroup, hosts] = await Promise.all([
      Promise.all(SCORES.map(([m]) => metric({ ...base, metric: m }))),
      metric({ ...base, metric: 'views' }),
      series('viewer_experience_score', group),
      series('video_startup_time', group),
      series('rebuffer_percentage', group),
      series('request_latency', 'edge'),
      series('request_throughput', 'edge'),
      metric({ ...base, metric: 'rendition_playing_time', group_by: 'rendition' }),
      Promise.all(
        ['views', 'viewer_experience_score', 'video_startup_time', 'rebuffer_percentage', 'upscale_percentage'].map((m) =>
          metric({ ...base, metric: m, group_by: group }),
        ),
      ),
      Promise.all(
        ['request_count', 'request_failures', 'request_latency', 'max_request_latency', 'request_throughput'].map((m) =>
          metric({ ...base, metric: m, group_by: 'edge' }),
        ),
      ),
    ]);
    document.body.dataset.from = String(from);
    document.body.dataset.to = String(to);
    document.body.dataset.group = group;

    const card = (id: string, label: string, v: number | null, digits: number) =>
      `<div class="card" id="${id}" data-value="${v ?? ''}"><div class="v">${fmt(v, digits)}</div><div class="k">${label}</div></div>`;
    $('scores').innerHTML =
      SCORES.map(([m, label], i) => card(`score-${m}`, label, scores[i].rows[0]?.mean ?? null, 1)).join('') +
      card('views', 'views', views.rows[0]?.count ?? 0, 0);

    charts.qoe.draw(qoe, 'mean');
    charts.startup.draw(startup, 'median');
    charts.rebuffer.draw(rebuf, 'pooled');
    charts.latency.draw(lat, 'pooled');
    charts.throughput.draw(thr, 'pooled');
    charts.renditions.draw(rend);

    // per group: views, mean score, startup p50 / p95, rebuffer % (pooled), upscale % (mean)
    $('group-label').textContent = groupSel.selectedOptions[0]?.textContent ?? group;
    const gNames = [...new Set(perGroup.flatMap((a) => a.rows.map((r) => r.group)))].sort((a, b) => String(a).localeCompare(String(b)));
    const find = (a: MetricsAnswer, g: string | null): MetricsRow | undefined => a.rows.find((r) => r.group === g);
    $('groups').innerHTML =
      `<tr><th>${esc(group)}</th><th>views</th><th>viewer experience</th><th>startup p50 (ms)</th><th>startup p95 (ms)</th><th>rebuffer %</th><th>upscale %</th></tr>` +
      gNames
        .map((g) => {
          const a = (i: number) => find(perGroup[i], g);
          const attrs = (m: string, stat: string) => ({ metric: m, group: esc(String(g)), stat });
          return (
            `<tr><td>${esc(g ?? '(none)')}</td>` +
            cell(a(0)?.count ?? 0, 0, attrs('views', 'count')) +
            cell(a(1)?.mean, 1, attrs('viewer_experience_score', 'mean')) +
            cell(a(2)?.median, 0, attrs('video_startup_time', 'median')) +
            cell(a(2)?.p95, 0, attrs('video_startup_time', 'p95')) +
            cell(a(3)?.pooled, 2, attrs('rebuffer_percentage', 'pooled')) +
            cell(a(4)?.mean, 1, attrs('upscale_percentage', 'mean')) +
            '</tr>'
          );
        })
        .join('');

    // per host: requests, failures, TTFB (pooled mean, p50 and p95 of the reports), max TTFB, throughput (pooled)
    const hNames = [...new Set(hosts.flatMap((a) => a.rows.map((r) => r.group)))].sort((a, b) => String(a).localeCompare(String(b)));
    $('hosts').innerHTML =
      '<tr><th>host</th><th>requests</th><th>failures</th><th>TTFB mean (ms)</th><th>TTFB p95 of reports (ms)</th><th>max TTFB (ms)</th><th>throughput (Mb/s)</th></tr>' +
      hNames
        .map((h) => {
          const a = (i: number) => find(hosts[i], h);
          const attrs = (m: string, stat: string) => ({ metric: m, group: esc(String(h)), stat });
          const sum = (r: MetricsRow | undefined) => (r && r.mean !== null ? Math.round(r.mean * r.count) : null);
          return (
            `<tr><td>${esc(h ?? '(none)')}</td>` +
            cell(sum(a(0)), 0, attrs('request_count', 'sum')) +
            cell(sum(a(1)), 0, attrs('request_failures', 'sum')) +
            cell(a(2)?.pooled, 1, attrs('request_latency', 'pooled')) +
            cell(a(2)?.p95, 1, attrs('request_latency', 'p95')) +
            cell(a(3)?.max, 1, attrs('max_request_latency', 'max')) +
            cell(a(4)?.pooled == null ? null : a(4)!.pooled! / 1e6, 2, attrs('request_throughput', 'pooled_mbps')) +
            '</tr>'
          );
        })
        .join('');
    $('updated').textContent =
      `updated ${new Date(to).toLocaleTimeString()} · ${views.views} views read${views.truncated ? ' (truncated)' : ''}`;
    document.body.dataset.updated = String((Number(document.body.dataset.updated ?? 0) || 0) + 1);
  } catch (e) {
    $('updated').textContent = `controller unreachable: ${(e as Error).message}`;
  } finally {
    busy = false;
  }
}

await refresh();
setInterval(() => void refresh(), REFRESH_MS);
