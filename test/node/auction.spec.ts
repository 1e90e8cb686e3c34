/**
 * The offloaded-task schedulers of src/assign/auction/ (IELB §4.2 reconstructed): the auction's invariants (no
 * slot double-booked, compensation monotone and convex, refusal before the deadline) and its property under
 * overload against the auction without compensation, EDF and FCFS, in a discrete-time slot simulation.
 */
import {
  AuctionScheduler,
  SCHEDULERS,
  compensatedBid,
  initialBid,
  makeScheduler,
  type PendingTask,
  type SchedulerName,
  type TaskScheduler,
} from '../../src/assign/auction/index.js';
import { mulberry32 } from '../../src/core/random.js';

interface SimResult {
  started: Map<string, number>;
  finished: Map<string, number>;
  refused: Map<string, number>;
  /** the most slots busy at once */
  maxBusy: number;
  tasks: PendingTask[];
}

/** `slots` identical slots, a clearing every `slice` ms, tasks arriving as given. */
function simulate(s: TaskScheduler, slots: number, slice: number, tasks: PendingTask[], until: number): SimResult {
  const byArrival = [...tasks].sort((a, b) => a.arrivedAt - b.arrivedAt);
  const running: Array<{ t: PendingTask; end: number }> = [];
  const started = new Map<string, number>(),
    finished = new Map<string, number>(),
    refused = new Map<string, number>();
  let maxBusy = 0,
    next = 0;
  for (let now = 0; now <= until; now += slice) {
    for (let i = running.length - 1; i >= 0; i--)
      if (running[i].end <= now) {
        finished.set(running[i].t.id, running[i].end);
        running.splice(i, 1);
      }
    while (next < byArrival.length && byArrival[next].arrivedAt <= now) s.submit(byArrival[next++]);
    const { start, refuse } = s.clear(now, slots - running.length);
    for (const t of refuse) {
      expect(refused.has(t.id) || started.has(t.id)).toBeFalse();
      refused.set(t.id, now);
    }
    for (const t of start) {
      expect(started.has(t.id) || refused.has(t.id)).toBeFalse();
      started.set(t.id, now);
      running.push({ t, end: now + t.execMs });
    }
    maxBusy = Math.max(maxBusy, running.length);
  }
  return { started, finished, refused, maxBusy, tasks };
}

/** Poisson-ish arrivals at `load` × capacity; a quarter of the tasks urgent (tight deadline). */
function workload(load: number, slots: number, execMs: number, n: number, seed: number): PendingTask[] {
  const rng = mulberry32(seed);
  const rate = (load * slots) / execMs; // tasks per ms
  let t = 0;
  return Array.from({ length: n }, (_, i) => {
    t += -Math.log(1 - rng()) / rate;
    const urgent = i % 4 === 0;
    const arrivedAt = Math.round(t);
    return { id: `t${i}`, client: `c${i % 10}`, arrivedAt, deadlineAt: arrivedAt + (urgent ? 3 : 12) * execMs, execMs };
  });
}

