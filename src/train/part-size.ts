/**
 * `npm run train:part-size` (entry in cli/part-size.ts): fits the part-conditioned correction of
 * src/abr/part-size.ts on the *training* `aitrans_live` videos of the shared chunk dataset, with part bytes from the
 * challenge's frame traces (src/sim/abr/parts.ts), on top of a base forecaster (the meta-learned one of
 * models/chunk-size, or mean of past), and reports it on the *dev* video. Writes models/part-size/coef.json and
 * train.json. Evaluation protocol (`evaluatePartConditioned`): the bench:chunks one at h = 1 (every rung of past
 * chunks known, origins >= 5), and at each origin every rung in turn is "the rung being played" whose first k parts
 * are known; APE of the whole chunk's size at every rung, pooled over (video, origin, played rung, rung).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  conditionOnHead,
  HEAD_FEATURES,
  headFeatures,
  headSurprise,
  PartShareTracker,
  type ChunkHead,
  type PartHeadCoefficients,
} from '../abr/part-size.js';
import type { SizeForecaster } from '../abr/size-forecast.js';
import { apeSummary } from '../sim/abr/chunks.js';
import type { PartVideo } from '../sim/abr/parts.js';
import { InputError } from './errors.js';
import { dataRelative, repoRelative } from './cli/args.js';

/** Where `git archive` of the challenge's repository puts its frame traces (see models/part-size/MODEL.md). */
export const DEFAULT_FRAMES = '.cache/aitrans/dataset/video_trace';

/** Regression points and errors of one pass over videos. */
export interface PartPass {
  /** per k: surprise g and the base forecast's log error y, for the played rung (own) and the others (cross) */
  own: Array<{ g: number[]; y: number[]; x: number[][] }>;
  cross: Array<{ g: number[]; y: number[]; x: number[][] }>;
  /** APEs of the base forecast (per origin and rung) */
  baseApe: Float64Array;
  /** per k: APEs of the corrected forecast (per origin, played rung and rung); empty without coefficients */
  partApe: Float64Array[];
  /** per k, per horizon h = 2..LATER+1: surprise g at the played rung and the base forecast's log error at h */
  later: Array<Array<{ g: number[]; y: number[] }>>;
  /** APEs at h = 2..: of the base forecast (laterBaseApe[h-2]) and corrected with k parts (laterApe[k-1][h-2]) */
  laterBaseApe: Float64Array[];
  laterApe: Float64Array[][];
}

/** Later horizons (h = 2..5) the correction also moves. */
export const LATER = 4;

/**
 * One pass of the protocol above over `videos` with the forecaster from `make`; corrected forecasts are scored
 * when `coef` is given. K = parts known (1..parts-1 of every video).
 */
