/**
 * `npm run bench:deploy` (entry in cli/deploy.ts): the deployment profile of the viewport models' variants
 * (src/deploy/catalog.ts; "Joint Accuracy- and Latency-aware Model Deployment", edge-intelligence-immersive-media.txt)
 * and the variant the selector (src/deploy/select.ts) picks per device class.
 *
 * For viewport and viewport-prior, every model variant (full, int8, fp16, pruned, distilled; built by
 * `npm run train:variants`) × data variant (full, short-history, coarse-prior):
 *   rel_accuracy  the full model's mean orthodromic error over the 25 steps on the *dev* split (the data README's
 *                 protocol, as bench:viewport; priors leave-one-user-out) over the variant's: 1 = as accurate, < 1 worse
 *   p50_ms/p95_ms one task call (history → points + tiles) through the worker's own variant loader
 *                 (src/worker/variants.ts `loadVariant`) on each backend that runs in Node: 'js' (plain JS over the
 *                 weights), tfjs 'cpu' and 'wasm'; measured here, in Node, at throttle 1
 *   bytes         model.json + weights.bin (+ the prior of one video for prior models, as JSON)
 * Then `selectDeployment` per device class (speed factor 1 desktop, 4 laptop, 20 phone: DevTools' throttling
 * rates) for a latency budget and an accuracy floor: which variant and backend it picks and why.
 * Not measured here (said in BENCHMARKS.md): the ABR and profile variants' accuracy, Chromium's backends (webgl),
 * latency in the browser worker and under real CPU throttling — the rows at throttle 4 and 20 are not written; the
 * selector scales the throttle-1 rows by the device's measured speed.
 * Writes bench/results/deploy.json and models/variants/profile.json (the profile the worker's `deploy()` reads).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  dataVariantsOf,
  variantId,
  variantPath,
  VARIANTS_OF,
  type Backend,
  type DeployProfile,
  type ProfileRow,
} from '../src/deploy/catalog.js';
import { selectDeployment } from '../src/deploy/select.js';
import { probeSpeed } from '../src/deploy/speed.js';
import { dataRoot } from '../src/sim/abr/load.js';
import { loadViewportDir, type ViewportTrace } from '../src/sim/viewport/data.js';
import { evaluate, looPriors } from '../src/sim/viewport/protocol.js';
import { loadModel } from '../src/train/io.js';
import { InputError } from '../src/train/errors.js';
import type { ViewportPredictor } from '../src/viewport/predictors.js';
import type { AttentionPrior } from '../src/viewport/prior.js';
import { loadVariant, sampleInput, samplePrior } from '../src/worker/variants.js';

export interface BenchDeployOptions {
  modelsDir?: string;
  /** viewport data (default $EDGEPLAY_DATA/viewport) */
  data?: string;
  backends?: Backend[];
  /** timed calls per row (after 50 warm-up calls) */
  calls?: number;
  /** the selector's latency budgets per viewport call at p95, ms (one pick per budget and device class) */
  budgetsMs?: number[];
  /** the selector's accuracy floor relative to the full model */
  floor?: number;
  out?: string;
  command?: string;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

