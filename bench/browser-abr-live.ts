/**
 * The in-browser live evaluation (`npm run bench:browser-abr -- --live`, entry in cli/browser-abr.ts; issue 14):
 * the dev server's LL-HLS live ladder (real-time encoder, 0.5 s parts, PART-HOLD-BACK 1.5 s, coding-meta
 * DATERANGEs) played in headless Chromium (demo/bench-abr-live.ts) through trace-shaped sessions, one policy after
 * the other on every trace (order rotated per trace), each for `duration` seconds of playback:
 *
 * - `hls`: hls.js' default ABR, hls.js' default live behaviour (low-latency mode, no playback-rate control);
 * - `edgeplay`: the worker's live DRL policy (models/live-abr-drl) on the meta-learned chunk-size forecaster
 *   (models/chunk-size) behind createAbrController, with LoL+ catch-up (liveCatchup, its default dead band);
 * - any `ABR+CATCHUP` pair, ABR ∈ {hls, edgeplay}, CATCHUP ∈ {none, lolp, lolp-nodb, hls} (e.g. `hls+lolp`,
 *   `edgeplay+lolp-nodb`: LoL+ without the dead band; `hls+hls`: hls.js' own catch-up, maxLiveSyncPlaybackRate 1.5).
 *
 * Reports per policy the mean live QoE per second of media (core/live-qoe.ts, the dash.js LoL+ evaluator / Twitch
 * grand challenge weights for the 300/750/1200 kbps ladder) with its 95 % t-interval over traces, the paired
 * difference to `hls` per trace (repeats of a trace averaged first) with its interval, and latency (hls.js'
 * `latency` and a wall-clock measure), stalls, switches and playback-rate changes per minute.
 *
 * Resumable like bench:browser-abr; writes its own results file (default bench/results/browser-abr-live.json).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDemoServer } from '../demo/server.js';
import { InputError } from '../src/train/errors.js';
import { defaultBenchTraces, playInChromium, rotatedJobs, type Row } from './browser-abr.js';
import { meanCi } from './stats.js';

export interface BrowserAbrLiveBenchOptions {
  /** trace names (default: the Pensieve test traces of `defaultBenchTraces()`: two per family, 12) */
  traces?: string[];
  /** policies (default hls, edgeplay; see the file comment) */
  policies?: string[];
  /** seconds of playback per run, from the first 'playing' (default 60) */
  duration?: number;
  /** runs per trace and policy (default 1) */
  repeats?: number;
  /** results file (default bench/results/browser-abr-live.json); null writes none */
  out?: string | null;
  /** ignore the runs already in the results file */
  fresh?: boolean;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

/** One row per policy. */
export interface LiveSummaryRow {
  policy: string;
  runs: number;
  traces: number;
  qoe_s_mean: number;
  ci_low: number;
  ci_high: number;
  diff_vs_hls: number | null;
  diff_ci_low: number | null;
  diff_ci_high: number | null;
  bitrate_mbps: number;
  switches: number;
  rebuffer_s: number;
  rebuffers: number;
  /** hls.js' latency, mean over the run's timeupdates, then over traces */
  latency_s: number;
  latency_diff_vs_hls: number | null;
  latency_diff_ci_low: number | null;
  latency_diff_ci_high: number | null;
  wall_latency_p50_s: number;
  rate_changes_per_min: number;
  startup_ms: number;
  live_decisions: number;
  fallbacks: number;
  decision_p50_ms: number | null;
}

