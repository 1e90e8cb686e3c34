/**
 * The edgeplay worker: hosts every on-device model off the main thread, exposed with comlink.
 * tfjs (core + layers + the cpu backend) and the weights load
 * lazily, on the first `initAbr`; the core SDK bundle never contains tfjs.
 */
import * as Comlink from 'comlink';
import { VERSION } from '../core/version.js';
import type { AbrObservation, AbrPolicy } from '../core/abr.js';
import { Bola, BufferBased, RobustMpc } from '../abr/baselines.js';
import type { AbrPolicyName } from '../abr/hls-controller.js';

export interface WorkerInfo {
  version: string;
  models: string[];
  startedAt: number;
  backend: string | null;
}

const startedAt = Date.now();
let backend: string | null = null;
let drl: AbrPolicy | null = null;
let mpcSizes: number[] = [];
const baselines: Partial<Record<AbrPolicyName, AbrPolicy>> = {};

function baseline(name: AbrPolicyName): AbrPolicy {
  let p = baselines[name];
  if (!p) {
    if (name === 'bb') p = new BufferBased();
    else if (name === 'bola') p = new Bola();
    else if (name === 'robustmpc') p = new RobustMpc(null, { sizeOf: (q) => mpcSizes[q] ?? 0, fixOffByOne: true });
    else throw new Error(`unknown policy ${name}`);
    baselines[name] = p;
  }
  return p;
}

export const api = {
  /** round-trip probe used by the SDK to budget worker calls */
  ping(t: number): number {
    return t;
  },
  info(): WorkerInfo {
    return { version: VERSION, models: drl ? ['abr-drl'] : [], startedAt, backend };
  },
  /** Load tfjs and the DRL bitrate model (model.json URL). Resolves with the backend in use. */
  async initAbr(opts: { modelUrl: string }): Promise<string> {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    const layers = await import('@tensorflow/tfjs-layers');
    // A 23k-parameter MLP: the cpu backend answers in well under a millisecond, needs no extra files
    // and no GPU readback; webgl/wasm backends are for the larger models of later issues.
    await tf.setBackend('cpu');
    await tf.ready();
    backend = tf.getBackend();
    const model = await layers.loadLayersModel(opts.modelUrl);
    const { DrlPolicy } = await import('../abr/drl.js');
    drl = new DrlPolicy(model as never);
    drl.decide({ lastQuality: 0, bufferS: 0, throughputs: [1], delaysMs: [1], nextSizes: [0, 0, 0, 0, 0, 0], remain: 1, nextIndex: 1, totalChunks: 48, ladderKbps: [300, 750, 1200, 1850, 2850, 4300], rebufS: 0 }); // warm-up
    return backend;
  },
  /** Level for the next chunk from the named policy. Throws if the policy cannot decide (the caller falls back). */
  decideAbr(policy: AbrPolicyName, obs: AbrObservation): number {
    if (policy === 'drl') {
      if (!drl) throw new Error('DRL model not loaded (initAbr)');
      if (obs.ladderKbps.length !== 6) throw new Error(`DRL model expects 6 levels, stream has ${obs.ladderKbps.length}`);
      return drl.decide(obs);
    }
    mpcSizes = obs.nextSizes;
    return baseline(policy).decide(obs);
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
