/**
 * The fleet under faults (`npm run bench:chaos`, entry in cli/chaos.ts; the same scenario, smaller, is the node
 * test test/node/chaos.spec.ts). Two controller processes (src/server/main.ts `--redis --pg`) on one Redis (append-
 * only file, fsync always) and one PostgreSQL, real HTTP on loopback; simulated viewers reach them through a
 * round-robin balancer (a request that cannot connect to one process goes to the next, as a load balancer with
 * health checks does; a request that times out is not sent elsewhere). Each viewer, once per tick: negotiates when its view starts (a 503 or no answer means it
 * plays that view from the CDN: a CDN fallback), reloads its steering manifest, and queues a telemetry batch
 * which it sends with every batch not yet acknowledged (an SDK outbox); an acknowledged batch is sometimes sent
 * again (a lost acknowledgement). A view ends with a `viewend` batch and a leave. Meanwhile the scenario injects
 * one fault after another — `kill -9` of one controller then its restart, a Redis restart, a PostgreSQL restart —
 * waiting after each until the fleet answers all three kinds of request again, then a steady spell.
 *
 * Counted, per fault (what happened from its injection to the next one; a first row `none` is the steady state
 * before any fault): batches acknowledged in that window and how many of them PostgreSQL holds at the end (lost:
 * acknowledged but not stored whole; duplicated: stored with more event rows than it carries), the edges' usage
 * above capacity sampled from Redis every `sampleMs` (Mb/s above, 0 when never above), steering reloads answered
 * 404 while the session was live (its lease renewed less than a lease ago; 404s after a viewer's reloads all
 * failed for longer than the lease are counted apart), negotiations that fell back to the CDN, and seconds from
 * the injection until every process answered a negotiation, a steering reload and a telemetry batch again
 * (`recovery_s`; a time, reported, never asserted). Writes bench/results/chaos.json rows {fault, acked, stored,
 * lost, duplicated, max_usage_over_capacity, steering_404, cdn_fallbacks, recovery_s, …}.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TelemetryBatch, TelemetryEvent } from '../src/core/protocol.js';
import type { EdgeConfig } from '../src/server/edges.js';
import { RedisAssignmentStore } from '../src/server/redis-store.js';
import {
  haveRedis,
  havePostgres,
  spawnController,
  startPostgres,
  startRedis,
  whyNoPostgres,
  whyNoRedis,
  type ControllerProcess,
} from '../test/services.js';

export type ChaosFault = 'controller-kill9' | 'redis-restart' | 'postgres-restart';
export const CHAOS_FAULTS: readonly ChaosFault[] = ['controller-kill9', 'redis-restart', 'postgres-restart'];

export interface ChaosOptions {
  /** simulated viewers, each playing one view after another (default 2000) */
  viewers?: number;
  /** ms between a viewer's ticks: one steering reload and one telemetry batch per tick (default 4000) */
  tickMs?: number;
  /** ticks a view lasts, drawn uniformly from this range (default [4, 12]) */
  viewTicks?: [number, number];
  /** probability that an acknowledged batch is sent once more (its acknowledgement lost; default 0.1) */
  resendP?: number;
  /** ms of steady service before the first fault and after each recovery (default 4000) */
  steadyMs?: number;
  /** steering reloads and telemetry batches answered 200 a steady spell needs, besides its time (default min(viewers, 100)) */
  steadyRequests?: number;
  /** ms after an injection before a fleet not serving again is given up on (recovery_s null; default 300000) */
  recoveryMaxMs?: number;
  /** ms a killed service stays down before it is started again (default 1500) */
  downMs?: number;
  /** faults, in order (default all three) */
  faults?: readonly ChaosFault[];
  /** ms between samples of the edges' usage, taken by a process of its own (bench/chaos-sampler.ts; default 50) */
  sampleMs?: number;
  /** ms over which the viewers' first views start, evenly spread (default 60 000; 0: all within the first tick) */
  rampMs?: number;
  /** seed of the viewers' random choices (default 1) */
  seed?: number;
  /** results file (default bench/results/chaos.json); null writes none */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

