/**
 * The chunk-size forecasting benchmark (`npm run bench:chunks`, entry in cli/chunks.ts), on the protocol
 * of ../shared/data/chunks/README.md ("Statistics and the yardstick"): every video of the split is played
 * chunk by chunk; at every origin i >= 5 each predictor forecasts chunks i..i+4 at every rung from the past
 * (every rung's sizes, and the coding meta when the dataset has it); APE pooled over (video, rung, origin).
 * Predictors: the README's baselines (last, mean_all = the seed paper's mean of past, mean5, ewma 0.3),
 * today's RatioEwmaPredictor (per rung: an EWMA 0.6), the network without meta-learning (`plain`) and the
 * meta-learned forecaster (`model`); on a dataset with coding meta also the meta-learned forecaster with the
 * meta withheld. Default data: $EDGEPLAY_DATA/chunks, dev split. Writes bench/results/chunks.json (rows:
 * predictor, horizon, mape, median_ape, videos; by_source: the same per source).
 *
 * With `bounds` (`--bounds`): what the learned forecasters are missing, as hindsight bounds at h=1 (`forecastBounds`):
 * the forecast corrected by one piece of information it does not have — the next chunk's common size change over the
 * rungs, the next chunk's size at the lowest rung (the per-rung ratios then place the other rungs), or one constant
 * factor per (video, rung) chosen in hindsight (the most a per-stream adaptation of the level could gain).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  EwmaForecaster,
  LastValue,
  MeanOfLast,
  MeanOfPast,
  RatioEwmaForecaster,
  type ChunkMeta,
  type SizeForecaster,
} from '../src/abr/size-forecast.js';
import { LearnedSizeForecaster } from '../src/abr/size-model.js';
import { apeSummary, evaluateForecaster, loadChunkDataset, loadSizeNet, type ChunkVideo } from '../src/sim/abr/chunks.js';
import { dataRoot } from '../src/sim/abr/load.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative } from '../src/train/cli/args.js';

/** withholds the coding meta from a forecaster (the ablation) */
class WithoutMeta implements SizeForecaster {
  readonly name: string;
  constructor(private inner: SizeForecaster) {
    this.name = `${inner.name}-nometa`;
  }
  start(i: Parameters<SizeForecaster['start']>[0]) {
    this.inner.start(i);
  }
  observe(s: ArrayLike<number | null>) {
    this.inner.observe(s, null);
  }
  forecast(h: number) {
    return this.inner.forecast(h);
  }
}

export interface ChunksBenchOptions {
  /** dataset directory (default $EDGEPLAY_DATA/chunks) */
  data?: string;
  /** split (default dev) */
  split?: string;
  /** the meta-learned forecaster (default models/chunk-size) and the plain network (default models/chunk-size-plain) */
  model?: string;
  plain?: string;
  /** results file (default bench/results/chunks.json); null writes none */
  out?: string | null;
  /** also the hindsight bounds of the learned forecasters at h=1 (`forecastBounds`) */
  bounds?: boolean;
  command?: string;
  log?: (s: string) => void;
}

/** One hindsight bound of `forecastBounds`: MAPE % at h=1 with the information, and without it on the same points. */
export interface ChunksBoundRow {
  predictor: string;
  /**
   * common: the true mean log change over the rungs; rung0: the true lowest-rung size; stream: one factor per (video,
   * rung); head: the chunk's first-half bytes at its rung (datasets with coding meta only)
   */
  bound: 'common' | 'rung0' | 'stream' | 'head';
  mape: number;
  /** the forecaster's own MAPE on the same points (rung0 leaves the lowest rung out) */
  mape_without: number;
  points: number;
}

/**
 * Hindsight bounds of a forecaster at h=1 on `videos` (the bench's protocol: origins i >= 5, every rung, pooled APE):
 * its forecast f_r of chunk i at rung r, corrected by information it does not have, against the true size t_r:
 * - `common`: × exp(mean_r log(t_r / f_r)) — the chunk's common size change over the rungs known exactly;
 * - `rung0`: × t_0 / f_0 on rungs 1..R−1 — the chunk's lowest-rung size known, the other rungs placed by the
 *   forecast's own ratios to it;
 * - `stream`: × the one factor per (video, rung) that minimises its APE over all its origins (the (f/t)-weighted
 *   median of t/f) — the most a per-stream correction of the level, such as the meta-learned adaptation, can gain;
 * - `head` (datasets with coding meta: our encodes): the chunk's bytes in its first half (decode order, elementary
 *   stream − `tailBytes`) at the rung divided by the rung's mean first-half share over its last 5 chunks, scaled by the
 *   last chunk's segment/elementary-stream byte ratio — what a player deciding halfway through the chunk's production
 *   would know if the packager published its parts' bytes. This replaces the forecast rather than correcting it.
 * Returns MAPE % with and without the correction on the same points.
 */
