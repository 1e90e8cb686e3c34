/**
 * The viewport benchmark (`npm run bench:viewport`, entry in cli/viewport.ts):
 * Runs the evaluation protocol of the viewport data README (5 Hz, 1 s history for the baselines, 25
 * steps, first 30 samples skipped, every window) on every dataset of DIR that has traces in the split, for
 * no-motion, constant angular velocity, linear regression, the learned position-only model and the learned
 * model with the content prior (leave-one-user-out: built from the other viewers of the same video and
 * split). A dataset with no rows in the `dev` split gets the derived dev split (withDerivedDev).
 * Then the tile experiment: 8×4 tiles, 100°×90° viewport, 2 s ahead; each predictor's probabilities (its
 * spread = its own mean error at that horizon on the train split, or the player's default spread when the
 * directory has no train split) drive a prefetch plan at half the
 * all-high bandwidth; hit rate = share of the truly visible tiles fetched at high quality.
 * Writes bench/results/viewport.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { dataRoot } from '../src/sim/abr/load.js';
import { loadViewportDir, type ViewportTrace } from '../src/sim/viewport/data.js';
import { evaluate, looPriors, windowStarts } from '../src/sim/viewport/protocol.js';
import { ConstantVelocity, HORIZON_STEPS, LinearRegression, NoMotion, type ViewportPredictor } from '../src/viewport/predictors.js';
import { LearnedViewport, MODEL_HISTORY } from '../src/viewport/model.js';
import type { AttentionPrior } from '../src/viewport/prior.js';
import { DEFAULT_GRID, prefetchPlan, tileProbabilities, visibleTiles } from '../src/viewport/tiles.js';
import { defaultSigmaDeg } from '../src/viewport/client.js';

import { InputError } from '../src/train/errors.js';
import { dataRelative } from '../src/train/cli/args.js';

export interface ViewportBenchOptions {
  /** viewport data directory (default $EDGEPLAY_DATA/viewport) */
  data?: string;
  /** the split evaluated (default dev) */
  split?: string;
  /** directory holding viewport/ and viewport-prior/ (default models) */
  models?: string;
  /** results file (default bench/results/viewport.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

export interface ViewportBenchResult {
  command: string;
  data: string;
  split: string;
  rows: Array<Record<string, unknown>>;
  tiles: Array<Record<string, unknown>>;
  seconds: number;
}

/** Runs the benchmark, prints its tables and writes the results file. Throws InputError when the data is missing. */
export async function benchViewport(o: ViewportBenchOptions = {}): Promise<ViewportBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const warn = o.log ?? ((s: string) => console.warn(s));
  const dir = resolve(o.data ?? join(dataRoot(), 'viewport'));
  const split = o.split ?? 'dev';
  const modelsDir = resolve(o.models ?? 'models');
  if (!existsSync(join(dir, 'index.csv')))
    throw new InputError(`bench:viewport needs a viewport data directory with index.csv (${dir}); set EDGEPLAY_DATA or pass --data`);
  const t0 = Date.now();
  const traces = loadViewportDir(dir, (r) => r.split === split);
  if (!traces.length) throw new InputError(`no traces in split "${split}" under ${dir}`);
  const trainTraces = loadViewportDir(dir, (r) => r.split === 'train');

  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const { loadModel } = await import('../src/train/io.js');
  const learned: LearnedViewport[] = [];
  for (const name of ['viewport', 'viewport-prior']) {
    const d = join(modelsDir, name);
    if (existsSync(join(d, 'model.json'))) learned.push(new LearnedViewport(await loadModel(d)));
    else warn(`(no model in ${d}: run npm run train:viewport)`);
  }
  const predictors: ViewportPredictor[] = [new NoMotion(), new ConstantVelocity(5), new LinearRegression(5), ...learned];
  const priors = looPriors(traces);
  const trainPriors = looPriors(trainTraces);
  const setPrior = (p: ViewportPredictor, map: Map<ViewportTrace, AttentionPrior>) => (t: ViewportTrace) => {
    if (p instanceof LearnedViewport) p.prior = p.withPrior ? (map.get(t) ?? null) : null;
  };

  const HORIZONS = [0.2, 1, 2, 3, 5];
  const rows: Array<Record<string, unknown>> = [];
  const datasets = [...new Set(traces.map((t) => t.dataset))].sort();
  const table: string[] = [];
  for (const ds of datasets) {
    const tr = traces.filter((t) => t.dataset === ds);
    const derived = tr.some((t) => t.derived);
    let nm: number[] = [];
    for (const p of predictors) {
      const history = p instanceof LearnedViewport ? MODEL_HISTORY : 5;
      const r = evaluate(p, tr, { history: Math.max(history, 5), beforeTrace: setPrior(p, priors) });
      if (p.name === 'no-motion') nm = r.errorDeg;
      for (const h of HORIZONS)
        rows.push({
          dataset: ds,
          split,
          derived_split: derived,
          model: p.name,
          horizon_s: h,
          error_deg: r.errorDeg[Math.round(h / 0.2) - 1],
          windows: r.windows,
        });
      const meanErr = r.errorDeg.reduce((a, b) => a + b, 0) / r.errorDeg.length;
      // the step (of all 25) where this model is closest to (or furthest above) no-motion
      const rel = nm.length ? r.errorDeg.map((e, k) => ((e - nm[k]) / nm[k]) * 100) : [];
      const worst = rel.length ? rel.indexOf(Math.max(...rel)) : -1;
      rows.push({
        dataset: ds,
        split,
        derived_split: derived,
        model: p.name,
        horizon_s: 'mean',
        error_deg: meanErr,
        windows: r.windows,
        ...(p.name !== 'no-motion' ? { worst_step_s: Math.round((worst + 1) * 2) / 10, worst_step_vs_no_motion_pct: rel[worst] } : {}),
      });
      const vs = (k: number) => (nm.length ? ` (${(((r.errorDeg[k] - nm[k]) / nm[k]) * 100).toFixed(1).padStart(5)}%)` : '');
      table.push(
        `${(ds + (derived ? '*' : '')).padEnd(15)} ${p.name.padEnd(18)} ${HORIZONS.map((h) => {
          const k = Math.round(h / 0.2) - 1;
          return `${r.errorDeg[k].toFixed(2).padStart(6)}${p.name === 'no-motion' ? '        ' : vs(k)}`;
        }).join(
          ' ',
        )} ${meanErr.toFixed(2).padStart(6)} ${String(r.windows).padStart(6)}${p.name !== 'no-motion' ? `   worst step ${((worst + 1) * 0.2).toFixed(1)} s: ${rel[worst] > 0 ? '+' : ''}${rel[worst].toFixed(1)}%` : ''}`,
      );
    }
  }
  log(`viewport prediction, split "${split}" (${dir}); mean orthodromic error in degrees (vs no-motion); * = derived dev split`);
  log(
    `${'dataset'.padEnd(15)} ${'model'.padEnd(18)} ${HORIZONS.map((h) => `${h} s`.padStart(14)).join(' ')}   mean windows   (worst of the 25 steps vs no-motion)`,
  );
  for (const l of table) log(l);

  // ---- tiles: probabilities -> prefetch plan at 50 % of the all-high bandwidth, 2 s ahead ----
  const TILE_H = 2;
  const K = Math.round(TILE_H / 0.2) - 1;
  const LOW = 0.25;
  const HIGH = 1;
  const nTiles = DEFAULT_GRID.cols * DEFAULT_GRID.rows;
  const tileRows: Array<Record<string, unknown>> = [];
  const tilePreds = predictors.filter((p) => p.name !== 'linear-regression');
  /** each predictor's spread at the horizon: its own mean error on (every 8th trace of) the train split */
  const sigma = new Map<ViewportPredictor, number>();
  const trainSample = trainTraces.filter((_, i) => i % 8 === 0);
  for (const p of tilePreds) {
    const e = trainSample.length
      ? evaluate(p, trainSample, { history: Math.max(p.historySamples, 5), beforeTrace: setPrior(p, trainPriors) }).errorDeg[K]
      : NaN;
    // a directory without a train split: the player's fallback spread
    sigma.set(p, Number.isFinite(e) ? e : defaultSigmaDeg(K));
  }
  log(
    `\ntiles: ${DEFAULT_GRID.cols}x${DEFAULT_GRID.rows} grid, 100x90 deg viewport, ${TILE_H} s ahead, budget 50 % of all-high (low tile = ${LOW}, high = ${HIGH})`,
  );
  log(`${'dataset'.padEnd(15)} ${'model'.padEnd(18)} sigma_deg hit_rate bandwidth (all-high: hit 1.000, bandwidth 1.000)`);
  for (const ds of datasets) {
    const tr = traces.filter((t) => t.dataset === ds);
    for (const p of tilePreds) {
      let hit = 0,
        visible = 0,
        bits = 0,
        allBits = 0;
      const hist = Math.max(p.historySamples, 5);
      for (const t of tr) {
        setPrior(p, priors)(t);
        const n = t.xyz.length / 3;
        const [from, to] = windowStarts(n, 30, hist, HORIZON_STEPS);
        for (let i = from; i <= to; i += 2) {
          const pred = p.predict(t.xyz.subarray((i - hist + 1) * 3, (i + 1) * 3), K + 1, { t: t.t0 + i * 0.2 });
          const prob = tileProbabilities(pred, sigma.get(p)!, DEFAULT_GRID, undefined, K * 3);
          const plan = prefetchPlan(prob, 0.5 * nTiles * HIGH, LOW, HIGH);
          const truth = visibleTiles(t.xyz, (i + 1 + K) * 3);
          for (const v of truth) if (plan.quality[v] === 'high') hit++;
          visible += truth.size;
          bits += plan.bits;
          allBits += plan.allHighBits;
        }
      }
      const row = {
        dataset: ds,
        split,
        model: p.name,
        horizon_s: TILE_H,
        tiles: `${DEFAULT_GRID.cols}x${DEFAULT_GRID.rows}`,
        sigma_deg: sigma.get(p)!,
        hit_rate: hit / visible,
        bandwidth_ratio: bits / allBits,
      };
      tileRows.push(row);
      log(
        `${ds.padEnd(15)} ${p.name.padEnd(18)} ${row.sigma_deg.toFixed(1).padStart(9)} ${row.hit_rate.toFixed(3).padStart(8)} ${row.bandwidth_ratio.toFixed(3).padStart(9)}`,
      );
    }
  }
  const command = o.command ?? 'benchViewport (library call)';
  const seconds = Math.round((Date.now() - t0) / 1000);
  const result: ViewportBenchResult = { command, data: dataRelative(dir), split, rows, tiles: tileRows, seconds };
  const outFile = o.out === undefined ? 'bench/results/viewport.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1));
  }
  log(`\nwrote ${outFile ?? 'nothing'} (${seconds} s)`);
  return result;
}