/** One row per window: `none` (before any fault), then one per fault injected. */
export interface ChaosRow {
  fault: ChaosFault | 'none';
  /** distinct batches first acknowledged (200) in this window */
  acked: number;
  /** of those, stored whole in PostgreSQL at the end */
  stored: number;
  /** acknowledged but missing or incomplete in PostgreSQL */
  lost: number;
  /** stored with more event rows than the batch carries */
  duplicated: number;
  /** the most any edge's reserved Mb/s exceeded its capacity in a sample (0: never above) */
  max_usage_over_capacity: number;
  /** the highest sampled usage / capacity (how close to full the edges ran) */
  max_usage_ratio: number;
  /** steering reloads answered 404 while the session was live (renewed less than a lease ago) */
  steering_404: number;
  /** steering reloads answered 404 after the session's lease (30 s) had passed without a successful reload */
  steering_404_expired: number;
  /** view starts whose negotiation failed (503, or no process answered): played from the CDN */
  cdn_fallbacks: number;
  /** seconds from the injection until every process answered all three kinds of request (null: `none`, or never) */
  recovery_s: number | null;
  /** requests in this window, by kind and answer ('200', '404', '503', 'error', …) */
  requests: Record<string, Record<string, number>>;
  /** usage samples taken in this window (Redis answered) */
  samples: number;
  /** the longest gap between two consecutive samples in this window, ms (Redis down included) */
  max_sample_gap_ms: number;
}

/** CPU time by role over the run, from /proc (Linux): who used the 2 cores while the scenario ran. */
export interface CpuShare {
  /** wall seconds the account ran */
  wall_s: number;
  /** CPU seconds available (cores × wall) */
  available_s: number;
  /** CPU seconds by role: 'load generator' (this process), 'controllers', 'sampler', 'redis', 'postgres', 'rest of the machine' */
  cpu_s: Record<string, number>;
  /** requests answered (any status) over the run, and CPU ms per answered request of each role of ours */
  requests: number;
  cpu_ms_per_request: Record<string, number>;
}

export interface ChaosResult {
  command: string;
  viewers: number;
  tick_ms: number;
  ramp_ms: number;
  /** 1-minute load average at the start and at the end of the run (os.loadavg) */
  loadavg: { start: number; end: number };
  rows: ChaosRow[];
  /** the edges' usage over the run: 1-s bins, each the highest sample in it (null: no sample, Redis down) */
  usage_curve: {
    sample_ms: number;
    samples: number;
    t_s: number[];
    edges: Record<string, { cap_mbps: number; used_mbps: Array<number | null> }>;
  };
  cpu: CpuShare | null;
}

/** One /proc/<pid>/stat: parent pid and utime + stime in clock ticks; null when the process is gone. */
function procStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds by role from /proc, sampled every `everyMs`: a process counts what it used since the account started
 * (since its start when it started later) up to its last sample. Linux only; elsewhere `stop()` returns null.
 */
