/**
 * The run-time choice of variant, backend and placement for one task ("Joint Model Deployment and Data
 * Sampling", edge-intelligence-immersive-media.txt: from the profile of every model × data compression,
 * schedule each request to the version that meets its accuracy and latency requirement at the least cost).
 *
 * Inputs: the deployment profile (`ProfileRow`s of `npm run bench:deploy`), the device's speed as a throttle
 * factor (`speedFactor` of its probe), the backends that loaded here, the app's requirement for the task
 * (accuracy floor relative to the full model, latency budget at p95) and, when an edge offers the task, the
 * edge as one more placement. A candidate is feasible when its accuracy ≥ the floor and its predicted p95 ≤ the
 * budget; among the feasible ones the least cost wins, where cost is the device time the task takes over a
 * session: the download (bytes at the bandwidth) plus, per call, the compute (predicted p50) on the device or
 * the upload (bytes at the uplink) to the edge. Pure: no DOM, no Node.
 *
 * Accuracy is compared on one scale per task: a profile row's `rel_accuracy` is relative to its *own* model's full
 * version, so across the models of one task (viewport: with and without the prior) it is multiplied by that full
 * version's accuracy relative to the task's best eligible full model (`accuracyScale`, from the profile's
 * `full_accuracy`). The floor and the candidates' `rel_accuracy` are on that scale.
 */
import { TASK_MODELS, edgeOnly, parseVariantId, type Backend, type DeployModel, type FullAccuracy, type ProfileRow } from './catalog.js';

/** What the app asks of one task. */
export interface TaskRequirement {
  /** lowest acceptable accuracy relative to the task's best eligible full model (1 = its accuracy; default 0.95) */
  accuracyFloor?: number;
  /** latency budget per call, at the 95th percentile, ms */
  latencyBudgetMs: number;
  /** expected calls per session: amortises the download (default 1000, e.g. 5 Hz for 200 s) */
  callsPerSession?: number;
}

/** The edge as a placement for a task: what it runs and what a call costs (measured by the offload client). */
export interface EdgePlacement {
  /** the edge's model, as `model/variant` (e.g. 'viewport-prior/large') */
  variant: string;
  /** its accuracy relative to the task's best eligible full model on the device (the selector's common scale) */
  relAccuracy: number;
  /** expected time of one call: RTT + upload + the edge's quoted wait + its execution, ms */
  latencyMs: number;
  /** bytes sent per call */
  uploadBytes: number;
}

export interface SelectContext {
  /** the deployment profile */
  rows: ProfileRow[];
  /** the device's speed as a throttle factor (1 = the profiled machine; `speedFactor`) */
  factor: number;
  /** backends usable in this worker */
  backends: readonly Backend[];
  /** download bandwidth, bit/s (default 10 Mb/s) */
  bandwidthBps?: number;
  /** upload bandwidth, bit/s (default: a fifth of the download) */
  uplinkBps?: number;
  /**
   * the models eligible for this task, preferred first (e.g. no prior for this video: 'viewport' only); default
   * the task's models in `TASK_MODELS` (src/deploy/catalog.ts), or every model in rows for a task not listed there
   */
  models?: readonly DeployModel[];
  /**
   * each model's full version on the task's dev benchmark (`DeployProfile.full_accuracy`): puts the eligible models
   * on one scale. Without it for some of several eligible models, only the first eligible model that has rows competes
   */
  fullAccuracy?: Partial<Record<DeployModel, FullAccuracy>>;
  /** the edge offering this task, if any */
  edge?: EdgePlacement | null;
}

/** One evaluated candidate. */
export interface Candidate {
  placement: 'device' | 'edge';
  model: string;
  variant: string;
  backend: Backend | 'edge';
  /** accuracy relative to the task's best eligible full model (the profile row's `rel_accuracy` × `accuracyScale`) */
  rel_accuracy: number;
  p50_ms: number;
  p95_ms: number;
  bytes: number;
  cost_ms: number;
  feasible: boolean;
}

/** The choice for a task, with its reason (shown by `worker.api.deployment()` and sent to telemetry). */
export interface DeploymentChoice extends Candidate {
  task: string;
  /** the device's speed factor the prediction used */
  factor: number;
  /** candidates considered and how many met both the floor and the budget */
  candidates: number;
  feasibleCount: number;
  reason: string;
}

/**
 * A row's latency at speed `factor`: log–log interpolation between the profiled throttle rates (proportional
 * beyond the ends). @returns [p50, p95] ms, or null when the rows hold no measurement
 */
