/**
 * The page of `npm run bench:deploy` in Chromium (bundled by bench/deploy-browser.ts with esbuild; never shipped).
 * It starts the SDK's worker (src/worker/worker.ts, the same source as dist/edgeplay.worker.js) and exposes
 * `window.deployBench`:
 *   worker(o)  times one variant on one backend **in the worker** (`WorkerApi.timeVariant`): per-call ms
 *   page(o)    times the same variant with the same loader (src/worker/variants.ts `loadVariant`) and the same
 *              inputs (`sampleInput`) on this page's main thread — the thread DevTools' `Emulation.setCPUThrottlingRate`
 *              slows down (a worker target refuses it: "Operation is only supported for pages, not workers")
 *   probe(…)   the device speed probe (src/deploy/speed.ts) on the page or in the worker
 * tfjs' wasm and webgl backends come from tfjs' own packages, their files served under /tfjs/.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as layers from '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';
import type { Backend, DeployModel } from '../src/deploy/catalog.js';
import { probeSpeed, type SpeedProbe } from '../src/deploy/speed.js';
import type { PriorJson } from '../src/viewport/prior.js';
import { startWorker } from '../src/worker/client.js';
import { loadVariant, sampleInput } from '../src/worker/variants.js';

/** One timing request: `n` timed calls after `warmup` of `variant` (a `variantId`) on `backend`. */
export interface TimeRequest {
  model: DeployModel;
  variant: string;
  backend: Backend;
  n: number;
  warmup: number;
  prior: PriorJson | null;
  /**
   * page only: calls per sample (default 1): a sample is the mean of `batch` consecutive calls. DevTools throttles a
   * page by suspending its thread for slices of several ms, so a sub-millisecond call is either untouched or hit by
   * a whole slice; a batch spanning a few slices measures the slowed-down CPU.
   */
  batch?: number;
}

/** What the bench drives through `page.evaluate`. */
export interface DeployBenchPage {
  /** load the backends on the page and in the worker: per backend, null when it loaded, else the error */
  backends(list: Backend[]): Promise<{ page: Record<string, string | null>; worker: Record<string, string | null> }>;
  worker(o: TimeRequest): Promise<number[]>;
  page(o: TimeRequest): Promise<number[]>;
  /**
   * The speed probe (src/deploy/speed.ts) after a warm-up: in the worker as the SDK runs it (the median round); on the
   * page the mean over its rounds (`msPerMmac` = the wall time over the multiply-adds: a throttled page's median
   * round often escapes DevTools' suspensions).
   */
  probe(where: 'page' | 'worker', budgetMs: number): Promise<SpeedProbe>;
}

setWasmPaths(new URL('/tfjs/', location.href).href);
/** million multiply-adds per probe round (src/deploy/speed.ts: 64 × 64 × 64) */
const ROUND_MMAC = (64 * 64 * 64) / 1e6;
const w = startWorker(new URL('/worker.js', location.href));
const MODELS = new URL('/models/', location.href).href;
const TFJS = new URL('/tfjs/', location.href).href;

async function pageBackend(b: Backend): Promise<void> {
  if (b === 'js') return;
  if (tf.getBackend() !== b && !(await tf.setBackend(b))) throw new Error(`tfjs could not initialise the ${b} backend`);
  await tf.ready();
}

const bench: DeployBenchPage = {
  async backends(list) {
    const page: Record<string, string | null> = {};
    for (const b of list) {
      try {
        await pageBackend(b);
        page[b] = null;
      } catch (e) {
        page[b] = e instanceof Error ? e.message : String(e);
      }
    }
    const st = await w.api.loadBackends({ backends: list, backendsUrl: TFJS });
    const worker = Object.fromEntries(st.map((s) => [s.backend, s.ok ? null : (s.error ?? 'failed')]));
    return { page, worker };
  },
  worker: (o) => w.api.timeVariant({ ...o, modelsUrl: MODELS, backendsUrl: TFJS }),
  async page(o) {
    await pageBackend(o.backend);
    const v = await loadVariant({
      tf: tf as never,
      layers: layers as never,
      modelsUrl: MODELS,
      model: o.model,
      variant: o.variant,
      backend: o.backend,
    });
    try {
      v.setPrior(o.prior);
      const B = Math.max(1, o.batch ?? 1);
      const inputs = Array.from({ length: 8 }, (_, i) => sampleInput(o.model, i));
      for (let i = 0; i < o.warmup; i++) v.run(inputs[i & 7]);
      const times: number[] = [];
      for (let s = 0; s < o.n; s++) {
        const t0 = performance.now();
        for (let k = 0; k < B; k++) v.run(inputs[(s * B + k) & 7]);
        times.push((performance.now() - t0) / B);
      }
      return times;
    } finally {
      v.dispose();
    }
  },
  async probe(where, budgetMs) {
    if (where === 'worker') {
      await w.api.measureSpeed(5);
      return w.api.measureSpeed(budgetMs);
    }
    probeSpeed(5);
    const p = probeSpeed(budgetMs);
    return { ...p, msPerMmac: p.tookMs / ((p.rounds + 1) * ROUND_MMAC) };
  },
};

(globalThis as unknown as { deployBench: DeployBenchPage }).deployBench = bench;
document.title = 'deploy-bench ready';