export function evaluatePartConditioned(
  videos: readonly PartVideo[],
  make: (() => SizeForecaster) | BaseForecasts,
  K: number,
  coef: PartHeadCoefficients | null,
  shareAlpha = coef?.shareAlpha ?? 0.3,
  firstOrigin = 5,
): PartPass {
  const own = Array.from({ length: K }, () => ({ g: [] as number[], y: [] as number[], x: [] as number[][] }));
  const cross = Array.from({ length: K }, () => ({ g: [] as number[], y: [] as number[], x: [] as number[][] }));
  const base: number[] = [];
  const part: number[][] = Array.from({ length: K }, () => []);
  const later = Array.from({ length: K }, () => Array.from({ length: LATER }, () => ({ g: [] as number[], y: [] as number[] })));
  const laterBase: number[][] = Array.from({ length: LATER }, () => []);
  const laterPart: number[][][] = Array.from({ length: K }, () => Array.from({ length: LATER }, () => []));
  const fcs = typeof make === 'function' ? baseForecasts(videos, make) : make;
  if (fcs.length !== videos.length) throw new Error('evaluatePartConditioned: forecasts for other videos');
  for (const [vi, v] of videos.entries()) {
    if (v.parts <= K) throw new InputError(`${v.video}: ${v.parts} parts per chunk, need more than ${K}`);
    const R = v.ladderKbps.length;
    const tr = new PartShareTracker(K, R, shareAlpha);
    for (let i = 0; i < v.sizes.length; i++) {
      if (i >= firstOrigin) {
        const fcH = fcs[vi][i];
        const fc = fcH[0];
        const s = v.sizes[i];
        for (let r = 0; r < R; r++) base.push(Math.abs(fc[r] - s[r]) / s[r]);
        for (let h = 2; h <= LATER + 1 && i + h - 1 < v.sizes.length && h <= fcH.length; h++)
          for (let r = 0; r < R; r++) {
            const t = v.sizes[i + h - 1][r];
            laterBase[h - 2].push(Math.abs(fcH[h - 1][r] - t) / t);
          }
        for (let k = 1; k <= K; k++)
          for (let p = 0; p < R; p++) {
            const head: ChunkHead = {
              rung: p,
              parts: k,
              bytes: v.heads[k - 1][i][p],
              prev: { headBytes: v.heads[k - 1][i - 1][p], bytes: v.sizes[i - 1][p] },
            };
            const share = tr.share(k, p, v.parts);
            const g = headSurprise(fc[p], head.bytes, share);
            const x = headFeatures(fc[p], head, share);
            for (let r = 0; r < R; r++) {
              const y = Math.log(s[r] / fc[r]);
              const bucket = r === p ? own[k - 1] : cross[k - 1];
              bucket.g.push(g);
              bucket.y.push(y);
              if (x) bucket.x.push(x);
              else bucket.x.push(Array<number>(HEAD_FEATURES).fill(NaN));
            }
            for (let h = 2; h <= LATER + 1 && i + h - 1 < v.sizes.length && h <= fcH.length; h++)
              for (let r = 0; r < R; r++) {
                const t = v.sizes[i + h - 1][r];
                later[k - 1][h - 2].g.push(g);
                later[k - 1][h - 2].y.push(Math.log(t / fcH[h - 1][r]));
                if (coef?.later) {
                  const pr = fcH[h - 1][r] * Math.exp(coef.later[k - 1][h - 2] * g);
                  laterPart[k - 1][h - 2].push(Math.abs(pr - t) / t);
                }
              }
            if (coef) {
              const pr = conditionOnHead(fc, head, share, coef);
              for (let r = 0; r < R; r++) part[k - 1].push(Math.abs(pr[r] - s[r]) / s[r]);
            }
          }
      }
      tr.observe(
        v.heads.slice(0, K).map((h) => h[i]),
        v.sizes[i],
      );
    }
  }
  return {
    own,
    cross,
    baseApe: Float64Array.from(base),
    partApe: part.map((a) => Float64Array.from(a)),
    later,
    laterBaseApe: laterBase.map((a) => Float64Array.from(a)),
    laterApe: laterPart.map((x) => x.map((a) => Float64Array.from(a))),
  };
}

/** fc[video][origin][h-1][rung]: a forecaster's h = 1..5 forecasts at every origin (every rung of past chunks known). */
export type BaseForecasts = number[][][][];

/** The h = 1..5 forecasts of `make`'s forecaster over `videos`, computed once (they do not depend on the parts). */
export function baseForecasts(videos: readonly PartVideo[], make: () => SizeForecaster): BaseForecasts {
  const f = make();
  return videos.map((v) => {
    f.start({ ladderKbps: v.ladderKbps, chunkS: v.chunkS });
    return v.sizes.map((s) => {
      const fc = f.forecast(LATER + 1);
      f.observe(s, null);
      return fc;
    });
  });
}

/** Least-squares slope through the origin: Σ g y / Σ g² (0 when every g is 0). */
export function slopeThroughOrigin(g: readonly number[], y: readonly number[]): number {
  let gy = 0;
  let gg = 0;
  for (let i = 0; i < g.length; i++) {
    gy += g[i] * y[i];
    gg += g[i] * g[i];
  }
  return gg > 0 ? gy / gg : 0;
}