export function predictLatency(rows: ProfileRow[], factor: number): [number, number] | null {
  const pts = rows.filter((r) => r.p50_ms > 0 && r.p95_ms > 0).sort((a, b) => a.throttle - b.throttle);
  if (!pts.length) return null;
  const at = (key: 'p50_ms' | 'p95_ms') => {
    if (factor <= pts[0].throttle) return (pts[0][key] * factor) / pts[0].throttle;
    const last = pts[pts.length - 1];
    if (factor >= last.throttle) return (last[key] * factor) / last.throttle;
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1],
        b = pts[i];
      if (factor <= b.throttle) {
        const f = Math.log(factor / a.throttle) / Math.log(b.throttle / a.throttle);
        return Math.exp(Math.log(a[key]) + f * Math.log(b[key] / a[key]));
      }
    }
    return last[key];
  };
  return [at('p50_ms'), at('p95_ms')];
}

/**
 * Each model's full version relative to the best of `models` on their common dev benchmark: 1 for the best, < 1
 * for the others (error metrics: best / own; higher-is-better metrics: own / best). @returns null when some model
 * has no score, or the scores are not on one metric with one direction (no common scale)
 */
export function accuracyScale(
  models: readonly DeployModel[],
  full: Partial<Record<DeployModel, FullAccuracy>> | undefined,
): Map<DeployModel, number> | null {
  const scores = models.map((m) => full?.[m]);
  if (!scores.length || scores.some((s) => !s || !(s.value > 0) || !Number.isFinite(s.value))) return null;
  const s0 = scores[0]!;
  if (scores.some((s) => s!.metric !== s0.metric || s!.higher_is_better !== s0.higher_is_better)) return null;
  const best = s0.higher_is_better ? Math.max(...scores.map((s) => s!.value)) : Math.min(...scores.map((s) => s!.value));
  return new Map(models.map((m, i) => [m, s0.higher_is_better ? scores[i]!.value / best : best / scores[i]!.value]));
}

/**
 * Checks one task of a deployment request (the worker's `deploy()` runs it before any work): `task` one of
 * `TASK_MODELS`, `latencyBudgetMs` a number > 0, `accuracyFloor` (if given) a share in [0, 1], `models` (if given) a
 * non-empty array. Without it a missing budget chose "the fastest, nothing fits p95 ≤ undefined ms", a floor of 97
 * (a percentage) rejected every variant, and an unknown task chose among every model of the profile.
 * @throws TypeError for an unknown task, a missing budget or `models` that is no array; RangeError for a value out of range
 */
export function checkTaskRequirement(task: string, req: TaskRequirement & { models?: readonly string[] }): void {
  if (!Object.hasOwn(TASK_MODELS, task)) throw new TypeError(`deploy: unknown task "${task}" (${Object.keys(TASK_MODELS).join(', ')})`);
  const budget: unknown = req?.latencyBudgetMs;
  if (typeof budget !== 'number') throw new TypeError(`deploy: tasks.${task}.latencyBudgetMs (ms at p95) is required`);
  if (!(budget > 0 && budget < Infinity)) throw new RangeError(`deploy: tasks.${task}.latencyBudgetMs must be > 0 ms, got ${budget}`);
  const floor = req.accuracyFloor;
  if (floor !== undefined && !(floor >= 0 && floor <= 1))
    throw new RangeError(
      `deploy: tasks.${task}.accuracyFloor is a share of the best full model's accuracy in [0, 1] (0.97 = 97 %), got ${floor}`,
    );
  if (req.models !== undefined && (!Array.isArray(req.models) || !req.models.length))
    throw new TypeError(
      `deploy: tasks.${task}.models must be a non-empty array of model names (e.g. ${JSON.stringify([...TASK_MODELS[task as keyof typeof TASK_MODELS]])})`,
    );
}

/**
 * Choose the variant, backend and placement for `task`. Never throws for a lack of candidates: with no feasible
 * one it keeps the player going with the most accurate candidate within the latency budget, else the fastest
 * (placement 'device', reason saying so); with no rows at all it answers placement 'none'.
 */
