/**
 * Task offloading (IELB §4.1 on the device, §4.2 on the edge): the time/energy rule's edge cases, POST /v1/tasks
 * over real HTTP with the real viewport model (bad bodies → 4xx, token, size limit, refusal before the deadline),
 * and the offload client against that server: offloads when the rule says, refuses the profiler by type, and falls
 * back to the device the moment the edge refuses, hangs or is gone — with no prediction missed.
 */
import { existsSync } from 'node:fs';
import { buildServer } from '../../src/server/app.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';
import { TokenService } from '../../src/server/tokens.js';
import { TaskService, viewportExecutor, type Executor } from '../../src/server/tasks.js';
import { simulateTaskQueue } from '../../src/sim/offload/queue.js';
import { TaskPool } from '../../src/server/task-pool.js';
import { Offloader, decideOffload, type OffloadInputs } from '../../src/edge/offload.js';
import { fromYawPitch } from '../../src/viewport/geometry.js';
import type { FastifyInstance } from 'fastify';
import type { ViewportInput } from '../../src/core/schemas/tasks.js';
import { samplePrior } from '../../src/worker/variants.js';

const SECRET = 'offload-test-secret';
const base: OffloadInputs = {
  localMs: 40,
  rttMs: 10,
  uploadBytes: 1000,
  uplinkBps: 8e6,
  edgeWaitMs: 1,
  edgeExecMs: 1,
  deadlineMs: 100,
  device: 'phone',
};

function input(n = 10, t = 12): ViewportInput {
  const hist: number[] = [];
  for (let i = 0; i < n; i++) hist.push(...fromYawPitch(10 + 3 * i, 5));
  return { hist, t };
}

describe('offloading rule (IELB §4.1 reconstructed)', () => {
  it('offloads a slow task when the edge is faster and costs less energy, within the deadline', () => {
    const d = decideOffload(base);
    expect(d.placement).toBe('edge');
    expect(d.edgeMs).toBeCloseTo(10 + 1 + 1 + 1, 6); // rtt + 1000 B at 8 Mb/s + wait + exec
    expect(d.edgeMj).toBeLessThan(d.localMj);
  });

  it('keeps the task local with zero bandwidth, an edge slower than local, or a missed deadline', () => {
    expect(decideOffload({ ...base, uplinkBps: 0 }).placement).toBe('device');
    expect(decideOffload({ ...base, uplinkBps: 0 }).reason).toMatch(/no uplink/);
    const slow = decideOffload({ ...base, edgeWaitMs: 50 });
    expect(slow.placement).toBe('device');
    expect(slow.reason).toMatch(/not faster/);
    const late = decideOffload({ ...base, deadlineMs: 12 });
    expect(late.placement).toBe('device');
    expect(late.reason).toMatch(/deadline/);
    expect(decideOffload({ ...base, localMs: NaN }).placement).toBe('device');
  });

  it('with an infinite deadline only time and energy decide; energy can keep a faster edge out', () => {
    expect(decideOffload({ ...base, deadlineMs: Infinity }).placement).toBe('edge');
    // a phone sending a large input over LTE: the edge answers sooner (39 vs 40 ms) but transmitting 36 ms at
    // 2.16 W costs more than computing 40 ms at 2 W
    const e = decideOffload({ ...base, localMs: 40, uploadBytes: 36000, uplinkBps: 8e6, rttMs: 1, deadlineMs: Infinity });
    expect(e.edgeMs).toBeLessThan(e.localMs);
    expect(e.placement).toBe('device');
    expect(e.reason).toMatch(/energy/);
  });
});

