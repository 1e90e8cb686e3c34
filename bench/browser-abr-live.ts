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
 * Also the paired differences of every policy to every policy before it in the list (`pairs`; for `hls` first, the
 * differences to hls.js) in QoE, latency, stall time and playback-rate changes, each with its 95 % t-interval over
 * traces (`pairByTrace`, shared with the VOD bench).
 *
 * Runs go through bench:browser-abr's run loop (`playJobs`): a run whose playback lagged the wall clock by more than
 * `maxLag` of its time (the page's `playback_lag_s`, demo/playback-clock.ts) is rejected and run again.
 * Resumable like bench:browser-abr; writes its own results file (default bench/results/browser-abr-live.json);
 * `resummariseBrowserAbrLive` (`--live --summary`) re-prints the tables of a results file from its rows.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer } from '../demo/server.js';
import { InputError } from '../src/train/errors.js';
import {
  benchProgress,
  defaultBenchTraces,
  fmt,
  lagged,
  pairByTrace,
  playInChromium,
  playJobs,
  readResults,
  rotatedJobs,
  writeResults,
  type Row,
} from './browser-abr.js';
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
  /**
   * a run whose playback lag (`playbackLagShare`: the page's `playback_lag_s` / `play_wall_s`) exceeds this share of
   * its playing time is rejected — moved to the results' `rejected` list and run again (default 0.03)
   */
  maxLag?: number;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

/** A paired difference over traces: mean and 95 % t-interval. */
export interface PairedCi {
  mean: number;
  low: number;
  high: number;
}

/** This policy − `vs`, paired by trace, per metric. */
export interface LivePair {
  vs: string;
  /** live QoE per second of media */
  qoe_s: PairedCi;
  /** hls.js' latency, s */
  latency_s: PairedCi;
  /** stall time per run, s */
  rebuffer_s: PairedCi;
  /** playback-rate changes per minute */
  rate_changes_per_min: PairedCi;
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
  /** stall time per run − hls.js', paired by trace, with its 95 % interval */
  rebuffer_diff_vs_hls: number | null;
  rebuffer_diff_ci_low: number | null;
  rebuffer_diff_ci_high: number | null;
  /** playback-rate changes per minute − hls.js', paired by trace, with its 95 % interval */
  rate_changes_diff_vs_hls: number | null;
  rate_changes_diff_ci_low: number | null;
  rate_changes_diff_ci_high: number | null;
  /** the differences to every policy before this one in the list */
  pairs: LivePair[];
  wall_latency_p50_s: number;
  rate_changes_per_min: number;
  /** the catch-up controller's rate changes by reason (catch-up, slow-down, low-buffer, on-target), summed over runs */
  rate_change_reasons: Record<string, number>;
  startup_ms: number;
  live_decisions: number;
  fallbacks: number;
  decision_p50_ms: number | null;
}

