/**
 * The live ABR benchmark (`npm run bench:live-abr`, entry in cli/live-abr.ts): low-latency live ABR in the live simulator (src/sim/abr/live.ts: LL-HLS parts of 0.5 s, target latency 3 s,
 * never past the live edge, catch-up by playback rate). One session per trace of DIR (default: the 142
 * Pensieve *test* traces), each paired with a video of the split (default: the *dev* videos of the shared
 * chunk dataset, in turn), 120 s of media from a start chunk >= 5 that moves along long videos.
 * Policies: hlsjs (hls.js' live rule + its latency controller, max rate 1.5), lolp (LoL+-like rule + LoL+
 * playback control), bb (BBA chunk map), robustmpc (on the live QoE), drl (models/live-abr-drl); the last four
 * use LoL+'s playback control. Each runs with the next chunks' sizes from: `true` (oracle), `mean` (published
 * sizes of complete chunks + mean of past), `predicted` (published + the meta-learned forecaster,
 * models/chunk-size) and, for hlsjs and lolp, `declared` (the playlist bitrate, their real default).
 * Optional ceilings (`--policies ...,oracle,oracle-h5`, LIVE_ORACLES): offline policies with full knowledge of the
 * trace and the true sizes, printed against the best baseline and never counted as one.
 * QoE: core/live-qoe.ts (dash.js LoL+ evaluator weights), summed per session and divided by the media seconds
 * and 1000 (Mbps-equivalent per second of video); rows average sessions. Writes bench/results/live-abr.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { liveBaseline, type LiveBaselineName, type LivePolicy } from '../src/abr/live.js';
import { LiveDrlPolicy } from '../src/abr/live-drl.js';
import { MeanOfPast } from '../src/abr/size-forecast.js';
import { LearnedSizeForecaster } from '../src/abr/size-model.js';
import { loadChunkDataset, loadDenseLayers, loadSizeNet, type ChunkVideo } from '../src/sim/abr/chunks.js';
import {
  DeclaredSizes,
  ForecastSizes,
  TrueSizes,
  runLiveSession,
  type LiveOptions,
  type LiveVideo,
  type SizeSource,
} from '../src/sim/abr/live.js';
import { LiveOraclePolicy } from '../src/sim/abr/live-oracle.js';
import type { SimTrace } from '../src/sim/abr/env.js';
import { dataRoot, loadTraceDir } from '../src/sim/abr/load.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative } from '../src/train/cli/args.js';

/** the policies of the bench: the baselines of abr/live.ts liveBaseline and the DRL actor */
export const LIVE_POLICIES = ['hlsjs', 'lolp', 'bb', 'robustmpc', 'drl'] as const satisfies ReadonlyArray<LiveBaselineName | 'drl'>;
export const LIVE_SIZES = ['true', 'mean', 'predicted', 'declared'] as const;
/**
 * Optional ceilings (src/sim/abr/live-oracle.ts), never in the default list: `oracle` plans the whole session with
 * full knowledge of the trace and the true sizes (beam search); `oracle-h1` / `oracle-h5` re-plan at every decision
 * over the next 1 / 5 chunks with the same knowledge. They run with `true` sizes only (their sizes are their own),
 * are reported as ceilings and are never a baseline or a selection.
 */
export const LIVE_ORACLES = ['oracle', 'oracle-h1', 'oracle-h5'] as const;
const isOracle = (p: string) => (LIVE_ORACLES as readonly string[]).includes(p);

export interface LiveAbrBenchOptions {
  /** trace directory (default $EDGEPLAY_DATA/abr/traces/test) */
  traces?: string;
  /** chunk dataset (default $EDGEPLAY_DATA/chunks) and its split (default dev) */
  data?: string;
  split?: string;
  policies?: Array<(typeof LIVE_POLICIES)[number] | (typeof LIVE_ORACLES)[number]>;
  /** the oracles' beam: states kept per rung and chunk for `oracle` (default 8) and for the receding ones (default 2) */
  oracleBeam?: number;
  oracleHorizonBeam?: number;
  sizes?: Array<(typeof LIVE_SIZES)[number]>;
  /** the forecaster (default models/chunk-size) and the DRL actor (default models/live-abr-drl) */
  model?: string;
  drl?: string;
  targetLatencyS?: number;
  sessionS?: number;
  /** results file (default bench/results/live-abr.json); null writes none */
  out?: string | null;
  command?: string;
  log?: (s: string) => void;
}

export interface LiveAbrBenchRow {
  policy: string;
  sizes: string;
  qoe_mean: number;
  bitrate_mbps: number;
  rebuffer_s: number;
  latency_s: number;
  traces: number;
}