export function forecastBounds(videos: readonly ChunkVideo[], make: () => SizeForecaster, name: string): ChunksBoundRow[] {
  const f = make();
  const pts: Array<{ v: number; r: number; f: number; t: number; common: number; rung0: number; head: number | null }> = [];
  const es = (m: ChunkMeta) => Math.max(1, m.iBytes + m.pBytes + m.bBytes);
  videos.forEach((v, vi) => {
    f.start({ ladderKbps: v.ladderKbps, chunkS: v.chunkS });
    const R = v.ladderKbps.length;
    for (let i = 0; i < v.sizes.length; i++) {
      if (i >= 5) {
        const fc = f.forecast(1)[0];
        const t = v.sizes[i];
        let c = 0;
        for (let r = 0; r < R; r++) c += Math.log(t[r] / fc[r]);
        c /= R;
        for (let r = 0; r < R; r++) {
          let head: number | null = null;
          const m = v.meta;
          if (m) {
            let share = 0;
            for (let j = i - 5; j < i; j++) share += (es(m[j][r]) - m[j][r].tailBytes) / es(m[j][r]) / 5;
            head = ((es(m[i][r]) - m[i][r].tailBytes) / share) * (m[i - 1][r].bytes / es(m[i - 1][r]));
          }
          pts.push({ v: vi, r, f: fc[r], t: t[r], common: c, rung0: Math.log(t[0] / fc[0]), head });
        }
      }
      f.observe(v.sizes[i], v.meta?.[i] ?? null);
    }
  });
  // the APE-optimal constant factor c of a stream: APE = (f/t)·|c − t/f|, minimised by the (f/t)-weighted median of t/f
  const byStream = new Map<string, Array<[number, number]>>();
  for (const p of pts) {
    const k = `${p.v}|${p.r}`;
    byStream.set(k, [...(byStream.get(k) ?? []), [p.t / p.f, p.f / p.t]]);
  }
  const weightedMedian = (xw: Array<[number, number]>) => {
    const s = xw.slice().sort((a, b) => a[0] - b[0]);
    const half = s.reduce((a, [, w]) => a + w, 0) / 2;
    let acc = 0;
    for (const [x, w] of s) if ((acc += w) >= half) return x;
    return s[s.length - 1][0];
  };
  const level = new Map([...byStream].map(([k, xw]) => [k, Math.log(weightedMedian(xw))]));
  const mape = (xs: Array<{ pred: number; t: number }>) => (100 * xs.reduce((a, x) => a + Math.abs(x.pred - x.t) / x.t, 0)) / xs.length;
  const row = (bound: ChunksBoundRow['bound'], sel: typeof pts, corr: (p: (typeof pts)[number]) => number): ChunksBoundRow => ({
    predictor: name,
    bound,
    mape: mape(sel.map((p) => ({ pred: p.f * Math.exp(corr(p)), t: p.t }))),
    mape_without: mape(sel.map((p) => ({ pred: p.f, t: p.t }))),
    points: sel.length,
  });
  return [
    row('common', pts, (p) => p.common),
    row(
      'rung0',
      pts.filter((p) => p.r > 0),
      (p) => p.rung0,
    ),
    row('stream', pts, (p) => level.get(`${p.v}|${p.r}`)!),
    ...(pts.length && pts.every((p) => p.head !== null) ? [row('head', pts, (p) => Math.log(p.head! / p.f))] : []),
  ];
}

export interface ChunksBenchRow {
  predictor: string;
  horizon: number;
  mape: number;
  median_ape: number;
  videos: number;
}

export interface ChunksBenchResult {
  command: string;
  data: string;
  split: string;
  rows: ChunksBenchRow[];
  by_source: Array<ChunksBenchRow & { source: string; points: number }>;
  /** with `bounds` only */
  bounds?: ChunksBoundRow[];
}

