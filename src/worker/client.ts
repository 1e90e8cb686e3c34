/**
 * Main-thread side of the one edgeplay worker: start it from a URL, talk to it through comlink with the
 * typed `WorkerApi` (worker/protocol.ts), and hand each model adapter its port — `workerAbrPort` for the
 * hls.js ABR controller, `workerViewportPort` for the 360° client, `workerProfilePort` for the profiler.
 * One worker hosts every model, so tfjs loads once. A late or failed answer is the adapter's cue to fall back.
 */
import * as Comlink from 'comlink';
import type { AbrPort } from '../abr/hls-controller.js';
import type { LiveDecision, LiveDecisionRequest } from '../abr/live.js';
import type { ProfilePort } from '../profile/client.js';
import type { ViewportPort } from '../viewport/client.js';
import { ABR_SLOT_BYTES, AbrSlot, type AbrReply, type AbrRequest, type WorkerApi } from './protocol.js';

export interface WorkerHandle {
  /** the worker's API (every call is asynchronous on this side) */
  api: Comlink.Remote<WorkerApi>;
  worker: Worker;
  terminate(): void;
}

/**
 * Start the worker bundle (`edgeplay/worker`, dist/edgeplay.worker.js) from `url`. Nothing heavy loads
 * until a model is initialised through one of the ports.
 */
export function startWorker(url: string | URL): WorkerHandle {
  const worker = new Worker(url, { type: 'classic', name: 'edgeplay' });
  const api = Comlink.wrap<WorkerApi>(worker);
  return { api, worker, terminate: () => worker.terminate() };
}

/** Where the time of one worker decision went (ms): to the worker, in the policy, back to the page. */
export interface AbrTiming {
  toWorkerMs: number;
  computeMs: number;
  backMs: number;
  totalMs: number;
}

/**
 * The ABR decision port of a started worker (for `createAbrController`): a dedicated MessageChannel
 * (no comlink round trip per decision). Call it once per worker (each call opens a channel) and `close()`
 * it when done. `timings` keeps the breakdown of the last 256 answers. `init` loads the DRL model.
 *
 * In a cross-origin isolated page (`crossOriginIsolated`, served with COOP `same-origin` and COEP `require-corp`)
 * the worker also writes each answer into a SharedArrayBuffer slot, and `peek` reads it synchronously: the
 * controller's `nextAutoLevel` getter takes the answer the moment the worker has it, without waiting for the
 * reply message to get through the page's busy event loop. `slot: false` keeps to messages; `shared` tells
 * which one is in use.
 */
export function workerAbrPort(
  w: WorkerHandle,
  opts: { slot?: boolean } = {},
): AbrPort & {
  init(modelUrl: string): Promise<string>;
  /** load the live policy and the chunk-size forecaster (models/live-abr-drl, models/chunk-size) */
  initLive(policyUrl: string, sizeModelUrl: string): Promise<string>;
  decideLive(req: LiveDecisionRequest): Promise<LiveDecision>;
  timings: AbrTiming[];
  close(): void;
  shared: boolean;
} {
  const ch = new MessageChannel();
  const pending = new Map<
    number,
    { res: (m: AbrReply & { level: number }) => void; rej: (e: Error) => void; t0: number; table: boolean }
  >();
  const timings: AbrTiming[] = [];
  let next = 0;
  const epoch = () => performance.timeOrigin + performance.now();
  const isolated = opts.slot !== false && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const slot = isolated && typeof SharedArrayBuffer === 'function' ? new AbrSlot(new SharedArrayBuffer(ABR_SLOT_BYTES)) : null;
  ch.port1.onmessage = (e: MessageEvent<AbrReply>) => {
    const t3 = epoch();
    const m = e.data;
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    // decision tables are built while a fragment loads, off the decision path: their time is not a decision's
    if (!p.table) {
      timings.push({ toWorkerMs: m.recv - p.t0, computeMs: m.sent - m.recv, backMs: t3 - m.sent, totalMs: t3 - p.t0 });
      if (timings.length > 256) timings.shift();
    }
    if (m.error !== undefined) p.rej(Object.assign(new Error(m.error), { permanent: !!m.permanent }));
    else p.res(m);
  };
  const ask = (req: AbrRequest) =>
    new Promise<AbrReply & { level: number }>((res, rej) => {
      // answers that never come (killed worker) must not pile up: the controller has long fallen back
      if (pending.size > 64) pending.delete(pending.keys().next().value as number);
      pending.set(req.id, { res, rej, t0: epoch(), table: !!req.table });
      ch.port1.postMessage(req);
    });
  const port2 = ch.port2;
  void (slot ? w.api.connectAbr(Comlink.transfer(port2, [port2]), slot.buffer) : w.api.connectAbr(Comlink.transfer(port2, [port2])));
  return {
    timings,
    shared: !!slot,
    init: (modelUrl) => w.api.initAbr({ modelUrl }),
    initLive: (policyUrl, sizeModelUrl) => w.api.initLive({ policyUrl, sizeModelUrl }),
    decide(policy, obs) {
      const id = ++next;
      const p = ask({ id, policy, obs }).then((m) => m.level);
      if (!slot) return p;
      // the synchronous view of this request's answer (null until the worker has written it; errors come as messages)
      return Object.assign(p, {
        peek: () => {
          const a = slot.read(id);
          return a && a.level >= 0 ? { level: a.level, at: a.at - performance.timeOrigin } : null;
        },
      });
    },
    table: (policy, table, opts) =>
      ask({ id: ++next, policy, table, sliceMs: opts?.sliceMs }).then((m) => {
        if (!m.table) throw new Error('table: the worker answered without its table');
        return m.table;
      }),
    decideLive: (live) =>
      ask({ id: ++next, live }).then((m) => {
        if (!m.live) throw new Error('live: the worker answered without its decision');
        return m.live;
      }),
    close() {
      ch.port1.close();
      for (const p of pending.values()) p.rej(new Error('port closed'));
      pending.clear();
    },
  };
}

/** The viewport predictor of a started worker (for `ViewportClient`). */
export function workerViewportPort(w: WorkerHandle): ViewportPort {
  return {
    init: (modelUrl) => w.api.initViewport({ modelUrl }),
    setPrior: (prior) => w.api.setViewportPrior(prior),
    predict: (hist, t, o) => w.api.predictViewport(hist, t, o),
  };
}

/** The QoE-preference model of a started worker (for `Profiler`). */
export function workerProfilePort(w: WorkerHandle): ProfilePort {
  return {
    init: (modelUrl) => w.api.initProfile({ modelUrl }),
    predict: (x) => w.api.predictProfile(x),
  };
}