export async function benchDeploy(o: BenchDeployOptions = {}) {
  const modelsDir = resolve(o.modelsDir ?? 'models');
  const dataDir = resolve(o.data ?? join(dataRoot(), 'viewport'));
  if (!existsSync(join(dataDir, 'index.csv'))) throw new InputError(`viewport data not found: ${dataDir}/index.csv (set EDGEPLAY_DATA)`);
  if (!existsSync(join(modelsDir, 'variants', 'viewport', 'int8', 'model.json')))
    throw new InputError(`no variants under ${modelsDir}/variants: run npm run train:variants`);
  const backends = o.backends ?? ['js', 'cpu', 'wasm'];
  const calls = o.calls ?? 300;
  const modelsUrl = pathToFileURL(modelsDir + '/').href;
  // the worker's loader over files: model.json URLs → the directory's model (tfjs in Node has no file:// fetch)
  const layers = { loadLayersModel: (url: string) => loadModel(dirname(fileURLToPath(url))) } as never;
  const fileFetch = (async (url: string) => {
    const p = fileURLToPath(url);
    return existsSync(p) ? new Response(readFileSync(p)) : new Response('', { status: 404 });
  }) as unknown as typeof fetch;
  const bytesOf = (model: string, variant: string) => {
    const dir = dirname(join(modelsDir, variantPath(model as never, variant as never)));
    return ['model.json', 'weights.bin'].reduce((a, f) => a + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
  };

  const dev = loadViewportDir(dataDir, (r) => r.split === 'dev');
  const priors = looPriors(dev);
  const coarse = looPriors(dev, { cols: 12, rows: 6 });
  const priorBytes = JSON.stringify(samplePrior()).length;
  const rows: ProfileRow[] = [];
  const accuracy: Array<{ model: string; variant: string; error_deg: number; rel_accuracy: number }> = [];
  console.log(
    'model           variant                   error°  rel_acc   bytes   ' + backends.map((b) => `${b} p50/p95 ms`.padStart(18)).join(''),
  );
  for (const model of ['viewport', 'viewport-prior'] as const) {
    let fullErr = NaN;
    for (const mv of VARIANTS_OF[model]) {
      if (mv === 'large') continue; // the edge-only variant is not trained (MODEL.md)
      for (const dv of dataVariantsOf(model, mv)) {
        const id = variantId(mv, dv);
        // accuracy: the variant on the dev split (the 'js' forward pass; tfjs backends compute the same within 1e-5)
        await tf.setBackend('cpu');
        const v = await loadVariant({ tf, layers, modelsUrl, model, variant: id, backend: 'js', fetch: fileFetch });
        const vp = v.viewport!;
        const keep = v.history * 3;
        const map: Map<ViewportTrace, AttentionPrior> = dv === 'coarse-prior' ? coarse : priors;
        const pred: ViewportPredictor = {
          name: `${model}/${id}`,
          historySamples: 10,
          predict: (hist, steps, ctx) => vp.predict((hist as Float64Array).subarray(hist.length - keep), steps, ctx),
        };
        const r = evaluate(pred, dev, { history: 10, beforeTrace: (t) => (vp.prior = vp.withPrior ? (map.get(t) ?? null) : null) });
        v.dispose();
        const err = r.errorDeg.reduce((a, b) => a + b, 0) / r.errorDeg.length;
        if (id === 'full') fullErr = err;
        const rel = fullErr / err;
        accuracy.push({ model, variant: id, error_deg: +err.toFixed(4), rel_accuracy: +rel.toFixed(4) });
        const bytes = bytesOf(model, mv) + (model === 'viewport-prior' ? priorBytes : 0);
        const cells: string[] = [];
        for (const backend of backends) {
          if (backend !== 'js') await tf.setBackend(backend);
          await tf.ready();
          const lv = await loadVariant({ tf, layers, modelsUrl, model, variant: id, backend, fetch: fileFetch });
          lv.setPrior(model === 'viewport-prior' ? samplePrior() : null);
          const times: number[] = [];
          for (let i = 0; i < 50 + calls; i++) {
            const input = sampleInput(model, i);
            const t0 = performance.now();
            lv.run(input);
            if (i >= 50) times.push(performance.now() - t0);
          }
          lv.dispose();
          const row: ProfileRow = {
            model,
            variant: id,
            backend,
            throttle: 1,
            rel_accuracy: +rel.toFixed(4),
            p50_ms: +pct(times, 0.5).toFixed(4),
            p95_ms: +pct(times, 0.95).toFixed(4),
            bytes,
          };
          rows.push(row);
          cells.push(`${row.p50_ms.toFixed(3)}/${row.p95_ms.toFixed(3)}`.padStart(18));
        }
        console.log(
          `${model.padEnd(15)} ${id.padEnd(24)} ${err.toFixed(2).padStart(6)}  ${rel.toFixed(3).padStart(6)}  ${String(bytes).padStart(6)}   ${cells.join('')}`,
        );
      }
    }
  }
  // the reference machine's speed probe (the worker places a device against it)
  probeSpeed(20);
  const probe = probeSpeed(50);
  const budgets = o.budgetsMs ?? [1, 5, 20];
  const floor = o.floor ?? 0.97;
  const picks: Array<Record<string, unknown>> = [];
  console.log(`\nselector (viewport task, accuracy ≥ ${floor}; probe ${probe.msPerMmac.toFixed(4)} ms/Mmac here)`);
  for (const budgetMs of budgets)
    for (const [device, factor] of [
      ['desktop', 1],
      ['laptop', 4],
      ['phone', 20],
    ] as const) {
      for (const withPrior of [true, false]) {
        const c = selectDeployment(
          'viewport',
          { accuracyFloor: floor, latencyBudgetMs: budgetMs },
          { rows, factor, backends, models: withPrior ? ['viewport-prior', 'viewport'] : ['viewport'] },
        );
        picks.push({
          budget_ms: budgetMs,
          device,
          factor,
          prior_available: withPrior,
          model: c.model,
          variant: c.variant,
          backend: c.backend,
          rel_accuracy: c.rel_accuracy,
          p95_ms: +c.p95_ms.toFixed(4),
          feasible: c.feasibleCount,
          reason: c.reason,
        });
        console.log(
          `p95 ≤ ${String(budgetMs).padEnd(3)} ms  ${device.padEnd(8)} ${withPrior ? 'prior   ' : 'no prior'}  → ${c.model}/${c.variant}@${c.backend}  (${c.feasibleCount} of ${c.candidates} feasible)`,
        );
      }
    }
  const profile: DeployProfile = {
    command: o.command ?? 'npm run bench:deploy',
    probes: [{ throttle: 1, msPerMmac: probe.msPerMmac }],
    rows,
  };
  mkdirSync(join(modelsDir, 'variants'), { recursive: true });
  writeFileSync(join(modelsDir, 'variants', 'profile.json'), JSON.stringify(profile, null, 1) + '\n');
  const out = o.out ?? 'bench/results/deploy.json';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        command: o.command ?? 'npm run bench:deploy',
        measured: 'node (not Chromium), throttle 1',
        budgets_ms: budgets,
        floor,
        probes: profile.probes,
        accuracy,
        rows,
        picks,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`\nwrote ${out} and ${join(modelsDir, 'variants', 'profile.json')}`);
  return { rows, accuracy, picks };
}
