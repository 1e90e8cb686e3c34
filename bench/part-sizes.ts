/**
 * The "decide one part later" benchmark (`npm run bench:part-sizes`, entry in cli/part-sizes.ts; issue 14, phase 2).
 *
 * 1. Chunk-size MAPE at h = 1 on the `aitrans_live` videos of a split of the shared chunk dataset (default dev),
 *    with part bytes from the challenge's frame traces (src/sim/abr/parts.ts): mean of past, the meta-learned
 *    forecaster (models/chunk-size), and both corrected by the bytes of the chunk's first k = 1..K parts at the rung
 *    being played (models/part-size, src/abr/part-size.ts); the protocol of src/train/part-size.ts (every rung in turn
 *    is the played one; APE pooled over origin, played rung and rung).
 * 2. The live simulator (src/sim/abr/live.ts, LL-HLS parts of 0.5 s with their real bytes, target latency 3 s) on the
 *    same videos x the Pensieve test traces (livePartRows): the DRL (models/live-abr-drl), optionally a second one
 *    (`lateDrl`, rows `drl-late`: the actor trained deciding after the first part), and the baselines RobustMPC,
 *    hls.js' live rule, LoL+-like and BB, with true, mean-of-past and predicted sizes, deciding at the live edge as
 *    today ("edge") and after the first part ("part1"); with `part1` the mean and predicted sizes are also corrected
 *    by the first part's bytes (`mean+head`, `predicted+head`). With `risks` (`--risk q70,x1.1,...`) also the risk-aware
 *    sizes of src/abr/size-risk.ts: `predicted+SPEC` at the edge, `predicted+head+SPEC` late (RiskSizes, one per session).
 * With `encodes` (`--encodes bench/coding-meta`) the MAPE part also covers our encodes of the split (part bytes from the
 * encoder's per-frame sizes, src/sim/abr/parts.ts loadEncodePartVideos), per stream and averaged over the streams;
 * `--split test` is then allowed with `--no-live` (only our encodes have a test split here).
 * Writes bench/results/part-sizes.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LIVE_BASELINES, liveBaseline, type LivePolicy } from '../src/abr/live.js';
import { LiveDrlPolicy } from '../src/abr/live-drl.js';
import { rateControlClass, type PartHeadCoefficients } from '../src/abr/part-size.js';
import { MeanOfPast } from '../src/abr/size-forecast.js';
import { parseSizeRisk } from '../src/abr/size-risk.js';
import { LearnedSizeForecaster, type DenseArrays, type SizeNet } from '../src/abr/size-model.js';
import { apeSummary, loadDenseLayers, loadSizeNet } from '../src/sim/abr/chunks.js';
import {
  DeclaredSizes,
  ForecastSizes,
  HeadForecastSizes,
  RiskSizes,
  TrueSizes,
  runLiveSession,
  type LiveVideo,
  type SizeSource,
} from '../src/sim/abr/live.js';
import type { SimTrace } from '../src/sim/abr/env.js';
import { dataRoot, loadTraceDir } from '../src/sim/abr/load.js';
import { loadEncodePartVideos, loadPartVideos, type PartVideo } from '../src/sim/abr/parts.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative, repoRelative } from '../src/train/cli/args.js';
import { baseForecasts, devFigures, evaluatePartConditioned } from '../src/train/part-size.js';

export interface PartSizesBenchOptions {
  data?: string;
  frames: string;
  split?: string;
  /** our encodes with part bytes (bench/coding-meta): their videos of the split join the MAPE part (not the live one) */
  encodes?: string;
  traces?: string;
  model?: string;
  partModel?: string;
  drl?: string;
  /** a second DRL actor (rows `drl-late`), e.g. models/live-abr-drl-late trained deciding after the first part */
  lateDrl?: string;
  /** baseline policies of the live part (default PART_BASELINES) */
  baselines?: readonly string[];
  /** late decision points, parts (default [1]); part1 rows are always needed by the summary */
  decideAfter?: readonly number[];
  /** risk-aware size specs (abr/size-risk.ts parseSizeRisk: qNN, xM): extra rows `predicted+head+SPEC` (late) and `predicted+SPEC` (edge) */
  risks?: readonly string[];
  /** skip the live simulation */
  noLive?: boolean;
  /**
   * The live part plays our encodes of the split (`encodes`, with their part bytes and rate-control class) instead of
   * the aitrans_live streams (session 11): a broader check of the late DRL's gap than the one stream `room`; with it
   * `--split test` may run the live part (the test encodes under the test traces).
   */
  liveEncodes?: boolean;
  /** skip the MAPE part */
  noMape?: boolean;
  sessionS?: number;
  out?: string | null;
  command?: string;
  log?: (s: string) => void;
}

