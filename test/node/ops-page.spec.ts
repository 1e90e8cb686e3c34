/**
 * The operator page (`npm start` → /ops.html) in real headless Chromium (Debian's, driven by playwright-core): telemetry
 * of views on the CDN and both edges goes to the real controller, the page draws its charts from GET /v1/metrics, a
 * screenshot of it is not blank and every chart has drawn coloured series, every number it shows equals what the API
 * answers for the same window, and a view posted afterwards shows up without a reload. The screenshot is kept in
 * build/test/ops.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDemoServer, type DemoServer } from '../../demo/server.js';
import type { MetricsAnswer } from '../../src/core/schemas/metrics.js';
import { readPng } from './png.js';
import { syntheticView, type SyntheticView } from './telemetry-fixtures.js';

const CHROME = process.env.CHROME_BIN ?? '/usr/bin/chromium';
const OUT = resolve(import.meta.dirname, '..', '..', 'build', 'test');

describe('operator page (/ops.html) in Chromium', () => {
  let demo: DemoServer;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const hosts: Record<string, string> = {};

  const post = async (v: SyntheticView) => {
    const r = await fetch(`${demo.controllerUrl}/v1/telemetry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(syntheticView(v)),
    });
    expect(r.status).toBe(200);
  };
  const api = async (q: Record<string, string | number>): Promise<MetricsAnswer> =>
    (await fetch(`${demo.controllerUrl}/v1/metrics?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`)).json();

  beforeAll(async () => {
    if (!existsSync(CHROME)) return;
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-ops-'));
    demo = await startDemoServer({ port: 0, controllerPort: 0, live: false, dataDir: dir, log: () => undefined });
    hosts.cdn = new URL(demo.url).host;
    for (const e of demo.edges) hosts[e.id] = new URL(e.url).host;
    // 15 views over the last 12 minutes: on the CDN, edge-1 and edge-2, three renditions, a few stalls, an exit
    const now = Date.now();
    const pathways = ['cdn', 'edge-1', 'edge-2'];
    for (let i = 0; i < 15; i++) {
      const p = pathways[i % 3];
      const height = [360, 720, 1080][i % 3 === 0 ? 0 : i % 2 ? 1 : 2];
      const vw = (height * 16) / 9;
      await post({
        start: now - 12 * 60_000 + i * 45_000,
        channel: i % 4 ? 'news' : 'sports',
        device: i % 5 ? 'desktop' : 'mobile',
        startupMs: i === 7 ? null : 400 + ((i * 370) % 2600),
        exitAfterMs: 2500,
        height,
        bitrate: height * 3000,
        playMs: 20_000 + i * 1000,
        size: { width: 1280, height: 720, dpr: 1, video_width: vw, video_height: height },
        stalls: i % 4 === 1 ? [[5000, 800 + i * 50]] : [],
        requests: [5000, 15_000].map((at, k) => ({
          at,
          host: hosts[p],
          cdn: p,
          count: 3 + k,
          failures: i % 6 === 0 && k ? 1 : 0,
          bytes: (600_000 + i * 10_000) * (3 + k),
          busy_ms: (300 + 200 * (i % 3)) * (3 + k),
          ttfb_sum_ms: (20 + 15 * (i % 3) + k * 5) * (3 + k),
          ttfb_max_ms: 40 + 15 * (i % 3) + k * 5,
        })),
      });
    }
    browser = await chromium.launch({
      executablePath: CHROME,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1700 } });
    page.on('pageerror', (e) => console.error('[ops page]', e));
    await page.goto(`${demo.url}/ops.html?window=900&group=cdn&refresh_ms=1000`);
    await page.waitForFunction(() => Number(document.body.dataset.updated ?? 0) >= 1, undefined, { timeout: 30000 });
  }, 900000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    if (!existsSync(CHROME)) pending(`no Chromium at ${CHROME} (set CHROME_BIN)`);
  });

  it('draws every chart and a screenshot that is not blank', async () => {
    // per chart: the canvas uPlot drew, and how many of its pixels are saturated (series colours; axes are grey)
    const charts = await page.evaluate(() =>
      ['chart-qoe', 'chart-startup', 'chart-rebuffer', 'chart-renditions', 'chart-latency', 'chart-throughput'].map((id) => {
        const c = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
        if (!c) return { id, colored: -1, legend: 0 };
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let colored = 0;
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) colored++;
        return { id, colored, legend: document.querySelectorAll(`#${id} .u-legend .u-series`).length };
      }),
    );
    for (const c of charts) expect(c.colored).withContext(`${c.id} drew no series`).toBeGreaterThan(100);
    // QoE per CDN: one series per pathway (plus x); request charts: one per host
    expect(charts.find((c) => c.id === 'chart-qoe')!.legend).toBe(1 + 3);
    expect(charts.find((c) => c.id === 'chart-latency')!.legend).toBe(1 + 3);

    const png = await page.screenshot({ fullPage: true });
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'ops.png'), png);
    const img = readPng(png);
    let notWhite = 0,
      colored = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
      if (r < 235 || g < 235 || b < 235) notWhite++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 80) colored++;
    }
    const px = img.width * img.height;
    expect(img.width).toBeGreaterThanOrEqual(1400);
    expect(notWhite / px)
      .withContext('screenshot is (nearly) blank')
      .toBeGreaterThan(0.05);
    expect(colored).withContext('no coloured pixels (charts) in the screenshot').toBeGreaterThan(3000);
  });

  it('shows exactly the numbers GET /v1/metrics answers for its window', async () => {
    const shown = await page.evaluate(() => ({
      from: document.body.dataset.from!,
      to: document.body.dataset.to!,
      group: document.body.dataset.group!,
      cards: [...document.querySelectorAll<HTMLElement>('#scores .card')].map((c) => ({
        id: c.id,
        value: c.dataset.value!,
        text: c.querySelector('.v')!.textContent!,
      })),
      cells: [...document.querySelectorAll<HTMLElement>('td[data-metric]')].map((c) => ({
        metric: c.dataset.metric!,
        group: c.dataset.group!,
        stat: c.dataset.stat!,
        value: c.dataset.value!,
        text: c.textContent!,
        table: c.closest('table')!.id,
      })),
    }));
    const win = { from: shown.from, to: shown.to };
    for (const c of shown.cards) {
      if (c.id === 'views') {
        const v = await api({ ...win, metric: 'views' });
        expect(Number(c.value)).toBe(v.rows[0].count);
        expect(c.text).toBe(String(v.rows[0].count));
        expect(v.rows[0].count).toBe(15);
        continue;
      }
      const m = c.id.replace(/^score-/, '');
      const a = await api({ ...win, metric: m });
      expect(Number(c.value)).withContext(m).toBe(a.rows[0].mean!);
      expect(c.text).withContext(m).toBe(a.rows[0].mean!.toFixed(1));
    }
    expect(shown.cards.length).toBe(6);
    // every table cell: the same query the page made, the same row, the same statistic
    const cache = new Map<string, MetricsAnswer>();
    let checked = 0;
    for (const c of shown.cells) {
      const groupBy = c.table === 'hosts' ? 'edge' : shown.group;
      const key = `${c.metric}/${groupBy}`;
      if (!cache.has(key)) cache.set(key, await api({ ...win, metric: c.metric, group_by: groupBy }));
      const row = cache.get(key)!.rows.find((r) => r.group === c.group);
      const expected =
        row === undefined
          ? null
          : c.stat === 'sum'
            ? Math.round(row.mean! * row.count)
            : c.stat === 'pooled_mbps'
              ? row.pooled! / 1e6
              : (row as unknown as Record<string, number | null>)[c.stat];
      expect(c.value === '' ? null : Number(c.value))
        .withContext(`${c.table} ${c.metric} ${c.group} ${c.stat}`)
        .toBe(expected ?? (c.stat === 'count' ? 0 : null));
      checked++;
    }
    // 3 CDN rows × 6 figures + 3 hosts × 6 figures
    expect(checked).toBe(36);
    const hostRows = shown.cells.filter((c) => c.table === 'hosts' && c.stat === 'sum' && c.metric === 'request_count');
    expect(hostRows.map((c) => c.group).sort()).toEqual(Object.values(hosts).sort());
    expect(hostRows.reduce((a, c) => a + Number(c.value), 0)).toBe(15 * (3 + 4));
  });

  it('updates live: a view posted now appears without a reload', async () => {
    const before = Number(await page.evaluate(() => document.querySelector<HTMLElement>('#views')!.dataset.value));
    await post({
      start: Date.now() - 30_000,
      startupMs: 900,
      height: 720,
      playMs: 20_000,
      requests: [
        { at: 3000, host: 'new-cdn.example:443', cdn: 'cdn-new', count: 2, bytes: 1e6, busy_ms: 400, ttfb_sum_ms: 60, ttfb_max_ms: 40 },
      ],
    });
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#views')!.dataset.value) === n + 1, before, {
      timeout: 20000,
    });
    await page.waitForFunction(() => !!document.querySelector('td[data-group="cdn-new"]'), undefined, { timeout: 20000 });
    const legend = await page.evaluate(() => document.querySelectorAll('#chart-qoe .u-legend .u-series').length);
    expect(legend).toBe(1 + 4);
  });
});
