/**
 * A bounded shared-memory task queue between one producer (the task service's event loop) and the compute threads
 * of the task pool (issue 13: the hand-off of a compute slot without a message or timer wake-up). The ring lives in
 * one `SharedArrayBuffer` that every thread maps (`SharedTaskQueue.attach(queue.buffer)`); the producer writes a
 * task's id and its input (bytes, e.g. UTF-8 JSON) into the next cell and `Atomics.notify`s; a consumer that finds
 * the ring empty sleeps in `Atomics.wait` on the tail counter and wakes when a task is pushed — no event loop on
 * either side, so a thread that finishes a task takes the next one at once if one is there (FIFO across the
 * threads: whichever thread frees first takes the oldest task).
 *
 * Layout (Int32 words): [0] head (next cell to take, consumers CAS it), [1] tail (next cell to write, producer
 * only), [2] closed flag, [3] sleepers (consumers in `Atomics.wait` now, for tests and the producer's notify),
 * [4] signal (bumped by every push and by close: what a consumer sleeps on, so neither can slip between its check
 * and its sleep), [5, 6] the geometry (cells, cellBytes), then per cell: id, byte length; then `cells × cellBytes`
 * payload bytes. Counters wrap at 2^32 (compared by
 * difference); `cells` is a power of two.
 *
 * One producer only: `push` is not safe from two threads at once. Any number of consumers.
 */

const HEAD = 0,
  TAIL = 1,
  CLOSED = 2,
  SLEEPERS = 3,
  SIGNAL = 4,
  HEADER = 5;

export interface SharedTaskQueueOptions {
  /** cells in the ring (rounded up to a power of two; default 8) */
  cells?: number;
  /** the largest payload a cell holds, bytes (default 16 KiB) */
  cellBytes?: number;
}

/** What `take` answers: a task's id and a copy of its payload, or null once the queue is closed (or on timeout). */
export type Taken = { id: number; bytes: Uint8Array } | null;

/**
 * Where a consumer records the id it is taking, *before* it takes it (`cells[index]`): a thread that dies at any
 * point after taking a task has its id there, so the producer's side can answer it — none is lost in between (at
 * worst a task whose claim was written but not yet taken is answered there and also run by another thread).
 */
export interface Claim {
  cells: Int32Array;
  index: number;
}

export class SharedTaskQueue {
  /** the shared memory; pass it to a thread and `attach` it there */
  readonly buffer: SharedArrayBuffer;
  readonly cells: number;
  readonly cellBytes: number;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  /** @throws RangeError for cells < 1 or cellBytes < 1 */
  constructor(o: SharedTaskQueueOptions | SharedArrayBuffer = {}) {
    if (o instanceof SharedArrayBuffer) {
      const geo = new Int32Array(o, HEADER * 4, 2);
      this.cells = geo[0];
      this.cellBytes = geo[1];
      this.buffer = o;
    } else {
      const want = o.cells ?? 8;
      const cellBytes = o.cellBytes ?? 16 * 1024;
      if (!(Number.isInteger(want) && want >= 1)) throw new RangeError(`cells must be an integer ≥ 1, got ${want}`);
      if (!(Number.isInteger(cellBytes) && cellBytes >= 1)) throw new RangeError(`cellBytes must be an integer ≥ 1, got ${cellBytes}`);
      let cells = 1;
      while (cells < want) cells <<= 1;
      this.cells = cells;
      this.cellBytes = cellBytes;
      this.buffer = new SharedArrayBuffer((HEADER + 2 + 2 * cells) * 4 + cells * cellBytes);
      const geo = new Int32Array(this.buffer, HEADER * 4, 2);
      geo[0] = cells;
      geo[1] = cellBytes;
    }
    this.words = new Int32Array(this.buffer, 0, HEADER + 2 + 2 * this.cells);
    this.bytes = new Uint8Array(this.buffer, (HEADER + 2 + 2 * this.cells) * 4, this.cells * this.cellBytes);
  }

