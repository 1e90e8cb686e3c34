/**
 * The catalog of model variants (accuracy/latency-aware deployment, "Joint Accuracy- and Latency-aware Model
 * Deployment" in ../shared/papers/edge-intelligence-immersive-media.txt: profile every model compression ×
 * data compression version, then choose one per request). Pure data and names — no DOM, no Node, no tfjs:
 * the worker, the benchmark, the trainer and the selection share it.
 *
 * Model variants (weights under `models/variants/<model>/<variant>/`, built by `npm run train:variants`):
 *   full       the shipped model (`models/<model>/`)
 *   int8       weights quantised to 8 bits with one scale per tensor (symmetric: w ≈ scale · q, q ∈ [−127, 127]),
 *              stored in tfjs' own quantised weight format (uint8 with min = −128·scale), decoded by tfjs on load
 *   fp16       weights as IEEE half floats (tfjs' float16 weight format)
 *   pruned     the smallest-magnitude 75 % of every kernel set to zero, then fine-tuned with that mask
 *   distilled  a smaller network (fewer units) trained on the full model's outputs
 *   large      viewport-prior only: 5 s of history, the full-resolution prior (48 × 24), 256 units — served
 *              by the edge only (`EDGE_ONLY`), allowed to be too slow for weak devices
 * Data variants (the model's input compressed, no new weights):
 *   full           as shipped
 *   short-history  half the history: 1 s of head motion instead of 2 s (viewport), 4 throughput samples instead
 *                  of 8 (ABR), the last 4 watch records instead of 8 (profile)
 *   coarse-prior   viewport-prior: the attention prior on a 12 × 6 grid instead of 24 × 12 (a quarter of the cells)
 */

/**
 * The shipped models that have variants (their directories under models/). `abr-drl-player` is the DRL `monitor()`
 * plays (`DEFAULT_ABR_MODEL`, src/monitor.ts: trained and selected in the player simulator with the player's
 * semantics); `abr-drl` is the Pensieve-simulator DRL (the default until session 10), still buildable and profilable
 * but no task deploys it (`TASK_MODELS`).
 */
export const DEPLOY_MODELS = ['abr-drl-player', 'abr-drl', 'viewport', 'viewport-prior', 'profile'] as const;
export type DeployModel = (typeof DEPLOY_MODELS)[number];

