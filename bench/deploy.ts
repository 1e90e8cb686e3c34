/**
 * `npm run bench:deploy` (entry in cli/deploy.ts): the deployment profile of the shipped models' variants
 * (src/deploy/catalog.ts; "Joint Accuracy- and Latency-aware Model Deployment", edge-intelligence-immersive-media.txt)
 * and the variant the selector (src/deploy/select.ts) picks per device class.
 *
 * For every model and every model variant (full, int8, fp16, pruned, distilled, and viewport-prior's edge-only large;
 * built by `npm run train:variants` / `train:viewport`) × data variant (full, short-history, coarse-prior):
 *   rel_accuracy  accuracy relative to the model's full version on its dev benchmark, computed here in Node (one
 *                 forward pass per input, the same on every backend): viewport models — the full model's mean
 *                 orthodromic error over the 25 steps on the *dev* split (the data README's protocol, as
 *                 bench:viewport; priors leave-one-user-out) over the variant's; ABR and profile — see `accuracyAbr`
 *                 and `accuracyProfile`. 1 = as accurate, < 1 worse
 *   p50_ms/p95_ms one task call (inputs → answer) through the worker's own variant loader (src/worker/variants.ts) **in
 *                 Chromium** (bench/deploy-browser.ts, Debian's headless chromium): in the SDK's worker at throttle 1,
 *                 and on the page at throttle 1, 4 and 20 under DevTools' `Emulation.setCPUThrottlingRate` (DevTools
 *                 throttles pages only: a worker target refuses it), per backend — 'js' (plain JS over the weights),
 *                 tfjs 'cpu', 'wasm', 'webgl' (each where it loads). At throttle > 1 a sample is the mean of a batch
 *                 of calls lasting ~2 ms unthrottled (DevTools suspends the page in slices of several ms)
 *   bytes         model.json + weights.bin (+ the prior of one video for prior models, as JSON)
 * Then `selectDeployment` per device class (speed factor 1 desktop, 4 laptop, 20 phone) for a latency budget and an
 * accuracy floor: which variant and backend it picks and why.
 * Writes bench/results/deploy.json (every row, with `where`: worker | page) and models/variants/profile.json (what
 * the worker's `deploy()` reads: the worker's rows at throttle 1 and the page's at 4 and 20; as probes, the worker's
 * at 1× scaled by each rate). The picks cover the viewport task and the ABR task (`TASK_MODELS.abr`: monitor()'s DRL,
 * abr-drl-player). `--only MODELS --merge` profiles some models and keeps the others' rows from the earlier run
 * (`mergeRuns`; deploy.json records it under `merged_from`).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  dataVariantsOf,
  DEPLOY_MODELS,
  isAbrModel,
  parseVariantId,
  TASK_MODELS,
  priorGridOf,
  variantId,
  variantPath,
  VARIANTS_OF,
  type Backend,
  type DeployModel,
  type DeployProfile,
  type ProfileRow,
} from '../src/deploy/catalog.js';
import { selectDeployment } from '../src/deploy/select.js';
import { dataRoot } from '../src/sim/abr/load.js';
import { loadViewportDir, type ViewportTrace } from '../src/sim/viewport/data.js';
import { evaluate, looPriors } from '../src/sim/viewport/protocol.js';
import { loadModel } from '../src/train/io.js';
import { InputError } from '../src/train/errors.js';
import type { ViewportPredictor } from '../src/viewport/predictors.js';
import type { AttentionPrior, PriorJson } from '../src/viewport/prior.js';
import { loadVariant, samplePrior } from '../src/worker/variants.js';
import { accuracyAbr, accuracyProfile } from './deploy-accuracy.js';
import { startDeployBrowser } from './deploy-browser.js';
import type { TimeRequest } from './deploy-page.js';

export interface BenchDeployOptions {
  modelsDir?: string;
  /** viewport data (default $EDGEPLAY_DATA/viewport) */
  data?: string;
  /** the models to profile (default all of DEPLOY_MODELS) */
  models?: DeployModel[];
  backends?: Backend[];
  /** timed calls per row at throttle 1 (after 30 warm-up calls); throttled rows take 30 (4×) / 20 (20×) batches */
  calls?: number;
  /** DevTools CPU throttling rates of the page rows (default 1, 4, 20) */
  throttles?: number[];
  /** samples per throttled row (default 30 at 4×, 20 at 20×: this many at every rate) and warm-up calls at 1× (30) */
  samples?: number;
  warmup?: number;
  /** profile only these data variants (default all; e.g. ['full'] skips short-history and coarse-prior) */
  dataVariants?: string[];
  /** the selector's latency budgets per viewport call at p95, ms (one pick per budget and device class) */
  budgetsMs?: number[];
  /** the selector's accuracy floor relative to the full model */
  floor?: number;
  out?: string;
  /**
   * keep the rows, dev scores and probes of the models this run does not profile from the earlier run in `out` (with
   * `models` a subset: e.g. only the ABR task's model after its variants were rebuilt). The merged profile keeps the
   * earlier run's probes (most rows are its), and `out` records both runs. @throws InputError when `out` is missing
   */
  merge?: boolean;
  command?: string;
}