export interface BrowserAbrLiveBenchResult {
  command: string;
  config: { traces: string[]; policies: string[]; duration: number; repeats: number; max_lag: number };
  progress: { done: number; total: number; extra?: number; rejected: number };
  /** the runs summarised (playback kept up with the wall clock, or recorded before the page measured it) */
  rows: Row[];
  /** runs rejected for playback lag, on record only */
  rejected: Row[];
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
 * Per-policy statistics over the traces every policy ran on (`pairByTrace`: runs of a trace averaged first,
 * differences paired by trace). A run whose page saw no scored segment counts with its other figures and QoE 0.
 */
export function summariseLive(rows: Row[], policies: string[]): LiveSummaryRow[] {
  const { traces, per, diff } = pairByTrace(rows, policies, 0);
  if (!traces.length) return [];
  const ci = (d: ReturnType<typeof meanCi>): PairedCi => ({ mean: d.mean, low: d.low, high: d.high });
  const out: LiveSummaryRow[] = [];
  for (const [k, p] of policies.entries()) {
    const rs = rows.filter((r) => r.policy === p && traces.includes(r.trace as string));
    const q = meanCi(per(p, 'qoe_s'));
    const vsHls = (key: string) => (p === 'hls' ? null : diff(p, 'hls', key));
    const dq = vsHls('qoe_s');
    const dl = vsHls('latency_mean_s');
    const ds = vsHls('rebuffer_s');
    const dr = vsHls('rate_changes_per_min');
    const lat = rs.map((r) => r.decision_p50_ms).filter((x): x is number => typeof x === 'number');
    out.push({
      policy: p,
      runs: rs.length,
      traces: traces.length,
      qoe_s_mean: q.mean,
      ci_low: q.low,
      ci_high: q.high,
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
      rebuffer_diff_vs_hls: ds?.mean ?? null,
      rebuffer_diff_ci_low: ds?.low ?? null,
      rebuffer_diff_ci_high: ds?.high ?? null,
      rate_changes_diff_vs_hls: dr?.mean ?? null,
      rate_changes_diff_ci_low: dr?.low ?? null,
      rate_changes_diff_ci_high: dr?.high ?? null,
      pairs: policies.slice(0, k).map((vs) => ({
        vs,
        qoe_s: ci(diff(p, vs, 'qoe_s')!),
        latency_s: ci(diff(p, vs, 'latency_mean_s')!),
        rebuffer_s: ci(diff(p, vs, 'rebuffer_s')!),
        rate_changes_per_min: ci(diff(p, vs, 'rate_changes_per_min')!),
      })),
      wall_latency_p50_s: mean(per(p, 'wall_latency_p50_s')),
      rate_changes_per_min: mean(per(p, 'rate_changes_per_min')),
      rate_change_reasons: rs.reduce<Record<string, number>>((acc, r) => {
        for (const [why, n] of Object.entries((r.rate_change_reasons as Record<string, number> | undefined) ?? {}))
          acc[why] = (acc[why] ?? 0) + n;
        return acc;
      }, {}),
      startup_ms: mean(per(p, 'startup_ms')),
      live_decisions: rs.reduce((a, r) => a + Number(r.live_decisions ?? 0), 0),
      fallbacks: rs.reduce((a, r) => a + Number(r.fallbacks ?? 0), 0),
      decision_p50_ms: lat.length ? lat.sort((a, b) => a - b)[lat.length >> 1] : null,
    });
  }
  return out;
}

/** Prints the per-policy table and the paired differences of a live evaluation's summary. */
export function printLiveSummary(summary: LiveSummaryRow[], log: (s: string) => void): void {
  const f = fmt;
  log(
    `\npolicy              runs  qoe/s [95% CI]            vs hls.js [95% CI]         bitrate  stall s (n)  switches  latency s  vs hls.js [95% CI]       wall p50  rate ch/min`,
  );
  for (const s of summary)
    log(
      `${s.policy.padEnd(18)}${String(s.runs).padStart(6)}  ${`${f(s.qoe_s_mean)} [${f(s.ci_low)}, ${f(s.ci_high)}]`.padEnd(26)}${`${f(s.diff_vs_hls)} [${f(s.diff_ci_low)}, ${f(s.diff_ci_high)}]`.padEnd(27)}${f(s.bitrate_mbps).padStart(7)}  ${`${f(s.rebuffer_s, 2)} (${f(s.rebuffers, 1)})`.padStart(11)}  ${f(s.switches, 1).padStart(8)}  ${f(s.latency_s, 2).padStart(9)}  ${`${f(s.latency_diff_vs_hls, 2)} [${f(s.latency_diff_ci_low, 2)}, ${f(s.latency_diff_ci_high, 2)}]`.padEnd(25)}${f(s.wall_latency_p50_s, 2).padStart(8)}  ${f(s.rate_changes_per_min, 1).padStart(11)}`,
    );
  log(`(${summary[0]?.traces ?? 0} traces, intervals over traces, differences paired by trace)`);
  for (const s of summary) {
    const why = Object.entries(s.rate_change_reasons ?? {}).sort((a, b) => b[1] - a[1]);
    if (why.length)
      log(
        `${s.policy}: catch-up rate changes by reason over its ${s.runs} runs: ${why.map(([k, n]) => `${k} ${n}`).join(', ')} (${why.reduce((a, [, n]) => a + n, 0)} in all)`,
      );
  }
  const pairs = summary.flatMap((s) => s.pairs.map((d) => ({ policy: s.policy, ...d })));
  if (!pairs.length) return;
  const c = (x: PairedCi, d: number) => `${f(x.mean, d)} [${f(x.low, d)}, ${f(x.high, d)}]`;
  log(`\npaired differences (policy − base), mean [95% CI] over traces:`);
  log(
    `policy − base                              qoe/s                     latency s              stall s                rate changes/min`,
  );
  for (const d of pairs)
    log(
      `${`${d.policy} − ${d.vs}`.padEnd(43)}${c(d.qoe_s, 3).padEnd(26)}${c(d.latency_s, 2).padEnd(23)}${c(d.rebuffer_s, 2).padEnd(23)}${c(d.rate_changes_per_min, 1)}`,
    );
}

/**
 * The summary-only mode (`--live --summary`): re-computes the summary of a live results file from its rows (the
 * policies of its config), prints the tables and writes the summary back into the file; nothing is played. Throws
 * InputError when the file is missing or not a results file.
 */
export function resummariseBrowserAbrLive(file: string, log: (s: string) => void = console.log): BrowserAbrLiveBenchResult {
  const res = readResults<BrowserAbrLiveBenchResult>(file);
  res.summary = summariseLive(res.rows, res.config.policies);
  writeResults(file, res);
  log(`${file}: ${res.rows.length} runs (${res.rejected?.length ?? 0} rejected for lag), re-summarised from its rows`);
  printLiveSummary(res.summary, log);
  return res;
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
  const maxLag = o.maxLag ?? 0.03;
  if (!(maxLag > 0)) throw new InputError(`maxLag must be > 0 (a share of the run's playing time), got ${maxLag}`);
  const config = { traces, policies, duration, repeats, max_lag: maxLag };
  const outFile = o.out === undefined ? 'bench/results/browser-abr-live.json' : o.out;

  const key = (r: Row) => `${r.trace}|${r.policy}|${r.repeat}`;
  const rows: Row[] = [];
  /** runs whose playback lagged behind the wall clock (kept for the record, never summarised, run again) */
  const rejected: Row[] = [];
  if (outFile && existsSync(outFile) && !o.fresh) {
    try {
      const prev = JSON.parse(readFileSync(outFile, 'utf8')) as Partial<BrowserAbrLiveBenchResult>;
      if (prev.config?.duration === duration) {
        rejected.push(...(prev.rejected ?? []));
        for (const r of prev.rows ?? [])
          if (traces.includes(r.trace as string) && policies.includes(r.policy as string)) (lagged(r, maxLag) ? rejected : rows).push(r);
      }
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
  const f = fmt;
  try {
    if (!demo.live) throw new Error('the live encoder did not start');
    await demo.live.ready;
    // a few segments in the sliding playlist before the first viewer (hls.js starts 3 parts behind the edge)
    await demo.live.rungs[0].waitFor(4, undefined, 60000);
    await playJobs({
      jobs: todo,
      total: jobs.length,
      maxLag,
      play: async (j) => {
        const started = Date.now();
        const load1 = loadavg()[0];
        const { abr, catchup } = livePolicyQuery(j.policy);
        const r = await playInChromium(
          `${demo.url}/bench-abr-live.html?abr=${abr}&catchup=${catchup}&trace=${encodeURIComponent(j.trace)}&duration=${duration}`,
          (duration + 120) * 1000,
        );
        return Object.assign(r, {
          trace: j.trace,
          policy: j.policy,
          repeat: j.repeat,
          loadavg_1m: load1,
          loadavg_1m_end: loadavg()[0],
          wall_s: (Date.now() - started) / 1000,
        });
      },
      rows,
      rejected,
      write,
      describe: (r) =>
        `${String(r.trace).padEnd(16)} ${String(r.policy).padEnd(18)} #${r.repeat} qoe/s ${f(r.qoe_s)}  bitrate ${f(r.bitrate_mbps)}  stall ${f(r.rebuffer_s, 2)} s (${r.rebuffers})  latency ${f(r.latency_mean_s, 2)} s (wall p50 ${f(r.wall_latency_p50_s, 2)})  rate changes/min ${f(r.rate_changes_per_min, 1)}  live decisions ${r.live_decisions} (fallbacks ${r.fallbacks})${r.fatal ? `  FATAL ${r.fatal}` : ''}`,
      log,
    });
  } finally {
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return finish();

  function result(): BrowserAbrLiveBenchResult {
    return {
      command: o.command ?? 'benchBrowserAbrLive (library call)',
      config,
      progress: benchProgress(rows, jobs, rejected.length),
      rows,
      rejected,
      summary: summariseLive(rows, policies),
    };
  }
  function write(): void {
    if (outFile) writeResults(outFile, result());
  }
  function finish(): BrowserAbrLiveBenchResult {
    write();
    const res = result();
    printLiveSummary(res.summary, log);
    return res;
  }
}
