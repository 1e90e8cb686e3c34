/**
 * The edge's inference service for offloaded tasks (IELB §4.2): tasks queue for `slots` compute slots and a
 * scheduler from src/assign/auction/ (the auction with compensation by default; FCFS, EDF, the auction without
 * compensation behind the same interface) decides each time slice which start and which are refused because they
 * can no longer meet their deadline — a refusal is answered at once so that the device runs the task itself.
 *
 * Execution: an `Executor` per task type. The default one runs the viewport model in this process (the plain-JS
 * forward pass over the trained weights, `LearnedViewport`; the prior model with the video's attention prior when
 * the service holds one). A slot is busy from a task's start until its executor settles, so an asynchronous
 * executor (e.g. a worker_threads pool) gets real parallelism; the in-process one is synchronous (sub-millisecond).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeScheduler, type PendingTask, type SchedulerName, type TaskScheduler } from '../assign/auction/index.js';
import type { OffloadTask, TaskAnswer, TaskQuote, ViewportInput } from '../core/schemas/tasks.js';

/** What an executor answers: the model's name, the predicted points and, when it knows it, its own compute time (ms). */
export interface ExecResult {
  model: string;
  points: number[];
  /** the compute thread's own time for the task, ms (without the hand-off to and from the thread) */
  threadMs?: number;
}

/** Runs one task; resolves with the model's name and the predicted points. @throws Error when the input is unusable */
export type Executor = (input: ViewportInput) => Promise<ExecResult> | ExecResult;

export interface TaskServiceOptions {
  /** compute slots (default 2) */
  slots?: number;
  /** the scheduler (default 'auction') */
  scheduler?: SchedulerName;
  /** the time slice between clearings while tasks wait, ms (default 2) */
  sliceMs?: number;
  /** executors per task type */
  executors: Partial<Record<OffloadTask, Executor>>;
  /** the clock, ms (default performance.now) */
  now?: () => number;
  /**
   * tasks started ahead, across the slots (default 0): while every slot is busy the market also clears up to this
   * many tasks "on deck", handed to a compute thread at once so that the thread starts one the moment it is free —
   * without waiting for this event loop to hear of the completion and dispatch (the hand-off that made a 10 ms
   * slot take 11–12 ms on a busy machine). An on-deck task must be able to meet its deadline when it starts after
   * the expected remaining time of the oldest running one. Fewer places than slots keep a thread free of a deck, so
   * an urgent arrival waits for at most one running task. Needs an executor that queues per thread (TaskPool
   * `lookahead` ≥ ⌈this / slots⌉).
   */
  lookahead?: number;
}

/** The outcome of one task. */
export type TaskOutcome = ({ status: 'done' } & Omit<TaskAnswer, 'status'>) | { status: 'refused'; message: string };

interface Waiting {
  task: PendingTask;
  type: OffloadTask;
  input: ViewportInput;
  resolve(o: TaskOutcome): void;
}

/** Queue, auction and slots for offloaded tasks. */
export class TaskService {
  readonly slots: number;
  private scheduler: TaskScheduler;
  private waiting = new Map<string, Waiting>();
  private busy = 0;
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly sliceMs: number;
  private readonly now: () => number;
  private readonly lookahead: number;
  /** start times of the tasks running or on deck, oldest first (to estimate when the next slot frees) */
  private started: number[] = [];
  /** recent execution times per task type (the last 16, with when they ended) and the least ever seen */
  private recent = new Map<OffloadTask, Array<{ at: number; ms: number }>>();
  private fastest = new Map<OffloadTask, number>();
  /** counts since start: done, refused, failed (executor threw) */
  readonly stats = { done: 0, refused: 0, failed: 0 };

  /** @throws RangeError for slots < 1, a slice ≤ 0 or a negative lookahead; Error for an unknown scheduler */
  constructor(private o: TaskServiceOptions) {
    this.slots = o.slots ?? 2;
    if (!(Number.isInteger(this.slots) && this.slots >= 1)) throw new RangeError(`slots must be an integer ≥ 1, got ${this.slots}`);
    this.sliceMs = o.sliceMs ?? 2;
    if (!(this.sliceMs > 0)) throw new RangeError(`sliceMs must be > 0, got ${this.sliceMs}`);
    this.scheduler = makeScheduler(o.scheduler ?? 'auction', { sliceMs: this.sliceMs });
    this.now = o.now ?? (() => performance.now());
    this.lookahead = o.lookahead ?? 0;
    if (!(Number.isInteger(this.lookahead) && this.lookahead >= 0))
      throw new RangeError(`lookahead must be an integer ≥ 0, got ${this.lookahead}`);
  }