/** One variant's accuracy on its model's dev benchmark. */
export interface AccuracyRow {
  model: DeployModel;
  variant: string;
  /** the benchmark's metric for this variant (lower is better: error °, QoE loss, L1), and its name */
  metric: string;
  value: number;
  /** the full version's value over this one (1 = as accurate; for a higher-is-better metric the ratio is inverted) */
  rel_accuracy: number;
}

/** A profile row as bench:deploy writes it: where it was measured. */
export type BenchRow = ProfileRow & { where: 'worker' | 'page'; batch: number };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** The variant ids of a model that bench:deploy profiles (the large variant when its weights exist). */
function idsOf(model: DeployModel, modelsDir: string, data?: string[]): string[] {
  return VARIANTS_OF[model]
    .filter((v) => v !== 'large' || existsSync(join(modelsDir, variantPath(model, v))))
    .flatMap((v) =>
      dataVariantsOf(model, v)
        .filter((d) => !data || data.includes(d))
        .map((d) => variantId(v, d)),
    );
}

/** The prior a prior model's variant downloads, at its grid (the data variant's), as JSON. */
function priorOf(model: DeployModel, id: string): PriorJson | null {
  if (model !== 'viewport-prior') return null;
  const { variant } = parseVariantId(id);
  // hand the finest grid the variant reads; the loader coarsens a 24 × 12 prior for 'coarse-prior'
  return variant === 'large' ? samplePrior(48, 24) : samplePrior();
}

function priorBytes(model: DeployModel, id: string): number {
  if (model !== 'viewport-prior') return 0;
  const { variant, data } = parseVariantId(id);
  const [c, r] = priorGridOf(variant, data);
  return JSON.stringify(samplePrior(c, r)).length;
}

/** Node-side loading of a variant from files (tfjs in Node has no file:// fetch). */
function fileLoader(modelsDir: string) {
  const modelsUrl = pathToFileURL(modelsDir + '/').href;
  const layers = { loadLayersModel: (url: string) => loadModel(dirname(fileURLToPath(url))) } as never;
  const fileFetch = (async (url: string) => {
    const p = fileURLToPath(url);
    return existsSync(p) ? new Response(readFileSync(p)) : new Response('', { status: 404 });
  }) as unknown as typeof fetch;
  return (model: DeployModel, variant: string) => loadVariant({ tf, layers, modelsUrl, model, variant, backend: 'js', fetch: fileFetch });
}

/**
 * The viewport models' accuracy: mean orthodromic error over the 25 steps on the dev split (leave-one-user-out
 * priors at each variant's grid), every variant on the same windows (history 25 handed, each keeps its own).
 */
export async function accuracyViewport(
  model: 'viewport' | 'viewport-prior',
  ids: string[],
  dataDir: string,
  load: ReturnType<typeof fileLoader>,
): Promise<AccuracyRow[]> {
  const dev = loadViewportDir(dataDir, (r) => r.split === 'dev');
  const grids = new Map<string, Map<ViewportTrace, AttentionPrior>>();
  const priorsAt = (c: number, r: number) => {
    const k = `${c}x${r}`;
    if (!grids.has(k)) grids.set(k, looPriors(dev, { cols: c, rows: r }));
    return grids.get(k)!;
  };
  const out: AccuracyRow[] = [];
  let full = NaN;
  for (const id of ids) {
    const v = await load(model, id);
    const vp = v.viewport!;
    const keep = v.history * 3;
    const { variant, data } = parseVariantId(id);
    const map = priorsAt(...priorGridOf(variant, data));
    const pred: ViewportPredictor = {
      name: `${model}/${id}`,
      historySamples: 25,
      predict: (hist, steps, ctx) => vp.predict((hist as Float64Array).subarray(hist.length - keep), steps, ctx),
    };
    const r = evaluate(pred, dev, { history: 25, beforeTrace: (t) => (vp.prior = vp.withPrior ? (map.get(t) ?? null) : null) });
    v.dispose();
    const err = r.errorDeg.reduce((a, b) => a + b, 0) / r.errorDeg.length;
    if (id === 'full') full = err;
    out.push({ model, variant: id, metric: 'dev mean error °', value: +err.toFixed(4), rel_accuracy: +(full / err).toFixed(4) });
  }
  return out;
}

