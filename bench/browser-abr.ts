/**
 * The in-browser ABR evaluation (`npm run bench:browser-abr`, entry in cli/browser-abr.ts): plays our VOD ladder in
 * headless Chromium (Debian's chromium, started with no automation attached) through the dev server, each session
 * shaped by a throughput trace, with hls.js' default ABR and edgeplay's policies (robustmpc, bola, drl, bb) run one
 * after the other on every trace (the order rotated per trace), and reports QoE_lin computed from real playback
 * (same formula as the simulator, nominal ladder, chunk 0 excluded, real stall time) with statistics:
 * per policy the mean QoE_lin per chunk over traces with its 95 % t-interval, and the paired difference to hls.js
 * and to robustMPC per trace (repeats of a trace are averaged first) with its interval.
 *
 * The default traces: from the Pensieve test set (never read by training), per family (bus, car, ferry, metro,
 * train, tram) the two whose mean throughput sits at the 1/3 and 2/3 ranks of the family, plus synthetic families
 * the policy never saw (`walk-hi`, `markov-hi` of src/sim/abr/synth.ts, higher bandwidth than the shared set).
 *
 * Resumable: every finished run is written to the results file at once (with the summary so far); a rerun with
 * the same configuration skips the runs already there. Several Chromium sessions may run at a time (`parallel`).
 *
 * Why no playwright here: a DevTools client enables the Network domain, and Chromium then spends
 * 2–4 ms of main-thread time per ~1 MB segment after the XHR's load (measured in a trace: the gap between
 * XHRLoad and ResourceFinish grows with the body size), which lands on every decision's answer.
 * The page posts its result to a loopback URL instead.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startDemoServer } from '../demo/server.js';
import { parseTrace } from '../src/core/trace.js';
import { dataRoot, heldOutSplit, traceNames } from '../src/sim/abr/load.js';
import { SYNTHETIC_FAMILIES as ALL_SYNTHETIC_FAMILIES, syntheticTrace, traceText, type SyntheticFamily } from '../src/sim/abr/synth.js';
import { InputError } from '../src/train/errors.js';
import { DEFAULT_DRL_GUARD, type DrlGuard } from '../src/abr/drl-guard.js';
import { DEFAULT_ABANDON, type AbandonRule } from '../src/abr/abandon.js';
import { meanCi } from './stats.js';

export interface BrowserAbrBenchOptions {
  /** trace names (default: `defaultBenchTraces()`) */
  traces?: string[];
  /** policies: hls (hls.js default ABR) and edgeplay's (default hls, robustmpc, bola, drl; also bb, drl+guard, POLICY+norefetch and drl:NAME = the DRL with models/NAME) */
  policies?: string[];
  /** VOD segments played per run (default 30 = 120 s of content) */
  limit?: number;
  /** runs per trace and policy (default 1) */
  repeats?: number;
  /** Chromium sessions at a time (default 1) */
  parallel?: number;
  /** the DRL model as the page loads it (default /models/abr-drl/model.json) */
  model?: string;
  /** the page reads DRL answers from a SharedArrayBuffer slot (cross-origin isolated page) or over messages only */
  answer?: 'slot' | 'message';
  /** VOD decisions answered from decision tables built while the fragment loads (src/abr/decision-table.ts), or not */
  tables?: 'on' | 'off';
  /** hls.js transmuxing in its worker or inline (default worker) */
  transmux?: 'worker' | 'inline';
  /** results file (default bench/results/browser-abr.json); null writes none */
  out?: string | null;
  /** ignore the runs already in the results file */
  fresh?: boolean;
  /**
   * a run whose playback lag (`playbackLagShare`) exceeds this share of its wall time is rejected — moved to the results'
   * `rejected` list and run again (default 0.03)
   */
  maxLag?: number;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export type Row = Record<string, unknown>;

/** One run of a real-playback evaluation. */
export type BenchJob = {
  trace: string;
  policy: string;
  repeat: number;
};

/**
 * The runs of an evaluation in the order they are played: repeat by repeat, trace by trace, every policy once, the
 * policy order rotated per trace and repeat so that no policy always runs first (or on a quieter machine).
 */
export function rotatedJobs(traces: readonly string[], policies: readonly string[], repeats: number): BenchJob[] {
  const jobs: BenchJob[] = [];
  for (let rep = 0; rep < repeats; rep++)
    traces.forEach((trace, ti) => {
      const k = (ti + rep) % policies.length;
      for (const policy of [...policies.slice(k), ...policies.slice(0, k)]) jobs.push({ trace, policy, repeat: rep });
    });
  return jobs;
}

/**
 * The share of a run's playing wall time that was neither media played nor a reported stall: a Chromium starved of
 * CPU plays slower than real time without a 'waiting' event, so its buffer drains slower and its stalls are hidden
 * (measured up to 40 % at load average 33 on 2 cores). From the page's `play_wall_s` / `playback_lag_s` when it
 * reports them; for runs recorded before it did, estimated from the load log: the playhead at each fragment's load
 * is (distinct fragments appended before it) × 4 s − the forward buffer it reported, taken from the first load
 * after playback began to the last. Null when neither is available.
 */
export function playbackLagShare(r: Row, fragS = 4): number | null {
  if (typeof r.playback_lag_s === 'number' && typeof r.play_wall_s === 'number' && r.play_wall_s > 0)
    return r.playback_lag_s / r.play_wall_s;
  const loads = r.loads as Array<{ sn: number; end_ms: number; buffer_s: number }> | undefined;
  if (!Array.isArray(loads) || loads.length < 3) return null;
  const pts: Array<[number, number]> = [];
  for (const l of loads) {
    const appended = new Set(loads.filter((x) => x.end_ms + 100 < l.end_ms).map((x) => x.sn)).size;
    const playhead = appended * fragS - l.buffer_s;
    if (playhead > 0.5) pts.push([l.end_ms / 1000, playhead]);
  }
  if (pts.length < 2) return null;
  const [t1, p1] = pts[0];
  const [t2, p2] = pts[pts.length - 1];
  if (!(t2 > t1)) return null;
  return (t2 - t1 - (p2 - p1) - Number(r.rebuffer_s ?? 0)) / (t2 - t1);
}

