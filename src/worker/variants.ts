/**
 * Running a deployment variant (src/deploy/catalog.ts) on a backend: loads the variant's model, builds the
 * task's predictor around a forward pass — plain JavaScript over the weights ('js': `FastMlp`, `FastProfile`)
 * or tfjs `predict` on the active tfjs backend ('cpu', 'wasm', 'webgl') — and applies the data variant to the
 * task's input (a shorter history, a coarser prior). Used by the worker (the deployment it chose) and by
 * `npm run bench:deploy` (every variant on every backend, in the worker and on a throttled page). tfjs is
 * passed in, so this file never pulls tfjs into a bundle by itself.
 */
import type * as TF from '@tensorflow/tfjs';
import type { AbrObservation } from '../core/abr.js';
import { DrlPolicy } from '../abr/drl.js';
import {
  historyOf,
  isAbrModel,
  parseVariantId,
  priorGridOf,
  variantPath,
  type Backend,
  type DataVariant,
  type DeployModel,
  type ModelVariant,
} from '../deploy/catalog.js';
import { K_RECORDS } from '../profile/features.js';
import { FastProfile, predictProfile, type ProfileNorm } from '../profile/model.js';
import { LearnedViewport } from '../viewport/model.js';
import { AttentionPrior, coarsenPrior, type PriorJson } from '../viewport/prior.js';
import { HORIZON_STEPS } from '../viewport/predictors.js';
import { DEFAULT_FOV, DEFAULT_GRID, tileProbabilities } from '../viewport/tiles.js';

/** The three task inputs, by model family. */
export type VariantInput =
  { kind: 'abr'; obs: AbrObservation } | { kind: 'viewport'; hist: Float64Array; t: number } | { kind: 'profile'; x: Float32Array };

/** A loaded variant: run one task call. */
export interface LoadedVariant {
  model: DeployModel;
  variant: ModelVariant;
  data: DataVariant;
  backend: Backend;
  /** history samples the task keeps (data variant) */
  history: number;
  /** the viewport predictor (viewport models), to hand a prior */
  viewport?: LearnedViewport;
  /** run one call; the answer's shape depends on the task (level, prediction points + tiles, behaviour) */
  run(input: VariantInput): unknown;
  /** set the video's attention prior (prior models; coarsened per the data variant) */
  setPrior(json: PriorJson | null): void;
  dispose(): void;
}

export interface LoadVariantOptions {
  tf: typeof TF;
  layers: { loadLayersModel: typeof TF.loadLayersModel };
  /** models base URL: the directory holding abr-drl/, viewport/, variants/ (ends with /) */
  modelsUrl: string;
  model: DeployModel;
  /** `variantId` (e.g. 'int8+short-history') */
  variant: string;
  backend: Backend;
  fetch?: typeof fetch;
}

/** The forward pass of a tfjs model for one input vector, on the active tfjs backend (first output if several). */
export function tfjsForward(tf: typeof TF, model: TF.LayersModel): (x: Float32Array) => Float32Array {
  return (x) =>
    tf.tidy(() => {
      const out = model.predict(tf.tensor2d(x, [1, x.length]));
      return (Array.isArray(out) ? out[0] : out).dataSync() as Float32Array;
    });
}

/**
 * Load a variant for a backend. For a tfjs backend the caller has selected it already (`tf.setBackend`).
 * @throws Error when the model cannot be fetched or its inputs do not match the task
 */