function cpuAccount(roleOf: (pid: number, ppid: number) => string, everyMs = 1000) {
  const TICK_S = 0.01; // USER_HZ: 100 on Linux
  const base = new Map<number, number>();
  const last = new Map<number, { role: string; ticks: number }>();
  const t0 = Date.now();
  let first = true;
  const sample = () => {
    let pids: number[];
    try {
      pids = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
    } catch {
      return false;
    }
    for (const pid of pids) {
      const st = procStat(pid);
      if (!st) continue;
      if (!base.has(pid)) base.set(pid, first ? st.ticks : 0);
      const prev = last.get(pid);
      // a reused pid (a new process): count the old one as it was, start the new one at 0
      if (prev && st.ticks < prev.ticks) {
        last.set(-pid - Math.random(), { role: prev.role, ticks: prev.ticks - base.get(pid)! });
        base.set(pid, 0);
      }
      last.set(pid, { role: prev && st.ticks >= prev.ticks ? prev.role : roleOf(pid, st.ppid), ticks: st.ticks });
    }
    first = false;
    return true;
  };
  const ok = sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(requests: number): CpuShare | null {
      clearInterval(timer);
      if (!ok) return null;
      sample();
      const cpu: Record<string, number> = {};
      for (const [pid, v] of last) cpu[v.role] = (cpu[v.role] ?? 0) + (v.ticks - (pid > 0 ? (base.get(pid) ?? 0) : 0)) * TICK_S;
      const wall = (Date.now() - t0) / 1000;
      const per: Record<string, number> = {};
      for (const [role, sec] of Object.entries(cpu))
        if (role !== 'rest of the machine') per[role] = Math.round((sec * 1e6) / Math.max(1, requests)) / 1000;
      for (const k of Object.keys(cpu)) cpu[k] = Math.round(cpu[k] * 10) / 10;
      return { wall_s: Math.round(wall), available_s: Math.round(wall * cpus().length), cpu_s: cpu, requests, cpu_ms_per_request: per };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the viewers read of an answer (the part of fetch's Response they use). */
interface Answer {
  status: number;
  json(): Promise<any>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** one keep-alive agent for all simulated viewers: node:http costs the load generator far less CPU per request than fetch */
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

/**
 * One HTTP request over `agent`, its whole body read. @throws Error with `code` ECONNREFUSED / ECONNRESET / EPIPE
 * when the process cannot be reached, 'ETIMEDOUT' after `timeoutMs`
 */
function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  timeoutMs = 15000,
): Promise<Answer> {
  return new Promise((res, rej) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('error', rej);
      r.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        res({
          status: r.statusCode ?? 0,
          json: async () => JSON.parse(body.toString('utf8')),
          arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
        });
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    req.end(init.body);
  });
}

const EDGES: EdgeConfig[] = [
  { id: 'small', url: 'http://127.0.0.1:9', setting: 'thin' },
  { id: 'mid', url: 'http://127.0.0.1:10', setting: 'mid' },
];
const VARIANTS = [0, 1, 2].map((k) => ({ id: `v${k}`, uri: `http://127.0.0.1:9/streams/vod/v${k}/index.m3u8` }));
const CHANNELS = ['news', 'sports', 'music', 'talk', 'games', 'film'];

/**
 * Run the scenario and return (and print, and write) its rows.
 * @throws Error when redis-server or PostgreSQL is not installed (the messages say what to install)
 */
export async function runChaos(o: ChaosOptions = {}): Promise<ChaosResult> {
  if (!haveRedis) throw new Error(whyNoRedis);
  if (!havePostgres) throw new Error(whyNoPostgres);
  const log = o.log ?? ((s: string) => console.log(s));
  const VIEWERS = o.viewers ?? 2000;
  const TICK = o.tickMs ?? 4000;
  const [vMin, vMax] = o.viewTicks ?? [4, 12];
  const RESEND = o.resendP ?? 0.1;
  const STEADY = o.steadyMs ?? 4000;
  const DOWN = o.downMs ?? 1500;
  const FAULTS = o.faults ?? CHAOS_FAULTS;
  const LEASE_MS = 30e3;
  const STEADY_N = o.steadyRequests ?? Math.min(VIEWERS, 100);
  const RECOVERY_MAX = o.recoveryMaxMs ?? 300e3;
  const RAMP = o.rampMs ?? 60e3;
  const SAMPLE_MS = o.sampleMs ?? 50;
  const load0 = loadavg()[0];
  let seed = o.seed ?? 1;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

  const redis = await startRedis({ persistent: true });
  const pg = await startPostgres();
  const db = await pg.createDatabase('chaos');
  const flags = [
    '--redis',
    redis.url,
    '--pg',
    db,
    '--edges',
    JSON.stringify(EDGES),
    '--rate',
    '1000000',
    '--lease',
    String(LEASE_MS / 1000),
  ];
  const ctl: ControllerProcess[] = [];
  const probeStore = await RedisAssignmentStore.connect(redis.url, EDGES);
  let stop = false;
  try {
    for (let k = 0; k < 2; k++) ctl.push(await spawnController(flags));

    // ------------------------------------------------------------ windows and counters
    const rows: ChaosRow[] = [];
    /** when each window (row) began, epoch ms: the usage samples are read into the rows by their time at the end */
    const rowStarts: number[] = [];
    const newRow = (fault: ChaosRow['fault']): ChaosRow => (
      rowStarts.push(Date.now()),
      {
        fault,
        acked: 0,
        stored: 0,
        lost: 0,
        duplicated: 0,
        max_usage_over_capacity: 0,
        max_usage_ratio: 0,
        steering_404: 0,
        steering_404_expired: 0,
        cdn_fallbacks: 0,
        recovery_s: null,
        requests: {},
        samples: 0,
        max_sample_gap_ms: 0,
      }
    );
    rows.push(newRow('none'));
    const roleOf = (pid: number, ppid: number) => {
      if (pid === process.pid) return 'load generator';
      if (ctl.some((c) => c.proc.pid === pid)) return 'controllers';
      if (pid === samplerProc.pid) return 'sampler';
      if (pid === redis.proc.pid) return 'redis';
      if (pgPids.has(ppid) || isPostmaster(pid)) return (pgPids.add(pid), 'postgres');
      return 'rest of the machine';
    };
    /** the postmasters (found by the port in their command line) and their backends */
    const pgPids = new Set<number>();
    const isPostmaster = (pid: number) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return /postgres/.test(cmd) && (cmd.includes(`-p\0${pg.port}\0`) || cmd.includes(`-p ${pg.port} `));
      } catch {
        return false;
      }
    };
    const cur = () => rows[rows.length - 1];
    const count = (kind: string, answer: string) => {
      const r = (cur().requests[kind] ??= {});
      r[answer] = (r[answer] ?? 0) + 1;
    };
    /** batch id → [events it carries, the row of its first acknowledgement] */
    const acked = new Map<string, [number, ChaosRow]>();

    // ------------------------------------------------------------ the balancer
    let rr = 0;
    /** a request through the balancer: the next process in turn; one that cannot be reached, the next after it */
    async function lb(path: string, init: Parameters<typeof call>[1] = {}): Promise<Answer | null> {
      const start = rr++;
      for (let k = 0; k < ctl.length; k++) {
        const c = ctl[(start + k) % ctl.length];
        try {
          return await call(c.url + path, init);
        } catch (e) {
          // refused or reset (the process is gone): the next one; a timeout is not retried elsewhere (a balancer
          // that did would double the load of an overloaded fleet)
          const code = (e as NodeJS.ErrnoException).code ?? '';
          if (!/ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET/.test(code)) return null;
        }
      }
      return null;
    }
    const json = (body: unknown) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (r: Answer | null) => (r ? (answered++, String(r.status)) : 'error');

    // ------------------------------------------------------------ viewers
    let batchN = 0;
    /** viewers that have begun their first view: the faults wait for all of them */
    let started = 0;
    const pad = (n: number, w = 8) => String(n).padStart(w, '0');
    async function viewer(i: number) {
      const viewerId = `viewer-${pad(i)}`;
      const outbox: TelemetryBatch[] = [];
      let views = 0;
      // arrivals spread over the ramp (2,000 negotiations in one tick is a thundering herd, not a fleet's day)
      await sleep(RAMP > 0 ? (i / VIEWERS) * RAMP + rnd() * (RAMP / VIEWERS) : rnd() * TICK);
      started++;
      while (!stop) {
        const viewId = `view-${pad(i)}-${views++}`;
        const channel = CHANNELS[Math.floor(rnd() * CHANNELS.length)];
        const ticks = vMin + Math.floor(rnd() * (vMax - vMin + 1));
        let seq = 0;
        // negotiate: a failure plays this view from the CDN
        let renewedAfter = Date.now(); // the lease was last renewed no earlier than this
        const nr = await lb(
          '/v1/negotiate',
          json({
            viewer_id: viewerId,
            channel,
            rtt_ms: { cdn: 600, small: 20 + (i % 7), mid: 25 + (i % 5) },
            bandwidth_mbps: 20,
            variants: VARIANTS,
          }),
        );
        count('negotiate', answer(nr));
        let session: { session: string; token: string; steering_uri: string; assignment: { target: string } } | null = null;
        if (nr?.status === 200) session = await nr.json();
        else {
          await nr?.arrayBuffer();
          cur().cdn_fallbacks++;
        }
        const sessionId = session?.session ?? `cdn-${viewId}`;
        for (let t = 0; t < ticks && !stop; t++) {
          const last = t === ticks - 1;
          if (session) {
            const sent = Date.now();
            const r = await lb(`${session.steering_uri}&_HLS_pathway=${session.assignment.target}`);
            count('steering', answer(r));
            if (r?.status === 200) renewedAfter = sent;
            // a 404 is a fault only when the session was surely alive: its lease renewed less than a lease ago
            // (a viewer whose reloads all failed for longer than the lease has lost its session, as it should)
            if (r?.status === 404) Date.now() - renewedAfter < LEASE_MS ? cur().steering_404++ : cur().steering_404_expired++;
            await r?.arrayBuffer();
          }
          const t0 = Date.now();
          const events: TelemetryEvent[] =
            t === 0
              ? [
                  { view_id: viewId, seq: seq++, t: t0, type: 'viewstart', data: { channel, content_id: channel } },
                  { view_id: viewId, seq: seq++, t: t0 + 1, type: 'play' },
                ]
              : [{ view_id: viewId, seq: seq++, t: t0, type: 'interaction', data: { kind: 'chat' } }];
          if (last) events.push({ view_id: viewId, seq: seq++, t: t0 + 2, type: 'viewend', data: { reason: 'detach' } });
          outbox.push({
            v: 1,
            batch_id: `batch-${pad(i)}-${pad(batchN++, 9)}`,
            viewer_id: viewerId,
            session_id: sessionId,
            sealed_at: t0,
            events,
          });
          await flush(outbox);
          if (last && session) {
            const r = await lb(`/v1/sessions/${session.session}/leave?token=${encodeURIComponent(session.token)}`, { method: 'POST' });
            count('leave', answer(r));
            await r?.arrayBuffer();
          }
          if (!stop) await sleep(TICK * (0.8 + 0.4 * rnd()));
        }
      }
      // drain: what is not acknowledged yet is sent until it is (the SDK keeps its outbox)
      for (let k = 0; k < 200 && outbox.length; k++) {
        await flush(outbox);
        if (outbox.length) await sleep(100);
      }
      if (outbox.length) throw new Error(`viewer ${i}: ${outbox.length} batches never acknowledged`);
    }
    /** send the outbox in order; stop at the first failure (sent again next tick) */
    async function flush(outbox: TelemetryBatch[]) {
      while (outbox.length) {
        const b = outbox[0];
        const r = await lb('/v1/telemetry', json(b));
        count('telemetry', answer(r));
        if (r?.status !== 200) {
          await r?.arrayBuffer();
          return;
        }
        await r.json();
        outbox.shift();
        if (!acked.has(b.batch_id)) acked.set(b.batch_id, [b.events.length, cur()]);
        if (rnd() < RESEND) {
          const again = await lb('/v1/telemetry', json(b));
          count('telemetry-resend', answer(again));
          await again?.arrayBuffer();
        }
      }
    }

    // ------------------------------------------------------------ the capacity sampler (a process of its own)
    const sampleDir = mkdtempSync(join(tmpdir(), 'edgeplay-chaos-'));
    const sampleFile = join(sampleDir, 'usage.txt');
    const samplerProc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(import.meta.dirname, 'chaos-sampler.ts'),
        redis.url,
        JSON.stringify(EDGES),
        String(SAMPLE_MS),
        sampleFile,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const samplerDone = new Promise<void>((r) => samplerProc.once('exit', () => r()));
    // the viewers start once the sampler has its first sample (node + tsx may take seconds to start on a busy machine)
    for (let k = 0; ; k++) {
      const first = ((): string => {
        try {
          return readFileSync(sampleFile, 'utf8');
        } catch {
          return '';
        }
      })();
      if (first.includes('\n')) break;
      if (samplerProc.exitCode !== null) throw new Error(`the usage sampler exited (${samplerProc.exitCode}) before its first sample`);
      if (k > 1200) throw new Error('the usage sampler took no sample within 120 s');
      await sleep(100);
    }
    /** answered requests (any status), for CPU per request */
    let answered = 0;

    // ------------------------------------------------------------ recovery probe
    let probeN = 0;
    /** every process answers a negotiation, a steering reload and a telemetry batch with 200 */
    async function serves(): Promise<boolean> {
      for (const c of ctl) {
        try {
          const id = `probe-${pad(probeN++)}`;
          const n = await fetch(`${c.url}/v1/negotiate`, {
            ...json({ viewer_id: id, channel: 'probe', bandwidth_mbps: 1 }),
            signal: AbortSignal.timeout(15000),
          });
          if (n.status !== 200) return (await n.arrayBuffer(), false);
          const s = await n.json();
          const m = await fetch(`${c.url}${s.steering_uri}`, { signal: AbortSignal.timeout(15000) });
          await m.arrayBuffer();
          await fetch(`${c.url}/v1/sessions/${s.session}/leave?token=${encodeURIComponent(s.token)}`, { method: 'POST' }).then((r) =>
            r.arrayBuffer(),
          );
          if (m.status !== 200) return false;
          const b: TelemetryBatch = {
            v: 1,
            batch_id: `batch-${id}`,
            viewer_id: id,
            session_id: s.session,
            sealed_at: Date.now(),
            events: [{ view_id: `view-${id}`, seq: 0, t: Date.now(), type: 'play' }],
          };
          const t = await fetch(`${c.url}/v1/telemetry`, { ...json(b), signal: AbortSignal.timeout(15000) });
          await t.arrayBuffer();
          if (t.status !== 200) return false;
        } catch {
          return false;
        }
      }
      return true;
    }

    // ------------------------------------------------------------ the run
    log(`bench:chaos — ${VIEWERS} viewers, a tick every ${TICK} ms, 2 controllers, Redis ${redis.url}, PostgreSQL on port ${pg.port}`);
    rowStarts[0] = Date.now(); // the first window begins with the viewers
    const cpu = cpuAccount(roleOf);
    const viewers = Array.from({ length: VIEWERS }, (_, i) => viewer(i));
    /**
     * A steady spell, counted: at least `steadyMs`, and until this window has seen `steadyRequests` steering
     * reloads and telemetry batches answered 200 (on a busy machine time alone may pass with nothing served)
     */
    const steady = async () => {
      const t = Date.now(),
        r = cur().requests;
      const ok = (kind: string) => r[kind]?.['200'] ?? 0;
      while (Date.now() - t < STEADY || ok('steering') < STEADY_N || ok('telemetry') < STEADY_N) {
        if (Date.now() - t > 600e3) throw new Error(`no steady service within 600 s: ${JSON.stringify(r)}`);
        await sleep(100);
      }
    };
    // every viewer in before the first fault (the ramp), then a steady spell
    while (started < VIEWERS) await sleep(100);
    await sleep(TICK);
    await steady();
    log(`all ${VIEWERS} viewers in, steady; the faults begin`);
    for (const fault of FAULTS) {
      rows.push(newRow(fault));
      const t0 = Date.now();
      if (fault === 'controller-kill9') await ctl[0].kill9();
      else if (fault === 'redis-restart') await redis.kill();
      else await pg.kill();
      await sleep(DOWN);
      if (fault === 'controller-kill9') await ctl[0].start();
      else if (fault === 'redis-restart') await redis.start();
      else await pg.start();
      log(`${fault}: injected; restarted after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      let back = await serves();
      while (!back && Date.now() - t0 < RECOVERY_MAX) back = (await sleep(100), await serves());
      cur().recovery_s = back ? Math.round((Date.now() - t0) / 100) / 10 : null;
      log(`${fault}: ${back ? `every process serves again ${cur().recovery_s} s after the injection` : 'never served again'}`);
      await steady();
    }
    stop = true;
    log("draining the viewers' outboxes");
    await Promise.all(viewers);
    const cpuShare = cpu.stop(answered);
    samplerProc.kill('SIGTERM');
    await samplerDone;

    // ------------------------------------------------------------ the usage samples, by window and as a curve
    const t0run = rowStarts[0];
    const curve: ChaosResult['usage_curve'] = { sample_ms: SAMPLE_MS, samples: 0, t_s: [], edges: {} };
    for (const e of EDGES) curve.edges[e.id] = { cap_mbps: 0, used_mbps: [] };
    const rowAt = (t: number) => {
      let k = 0;
      while (k + 1 < rows.length && rowStarts[k + 1] <= t) k++;
      return rows[k];
    };
    let prevT = 0;
    const bins = new Map<number, Map<string, number>>();
    for (const line of readFileSync(sampleFile, 'utf8').split('\n')) {
      if (!line) continue;
      const [ts, ...rest] = line.split(' ');
      const t = Number(ts);
      const row = rowAt(t);
      if (prevT) row.max_sample_gap_ms = Math.max(row.max_sample_gap_ms, t - prevT);
      prevT = t;
      if (rest[0] === 'down') continue;
      row.samples++;
      curve.samples++;
      const bin = Math.floor((t - t0run) / 1000);
      const b = bins.get(bin) ?? new Map<string, number>();
      bins.set(bin, b);
      for (const f of rest) {
        const [id, used, cap] = f.split(':');
        const u = Number(used),
          c = Number(cap);
        // usage is a sum of the versions' Mb/s (1.85, 0.75, …): below 1e-9 Mb/s over is the float sum's rounding, not a reservation
        row.max_usage_over_capacity = Math.max(row.max_usage_over_capacity, u - c > 1e-9 ? u - c : 0);
        row.max_usage_ratio = Math.max(row.max_usage_ratio, u / c);
        curve.edges[id].cap_mbps = c;
        b.set(id, Math.max(b.get(id) ?? 0, u));
      }
    }
    rmSync(sampleDir, { recursive: true, force: true });
    const lastBin = Math.max(0, ...bins.keys());
    for (let k = 0; k <= lastBin; k++) {
      curve.t_s.push(k);
      for (const e of EDGES) curve.edges[e.id].used_mbps.push(bins.get(k)?.get(e.id) ?? null);
    }

    // ------------------------------------------------------------ what PostgreSQL holds
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: db });
    await c.connect();
    const held = new Map<string, number>();
    try {
      const r = await c.query<{ batch_id: string; n: number }>(
        'SELECT b.batch_id, count(e.batch_id)::int AS n FROM batches b LEFT JOIN events e ON e.batch_id = b.batch_id GROUP BY b.batch_id',
      );
      for (const x of r.rows) held.set(x.batch_id, x.n);
    } finally {
      await c.end();
    }
    for (const [id, [n, row]] of acked) {
      row.acked++;
      const h = held.get(id);
      if (h === undefined || h < n) row.lost++;
      else row.stored++;
      if (h !== undefined && h > n) row.duplicated++;
    }
    log('fault              acked   stored  lost  dup  over-cap  usage  404  cdn-fallbacks  recovery_s  samples  max-gap-ms');
    for (const r of rows)
      log(
        `${r.fault.padEnd(17)} ${String(r.acked).padStart(6)}  ${String(r.stored).padStart(6)}  ${String(r.lost).padStart(4)}  ${String(r.duplicated).padStart(3)}  ${r.max_usage_over_capacity.toFixed(2).padStart(8)}  ${r.max_usage_ratio.toFixed(2).padStart(5)}  ${String(r.steering_404).padStart(3)}  ${String(r.cdn_fallbacks).padStart(13)}  ${String(r.recovery_s ?? '-').padStart(10)}  ${String(r.samples).padStart(7)}  ${String(r.max_sample_gap_ms).padStart(10)}`,
      );
    const load1 = loadavg()[0];
    log(`load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end; ${curve.samples} usage samples`);
    if (cpuShare) {
      log(
        `CPU seconds over ${cpuShare.wall_s} s (${cpuShare.available_s} available on ${cpus().length} cores), ${cpuShare.requests} requests answered:`,
      );
      for (const [role, sec] of Object.entries(cpuShare.cpu_s).sort((a, b) => b[1] - a[1]))
        log(
          `  ${role.padEnd(20)} ${String(sec).padStart(8)} s${role in cpuShare.cpu_ms_per_request ? `  (${cpuShare.cpu_ms_per_request[role]} ms per request)` : ''}`,
        );
    }
    const result: ChaosResult = {
      command: o.command ?? 'runChaos (library call)',
      viewers: VIEWERS,
      tick_ms: TICK,
      ramp_ms: RAMP,
      loadavg: { start: Math.round(load0 * 10) / 10, end: Math.round(load1 * 10) / 10 },
      rows,
      usage_curve: curve,
      cpu: cpuShare,
    };
    const outFile = o.out === undefined ? 'bench/results/chaos.json' : o.out;
    if (outFile) {
      mkdirSync(dirname(outFile), { recursive: true });
      writeFileSync(outFile, JSON.stringify(result, null, 1));
      log(`wrote ${outFile}`);
    }
    return result;
  } finally {
    stop = true;
    for (const c of ctl) await c.stop().catch(() => {});
    await probeStore.close().catch(() => {});
    await redis.stop();
    await pg.stop();
  }
}
