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
  coefficientsFor,
  conditionOnHead,
  rateControlClass,
  HEAD_FEATURES,
  headFeatures,
  headSurprise,
  HeadSlopeAdapter,
  nominalChunkBytes,
  PartShareTracker,
  type ChunkHead,
  type PartHeadCoefficients,
  type PartHeadSlopes,
  type RateControlClass,
} from '../abr/part-size.js';
import { MeanOfPast, type SizeForecaster } from '../abr/size-forecast.js';
import { apeSummary } from '../sim/abr/chunks.js';
import type { PartVideo } from '../sim/abr/parts.js';
import { InputError } from './errors.js';
import { dataRelative, repoRelative } from './cli/args.js';

/** Where `git archive` of the challenge's repository puts its frame traces (see models/part-size/MODEL.md). */
export const DEFAULT_FRAMES = '.cache/aitrans/dataset/video_trace';

/** Regression points and errors of one pass over videos. */
export interface PartPass {
  /** per k: surprise g and the base forecast's log error y, for the played rung (own) and the others (cross) */
  own: Array<PartBucket>;
  cross: Array<PartBucket>;
  /** APEs of the base forecast (per origin and rung) */
  baseApe: Float64Array;
  /** per k: APEs of the corrected forecast (per origin, played rung and rung); empty without coefficients */
  partApe: Float64Array[];
  /** per k, per horizon h = 2..LATER+1: surprise g at the played rung and the base forecast's log error at h */
  later: Array<Array<{ g: number[]; y: number[]; v: number[] }>>;
  /** APEs at h = 2..: of the base forecast (laterBaseApe[h-2]) and corrected with k parts (laterApe[k-1][h-2]) */
  laterBaseApe: Float64Array[];
  laterApe: Float64Array[][];
}

/**
 * Regression points of one k at the played rung (own) or the others (cross); v[i] = index of the point's video;
 * z[i] = log(nominal bytes / base) at the point's rung (clipped to ±3; the session-11 nominal pull).
 */
export interface PartBucket {
  g: number[];
  y: number[];
  x: number[][];
  v: number[];
  z: number[];
}

/** Later horizons (h = 2..5) the correction also moves. */
export const LATER = 4;

/**
 * One pass of the protocol above over `videos` with the forecaster from `make`; corrected forecasts are scored
 * when `coef` is given (each video with `coefficientsFor(coef, rateControlClass(video.note))`: its rate-control
 * class's slopes when coef has some; the head sees the stream's mean of past sizes and its nominal bytes, HeadContext).
 * K = parts known (1..parts-1 of every video); `shareAlpha`: the share EWMA (default: the video's coefficients', else
 * 0.3). `baseMean` w: the h = 1 regression points (g, y, z, x) are taken
 * against the base forecast^(1-w) · (mean of past)^w, as `conditionOnHead` forms it for coefficients with that
 * baseMean (the later-horizon points always against the forecast itself).
 */