/** True when a run's playback lag (`playbackLagShare`) is known and exceeds `maxLag`: the run is rejected, not summarised. */
export function lagged(r: Row, maxLag: number): boolean {
  const lag = playbackLagShare(r);
  return lag !== null && lag > maxLag;
}

/** What `playJobs` needs: the runs to play, how to play one, where kept and rejected runs go, and how to log one. */
export interface PlayJobsOptions {
  /** the runs still to play */
  jobs: BenchJob[];
  /** runs in the whole bench, done before included (the progress count's denominator) */
  total: number;
  /** Chromium sessions at a time (default 1) */
  parallel?: number;
  /** share of a run's wall time its playback may lag (see `playbackLagShare`) */
  maxLag: number;
  /** plays one run and returns its row (the job's fields added, `loadavg_1m` at its start); throws when the run failed */
  play: (j: BenchJob) => Promise<Row>;
  /** kept runs: each accepted run is pushed here (its `playback_lag_share` set) */
  rows: Row[];
  /** runs rejected for lag are pushed here, on record only (their jobs are queued again) */
  rejected: Row[];
  /** writes the results file; called after every kept or rejected run */
  write: () => void;
  /** a kept run's figures for its progress line (the count, lag, load and eta are added around it) */
  describe: (r: Row) => string;
  log: (s: string) => void;
}

/**
 * Plays the jobs `parallel` at a time (the real-playback benches' run loop, VOD and live): a run that fails is logged
 * and left for a rerun; a run whose playback lagged the wall clock by more than `maxLag` of its time (a starved
 * Chromium plays slowly without reporting a stall) is put in `rejected` and queued again; a kept run goes to `rows`.
 * The results are written after every run. Throws when more than 2 × jobs + 4 runs were rejected (the machine is too
 * busy for real-time playback).
 */
export async function playJobs(o: PlayJobsOptions): Promise<void> {
  const queue = o.jobs.slice();
  const t0 = Date.now();
  let rejectedNow = 0;
  let finished = 0;
  // the count is of this bench's jobs: those done before (total − jobs) plus those finished now; `rows` may hold more
  // (runs kept from an earlier invocation with more repeats), which the count must not add
  const before = Math.max(0, o.total - o.jobs.length);
  const worker = async () => {
    for (let j = queue.shift(); j; j = queue.shift()) {
      let r: Row;
      try {
        r = await o.play(j);
      } catch (e) {
        o.log(`${j.trace} ${j.policy} #${j.repeat}: failed (${e instanceof Error ? e.message : e}); it is left for a rerun`);
        continue;
      }
      const lag = playbackLagShare(r);
      r.playback_lag_share = lag;
      if (lag !== null && lag > o.maxLag) {
        o.rejected.push(r);
        o.write();
        queue.push(j);
        o.log(
          `${j.trace} ${j.policy} #${j.repeat}: rejected, playback lagged the wall clock by ${(100 * lag).toFixed(1)} % (> ${(100 * o.maxLag).toFixed(1)} %; load ${Number(r.loadavg_1m ?? NaN).toFixed(1)}); queued again`,
        );
        if (++rejectedNow > 2 * o.jobs.length + 4) throw new Error('every run lags: the machine is too busy for real-time playback');
        continue;
      }
      o.rows.push(r);
      finished++;
      o.write();
      const eta = ((Date.now() - t0) / finished) * (o.jobs.length - finished);
      o.log(
        `[${before + finished}/${o.total}] ${o.describe(r)}  lag ${lag === null ? '—' : (100 * lag).toFixed(1)} %  load ${Number(r.loadavg_1m ?? NaN).toFixed(1)}  eta ${Math.round(eta / 60000)} min`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.parallel ?? 1) }, () => worker()));
}

/**
 * The results file's `progress`: `done` counts the runs among this bench's jobs (trace × policy × repeat) that are kept,
 * `total` the jobs; `extra` the kept runs beyond them (resumed from a file played with more repeats: summarised, not
 * counted as progress); `rejected` the runs rejected for lag. Before session 12 `done` was every kept row, so a resumed
 * bench could report 219 of 177.
 */
export function benchProgress(
  rows: ReadonlyArray<{ trace?: unknown; policy?: unknown; repeat?: unknown }>,
  jobs: ReadonlyArray<{ trace: string; policy: string; repeat: number }>,
  rejected: number,
): { done: number; total: number; extra: number; rejected: number } {
  const keys = new Set(jobs.map((j) => `${j.trace}|${j.policy}|${j.repeat}`));
  const done = rows.filter((r) => keys.has(`${r.trace}|${r.policy}|${r.repeat}`)).length;
  return { done, total: jobs.length, extra: rows.length - done, rejected };
}