export const MODEL_VARIANTS = ['full', 'int8', 'fp16', 'pruned', 'distilled', 'large'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

export const DATA_VARIANTS = ['full', 'short-history', 'coarse-prior'] as const;
export type DataVariant = (typeof DATA_VARIANTS)[number];

/** Where a forward pass runs: plain JavaScript over the weights, or tfjs on one of its backends. */
export const BACKENDS = ['js', 'cpu', 'wasm', 'webgl'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * The DRL the ABR task deploys variants of: it must be `monitor()`'s `DEFAULT_ABR_MODEL` (src/monitor.ts; this file
 * cannot import it — no DOM here — so test/node/deploy.spec.ts asserts the two are equal), else a `deploy()` that
 * picks an ABR variant would swap the player's network for another one.
 */
export const ABR_TASK_MODEL = 'abr-drl-player' as const;

/** The tasks an app asks the worker for, and the model each runs. */
export const TASK_MODELS = { abr: [ABR_TASK_MODEL], viewport: ['viewport-prior', 'viewport'], profile: ['profile'] } as const;
export type DeployTask = keyof typeof TASK_MODELS;

/** Variants only the edge serves (too large or too slow for a device budget). */
export const EDGE_ONLY: ReadonlyArray<readonly [DeployModel, ModelVariant]> = [['viewport-prior', 'large']];

/** The model variants built for each model. */
export const VARIANTS_OF: Record<DeployModel, readonly ModelVariant[]> = {
  'abr-drl-player': ['full', 'int8', 'fp16', 'pruned', 'distilled'],
  'abr-drl': ['full', 'int8', 'fp16', 'pruned', 'distilled'],
  viewport: ['full', 'int8', 'fp16', 'pruned', 'distilled'],
  'viewport-prior': ['full', 'int8', 'fp16', 'pruned', 'distilled', 'large'],
  profile: ['full', 'int8', 'fp16', 'pruned', 'distilled'],
};

/** The data variants that apply to each model (the large model reads its own, fuller inputs: 'full' only). */
export function dataVariantsOf(model: DeployModel, variant: ModelVariant): DataVariant[] {
  if (variant === 'large') return ['full'];
  return model === 'viewport-prior' ? ['full', 'short-history', 'coarse-prior'] : ['full', 'short-history'];
}

/** The id of a (model variant, data variant) pair as the profile rows name it: `int8`, `int8+short-history`. */
export function variantId(variant: ModelVariant, data: DataVariant = 'full'): string {
  return data === 'full' ? variant : `${variant}+${data}`;
}

/** Inverse of `variantId`. @throws Error on an id that names no known variant */
export function parseVariantId(id: string): { variant: ModelVariant; data: DataVariant } {
  const [v, d = 'full'] = id.split('+');
  if (!(MODEL_VARIANTS as readonly string[]).includes(v) || !(DATA_VARIANTS as readonly string[]).includes(d))
    throw new Error(`unknown variant id '${id}'`);
  return { variant: v as ModelVariant, data: d as DataVariant };
}

/** Every (model variant × data variant) pair of a model, as ids. */
export function variantIds(model: DeployModel): string[] {
  return VARIANTS_OF[model].flatMap((v) => dataVariantsOf(model, v).map((d) => variantId(v, d)));
}

export function edgeOnly(model: DeployModel, variant: ModelVariant): boolean {
  return EDGE_ONLY.some(([m, v]) => m === model && v === variant);
}

/**
 * The model.json of a variant relative to the models base URL (the directory holding abr-drl-player/, viewport/, …):
 * `full` is the shipped model, the others live under `variants/<model>/<variant>/`.
 */
export function variantPath(model: DeployModel, variant: ModelVariant): string {
  return variant === 'full' ? `${model}/model.json` : `variants/${model}/${variant}/model.json`;
}

/** Whether a deploy model is an ABR policy (a DRL actor over `src/abr/drl.ts` features). */
export function isAbrModel(model: DeployModel): model is 'abr-drl' | 'abr-drl-player' {
  return model === 'abr-drl' || model === 'abr-drl-player';
}

/** History a data variant hands the model, in samples / records, for each model family. */
export function historyOf(model: DeployModel, data: DataVariant): number {
  const full = isAbrModel(model) ? 8 : model === 'profile' ? 8 : 10;
  return data === 'short-history' ? full / 2 : full;
}

/** The attention-prior grid (columns × rows) a viewport-prior data variant uses. */
export function priorGridOf(variant: ModelVariant, data: DataVariant): [number, number] {
  if (variant === 'large') return [48, 24];
  return data === 'coarse-prior' ? [12, 6] : [24, 12];
}

/** One row of the deployment profile (`npm run bench:deploy`, bench/results/deploy.json). */
export interface ProfileRow {
  model: DeployModel;
  /** `variantId(model variant, data variant)` */
  variant: string;
  backend: Backend;
  /** the CPU slowdown the row was measured at (1, 4, 20: DevTools' Emulation.setCPUThrottlingRate) */
  throttle: number;
  /** accuracy relative to the full model on the full data (1 = as good; > 1 better), on the dev benchmark */
  rel_accuracy: number;
  /** latency of one task call (features, forward pass, decoding), ms */
  p50_ms: number;
  p95_ms: number;
  /** bytes downloaded to run it: model.json + weights (+ the attention prior of one video for prior models) */
  bytes: number;
}

/**
 * A model's full version scored on its task's dev benchmark, in the benchmark's own unit (viewport: mean
 * orthodromic error in degrees, lower is better; ABR: QoE per chunk, higher is better; profile: mean absolute
 * error, lower is better). Models of one task are scored on the same benchmark, so their full versions compare:
 * that is the common scale the selector puts every variant of a task on (`accuracyScale`, src/deploy/select.ts).
 */
export interface FullAccuracy {
  metric: string;
  value: number;
  higher_is_better: boolean;
}

/**
 * The deployment profile the worker chooses from (models/variants/profile.json, written by `npm run
 * bench:deploy`): every row, and the speed probe of the profiled machine at each throttle rate.
 */
export interface DeployProfile {
  /** the command that measured it */
  command?: string;
  probes: Array<{ throttle: number; msPerMmac: number }>;
  rows: ProfileRow[];
  /** each profiled model's full version on its dev benchmark: puts the models of one task on one scale */
  full_accuracy?: Partial<Record<DeployModel, FullAccuracy>>;
}