describe('POST /v1/tasks and the offload client', () => {
  const haveModels = existsSync('models/viewport/model.json');
  let app: FastifyInstance;
  let url: string;
  let service: TaskService;
  let gate: Promise<void> | null = null;
  const tokens = new TokenService(SECRET);
  const token = tokens.issue('s1');

  async function start(executor: Executor, slots = 1): Promise<void> {
    service = new TaskService({ slots, executors: { viewport: executor } });
    app = await buildServer({ store: new MemoryTelemetryStore(), negotiation: { secret: SECRET }, tasks: service });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  const post = (body: unknown, raw?: string) =>
    fetch(`${url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
  const good = () => ({ task: 'viewport', session: 's1', token, deadline_ms: 200, input: input() });

  afterEach(async () => {
    await app?.close();
  });

  it('answers a good task with the real model, and says what is wrong with a bad one', async () => {
    if (!haveModels) pending('models/viewport not found');
    await start(await viewportExecutor('models'));
    const r = await post(good());
    expect(r.status).toBe(200);
    const a = await r.json();
    expect(a.status).toBe('done');
    expect(a.model).toBe('viewport');
    expect(a.points.length).toBe(75); // 25 steps × (x, y, z)
    const p = a.points.slice(0, 3);
    expect(Math.hypot(p[0], p[1], p[2])).toBeCloseTo(1, 3);
    const bad: Array<[unknown, number, RegExp]> = [
      [{ ...good(), task: 'profile' }, 400, /task/],
      [{ ...good(), deadline_ms: 0 }, 400, /deadline_ms/],
      [{ ...good(), input: { ...input(), hist: [1, 0] } }, 400, /hist/],
      [{ ...good(), input: { ...input(), hist: [...input().hist, 0] } }, 400, /whole/],
      [{ ...good(), extra: 1 }, 400, /additional/],
      [{ ...good(), token: 'nope' }, 403, /token/],
      [{ ...good(), session: 's2' }, 403, /token/],
    ];
    for (const [body, status, msg] of bad) {
      const res = await post(body);
      const j = await res.json();
      expect(res.status).withContext(JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(j.message).toMatch(msg);
    }
    const big = await post(null, JSON.stringify({ ...good(), pad: 'x'.repeat(20000) }));
    expect(big.status).toBe(413);
    const q = await (await fetch(`${url}/v1/tasks/quote`)).json();
    expect(q.scheduler).toBe('auction');
    expect(q.exec_ms.viewport).toBeGreaterThan(0);
  });

  it('refuses at once what cannot meet its deadline behind a busy slot', async () => {
    let release!: () => void;
    let calls = 0;
    await start(async () => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
      return { model: 'stub', points: [1, 0, 0] };
    });
    const first = post({ ...good(), deadline_ms: 10000 });
    while (calls === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    const second = await post({ ...good(), deadline_ms: 30 }); // the only slot is held: it cannot start in 30 ms
    expect(second.status).toBe(503);
    expect((await second.json()).message).toMatch(/deadline/);
    expect(Date.now() - t0).toBeLessThan(2000);
    release();
    expect((await first).status).toBe(200);
  });

  it('the client offloads when the rule says, refuses the profiler by type, and falls back locally when the edge fails', async () => {
    if (!haveModels) pending('models/viewport not found');
    await start(await viewportExecutor('models'));
    const off = new Offloader({ url, session: 's1', token, device: 'phone', uplinkBps: 50e6, backoffMs: 60000 });
    let localCalls = 0;
    const slowLocal = () => {
      localCalls++;
      const until = performance.now() + 150; // a throttled phone: 150 ms per prediction
      while (performance.now() < until);
      return 'local';
    };
    const opts = { deadlineMs: 1000, local: slowLocal, fromEdge: (a: { model: string }) => `edge:${a.model}` };
    // the first run has no local measurement: it runs here and measures
    const r0 = await off.run('viewport', input(), opts);
    expect(r0.ranOn).toBe('device');
    for (let i = 0; i < 3; i++) expect(await off.refreshQuote()).toBeTrue();
    const r1 = await off.run('viewport', input(), opts);
    expect(r1.ranOn).withContext(`${r1.decision.reason} ${r1.fallback}`).toBe('edge');
    expect(r1.result).toBe('edge:viewport');
    await expectAsync(off.run('profile' as 'viewport', input(), opts)).toBeRejectedWithError(TypeError, /never leaves the device/);
    // the edge goes away mid-session: the next prediction still arrives, from the device, within its deadline
    await app.close();
    const r2 = await off.run('viewport', input(), opts);
    expect(r2.ranOn).toBe('device');
    expect(r2.result).toBe('local');
    expect(r2.fallback).toMatch(/edge failed/);
    expect(r2.ms).toBeLessThan(opts.deadlineMs);
    // and stays local without trying the edge again during the back-off
    const r3 = await off.run('viewport', input(), opts);
    expect(r3.ranOn).toBe('device');
    expect(r3.fallback).toBeUndefined();
    expect(r3.decision.reason).toMatch(/failed recently/);
    expect(off.stats).toEqual({ edge: 1, local: 2, fallback: 1 });
    expect(localCalls).toBe(3);
  });

  it('a fast device keeps the task local', async () => {
    if (!haveModels) pending('models/viewport not found');
    await start(await viewportExecutor('models'));
    const off = new Offloader({ url, session: 's1', token, device: 'laptop' });
    const opts = { deadlineMs: 200, local: () => 'local', fromEdge: () => 'edge' };
    for (let i = 0; i < 5; i++) expect((await off.run('viewport', input(), opts)).ranOn).toBe('device');
    expect(off.stats.edge).toBe(0);
  });

  it('an edge that hangs: the client gives up at the deadline less the local time and runs locally', async () => {
    await start(() => new Promise(() => {})); // never answers
    const off = new Offloader({ url, session: 's1', token, device: 'phone', uplinkBps: 50e6 });
    off.observeLocal('viewport', 40);
    const t0 = performance.now();
    const r = await off.run('viewport', input(), {
      deadlineMs: 150,
      local: () => {
        const until = performance.now() + 40;
        while (performance.now() < until);
        return 'local';
      },
      fromEdge: () => 'edge',
    });
    expect(r.ranOn).toBe('device');
    // the client aborted the edge call itself (its budget: the deadline less the 40 ms local run), rather than
    // waiting for an edge that never answers
    expect(r.fallback).toMatch(/edge failed: .*(timeout|abort)/i);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe("the edge's viewport models", () => {
  it('runs the edge-only large model for a video with a prior and 5 s of history, the shipped ones otherwise', async () => {
    if (!existsSync('models/variants/viewport-prior/large/model.json'))
      pending('the large variant is not trained (models/variants/MODEL.md)');
    const run = await viewportExecutor('models', new Map([['v1', samplePrior(48, 24)]]), { large: 'always' });
    const long = { ...input(25), video: 'v1' };
    const a = await run(long);
    expect(a.model).toBe('viewport-prior/large');
    expect(a.points.length).toBe(75);
    for (let k = 0; k < 25; k++) expect(Math.hypot(a.points[3 * k], a.points[3 * k + 1], a.points[3 * k + 2])).toBeCloseTo(1, 4);
    // 2 s of history: the shipped prior model; no prior for the video: the plain one — each differs from the large
    const b = await run({ ...input(10), video: 'v1' });
    expect(b.model).toBe('viewport-prior');
    expect((await run(input(25))).model).toBe('viewport');
    expect(b.points).not.toEqual(a.points);
    // 'never' (and 'auto' while the large model's dev error is not the lower one): the shipped prior model
    const never = await viewportExecutor('models', new Map([['v1', samplePrior(48, 24)]]), { large: 'never' });
    expect((await never(long)).model).toBe('viewport-prior');
  });
});

describe('the task service under a stall, and its worker_threads slots', () => {
  it('a stall does not lock the service out: the execution estimate ages back and tasks run again', async () => {
    let clock = 0;
    let dur = 5;
    const service = new TaskService({
      slots: 1,
      now: () => clock,
      executors: {
        viewport: async () => {
          clock += dur;
          return { model: 'stub', points: [1, 0, 0] };
        },
      },
    });
    expect((await service.run('viewport', input(), 1000)).status).toBe('done'); // 5 ms
    dur = 200; // the machine stalls: three runs take 200 ms each
    for (let i = 0; i < 3; i++) expect((await service.run('viewport', input(), 1000)).status).toBe('done');
    expect(service.execMs('viewport')).toBe(200);
    // a 30 ms task is refused at arrival while the stall is recent
    const refused = await service.run('viewport', input(), 30);
    expect(refused.status).toBe('refused');
    // 2 s later with no run since, the estimate is the fastest run again: the task is let in, runs and re-measures
    clock += 2100;
    dur = 5;
    expect(service.execMs('viewport')).toBe(5);
    const again = await service.run('viewport', input(), 30);
    expect(again.status).toBe('done');
    expect(service.stats).toEqual({ done: 5, refused: 1, failed: 0 });
    service.close();
  });

  it('with lookahead, a busy slot takes one task on deck (refused if it could not make its deadline from there); exec_ms is the thread’s own time', async () => {
    let clock = 0;
    const calls: Array<(r: { model: string; points: number[]; threadMs?: number }) => void> = [];
    const make = (lookahead: number) =>
      new TaskService({
        slots: 1,
        lookahead,
        now: () => clock,
        executors: { viewport: () => new Promise((resolve) => calls.push(resolve)) },
      });
    // without lookahead a busy slot takes nothing more
    const plain = make(0);
    const p0 = [plain.run('viewport', input(), 1000), plain.run('viewport', input(), 1000)];
    expect(calls.length).toBe(1);
    plain.close();
    calls.shift()!({ model: 'stub', points: [1, 0, 0] });
    await Promise.all(p0);
    const service = make(1);
    // teach it a 10 ms execution
    const first = service.run('viewport', input(), 1000);
    clock = 10;
    calls.shift()!({ model: 'stub', points: [1, 0, 0], threadMs: 10 });
    expect(await first).toEqual(jasmine.objectContaining({ status: 'done', exec_ms: 10, queue_ms: 0 }));
    // running (started at 10, expected to end at 20) + one on deck; a third waits
    const running = service.run('viewport', input(), 1000);
    const deck = service.run('viewport', input(), 1000);
    expect(calls.length).toBe(2);
    const third = service.run('viewport', input(), 1000);
    expect(calls.length).toBe(2);
    clock = 20;
    calls.shift()!({ model: 'stub', points: [1, 0, 0], threadMs: 10 });
    expect((await running).status).toBe('done');
    clock = 30;
    calls.shift()!({ model: 'stub', points: [1, 0, 0], threadMs: 9.5 });
    // the on-deck task: the thread's 9.5 ms, the rest (waiting for the running one) counted as queueing
    expect(await deck).toEqual(jasmine.objectContaining({ status: 'done', exec_ms: 9.5, queue_ms: 10.5 }));
    expect(calls.length).toBe(1); // the third went on deck when the slot freed
    calls.shift()!({ model: 'stub', points: [1, 0, 0], threadMs: 10 });
    expect((await third).status).toBe('done');
    const tight = service.run('viewport', input(), 1000); // runs at once
    const late = service.run('viewport', input(), 15); // on deck it would start at ~40 and end at ~50 > 45: refused
    expect(await late).toEqual(jasmine.objectContaining({ status: 'refused' }));
    calls.shift()!({ model: 'stub', points: [1, 0, 0], threadMs: 10 });
    await tight;
    service.close();
  });

  it('in virtual time a 1 ms hand-off idles the slots and stretches the tail; one on-deck place gives it back', () => {
    const p95 = (ts: Array<{ ms: number }>) => [...ts.map((t) => t.ms)].sort((a, b) => a - b)[Math.floor(0.95 * ts.length)];
    const run = (handoffMs: number, lookahead: number) =>
      simulateTaskQueue({ scheduler: 'auction', load: 0.8, seconds: 30, seed: 3, handoffMs, lookahead });
    const none = run(0, 0);
    const slow = run(1, 0);
    const deck = run(1, 1);
    // every answer waits for its hand-off
    for (const t of slow) if (t.done) expect(t.ms).toBeGreaterThanOrEqual(10 + 1 - 1e-9);
    // the same arrivals: the hand-off makes the tail longer, the on-deck place takes most of it back
    expect(p95(slow)).toBeGreaterThan(p95(none) + 5);
    expect(p95(deck)).toBeLessThan(p95(slow) - 5);
    // no hand-off, no lookahead: exactly the tasks' waits plus 10 ms for the done ones
    expect(none.filter((t) => t.done).every((t) => t.ms >= 10 - 1e-9)).toBeTrue();
  });

  it('a pool with lookahead hands a busy thread its next task at once', async () => {
    if (!existsSync('models/viewport/model.json')) pending('models/viewport not found');
    const pool = await new TaskPool({ size: 1, modelsDir: 'models', padMs: 150, lookahead: 1 }).ready();
    try {
      const t0 = performance.now();
      const a = pool.run(input());
      const b = pool.run(input()).then((r) => ({ ...r, took: performance.now() - t0 }));
      const c = pool.run(input());
      expect(pool.held).toBe(2); // one running, one on deck; the third waits in the pool
      const rb = await b;
      // the thread's own time is its 150 ms; the caller waited for the first task too
      expect(rb.threadMs!).toBeGreaterThanOrEqual(149);
      expect(rb.took).toBeGreaterThan(rb.threadMs! + 140);
      await Promise.all([a, c]);
      expect(pool.held).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('runs tasks on worker_threads in parallel, one per slot, with the real model', async () => {
    if (!existsSync('models/viewport/model.json')) pending('models/viewport not found');
    const pool = await new TaskPool({ size: 2, modelsDir: 'models', padMs: 300 }).ready();
    try {
      const local = await viewportExecutor('models');
      const want = (await local(input())).points;
      // two tasks held 300 ms each on two threads: both end well before 600 ms (they overlap)
      const t0 = performance.now();
      const [a, b] = await Promise.all([pool.run(input()), pool.run(input())]);
      const took = performance.now() - t0;
      expect(a.model).toBe('viewport');
      expect(a.points).toEqual(want);
      expect(b.points).toEqual(want);
      expect(took).toBeGreaterThanOrEqual(299);
      expect(took).toBeLessThan(590);
      // a bad input is an error from the thread, not a dead pool
      await expectAsync(pool.run({ hist: [1, 0], t: 1 })).toBeRejectedWithError(/whole/);
      expect((await pool.run(input())).points).toEqual(want);
    } finally {
      await pool.close();
    }
    await expectAsync(pool.run(input())).toBeRejectedWithError(/closed/);
  });
});