  /** The same queue in another thread, over the buffer the creating thread passed on. */
  static attach(buffer: SharedArrayBuffer): SharedTaskQueue {
    return new SharedTaskQueue(buffer);
  }

  /** Tasks pushed and not yet taken. */
  get length(): number {
    return (Atomics.load(this.words, TAIL) - Atomics.load(this.words, HEAD)) | 0;
  }

  /** Consumers asleep in `take` now. */
  get sleepers(): number {
    return Atomics.load(this.words, SLEEPERS);
  }

  get closed(): boolean {
    return Atomics.load(this.words, CLOSED) === 1;
  }

  /**
   * Producer: append a task and wake one sleeping consumer. Answers false (nothing written) when the ring is full.
   * @throws RangeError when the payload exceeds `cellBytes`; Error once closed
   */
  push(id: number, payload: Uint8Array): boolean {
    if (this.closed) throw new Error('the queue is closed');
    if (payload.byteLength > this.cellBytes)
      throw new RangeError(`a task's input is ${payload.byteLength} bytes; a queue cell holds ${this.cellBytes}`);
    const tail = Atomics.load(this.words, TAIL);
    if (((tail - Atomics.load(this.words, HEAD)) | 0) >= this.cells) return false;
    const cell = tail & (this.cells - 1);
    this.bytes.set(payload, cell * this.cellBytes);
    Atomics.store(this.words, HEADER + 2 + 2 * cell, id);
    Atomics.store(this.words, HEADER + 3 + 2 * cell, payload.byteLength);
    Atomics.store(this.words, TAIL, (tail + 1) | 0); // publishes the cell (Atomics are sequentially consistent)
    Atomics.add(this.words, SIGNAL, 1);
    if (Atomics.load(this.words, SLEEPERS) > 0) Atomics.notify(this.words, SIGNAL, 1);
    return true;
  }

  /**
   * Consumer: take the oldest task, sleeping in `Atomics.wait` (blocking this thread, no CPU) while the ring is
   * empty, at most `timeoutMs` in all (default: until a push or close). Null once closed or on timeout. Never call it
   * on a thread whose event loop must keep running (the main thread: use `tryTake`).
   */
  take(timeoutMs = Infinity, claim?: Claim): Taken {
    const until = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const signal = Atomics.load(this.words, SIGNAL);
      if (this.closed) return null;
      const t = this.tryTake(claim);
      if (t) return t;
      const left = until - performance.now();
      if (left <= 0) return null;
      Atomics.add(this.words, SLEEPERS, 1);
      // sleeps only while nothing was pushed or closed since `signal` was read: else 'not-equal' at once
      Atomics.wait(this.words, SIGNAL, signal, left === Infinity ? undefined : left);
      Atomics.sub(this.words, SLEEPERS, 1);
    }
  }

  /** Consumer: the oldest task if there is one now, else null (never blocks); `claim` as in `take`. */
  tryTake(claim?: Claim): Taken {
    for (;;) {
      const head = Atomics.load(this.words, HEAD);
      if (((Atomics.load(this.words, TAIL) - head) | 0) <= 0) return null;
      const cell = head & (this.cells - 1);
      // read before claiming: the producer never overwrites a cell until head has passed it
      const id = Atomics.load(this.words, HEADER + 2 + 2 * cell);
      const n = Atomics.load(this.words, HEADER + 3 + 2 * cell);
      const bytes = this.bytes.slice(cell * this.cellBytes, cell * this.cellBytes + n);
      if (claim) Atomics.store(claim.cells, claim.index, id);
      if (Atomics.compareExchange(this.words, HEAD, head, (head + 1) | 0) === head) return { id, bytes };
      if (claim) Atomics.store(claim.cells, claim.index, 0); // another consumer took it: not ours
    }
  }

  /** Wake every consumer; `take` answers null from now on (tasks still queued stay unread). */
  close(): void {
    Atomics.store(this.words, CLOSED, 1);
    Atomics.add(this.words, SIGNAL, 1);
    Atomics.notify(this.words, SIGNAL);
  }
}
