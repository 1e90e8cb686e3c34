/**
 * The shared-memory task queue between the task service and its compute threads (src/server/shared-queue.ts) and
 * the task pool's 'shared' hand-off over it: FIFO order, a full ring refuses without losing anything, no task
 * taken twice or lost with two consuming threads, a sleeping consumer wakes on a push and on close — all by counts
 * and events, never by sleeps — and the pool runs the real model through it, answering a task whose thread dies.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { parseCommandLine } from '../../src/server/main.js';
import { SharedTaskQueue } from '../../src/server/shared-queue.js';
import { TaskPool } from '../../src/server/task-pool.js';
import { TaskService, viewportExecutor } from '../../src/server/tasks.js';
import { fromYawPitch } from '../../src/viewport/geometry.js';
import type { ViewportInput } from '../../src/core/schemas/tasks.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const tick = () => new Promise((r) => setImmediate(r));

/**
 * A consumer thread: takes tasks until the queue is closed, checks each payload names its id, counts each id in
 * `seen` and posts `{ids}` (in the order taken) when done; with `report`, posts every id as it takes it.
 */
function consumer(queue: SharedTaskQueue, seen: Int32Array, report = false): Worker {
  const url = new URL('../../src/server/shared-queue.ts', import.meta.url).href;
  const src = `
    const { workerData, parentPort } = require('node:worker_threads');
    import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url)}); }).then(({ SharedTaskQueue }) => {
      const q = SharedTaskQueue.attach(workerData.queue);
      const seen = new Int32Array(workerData.seen);
      const ids = [];
      for (;;) {
        const t = q.take();
        if (!t) break;
        if (new TextDecoder().decode(t.bytes) !== 'task ' + t.id) throw new Error('payload of ' + t.id + ' is wrong');
        Atomics.add(seen, t.id, 1);
        ids.push(t.id);
        if (workerData.report) parentPort.postMessage({ took: t.id });
      }
      parentPort.postMessage({ ids });
    });`;
  return new Worker(src, { eval: true, workerData: { queue: queue.buffer, seen: seen.buffer, report } });
}

/** Resolves with the `{ids}` a consumer posts when its loop ends; rejects if the thread fails first. */
const finished = (w: Worker) =>
  new Promise<number[]>((resolve, reject) => {
    w.on('message', (m: { ids?: number[] }) => m.ids && resolve(m.ids));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`consumer exited (${code}) before reporting`)));
  });

describe('the shared-memory task queue', () => {
  it('is FIFO, refuses a push when full (nothing written) or too large, and wraps around', () => {
    const q = new SharedTaskQueue({ cells: 3, cellBytes: 16 }); // rounded up to 4 cells
    expect(q.cells).toBe(4);
    expect(q.tryTake()).toBeNull();
    let next = 1,
      expectNext = 1;
    // 1000 rounds of pushing up to the ring's size and taking some back: ids come out in order, none lost
    for (let round = 0; round < 1000; round++) {
      while (q.push(next, enc(`t${next}`))) next++;
      expect(q.length).toBe(4);
      const k = 1 + (round % 4);
      for (let i = 0; i < k; i++) {
        const t = q.tryTake()!;
        expect(t.id).toBe(expectNext);
        expect(dec(t.bytes)).toBe(`t${expectNext}`);
        expectNext++;
      }
    }
    expect(() => q.push(999999, new Uint8Array(17))).toThrowError(RangeError, /17 bytes/);
    expect(q.length).toBe(next - expectNext);
    // a view over the same memory (as a thread attaches it) sees the same tasks
    const view = SharedTaskQueue.attach(q.buffer);
    expect(q.push(next, enc(`t${next}`))).toBeTrue();
    expect(view.length).toBe(1);
    // the consumer's claim names the task it took (the pool answers it from there if the thread dies)
    const claim = { cells: new Int32Array(2), index: 1 };
    expect(view.tryTake(claim)!.id).toBe(next);
    expect(claim.cells[1]).toBe(next);
    expect(view.tryTake(claim)).toBeNull(); // nothing to take: the claim is not touched
    expect(claim.cells[1]).toBe(next);
    q.close();
    expect(view.take()).toBeNull(); // closed: no sleeping
    expect(() => q.push(1, enc('x'))).toThrowError(/closed/);
  });

  it('two consuming threads: every task taken exactly once, each thread in FIFO order, a full ring loses nothing', async () => {
    const N = 5000;
    const q = new SharedTaskQueue({ cells: 8, cellBytes: 32 });
    const seen = new Int32Array(new SharedArrayBuffer(4 * (N + 1)));
    const ws = [consumer(q, seen), consumer(q, seen)];
    const done = ws.map(finished);
    let full = 0;
    for (let id = 1; id <= N; id++)
      while (!q.push(id, enc(`task ${id}`))) {
        full++;
        await tick(); // the ring is full: let the threads take (nothing was written)
      }
    // closing with tasks still queued would leave them unread: wait until the ring is empty
    while (q.length) await tick();
    q.close();
    const [a, b] = await Promise.all(done);
    expect(a.length + b.length).toBe(N);
    for (let id = 1; id <= N; id++) if (seen[id] !== 1) fail(`task ${id} was taken ${seen[id]} times`);
    for (const ids of [a, b]) expect(ids.every((x, i) => i === 0 || x > ids[i - 1])).toBeTrue();
    expect(full).toBeGreaterThan(0); // the producer outran the threads at least once: the full path was exercised
  });

  it('a sleeping consumer wakes on a push and on close', async () => {
    const q = new SharedTaskQueue({ cells: 2, cellBytes: 32 });
    const seen = new Int32Array(new SharedArrayBuffer(4 * 8));
    const w = consumer(q, seen, true);
    const took: number[] = [];
    let wake: (() => void) | null = null;
    w.on('message', (m: { took?: number }) => {
      if (m.took) took.push(m.took);
      wake?.();
    });
    const done = finished(w);
    for (let id = 1; id <= 5; id++) {
      while (q.sleepers !== 1) await tick(); // the thread is in Atomics.wait (take with no timeout)
      const before = took.length;
      const got = new Promise<void>((r) => (wake = r));
      expect(q.push(id, enc(`task ${id}`))).toBeTrue();
      await got; // it woke and took the task: a lost wake-up would hang here (the spec's timeout fails it)
      expect(took.length).toBe(before + 1);
      expect(took[took.length - 1]).toBe(id);
    }
    while (q.sleepers !== 1) await tick();
    q.close();
    expect(await done).toEqual([1, 2, 3, 4, 5]);
  }, 30000);
});

