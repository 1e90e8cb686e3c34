/**
 * The `deployment` telemetry event's data from the worker's deployment state ("Joint Accuracy- and Latency-aware
 * Model Deployment", src/deploy/select.ts): one event per inference task, the choice reduced to the event's fields.
 */
import { LIMITS, type EventDataMap } from '../core/protocol.js';

/**
 * What `Edgeplay.recordDeployment` takes: the worker's `deploy()` / `deployment()` answer (DeploymentState in
 * src/worker/protocol.ts satisfies it), one choice per inference task.
 */
export interface DeploymentReport {
  choices: ReadonlyArray<{
    task: string;
    placement: 'device' | 'edge';
    /** '' when nothing was chosen */
    model: string;
    variant: string;
    /** 'js' | 'cpu' | 'wasm' | 'webgl', 'edge'; '' (or absent) when nothing was chosen */
    backend?: string;
    rel_accuracy: number;
    p95_ms: number;
    bytes: number;
    /** the device's speed factor the choice assumed */
    factor: number;
    reason: string;
  }>;
  /** errors loading a chosen variant, each `task: …` */
  errors?: readonly string[];
}

/**
 * One `deployment` event's data per choice of `state`, in its order: strings clipped (task 32, model and variant 64,
 * backend 16 characters; reason and error `LIMITS.maxStringLength`), a missing or empty model / variant / error as
 * null, a missing backend as '' (never the text "undefined"), numbers rounded (rel_accuracy 4 digits, p95_ms 3,
 * bytes 0, speed_factor 3) or null when not finite; `error` is the first of `state.errors` that starts with
 * "<task>:". A placement other than 'edge' is 'device'.
 * @throws TypeError when `state` has no `choices` array or a choice lacks its task
 */
export function deploymentEvents(state: DeploymentReport): EventDataMap['deployment'][] {
  if (!state || !Array.isArray(state.choices))
    throw new TypeError("edgeplay.recordDeployment: expected the worker's deployment state ({ choices: [...] })");
  const num = (x: unknown, digits: number) => (typeof x === 'number' && Number.isFinite(x) ? +x.toFixed(digits) : null);
  const str = (x: unknown, n: number) => (typeof x === 'string' && x ? x.slice(0, n) : null);
  return state.choices.map((c) => {
    if (!c || typeof c.task !== 'string' || !c.task) throw new TypeError('edgeplay.recordDeployment: every choice needs its task');
    const error = state.errors?.find((e) => e.startsWith(`${c.task}:`)) ?? null;
    return {
      task: c.task.slice(0, 32),
      model: str(c.model, 64),
      variant: str(c.variant, 64),
      backend: typeof c.backend === 'string' ? c.backend.slice(0, 16) : '',
      placement: c.placement === 'edge' ? 'edge' : 'device',
      rel_accuracy: num(c.rel_accuracy, 4),
      p95_ms: num(c.p95_ms, 3),
      bytes: num(c.bytes, 0),
      speed_factor: num(c.factor, 3),
      reason: String(c.reason ?? '').slice(0, LIMITS.maxStringLength),
      error: str(error, LIMITS.maxStringLength),
    };
  });
}