/**
 * Ridge least squares (λ on every weight but the last, the intercept): argmin Σ (w·x - y)² + λ |w|². Rows with a
 * NaN feature are skipped. Throws when fewer rows than features remain.
 */
export function leastSquares(X: readonly number[][], y: readonly number[], lambda = 1e-3): number[] {
  const rows = X.map((x, i) => [x, y[i]] as const).filter(([x]) => x.every(Number.isFinite));
  const d = X[0]?.length ?? 0;
  if (rows.length < d || !d) throw new InputError(`leastSquares: ${rows.length} usable rows for ${d} features`);
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (i === j && i < d - 1 ? lambda * rows.length : 0)));
  for (const [x, t] of rows)
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) A[i][j] += x[i] * x[j];
      A[i][d] += x[i] * t;
    }
  // Gauss-Jordan with partial pivoting
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
    [A[c], A[piv]] = [A[piv], A[c]];
    if (Math.abs(A[c][c]) < 1e-12) throw new InputError('leastSquares: singular system');
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j <= d; j++) A[r][j] -= f * A[c][j];
    }
  }
  return A.map((row, i) => row[d] / row[i]);
}

/**
 * The slope a and intercept c minimising the mean APE |exp(a g + c - y) - 1| (the metric itself, which punishes
 * over-forecasts more than log least squares does): a grid of a in [0, 1.2] by 0.02 and c in [-0.1, 0.1] by 0.01,
 * on at most 40 000 evenly spaced points.
 */
export function mapeSlope(g: readonly number[], y: readonly number[]): [number, number] {
  const step = Math.max(1, Math.floor(g.length / 40_000));
  const gs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < g.length; i += step) {
    gs.push(g[i]);
    ys.push(y[i]);
  }
  let best: [number, number] = [0, 0];
  let bestE = Infinity;
  for (let a = 0; a <= 1.2 + 1e-9; a += 0.02)
    for (let c = -0.1; c <= 0.1 + 1e-9; c += 0.01) {
      let e = 0;
      for (let i = 0; i < gs.length; i++) e += Math.abs(Math.exp(a * gs[i] + c - ys[i]) - 1);
      if (e < bestE) {
        bestE = e;
        best = [a, c];
      }
    }
  return best;
}

/** Log least-squares slopes of the later horizons' errors on the head surprise, per k and h. */
export function laterSlopes(pass: PartPass): number[][] {
  return pass.later.map((hs) => hs.map((b) => slopeThroughOrigin(b.g, b.y)));
}

/** The coefficients fitted on one pass's regression points (the linear model too when `linear`). */
export function fitPartCoefficients(
  pass: PartPass,
  partS: number,
  shareAlpha: number,
  linear = true,
  fit: 'ls' | 'mape' = 'ls',
): PartHeadCoefficients {
  if (fit === 'mape') {
    const own = pass.own.map((b) => mapeSlope(b.g, b.y));
    const cross = pass.cross.map((b) => mapeSlope(b.g, b.y));
    return {
      partS,
      own: own.map((x) => x[0]),
      cross: cross.map((x) => x[0]),
      ownBias: own.map((x) => x[1]),
      crossBias: cross.map((x) => x[1]),
      later: laterSlopes(pass),
      shareAlpha,
    };
  }
  return {
    partS,
    own: pass.own.map((b) => slopeThroughOrigin(b.g, b.y)),
    later: laterSlopes(pass),
    cross: pass.cross.map((b) => slopeThroughOrigin(b.g, b.y)),
    shareAlpha,
    ...(linear ? { linOwn: pass.own.map((b) => leastSquares(b.x, b.y)), linCross: pass.cross.map((b) => leastSquares(b.x, b.y)) } : {}),
  };
}