/** One row per policy, the fields issue 15 names. */
export interface SummaryRow {
  policy: string;
  runs: number;
  qoe_chunk_mean: number;
  ci_low: number;
  ci_high: number;
  diff_vs_hls: number | null;
  diff_ci_low: number | null;
  diff_ci_high: number | null;
  diff_vs_robustmpc: number | null;
  diff_rmpc_ci_low: number | null;
  /** the upper end of that difference's 95 % interval */
  diff_rmpc_ci_high: number | null;
  /** the robustMPC run the difference is to (`robustMpcBaseline`); null when none was played */
  robustmpc_baseline: string | null;
  /**
   * a comparison of models without hls.js (e.g. `--dev`): the first policy, which every policy is paired with; null
   * when hls.js was played (the differences above are the comparison then)
   */
  reference: string | null;
  /** mean over traces of (policy − reference) QoE_lin per chunk, with its 95 % t-interval */
  diff_vs_reference: number | null;
  diff_ref_ci_low: number | null;
  diff_ref_ci_high: number | null;
  /** traces where the policy scored above the reference */
  wins_vs_reference: number | null;
  stall_s_mean: number;
}

/**
 * The robustMPC-in-the-player policy `p` is compared with: robustMPC played with the same mends (`+norefetch`,
 * `+abandon`) when that was played, else plain `robustmpc` (as summaries before the mends did); null when neither was
 * played (no comparison across different player semantics).
 */
export function robustMpcBaseline(p: string, policies: readonly string[]): string | null {
  const mends = (p.match(/\+(norefetch|abandon)/g) ?? []).join('');
  const same = `robustmpc${mends}`;
  if (policies.includes(same)) return same;
  return policies.includes('robustmpc') ? 'robustmpc' : null;
}

export interface BrowserAbrBenchResult {
  command: string;
  config: {
    traces: string[];
    policies: string[];
    limit: number;
    repeats: number;
    transmux: string;
    model: string;
    answer: string;
    /** absent in results from before decision tables: 'off' */
    tables?: string;
    /** the stall guard `drl+guard` runs played with (DEFAULT_DRL_GUARD); absent in results from before the guard */
    guard?: DrlGuard;
    /** the abandonment rule `+abandon` runs played with (DEFAULT_ABANDON); absent in results from before it */
    abandon?: AbandonRule;
    max_lag: number;
  };
  progress: { done: number; total: number; extra?: number; rejected: number };
  /** the runs summarised (playback kept up with the wall clock) */
  rows: Row[];
  /** runs rejected for playback lag (`playbackLagShare` > max_lag), on record only */
  rejected: Row[];
  summary: SummaryRow[];
  /** per policy: bitrate, stalls, switches, the paired difference to robustMPC's upper end, decision latency */
  details: Row[];
  /** the paired differences per throughput band of the traces (`byBand`); absent in files from before it */
  bands?: BandRow[];
}

/** The synthetic families the default trace set adds (generated into `dir`), in this order, indices 0..n−1. */
const SYNTHETIC_FAMILIES = ['walk-hi', 'markov-hi'] as const;

/** The synthetic bench trace names for indices 0..n−1 of every family (default n = 1: synth_walk-hi_0, synth_markov-hi_0). */
export function syntheticBenchTraces(n = 1): string[] {
  if (!Number.isInteger(n) || n < 0) throw new InputError(`synthetic trace count must be an integer ≥ 0, got ${n}`);
  return SYNTHETIC_FAMILIES.flatMap((f) => Array.from({ length: n }, (_, i) => `synth_${f}_${i}`));
}

/**
 * Writes into `dir` (Pensieve format) the synthetic traces `synth_<family>_<i>` among `names` (any family of
 * src/sim/abr/synth.ts: the evaluation families walk-hi and markov-hi, and, for the dev set (`devBenchTraces`), the
 * training families at indices no trainer reads) plus the default ones, and returns the names written. Other names are
 * ignored (Pensieve traces are served from the data directory). Throws InputError for a `synth_` name of an unknown family.
 */
export function writeSyntheticTraces(dir: string, names: readonly string[] = []): string[] {
  mkdirSync(dir, { recursive: true });
  const wanted = [...new Set([...syntheticBenchTraces(1), ...names.filter((n) => n.startsWith('synth_'))])];
  return wanted.map((name) => {
    const m = /^synth_(.+)_(\d+)$/.exec(name);
    const family = m?.[1] as SyntheticFamily | undefined;
    if (!m || !family || !ALL_SYNTHETIC_FAMILIES.includes(family))
      throw new InputError(`synthetic bench trace "${name}": expected synth_<${ALL_SYNTHETIC_FAMILIES.join('|')}>_<index>`);
    const t = syntheticTrace(family, Number(m[2]));
    writeFileSync(join(dir, t.name), traceText(t));
    return t.name;
  });
}

/**
 * The synthetic traces of the dev set: two of each training family at indices no trainer or selection reads
 * (`markov-train` trains on 0–79 and abr-drl-player's dev-hls selection reads 80–99; `markov-fast` and `step-fast` train
 * on 0–29 and abr-drl-fast's selection reads 30–44), spanning 0.2–30 Mb/s. The evaluation families (walk-hi, markov-hi)
 * stay out: the test set uses them.
 */
export const DEV_SYNTHETIC_TRACES = [
  'synth_markov-train_100',
  'synth_markov-train_101',
  'synth_markov-fast_60',
  'synth_markov-fast_61',
  'synth_step-fast_60',
  'synth_step-fast_61',
] as const;

/**
 * The dev traces of the real-playback evaluation (`--dev`), for choosing between models without the test set: the
 * held-out split of the Pensieve *training* traces (`heldOutSplit`, the one train:abr selects on: 18 traces, 0.2–6 Mb/s)
 * plus `DEV_SYNTHETIC_TRACES`. Never a test trace. Throws InputError when the training traces are missing.
 */
export function devBenchTraces(trainDir = join(dataRoot(), 'abr', 'traces', 'train')): string[] {
  if (!existsSync(trainDir)) throw new InputError(`training traces not found in ${trainDir} (set EDGEPLAY_DATA or pass --traces)`);
  return [...heldOutSplit(traceNames(trainDir)).dev, ...DEV_SYNTHETIC_TRACES];
}