export async function loadVariant(o: LoadVariantOptions): Promise<LoadedVariant> {
  const { variant, data } = parseVariantId(o.variant);
  const base = o.modelsUrl.endsWith('/') ? o.modelsUrl : `${o.modelsUrl}/`;
  const url = new URL(variantPath(o.model, variant), base).href;
  const model = await o.layers.loadLayersModel(url);
  const js = o.backend === 'js';
  const H = historyOf(o.model, data);
  const common = { model: o.model, variant, data, backend: o.backend, history: H, dispose: () => model.dispose() };
  if (isAbrModel(o.model)) {
    const policy = new DrlPolicy(model, `drl/${o.variant}`, js ? undefined : tfjsForward(o.tf, model));
    return {
      ...common,
      setPrior: () => undefined,
      run(input) {
        if (input.kind !== 'abr') throw new Error(`${o.model} takes an ABR observation`);
        const ob = input.obs;
        return policy.decide(H < 8 ? { ...ob, throughputs: ob.throughputs.slice(-H), delaysMs: ob.delaysMs.slice(-H) } : ob);
      },
    };
  }
  if (o.model === 'profile') {
    const f = o.fetch ?? fetch;
    const r = await f(new URL(variant === 'full' ? 'profile/norm.json' : `variants/profile/${variant}/norm.json`, base).href);
    if (!r.ok) throw new Error(`profile norm.json: HTTP ${r.status}`);
    const norm = (await r.json()) as ProfileNorm;
    const fast = js ? new FastProfile(model) : null;
    const x2 = new Float32Array(21);
    return {
      ...common,
      setPrior: () => undefined,
      run(input) {
        if (input.kind !== 'profile') throw new Error('profile takes a feature vector');
        let x = input.x;
        if (H < K_RECORDS) {
          // the last H watch records only: older ones as if they never happened
          x2.set(x);
          for (let j = 0; j < K_RECORDS - H; j++) x2[j] = x2[K_RECORDS + j] = 0;
          x = x2;
        }
        return fast ? fast.predict(x, norm) : predictProfile(o.tf, model, norm, x, [0]);
      },
    };
  }
  // viewport / viewport-prior
  const large = variant === 'large';
  const vp = new LearnedViewport(model, `${o.model}/${o.variant}`, {
    history: large ? 25 : 10,
    forward: js ? undefined : tfjsForward(o.tf, model),
  });
  const grid = priorGridOf(variant, data);
  return {
    ...common,
    history: large ? 25 : H,
    viewport: vp,
    setPrior(json) {
      if (!json) {
        vp.prior = null;
        return;
      }
      const f = json.grid[0] / grid[0];
      vp.prior = new AttentionPrior(f > 1 && Number.isInteger(f) ? coarsenPrior(json, f) : json);
    },
    run(input) {
      if (input.kind !== 'viewport') throw new Error('viewport models take a head-motion history');
      const keep = large ? 25 : H;
      const hist = input.hist.length > keep * 3 ? input.hist.subarray(input.hist.length - keep * 3) : input.hist;
      const points = vp.predict(hist, HORIZON_STEPS, { t: input.t });
      const tiles = tileProbabilities(points, 18, DEFAULT_GRID, DEFAULT_FOV, 9 * 3);
      return { points, tiles };
    },
  };
}

/** Sample inputs of each task for timing (realistic shapes and values; the same on every backend). */
export function sampleInput(model: DeployModel, i = 0): VariantInput {
  if (isAbrModel(model))
    return {
      kind: 'abr',
      obs: {
        lastQuality: 2,
        bufferS: 8 + (i % 5),
        throughputs: [300, 320, 280, 350, 400, 390, 410, 380].map((x) => x * (1 + 0.05 * (i % 3))),
        delaysMs: [3100, 2900, 3300, 2800, 2400, 2500, 2300, 2600],
        nextSizes: [150e3, 375e3, 600e3, 925e3, 1425e3, 2150e3],
        remain: 30,
        nextIndex: 18,
        totalChunks: 48,
        ladderKbps: [300, 750, 1200, 1850, 2850, 4300],
        rebufS: 0,
      },
    };
  if (model === 'profile') {
    const x = new Float32Array(21);
    for (let j = 0; j < 8; j++) {
      x[j] = 5 + ((j * 7 + i) % 11);
      x[8 + j] = 0.3 + 0.1 * ((j + i) % 5);
    }
    x.set([8, 6, 0.6, 0.5, 2.5], 16);
    return { kind: 'profile', x };
  }
  // a head turning slowly to the right, 25 samples (5 s at 5 Hz)
  const n = 25;
  const hist = new Float64Array(n * 3);
  for (let k = 0; k < n; k++) {
    const yaw = ((k * 2 + i) * Math.PI) / 180;
    const pitch = (5 * Math.sin(k / 4) * Math.PI) / 180;
    hist[3 * k] = Math.cos(pitch) * Math.sin(yaw);
    hist[3 * k + 1] = Math.sin(pitch);
    hist[3 * k + 2] = -Math.cos(pitch) * Math.cos(yaw);
  }
  return { kind: 'viewport', hist, t: 10 + i * 0.2 };
}

/** A synthetic attention prior (grid cols × rows, 60 one-second windows, a moving hot spot), for timing. */
export function samplePrior(cols = 24, rows = 12): PriorJson {
  const windows: Array<Array<[number, number]>> = [];
  for (let w = 0; w < 60; w++) {
    const cells: Array<[number, number]> = [];
    const c0 = Math.round((w * 2 * cols) / 24) % cols,
      r0 = Math.floor(rows / 2);
    let tot = 0;
    const raw: Array<[number, number]> = [];
    // the same angular spread at any grid: ±2 rows, ±4 columns of the 24 × 12 grid
    const sr = Math.max(1, Math.round((2 * rows) / 12)),
      sc = Math.max(1, Math.round((4 * cols) / 24));
    for (let dr = -sr; dr <= sr; dr++)
      for (let dc = -sc; dc <= sc; dc++) {
        const r = r0 + dr,
          c = (c0 + dc + cols) % cols;
        if (r < 0 || r >= rows) continue;
        const v = Math.exp(-((dr / sr) ** 2) * 2 - (dc / sc) ** 2 * 2);
        raw.push([r * cols + c, v]);
        tot += v;
      }
    for (const [c, v] of raw.sort((a, b) => a[0] - b[0])) cells.push([c, Math.round((v / tot) * 1e4) / 1e4]);
    windows.push(cells);
  }
  return { kind: 'edgeplay-attention-prior', grid: [cols, rows], windowS: 1, viewers: 20, windows };
}