  get schedulerName(): string {
    return this.scheduler.name;
  }

  /** Whether the service runs this task type. */
  accepts(type: string): type is OffloadTask {
    return !!this.o.executors[type as OffloadTask];
  }

  /**
   * Expected execution of a task type, ms: the median of its last 16 executions that ended within the last 2 s; with
   * none that recent, the fastest ever seen (1 ms before the first). A stall (a busy machine: 200 ms for a 10 ms task)
   * must not lock the service out: estimates refuse tasks at arrival, and a refused task never runs, so an estimate
   * that only recent runs could lower would stay high for ever (bench:offload found it: every task refused after a
   * stall). An estimate that ages back to the fastest run lets tasks in again and re-measures.
   */
  execMs(type: OffloadTask): number {
    const now = this.now();
    const xs = (this.recent.get(type) ?? []).filter((r) => now - r.at <= 2000).map((r) => r.ms);
    if (!xs.length) return this.fastest.get(type) ?? 1;
    xs.sort((a, b) => a - b);
    return xs[xs.length >> 1];
  }

  /** What a task would get now: the expected wait (the queue's work spread over the slots) and execution. */
  quote(): TaskQuote {
    let work = 0;
    for (const w of this.waiting.values()) work += w.task.execMs;
    const exec: Record<string, number> = {};
    for (const k of Object.keys(this.o.executors) as OffloadTask[]) exec[k] = this.execMs(k);
    return {
      wait_ms: this.busy < this.slots && this.waiting.size === 0 ? 0 : work / this.slots + Math.min(...Object.values(exec), 1),
      exec_ms: exec,
      slots: this.slots,
      pending: this.waiting.size,
      scheduler: this.scheduler.name,
    };
  }

  /**
   * Run a task within `deadlineMs` from now (queue + execution). Resolves 'refused' at once when it cannot meet
   * the deadline, or as soon as the scheduler gives up on it; never rejects.
   */
  run(type: OffloadTask, input: ViewportInput, deadlineMs: number, client = 'anon'): Promise<TaskOutcome> {
    const now = this.now();
    if (!this.accepts(type)) return Promise.resolve({ status: 'refused', message: `this edge does not run ${type} tasks` });
    const task: PendingTask = { id: `k${++this.seq}`, client, arrivedAt: now, deadlineAt: now + deadlineMs, execMs: this.execMs(type) };
    if (task.execMs > deadlineMs) {
      this.stats.refused++;
      return Promise.resolve({
        status: 'refused',
        message: `a ${type} task takes ~${task.execMs.toFixed(1)} ms here; the deadline is ${deadlineMs} ms`,
      });
    }
    return new Promise((resolve) => {
      this.waiting.set(task.id, { task, type, input, resolve });
      this.scheduler.submit(task);
      this.clear();
    });
  }

