/**
 * The edgeplay worker: hosts every on-device model off the main thread, exposed with comlink.
 * tfjs and model weights load lazily here, never in the core bundle. Models arrive with their issues
 * (ABR policy, chunk-size predictor, QoE profiler, viewport predictor); today it answers health checks.
 */
import * as Comlink from 'comlink';
import { VERSION } from '../core/version.js';

export interface WorkerInfo {
  version: string;
  models: string[];
  startedAt: number;
}

const startedAt = Date.now();

export const api = {
  /** round-trip probe used by the SDK to budget worker calls */
  ping(t: number): number {
    return t;
  },
  info(): WorkerInfo {
    return { version: VERSION, models: [], startedAt };
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
