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
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EwmaForecaster, LastValue, MeanOfLast, MeanOfPast, RatioEwmaForecaster, type SizeForecaster } from '../src/abr/size-forecast.js';
import { LearnedSizeForecaster } from '../src/abr/size-model.js';
import { apeSummary, evaluateForecaster, loadChunkDataset, loadSizeNet, type ChunkVideo } from '../src/sim/abr/chunks.js';
import { dataRoot } from '../src/sim/abr/load.js';
import { InputError } from '../src/train/errors.js';

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
  command?: string;
  log?: (s: string) => void;
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
  log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const result: ChunksBenchResult = { command, data: dir, split, rows, by_source: bySource };
  const outFile = o.out === undefined ? 'bench/results/chunks.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    writeFileSync(resolve(outFile), JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