export interface BrowserAbrLiveBenchResult {
  command: string;
  config: { traces: string[]; policies: string[]; duration: number; repeats: number };
  progress: { done: number; total: number };
  rows: Row[];
  summary: LiveSummaryRow[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The page's query for a policy name; throws InputError on an unknown one. */
export function livePolicyQuery(policy: string): { abr: string; catchup: string } {
  const named: Record<string, [string, string]> = { hls: ['hls', 'none'], edgeplay: ['edgeplay', 'lolp'] };
  const [abr, catchup] = named[policy] ?? policy.split('+');
  if (!['hls', 'edgeplay'].includes(abr) || !['none', 'lolp', 'lolp-nodb', 'hls'].includes(catchup))
    throw new InputError(
      `unknown live policy "${policy}" (hls, edgeplay, or ABR+CATCHUP: ABR hls|edgeplay, CATCHUP none|lolp|lolp-nodb|hls)`,
    );
  return { abr, catchup };
}

/**
 * Per-policy statistics over the traces every policy ran on (runs of a trace averaged first; differences to `hls`
 * paired by trace). A run whose page saw no scored segment counts with its other figures and QoE 0.
 */
export function summariseLive(rows: Row[], policies: string[]): LiveSummaryRow[] {
  const traces = [...new Set(rows.map((r) => r.trace as string))].filter((t) =>
    policies.every((p) => rows.some((r) => r.trace === t && r.policy === p)),
  );
  if (!traces.length) return [];
  const per = (p: string, key: string) =>
    traces.map((t) => mean(rows.filter((r) => r.trace === t && r.policy === p).map((r) => Number(r[key] ?? 0))));
  const out: LiveSummaryRow[] = [];
  for (const p of policies) {
    const rs = rows.filter((r) => r.policy === p && traces.includes(r.trace as string));
    const qs = per(p, 'qoe_s');
    const ci = meanCi(qs);
    const paired = (key: string) => {
      if (!policies.includes('hls') || p === 'hls') return null;
      const a = per(p, key);
      const b = per('hls', key);
      return meanCi(a.map((x, i) => x - b[i]));
    };
    const dq = paired('qoe_s');
    const dl = paired('latency_mean_s');
    const lat = rs.map((r) => r.decision_p50_ms).filter((x): x is number => typeof x === 'number');
    out.push({
      policy: p,
      runs: rs.length,
      traces: traces.length,
      qoe_s_mean: ci.mean,
      ci_low: ci.low,
      ci_high: ci.high,
      diff_vs_hls: dq?.mean ?? null,
      diff_ci_low: dq?.low ?? null,
      diff_ci_high: dq?.high ?? null,
      bitrate_mbps: mean(per(p, 'bitrate_mbps')),
      switches: mean(per(p, 'switches')),
      rebuffer_s: mean(per(p, 'rebuffer_s')),
      rebuffers: mean(per(p, 'rebuffers')),
      latency_s: mean(per(p, 'latency_mean_s')),
      latency_diff_vs_hls: dl?.mean ?? null,
      latency_diff_ci_low: dl?.low ?? null,
      latency_diff_ci_high: dl?.high ?? null,
      wall_latency_p50_s: mean(per(p, 'wall_latency_p50_s')),
      rate_changes_per_min: mean(per(p, 'rate_changes_per_min')),
      startup_ms: mean(per(p, 'startup_ms')),
      live_decisions: rs.reduce((a, r) => a + Number(r.live_decisions ?? 0), 0),
      fallbacks: rs.reduce((a, r) => a + Number(r.fallbacks ?? 0), 0),
      decision_p50_ms: lat.length ? lat.sort((a, b) => a - b)[lat.length >> 1] : null,
    });
  }
  return out;
}

/** Runs the live evaluation (resuming from the results file), prints progress and the table, writes the results. Throws InputError when dist/ has not been built. */
export async function benchBrowserAbrLive(o: BrowserAbrLiveBenchOptions = {}): Promise<BrowserAbrLiveBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const traces = o.traces ?? defaultBenchTraces().filter((t) => !t.startsWith('synth_'));
  const policies = o.policies ?? ['hls', 'edgeplay'];
  for (const p of policies) livePolicyQuery(p);
  const duration = o.duration ?? 60;
  const repeats = o.repeats ?? 1;
  if (!existsSync('dist/edgeplay.worker.js')) throw new InputError('dist/edgeplay.worker.js missing: run npm run build first');
  const config = { traces, policies, duration, repeats };
  const outFile = o.out === undefined ? 'bench/results/browser-abr-live.json' : o.out;

  const key = (r: Row) => `${r.trace}|${r.policy}|${r.repeat}`;
  const rows: Row[] = [];
  if (outFile && existsSync(outFile) && !o.fresh) {
    try {
      const prev = JSON.parse(readFileSync(outFile, 'utf8')) as Partial<BrowserAbrLiveBenchResult>;
      if (prev.config?.duration === duration)
        for (const r of prev.rows ?? []) if (traces.includes(r.trace as string) && policies.includes(r.policy as string)) rows.push(r);
    } catch {
      /* not ours or truncated: start afresh */
    }
  }
  const jobs = rotatedJobs(traces, policies, repeats);
  const done = new Set(rows.map(key));
  const todo = jobs.filter((j) => !done.has(key(j)));
  log(
    `bench:browser-abr --live: ${traces.length} traces x ${policies.length} policies x ${repeats} repeats = ${jobs.length} runs of ${duration} s, ${jobs.length - todo.length} already done`,
  );
  if (!todo.length) return finish();

  const dataDir = mkdtempSync(join(tmpdir(), 'edgeplay-bench-live-'));
  const demo = await startDemoServer({ port: 0, controller: false, live: true, dataDir, log: () => undefined });
  const f = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');
  try {
    if (!demo.live) throw new Error('the live encoder did not start');
    await demo.live.ready;
    // a few segments in the sliding playlist before the first viewer (hls.js starts 3 parts behind the edge)
    await demo.live.rungs[0].waitFor(4, undefined, 60000);
    const t0 = Date.now();
    let finished = 0;
    for (const j of todo) {
      const started = Date.now();
      const load1 = loadavg()[0];
      const { abr, catchup } = livePolicyQuery(j.policy);
      let r: Row;
      try {
        r = await playInChromium(
          `${demo.url}/bench-abr-live.html?abr=${abr}&catchup=${catchup}&trace=${encodeURIComponent(j.trace)}&duration=${duration}`,
          (duration + 120) * 1000,
        );
      } catch (e) {
        log(`${j.trace} ${j.policy} #${j.repeat}: failed (${e instanceof Error ? e.message : e}); it is left for a rerun`);
        continue;
      }
      Object.assign(r, {
        trace: j.trace,
        policy: j.policy,
        repeat: j.repeat,
        loadavg_1m: load1,
        loadavg_1m_end: loadavg()[0],
        wall_s: (Date.now() - started) / 1000,
      });
      rows.push(r);
      finished++;
      write();
      const eta = ((Date.now() - t0) / finished) * (todo.length - finished);
      log(
        `[${rows.length}/${jobs.length}] ${String(j.trace).padEnd(16)} ${j.policy.padEnd(18)} #${j.repeat} qoe/s ${f(r.qoe_s)}  bitrate ${f(r.bitrate_mbps)}  stall ${f(r.rebuffer_s, 2)} s (${r.rebuffers})  latency ${f(r.latency_mean_s, 2)} s (wall p50 ${f(r.wall_latency_p50_s, 2)})  rate changes/min ${f(r.rate_changes_per_min, 1)}  live decisions ${r.live_decisions} (fallbacks ${r.fallbacks})${r.fatal ? `  FATAL ${r.fatal}` : ''}  load ${load1.toFixed(1)}  eta ${Math.round(eta / 60000)} min`,
      );
    }
  } finally {
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return finish();

  function result(): BrowserAbrLiveBenchResult {
    return {
      command: o.command ?? 'benchBrowserAbrLive (library call)',
      config,
      progress: { done: rows.length, total: jobs.length },
      rows,
      summary: summariseLive(rows, policies),
    };
  }
  function write(): void {
    if (!outFile) return;
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile + '.tmp', JSON.stringify(result(), null, 1) + '\n');
    renameSync(outFile + '.tmp', outFile);
  }
  function finish(): BrowserAbrLiveBenchResult {
    write();
    const res = result();
    log(
      `\npolicy              runs  qoe/s [95% CI]            vs hls.js [95% CI]         bitrate  stall s (n)  switches  latency s  vs hls.js [95% CI]       wall p50  rate ch/min`,
    );
    for (const s of res.summary)
      log(
        `${s.policy.padEnd(18)}${String(s.runs).padStart(6)}  ${`${f(s.qoe_s_mean)} [${f(s.ci_low)}, ${f(s.ci_high)}]`.padEnd(26)}${`${f(s.diff_vs_hls)} [${f(s.diff_ci_low)}, ${f(s.diff_ci_high)}]`.padEnd(27)}${f(s.bitrate_mbps).padStart(7)}  ${`${f(s.rebuffer_s, 2)} (${f(s.rebuffers, 1)})`.padStart(11)}  ${f(s.switches, 1).padStart(8)}  ${f(s.latency_s, 2).padStart(9)}  ${`${f(s.latency_diff_vs_hls, 2)} [${f(s.latency_diff_ci_low, 2)}, ${f(s.latency_diff_ci_high, 2)}]`.padEnd(25)}${f(s.wall_latency_p50_s, 2).padStart(8)}  ${f(s.rate_changes_per_min, 1).padStart(11)}`,
      );
    log(`(${res.summary[0]?.traces ?? 0} traces, intervals over traces, differences paired by trace)`);
    return res;
  }
}