function input(n = 10, t = 12): ViewportInput {
  const hist: number[] = [];
  for (let i = 0; i < n; i++) hist.push(...fromYawPitch(10 + 3 * i, 5));
  return { hist, t };
}

describe("the task pool's shared-memory hand-off", () => {
  it('runs tasks on both threads with the real model, in parallel, and one queued task goes to the thread that frees first', async () => {
    if (!existsSync('models/viewport/model.json')) pending('models/viewport not found');
    const pool = await new TaskPool({ size: 2, modelsDir: 'models', padMs: 200, lookahead: 1, handoff: 'shared' }).ready();
    try {
      const want = (await (await viewportExecutor('models'))(input())).points;
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: 4 }, () => pool.run(input()).then((r) => ({ ...r, at: performance.now() - t0 }))));
      for (const r of rs) {
        expect(r.model).toBe('viewport');
        expect(r.points).toEqual(want);
        expect(r.threadMs!).toBeGreaterThanOrEqual(199); // the thread's own time, without the wait in the queue
      }
      // 4 tasks × 200 ms on 2 threads: two rounds, so the last ends after 400 ms but well before 800 (serial)
      const last = Math.max(...rs.map((r) => r.at));
      expect(last).toBeGreaterThanOrEqual(399);
      expect(last).toBeLessThan(790);
      // a bad input is an error from the thread, not a dead pool
      await expectAsync(pool.run({ hist: [1, 0], t: 1 })).toBeRejectedWithError(/whole/);
      expect((await pool.run(input())).points).toEqual(want);
      expect(pool.held).toBe(0);
    } finally {
      await pool.close();
    }
    await expectAsync(pool.run(input())).toBeRejectedWithError(/closed/);
  });

  it('holds at most size × (1 + lookahead) tasks, and a thread that dies answers its task; queued ones still run', async () => {
    if (!existsSync('models/viewport/model.json')) pending('models/viewport not found');
    const pool = await new TaskPool({ size: 1, modelsDir: 'models', padMs: 300, lookahead: 1, handoff: 'shared' }).ready();
    try {
      const settled: string[] = [];
      const track = (name: string, p: Promise<unknown>) =>
        p.then(
          () => settled.push(`${name} ok`),
          (e: Error) => settled.push(`${name} ${e.message}`),
        );
      const a = track('a', pool.run(input()));
      const b = track('b', pool.run(input()));
      const c = track('c', pool.run(input()));
      expect(pool.held).toBe(2); // one running or queued, one queued; the third waits in the pool
      // kill the thread while it runs a task (the pool's internals: a test-only reach)
      const slots = (pool as unknown as { slots: Array<{ worker: Worker }> }).slots;
      const running = (pool as unknown as { current: Int32Array }).current;
      while (!Atomics.load(running, 0)) await tick(); // the thread has taken a task
      await slots[0].worker.terminate();
      await Promise.all([a, b, c]);
      expect(settled.filter((s) => s.endsWith('exited')).length).toBe(1);
      expect(settled.filter((s) => s.endsWith('ok')).length).toBe(2); // the replacement thread ran the other two
      expect(pool.held).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('serves the task service with an on-deck place: every task done, each reporting its thread time and its wait', async () => {
    if (!existsSync('models/viewport/model.json')) pending('models/viewport not found');
    const pool = await new TaskPool({ size: 1, modelsDir: 'models', padMs: 100, lookahead: 1, handoff: 'shared' }).ready();
    const service = new TaskService({ slots: 1, lookahead: 1, executors: { viewport: pool.executor() } });
    try {
      const outs = await Promise.all([0, 1, 2].map(() => service.run('viewport', input(), 60000)));
      expect(outs.map((o) => o.status)).toEqual(['done', 'done', 'done']);
      const done = outs.map((o) => (o.status === 'done' ? o : null)!);
      for (const o of done) expect(o.exec_ms).toBeGreaterThanOrEqual(99); // the thread's own time (the 100 ms pad)
      // one slot: the second waited for the first, the third for both (lower bounds: a busy machine only adds)
      expect(done[1].queue_ms).toBeGreaterThanOrEqual(95);
      expect(done[2].queue_ms).toBeGreaterThanOrEqual(190);
      expect(service.stats).toEqual({ done: 3, refused: 0, failed: 0 });
    } finally {
      service.close();
      await pool.close();
    }
  });

  it("is the server's default, and the command line says what is wrong with another name", () => {
    expect(parseCommandLine([]).taskHandoff).toBe('shared');
    expect(parseCommandLine(['--task-handoff', 'message']).taskHandoff).toBe('message');
    expect(() => parseCommandLine(['--task-handoff', 'pipe'])).toThrowError(/--task-handoff must be one of message, shared \(got 'pipe'\)/);
  });
});
