/**
 * Offloading on the device (IELB §4.1, ../shared/papers/ielb-edge-offloading-auction.txt): the decision whether an
 * inference task runs here or on the edge, by time and energy, and the client that sends it to the edge and falls
 * back to running it here the moment the edge is slow, refuses or fails. Browser/worker code: `fetch` only, no DOM,
 * no Node. The wire format is src/core/schemas/tasks.ts (types only). It lives in edge/ beside the negotiation client
 * (everything that talks to the edge); the worker, which sits on top of the model folders and edge/, hosts it and
 * decides per task. Variants and their choice stay in src/deploy/.
 *
 * Our copy of the paper lost its equations; the rule below is reconstructed from the prose of §4.1:
 *   local   T_l = C / f_l (the task's cycles over the device's rate) — here *measured*: the task's latency in the
 *           worker, a running mean updated as it runs; E_l = P_cpu · T_l (the device's power while computing);
 *   edge    T_e = T_up + T_exe (+ T_down, neglected by the paper since results are small): T_up = d / r, the upload
 *           bytes over the uplink rate (the paper's Shannon rate B log₂(1 + p g / σ²) — here the SDK's measured
 *           uplink estimate), plus the round trip, the edge's quoted wait and its execution time;
 *           E_e = P_tx · T_up (+ P_idle · the rest of T_e: the radio tail / idle device while it waits — our addition,
 *           the paper counts transmission energy only);
 *   rule    offload iff T_e < T_l and E_e < E_l (eqs. 8–9: edge fast enough, network good enough), and only where
 *           T_e meets the task's deadline.
 * The power model per device class cites public measurements (`POWER`).
 */
import type { OffloadTask, TaskAnswer, TaskQuote, TaskRefusal, ViewportInput } from '../core/schemas/tasks.js';

/** Device classes of the power model. */
export const DEVICE_CLASSES = ['phone', 'laptop', 'desktop'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

/**
 * Power while computing, while transmitting, and while waiting, W. Radio figures: Huang et al., "A Close Examination
 * of Performance and Power Characteristics of 4G LTE Networks", MobiSys 2012, Table 3 (LTE: P = α_u · throughput_up +
 * β, α_u = 438.39 mW/Mbit/s, β = 1288.04 mW; Wi-Fi: α_u = 283.17 mW/Mbit/s, β = 132.86 mW) — transmit power below is β
 * plus α_u at 2 Mbit/s; idle/tail is β. CPU figures are assumptions of the order published for one busy core (a
 * phone big core ~1.5–2 W, a laptop package ~10 W, a desktop ~30 W), not our measurement.
 */
export const POWER: Record<DeviceClass, { cpuW: number; txW: number; idleW: number }> = {
  phone: { cpuW: 2.0, txW: 1.288 + 0.438 * 2, idleW: 1.288 },
  laptop: { cpuW: 10, txW: 0.133 + 0.283 * 2, idleW: 0.133 },
  desktop: { cpuW: 30, txW: 0.133 + 0.283 * 2, idleW: 0.133 },
};

/** What the rule needs to know about one task now. */
export interface OffloadInputs {
  /** the task's measured latency on this device, ms */
  localMs: number;
  /** round trip to the edge, ms */
  rttMs: number;
  /** bytes sent per task */
  uploadBytes: number;
  /** uplink throughput estimate, bit/s (0: no uplink) */
  uplinkBps: number;
  /** the edge's quoted wait and execution time, ms */
  edgeWaitMs: number;
  edgeExecMs: number;
  /** the task's deadline, ms from now (Infinity: none) */
  deadlineMs: number;
  device: DeviceClass;
}

/** The decision and the numbers behind it. */
export interface OffloadDecision {
  placement: 'device' | 'edge';
  localMs: number;
  edgeMs: number;
  /** energy on the device, mJ */
  localMj: number;
  edgeMj: number;
  reason: string;
}

/** IELB's offloading rule (module doc). Never throws: unusable numbers keep the task on the device. */
export function decideOffload(x: OffloadInputs): OffloadDecision {
  const p = POWER[x.device] ?? POWER.phone;
  const upMs = x.uplinkBps > 0 ? (x.uploadBytes * 8 * 1000) / x.uplinkBps : Infinity;
  const edgeMs = x.rttMs + upMs + x.edgeWaitMs + x.edgeExecMs;
  const localMs = x.localMs;
  const localMj = p.cpuW * localMs; // W · ms = mJ
  const edgeMj = p.txW * upMs + p.idleW * (edgeMs - upMs);
  const base = { localMs, edgeMs, localMj, edgeMj };
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : String(v));
  if (!Number.isFinite(upMs)) return { ...base, placement: 'device', reason: 'no uplink: on the device' };
  if (![edgeMs, localMs, edgeMj, localMj].every((v) => v >= 0))
    return { ...base, placement: 'device', reason: 'unusable estimates: on the device' };
  if (edgeMs > x.deadlineMs)
    return { ...base, placement: 'device', reason: `the edge (${f(edgeMs)} ms) misses the ${f(x.deadlineMs)} ms deadline` };
  if (!(edgeMs < localMs))
    return { ...base, placement: 'device', reason: `the edge is not faster (${f(edgeMs)} ms vs ${f(localMs)} ms here)` };
  if (!(edgeMj < localMj))
    return { ...base, placement: 'device', reason: `the edge costs more energy (${f(edgeMj)} mJ vs ${f(localMj)} mJ here)` };
  return {
    ...base,
    placement: 'edge',
    reason: `faster (${f(edgeMs)} < ${f(localMs)} ms) and cheaper (${f(edgeMj)} < ${f(localMj)} mJ) on the edge`,
  };
}