/**
 * The evaluation traces: per family of the Pensieve test set (the name's middle part), the traces at the given ranks
 * of the family's mean throughput (default the 1/3 and 2/3 ranks: two per family; a rank r picks the
 * ⌊r × size⌋-th of the family sorted by mean, duplicates dropped), then `synthetic` traces of each synthetic family
 * (`syntheticBenchTraces`). Throws InputError without the data or for a rank outside [0, 1).
 */
export function defaultBenchTraces(
  testDir = join(dataRoot(), 'abr', 'traces', 'test'),
  ranks: readonly number[] = [1 / 3, 2 / 3],
  synthetic = 1,
): string[] {
  for (const r of ranks) if (!(r >= 0 && r < 1)) throw new InputError(`trace rank must be in [0, 1), got ${r}`);
  if (!existsSync(testDir)) throw new InputError(`test traces not found in ${testDir} (set EDGEPLAY_DATA or pass --traces)`);
  const fam = new Map<string, Array<{ name: string; mean: number }>>();
  for (const name of readdirSync(testDir).sort()) {
    const f = name.split('_')[1] ?? name;
    const mean = traceMeanMbps(name, [testDir])!;
    fam.set(f, [...(fam.get(f) ?? []), { name, mean }]);
  }
  const out: string[] = [];
  for (const f of [...fam.keys()].sort()) {
    const xs = fam.get(f)!.sort((a, b) => a.mean - b.mean || a.name.localeCompare(b.name));
    for (const r of ranks) out.push(xs[Math.min(xs.length - 1, Math.floor(r * xs.length))].name);
  }
  return [...new Set(out), ...syntheticBenchTraces(synthetic)];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (xs: number[], p: number) => {
  const v = xs.slice().sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null;
};

/**
 * The pairing every real-playback summary uses: the traces every policy ran on (a trace some policy has no run on is
 * left out of every policy), a metric's per-trace means (repeats of a trace averaged first; a missing field counts
 * as `missing`), and the paired difference of two policies over those traces with its 95 % t-interval (`meanCi`).
 */
export interface TracePairing {
  traces: string[];
  /** per-trace means of row field `key` for policy `p`, in `traces` order */
  per: (p: string, key: string) => number[];
  /** mean over traces of (p − base) in `key`, with its 95 % t-interval; null when `base` is not among the policies */
  diff: (p: string, base: string, key: string) => ReturnType<typeof meanCi> | null;
}

/** Builds the {@link TracePairing} of per-run rows (`trace`, `policy` and metric fields) for `policies`. */
export function pairByTrace(rows: Row[], policies: readonly string[], missing = NaN): TracePairing {
  const traces = [...new Set(rows.map((r) => r.trace as string))].filter((t) =>
    policies.every((p) => rows.some((r) => r.trace === t && r.policy === p)),
  );
  const per = (p: string, key: string) =>
    traces.map((t) => mean(rows.filter((r) => r.trace === t && r.policy === p).map((r) => Number(r[key] ?? missing))));
  const diff = (p: string, base: string, key: string) => {
    if (!policies.includes(base) || !traces.length) return null;
    const b = per(base, key);
    return meanCi(per(p, key).map((x, i) => x - b[i]));
  };
  return { traces, per, diff };
}

/**
 * Per-policy statistics over traces from per-run rows: runs of a trace are averaged first; only traces every
 * policy ran on count (the pairing, `pairByTrace`). Returns the summary rows (issue 15's fields) and the details.
 */
export function summarise(rows: Row[], policies: string[]): { summary: SummaryRow[]; details: Row[] } {
  const { traces, per, diff: pairDiff } = pairByTrace(rows, policies);
  const summary: SummaryRow[] = [];
  const details: Row[] = [];
  for (const p of policies) {
    const rs = rows.filter((r) => r.policy === p && traces.includes(r.trace as string));
    if (!traces.length) continue;
    const q = per(p, 'qoe_chunk');
    const ci = meanCi(q);
    const diff = (base: string) => pairDiff(p, base, 'qoe_chunk');
    const dh = diff('hls');
    const rb = robustMpcBaseline(p, policies);
    const dr = rb === null ? null : diff(rb);
    const ref = policies.includes('hls') ? null : policies[0];
    const dref = ref === null ? null : diff(ref);
    const refQ = ref === null ? null : per(ref, 'qoe_chunk');
    summary.push({
      policy: p,
      runs: rs.length,
      qoe_chunk_mean: ci.mean,
      ci_low: ci.low,
      ci_high: ci.high,
      diff_vs_hls: dh?.mean ?? null,
      diff_ci_low: dh?.low ?? null,
      diff_ci_high: dh?.high ?? null,
      diff_vs_robustmpc: dr?.mean ?? null,
      diff_rmpc_ci_low: dr?.low ?? null,
      diff_rmpc_ci_high: dr?.high ?? null,
      robustmpc_baseline: rb,
      reference: ref,
      diff_vs_reference: dref?.mean ?? null,
      diff_ref_ci_low: dref?.low ?? null,
      diff_ref_ci_high: dref?.high ?? null,
      wins_vs_reference: refQ === null ? null : q.filter((x, i) => x > refQ[i]).length,
      stall_s_mean: mean(per(p, 'rebuffer_s')),
    });
    const lat = rs.flatMap((r) => (r.latencies_ms as number[] | undefined) ?? []);
    details.push({
      policy: p,
      traces: traces.length,
      runs: rs.length,
      bitrate_mean: mean(per(p, 'bitrate_mean')),
      stall_s_mean: mean(per(p, 'rebuffer_s')),
      stall_count_mean: mean(per(p, 'rebuffers')),
      switches_mean: mean(per(p, 'switches')),
      smooth_mean: mean(per(p, 'smooth_mean')),
      aborts_mean: mean(per(p, 'aborts')),
      diff_rmpc_ci_high: dr?.high ?? null,
      stall_diff_vs_hls: policies.includes('hls') ? mean(per(p, 'rebuffer_s').map((x, i) => x - per('hls', 'rebuffer_s')[i])) : null,
      decisions: lat.length,
      latency_p50_ms: pct(lat, 0.5),
      latency_p95_ms: pct(lat, 0.95),
      fallbacks: rs.reduce((a, r) => a + Number(r.fallbacks ?? 0), 0),
      long_tasks: rs.reduce((a, r) => a + Number(r.long_tasks ?? 0), 0),
    });
  }
  return { summary, details };
}

/** Cut points (Mb/s) of the throughput bands the summary breaks the comparison down by (`byBand`): < 1.25, 1.25–2, 2–4, ≥ 4. */
export const DEFAULT_BAND_CUTS: readonly number[] = [1.25, 2, 4];

/** One policy in one throughput band: what `byBand` reports (QoE_lin per chunk; stall s per run). */
export interface BandRow {
  /** e.g. "1.25–2 Mb/s" */
  band: string;
  low_mbps: number;
  /** null for the open top band */
  high_mbps: number | null;
  policy: string;
  /** traces in the band that every policy ran on */
  traces: number;
  qoe_chunk_mean: number;
  /** paired by trace, with the 95 % t-interval (null bounds for a single trace; null against a policy not run) */
  diff_vs_hls: number | null;
  diff_ci_low: number | null;
  diff_ci_high: number | null;
  /** traces where the policy scored above hls.js */
  wins_vs_hls: number | null;
  /** against robustMPC with the same mends (`robustMpcBaseline`) */
  robustmpc_baseline: string | null;
  diff_vs_robustmpc: number | null;
  diff_rmpc_ci_low: number | null;
  diff_rmpc_ci_high: number | null;
  stall_s_mean: number;
}

/**
 * A trace's mean throughput, Mb/s (the mean of its samples after the first, as `defaultBenchTraces` ranks them): read
 * from the first of `dirs` (Pensieve format) that holds the file; null when none does.
 */
export function traceMeanMbps(name: string, dirs: readonly string[]): number | null {
  for (const d of dirs) {
    const f = join(d, name);
    if (!existsSync(f)) continue;
    const t = parseTrace(readFileSync(f, 'utf8'), name);
    return t.mbps.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, t.mbps.length - 1);
  }
  return null;
}

