/**
 * The edge's compute slots as a pool of `worker_threads` (issue 13, IELB §4.2: sellers are compute slots): one
 * thread per slot, each holding its own copy of the viewport models (the plain-JS forward pass, `viewportExecutor`),
 * so tasks run in parallel and the HTTP event loop never computes. The task service (tasks.ts) starts a task only
 * when it has a free slot, so every call finds an idle thread; a call beyond `size` waits for one (never lost) —
 * or, with `lookahead`, is posted at once to the thread that frees first and runs there as soon as it is free.
 *
 * Two hand-offs (`handoff`): 'message' (the default) posts each task to the thread chosen for it (an idle one, or
 * with `lookahead` the one expected to free first); 'shared' pushes it into one shared-memory queue
 * (shared-queue.ts) that every thread takes from itself, sleeping in `Atomics.wait` while it is empty — the thread
 * that frees first takes the oldest task at once, with no message, timer or event-loop turn on either side, and
 * runs queued tasks back to back. Answers come back as messages in both.
 *
 * `padMs` (benchmarks only) holds each task on its thread until that many ms have passed since it started, with
 * `Atomics.wait` (a precise sleep that costs no CPU): the stand-in for a heavier model, so that a slot's service
 * time, and with it the capacity, is known. A thread that dies is replaced; its task is answered with an error
 * (the task service then refuses it and the device runs it).
 */
import { Worker } from 'node:worker_threads';
import type { ViewportInput } from '../core/schemas/tasks.js';
import type { PriorJson } from '../viewport/prior.js';
import { SharedTaskQueue } from './shared-queue.js';
import type { Executor } from './tasks.js';

/** How a task reaches its thread: a message to one thread, or a shared-memory queue every thread takes from. */
export type TaskHandoff = 'message' | 'shared';
export const TASK_HANDOFFS: readonly TaskHandoff[] = ['message', 'shared'];

export interface TaskPoolOptions {
  /** threads (= the task service's slots; default 2) */
  size?: number;
  /** the models directory (models/viewport, models/viewport-prior) */
  modelsDir: string;
  /** attention priors by video id, for the prior model */
  priors?: Record<string, PriorJson>;
  /** benchmarks: the least time a task holds its thread, ms (default 0: as long as the model takes) */
  padMs?: number;
  /**
   * benchmarks: the last ms of the pad spent computing (a busy loop on the clock) instead of asleep (default 0): a
   * sleeping thread wakes late on a loaded machine (10 ms took 10.4–10.8), a computing model has no wake-up to miss
   */
  padSpinMs?: number;
  /**
   * tasks a thread may hold beyond the one it runs (default 0): with 1, a task the service starts while every
   * thread is busy is posted at once to the thread that frees first, which starts it as soon as it is done (the
   * task service's `lookahead`); its thread-reported time excludes that wait. With the 'shared' hand-off the
   * pool holds up to size × (1 + lookahead) tasks in all, queued ones taken by whichever thread frees first
   */
  lookahead?: number;
  /** how tasks reach the threads (default 'message'; see the module's comment) */
  handoff?: TaskHandoff;
  /** 'shared': the largest task input as UTF-8 JSON, bytes (default 16 KiB; a larger one is answered with an error) */
  inputBytes?: number;
}

/** What a thread answers for one task. */
interface Reply {
  id: number;
  ok: boolean;
  model?: string;
  points?: number[];
  /** the thread's own time for the task, ms */
  ms?: number;
  error?: string;
}

type Result = { model: string; points: number[]; threadMs?: number };

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** tasks posted to the thread, in the order it runs them */
  busy: Array<{ id: number; at: number; resolve(r: Result): void; reject(e: Error): void }>;
}

/** A pool of model threads behind the `Executor` interface of the task service. */
export class TaskPool {
  readonly size: number;
  private slots: Slot[] = [];
  private queue: Array<{ input: ViewportInput; resolve(r: Result): void; reject(e: Error): void }> = [];
  private readonly depth: number;
  private seq = 0;
  private closed = false;
  readonly handoff: TaskHandoff;
  /** 'shared': the queue, the tasks pushed and not yet answered, those waiting for room, the running ids per thread */
  private shared: SharedTaskQueue | null = null;
  private inflight = new Map<number, { resolve(r: Result): void; reject(e: Error): void }>();
  private backlog: Array<{ id: number; bytes: Uint8Array }> = [];
  private current: Int32Array | null = null;
  private readonly text = new TextEncoder();