/** Where the offload client sends tasks. */
export interface OffloadConfig {
  /** the controller's base URL (serving POST /v1/tasks) */
  url: string;
  /** the negotiated edge session and its token */
  session: string;
  token: string;
  device: DeviceClass;
  /** uplink estimate, bit/s (default 2 Mb/s; update with `setUplink`) */
  uplinkBps?: number;
  /** after an edge failure, run everything locally for this long, ms (default 5000) */
  backoffMs?: number;
  /** re-ask the edge for its quote (wait, execution, round trip) this often while tasks run, ms (default 5000) */
  quoteEveryMs?: number;
  /** fetch to use (default globalThis.fetch) */
  fetch?: typeof fetch;
}

/** One run's outcome: where it ran, why, and the result. */
export interface OffloadRun<T> {
  result: T;
  ranOn: 'device' | 'edge';
  /** when the edge was tried and failed: why (the task then ran locally) */
  fallback?: string;
  decision: OffloadDecision;
  ms: number;
}

const OFFLOADABLE: ReadonlySet<string> = new Set<OffloadTask>(['viewport']);

/**
 * The offload client: `run(task, input, {deadlineMs, local})` decides by `decideOffload` with its measured
 * numbers and runs the task on the edge or with `local`; any edge failure (network error, no answer by the deadline
 * less the local latency, 503 refusal, bad answer) runs `local` at once — still within the deadline — and a failure
 * other than a refusal keeps the edge out for `backoffMs`.
 */
export class Offloader {
  private localMs = new Map<string, number>();
  private localSamples = new Map<string, number[]>();
  private rttMs = 20;
  private rttSamples: number[] = [];
  private quotedAt = -Infinity;
  private quote: { waitMs: number; execMs: number } = { waitMs: 0, execMs: 1 };
  private downUntil = 0;
  private uplinkBps: number;
  /** counts: ran on the edge, locally by decision, locally after an edge failure */
  readonly stats = { edge: 0, local: 0, fallback: 0 };

  constructor(private cfg: OffloadConfig) {
    this.uplinkBps = cfg.uplinkBps ?? 2e6;
  }

  setUplink(bps: number): void {
    if (bps > 0 && Number.isFinite(bps)) this.uplinkBps = bps;
  }

  /** Record a local run's latency (ms): the rule's T_l is the median of the last five (a cold or stalled run is one). */
  observeLocal(task: string, ms: number): void {
    const xs = [...(this.localSamples.get(task) ?? []).slice(-4), ms];
    this.localSamples.set(task, xs);
    const s = [...xs].sort((a, b) => a - b);
    this.localMs.set(task, s[s.length >> 1]);
  }

  /** The rule's decision for a task now (before `run`). */
  decide(task: OffloadTask, uploadBytes: number, deadlineMs: number, now = Date.now()): OffloadDecision {
    if (now < this.downUntil)
      return {
        placement: 'device',
        localMs: this.localMs.get(task) ?? 0,
        edgeMs: Infinity,
        localMj: 0,
        edgeMj: Infinity,
        reason: 'the edge failed recently',
      };
    const localMs = this.localMs.get(task);
    if (localMs === undefined)
      return {
        placement: 'device',
        localMs: 0,
        edgeMs: Infinity,
        localMj: 0,
        edgeMj: Infinity,
        reason: 'no local measurement yet: on the device',
      };
    return decideOffload({
      localMs,
      rttMs: this.rttMs,
      uploadBytes,
      uplinkBps: this.uplinkBps,
      edgeWaitMs: this.quote.waitMs,
      edgeExecMs: this.quote.execMs,
      deadlineMs,
      device: this.cfg.device,
    });
  }

