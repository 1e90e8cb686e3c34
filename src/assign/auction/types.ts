/** The task scheduler's interface (IELB §4.2); see index.ts. */
/** One task waiting for a compute slot. Times are ms on the scheduler's clock. */
export interface PendingTask {
  id: string;
  /** who submitted it (fairness is measured per client) */
  client: string;
  arrivedAt: number;
  deadlineAt: number;
  /** expected execution time on one slot, ms */
  execMs: number;
}

/** A scheduler of tasks on identical compute slots, cleared once per time slice by its caller. */
export interface TaskScheduler {
  readonly name: string;
  /** tasks waiting (submitted, neither started nor refused) */
  readonly pending: number;
  /** Queue a task. @throws RangeError for a negative or non-finite execMs, or a deadline before arrival */
  submit(task: PendingTask): void;
  /**
   * Clear the market at `now` for `freeSlots` free slots: the tasks to start now, and the tasks refused
   * because they can no longer meet their deadline (the device runs those locally).
   */
  clear(now: number, freeSlots: number): { start: PendingTask[]; refuse: PendingTask[] };
}