/**
 * The comparison broken down by the traces' mean throughput (`means`, Mb/s; a trace without a mean is left out):
 * per band [cuts[i−1], cuts[i]) and policy, the mean QoE_lin per chunk and the paired differences to hls.js and to
 * robustMPC with the same mends, over the band's traces every policy ran on (`pairByTrace`). Bands without a trace
 * are omitted. Throws InputError when `cuts` are not increasing positive numbers.
 */
export function byBand(
  rows: Row[],
  policies: readonly string[],
  means: ReadonlyMap<string, number>,
  cuts: readonly number[] = DEFAULT_BAND_CUTS,
): BandRow[] {
  if (!cuts.every((c, i) => c > 0 && (i === 0 || c > cuts[i - 1])))
    throw new InputError(`band cuts must increase and be > 0, got ${cuts.join(',')}`);
  const edges = [0, ...cuts, Infinity];
  const out: BandRow[] = [];
  for (let b = 0; b + 1 < edges.length; b++) {
    const [lo, hi] = [edges[b], edges[b + 1]];
    const inBand = rows.filter((r) => {
      const m = means.get(r.trace as string);
      return m !== undefined && m >= lo && m < hi;
    });
    const { traces, per, diff } = pairByTrace(inBand, policies);
    if (!traces.length) continue;
    const band = hi === Infinity ? `≥ ${lo} Mb/s` : lo === 0 ? `< ${hi} Mb/s` : `${lo}–${hi} Mb/s`;
    const hls = policies.includes('hls') ? per('hls', 'qoe_chunk') : null;
    for (const p of policies) {
      const dh = diff(p, 'hls', 'qoe_chunk');
      const rb = robustMpcBaseline(p, policies);
      const dr = rb === null ? null : diff(p, rb, 'qoe_chunk');
      const q = per(p, 'qoe_chunk');
      const ci = (d: ReturnType<typeof meanCi> | null, k: 'low' | 'high') =>
        d && traces.length > 1 && Number.isFinite(d[k]) ? d[k] : null;
      out.push({
        band,
        low_mbps: lo,
        high_mbps: hi === Infinity ? null : hi,
        policy: p,
        traces: traces.length,
        qoe_chunk_mean: mean(q),
        diff_vs_hls: dh?.mean ?? null,
        diff_ci_low: ci(dh, 'low'),
        diff_ci_high: ci(dh, 'high'),
        wins_vs_hls: hls ? q.filter((x, i) => x > hls[i]).length : null,
        robustmpc_baseline: rb,
        diff_vs_robustmpc: dr?.mean ?? null,
        diff_rmpc_ci_low: ci(dr, 'low'),
        diff_rmpc_ci_high: ci(dr, 'high'),
        stall_s_mean: mean(per(p, 'rebuffer_s')),
      });
    }
  }
  return out;
}