/** h = 1 MAPE % of one stream (or `(stream mean)`: averaged over the streams, each counting equally). */
export interface PartSizesStreamRow {
  video: string;
  source: string;
  chunks: number;
  mean_all: number;
  meta: number;
  /** with k = 1..K parts known at the played rung */
  meta_head: number[];
  mean_all_head: number[];
  ratio_meta_head1_to_mean_all: number;
}

export interface PartSizesMapeRow {
  predictor: string;
  horizon: number;
  parts_known: number;
  mape: number;
  median_ape: number;
  ratio_to_mean_all: number;
  points: number;
}

/** The baseline policies of the live part of the bench (bench:live-abr's, without the DRL; built by abr/live.ts liveBaseline). */
export const PART_BASELINES = LIVE_BASELINES;

export interface LivePartOptions {
  /** the base forecaster and the part-size coefficients */
  net: SizeNet;
  coef: PartHeadCoefficients;
  /** DRL actors by row name (e.g. drl: models/live-abr-drl, drl-late: models/live-abr-drl-late) */
  drls: Record<string, DenseArrays[]>;
  /** baseline policies (default PART_BASELINES) */
  baselines?: readonly string[];
  /** the late decision points: after k parts for each k (default [1]; k <= the coefficients' K) */
  decideAfter?: readonly number[];
  /** risk-aware size specs (parseSizeRisk): rows `predicted+SPEC` at the edge and `predicted+head+SPEC` late, per session RiskSizes */
  risks?: readonly string[];
  /** media per session, s (default 120) and target latency, s (default 3) */
  sessionS?: number;
  targetLatencyS?: number;
}

/**
 * The live rows of bench:part-sizes: one session per trace, each on a video of `videos` in turn (they need part
 * bytes), 120 s from a start chunk >= 5 that moves along the video. Every DRL and baseline plays with each size
 * source at each decision point: at the live edge (`edge`) `true`, `mean` (mean of past), `predicted` (the
 * forecaster); after the first part (`part1`) the same plus `mean+head` and `predicted+head` (corrected by the first
 * part's bytes, HeadForecastSizes); hlsjs and lolp also with `declared` sizes at both points. Rows average sessions.
 * Throws when a video has no part bytes.
 */