export function selectDeployment(task: string, req: TaskRequirement, ctx: SelectContext): DeploymentChoice {
  const floor = req.accuracyFloor ?? 0.95;
  const calls = req.callsPerSession ?? 1000;
  const bw = ctx.bandwidthBps ?? 10e6;
  const up = ctx.uplinkBps ?? bw / 5;
  const eligible: readonly DeployModel[] =
    ctx.models ?? (task in TASK_MODELS ? TASK_MODELS[task as keyof typeof TASK_MODELS] : [...new Set(ctx.rows.map((r) => r.model))]);
  // one accuracy scale across the task's models (see the file's comment); without one, the first eligible model alone
  const present = eligible.filter((m) => ctx.rows.some((r) => r.model === m));
  const common = present.length > 1 ? accuracyScale(present, ctx.fullAccuracy) : null;
  const competing = present.length > 1 && !common ? present.slice(0, 1) : present;
  const scaleOf = (m: DeployModel) => common?.get(m) ?? 1;
  const groups = new Map<string, ProfileRow[]>();
  for (const r of ctx.rows) {
    if (!competing.includes(r.model)) continue;
    if (!ctx.backends.includes(r.backend)) continue;
    if (edgeOnly(r.model, parseVariantId(r.variant).variant)) continue;
    const k = `${r.model}|${r.variant}|${r.backend}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const cands: Candidate[] = [];
  for (const rows of groups.values()) {
    const lat = predictLatency(rows, ctx.factor);
    if (!lat) continue;
    const r = rows[0];
    const cost = (r.bytes * 8 * 1000) / bw + calls * lat[0];
    const acc = r.rel_accuracy * scaleOf(r.model);
    cands.push({
      placement: 'device',
      model: r.model,
      variant: r.variant,
      backend: r.backend,
      rel_accuracy: acc,
      p50_ms: lat[0],
      p95_ms: lat[1],
      bytes: r.bytes,
      cost_ms: cost,
      feasible: acc >= floor && lat[1] <= req.latencyBudgetMs,
    });
  }
  const e = ctx.edge;
  if (e) {
    const [model, variant] = e.variant.split('/');
    cands.push({
      placement: 'edge',
      model,
      variant: variant ?? 'large',
      backend: 'edge',
      rel_accuracy: e.relAccuracy,
      p50_ms: e.latencyMs,
      p95_ms: e.latencyMs,
      bytes: 0,
      cost_ms: (calls * e.uploadBytes * 8 * 1000) / up,
      feasible: e.relAccuracy >= floor && e.latencyMs <= req.latencyBudgetMs,
    });
  }
  const base = { task, factor: ctx.factor, candidates: cands.length, feasibleCount: cands.filter((c) => c.feasible).length };
  const scaleNote =
    present.length > 1 && !common
      ? ` [no common accuracy scale for ${present.join(', ')} (profile without full_accuracy): ${competing[0]} alone]`
      : '';
  const fmt = (c: Candidate) =>
    `${c.placement === 'edge' ? 'edge' : `${c.model}/${c.variant}@${c.backend}`} (accuracy ${c.rel_accuracy.toFixed(3)}, p95 ${c.p95_ms.toFixed(2)} ms, ${Math.round(c.bytes / 1024)} KiB, cost ${c.cost_ms.toFixed(0)} ms/session)`;
  // a model named in `models` that the profile does not have (a typo, or a model bench:deploy did not profile)
  const unprofiled = ctx.models && ctx.rows.length ? eligible.filter((m) => !ctx.rows.some((r) => r.model === m)) : [];
  if (!cands.length)
    return {
      ...base,
      placement: 'device',
      model: '',
      variant: '',
      backend: 'js',
      rel_accuracy: 0,
      p50_ms: NaN,
      p95_ms: NaN,
      bytes: 0,
      cost_ms: NaN,
      feasible: false,
      reason: unprofiled.length
        ? `the profile has no rows of ${unprofiled.join(', ')} (it profiles ${[...new Set(ctx.rows.map((r) => r.model))].join(', ')}): the model as loaded, unprofiled`
        : 'no profile for this task on the usable backends: the model as loaded, unprofiled',
    };
  const feasible = cands.filter((c) => c.feasible).sort((a, b) => a.cost_ms - b.cost_ms || b.rel_accuracy - a.rel_accuracy);
  if (feasible.length) {
    const c = feasible[0];
    const second = feasible[1];
    return {
      ...base,
      ...c,
      reason: `least cost of ${feasible.length} meeting accuracy ≥ ${floor} and p95 ≤ ${req.latencyBudgetMs} ms at speed ${ctx.factor.toFixed(2)}×: ${fmt(c)}${second ? `; next ${fmt(second)}` : ''}${scaleNote}`,
    };
  }
  const inBudget = cands
    .filter((c) => c.p95_ms <= req.latencyBudgetMs)
    .sort((a, b) => b.rel_accuracy - a.rel_accuracy || a.cost_ms - b.cost_ms);
  const c = inBudget[0] ?? [...cands].filter((x) => x.placement === 'device').sort((a, b) => a.p95_ms - b.p95_ms)[0] ?? cands[0];
  return {
    ...base,
    ...c,
    reason:
      (inBudget.length
        ? `nothing meets accuracy ≥ ${floor} within p95 ≤ ${req.latencyBudgetMs} ms at speed ${ctx.factor.toFixed(2)}×: the most accurate within the budget, ${fmt(c)}`
        : `nothing fits p95 ≤ ${req.latencyBudgetMs} ms at speed ${ctx.factor.toFixed(2)}×: the fastest, ${fmt(c)}`) + scaleNote,
  };
}
