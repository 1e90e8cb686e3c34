/**
 * Scheduling of offloaded inference tasks on the edge's compute slots (IELB §4,
 * ../shared/papers/ielb-edge-offloading-auction.txt): buyers are tasks with deadlines and bids, sellers are
 * compute slots; each time slice the market clears. Environment-agnostic: the controller's task service
 * and the offloading simulator/benchmark use the same schedulers. The interface is in types.ts; the auction with
 * compensation and the FCFS / EDF baselines in schedulers.ts.
 */

export type { PendingTask, TaskScheduler } from './types.js';
export { AuctionScheduler, SCHEDULERS, compensatedBid, edfScheduler, fcfsScheduler, initialBid, makeScheduler } from './schedulers.js';
export type { Clearing, SchedulerName } from './schedulers.js';