export function evaluatePartConditioned(
  videos: readonly PartVideo[],
  make: (() => SizeForecaster) | BaseForecasts,
  K: number,
  coef: PartHeadCoefficients | null,
  shareAlpha?: number,
  firstOrigin = 5,
  baseMean = 0,
): PartPass {
  if (!(baseMean >= 0 && baseMean <= 1)) throw new InputError(`evaluatePartConditioned: baseMean ${baseMean} outside [0, 1]`);
  const bucket = (): PartBucket => ({ g: [], y: [], x: [], v: [], z: [] });
  const own = Array.from({ length: K }, bucket);
  const cross = Array.from({ length: K }, bucket);
  const base: number[] = [];
  const part: number[][] = Array.from({ length: K }, () => []);
  const later = Array.from({ length: K }, () =>
    Array.from({ length: LATER }, () => ({ g: [] as number[], y: [] as number[], v: [] as number[] })),
  );
  const laterBase: number[][] = Array.from({ length: LATER }, () => []);
  const laterPart: number[][][] = Array.from({ length: K }, () => Array.from({ length: LATER }, () => []));
  const fcs = typeof make === 'function' ? baseForecasts(videos, make) : make;
  if (fcs.length !== videos.length) throw new Error('evaluatePartConditioned: forecasts for other videos');
  for (const [vi, v] of videos.entries()) {
    if (v.parts <= K) throw new InputError(`${v.video}: ${v.parts} parts per chunk, need more than ${K}`);
    const R = v.ladderKbps.length;
    // the video's rate-control class picks its slopes (and share EWMA) when the coefficients have some for it
    const cv = coef ? coefficientsFor(coef, rateControlClass(v.note)) : null;
    const tr = new PartShareTracker(K, R, shareAlpha ?? cv?.shareAlpha ?? 0.3);
    const adapter = cv ? new HeadSlopeAdapter(cv) : null;
    const nominal = nominalChunkBytes(v.ladderKbps, v.chunkS);
    for (let i = 0; i < v.sizes.length; i++) {
      const cNow = adapter?.coefficients() ?? null;
      if (i >= firstOrigin) {
        const fcH = fcs[vi][i];
        const fc = fcH[0];
        const s = v.sizes[i];
        const context = { meanBytes: tr.meanBytes(), nominalBytes: nominal };
        // the regression points' base: the forecast, or its log blend with the mean of past (baseMean)
        const m = context.meanBytes;
        const fb =
          baseMean > 0 && m ? fc.map((f, r) => (m[r] > 0 ? Math.exp((1 - baseMean) * Math.log(f) + baseMean * Math.log(m[r])) : f)) : fc;
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
            const gb = fb === fc ? g : headSurprise(fb[p], head.bytes, share);
            const x = headFeatures(fb[p], head, share);
            for (let r = 0; r < R; r++) {
              const y = Math.log(s[r] / fb[r]);
              const bucket = r === p ? own[k - 1] : cross[k - 1];
              bucket.g.push(gb);
              bucket.y.push(y);
              bucket.v.push(vi);
              bucket.z.push(Math.max(-3, Math.min(3, Math.log(nominal[r] / fb[r]))));
              if (x) bucket.x.push(x);
              else bucket.x.push(Array<number>(HEAD_FEATURES).fill(NaN));
            }
            for (let h = 2; h <= LATER + 1 && i + h - 1 < v.sizes.length && h <= fcH.length; h++)
              for (let r = 0; r < R; r++) {
                const t = v.sizes[i + h - 1][r];
                later[k - 1][h - 2].g.push(g);
                later[k - 1][h - 2].y.push(Math.log(t / fcH[h - 1][r]));
                later[k - 1][h - 2].v.push(vi);
                if (cv?.later) {
                  const pr = fcH[h - 1][r] * Math.exp(cv.later[k - 1][h - 2] * g);
                  laterPart[k - 1][h - 2].push(Math.abs(pr - t) / t);
                }
              }
            if (cNow) {
              const pr = conditionOnHead(fc, head, share, cNow, context);
              for (let r = 0; r < R; r++) part[k - 1].push(Math.abs(pr[r] - s[r]) / s[r]);
            }
          }
      }
      // the finished chunk teaches the adapter (every k and played rung), then the share tracker
      if (adapter && cv?.adaptLambda !== undefined) {
        const fc = fcs[vi][i][0];
        for (let k = 1; k <= K; k++)
          for (let p = 0; p < R; p++) {
            const g = headSurprise(fc[p], v.heads[k - 1][i][p], tr.share(k, p, v.parts));
            for (let r = 0; r < R; r++) adapter.observe(k, r === p, g, Math.log(v.sizes[i][r] / fc[r]));
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

/** Least-squares slope through the origin: Σ w g y / Σ w g² (0 when every g is 0); w = 1 when omitted. */
export function slopeThroughOrigin(g: readonly number[], y: readonly number[], w?: readonly number[]): number {
  let gy = 0;
  let gg = 0;
  for (let i = 0; i < g.length; i++) {
    const wi = w ? w[i] : 1;
    gy += wi * g[i] * y[i];
    gg += wi * g[i] * g[i];
  }
  return gg > 0 ? gy / gg : 0;
}

/**
 * Ridge least squares (λ on every weight but the last, the intercept): argmin Σ ω_i (w·x_i - y_i)² + λ Σω |w|², with
 * point weights ω (1 when omitted). Rows with a NaN feature are skipped. Throws when fewer rows than features remain.
 */
export function leastSquares(X: readonly number[][], y: readonly number[], lambda = 1e-3, weights?: readonly number[]): number[] {
  const rows = X.map((x, i) => [x, y[i], weights ? weights[i] : 1] as const).filter(([x]) => x.every(Number.isFinite));
  const d = X[0]?.length ?? 0;
  if (rows.length < d || !d) throw new InputError(`leastSquares: ${rows.length} usable rows for ${d} features`);
  const wsum = rows.reduce((a, r) => a + r[2], 0);
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (i === j && i < d - 1 ? lambda * wsum : 0)));
  for (const [x, t, om] of rows)
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) A[i][j] += om * x[i] * x[j];
      A[i][d] += om * x[i] * t;
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
 * The slope a and intercept c minimising the (ω-weighted) mean APE |exp(a g + c - y) - 1| (the metric itself, which
 * punishes over-forecasts more than log least squares does): a grid of a in [0, 1.2] by 0.02 and c in [-0.1, 0.1]
 * by 0.01, on at most 40 000 evenly spaced points; point weights ω are 1 when omitted.
 */
export function mapeSlope(g: readonly number[], y: readonly number[], w?: readonly number[]): [number, number] {
  const step = Math.max(1, Math.floor(g.length / 40_000));
  const gs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  for (let i = 0; i < g.length; i += step) {
    gs.push(g[i]);
    ys.push(y[i]);
    ws.push(w ? w[i] : 1);
  }
  let best: [number, number] = [0, 0];
  let bestE = Infinity;
  for (let a = 0; a <= 1.2 + 1e-9; a += 0.02)
    for (let c = -0.1; c <= 0.1 + 1e-9; c += 0.01) {
      let e = 0;
      for (let i = 0; i < gs.length; i++) e += ws[i] * Math.abs(Math.exp(a * gs[i] + c - ys[i]) - 1);
      if (e < bestE) {
        bestE = e;
        best = [a, c];
      }
    }
  return best;
}

/**
 * The weights w minimising the (ω-weighted) mean APE Σ ω |exp(clip(w·x, ±3) - y) - 1| / Σ ω over rows x (features,
 * the last one usually the constant 1): a deterministic compass search from `start` (default: ridge least squares,
 * `leastSquares`) with steps 0.1, 0.03, 0.01, 0.003, on at most 40 000 evenly spaced rows (as `mapeSlope`). Rows
 * with a NaN feature are skipped. Throws when no row is usable.
 */
export function mapeFit(X: readonly number[][], y: readonly number[], w?: readonly number[], start?: readonly number[]): number[] {
  const idx = X.map((x, i) => i).filter((i) => X[i].every(Number.isFinite) && Number.isFinite(y[i]));
  if (!idx.length || !X[0]?.length) throw new InputError('mapeFit: no usable rows');
  const step = Math.max(1, Math.floor(idx.length / 40_000));
  const rows = idx.filter((_, j) => j % step === 0);
  const d = X[0].length;
  const obj = (wv: readonly number[]) => {
    let e = 0;
    for (const i of rows) {
      let t = 0;
      for (let j = 0; j < d; j++) t += wv[j] * X[i][j];
      e += (w ? w[i] : 1) * Math.abs(Math.exp(Math.max(-3, Math.min(3, t)) - y[i]) - 1);
    }
    return e;
  };
  const cur = start ? [...start] : leastSquares(X, y, 1e-3, w);
  if (cur.length !== d) throw new InputError(`mapeFit: start has ${cur.length} weights for ${d} features`);
  let best = obj(cur);
  for (const h of [0.1, 0.03, 0.01, 0.003])
    for (let it = 0, improved = true; improved && it < 500; it++) {
      improved = false;
      for (let j = 0; j < d; j++)
        for (const sgn of [1, -1]) {
          const old = cur[j];
          cur[j] = old + sgn * h;
          const e = obj(cur);
          if (e < best - 1e-12) {
            best = e;
            improved = true;
          } else cur[j] = old;
        }
    }
  return cur;
}

/**
 * A head form for a rate-control class's slopes (session 11): `linear` (today's: one slope on g and an intercept),
 * `hinge` (separate slopes for g < 0 and g ≥ 0), either with `+nominal` (a slope on the pull to the rung's nominal
 * bytes) and/or a `mean+` prefix (`mean` = the mean of past sizes as the base, `meanW` = weight W in [0, 1] of its log
 * blend with the forecaster's). Examples: `linear`, `hinge`, `hinge+nominal`, `mean+hinge+nominal`, `mean0.5+hinge`.
 */
export interface HeadForm {
  name: string;
  baseMean: number;
  hinge: boolean;
  nominal: boolean;
}

/** Parses a head form (HeadForm); throws InputError on anything else. */
export function parseHeadForm(spec: string): HeadForm {
  const parts = spec.trim().split('+');
  let baseMean = 0;
  let shape: 'linear' | 'hinge' | null = null;
  let nominal = false;
  for (const [i, t] of parts.entries()) {
    const m = /^mean(\d*\.?\d*)$/.exec(t);
    if (m && i === 0) {
      baseMean = m[1] ? Number(m[1]) : 1;
      if (!(baseMean > 0 && baseMean <= 1)) throw new InputError(`head form ${spec}: mean weight ${m[1]} outside (0, 1]`);
    } else if ((t === 'linear' || t === 'hinge') && shape === null) shape = t;
    else if (t === 'nominal' && shape !== null && !nominal) nominal = true;
    else throw new InputError(`head form ${spec}: expected [meanW+](linear|hinge)[+nominal]`);
  }
  if (!shape) throw new InputError(`head form ${spec}: expected [meanW+](linear|hinge)[+nominal]`);
  return { name: spec.trim(), baseMean, hinge: shape === 'hinge', nominal };
}

/**
 * A class's slopes of head form `form`, fitted on `pass` (made with evaluatePartConditioned's baseMean =
 * form.baseMean) by `fit`: `ls` ridge least squares with an intercept, `mape` mapeFit from there; the plain `linear`
 * form is fitted exactly as fitPartCoefficients fits the default slopes (so it reproduces session 10's class slopes).
 * Later-horizon slopes as laterSlopes. Point weights by `weighting` when `videos` (the pass's) are given.
 */
export function fitHeadForm(
  pass: PartPass,
  form: HeadForm,
  fit: 'ls' | 'mape',
  videos?: readonly PartVideo[],
  weighting: PartWeighting = 'points',
): PartHeadSlopes {
  const later = laterSlopes(pass, videos, weighting);
  const base = form.baseMean > 0 ? { baseMean: form.baseMean } : {};
  if (!form.hinge && !form.nominal) {
    const f = fitPartCoefficients(pass, 0, 0, false, fit, videos, weighting);
    return { own: f.own, cross: f.cross, ownBias: f.ownBias, crossBias: f.crossBias, later, ...base };
  }
  // features: [g⁺ (g when linear), g⁻ (hinge), z (nominal), 1]
  const fitBucket = (b: PartBucket) => {
    const X = b.g.map((g, i) => [
      form.hinge ? Math.max(g, 0) : g,
      ...(form.hinge ? [Math.min(g, 0)] : []),
      ...(form.nominal ? [b.z[i]] : []),
      1,
    ]);
    const W = videos ? pointWeights(b.v, videos, weighting) : undefined;
    const ls = leastSquares(X, b.y, 1e-3, W);
    const wv = fit === 'mape' ? mapeFit(X, b.y, W, ls) : ls;
    let j = 0;
    return {
      pos: wv[j++],
      neg: form.hinge ? wv[j++] : undefined,
      nom: form.nominal ? wv[j++] : undefined,
      bias: wv[j],
    };
  };
  const own = pass.own.map(fitBucket);
  const cross = pass.cross.map(fitBucket);
  return {
    own: own.map((x) => x.pos),
    cross: cross.map((x) => x.pos),
    ownBias: own.map((x) => x.bias),
    crossBias: cross.map((x) => x.bias),
    ...(form.hinge ? { ownNeg: own.map((x) => x.neg!), crossNeg: cross.map((x) => x.neg!) } : {}),
    ...(form.nominal ? { ownNominal: own.map((x) => x.nom!), crossNominal: cross.map((x) => x.nom!) } : {}),
    later,
    ...base,
  };
}

/**
 * How the regression points of a training pass are weighted: `points` (each point alike, as before session 9),
 * `source` (each video source, e.g. aitrans_live and our encodes, weighs the same in total), `stream` (each video
 * weighs the same in total).
 */
export type PartWeighting = 'points' | 'source' | 'stream';

/**
 * Point weights of a bucket (its video indices `v` into `videos`) under `mode`, scaled to mean 1; undefined for
 * `points` (every weight 1).
 */
export function pointWeights(v: readonly number[], videos: readonly PartVideo[], mode: PartWeighting): number[] | undefined {
  if (mode === 'points') return undefined;
  const key = (i: number) => (mode === 'source' ? videos[i].source : String(i));
  const n = new Map<string, number>();
  for (const i of v) n.set(key(i), (n.get(key(i)) ?? 0) + 1);
  const groups = n.size;
  return v.map((i) => v.length / (groups * n.get(key(i))!));
}

/** Log least-squares slopes of the later horizons' errors on the head surprise, per k and h. */
export function laterSlopes(pass: PartPass, videos?: readonly PartVideo[], weighting: PartWeighting = 'points'): number[][] {
  return pass.later.map((hs) => hs.map((b) => slopeThroughOrigin(b.g, b.y, videos ? pointWeights(b.v, videos, weighting) : undefined)));
}

/**
 * The coefficients fitted on one pass's regression points (the linear model too when `linear`); with `videos` (the
 * pass's videos) the points are weighted by `weighting` (pointWeights).
 */
export function fitPartCoefficients(
  pass: PartPass,
  partS: number,
  shareAlpha: number,
  linear = true,
  fit: 'ls' | 'mape' = 'ls',
  videos?: readonly PartVideo[],
  weighting: PartWeighting = 'points',
): PartHeadCoefficients {
  const W = (b: { v: number[] }) => (videos ? pointWeights(b.v, videos, weighting) : undefined);
  if (fit === 'mape') {
    const own = pass.own.map((b) => mapeSlope(b.g, b.y, W(b)));
    const cross = pass.cross.map((b) => mapeSlope(b.g, b.y, W(b)));
    return {
      partS,
      own: own.map((x) => x[0]),
      cross: cross.map((x) => x[0]),
      ownBias: own.map((x) => x[1]),
      crossBias: cross.map((x) => x[1]),
      later: laterSlopes(pass, videos, weighting),
      shareAlpha,
    };
  }
  return {
    partS,
    own: pass.own.map((b) => slopeThroughOrigin(b.g, b.y, W(b))),
    later: laterSlopes(pass, videos, weighting),
    cross: pass.cross.map((b) => slopeThroughOrigin(b.g, b.y, W(b))),
    shareAlpha,
    ...(linear
      ? {
          linOwn: pass.own.map((b) => leastSquares(b.x, b.y, 1e-3, W(b))),
          linCross: pass.cross.map((b) => leastSquares(b.x, b.y, 1e-3, W(b))),
        }
      : {}),
  };
}

export interface TrainPartSizeOptions {
  /**
   * Candidate training sets by name (e.g. `aitrans`: the aitrans_live train streams; `aitrans+encodes`: those and our
   * train encodes); each is fitted under every weighting of `weightings` that differs on it (`source` needs more
   * than one source) and the dev streams select among them.
   */
  trainSets: ReadonlyArray<{ name: string; videos: readonly PartVideo[] }>;
  /** dev streams (every source); each counts equally in the selection metric */
  dev: readonly PartVideo[];
  /** base forecasters by name; the first is the one whose coefficients are written */
  bases: ReadonlyArray<{ name: string; make: () => SizeForecaster }>;
  /** parts known, 1..K (default 3) */
  K?: number;
  /** share EWMA weights to select from on dev (default 0.1, 0.3, 0.6) */
  shareAlphas?: readonly number[];
  /** prior strengths of the per-stream slope adaptation to select from besides none (default none) */
  adaptLambdas?: readonly number[];
  /** point weightings to select from (default points, source, stream) */
  weightings?: readonly PartWeighting[];
  /**
   * Rate-control class sets to select from (default [[]]: none): for a set, e.g. ['cbr'] or ['cbr', 'vbr'], each class
   * gets its own slopes (`byRateControl`), fitted like the row's default slopes (same share EWMA, fit and weighting)
   * on the streams of `rateControlTrain` of that class (rateControlClass of their note). Fixed-slope rows only.
   */
  rateControlSets?: ReadonlyArray<readonly RateControlClass[]>;
  /** training streams of known rate control (our train encodes); required when a set is not empty */
  rateControlTrain?: readonly PartVideo[];
  /**
   * Head forms of the class slopes to select from (session 11; parseHeadForm: e.g. linear, hinge, hinge+nominal,
   * mean+hinge+nominal; default [linear], session 10's). Each class's form is chosen on the class's own dev streams
   * by the mean of their per-stream ratios k = 1 MAPE / mean-of-past MAPE (the issue's target, each stream alike;
   * a class's slopes touch only its streams), the first form when the class has no dev stream.
   */
  forms?: readonly string[];
  /**
   * Share EWMA weights of the class slopes to select from with the forms (session 11; the class's own `shareAlpha`),
   * chosen the same way; absent: the class uses the row's share EWMA (session 10).
   */
  classShareAlphas?: readonly number[];
  out?: string | null;
  command?: string;
  /** recorded in train.json */
  data?: Record<string, string>;
  log?: (s: string) => void;
}

/** Dev figures of one stream (MAPE %, h = 1). */
export interface PartSizeDevStream {
  video: string;
  source: string;
  chunks: number;
  /** APE points of the base forecast (origin x rung) */
  points: number;
  mean_all_mape: number;
  base_mape: number;
  /** with k = 1..K parts known */
  part_mape: number[];
}

export interface PartSizeDevRow {
  base: string;
  /** the configuration: training set, point weighting, share EWMA, fit */
  train_set: string;
  weighting: PartWeighting;
  share_alpha: number;
  fit: 'ls' | 'ls+linear' | 'mape';
  /** per-stream slope adaptation's prior strength (HeadSlopeAdapter), null: fixed slopes */
  adapt_lambda: number | null;
  /** rate-control classes with their own slopes ('' none; e.g. 'cbr,vbr') */
  rate_control: string;
  /** the head form chosen per class (session 11; absent without class slopes) */
  rate_control_forms?: Partial<Record<RateControlClass, string>>;
  /** dev MAPE % pooled over every dev point (the largest stream dominates): mean of past, the base, k = 1..K parts */
  mean_all_mape: number;
  base_mape: number;
  part_mape: number[];
  /** dev MAPE % averaged over the dev streams (each counts equally): the selection metric is macro_part_mape[0] */
  macro_mean_all_mape: number;
  macro_base_mape: number;
  macro_part_mape: number[];
  /** per dev stream */
  streams: PartSizeDevStream[];
  /** dev MAPE % (pooled) at h = 2..5 of the base forecast and corrected with one part known */
  later_base_mape: number[];
  later_part1_mape: number[];
  coef: PartHeadCoefficients;
}

const concat = (xs: readonly Float64Array[]) => {
  const out = new Float64Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Dev figures of `coef` over `dev` (per stream, pooled and stream-averaged), from precomputed base forecasts
 * (`fDev`) and mean-of-past forecasts (`fMean`) of the same videos.
 */
export function devFigures(
  dev: readonly PartVideo[],
  fDev: BaseForecasts,
  fMean: BaseForecasts,
  K: number,
  coef: PartHeadCoefficients,
): Omit<
  PartSizeDevRow,
  'base' | 'train_set' | 'weighting' | 'share_alpha' | 'fit' | 'adapt_lambda' | 'rate_control' | 'rate_control_forms' | 'coef'
> {
  const passes = dev.map((v, i) => evaluatePartConditioned([v], [fDev[i]], K, coef));
  const means = dev.map((v, i) => evaluatePartConditioned([v], [fMean[i]], K, null).baseApe);
  const streams: PartSizeDevStream[] = dev.map((v, i) => ({
    video: v.video,
    source: v.source,
    chunks: v.sizes.length,
    points: passes[i].baseApe.length,
    mean_all_mape: apeSummary(means[i]).mape,
    base_mape: apeSummary(passes[i].baseApe).mape,
    part_mape: passes[i].partApe.map((a) => apeSummary(a).mape),
  }));
  const ks = Array.from({ length: K }, (_, k) => k);
  return {
    mean_all_mape: apeSummary(concat(means)).mape,
    base_mape: apeSummary(concat(passes.map((p) => p.baseApe))).mape,
    part_mape: ks.map((k) => apeSummary(concat(passes.map((p) => p.partApe[k]))).mape),
    macro_mean_all_mape: mean(streams.map((s) => s.mean_all_mape)),
    macro_base_mape: mean(streams.map((s) => s.base_mape)),
    macro_part_mape: ks.map((k) => mean(streams.map((s) => s.part_mape[k]))),
    streams,
    later_base_mape: Array.from({ length: LATER }, (_, h) => apeSummary(concat(passes.map((p) => p.laterBaseApe[h]))).mape),
    later_part1_mape: Array.from(
      { length: LATER },
      (_, h) => apeSummary(concat(passes.map((p) => p.laterApe[0]?.[h] ?? new Float64Array()))).mape,
    ),
  };
}

/**
 * Fits per base, training set, weighting, share alpha and fit on the training streams; selects per base on the dev
 * streams by the stream-averaged k = 1 MAPE (macro_part_mape[0]: every dev stream counts equally, whatever its
 * length); writes the first base's selected coefficients and every configuration's dev figures.
 */
export function trainPartSize(o: TrainPartSizeOptions): PartSizeDevRow[] {
  const log = o.log ?? ((s: string) => console.log(s));
  const K = o.K ?? 3;
  if (!o.trainSets.length || o.trainSets.some((t) => !t.videos.length) || !o.dev.length)
    throw new InputError('train:part-size needs training and dev videos with part bytes');
  const partS = o.trainSets[0].videos[0].partS;
  for (const v of [...o.trainSets.flatMap((t) => t.videos), ...o.dev])
    if (Math.abs(v.partS - partS) > 0.05 * partS) throw new InputError(`${v.video} has ${v.partS}-s parts, the others ${partS}-s`);
  const t0 = Date.now();
  const rows: PartSizeDevRow[] = [];
  const grid: Array<Omit<PartSizeDevRow, 'streams' | 'coef' | 'later_base_mape' | 'later_part1_mape'> & { streams_part1: number[] }> = [];
  const fMean = baseForecasts(o.dev, () => new MeanOfPast());
  const cache = new Map<PartVideo, BaseForecasts[number]>();
  const forecasts = (vs: readonly PartVideo[], make: () => SizeForecaster) => {
    const missing = vs.filter((v) => !cache.has(v));
    baseForecasts(missing, make).forEach((f, i) => cache.set(missing[i], f));
    return vs.map((v) => cache.get(v)!);
  };
  if (o.rateControlSets && !o.rateControlSets.length)
    throw new InputError(
      'train:part-size: no rate-control set to select from (--rate-control none for no class slopes, e.g. none,cbr+vbr)',
    );
  if (o.weightings && !o.weightings.length)
    throw new InputError('train:part-size: no point weighting to select from (--weightings points, source or stream)');
  if (o.shareAlphas && !o.shareAlphas.length) throw new InputError('train:part-size: no share alpha to select from');
  const rcTrain = o.rateControlTrain ?? [];
  const forms = (o.forms ?? ['linear']).map(parseHeadForm);
  if (!forms.length) throw new InputError('train:part-size: no head form (--forms)');
  for (const set of o.rateControlSets ?? [])
    for (const c of set)
      if (!rcTrain.some((v) => rateControlClass(v.note) === c))
        throw new InputError(`train:part-size: no training stream of rate control ${c} for its own slopes (--encodes)`);
  for (const b of o.bases) {
    cache.clear();
    let best: PartSizeDevRow | null = null;
    const fDev = forecasts(o.dev, b.make);
    /** per (class, alpha, base mean weight): the regression pass over the class's training streams */
    const rcPasses = new Map<string, { pass: PartPass; videos: PartVideo[] }>();
    const rateControlSlopes = (
      rcs: readonly RateControlClass[],
      alpha: number,
      fit: 'ls' | 'mape',
      weighting: PartWeighting,
      row: PartHeadCoefficients,
    ): { slopes: Partial<Record<RateControlClass, PartHeadSlopes>>; forms: Partial<Record<RateControlClass, string>>; note: string } => {
      const out: Partial<Record<RateControlClass, PartHeadSlopes>> = {};
      const chosen: Partial<Record<RateControlClass, string>> = {};
      const notes: string[] = [];
      for (const c of rcs) {
        const devIdx = o.dev.flatMap((v, i) => (rateControlClass(v.note) === c ? [i] : []));
        let best: { slopes: PartHeadSlopes; form: string; ratio: number } | null = null;
        const tried: string[] = [];
        const alphas = o.classShareAlphas ?? [alpha];
        for (const a of alphas)
          for (const form of forms) {
            const key = `${c} ${a} ${form.baseMean}`;
            if (!rcPasses.has(key)) {
              const videos = rcTrain.filter((v) => rateControlClass(v.note) === c);
              rcPasses.set(key, {
                pass: evaluatePartConditioned(videos, forecasts(videos, b.make), K, null, a, 5, form.baseMean),
                videos,
              });
            }
            const { pass, videos } = rcPasses.get(key)!;
            const slopes = { ...fitHeadForm(pass, form, fit, videos, weighting), ...(o.classShareAlphas ? { shareAlpha: a } : {}) };
            const name = o.classShareAlphas ? `${form.name} alpha ${a}` : form.name;
            // the class's dev streams: mean of their per-stream ratios k = 1 MAPE / mean of past (one candidate: not needed)
            let ratio = NaN;
            if (forms.length * alphas.length > 1 && devIdx.length) {
              const d = devFigures(
                devIdx.map((i) => o.dev[i]),
                devIdx.map((i) => fDev[i]),
                devIdx.map((i) => fMean[i]),
                1,
                { ...row, byRateControl: { [c]: slopes } },
              );
              ratio = mean(d.streams.map((st) => st.part_mape[0] / st.mean_all_mape));
              tried.push(`${name} ${ratio.toFixed(3)}`);
            }
            if (!best || ratio < best.ratio) best = { slopes, form: name, ratio };
          }
        out[c] = best!.slopes;
        chosen[c] = best!.form;
        if (tried.length) notes.push(`${c} forms (dev mean ratio): ${tried.join(', ')} -> ${best!.form}`);
      }
      return { slopes: out, forms: chosen, note: notes.join('; ') };
    };
    for (const ts of o.trainSets) {
      const fTrain = forecasts(ts.videos, b.make);
      const sources = new Set(ts.videos.map((v) => v.source)).size;
      for (const alpha of o.shareAlphas ?? [0.1, 0.3, 0.6]) {
        const pass = evaluatePartConditioned(ts.videos, fTrain, K, null, alpha);
        for (const weighting of (o.weightings ?? (['points', 'source', 'stream'] as const)).filter((w) => w !== 'source' || sources > 1))
          for (const [linear, fit] of [
            [false, 'ls'],
            [true, 'ls'],
            [false, 'mape'],
          ] as const) {
            const fitted = fitPartCoefficients(pass, partS, alpha, linear, fit, ts.videos, weighting);
            const rcSets = linear ? [[] as RateControlClass[]] : (o.rateControlSets ?? [[]]);
            for (const [lam, rcs] of (linear ? [undefined] : [undefined, ...(o.adaptLambdas ?? [])]).flatMap((l) =>
              rcSets.map((r) => [l, r] as const),
            )) {
              const rc = rcs.length ? rateControlSlopes(rcs, alpha, fit as 'ls' | 'mape', weighting, fitted) : null;
              const byRc = rc ? { byRateControl: rc.slopes } : {};
              const coef: PartHeadCoefficients = { ...fitted, ...(lam === undefined ? {} : { adaptLambda: lam }), ...byRc };
              const row: PartSizeDevRow = {
                base: b.name,
                train_set: ts.name,
                weighting,
                share_alpha: alpha,
                fit: fit === 'mape' ? 'mape' : linear ? 'ls+linear' : 'ls',
                adapt_lambda: lam ?? null,
                rate_control: rcs.join(','),
                ...(rc && (forms.length > 1 || o.classShareAlphas) ? { rate_control_forms: rc.forms } : {}),
                ...devFigures(o.dev, fDev, fMean, K, coef),
                coef,
              };
              const { streams, coef: _c, later_base_mape: _l, later_part1_mape: _p, ...rest } = row;
              grid.push({ ...rest, streams_part1: streams.map((s) => s.part_mape[0]) });
              log(
                `[train:part-size +${Math.round((Date.now() - t0) / 1000)}s] ${b.name} ${ts.name} ${weighting} alpha ${alpha} ${row.fit}${lam === undefined ? '' : ` adapt ${lam}`}${rcs.length ? ` per-rc ${rcs.join(',')}` : ''}${rc?.note ? ` [${rc.note}]` : ''}: own ${coef.own.map((x) => x.toFixed(3)).join('/')} cross ${coef.cross.map((x) => x.toFixed(3)).join('/')}; dev k=1 MAPE per stream ${streams.map((s) => `${s.video} ${s.part_mape[0].toFixed(2)}`).join(', ')}; stream mean ${row.macro_part_mape[0].toFixed(2)} (base ${row.macro_base_mape.toFixed(2)}, mean_all ${row.macro_mean_all_mape.toFixed(2)}); pooled ${row.part_mape[0].toFixed(2)} %`,
              );
              if (!best || row.macro_part_mape[0] < best.macro_part_mape[0]) best = row;
            }
          }
      }
    }
    // 'source' weighting is skipped for a training set of one source: a grid of only that has nothing to select
    if (!best)
      throw new InputError(
        `train:part-size: no configuration to select for ${b.name} (weighting 'source' needs training streams of two sources; weightings ${(o.weightings ?? []).join(',')})`,
      );
    log(
      `[train:part-size] ${b.name}: selected ${best!.train_set} ${best!.weighting} alpha ${best!.share_alpha} ${best!.fit}${best!.adapt_lambda === null ? '' : ` adapt ${best!.adapt_lambda}`}${best!.rate_control ? ` per-rc ${best!.rate_control}` : ''}, dev k=1 stream mean ${best!.macro_part_mape[0].toFixed(2)} % (x mean_all ${(best!.macro_part_mape[0] / best!.macro_mean_all_mape).toFixed(3)}), pooled ${best!.part_mape[0].toFixed(2)} % (x ${(best!.part_mape[0] / best!.mean_all_mape).toFixed(3)})`,
    );
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
          train_sets: Object.fromEntries(o.trainSets.map((t) => [t.name, t.videos.map((v) => v.video)])),
          ...(rcTrain.length && (o.rateControlSets ?? []).some((x) => x.length)
            ? { rate_control_train: Object.fromEntries(rcTrain.map((v) => [v.video, rateControlClass(v.note)])) }
            : {}),
          dev_videos: o.dev.map((v) => v.video),
          selection: 'dev k=1 MAPE averaged over the dev streams (macro_part_mape[0])',
          data: Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, dataRelative(v)])),
          dev: rows,
          grid,
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