describe('offload schedulers (IELB auction, EDF, FCFS)', () => {
  it('never books a slot twice, starts or refuses each task once, refuses only what cannot make its deadline', () => {
    for (const name of SCHEDULERS) {
      const tasks = workload(1.5, 4, 10, 600, 7);
      const r = simulate(makeScheduler(name), 4, 5, tasks, 20_000);
      expect(r.maxBusy).withContext(name).toBeLessThanOrEqual(4);
      for (const t of tasks) {
        const s = r.started.get(t.id);
        const f = r.refused.get(t.id);
        expect((s === undefined) !== (f === undefined))
          .withContext(`${name} ${t.id}`)
          .toBeTrue();
        if (s !== undefined) expect(s).toBeGreaterThanOrEqual(t.arrivedAt);
        // refused at a time it could no longer finish, and before its deadline passed
        if (f !== undefined) {
          expect(f + t.execMs)
            .withContext(`${name} refuse ${t.id}`)
            .toBeGreaterThan(t.deadlineAt);
          expect(f).toBeLessThanOrEqual(t.deadlineAt + 5);
        }
      }
    }
  });

  it('every started task meets its deadline (a task is started only if it can finish in time)', () => {
    for (const name of SCHEDULERS) {
      const r = simulate(makeScheduler(name), 2, 5, workload(1.2, 2, 10, 300, 3), 20_000);
      for (const t of r.tasks) if (r.started.has(t.id)) expect(r.finished.get(t.id)!).toBeLessThanOrEqual(t.deadlineAt);
    }
  });

  it('compensation raises a losing bid by more with every failure up to R over its slack; without it the bid stays', () => {
    const t: PendingTask = { id: 'a', client: 'c', arrivedAt: 0, deadlineAt: 100, execMs: 10 };
    expect(initialBid(t)).toBeCloseTo(0.1, 12);
    let prevBid = initialBid(t),
      prevStep = 0;
    for (let k = 1; k <= 18; k++) {
      const b = compensatedBid(t, k, 5);
      expect(b).toBeGreaterThan(prevBid);
      expect(b - prevBid).toBeGreaterThan(prevStep);
      prevStep = b - prevBid;
      prevBid = b;
    }
    expect(compensatedBid(t, 18, 5)).toBeCloseTo(0.2, 12); // slack 90 ms spent: R = 2 times the initial bid
    expect(compensatedBid(t, 40, 5)).toBeCloseTo(0.2, 12);
    // in the scheduler: a task loses to a stream of fresher, slightly more urgent ones; its bid climbs until it wins
    const s = new AuctionScheduler({ sliceMs: 5 });
    const flat = new AuctionScheduler({ sliceMs: 5, compensation: false });
    const lazy: PendingTask = { id: 'lazy', client: 'x', arrivedAt: 0, deadlineAt: 1000, execMs: 5 };
    for (const q of [s, flat]) q.submit(lazy);
    const startedAt: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const now = i * 5;
      for (const q of [s, flat]) {
        q.submit({ id: `u${i}`, client: 'y', arrivedAt: now, deadlineAt: now + 909, execMs: 5 }); // urgency 1.1 × lazy's
        const bids = q === s ? s.bid(lazy) : 0;
        const { start } = q.clear(now, 1);
        if (start.some((t) => t.id === 'lazy')) startedAt[q.name] ??= now;
        else if (q === s && startedAt[q.name] === undefined) expect(s.bid(lazy)).toBeGreaterThan(bids);
      }
    }
    expect(startedAt['auction']).toBeDefined();
    expect(startedAt['auction']).toBeLessThan(1000 - 5);
    expect(startedAt['auction-nocomp']).toBeUndefined(); // starves: the paper's unfairness
  });

  it('refuses at once a task that cannot make its deadline, and rejects bad tasks and slot counts', () => {
    const s = makeScheduler('auction');
    s.submit({ id: 'late', client: 'c', arrivedAt: 0, deadlineAt: 5, execMs: 10 });
    expect(s.clear(0, 4).refuse.map((t) => t.id)).toEqual(['late']);
    expect(s.pending).toBe(0);
    expect(() => s.submit({ id: 'x', client: 'c', arrivedAt: 10, deadlineAt: 5, execMs: 1 })).toThrowError(RangeError);
    expect(() => s.submit({ id: 'y', client: 'c', arrivedAt: 0, deadlineAt: 5, execMs: NaN })).toThrowError(RangeError);
    expect(() => s.clear(0, -1)).toThrowError(RangeError);
    expect(() => makeScheduler('lifo' as SchedulerName)).toThrowError(/unknown scheduler/);
  });

  it('at 150 % load keeps more urgent tasks in deadline than FCFS, and no fewer than EDF', () => {
    const hits: Record<string, number> = {};
    for (const name of SCHEDULERS) {
      let urgentHit = 0;
      for (const seed of [1, 2, 3]) {
        const tasks = workload(1.5, 4, 10, 800, seed);
        const r = simulate(makeScheduler(name), 4, 5, tasks, 40_000);
        urgentHit += tasks.filter((t, i) => i % 4 === 0 && r.started.has(t.id)).length;
      }
      hits[name] = urgentHit;
    }
    expect(hits['auction']).withContext(JSON.stringify(hits)).toBeGreaterThan(hits['fcfs']);
    expect(hits['auction'])
      .withContext(JSON.stringify(hits))
      .toBeGreaterThanOrEqual(hits['edf'] * 0.95);
  });
});