export function livePartRows(videos: LiveVideo[], traces: SimTrace[], o: LivePartOptions): PartSizesLiveRow[] {
  for (const k of o.decideAfter ?? [1])
    if (!Number.isInteger(k) || k < 1 || k > o.coef.own.length)
      throw new InputError(`decide after ${k} part(s): must be an integer in 1..${o.coef.own.length} (the coefficients' K)`);
  const SESSION_S = o.sessionS ?? 120;
  const TARGET = o.targetLatencyS ?? 3;
  const sessions = traces.map((tr, i) => {
    const v = videos[i % videos.length];
    const chunks = Math.min(Math.floor(SESSION_S / v.chunkS), v.sizes.length - 6);
    const start = 5 + ((i * 37) % Math.max(1, v.sizes.length - 5 - chunks));
    return { tr, v, chunks, start };
  });
  const sources = new Map<string, Map<string, SizeSource>>();
  for (const v of videos) {
    const pred = new ForecastSizes(v, new LearnedSizeForecaster(o.net), 5, 'predicted');
    const mean = new ForecastSizes(v, new MeanOfPast(), 5, 'mean');
    sources.set(
      v.name,
      new Map<string, SizeSource>([
        ['true', new TrueSizes(v)],
        ['mean', mean],
        ['predicted', pred],
        ['declared', new DeclaredSizes(v)],
        ['mean+head', new HeadForecastSizes(v, mean, o.coef, 'mean+head')],
        ['predicted+head', new HeadForecastSizes(v, pred, o.coef, 'predicted+head')],
      ]),
    );
  }
  const configsOf = (p: string): Array<{ sizes: string; decide: number }> => {
    const declared = p === 'hlsjs' || p === 'lolp' ? ['declared'] : [];
    const risks = o.risks ?? [];
    return [
      ...['true', 'mean', 'predicted', ...risks.map((r) => `predicted+${r}`), ...declared].map((sizes) => ({ sizes, decide: 0 })),
      ...(o.decideAfter ?? [1]).flatMap((decide) =>
        ['true', 'mean', 'predicted', 'mean+head', 'predicted+head', ...risks.map((r) => `predicted+head+${r}`), ...declared].map(
          (sizes) => ({ sizes, decide }),
        ),
      ),
    ];
  };
  const make = (p: string): LivePolicy => (p in o.drls ? new LiveDrlPolicy(o.drls[p], p) : liveBaseline(p));
  for (const r of o.risks ?? []) parseSizeRisk(r); // bad specs fail before the runs
  /** the source of a config; a risk-aware one is fresh per session (it learns the session's errors) */
  const sourceOf = (video: string, sizes: string): SizeSource => {
    const m = sources.get(video)!;
    const risk = /^(predicted(?:\+head)?)\+([qx][\d.]+u?)$/.exec(sizes);
    return risk ? new RiskSizes(m.get(risk[1])!, parseSizeRisk(risk[2]), sizes) : m.get(sizes)!;
  };
  const rows: PartSizesLiveRow[] = [];
  for (const p of [...Object.keys(o.drls), ...(o.baselines ?? PART_BASELINES)])
    for (const c of configsOf(p)) {
      const acc = { qoe: 0, br: 0, rb: 0, lat: 0 };
      for (const s of sessions) {
        const r = runLiveSession(make(p), s.v, s.tr, sourceOf(s.v.name, c.sizes), {
          startChunk: s.start,
          chunks: s.chunks,
          targetLatencyS: TARGET,
          decideAfterParts: c.decide,
        });
        acc.qoe += r.qoe.total / (r.mediaS * 1000);
        acc.br += r.bitrateKbpsMean / 1000;
        acc.rb += r.rebufferS;
        acc.lat += r.latencyMeanS;
      }
      const n = sessions.length;
      rows.push({
        policy: p,
        sizes: c.sizes,
        decide: c.decide ? `part${c.decide}` : 'edge',
        qoe_mean: acc.qoe / n,
        bitrate_mbps: acc.br / n,
        rebuffer_s: acc.rb / n,
        latency_s: acc.lat / n,
        sessions: n,
      });
    }
  return rows;
}

export interface PartSizesLiveRow {
  policy: string;
  sizes: string;
  decide: string;
  qoe_mean: number;
  bitrate_mbps: number;
  rebuffer_s: number;
  latency_s: number;
  sessions: number;
}

/**
 * Runs both parts, prints the tables, writes the results. Throws InputError on missing data or models, and before any
 * work on a split other than train/dev/test, on noLive with noMape, or on decideAfter without 1 (with the live part).
 */
