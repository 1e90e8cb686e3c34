/**
 * One compute slot of the task pool (task-pool.ts): a `worker_threads` thread that loads the viewport models once
 * (`viewportExecutor`, tasks.ts) and answers `{id, input}` messages with `{id, ok, model, points, ms}` (ms: the
 * thread's own time for the task) or `{id, ok: false, error}`, one message at a time in arrival order. With `padMs` > 0 (benchmarks) each task holds the thread until padMs have passed since
 * it started (`Atomics.wait`: no CPU spent), the stand-in for a heavier model.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ViewportInput } from '../core/schemas/tasks.js';
import type { PriorJson } from '../viewport/prior.js';
import { viewportExecutor } from './tasks.js';

const { modelsDir, priors, padMs } = workerData as { modelsDir: string; priors: Record<string, PriorJson>; padMs: number };
const port = parentPort!;
const cell = new Int32Array(new SharedArrayBuffer(4));

try {
  const run = await viewportExecutor(modelsDir, new Map(Object.entries(priors)));
  port.on('message', async (m: { id: number; input: ViewportInput }) => {
    const t0 = performance.now();
    try {
      const r = await run(m.input);
      const left = padMs - (performance.now() - t0);
      if (left > 0) Atomics.wait(cell, 0, 0, left);
      port.postMessage({ id: m.id, ok: true, model: r.model, points: r.points, ms: performance.now() - t0 });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
