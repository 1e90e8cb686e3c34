/**
 * The in-browser ABR benchmark (`npm run bench:browser-abr`, entry in cli/browser-abr.ts): plays shaped streams in headless Chromium (Debian's chromium, started with no automation attached) with
 * hls.js' default ABR and with edgeplay policies, and prints QoE_lin computed from real playback (same
 * formula as the simulator, nominal ladder, chunk 0 excluded), decision latency measured in the page
 * (request → answer usable on the main thread, with its parts: to the worker, in the policy, back), the
 * main thread's own event-loop delay at the same moments, and main-thread long tasks. Writes
 * bench/results/browser-abr.json.
 *
 * Why no playwright here: a DevTools client enables the Network domain, and Chromium then spends
 * 2–4 ms of main-thread time per ~1 MB segment after the XHR's load (measured in a trace: the gap between
 * XHRLoad and ResourceFinish grows with the body size), which lands on every decision's answer.
 * The page posts its result to a loopback URL instead.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDemoServer } from '../demo/server.js';

import { InputError } from '../src/train/errors.js';

export interface BrowserAbrBenchOptions {
  /** trace names (default norway_bus_1, norway_ferry_2, norway_tram_5) */
  traces?: string[];
  /** policies: hls (hls.js default ABR) and edgeplay's (default hls, drl) */
  policies?: string[];
  /** VOD segments played per run (default 15) */
  limit?: number;
  /** hls.js transmuxing in its worker or inline (default worker) */
  transmux?: 'worker' | 'inline';
  /** results file (default bench/results/browser-abr.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface BrowserAbrBenchResult {
  command: string;
  limit: number;
  transmux: string;
  rows: Array<Record<string, number | string | null>>;
  summary: Array<Record<string, unknown>>;
}

/** Runs the benchmark, prints and writes its results. Throws InputError when dist/ has not been built. */
export async function benchBrowserAbr(o: BrowserAbrBenchOptions = {}): Promise<BrowserAbrBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const traces = o.traces ?? ['norway_bus_1', 'norway_ferry_2', 'norway_tram_5'];
  const policies = o.policies ?? ['hls', 'drl'];
  const limit = o.limit ?? 15;
  const transmux = o.transmux ?? 'worker';
  if (!existsSync('dist/edgeplay.worker.js')) throw new InputError('dist/edgeplay.worker.js missing: run npm run build first');
  const exe = process.env.CHROME_BIN ?? '/usr/bin/chromium';
  const dataDir = mkdtempSync(join(tmpdir(), 'edgeplay-bench-'));
  const demo = await startDemoServer({ port: 0, controllerPort: 0, live: false, dataDir, log: () => undefined });

  /** Open `url` (plus a report parameter) in a fresh headless Chromium and resolve with what the page posts. */
  async function play(url: string, timeoutMs: number): Promise<Record<string, number | string | null>> {
    const profile = mkdtempSync(join(tmpdir(), 'edgeplay-chromium-'));
    let child: ReturnType<typeof spawn> | null = null;
    const srv = createServer();
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs / 1000} s: ${url}`)), timeoutMs);
        srv.on('request', (req, res) => {
          let body = '';
          req.on('data', (c) => (body += c));
          req.on('end', () => {
            res.end('ok');
            clearTimeout(timer);
            try {
              resolve(JSON.parse(body));
            } catch (e) {
              reject(e);
            }
          });
        });
        srv.listen(0, '127.0.0.1', () => {
          const report = `http://127.0.0.1:${(srv.address() as { port: number }).port}/result`;
          child = spawn(
            exe,
            [
              '--headless=new',
              '--no-sandbox',
              '--disable-gpu',
              '--disable-dev-shm-usage',
              '--disable-background-networking',
              '--disable-component-update',
              '--no-first-run',
              '--autoplay-policy=no-user-gesture-required',
              `--user-data-dir=${profile}`,
              `${url}&report=${encodeURIComponent(report)}`,
            ],
            { stdio: 'ignore' },
          );
          child.on('error', (e) => reject(e));
        });
      });
    } finally {
      (child as ReturnType<typeof spawn> | null)?.kill();
      srv.close();
      await new Promise((r) => setTimeout(r, 300));
      rmSync(profile, { recursive: true, force: true });
    }
  }

  type Row = Record<string, number | string | null>;
  const rows: Row[] = [];
  try {
    for (const trace of traces) {
      for (const policy of policies) {
        const t0 = Date.now();
        const r = await play(
          `${demo.url}/bench-abr.html?policy=${policy}&trace=${encodeURIComponent(trace)}&limit=${limit}&transmux=${transmux}`,
          (limit * 4 + 120) * 1000,
        );
        r.wall_s = (Date.now() - t0) / 1000;
        rows.push(r);
        const f = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');
        log(
          `${String(trace).padEnd(16)} ${String(policy).padEnd(6)} qoe/chunk ${f(r.qoe_chunk)}  bitrate ${f(r.bitrate_mean)}  rebuffer ${f(r.rebuffer_s, 2)} s (${r.rebuffers})  smooth ${f(r.smooth_mean)}  decisions ${r.decisions} (fallbacks ${r.fallbacks})  latency p50/p95 ${f(r.latency_p50_ms, 2)}/${f(r.latency_p95_ms, 2)} ms (p95 to worker/compute/back ${f(r.to_worker_p95_ms, 2)}/${f(r.compute_p95_ms, 2)}/${f(r.back_p95_ms, 2)}, page loop ${f(r.loop_p95_ms, 2)})  long tasks ${r.long_tasks}`,
        );
      }
    }
  } finally {
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const pct = (xs: number[], p: number) => {
    const v = xs.slice().sort((a, b) => a - b);
    return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null;
  };
  log('\npolicy  runs  qoe/chunk  rebuffer_s  decisions  latency_p50/p95_ms(all runs)  long_tasks');
  const summary = policies.map((p) => {
    const rs = rows.filter((r) => r.policy === p);
    const lat = rs.flatMap((r) => (r.latencies_ms as unknown as number[]) ?? []);
    const s = {
      policy: p,
      runs: rs.length,
      qoe_chunk_mean: mean(rs.map((r) => r.qoe_chunk as number)),
      rebuffer_s_mean: mean(rs.map((r) => r.rebuffer_s as number)),
      decisions: lat.length,
      latency_p50_ms: pct(lat, 0.5),
      latency_p95_ms: pct(lat, 0.95),
      long_tasks: rs.reduce((a, r) => a + (r.long_tasks as number), 0),
    };
    const f = (x: number | null) => (x === null ? '-' : x.toFixed(2));
    log(
      `${p.padEnd(8)}${String(s.runs).padStart(4)}${s.qoe_chunk_mean.toFixed(3).padStart(11)}${s.rebuffer_s_mean.toFixed(2).padStart(12)}${String(lat.length).padStart(11)}${`${f(s.latency_p50_ms)}/${f(s.latency_p95_ms)}`.padStart(30)}${String(s.long_tasks).padStart(12)}`,
    );
    return s;
  });
  const result: BrowserAbrBenchResult = { command: o.command ?? 'benchBrowserAbr (library call)', limit, transmux, rows, summary };
  const outFile = o.out === undefined ? 'bench/results/browser-abr.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