  /** @throws RangeError for a size < 1, a negative pad, spin or lookahead, an unknown hand-off */
  constructor(private o: TaskPoolOptions) {
    this.size = o.size ?? 2;
    if (!(Number.isInteger(this.size) && this.size >= 1)) throw new RangeError(`size must be an integer ≥ 1, got ${this.size}`);
    if (!((o.padMs ?? 0) >= 0)) throw new RangeError(`padMs must be ≥ 0, got ${o.padMs}`);
    if (!((o.padSpinMs ?? 0) >= 0)) throw new RangeError(`padSpinMs must be ≥ 0, got ${o.padSpinMs}`);
    this.depth = 1 + (o.lookahead ?? 0);
    if (!(Number.isInteger(this.depth) && this.depth >= 1)) throw new RangeError(`lookahead must be an integer ≥ 0, got ${o.lookahead}`);
    this.handoff = o.handoff ?? 'message';
    if (!TASK_HANDOFFS.includes(this.handoff)) throw new RangeError(`handoff must be one of ${TASK_HANDOFFS.join(', ')}, got ${o.handoff}`);
    if (this.handoff === 'shared') {
      this.shared = new SharedTaskQueue({ cells: this.size * this.depth, cellBytes: o.inputBytes ?? 16 * 1024 });
      this.current = new Int32Array(new SharedArrayBuffer(4 * this.size));
    }
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn(i));
  }

  /** Tasks the threads hold now (running or on deck; 'shared': pushed into the queue and not yet answered). */
  get held(): number {
    if (this.shared) return this.inflight.size - this.backlog.length;
    return this.slots.reduce((a, s) => a + s.busy.length, 0);
  }

  /** Resolves once every thread has loaded its models. @throws Error when a thread cannot load them */
  async ready(): Promise<this> {
    await Promise.all(this.slots.map((s) => s.ready));
    return this;
  }

  private spawn(index: number): Slot {
    // the worker is TypeScript under tsx (Node 20 does not carry tsx's loader into threads: a bootstrap registers
    // it there first), JavaScript once compiled
    const workerData = {
      modelsDir: this.o.modelsDir,
      priors: this.o.priors ?? {},
      padMs: this.o.padMs ?? 0,
      padSpinMs: this.o.padSpinMs ?? 0,
      ...(this.shared ? { queue: this.shared.buffer, current: this.current!.buffer, index } : {}),
    };
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(`./task-worker${ts ? '.ts' : '.js'}`, import.meta.url);
    const worker = ts
      ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, {
          eval: true,
          workerData,
        })
      : new Worker(url, { workerData });
    worker.unref(); // the threads never keep a process alive by themselves
    const slot: Slot = { worker, ready: Promise.resolve(), busy: [] };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready?: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new Error(m.error ?? 'thread failed')),
      );
      worker.once('error', reject);
    });
    slot.ready.catch(() => {}); // observed by ready(); a late failure is handled below
    worker.on('message', (m: Reply | { ready: boolean }) => {
      if (this.shared) {
        if ('id' in m) this.answered(m);
        return;
      }
      if (!('id' in m) || !slot.busy.length || slot.busy[0].id !== m.id) return;
      const b = slot.busy.shift()!;
      if (m.ok) b.resolve({ model: m.model!, points: m.points!, threadMs: m.ms });
      else b.reject(new Error(m.error ?? 'the model failed'));
      this.pump();
    });
    worker.on('exit', () => {
      for (const b of slot.busy.splice(0)) b.reject(new Error('the model thread exited'));
      if (this.shared) {
        // the task it was running (tasks still queued stay for the other threads)
        const id = Atomics.exchange(this.current!, index, 0);
        if (id) this.answered({ id, ok: false, error: 'the model thread exited' });
      }
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn(index);
      this.pump();
    });
    worker.on('error', () => {}); // 'exit' follows and replaces it
    return slot;
  }

  /** 'shared': settle an answered task and move waiting ones into the queue. */
  private answered(m: Reply): void {
    const t = this.inflight.get(m.id);
    if (!t) return;
    this.inflight.delete(m.id);
    if (m.ok) t.resolve({ model: m.model!, points: m.points!, threadMs: m.ms });
    else t.reject(new Error(m.error ?? 'the model failed'));
    this.pumpShared();
  }

  private pumpShared(): void {
    while (
      this.backlog.length &&
      !this.closed &&
      this.held < this.size * this.depth &&
      this.shared!.push(this.backlog[0].id, this.backlog[0].bytes)
    )
      this.backlog.shift();
  }

  private pump(): void {
    while (this.queue.length) {
      // the thread holding the fewest tasks (an idle one first), within the depth; among busy ones, the one whose
      // running task was posted first (it frees first)
      let slot: Slot | null = null;
      for (const s of this.slots) {
        if (s.busy.length >= this.depth) continue;
        if (!slot || s.busy.length < slot.busy.length) slot = s;
        else if (s.busy.length && s.busy.length === slot.busy.length && s.busy[0].at < slot.busy[0].at) slot = s;
      }
      if (!slot) return;
      const q = this.queue.shift()!;
      const id = ++this.seq;
      slot.busy.push({ id, at: performance.now(), resolve: q.resolve, reject: q.reject });
      slot.worker.postMessage({ id, input: q.input });
    }
  }

  /** Run one viewport task on a free thread. @throws Error when the model fails or the pool is closed */
  run(input: ViewportInput): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the task pool is closed'));
    if (this.shared) {
      const bytes = this.text.encode(JSON.stringify(input));
      if (bytes.byteLength > this.shared.cellBytes)
        return Promise.reject(new RangeError(`the task's input is ${bytes.byteLength} bytes; the pool takes ${this.shared.cellBytes}`));
      const id = ++this.seq;
      return new Promise((resolve, reject) => {
        // in the queue's order: behind any backlog, else straight in (a full ring keeps it in the backlog)
        // (the pool holds size × depth tasks at most, as with messages)
        if (this.backlog.length || this.held >= this.size * this.depth || !this.shared!.push(id, bytes)) this.backlog.push({ id, bytes });
        this.inflight.set(id, { resolve, reject });
      });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  }

  /** The pool as the task service's executor. */
  executor(): Executor {
    return (input) => this.run(input);
  }

  /** Stop every thread; calls in flight reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('the task pool is closed'));
    if (this.shared) {
      this.shared.close();
      this.backlog = [];
      for (const t of this.inflight.values()) t.reject(new Error('the task pool is closed'));
      this.inflight.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