/** The mean throughput of each trace of `traces` found in the Pensieve test or training directory or the synthetic bench traces' directory. */
function benchTraceMeans(traces: readonly string[], synthDir: string): Map<string, number> {
  const dirs = [join(dataRoot(), 'abr', 'traces', 'test'), join(dataRoot(), 'abr', 'traces', 'train'), synthDir];
  const m = new Map<string, number>();
  for (const t of traces) {
    const v = traceMeanMbps(t, dirs);
    if (v !== null) m.set(t, v);
  }
  return m;
}

/**
 * Chromium sets its renderers' nice values itself (0 to 5 here, whatever it was started with), so a bench run at
 * `nice -n -10` would not reach the page; every second, this gives the browser's processes the bench's own priority.
 */
function keepPriority(root: number, own: number): void {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const mine = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, pp] of parent)
      if (!mine.has(pid) && mine.has(pp)) {
        mine.add(pid);
        grew = true;
      }
  }
  for (const pid of mine)
    try {
      if (getPriority(pid) !== own) setPriority(pid, own);
    } catch {
      /* not permitted or gone: the run goes on at Chromium's priorities */
    }
}

/**
 * Open `url` (plus a `report` parameter: the loopback URL the page POSTs its JSON result to) in a fresh headless
 * Chromium (`CHROME_BIN`, default /usr/bin/chromium; its processes kept at this process' priority) and resolve with
 * what the page posts. Rejects after `timeoutMs` without a result, or when Chromium cannot start.
 */
