/**
 * Main-thread side of the worker: start it from a URL and talk to it through comlink.
 * Every call has a deadline; a late or failed answer is the caller's cue to fall back.
 */
import * as Comlink from 'comlink';
import type { WorkerApi } from './worker.js';

export interface WorkerHandle {
  api: Comlink.Remote<WorkerApi>;
  worker: Worker;
  terminate(): void;
}

export function startWorker(url: string | URL): WorkerHandle {
  const worker = new Worker(url, { type: 'classic', name: 'edgeplay' });
  const api = Comlink.wrap<WorkerApi>(worker);
  return { api, worker, terminate: () => worker.terminate() };
}

export class DeadlineError extends Error {}

/** Resolve with `p` or reject with DeadlineError after `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((res, rej) => {
    const t = setTimeout(() => rej(new DeadlineError(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        res(v);
      },
      (e) => {
        clearTimeout(t);
        rej(e);
      },
    );
  });
}