/**
 * The deployment profile the worker's `deploy()` reads, from bench:deploy's rows: the worker's rows at 1× and the
 * page's at the throttled rates, the probe scale, and the full versions' dev scores (`full_accuracy`: the selector's
 * common accuracy scale across the models of one task).
 */
export function profileOf(
  command: string,
  workerMsPerMmac: number,
  throttles: number[],
  profileRows: BenchRow[],
  accuracy: AccuracyRow[],
): DeployProfile {
  return {
    command,
    // the rows are labelled by the nominal DevTools rate, so the probe scale is too: the worker's probe at 1× times the
    // rate (the page's own probe, a mean over rounds on the main thread, read 16× slower than the worker's at 1× in
    // a run on the saturated machine: too noisy to place devices by; deploy.json keeps it)
    probes: [1, ...throttles.filter((t) => t > 1)].map((t) => ({ throttle: t, msPerMmac: workerMsPerMmac * t })),
    rows: profileRows.map(({ where: _w, batch: _b, ...r }) => r),
    full_accuracy: Object.fromEntries(
      accuracy
        .filter((a) => a.variant === 'full')
        .map((a) => [a.model, { metric: a.metric, value: a.value, higher_is_better: isAbrModel(a.model) }]),
    ),
  };
}

/**
 * The selector's picks per latency budget × device class (1×, 4×, 20×): the viewport task with and without a prior
 * for the video (when the profile has both viewport models' rows), and the ABR task (`TASK_MODELS.abr`, when the
 * profile has its rows).
 */
export function selectorPicks(
  profile: DeployProfile,
  backends: Backend[],
  budgets: number[],
  floor: number,
): Array<Record<string, unknown>> {
  const picks: Array<Record<string, unknown>> = [];
  const has = (m: DeployModel) => profile.rows.some((r) => r.model === m);
  const devices = [
    ['desktop', 1],
    ['laptop', 4],
    ['phone', 20],
  ] as const;
  const pick = (
    task: 'viewport' | 'abr',
    budgetMs: number,
    device: string,
    factor: number,
    models: readonly DeployModel[],
    extra: Record<string, unknown>,
    label: string,
  ) => {
    const c = selectDeployment(
      task,
      { accuracyFloor: floor, latencyBudgetMs: budgetMs },
      { rows: profile.rows, factor, backends, models, fullAccuracy: profile.full_accuracy },
    );
    picks.push({
      task,
      budget_ms: budgetMs,
      device,
      factor,
      ...extra,
      model: c.model,
      variant: c.variant,
      backend: c.backend,
      rel_accuracy: c.rel_accuracy,
      p95_ms: +c.p95_ms.toFixed(4),
      feasible: c.feasibleCount,
      reason: c.reason,
    });
    console.log(
      `p95 ≤ ${String(budgetMs).padEnd(3)} ms  ${device.padEnd(8)} ${label.padEnd(8)}  → ${c.model}/${c.variant}@${c.backend}  (${c.feasibleCount} of ${c.candidates} feasible)`,
    );
  };
  if (has('viewport') && has('viewport-prior')) {
    console.log(`\nselector (viewport task, accuracy ≥ ${floor})`);
    for (const budgetMs of budgets)
      for (const [device, factor] of devices)
        for (const withPrior of [true, false])
          pick(
            'viewport',
            budgetMs,
            device,
            factor,
            withPrior ? ['viewport-prior', 'viewport'] : ['viewport'],
            { prior_available: withPrior },
            withPrior ? 'prior' : 'no prior',
          );
  }
  if (TASK_MODELS.abr.some(has)) {
    console.log(`\nselector (abr task: ${TASK_MODELS.abr.join(', ')}; accuracy ≥ ${floor})`);
    for (const budgetMs of budgets) for (const [device, factor] of devices) pick('abr', budgetMs, device, factor, TASK_MODELS.abr, {}, '');
  }
  return picks;
}