export async function playInChromium(url: string, timeoutMs: number): Promise<Row> {
  const own = getPriority();
  const exe = process.env.CHROME_BIN ?? '/usr/bin/chromium';
  const profile = mkdtempSync(join(tmpdir(), 'edgeplay-chromium-'));
  let child: ReturnType<typeof spawn> | null = null;
  let prio: ReturnType<typeof setInterval> | null = null;
  const srv = createServer();
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs / 1000} s: ${url}`)), timeoutMs);
      srv.on('request', (req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          res.writeHead(200, { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' });
          res.end('ok');
          if (req.method !== 'POST') return;
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
            '--disable-renderer-backgrounding',
            '--disable-background-timer-throttling',
            '--disable-backgrounding-occluded-windows',
            `--user-data-dir=${profile}`,
            `${url}&report=${encodeURIComponent(report)}`,
          ],
          { stdio: 'ignore' },
        );
        child.on('error', (e) => reject(e));
        const pid = child.pid;
        if (pid) prio = setInterval(() => keepPriority(pid, own), 1000);
      });
    });
  } finally {
    if (prio) clearInterval(prio);
    const c = child as ReturnType<typeof spawn> | null;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    srv.close();
    // Chromium's helpers may still be writing the profile for a moment: a leftover temp dir never fails a run
    for (let i = 0; i < 5; i++) {
      try {
        rmSync(profile, { recursive: true, force: true });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/**
 * Runs the evaluation (resuming from the results file), prints progress and the table, writes the results. Throws InputError
 * for an unknown policy, a DRL model (`drl:NAME`, `model`) not under models/, or when dist/ has not been built.
 */
export async function benchBrowserAbr(o: BrowserAbrBenchOptions = {}): Promise<BrowserAbrBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const synthDir = resolve(process.env.EDGEPLAY_CACHE ?? '.cache', 'bench-traces');
  const traces = o.traces ?? defaultBenchTraces();
  writeSyntheticTraces(synthDir, traces);
  const policies = o.policies ?? ['hls', 'robustmpc', 'bola', 'drl'];
  const limit = o.limit ?? 30;
  const repeats = o.repeats ?? 1;
  const parallel = o.parallel ?? 1;
  const transmux = o.transmux ?? 'worker';
  const model = o.model ?? '/models/abr-drl/model.json';
  const answer = o.answer ?? 'slot';
  const tables = o.tables ?? 'on';
  const maxLag = o.maxLag ?? 0.03;
  if (!(maxLag > 0)) throw new InputError(`maxLag must be > 0 (a share of the run's wall time), got ${maxLag}`);
  const config = {
    traces,
    policies,
    limit,
    repeats,
    transmux,
    model,
    answer,
    tables,
    guard: DEFAULT_DRL_GUARD,
    abandon: DEFAULT_ABANDON,
    max_lag: maxLag,
  };
  /** `drl:NAME` is the DRL policy with models/NAME (a candidate next to the committed one); `drl+guard` (also
   * `drl+guard:NAME`) the DRL with its stall guard (DEFAULT_DRL_GUARD, src/abr/drl-guard.ts); `+norefetch` after any
   * policy (before `:NAME`) plays it with `createStreamController` (src/abr/hls-stream-controller.ts: no re-fetch of
   * the fragment just buffered after a level switch); `+abandon` after an edgeplay policy, with the controller's own
   * abandonment of a download that will not arrive in time (DEFAULT_ABANDON, src/abr/abandon.ts) */
  const modelOf = (p: string) => (p.includes(':') ? `/models/${p.slice(p.indexOf(':') + 1)}/model.json` : model);
  const POLICY = /^(hls|robustmpc|bola|bb|drl)(\+guard)?(\+norefetch)?(\+abandon)?(:[\w-]+)?$/;
  const pageQuery = (p: string) => {
    const m = POLICY.exec(p)!;
    return `policy=${m[1]}${m[2] ? '&guard=on' : ''}${m[3] ? '&refetch=skip' : ''}${m[4] ? '&abandon=on' : ''}`;
  };
  for (const p of policies) {
    const m = POLICY.exec(p);
    if (!m || ((m[2] || m[5]) && m[1] !== 'drl') || (m[4] && m[1] === 'hls'))
      throw new InputError(
        `unknown policy "${p}" (hls, robustmpc, bola, bb, drl; drl+guard; any of them +norefetch; any but hls +abandon (in this order); drl[+guard][+norefetch][+abandon]:MODEL)`,
      );
  }
  // the page loads /models/… from the repository's models/ (demo/server.ts): a model missing there failed in Chromium (or
  // hung to the run's timeout) run after run, so it is refused before anything plays
  const modelsRoot = resolve(import.meta.dirname, '..', 'models');
  for (const p of policies) {
    const path = p.startsWith('drl') ? modelOf(p) : '';
    if (path.startsWith('/models/') && !existsSync(join(modelsRoot, path.slice('/models/'.length))))
      throw new InputError(`policy ${p}: its DRL model ${path} is not in models/ (no ${join(modelsRoot, path.slice('/models/'.length))})`);
  }
  if (!existsSync('dist/edgeplay.worker.js')) throw new InputError('dist/edgeplay.worker.js missing: run npm run build first');
  const outFile = o.out === undefined ? 'bench/results/browser-abr.json' : o.out;

  // resume: keep the runs of an earlier invocation with the same per-run settings
  const key = (r: Row) => `${r.trace}|${r.policy}|${r.repeat}`;
  const rows: Row[] = [];
  /** runs whose playback lagged behind the wall clock (kept for the record, never summarised, run again) */
  const rejected: Row[] = [];
  if (outFile && existsSync(outFile) && !o.fresh) {
    try {
      const prev = JSON.parse(readFileSync(outFile, 'utf8')) as Partial<BrowserAbrBenchResult>;
      const c = prev.config;
      if (c && c.limit === limit && c.transmux === transmux && c.model === model && c.answer === answer && (c.tables ?? 'off') === tables) {
        rejected.push(...(prev.rejected ?? []));
        // runs of the DRL with its guard are kept only if they played the guard of today (its default has changed before)
        const sameGuard = JSON.stringify(c.guard ?? null) === JSON.stringify(DEFAULT_DRL_GUARD);
        const sameAbandon = JSON.stringify(c.abandon ?? null) === JSON.stringify(DEFAULT_ABANDON);
        for (const r of prev.rows ?? [])
          if (traces.includes(r.trace as string) && policies.includes(r.policy as string)) {
            if (String(r.policy).startsWith('drl+guard') && !sameGuard) continue;
            if (String(r.policy).includes('+abandon') && !sameAbandon) continue;
            (lagged(r, maxLag) ? rejected : rows).push(r);
          }
      }
    } catch {
      /* not ours or truncated: start afresh */
    }
  }
  const jobs = rotatedJobs(traces, policies, repeats);
  const done = new Set(rows.map(key));
  const todo = jobs.filter((j) => !done.has(key(j)));
  log(
    `bench:browser-abr: ${traces.length} traces x ${policies.length} policies x ${repeats} repeats = ${jobs.length} runs, ${jobs.length - todo.length} already done, ${parallel} at a time`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'edgeplay-bench-'));
  const demo = await startDemoServer({ port: 0, controller: false, live: false, dataDir, tracesDirs: [synthDir], log: () => undefined });

  const result = (): BrowserAbrBenchResult => {
    const s = summarise(rows, policies);
    return {
      command: o.command ?? 'benchBrowserAbr (library call)',
      config,
      progress: benchProgress(rows, jobs, rejected.length),
      rows,
      rejected,
      ...s,
      bands: byBand(rows, policies, benchTraceMeans(traces, synthDir)),
    };
  };
  const write = () => {
    if (outFile) writeResults(outFile, result());
  };
  const f = fmt;
  try {
    await playJobs({
      jobs: todo,
      total: jobs.length,
      parallel,
      maxLag,
      play: async (j) => {
        const started = Date.now();
        const load1 = loadavg()[0];
        const r = await playInChromium(
          `${demo.url}/bench-abr.html?${pageQuery(j.policy)}&trace=${encodeURIComponent(j.trace)}&limit=${limit}&transmux=${transmux}&model=${encodeURIComponent(modelOf(j.policy))}&answer=${answer}&tables=${tables}`,
          (limit * 4 * 3 + 120) * 1000,
        );
        return Object.assign(r, {
          trace: j.trace,
          policy: j.policy,
          repeat: j.repeat,
          loadavg_1m: load1,
          wall_s: (Date.now() - started) / 1000,
        });
      },
      rows,
      rejected,
      write,
      describe: (r) =>
        `${String(r.trace).padEnd(22)} ${String(r.policy).padEnd(13)} #${r.repeat} qoe/chunk ${f(r.qoe_chunk)}  bitrate ${f(r.bitrate_mean)}  stall ${f(r.rebuffer_s, 2)} s (${r.rebuffers})  switches ${r.switches}  aborts ${r.aborts}${r.abandons ? ` (ours ${r.abandons})` : ''}${r.refetch_skips ? `  skips ${r.refetch_skips}` : ''}  latency p50/p95 ${f(r.latency_p50_ms, 2)}/${f(r.latency_p95_ms, 2)} ms  table ${r.answers_by_table ?? 0}/${r.decisions ?? 0} agree ${r.table_agree ?? 0}/${r.table_checks ?? 0}`,
      log,
    });
  } finally {
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  write();
  const res = result();
  printSummary(res, log);
  return res;
}

/** A number with `d` decimals, or "-". */
export const fmt = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '-');