export async function benchPartSizes(
  o: PartSizesBenchOptions,
): Promise<{ mape: PartSizesMapeRow[]; streams: PartSizesStreamRow[]; live: PartSizesLiveRow[] }> {
  const log = o.log ?? ((s: string) => console.log(s));
  const split = o.split ?? 'dev';
  // the options alone, before any data is read (a bad --decide-after was refused only after the whole MAPE part)
  if (!['train', 'dev', 'test'].includes(split))
    throw new InputError(`bench:part-sizes: --split must be train, dev or test, got "${split}"`);
  if (o.noLive && o.noMape) throw new InputError('bench:part-sizes: --no-live and --no-mape together leave nothing to run: drop one');
  if (!o.noLive && o.decideAfter && !o.decideAfter.includes(1))
    throw new InputError('bench:part-sizes: --decide-after must include 1 (the summary compares part1)');
  const encodesDir = o.encodes ? resolve(o.encodes) : null;
  if (split === 'test' && !(encodesDir && (o.noLive || o.liveEncodes)))
    throw new InputError(
      'bench:part-sizes: the shared dataset holds its test split out; --split test needs --encodes DIR and --no-live or --live-encodes',
    );
  if (o.liveEncodes && !encodesDir) throw new InputError('bench:part-sizes: --live-encodes needs --encodes DIR');
  const data = resolve(o.data ?? join(dataRoot(), 'chunks'));
  const frames = resolve(o.frames);
  const partDir = resolve(o.partModel ?? 'models/part-size');
  const modelDir = resolve(o.model ?? 'models/chunk-size');
  // the aitrans_live streams (shared chunks + the challenge's frame traces) are read for the train and dev splits only:
  // the test split is our encodes alone
  const needs = [...(split === 'test' ? [] : [join(data, 'index.csv'), frames]), join(partDir, 'coef.json'), join(modelDir, 'head.json')];
  for (const p of needs)
    if (!existsSync(p)) throw new InputError(`bench:part-sizes: ${p} missing (models/part-size/MODEL.md says how to get the data)`);
  const coef = JSON.parse(readFileSync(join(partDir, 'coef.json'), 'utf8')) as PartHeadCoefficients;
  const K = coef.own.length;
  // the aitrans_live streams (live part and MAPE) and our encodes of the split (MAPE only)
  const videos = split === 'test' ? [] : loadPartVideos(data, frames, [split]);
  if (encodesDir && !existsSync(join(encodesDir, 'index.csv')))
    throw new InputError(`bench:part-sizes: ${encodesDir}/index.csv missing (npm run data:encodes)`);
  const encVideos = encodesDir ? loadEncodePartVideos(encodesDir, [split]) : [];
  const mapeVideos = [...videos, ...encVideos];
  if (!mapeVideos.length) throw new InputError(`bench:part-sizes: no video with part bytes in split ${split}`);
  const liveVideos = o.liveEncodes ? encVideos : videos;
  if (!liveVideos.length && !o.noLive)
    throw new InputError(
      `bench:part-sizes: no ${o.liveEncodes ? 'encode' : 'aitrans_live video'} in split ${split} for the live part (--no-live)`,
    );
  const net = loadSizeNet(modelDir);
  const command = o.command ?? 'bench:part-sizes (library call)';
  log(
    `${command}\n${mapeVideos.length} ${split} video(s): ${mapeVideos.map((v) => `${v.video} (${v.sizes.length} chunks, ${v.parts} parts)`).join(', ')}`,
  );

  // 1. MAPE
  const mape: PartSizesMapeRow[] = [];
  let streams: PartSizesStreamRow[] = [];
  /** the mean over the streams of each one's meta+head k=1 / mean_all ratio (null with one stream) */
  let meanStreamRatio: number | null = null;
  if (!o.noMape) {
    const fMean = baseForecasts(mapeVideos, () => new MeanOfPast());
    const fMeta = baseForecasts(mapeVideos, () => new LearnedSizeForecaster(net));
    const pMean = evaluatePartConditioned(mapeVideos, fMean, K, coef);
    const pMeta = evaluatePartConditioned(mapeVideos, fMeta, K, coef);
    const ref = apeSummary(pMean.baseApe).mape;
    const add = (predictor: string, k: number, a: Float64Array, horizon = 1, refMape = ref) => {
      const s = apeSummary(a);
      mape.push({
        predictor,
        horizon,
        parts_known: k,
        mape: s.mape,
        median_ape: s.median,
        ratio_to_mean_all: s.mape / refMape,
        points: s.n,
      });
    };
    add('mean_all', 0, pMean.baseApe);
    add('meta', 0, pMeta.baseApe);
    for (let k = 1; k <= K; k++) add('mean_all+head', k, pMean.partApe[k - 1]);
    for (let k = 1; k <= K; k++) add('meta+head', k, pMeta.partApe[k - 1]);
    if (coef.later)
      for (let h = 2; h <= pMeta.laterBaseApe.length + 1; h++) {
        const refH = apeSummary(pMean.laterBaseApe[h - 2]).mape;
        add('mean_all', 0, pMean.laterBaseApe[h - 2], h, refH);
        add('meta', 0, pMeta.laterBaseApe[h - 2], h, refH);
        add('meta+head', 1, pMeta.laterApe[0][h - 2], h, refH);
      }
    log('chunk-size MAPE at every rung (%), pooled over the videos, parts known at the played rung; x mean_all at the same horizon');
    for (const r of mape)
      log(
        `${r.predictor.padEnd(15)} h=${r.horizon} k=${r.parts_known}  MAPE ${r.mape.toFixed(2).padStart(6)}  median ${r.median_ape.toFixed(2).padStart(6)}  ${r.ratio_to_mean_all.toFixed(3)} x  (${r.points} points)`,
      );
    // per stream (h = 1), and averaged over the streams (each counts equally)
    const meanFig = devFigures(mapeVideos, fMean, fMean, K, coef);
    const metaFig = devFigures(mapeVideos, fMeta, fMean, K, coef);
    streams = mapeVideos.map((v, i) => ({
      video: v.video,
      source: v.source,
      chunks: v.sizes.length,
      mean_all: metaFig.streams[i].mean_all_mape,
      meta: metaFig.streams[i].base_mape,
      meta_head: metaFig.streams[i].part_mape,
      mean_all_head: meanFig.streams[i].part_mape,
      ratio_meta_head1_to_mean_all: metaFig.streams[i].part_mape[0] / metaFig.streams[i].mean_all_mape,
    }));
    const avg = (f: (r: PartSizesStreamRow) => number) => streams.reduce((a, r) => a + f(r), 0) / streams.length;
    if (streams.length > 1)
      streams.push({
        video: '(stream mean)',
        source: '',
        chunks: streams.reduce((a, r) => a + r.chunks, 0),
        mean_all: avg((r) => r.mean_all),
        meta: avg((r) => r.meta),
        meta_head: metaFig.macro_part_mape,
        mean_all_head: meanFig.macro_part_mape,
        ratio_meta_head1_to_mean_all: metaFig.macro_part_mape[0] / metaFig.macro_mean_all_mape,
      });
    log(`\nh=1 MAPE per stream (%): mean_all | meta | meta+head k=1..${K} | mean_all+head k=1..${K} | meta+head k=1 x mean_all`);
    for (const r of streams)
      log(
        `${r.video.padEnd(26)} ${String(r.chunks).padStart(5)} chunks  ${r.mean_all.toFixed(2).padStart(6)} | ${r.meta.toFixed(2).padStart(6)} | ${r.meta_head.map((x) => x.toFixed(2)).join(' / ')} | ${r.mean_all_head.map((x) => x.toFixed(2)).join(' / ')} | ${r.ratio_meta_head1_to_mean_all.toFixed(3)} x`,
      );
    if (streams.length > 1) {
      // every stream's own ratio counts equally (the ratio of the stream means above is carried by the streams whose
      // mean of past is far off)
      const own = streams.slice(0, -1).map((r) => r.ratio_meta_head1_to_mean_all);
      meanStreamRatio = own.reduce((a, b) => a + b, 0) / own.length;
      log(`mean of the ${own.length} per-stream ratios meta+head k=1 / mean_all: ${meanStreamRatio.toFixed(3)} x`);
    }
  }

  // 2. live simulation (livePartRows)
  const live: PartSizesLiveRow[] = [];
  if (!o.noLive) {
    const tracesDir = resolve(o.traces ?? join(dataRoot(), 'abr', 'traces', 'test'));
    const drlDir = resolve(o.drl ?? 'models/live-abr-drl');
    if (!existsSync(tracesDir) || !existsSync(join(drlDir, 'model.json')))
      throw new InputError(`bench:part-sizes: ${tracesDir} or ${drlDir}/model.json missing`);
    const traces = loadTraceDir(tracesDir);
    const drl = loadDenseLayers(drlDir, ['s1', 's2', 'score']);
    const SESSION_S = o.sessionS ?? 120;
    const asLive = (v: PartVideo): LiveVideo => ({
      name: `${v.source}/${v.video}`,
      ladderKbps: v.ladderKbps,
      chunkS: v.chunkS,
      sizes: v.sizes,
      meta: null,
      heads: v.heads,
      rateControl: rateControlClass(v.note),
    });
    const drls: Record<string, DenseArrays[]> = { drl };
    if (o.lateDrl) {
      const lateDir = resolve(o.lateDrl);
      if (!existsSync(join(lateDir, 'model.json'))) throw new InputError(`bench:part-sizes: ${lateDir}/model.json missing`);
      drls['drl-late'] = loadDenseLayers(lateDir, ['s1', 's2', 'score']);
    }
    live.push(
      ...livePartRows(liveVideos.map(asLive), traces, {
        net,
        coef,
        drls,
        baselines: o.baselines ?? PART_BASELINES,
        decideAfter: o.decideAfter,
        risks: o.risks,
        sessionS: SESSION_S,
      }),
    );
    log(
      `\nlive simulator: ${traces.length} sessions (${dataRelative(tracesDir)}, each on one of ${liveVideos.length} ${split} video(s) in turn: ${liveVideos.map((v) => v.video).join(', ')}), up to ${SESSION_S} s of media, target latency 3 s, parts 0.5 s with their real bytes`,
    );
    log('policy     sizes            decide    QoE/s   bitrate  rebuffer  latency');
    for (const r of live)
      log(
        `${r.policy.padEnd(11)}${r.sizes.padEnd(17)}${r.decide.padEnd(7)}${r.qoe_mean.toFixed(4).padStart(8)}${r.bitrate_mbps.toFixed(3).padStart(10)}${r.rebuffer_s.toFixed(2).padStart(10)}${r.latency_s.toFixed(2).padStart(9)}`,
      );
    const q = (p: string, sz: string, d: string) => live.find((r) => r.policy === p && r.sizes === sz && r.decide === d)!.qoe_mean;
    const pct = (a: number, b: number) => `${((100 * (a - b)) / Math.abs(b)).toFixed(2)} %`;
    log(`drl predicted vs true (edge): ${pct(q('drl', 'predicted', 'edge'), q('drl', 'true', 'edge'))}`);
    const base = live.filter((r) => !(r.policy in drls));
    const bestOf = (rows: PartSizesLiveRow[]) => rows.reduce((a, b) => (b.qoe_mean > a.qoe_mean ? b : a));
    const bestReal = base.length ? bestOf(base.filter((r) => r.sizes !== 'true')) : null;
    const bestAny = base.length ? bestOf(base) : null;
    const name = (r: PartSizesLiveRow) => `${r.policy} ${r.sizes} (${r.decide}) ${r.qoe_mean.toFixed(4)}`;
    for (const k of (o.decideAfter ?? [1]).filter((k) => k !== 1))
      for (const d of Object.keys(drls)) {
        const at = `part${k}`;
        log(`${d} predicted+head (${at}) vs true (${at}): ${pct(q(d, 'predicted+head', at), q(d, 'true', at))}`);
        log(`${d} predicted+head (${at}) vs predicted+head (part1): ${pct(q(d, 'predicted+head', at), q(d, 'predicted+head', 'part1'))}`);
      }
    for (const d of Object.keys(drls)) {
      const mine = q(d, 'predicted+head', 'part1');
      log(`${d} predicted+head (part1) vs true (part1): ${pct(mine, q(d, 'true', 'part1'))}`);
      for (const r of o.risks ?? []) {
        const risky = q(d, `predicted+head+${r}`, 'part1');
        log(
          `${d} predicted+head+${r} (part1) vs true (part1): ${pct(risky, q(d, 'true', 'part1'))}; vs predicted+head: ${pct(risky, mine)}`,
        );
      }
      log(`${d} predicted+head (part1) vs mean (part1): ${pct(mine, q(d, 'mean', 'part1'))}`);
      log(`${d} predicted+head (part1) vs true (edge): ${pct(mine, q(d, 'true', 'edge'))}`);
      if (base.some((r) => r.policy === 'robustmpc'))
        log(`${d} predicted+head (part1) vs robustmpc predicted+head (part1): ${pct(mine, q('robustmpc', 'predicted+head', 'part1'))}`);
      if (bestReal)
        log(`${d} predicted+head (part1) vs the best baseline without oracle sizes, ${name(bestReal)}: ${pct(mine, bestReal.qoe_mean)}`);
      if (bestAny) log(`${d} predicted+head (part1) vs the best baseline with any sizes, ${name(bestAny)}: ${pct(mine, bestAny.qoe_mean)}`);
    }
  }
  const outFile = o.out === undefined ? 'bench/results/part-sizes.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    writeFileSync(
      resolve(outFile),
      JSON.stringify(
        {
          command,
          split,
          data: dataRelative(data),
          frames: repoRelative(frames),
          ...(encodesDir ? { encodes: repoRelative(encodesDir) } : {}),
          ...(o.noLive ? {} : { live_videos: liveVideos.map((v) => v.video) }),
          coef,
          mape,
          streams,
          mean_stream_ratio: meanStreamRatio,
          live,
        },
        null,
        2,
      ) + '\n',
    );
  }
  return { mape, streams, live };
}
