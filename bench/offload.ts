/**
 * `npm run bench:offload` (entry in cli/offload.ts): the edge's task service over real HTTP on loopback, per
 * scheduler (auction, auction without compensation, EDF, FCFS) at offered loads from 30 % to 150 % of capacity,
 * and the device-side placement (IELB's rule vs always-local vs always-edge) for three device classes.
 *
 * Server: `TaskService` with `slots` compute slots behind POST /v1/tasks (buildServer, real fastify). Each task runs
 * the real viewport model (models/viewport) and then holds its slot until `serviceMs` have passed: the stand-in for
 * a heavier edge model (the edge-only large variant is not trained yet), so that capacity = slots / serviceMs is
 * known and the load is a true fraction of it. Clients: `clients` simulated viewers sending Poisson arrivals; a
 * quarter of the tasks are urgent (deadline 3 × serviceMs), the rest relaxed (12 × serviceMs).
 * Rows {scheduler, load, p50_ms, p95_ms, p99_ms, deadline_hit, urgent_hit, jain, throughput, refused}: response time
 * of answered tasks (done or refused) as the client saw it; deadline_hit = done within the deadline, over all tasks
 * (a refused task runs on the device: it costs its client nothing but is not a hit here); Jain over the clients'
 * hit rates; throughput in done tasks/s.
 * Placement rows {device, placement, latency_ms, energy_mj, rel_accuracy}: local latency = the model's latency
 * measured here × the device class's CPU slowdown (1, 4, 20: DevTools' throttling rates), edge latency = the p50
 * response measured at 30 % load (auction) + the upload at the class's uplink; energy from src/deploy/offload.ts
 * POWER. rel_accuracy is 1 everywhere: the edge runs the same model as the device (no large variant yet).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SCHEDULERS, type SchedulerName } from '../src/assign/auction/index.js';
import { mulberry32 } from '../src/core/random.js';
import { buildServer } from '../src/server/app.js';
import { MemoryTelemetryStore } from '../src/server/store.js';
import { TaskService, viewportExecutor } from '../src/server/tasks.js';
import { TokenService } from '../src/server/tokens.js';
import { DEVICE_CLASSES, decideOffload, type DeviceClass } from '../src/deploy/offload.js';
import { fromYawPitch } from '../src/viewport/geometry.js';

export interface BenchOffloadOptions {
  schedulers?: SchedulerName[];
  loads?: number[];
  slots?: number;
  serviceMs?: number;
  clients?: number;
  /** seconds of arrivals per (scheduler, load) */
  seconds?: number;
  seed?: number;
  modelsDir?: string;
  out?: string;
  command?: string;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const jain = (xs: number[]) => {
  const s = xs.reduce((a, b) => a + b, 0),
    q = xs.reduce((a, b) => a + b * b, 0);
  return q > 0 ? (s * s) / (xs.length * q) : 1;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchOffload(o: BenchOffloadOptions = {}) {
  const schedulers = o.schedulers ?? [...SCHEDULERS];
  const loads = o.loads ?? [0.3, 0.8, 1.2, 1.5];
  const slots = o.slots ?? 2;
  const serviceMs = o.serviceMs ?? 10;
  const clients = o.clients ?? 20;
  const seconds = o.seconds ?? 4;
  const secret = 'bench-offload';
  const tokens = new TokenService(secret);
  const model = await viewportExecutor(o.modelsDir ?? 'models');
  // the model's own latency here (the device's local time at throttle 1)
  const hist: number[] = [];
  for (let i = 0; i < 10; i++) hist.push(...fromYawPitch(10 + 3 * i, 5));
  const input = { hist, t: 12 };
  for (let i = 0; i < 200; i++) await model(input);
  const lt: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await model(input);
    lt.push(performance.now() - t0);
  }
  const localMs = pct(lt, 0.5);
  const rows: Array<Record<string, number | string>> = [];
  const capacity = (slots / serviceMs) * 1000; // tasks/s
  console.log(`capacity ${capacity.toFixed(0)} tasks/s (${slots} slots × ${serviceMs} ms); model p50 ${localMs.toFixed(3)} ms here`);
  console.log('scheduler        load   p50    p95    p99   hit    urgent  jain   thr/s  refused');
  for (const load of loads)
    for (const scheduler of schedulers) {
      const service = new TaskService({
        slots,
        scheduler,
        executors: {
          viewport: async (x) => {
            const t0 = performance.now();
            const r = await model(x);
            const left = serviceMs - (performance.now() - t0);
            if (left > 0) await sleep(left);
            return r;
          },
        },
      });
      const app = await buildServer({ store: new MemoryTelemetryStore(), negotiation: { secret }, tasks: service });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      // warm-up (JIT, connections): 50 sequential tasks, not measured
      for (let i = 0; i < 50; i++)
        await fetch(`${url}/v1/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ task: 'viewport', session: 'c0', token: tokens.issue('c0'), deadline_ms: 1000, input }),
        }).then((r) => r.arrayBuffer());
      const rng = mulberry32((o.seed ?? 1) * 1000 + Math.round(load * 100));
      const rate = (load * capacity) / 1000; // per ms
      const n = Math.round(load * capacity * seconds);
      const clientTokens = Array.from({ length: clients }, (_, c) => tokens.issue(`c${c}`));
      const results: Array<{ client: number; urgent: boolean; ms: number; done: boolean; deadline: number }> = [];
      const t0 = performance.now();
      let next = 0;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        next += -Math.log(1 - rng()) / rate;
        const wait = t0 + next - performance.now();
        if (wait > 1) await sleep(wait);
        const client = Math.floor(rng() * clients);
        const urgent = rng() < 0.25;
        const deadline = (urgent ? 3 : 12) * serviceMs;
        const s0 = performance.now();
        pending.push(
          fetch(`${url}/v1/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ task: 'viewport', session: `c${client}`, token: clientTokens[client], deadline_ms: deadline, input }),
          })
            .then(async (r) => {
              await r.arrayBuffer();
              results.push({ client, urgent, ms: performance.now() - s0, done: r.status === 200, deadline });
            })
            .catch(() => {
              results.push({ client, urgent, ms: performance.now() - s0, done: false, deadline });
            }),
        );
      }
      await Promise.all(pending);
      const took = (performance.now() - t0) / 1000;
      await app.close();
      const hit = (r: (typeof results)[number]) => r.done && r.ms <= r.deadline;
      const per = Array.from({ length: clients }, (_, c) => {
        const rs = results.filter((r) => r.client === c);
        return rs.length ? rs.filter(hit).length / rs.length : 1;
      });
      const urgent = results.filter((r) => r.urgent);
      const ms = results.map((r) => r.ms);
      const row = {
        scheduler,
        load,
        p50_ms: +pct(ms, 0.5).toFixed(2),
        p95_ms: +pct(ms, 0.95).toFixed(2),
        p99_ms: +pct(ms, 0.99).toFixed(2),
        deadline_hit: +(results.filter(hit).length / results.length).toFixed(4),
        urgent_hit: +(urgent.filter(hit).length / Math.max(1, urgent.length)).toFixed(4),
        jain: +jain(per).toFixed(4),
        throughput: +(results.filter((r) => r.done).length / took).toFixed(1),
        refused: +(results.filter((r) => !r.done).length / results.length).toFixed(4),
      };
      rows.push(row);
      console.log(
        `${scheduler.padEnd(15)} ${load.toFixed(2)}  ${row.p50_ms.toFixed(1).padStart(5)}  ${row.p95_ms.toFixed(1).padStart(5)}  ${row.p99_ms.toFixed(1).padStart(5)}  ${row.deadline_hit.toFixed(3)}  ${row.urgent_hit.toFixed(3)}   ${row.jain.toFixed(3)}  ${row.throughput.toFixed(0).padStart(5)}  ${row.refused.toFixed(3)}`,
      );
    }
  // device-side placement: the rule vs always-local vs always-edge
  const low = rows.find((r) => r.scheduler === 'auction' && r.load === Math.min(...loads)) ?? rows[0];
  const edgeRespMs = Number(low.p50_ms);
  const classes: Record<DeviceClass, { throttle: number; uplinkBps: number }> = {
    phone: { throttle: 20, uplinkBps: 5e6 },
    laptop: { throttle: 4, uplinkBps: 20e6 },
    desktop: { throttle: 1, uplinkBps: 50e6 },
  };
  const uploadBytes = JSON.stringify({ task: 'viewport', session: 'c0', token: tokens.issue('c0'), deadline_ms: 200, input }).length;
  console.log('\ndevice   placement  latency_ms  energy_mj  rel_accuracy   (rule: reason)');
  for (const device of DEVICE_CLASSES) {
    const c = classes[device];
    const d = decideOffload({
      localMs: localMs * c.throttle,
      rttMs: 0,
      uploadBytes,
      uplinkBps: c.uplinkBps,
      edgeWaitMs: 0,
      edgeExecMs: edgeRespMs, // the measured response time on loopback includes the round trip, wait and execution
      deadlineMs: 200,
      device,
    });
    const opts = {
      local: { latency_ms: d.localMs, energy_mj: d.localMj },
      edge: { latency_ms: d.edgeMs, energy_mj: d.edgeMj },
      rule: d.placement === 'edge' ? { latency_ms: d.edgeMs, energy_mj: d.edgeMj } : { latency_ms: d.localMs, energy_mj: d.localMj },
    };
    for (const placement of ['rule', 'local', 'edge'] as const) {
      const r = {
        device,
        placement,
        latency_ms: +opts[placement].latency_ms.toFixed(3),
        energy_mj: +opts[placement].energy_mj.toFixed(3),
        rel_accuracy: 1,
      };
      rows.push(r);
      console.log(
        `${device.padEnd(8)} ${placement.padEnd(9)}  ${r.latency_ms.toFixed(3).padStart(10)}  ${r.energy_mj.toFixed(3).padStart(9)}  1${placement === 'rule' ? `   (${d.placement}: ${d.reason})` : ''}`,
      );
    }
  }
  const out = o.out ?? 'bench/results/offload.json';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { command: o.command ?? 'npm run bench:offload', slots, service_ms: serviceMs, clients, seconds, model_p50_ms: localMs, rows },
      null,
      1,
    ) + '\n',
  );
  console.log(`\nwrote ${out}`);
  return rows;
}