/** Prints the per-policy table of a VOD evaluation's results (summary and details). */
export function printSummary(res: Pick<BrowserAbrBenchResult, 'summary' | 'details' | 'bands'>, log: (s: string) => void): void {
  const f = fmt;
  // the policy column as wide as the longest name (drl+norefetch+abandon:MODEL); each interval cell ends in a space
  const w = Math.max(10, ...res.summary.map((s) => s.policy.length + 1));
  const cell = (text: string, width: number) => text.padEnd(width - 1) + ' ';
  log(
    `\n${'policy'.padEnd(w)}${'runs'.padStart(5)}  ${cell('qoe/chunk [95% CI]', 29)}${cell('vs hls.js [95% CI]', 28)}` +
      `${cell('vs robustmpc [95% CI]', 24)}${'stall s'.padStart(7)}  bitrate  switches  latency p50/p95`,
  );
  for (const s of res.summary) {
    const d = res.details.find((x) => x.policy === s.policy)!;
    log(
      `${s.policy.padEnd(w)}${String(s.runs).padStart(5)}  ${cell(`${f(s.qoe_chunk_mean)} [${f(s.ci_low)}, ${f(s.ci_high)}]`, 29)}` +
        cell(`${f(s.diff_vs_hls)} [${f(s.diff_ci_low)}, ${f(s.diff_ci_high)}]`, 28) +
        cell(`${f(s.diff_vs_robustmpc)} [${f(s.diff_rmpc_ci_low)}, ${f(s.diff_rmpc_ci_high)}]`, 24) +
        `${f(s.stall_s_mean, 2).padStart(7)}  ${f(d.bitrate_mean).padStart(7)}  ${f(d.switches_mean, 1).padStart(8)}  ${f(d.latency_p50_ms, 2)}/${f(d.latency_p95_ms, 2)}`,
    );
  }
  log(`(${res.summary[0]?.runs ?? 0} runs per policy; intervals over ${res.details[0]?.traces ?? 0} traces, paired by trace)`);
  // a comparison of models without hls.js (--dev): each against the first policy, the figure a choice between them rests on
  const ref = res.summary[0]?.reference;
  if (ref) {
    log(`\npaired with ${ref} (the first policy), QoE_lin per chunk:`);
    log(`${'policy'.padEnd(40)}  diff [95% CI]              traces above`);
    for (const s of res.summary.slice(1))
      log(
        `${s.policy.padEnd(40)}  ${`${f(s.diff_vs_reference)} [${f(s.diff_ref_ci_low)}, ${f(s.diff_ref_ci_high)}]`.padEnd(27)}` +
          `${s.wins_vs_reference ?? '-'} of ${res.details.find((x) => x.policy === s.policy)?.traces ?? '-'}`,
      );
  }
  if (res.bands?.length) {
    log(`\nby the traces' mean throughput (paired by trace; wins = traces above hls.js):`);
    log(
      `band            policy                                  traces  qoe/chunk  vs hls.js [95% CI]        wins  vs robustmpc [95% CI]     stall s`,
    );
    for (const b of res.bands)
      log(
        `${b.band.padEnd(16)}${b.policy.padEnd(40)}${String(b.traces).padStart(6)}  ${f(b.qoe_chunk_mean).padStart(9)}  ` +
          `${f(b.diff_vs_hls)} [${f(b.diff_ci_low)}, ${f(b.diff_ci_high)}]`.padEnd(26) +
          `${b.wins_vs_hls ?? '-'}`.padStart(4) +
          `  ${f(b.diff_vs_robustmpc)} [${f(b.diff_rmpc_ci_low)}, ${f(b.diff_rmpc_ci_high)}]`.padEnd(28) +
          `${f(b.stall_s_mean, 2).padStart(6)}`,
      );
  }
  const against = res.summary.filter((s) => s.robustmpc_baseline && s.robustmpc_baseline !== 'robustmpc');
  if (against.length)
    log(`vs robustmpc means against: ${against.map((s) => `${s.policy} → ${s.robustmpc_baseline}`).join('; ')} (the same mends)`);
}

/**
 * The summary-only mode (`--summary`): re-computes the summary and details of a results file from its rows (the
 * policies of its config), prints the table and writes them back into the file; nothing is played. Throws InputError
 * when the file is missing or not a results file.
 */
export function resummariseBrowserAbr(file: string, log: (s: string) => void = console.log): BrowserAbrBenchResult {
  const res = readResults<BrowserAbrBenchResult>(file);
  Object.assign(res, summarise(res.rows, res.config.policies));
  const synthDir = resolve(process.env.EDGEPLAY_CACHE ?? '.cache', 'bench-traces');
  const traces = [...new Set(res.rows.map((r) => r.trace as string))];
  writeSyntheticTraces(synthDir, traces);
  const means = benchTraceMeans(traces, synthDir);
  const unknown = traces.filter((t) => !means.has(t));
  if (unknown.length)
    log(`(the throughput bands leave out ${unknown.length} traces whose file is not here: ${unknown.join(', ')}; set EDGEPLAY_DATA)`);
  res.bands = byBand(res.rows, res.config.policies, means);
  writeResults(file, res);
  log(`${file}: ${res.rows.length} runs (${res.rejected?.length ?? 0} rejected for lag), re-summarised from its rows`);
  printSummary(res, log);
  return res;
}

/** Reads a real-playback results file (rows and config). Throws InputError when it is missing or malformed. */
export function readResults<T extends { rows: Row[]; config: { policies: string[] } }>(file: string): T {
  if (!existsSync(file)) throw new InputError(`${file} not found: nothing to summarise`);
  let res: T;
  try {
    res = JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new InputError(`${file} is not JSON: ${e instanceof Error ? e.message : e}`);
  }
  if (!Array.isArray(res?.rows) || !Array.isArray(res?.config?.policies)) throw new InputError(`${file} has no rows or config.policies`);
  return res;
}

/** Writes a results file atomically (a .tmp file renamed over it). */
export function writeResults(file: string, res: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file + '.tmp', JSON.stringify(res, null, 1) + '\n');
  renameSync(file + '.tmp', file);
}
