/**
 * One compute slot of the task pool (task-pool.ts): a `worker_threads` thread that loads the viewport models once
 * (`viewportExecutor`, tasks.ts) and runs tasks, answering each with `{id, ok, model, points, ms}` (ms: the thread's
 * own time for the task) or `{id, ok: false, error}`. With `padMs` > 0 (benchmarks) each task holds the thread until
 * padMs have passed since it started (`Atomics.wait`: no CPU spent; its last `padSpinMs` in a busy loop on the clock,
 * which has no wake-up to miss), the stand-in for a heavier model.
 *
 * Two hand-offs (TaskPool `handoff`):
 * - 'message': tasks arrive as `{id, input}` messages, one message event per task, in arrival order;
 * - 'shared': the thread takes tasks itself from the pool's shared-memory queue (shared-queue.ts), sleeping in
 *   `Atomics.wait` while it is empty and running them back to back while it is not — no event-loop turn, message
 *   or timer between two tasks. The id of the task it runs is kept in `current[index]`, written before the task is
 *   taken (so that the pool can answer it if the thread dies at any point); the loop ends when the queue is closed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ViewportInput } from '../core/schemas/tasks.js';
import type { PriorJson } from '../viewport/prior.js';
import { SharedTaskQueue } from './shared-queue.js';
import { viewportExecutor, type ExecResult } from './tasks.js';

const { modelsDir, priors, padMs, padSpinMs, queue, current, index } = workerData as {
  modelsDir: string;
  priors: Record<string, PriorJson>;
  padMs: number;
  padSpinMs: number;
  /** 'shared' hand-off: the queue's buffer, the pool's per-thread running-task ids and this thread's index */
  queue?: SharedArrayBuffer;
  current?: SharedArrayBuffer;
  index?: number;
};
const port = parentPort!;
const cell = new Int32Array(new SharedArrayBuffer(4));

let run: (input: ViewportInput) => Promise<ExecResult> | ExecResult;
try {
  run = await viewportExecutor(modelsDir, new Map(Object.entries(priors)));
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
  throw e;
}

/** Run one task and answer it on the port. */
async function serve(id: number, input: () => ViewportInput): Promise<void> {
  const t0 = performance.now();
  try {
    const p = run(input());
    const r = p instanceof Promise ? await p : p;
    const left = padMs - padSpinMs - (performance.now() - t0);
    if (left > 0) Atomics.wait(cell, 0, 0, left);
    while (performance.now() - t0 < padMs); // the spun part (0 by default: nothing)
    port.postMessage({ id, ok: true, model: r.model, points: r.points, ms: performance.now() - t0 });
  } catch (e) {
    port.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}

if (queue) {
  const q = SharedTaskQueue.attach(queue);
  const cur = new Int32Array(current!);
  const text = new TextDecoder();
  port.postMessage({ ready: true });
  for (;;) {
    const t = q.take(Infinity, { cells: cur, index: index! }); // records the id in cur[index] before taking it
    if (!t) break; // closed
    await serve(t.id, () => JSON.parse(text.decode(t.bytes)) as ViewportInput);
    Atomics.store(cur, index!, 0);
  }
} else {
  port.on('message', (m: { id: number; input: ViewportInput }) => void serve(m.id, () => m.input));
  port.postMessage({ ready: true });
}