/**
 * The rows and dev scores of a run of `models` merged over an earlier run's (`prev`, null: none): the earlier rows of
 * the models profiled now are dropped, every other model's kept, in the earlier run's order, the new ones after them.
 */
export function mergeRuns(
  prev: Pick<DeployResults, 'rows' | 'accuracy'> | null,
  models: readonly DeployModel[],
  rows: BenchRow[],
  accuracy: AccuracyRow[],
): { rows: BenchRow[]; accuracy: AccuracyRow[] } {
  if (!prev) return { rows, accuracy };
  return {
    rows: [...prev.rows.filter((r) => !models.includes(r.model)), ...rows],
    accuracy: [...prev.accuracy.filter((a) => !models.includes(a.model)), ...accuracy],
  };
}

/** What an earlier bench:deploy run wrote to its results file (the parts a merge or a reselect reads). */
export type DeployResults = {
  command: string;
  at?: string;
  probes: Array<{ where: string; throttle: number; msPerMmac: number }>;
  rows: BenchRow[];
  accuracy: AccuracyRow[];
  backends_failed: Record<'worker' | 'page', Record<string, unknown>>;
} & Record<string, unknown>;

export async function benchDeploy(o: BenchDeployOptions = {}) {
  const modelsDir = resolve(o.modelsDir ?? 'models');
  const dataDir = resolve(o.data ?? join(dataRoot(), 'viewport'));
  const models = o.models ?? [...DEPLOY_MODELS];
  if (models.some((m) => m.startsWith('viewport')) && !existsSync(join(dataDir, 'index.csv')))
    throw new InputError(`viewport data not found: ${dataDir}/index.csv (set EDGEPLAY_DATA)`);
  if (!existsSync(join(modelsDir, 'variants', 'viewport', 'int8', 'model.json')))
    throw new InputError(`no variants under ${modelsDir}/variants: run npm run train:variants`);
  const backends = o.backends ?? ['js', 'cpu', 'wasm', 'webgl'];
  const throttles = o.throttles ?? [1, 4, 20];
  const calls = o.calls ?? 200;
  const command = o.command ?? 'npm run bench:deploy';
  const load = fileLoader(modelsDir);
  const bytesOf = (model: DeployModel, id: string) => {
    const dir = dirname(join(modelsDir, variantPath(model, parseVariantId(id).variant)));
    return (
      ['model.json', 'weights.bin'].reduce((a, f) => a + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0) +
      priorBytes(model, id)
    );
  };
  const out = o.out ?? 'bench/results/deploy.json';
  if (o.merge && !existsSync(out)) throw new InputError(`--merge: ${out} not found (run npm run bench:deploy whole first)`);
  const prev = o.merge ? (JSON.parse(readFileSync(out, 'utf8')) as DeployResults) : null;
  const t0 = Date.now();
  const load0 = loadavg()[0];

  // 1. accuracy on the dev benchmarks (Node)
  await tf.setBackend('cpu');
  const accuracy: AccuracyRow[] = [];
  for (const model of models) {
    const ids = idsOf(model, modelsDir, o.dataVariants);
    const rows =
      model === 'viewport' || model === 'viewport-prior'
        ? await accuracyViewport(model, ids, dataDir, load)
        : isAbrModel(model)
          ? await accuracyAbr(ids, load, undefined, model)
          : await accuracyProfile(ids, modelsDir, load);
    for (const r of rows)
      console.log(
        `accuracy ${r.model.padEnd(15)} ${r.variant.padEnd(24)} ${r.metric} ${r.value.toFixed(4)}  rel ${r.rel_accuracy.toFixed(3)}`,
      );
    accuracy.push(...rows);
  }
  const relOf = (model: DeployModel, id: string) => accuracy.find((a) => a.model === model && a.variant === id)?.rel_accuracy ?? NaN;

  // 2. latency in Chromium
  let browser = await startDeployBrowser({ modelsDir });
  const version = browser.version;
  let restarts = 0;
  // a crashed page (seen once on the saturated machine: 'Target page, context or browser has been closed') costs
  // one row: Chromium starts again and the bench goes on
  const timeRow = async (where: 'worker' | 'page', req: TimeRequest, th: number): Promise<number[]> => {
    try {
      return await browser.time(where, req, th);
    } catch (e) {
      if (!/has been closed|crashed/i.test(String(e)) || restarts >= 5) throw e;
      restarts++;
      console.log(`  Chromium went away (${String(e).split('\n')[0]}): starting it again`);
      await browser.close().catch(() => undefined);
      browser = await startDeployBrowser({ modelsDir });
      await browser.backends(backends);
      return browser.time(where, req, th);
    }
  };
  const rows: BenchRow[] = [];
  let loaded: { page: Record<string, string | null>; worker: Record<string, string | null> };
  const probes: Array<{ where: 'worker' | 'page'; throttle: number; msPerMmac: number }> = [];
  try {
    loaded = await browser.backends(backends);
    for (const where of ['worker', 'page'] as const)
      for (const b of backends) if (loaded[where][b]) console.log(`${b} does not load in the ${where}: ${loaded[where][b]}`);
    for (const th of [1, ...throttles.filter((t) => t > 1)]) {
      if (th === 1) probes.push({ where: 'worker', throttle: 1, msPerMmac: (await browser.probe('worker', 1, 50)).msPerMmac });
      probes.push({ where: 'page', throttle: th, msPerMmac: (await browser.probe('page', th, 50 * th)).msPerMmac });
    }
    console.log(
      `Chromium ${browser.version}; probes ${probes.map((p) => `${p.where}@${p.throttle}× ${p.msPerMmac.toFixed(3)}`).join(', ')} ms/Mmac`,
    );
    const heads = [['worker', 1] as const, ...throttles.map((t) => ['page', t] as const)];
    console.log(
      `${'model'.padEnd(15)} ${'variant'.padEnd(24)} ${'backend'.padEnd(7)} rel_acc  bytes    ` +
        heads.map(([w, t]) => `${w}@${t}× p50/p95`.padStart(20)).join(''),
    );
    for (const model of models)
      for (const id of idsOf(model, modelsDir, o.dataVariants)) {
        const bytes = bytesOf(model, id);
        const rel = relOf(model, id);
        for (const backend of backends) {
          const cells: string[] = [];
          let batch = 1;
          for (const [where, th] of heads) {
            if (loaded[where][backend]) {
              cells.push('—'.padStart(20));
              continue;
            }
            const req: TimeRequest = { model, variant: id, backend, n: calls, warmup: o.warmup ?? 30, prior: priorOf(model, id) };
            if (th > 1) Object.assign(req, { n: o.samples ?? (th >= 20 ? 20 : 30), warmup: 5 * batch, batch });
            let times: number[];
            try {
              times = await timeRow(where, req, th);
            } catch (e) {
              cells.push('error'.padStart(20));
              console.log(`  ${model}/${id}@${backend} ${where}@${th}×: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
              continue;
            }
            const row: BenchRow = {
              model,
              variant: id,
              backend,
              throttle: th,
              rel_accuracy: rel,
              p50_ms: +pct(times, 0.5).toFixed(4),
              p95_ms: +pct(times, 0.95).toFixed(4),
              bytes,
              where,
              batch: th > 1 ? batch : 1,
            };
            rows.push(row);
            // the batch of the throttled rows: ~2 ms of calls at the page's unthrottled speed
            if (where === 'page' && th === 1) batch = Math.max(1, Math.min(200, Math.ceil(2 / Math.max(1e-3, row.p50_ms))));
            cells.push(`${row.p50_ms.toFixed(3)}/${row.p95_ms.toFixed(3)}`.padStart(20));
          }
          console.log(
            `${model.padEnd(15)} ${id.padEnd(24)} ${backend.padEnd(7)} ${rel.toFixed(3).padStart(6)}  ${String(bytes).padStart(7)}  ${cells.join('')}`,
          );
        }
      }
  } finally {
    await browser.close();
  }

  // 3. the selector's picks per device class, from the profile the worker reads
  // with --merge, the earlier run's rows and dev scores of the models not profiled now, and its probes
  const { rows: allRows, accuracy: allAccuracy } = mergeRuns(prev, models, rows, accuracy);
  const prevWorkerProbe = prev ? (prev.probes.find((p) => p.where === 'worker' && p.throttle === 1) ?? prev.probes[0]) : null;
  const profileRows = allRows.filter((r) => (r.where === 'worker' && r.throttle === 1) || (r.where === 'page' && r.throttle > 1));
  const profile = profileOf(
    prev ? `${command} (merged into: ${prev.command})` : command,
    prevWorkerProbe?.msPerMmac ?? probes[0].msPerMmac,
    throttles,
    profileRows,
    allAccuracy,
  );
  const budgets = o.budgetsMs ?? [1, 5, 20];
  const floor = o.floor ?? 0.97;
  const picks = selectorPicks(profile, backends, budgets, floor);
  const load1 = loadavg()[0];
  const minutes = (Date.now() - t0) / 60000;
  console.log(`\n${minutes.toFixed(1)} min; load average (1 min) ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end`);
  mkdirSync(join(modelsDir, 'variants'), { recursive: true });
  writeFileSync(join(modelsDir, 'variants', 'profile.json'), JSON.stringify(profile, null, 1) + '\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        command,
        measured: `Chromium ${version} (headless, --disable-gpu): worker at throttle 1, page at ${throttles.join(', ')}× (DevTools Emulation.setCPUThrottlingRate)`,
        at: new Date(t0).toISOString(),
        minutes: +minutes.toFixed(1),
        loadavg: [+load0.toFixed(2), +load1.toFixed(2)],
        chromium_restarts: restarts,
        backends_failed: loaded!,
        budgets_ms: budgets,
        floor,
        probes,
        ...(prev
          ? {
              // the models this run did not profile keep the earlier run's rows, dev scores and (in profile.json) probes
              merged_from: {
                command: prev.command,
                at: prev.at,
                measured: prev.measured,
                probes: prev.probes,
                models: [...new Set(prev.rows.map((r) => r.model))].filter((m) => !models.includes(m)),
                ...(prev.merged_from ? { merged_from: prev.merged_from } : {}),
              },
              profiled_now: models,
            }
          : {}),
        accuracy: allAccuracy,
        rows: allRows,
        picks,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote ${out} and ${join(modelsDir, 'variants', 'profile.json')}`);
  return { rows: allRows, accuracy: allAccuracy, picks, probes };
}

/**
 * `npm run bench:deploy -- --reselect`: the selector's picks again on the rows and dev scores an earlier run wrote to
 * `out` (nothing re-measured): rewrites `picks` there (with `picks_command`) and models/variants/profile.json (with
 * `full_accuracy`). For a change of the selector, not of the models. @throws InputError when `out` is missing
 */
export function reselectDeploy(o: { modelsDir?: string; out?: string; budgetsMs?: number[]; floor?: number; command?: string }) {
  const out = o.out ?? 'bench/results/deploy.json';
  if (!existsSync(out)) throw new InputError(`${out} not found: run npm run bench:deploy first`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as DeployResults;
  const throttles = [...new Set(res.rows.map((r) => r.throttle))].sort((a, b) => a - b);
  const backends = [...new Set(res.rows.map((r) => r.backend))];
  const rows = res.rows.filter((r) => (r.where === 'worker' && r.throttle === 1) || (r.where === 'page' && r.throttle > 1));
  // a merged run's profile keeps the earlier run's probes (as benchDeploy writes it)
  const merged = res.merged_from as { command: string; probes: DeployResults['probes'] } | undefined;
  const probes = merged?.probes ?? res.probes;
  const worker = probes.find((p) => p.where === 'worker' && p.throttle === 1) ?? probes[0];
  const profile = profileOf(
    merged ? `${res.command} (merged into: ${merged.command})` : res.command,
    worker.msPerMmac,
    throttles,
    rows,
    res.accuracy,
  );
  const budgets = o.budgetsMs ?? (res.budgets_ms as number[] | undefined) ?? [1, 5, 20];
  const floor = o.floor ?? (res.floor as number | undefined) ?? 0.97;
  const picks = selectorPicks(profile, backends, budgets, floor);
  const modelsDir = resolve(o.modelsDir ?? 'models');
  writeFileSync(join(modelsDir, 'variants', 'profile.json'), JSON.stringify(profile, null, 1) + '\n');
  writeFileSync(
    out,
    JSON.stringify(
      { ...res, budgets_ms: budgets, floor, picks, picks_command: o.command ?? 'npm run bench:deploy -- --reselect' },
      null,
      1,
    ) + '\n',
  );
  console.log(`wrote picks to ${out} and ${join(modelsDir, 'variants', 'profile.json')} (rows of: ${res.command})`);
  return { picks, profile };
}