/** Runs the benchmark, prints its tables, writes the results. Throws InputError when the dataset or split is missing. */
export async function benchChunks(o: ChunksBenchOptions = {}): Promise<ChunksBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const split = o.split ?? 'dev';
  const dir = resolve(o.data ?? join(dataRoot(), 'chunks'));
  if (!existsSync(join(dir, 'index.csv')))
    throw new InputError(`bench:chunks: no chunk dataset at ${dir} (index.csv missing); set EDGEPLAY_DATA or pass --data`);
  const videos = loadChunkDataset(dir, [split]);
  if (!videos.length) throw new InputError(`bench:chunks: no ${split} videos in ${dir}/index.csv`);
  const hasMeta = videos.some((v) => v.meta);
  const a = { model: o.model ?? 'models/chunk-size', plain: o.plain ?? 'models/chunk-size-plain' };

  const predictors: Array<[string, () => SizeForecaster]> = [
    ['last', () => new LastValue()],
    ['mean_all', () => new MeanOfPast()],
    ['mean5', () => new MeanOfLast(5)],
    ['ewma', () => new EwmaForecaster(0.3)],
    ['ratio_ewma', () => new RatioEwmaForecaster(0.6)],
  ];
  for (const [name, path] of [
    ['network', a.plain!],
    ['meta', a.model!],
  ] as const) {
    if (!existsSync(join(path, 'model.json'))) {
      console.error(
        `bench:chunks: ${path} missing (npm run train:chunks${name === 'network' ? ' -- --inner-steps 0 --out ' + path : ''}); ${name} skipped`,
      );
      continue;
    }
    const net = loadSizeNet(resolve(path));
    predictors.push([name, () => new LearnedSizeForecaster(net, name)]);
    if (name === 'meta' && hasMeta) predictors.push(['meta-nometa', () => new WithoutMeta(new LearnedSizeForecaster(net, name))]);
  }

  interface Row {
    predictor: string;
    horizon: number;
    mape: number;
    median_ape: number;
    videos: number;
  }
  const rows: Row[] = [];
  const bySource: Array<Row & { source: string; points: number }> = [];
  const t0 = Date.now();
  for (const [name, make] of predictors) {
    const e = evaluateForecaster(videos as ChunkVideo[], make);
    e.ape.forEach((x, h) => {
      const s = apeSummary(x);
      rows.push({ predictor: name, horizon: h + 1, mape: s.mape, median_ape: s.median, videos: e.videos });
    });
    for (const [source, arr] of e.bySource) {
      const nv = videos.filter((v) => v.source === source).length;
      arr.forEach((x, h) => {
        const s = apeSummary(x);
        bySource.push({ source, predictor: name, horizon: h + 1, mape: s.mape, median_ape: s.median, videos: nv, points: s.n });
      });
    }
  }
  const command = o.command ?? 'bench:chunks (library call)';
  const names = predictors.map(([n]) => n);
  const cell = (r: Row | undefined) => (r ? `${r.mape.toFixed(1)} / ${r.median_ape.toFixed(1)}` : '-');
  log(`${command}\n${dir}, split ${split}: ${videos.length} videos${hasMeta ? ' (with coding meta)' : ''}; MAPE % / median APE %, pooled`);
  log(['predictor'.padEnd(14), ...[1, 2, 3, 4, 5].map((h) => `h=${h}`.padStart(13))].join(''));
  for (const n of names)
    log([n.padEnd(14), ...[1, 2, 3, 4, 5].map((h) => cell(rows.find((r) => r.predictor === n && r.horizon === h)).padStart(13))].join(''));
  const mean1 = rows.find((r) => r.predictor === 'mean_all' && r.horizon === 1)!.mape;
  const base = ['last', 'mean_all', 'mean5', 'ewma', 'ratio_ewma', 'network'];
  for (const n of ['meta', 'network'].filter((x) => names.includes(x))) {
    const m1 = rows.find((r) => r.predictor === n && r.horizon === 1)!.mape;
    const beats = [1, 2, 3, 4, 5].map((h) => {
      const mine = rows.find((r) => r.predictor === n && r.horizon === h)!.mape;
      const bestBase = Math.min(
        ...rows.filter((r) => r.horizon === h && base.includes(r.predictor) && r.predictor !== n).map((r) => r.mape),
      );
      return mine < bestBase;
    });
    log(
      `${n}: h=1 MAPE ${(m1 / mean1).toFixed(3)} x mean_all (target <= 0.5); better than every baseline at h = ${
        beats
          .map((b, i) => (b ? i + 1 : null))
          .filter((x) => x !== null)
          .join(',') || 'none'
      }`,
    );
  }
  log('\nby source (h=1 and h=5, MAPE %):');
  const sources = [...new Set(bySource.map((r) => r.source))];
  log(['source'.padEnd(16), ...names.map((n) => n.padStart(12))].join(''));
  for (const s of sources)
    for (const h of [1, 5])
      log(
        [
          `${s} h=${h}`.padEnd(16),
          ...names.map((n) =>
            (bySource.find((r) => r.source === s && r.predictor === n && r.horizon === h)?.mape.toFixed(1) ?? '-').padStart(12),
          ),
        ].join(''),
      );
  let bounds: ChunksBoundRow[] | undefined;
  if (o.bounds) {
    bounds = predictors
      .filter(([n]) => n === 'network' || n === 'meta')
      .flatMap(([n, make]) => forecastBounds(videos as ChunkVideo[], make, n));
    const mean1 = rows.find((r) => r.predictor === 'mean_all' && r.horizon === 1)!.mape;
    log('\nhindsight bounds at h=1 (MAPE %; the forecast corrected by information it does not have; x mean_all h=1):');
    const what = {
      common: "the next chunk's common size change over the rungs",
      rung0: "the next chunk's lowest-rung size (other rungs only)",
      stream: 'one level factor per (video, rung) in hindsight',
      head: "the next chunk's first-half bytes at the rung (no forecast)",
    };
    for (const b of bounds)
      log(
        `${b.predictor.padEnd(8)} + ${what[b.bound].padEnd(62)} ${b.mape.toFixed(2).padStart(6)} (${(b.mape / mean1).toFixed(3)} x)  without: ${b.mape_without.toFixed(2)}  (${b.points} points)`,
      );
  }
  log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const result: ChunksBenchResult = { command, data: dataRelative(dir), split, rows, by_source: bySource, ...(bounds ? { bounds } : {}) };
  const outFile = o.out === undefined ? 'bench/results/chunks.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    writeFileSync(resolve(outFile), JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
