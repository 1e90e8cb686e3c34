/**
 * `npm run bench:browser-abr -- [--traces a,b,c] [--policies hls,drl] [--limit 15]`
 * Plays shaped streams in headless Chromium (playwright-core driving Debian's chromium) with hls.js'
 * default ABR and with edgeplay policies, and prints QoE_lin computed from real playback (same formula
 * as the simulator, nominal ladder, chunk 0 excluded), decision latency measured in the page and
 * main-thread long tasks. Writes bench/results/browser-abr.json.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../demo/server.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const traces = arg('traces', 'norway_bus_1,norway_ferry_2,norway_tram_5').split(',');
const policies = arg('policies', 'hls,drl').split(',');
const limit = Number(arg('limit', '15'));
if (!existsSync('dist/edgeplay.worker.js')) {
  console.error('dist/edgeplay.worker.js missing: run npm run build first');
  process.exit(2);
}
const exe = process.env.CHROME_BIN ?? '/usr/bin/chromium';
const dataDir = mkdtempSync(join(tmpdir(), 'edgeplay-bench-'));
const demo = await startDemoServer({ port: 0, controllerPort: 0, live: false, dataDir, log: () => undefined });
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required'],
});
type Row = Record<string, number | string | null>;
const rows: Row[] = [];
try {
  for (const trace of traces) {
    for (const policy of policies) {
      const page = await browser.newPage();
      const t0 = Date.now();
      await page.goto(`${demo.url}/bench-abr.html?policy=${policy}&trace=${encodeURIComponent(trace)}&limit=${limit}`);
      await page.waitForFunction(() => (window as unknown as { benchResult?: unknown }).benchResult, undefined, { timeout: (limit * 4 + 120) * 1000, polling: 500 });
      const r = (await page.evaluate(() => (window as unknown as { benchResult: Row }).benchResult)) as Row;
      await page.close();
      r.wall_s = (Date.now() - t0) / 1000;
      rows.push(r);
      const f = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');
      console.log(`${String(trace).padEnd(16)} ${String(policy).padEnd(6)} qoe/chunk ${f(r.qoe_chunk)}  bitrate ${f(r.bitrate_mean)}  rebuffer ${f(r.rebuffer_s, 2)} s (${r.rebuffers})  smooth ${f(r.smooth_mean)}  decisions ${r.decisions} (fallbacks ${r.fallbacks})  latency p50/p95 ${f(r.latency_p50_ms, 2)}/${f(r.latency_p95_ms, 2)} ms  long tasks ${r.long_tasks}`);
    }
  }
} finally {
  await browser.close();
  await demo.close();
  rmSync(dataDir, { recursive: true, force: true });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log('\npolicy  runs  qoe/chunk  rebuffer_s  latency_p95_ms(max)  long_tasks');
const summary = policies.map((p) => {
  const rs = rows.filter((r) => r.policy === p);
  const s = { policy: p, runs: rs.length, qoe_chunk_mean: mean(rs.map((r) => r.qoe_chunk as number)), rebuffer_s_mean: mean(rs.map((r) => r.rebuffer_s as number)), latency_p95_ms_max: Math.max(0, ...rs.map((r) => (r.latency_p95_ms as number) ?? 0)), long_tasks: rs.reduce((a, r) => a + (r.long_tasks as number), 0) };
  console.log(`${p.padEnd(8)}${String(s.runs).padStart(4)}${s.qoe_chunk_mean.toFixed(3).padStart(11)}${s.rebuffer_s_mean.toFixed(2).padStart(12)}${s.latency_p95_ms_max.toFixed(2).padStart(21)}${String(s.long_tasks).padStart(12)}`);
  return s;
});
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/browser-abr.json', JSON.stringify({ command: `npm run bench:browser-abr -- ${process.argv.slice(2).join(' ')}`.trim(), limit, rows, summary }, null, 2) + '\n');