export interface LiveAbrBenchResult {
  command: string;
  traces_dir: string;
  data: string;
  split: string;
  target_latency_s: number;
  session_s: number;
  rows: LiveAbrBenchRow[];
  terms: Array<Record<string, number | string>>;
  /** with an oracle in the policies: its beams, and each oracle's and the DRL's rows against the best baseline */
  oracle_beam?: number;
  oracle_horizon_beam?: number;
  ceilings?: Array<{
    policy: string;
    sizes: string;
    qoe_mean: number;
    vs_best_baseline_pct: number;
    best_baseline: string;
    vs_best_baseline_same_sizes_pct: number | null;
    best_baseline_same_sizes: string | null;
    sessions_at_least_every_policy: number | null;
  }>;
}

/** Runs every policy x size source over the sessions, prints the table, writes the results. Throws InputError on missing data. */
export async function benchLiveAbr(o: LiveAbrBenchOptions = {}): Promise<LiveAbrBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const root = dataRoot();
  const split = o.split ?? 'dev';
  const tracesDir = resolve(o.traces ?? join(root, 'abr', 'traces', 'test'));
  const dataDir = resolve(o.data ?? join(root, 'chunks'));
  if (!existsSync(tracesDir) || !existsSync(join(dataDir, 'index.csv')))
    throw new InputError(
      `bench:live-abr needs traces (${tracesDir}) and a chunk dataset (${dataDir}/index.csv); set EDGEPLAY_DATA or pass --traces/--data`,
    );
  const traces = loadTraceDir(tracesDir);
  const videos = loadChunkDataset(dataDir, [split]).filter((v) => v.sizes.length >= 12);
  if (!videos.length) throw new InputError(`bench:live-abr: no ${split} video with >= 12 chunks in ${dataDir}`);
  const TARGET = o.targetLatencyS ?? 3;
  const SESSION_S = o.sessionS ?? 120;
  const policies: string[] = [...(o.policies ?? LIVE_POLICIES)];
  const sizeKinds: string[] = [...(o.sizes ?? LIVE_SIZES)];
  const modelDir = resolve(o.model ?? 'models/chunk-size');
  const drlDir = resolve(o.drl ?? 'models/live-abr-drl');
  if (sizeKinds.includes('predicted') && !existsSync(join(modelDir, 'head.json')))
    throw new InputError(`no forecaster in ${modelDir}: run npm run train:chunks`);
  const sizeNet = sizeKinds.includes('predicted') ? loadSizeNet(modelDir) : null;
  let drl: ReturnType<typeof loadDenseLayers> | null = null;
  if (policies.includes('drl')) {
    if (existsSync(join(drlDir, 'model.json'))) drl = loadDenseLayers(drlDir, ['s1', 's2', 'score']);
    else {
      log(`bench:live-abr: ${drlDir} missing (npm run train:live-abr); drl skipped`);
      policies.splice(policies.indexOf('drl'), 1);
    }
  }
  const oracleBeam = o.oracleBeam ?? 8;
  const horizonBeam = o.oracleHorizonBeam ?? 2;
  const make = (p: string, v: LiveVideo, tr: SimTrace, opts: LiveOptions): LivePolicy =>
    p === 'drl'
      ? new LiveDrlPolicy(drl!)
      : p === 'oracle'
        ? new LiveOraclePolicy(v, tr, opts, oracleBeam)
        : isOracle(p)
          ? new LiveOraclePolicy(v, tr, opts, horizonBeam, Number(p.slice('oracle-h'.length)))
          : liveBaseline(p);

  const asLive = (v: ChunkVideo): LiveVideo => ({
    name: `${v.source}/${v.video}`,
    ladderKbps: v.ladderKbps,
    chunkS: v.chunkS,
    sizes: v.sizes,
    meta: v.meta,
  });
  const sessions = traces.map((tr, i) => {
    const v = videos[i % videos.length];
    const chunks = Math.min(Math.floor(SESSION_S / v.chunkS), v.sizes.length - 6);
    const start = 5 + ((i * 37) % Math.max(1, v.sizes.length - 5 - chunks));
    return { tr, v, chunks, start };
  });
  // size sources per video, computed once
  const cache = new Map<string, SizeSource>();
  const sourceFor = (kind: string, v: ChunkVideo): SizeSource => {
    const key = `${kind}|${v.source}/${v.video}`;
    let s = cache.get(key);
    if (!s) {
      const lv = asLive(v);
      s =
        kind === 'true'
          ? new TrueSizes(lv)
          : kind === 'declared'
            ? new DeclaredSizes(lv)
            : kind === 'mean'
              ? new ForecastSizes(lv, new MeanOfPast(), 5, 'mean')
              : new ForecastSizes(lv, new LearnedSizeForecaster(sizeNet!), 5, 'predicted');
      cache.set(key, s);
    }
    return s;
  };

  interface Row {
    policy: string;
    sizes: string;
    qoe_mean: number;
    bitrate_mbps: number;
    rebuffer_s: number;
    latency_s: number;
    traces: number;
  }
  const rows: Row[] = [];
  const terms: Array<Record<string, number | string>> = [];
  const perSessionBy = new Map<string, number[]>();
  for (const p of policies)
    for (const kind of sizeKinds) {
      if (kind === 'declared' && !['hlsjs', 'lolp'].includes(p)) continue;
      if (isOracle(p) && kind !== 'true') continue;
      const tp = Date.now();
      const acc = { qoe: 0, br: 0, rb: 0, lat: 0, bitrate: 0, sw: 0, reb: 0, latT: 0, speed: 0, stalls: 0, switches: 0 };
      const perSession: number[] = [];
      for (const s of sessions) {
        const lv = asLive(s.v);
        const opts: LiveOptions = { startChunk: s.start, chunks: s.chunks, targetLatencyS: TARGET };
        const r = runLiveSession(make(p, lv, s.tr, opts), lv, s.tr, sourceFor(kind, s.v), opts);
        const k = r.mediaS * 1000;
        const q = r.qoe.total / k;
        perSession.push(q);
        acc.qoe += q;
        acc.br += r.bitrateKbpsMean / 1000;
        acc.rb += r.rebufferS;
        acc.lat += r.latencyMeanS;
        acc.bitrate += r.qoe.bitrate / k;
        acc.sw += r.qoe.switch / k;
        acc.reb += r.qoe.rebuffer / k;
        acc.latT += r.qoe.latency / k;
        acc.speed += r.qoe.speed / k;
        acc.stalls += r.stalls;
        acc.switches += r.switches;
      }
      const n = sessions.length;
      rows.push({
        policy: p,
        sizes: kind,
        qoe_mean: acc.qoe / n,
        bitrate_mbps: acc.br / n,
        rebuffer_s: acc.rb / n,
        latency_s: acc.lat / n,
        traces: n,
      });
      perSessionBy.set(`${p}|${kind}`, perSession);
      if (isOracle(p)) log(`  ${p}: ${((Date.now() - tp) / 1000).toFixed(0)} s for ${sessions.length} sessions`);
      const sorted = [...perSession].sort((x, y) => x - y);
      terms.push({
        policy: p,
        sizes: kind,
        bitrate_term: acc.bitrate / n,
        switch_term: acc.sw / n,
        rebuffer_term: acc.reb / n,
        latency_term: acc.latT / n,
        speed_term: acc.speed / n,
        stalls: acc.stalls / n,
        switches: acc.switches / n,
        qoe_p10: sorted[Math.floor(0.1 * n)],
        qoe_median: sorted[Math.floor(0.5 * n)],
      });
    }
  const command = o.command ?? 'bench:live-abr (library call)';
  log(
    `${command}\n${traces.length} sessions: traces ${tracesDir} x ${videos.length} ${split} videos of ${dataDir}; ${SESSION_S} s of media each, target latency ${TARGET} s, LL-HLS parts 0.5 s`,
  );
  log(
    'QoE (dash.js LoL+ evaluator weights) per second of media, Mbps-equivalent; bitrate Mbps; rebuffer s per session; latency s (time average)',
  );
  log('policy      sizes        qoe    bitrate  rebuffer  latency   rate-term  switch-term');
  const baselines = rows.filter((r) => r.policy !== 'drl' && !isOracle(r.policy));
  for (const r of rows) {
    const t = terms.find((x) => x.policy === r.policy && x.sizes === r.sizes)!;
    log(
      `${r.policy.padEnd(12)}${r.sizes.padEnd(10)}${r.qoe_mean.toFixed(4).padStart(8)}${r.bitrate_mbps.toFixed(3).padStart(10)}${r.rebuffer_s.toFixed(2).padStart(10)}${r.latency_s.toFixed(2).padStart(9)}${(t.speed_term as number).toFixed(4).padStart(11)}${(t.switch_term as number).toFixed(4).padStart(13)}`,
    );
  }
  const drlRows = rows.filter((r) => r.policy === 'drl');
  if (drlRows.length && baselines.length) {
    const bestBase = baselines.reduce((x, y) => (y.qoe_mean > x.qoe_mean ? y : x));
    const dTrue = drlRows.find((r) => r.sizes === 'true');
    const dPred = drlRows.find((r) => r.sizes === 'predicted');
    if (dPred) {
      log(
        `drl (predicted) vs best baseline ${bestBase.policy} (${bestBase.sizes}): ${((100 * (dPred.qoe_mean - bestBase.qoe_mean)) / Math.abs(bestBase.qoe_mean)).toFixed(1)} % (target >= +10 %)`,
      );
      if (dTrue)
        log(
          `drl predicted vs true sizes: ${((100 * (dPred.qoe_mean - dTrue.qoe_mean)) / Math.abs(dTrue.qoe_mean)).toFixed(2)} % (target within 2 %)`,
        );
    }
  }
  const pct = (a: number, b: number) => (100 * (a - b)) / Math.abs(b);
  const ceilings: LiveAbrBenchResult['ceilings'] = [];
  if (baselines.length) {
    const bestBase = baselines.reduce((x, y) => (y.qoe_mean > x.qoe_mean ? y : x));
    const bestOf = (kind: string) =>
      baselines.filter((r) => r.sizes === kind).reduce<LiveAbrBenchRow | null>((x, y) => (!x || y.qoe_mean > x.qoe_mean ? y : x), null);
    // the oracle searches rungs under LoL+'s playback control: it is checked against the rows that play under the same
    // controller (hls.js' own latency controller plays another game: it never slows down below the target)
    const rateOf = (p: string) =>
      isOracle(p) ? 'lol+' : (make(p, asLive(videos[0]), traces[0], { startChunk: 0, chunks: 1 }).rateController?.().name ?? 'lol+');
    const others = rows.filter((r) => !isOracle(r.policy) && rateOf(r.policy) === 'lol+');
    for (const r of rows.filter((x) => isOracle(x.policy) || x.policy === 'drl')) {
      const like = bestOf(r.sizes);
      const c = {
        policy: r.policy,
        sizes: r.sizes,
        qoe_mean: r.qoe_mean,
        vs_best_baseline_pct: pct(r.qoe_mean, bestBase.qoe_mean),
        best_baseline: `${bestBase.policy}/${bestBase.sizes}`,
        vs_best_baseline_same_sizes_pct: like ? pct(r.qoe_mean, like.qoe_mean) : null,
        best_baseline_same_sizes: like ? `${like.policy}/${like.sizes}` : null,
        // sessions where this row is at least every non-oracle row of the run under the same playback control (a check of the oracle's search)
        sessions_at_least_every_policy: isOracle(r.policy)
          ? (perSessionBy.get(`${r.policy}|${r.sizes}`) ?? []).filter((q, i) =>
              others.every((x) => q >= (perSessionBy.get(`${x.policy}|${x.sizes}`) ?? [])[i] - 1e-9),
            ).length
          : null,
      };
      ceilings.push(c);
      log(
        `${isOracle(r.policy) ? 'ceiling' : 'policy '} ${r.policy} (${r.sizes}) ${r.qoe_mean.toFixed(4)}: ${c.vs_best_baseline_pct >= 0 ? '+' : ''}${c.vs_best_baseline_pct.toFixed(1)} % vs the best baseline ${c.best_baseline} (${bestBase.qoe_mean.toFixed(4)})` +
          (like
            ? `, ${c.vs_best_baseline_same_sizes_pct! >= 0 ? '+' : ''}${c.vs_best_baseline_same_sizes_pct!.toFixed(1)} % vs ${c.best_baseline_same_sizes} (${like.qoe_mean.toFixed(4)})`
            : '') +
          (c.sessions_at_least_every_policy !== null
            ? `; >= every other row with LoL+ playback control in ${c.sessions_at_least_every_policy} of ${sessions.length} sessions`
            : ''),
      );
    }
  }
  const result: LiveAbrBenchResult = {
    command,
    // $EDGEPLAY_DATA- or repo-relative: records hold no machine's absolute path
    traces_dir: dataRelative(tracesDir),
    data: dataRelative(dataDir),
    split,
    target_latency_s: TARGET,
    session_s: SESSION_S,
    rows,
    terms,
    ...(ceilings.length && rows.some((r) => isOracle(r.policy))
      ? { oracle_beam: oracleBeam, oracle_horizon_beam: horizonBeam, ceilings }
      : {}),
  };
  const outFile = o.out === undefined ? 'bench/results/live-abr.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    writeFileSync(resolve(outFile), JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
