/**
 * Scheduling of offloaded inference tasks on the edge's compute slots (IELB §4,
 * ../shared/papers/ielb-edge-offloading-auction.txt): buyers are tasks with deadlines and bids, sellers are
 * compute slots; each time slice the market clears. Environment-agnostic: the controller's task service
 * and the offloading simulator/benchmark use the same schedulers. This file is the home of that interface;
 * the auction with compensation and the FCFS / EDF baselines live beside it.
 */

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

export interface TaskScheduler {
  readonly name: string;
  submit(task: PendingTask): void;
  /**
   * Clear the market at `now` for `freeSlots` free slots: the tasks to start now, and the tasks refused
   * because they can no longer meet their deadline (the device runs those locally).
   */
  clear(now: number, freeSlots: number): { start: PendingTask[]; refuse: PendingTask[] };
}
