/**
 * The edge's offloaded-task queue in virtual time (IELB §4.2): the same schedulers (src/assign/auction/) and the same
 * clearing rules as the task service (src/server/tasks.ts: refuse at arrival what its execution alone cannot fit,
 * clear the market on every arrival, every completion and every time slice while tasks wait), with Poisson arrivals
 * and a fixed service time per slot. No machine noise: it shows what the scheduler itself does at a load, so that
 * bench:offload can tell the scheduler's share of a response time from the machine's (timer wake-ups, a busy CPU).
 */
import { makeScheduler, type PendingTask, type SchedulerName, type TaskScheduler } from '../../assign/auction/index.js';
import { mulberry32 } from '../../core/random.js';

export interface QueueSimOptions {
  /** a scheduler by name, or one built by the caller (fresh: it keeps state) */
  scheduler: SchedulerName | TaskScheduler;
  /** compute slots (default 2) */
  slots?: number;
  /** execution time of a task on a slot, ms (default 10) */
  serviceMs?: number;
  /** offered load as a fraction of capacity (slots / serviceMs) */
  load: number;
  /** seconds of arrivals (default 60) */
  seconds?: number;
  /** share of urgent tasks (default 0.25) */
  urgentShare?: number;
  /** deadlines of urgent and relaxed tasks, in service times (default 3 and 12) */
  urgentDeadline?: number;
  relaxedDeadline?: number;
  /** the service's time slice, ms (default 2, as TaskService) */
  sliceMs?: number;
  /** the fixed cost the client sees on top (HTTP on loopback), ms (default 0) */
  overheadMs?: number;
  clients?: number;
  seed?: number;
  /** the auction's R (default: the scheduler's) */
  maxRaise?: number;
  /**
   * the hand-off, ms (default 0): from a task's end on its compute thread until the service hears of it — answers
   * it and offers the slot to the market again (a worker_threads reply waiting for a busy event loop)
   */
  handoffMs?: number;
  /**
   * on-deck places across the slots (TaskService `lookahead`, default 0): while every slot is busy as the service
   * sees it, up to this many tasks are handed to a thread at once and start there the moment it is free, without
   * the hand-off; refused when they could not meet their deadline from the oldest running task's expected end
   */
  lookahead?: number;
}

/** One simulated task as its client saw it. */
export interface SimTask {
  client: number;
  urgent: boolean;
  deadline: number;
  /** response time (refusal or answer) including the overhead, ms */
  ms: number;
  done: boolean;
}

/**
 * Simulate the queue. @returns every task's outcome, in arrival order
 * @throws RangeError for a load ≤ 0, slots < 1 or a service time ≤ 0
 */
export function simulateTaskQueue(o: QueueSimOptions): SimTask[] {
  const slots = o.slots ?? 2;
  const serviceMs = o.serviceMs ?? 10;
  const sliceMs = o.sliceMs ?? 2;
  const overhead = o.overheadMs ?? 0;
  const clients = o.clients ?? 30;
  if (!(o.load > 0) || !(slots >= 1) || !(serviceMs > 0)) throw new RangeError('load > 0, slots ≥ 1 and serviceMs > 0 are required');
  const sched = typeof o.scheduler === 'string' ? makeScheduler(o.scheduler, { sliceMs, maxRaise: o.maxRaise }) : o.scheduler;
  const rng = mulberry32(o.seed ?? 1);
  const rate = (o.load * slots) / serviceMs; // per ms
  const horizon = (o.seconds ?? 60) * 1000;
  const arrivals: Array<{ at: number; task: SimTask }> = [];
  for (let t = -Math.log(1 - rng()) / rate; t < horizon; t += -Math.log(1 - rng()) / rate) {
    const urgent = rng() < (o.urgentShare ?? 0.25);
    const deadline = (urgent ? (o.urgentDeadline ?? 3) : (o.relaxedDeadline ?? 12)) * serviceMs;
    arrivals.push({ at: t, task: { client: Math.floor(rng() * clients), urgent, deadline, ms: NaN, done: false } });
  }
  const byId = new Map<string, { at: number; task: SimTask }>();
  const handoff = o.handoffMs ?? 0;
  const lookahead = o.lookahead ?? 0;
  // the compute threads: when each is free of the tasks it holds, and how many it holds
  const threads = Array.from({ length: slots }, () => ({ freeAt: 0, held: 0 }));
  // tasks the service has dispatched and not yet heard of: when it hears (thread end + hand-off), its dispatch time
  const heard: Array<{ at: number; dispatched: number; thread: number }> = [];
  let tick: number | null = null;
  let i = 0;
  const dispatch = (now: number, ids: PendingTask[]) => {
    for (const p of ids) {
      const a = byId.get(p.id)!;
      byId.delete(p.id);
      // the thread holding the fewest tasks, the one free first among equals (TaskPool)
      let k = 0;
      for (let j = 1; j < slots; j++)
        if (threads[j].held < threads[k].held || (threads[j].held === threads[k].held && threads[j].freeAt < threads[k].freeAt)) k = j;
      const end = Math.max(now, threads[k].freeAt) + serviceMs;
      threads[k].freeAt = end;
      threads[k].held++;
      heard.push({ at: end + handoff, dispatched: now, thread: k });
      a.task.ms = end + handoff - a.at + overhead;
      a.task.done = true;
    }
  };
  const clear = (now: number) => {
    const busy = heard.length;
    const refuseAt = (r: PendingTask[], t: number) => {
      for (const p of r) {
        const a = byId.get(p.id)!;
        a.task.ms = t - a.at + overhead;
        byId.delete(p.id);
      }
    };
    const c = sched.clear(now, Math.max(0, slots - busy));
    refuseAt(c.refuse, now);
    dispatch(now, c.start);
    const deck = slots + lookahead - heard.length;
    if (lookahead > 0 && deck > 0 && heard.length >= slots && sched.pending) {
      const oldest = Math.min(...heard.map((h) => h.dispatched));
      const d = sched.clear(Math.max(now, oldest + serviceMs), deck);
      refuseAt(d.refuse, now);
      dispatch(now, d.start);
    }
    if (sched.pending && tick === null) tick = now + sliceMs;
  };
  for (;;) {
    const nextArrival = i < arrivals.length ? arrivals[i].at : Infinity;
    let hi = -1;
    for (let j = 0; j < heard.length; j++) if (hi < 0 || heard[j].at < heard[hi].at) hi = j;
    const nextDone = hi >= 0 ? heard[hi].at : Infinity;
    const nextTick = tick ?? Infinity;
    const now = Math.min(nextArrival, nextDone, nextTick);
    if (now === Infinity) break;
    if (now === nextDone) {
      threads[heard[hi].thread].held--;
      heard.splice(hi, 1);
      if (sched.pending) clear(now);
    } else if (now === nextTick) {
      tick = null;
      clear(now);
    } else {
      const a = arrivals[i];
      const id = `s${i++}`;
      if (serviceMs > a.task.deadline) {
        a.task.ms = overhead;
        continue;
      }
      const p: PendingTask = { id, client: `c${a.task.client}`, arrivedAt: a.at, deadlineAt: a.at + a.task.deadline, execMs: serviceMs };
      byId.set(id, a);
      sched.submit(p);
      clear(now);
    }
  }
  return arrivals.map((a) => a.task);
}