  /**
   * Clear the market now for the free slots; with `lookahead`, then for the free on-deck places as if at the time
   * the next slot is expected to free (refusing what could not meet its deadline from then). While tasks wait,
   * again after a time slice.
   */
  private clear(): void {
    const now = this.now();
    this.settle(now, this.scheduler.clear(now, Math.max(0, this.slots - this.busy)));
    const deck = this.slots + this.lookahead - this.busy;
    if (this.lookahead > 0 && deck > 0 && this.busy >= this.slots && this.scheduler.pending) {
      // the next slot frees when the oldest running task ends: its start + the expected execution
      const exec = Math.min(...(Object.keys(this.o.executors) as OffloadTask[]).map((k) => this.execMs(k)));
      const freeAt = Math.max(now, (this.started[0] ?? now) + exec);
      this.settle(now, this.scheduler.clear(freeAt, deck));
    }
    if (this.waiting.size && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.clear();
      }, this.sliceMs);
  }

  private settle(now: number, { start, refuse }: { start: PendingTask[]; refuse: PendingTask[] }): void {
    for (const t of refuse) {
      const w = this.waiting.get(t.id)!;
      this.waiting.delete(t.id);
      this.stats.refused++;
      w.resolve({ status: 'refused', message: `the task can no longer meet its deadline (waited ${(now - t.arrivedAt).toFixed(1)} ms)` });
    }
    for (const t of start) {
      const w = this.waiting.get(t.id)!;
      this.waiting.delete(t.id);
      void this.execute(w, now);
    }
  }

  private async execute(w: Waiting, startedAt: number): Promise<void> {
    this.busy++;
    this.started.push(startedAt);
    try {
      const r = await this.o.executors[w.type]!(w.input);
      const end = this.now();
      // the thread's own time when the executor reports it (on deck, the slot time would include the wait)
      const execMs = r.threadMs ?? end - startedAt;
      const rs = this.recent.get(w.type) ?? this.recent.set(w.type, []).get(w.type)!;
      rs.push({ at: end, ms: execMs });
      if (rs.length > 16) rs.shift();
      this.fastest.set(w.type, Math.min(this.fastest.get(w.type) ?? Infinity, execMs));
      this.stats.done++;
      w.resolve({
        status: 'done',
        model: r.model,
        points: r.points,
        queue_ms: Math.max(0, end - w.task.arrivedAt - execMs),
        exec_ms: execMs,
      });
    } catch (e) {
      this.stats.failed++;
      w.resolve({ status: 'refused', message: `the edge could not run the task: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      this.busy--;
      this.started.splice(this.started.indexOf(startedAt), 1);
      if (this.waiting.size) this.clear();
    }
  }

  /** Refuse everything still waiting and stop the clock (server shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiting.values()) w.resolve({ status: 'refused', message: 'the edge is shutting down' });
    this.waiting.clear();
  }
}

/**
 * The viewport executor over the trained models in `modelsDir`: models/viewport for a video without a prior; with
 * the video's attention prior in `priors`, the edge-only large variant (models/variants/viewport-prior/large: 5 s
 * of history, 256 units, trained on full-resolution 48 × 24 priors; src/deploy/catalog.ts `EDGE_ONLY`) when it was
 * trained, at least as accurate on the dev split as the shipped prior model (`opts.large`, default 'auto': by the
 * models' train.json `dev_mean_deg`; 'always' / 'never' force it) and the task sends ≥ 25 samples, else
 * models/viewport-prior. The prior is used at the grid it is held at.
 * @throws Error when models/viewport cannot be read
 */
export async function viewportExecutor(
  modelsDir: string,
  priors: Map<string, import('../viewport/prior.js').PriorJson> = new Map(),
  opts: { large?: 'auto' | 'always' | 'never' } = {},
): Promise<Executor> {
  const tf = await import('@tensorflow/tfjs');
  await tf.ready();
  const { LearnedViewport } = await import('../viewport/model.js');
  const { AttentionPrior } = await import('../viewport/prior.js');
  const load = async (name: string) => {
    const dir = join(modelsDir, name);
    const j = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const w = await readFile(join(dir, 'weights.bin'));
    const weightData = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer;
    return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData }));
  };
  const plain = new LearnedViewport(await load('viewport'), 'viewport');
  const withPrior = priors.size ? new LearnedViewport(await load('viewport-prior'), 'viewport-prior') : null;
  const largeDir = 'variants/viewport-prior/large';
  const devMean = async (dir: string) => {
    try {
      const v = JSON.parse(await readFile(join(modelsDir, dir, 'train.json'), 'utf8')).dev_mean_deg;
      return typeof v === 'number' ? v : Infinity;
    } catch {
      return Infinity;
    }
  };
  // 'auto': the large model only when its dev error (train.json, the trainer's selection metric) beats the shipped
  // prior model's — a large model cut short by its training budget must not make the edge's answers worse
  const useLarge = opts.large === 'always' || (opts.large !== 'never' && (await devMean(largeDir)) < (await devMean('viewport-prior')));
  const large =
    useLarge && priors.size && existsSync(join(modelsDir, largeDir, 'model.json'))
      ? new LearnedViewport(await load(largeDir), 'viewport-prior/large', { history: LARGE_HISTORY })
      : null;
  const parsed = new Map([...priors].map(([k, v]) => [k, new AttentionPrior(v)]));
  return (input) => {
    const hist = Float64Array.from(input.hist);
    if (hist.length % 3) throw new Error('hist must hold whole (x, y, z) samples');
    const prior = input.video ? parsed.get(input.video) : undefined;
    const m = prior && large && hist.length >= LARGE_HISTORY * 3 ? large : prior && withPrior ? withPrior : plain;
    if (m !== plain) m.prior = prior!;
    const points = m.predict(hist, m.steps, { t: input.t });
    return { model: m.name, points: Array.from(points, (v) => Math.round(v * 1e6) / 1e6) };
  };
}

/** History samples the edge's large viewport model reads (5 s at 5 Hz); devices send this many when they offload. */
export const LARGE_HISTORY = 25;