  /** Ask the edge for its quote (wait, execution) and measure the round trip. Never throws: false when it failed. */
  async refreshQuote(task: OffloadTask = 'viewport'): Promise<boolean> {
    const t0 = performance.now();
    this.quotedAt = t0;
    try {
      const r = await (this.cfg.fetch ?? fetch)(new URL('/v1/tasks/quote', this.cfg.url), { signal: AbortSignal.timeout(2000) });
      if (!r.ok) return false;
      const q = (await r.json()) as TaskQuote;
      // the round trip: the least of the last few quotes (a min-RTT filter: a stalled event loop inflates single samples)
      this.rttSamples = [...this.rttSamples.slice(-4), performance.now() - t0];
      this.rttMs = Math.max(0, Math.min(...this.rttSamples));
      this.quote = { waitMs: q.wait_ms, execMs: q.exec_ms[task] ?? this.quote.execMs };
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Run a task where the rule says. @throws TypeError for a task that may not leave the device (e.g. 'profile'):
   * only `OFFLOAD_TASKS` are sent; errors of `local` itself propagate.
   */
  async run<T>(
    task: OffloadTask,
    input: ViewportInput,
    o: { deadlineMs: number; local: () => T | Promise<T>; fromEdge: (a: TaskAnswer) => T },
  ): Promise<OffloadRun<T>> {
    if (!OFFLOADABLE.has(task)) throw new TypeError(`task '${String(task)}' never leaves the device`);
    const t0 = performance.now();
    // a stale quote (or one inflated by a refusal) is renewed in the background; this task decides on what is known
    if (t0 - this.quotedAt > (this.cfg.quoteEveryMs ?? 5000)) void this.refreshQuote(task);
    const body = JSON.stringify({ task, session: this.cfg.session, token: this.cfg.token, deadline_ms: o.deadlineMs, input });
    const decision = this.decide(task, body.length, o.deadlineMs);
    const runLocal = async (fallback?: string): Promise<OffloadRun<T>> => {
      const l0 = performance.now();
      const result = await o.local();
      this.observeLocal(task, performance.now() - l0);
      if (fallback) this.stats.fallback++;
      else this.stats.local++;
      return { result, ranOn: 'device', decision, ms: performance.now() - t0, ...(fallback ? { fallback } : {}) };
    };
    if (decision.placement === 'device') return runLocal();
    let why: string;
    try {
      // leave time to run it here should the edge not answer: the deadline minus the local latency
      const budget = Math.max(1, Math.floor(o.deadlineMs - (performance.now() - t0) - decision.localMs));
      const r = await (this.cfg.fetch ?? fetch)(new URL('/v1/tasks', this.cfg.url), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body,
        signal: AbortSignal.timeout(budget),
      });
      const j = (await r.json()) as TaskAnswer | TaskRefusal | { message?: string };
      if (r.ok && (j as TaskAnswer).status === 'done' && Array.isArray((j as TaskAnswer).points)) {
        const a = j as TaskAnswer;
        const took = performance.now() - t0;
        this.rttMs = 0.8 * this.rttMs + 0.2 * Math.max(0, took - a.queue_ms - a.exec_ms);
        this.quote = { waitMs: 0.8 * this.quote.waitMs + 0.2 * a.queue_ms, execMs: 0.8 * this.quote.execMs + 0.2 * a.exec_ms };
        this.stats.edge++;
        return { result: o.fromEdge(a), ranOn: 'edge', decision, ms: took };
      }
      why = `edge answered ${r.status}: ${(j as { message?: string }).message ?? 'no result'}`;
      // a refusal says the edge is busy now: its quote rises, the next tasks stay local until it is re-quoted
      if (r.status === 503) this.quote = { ...this.quote, waitMs: this.quote.waitMs + o.deadlineMs };
      else this.downUntil = Date.now() + (this.cfg.backoffMs ?? 5000);
    } catch (e) {
      why = `edge failed: ${e instanceof Error ? e.message : String(e)}`;
      this.downUntil = Date.now() + (this.cfg.backoffMs ?? 5000);
    }
    return runLocal(why);
  }
}