export interface TrainPartSizeOptions {
  train: readonly PartVideo[];
  dev: readonly PartVideo[];
  /** base forecasters by name; the first is the one whose coefficients are written */
  bases: ReadonlyArray<{ name: string; make: () => SizeForecaster }>;
  /** parts known, 1..K (default 3) */
  K?: number;
  /** share EWMA weights to select from on dev (default 0.1, 0.3, 0.6) */
  shareAlphas?: readonly number[];
  out?: string | null;
  command?: string;
  /** recorded in train.json */
  data?: Record<string, string>;
  log?: (s: string) => void;
}

export interface PartSizeDevRow {
  base: string;
  /** dev MAPE % of the base forecast at h = 1, and with k = 1..K parts known */
  base_mape: number;
  part_mape: number[];
  /** dev MAPE % at h = 2..5 of the base forecast and corrected with one part known */
  later_base_mape: number[];
  later_part1_mape: number[];
  coef: PartHeadCoefficients;
}

/** Fits per base and share alpha on train, selects the alpha on dev, writes the first base's coefficients. */
export function trainPartSize(o: TrainPartSizeOptions): PartSizeDevRow[] {
  const log = o.log ?? ((s: string) => console.log(s));
  const K = o.K ?? 3;
  if (!o.train.length || !o.dev.length) throw new InputError('train:part-size needs training and dev videos with part bytes');
  const partS = o.train[0].partS;
  const t0 = Date.now();
  const rows: PartSizeDevRow[] = [];
  for (const b of o.bases) {
    let best: PartSizeDevRow | null = null;
    const fTrain = baseForecasts(o.train, b.make);
    const fDev = baseForecasts(o.dev, b.make);
    for (const alpha of o.shareAlphas ?? [0.1, 0.3, 0.6])
      for (const [linear, fit] of [
        [false, 'ls'],
        [true, 'ls'],
        [false, 'mape'],
      ] as const) {
        const coef = fitPartCoefficients(evaluatePartConditioned(o.train, fTrain, K, null, alpha), partS, alpha, linear, fit);
        const dev = evaluatePartConditioned(o.dev, fDev, K, coef);
        const row: PartSizeDevRow = {
          base: b.name,
          base_mape: apeSummary(dev.baseApe).mape,
          part_mape: dev.partApe.map((a) => apeSummary(a).mape),
          later_base_mape: dev.laterBaseApe.map((a) => apeSummary(a).mape),
          later_part1_mape: dev.laterApe[0].map((a) => apeSummary(a).mape),
          coef,
        };
        log(
          `[train:part-size +${Math.round((Date.now() - t0) / 1000)}s] ${b.name} share alpha ${alpha}${linear ? ' linear' : ''}${fit === 'mape' ? ' mape-fit' : ''}: own ${coef.own.map((x) => x.toFixed(3)).join('/')} cross ${coef.cross.map((x) => x.toFixed(3)).join('/')}; dev MAPE base ${row.base_mape.toFixed(2)} %, k=1..${K} ${row.part_mape.map((x) => x.toFixed(2)).join(' / ')} %; h=2..5 base ${row.later_base_mape.map((x) => x.toFixed(2)).join(' / ')}, k=1 ${row.later_part1_mape.map((x) => x.toFixed(2)).join(' / ')} %`,
        );
        if (!best || row.part_mape[0] < best.part_mape[0]) best = row;
      }
    rows.push(best!);
  }
  if (o.out !== null) {
    const OUT = resolve(o.out ?? 'models/part-size');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'coef.json'), JSON.stringify(rows[0].coef, null, 2) + '\n');
    writeFileSync(
      join(OUT, 'train.json'),
      JSON.stringify(
        {
          command: o.command ?? 'train:part-size (library call)',
          base: rows[0].base,
          K,
          train_videos: o.train.map((v) => v.video),
          dev_videos: o.dev.map((v) => v.video),
          data: Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, dataRelative(v)])),
          dev: rows,
          seconds: (Date.now() - t0) / 1000,
        },
        null,
        2,
      ) + '\n',
    );
    log(`wrote ${repoRelative(OUT)}`);
  }
  return rows;
}
