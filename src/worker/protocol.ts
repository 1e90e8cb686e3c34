/**
 * The worker's typed message interfaces (comlink's `protocol.ts` idea: one message type per interface).
 * The worker implements `WorkerApi` (exposed with comlink); the main thread wraps it with the same type
 * (worker/client.ts) and hands each model adapter its own port — the adapters (abr/, viewport/, profile/)
 * never import this folder. ABR decisions travel on a dedicated MessageChannel as `AbrRequest` /
 * `AbrReply` (no comlink proxy per decision).
 */
import type { DrlGuard } from '../abr/drl-guard.js';
import type { AbrObservation } from '../core/abr.js';
import type { AbrPolicyName } from '../abr/hls-controller.js';
import type { AbrTable, AbrTableRequest } from '../abr/decision-table.js';
import type { LiveDecision, LiveDecisionRequest } from '../abr/live.js';
import type { ViewportModelAnswer } from '../viewport/client.js';
import type { PriorJson } from '../viewport/prior.js';
import type { Fov, TileGrid } from '../viewport/tiles.js';
import type { Behaviour } from '../core/preference.js';
import type { Backend, DeployModel, DeployProfile, DeployTask } from '../deploy/catalog.js';
import type { DeploymentChoice, EdgePlacement, TaskRequirement } from '../deploy/select.js';
import type { SpeedProbe } from '../deploy/speed.js';
import type { OffloadConfig } from '../edge/offload.js';

export interface WorkerInfo {
  /** the SDK version of the worker bundle */
  version: string;
  /**
   * models loaded so far, by task (the VOD DRL policy by the directory its model.json came from, e.g.
   * 'abr-drl-player', 'abr-drl' when the URL names none — see `abrModelUrl`; '<model>/<variant>' a deployed ABR
   * variant, e.g. 'abr-drl-player/int8'; 'learned+prior',
   * 'profile', ...)
   */
  models: string[];
  /** epoch ms the worker started */
  startedAt: number;
  /** the tfjs backend in use, null before any model loaded */
  backend: string | null;
  /**
   * the URL of the network answering VOD DRL decisions: `initAbr`'s `modelUrl`, or after `deploy()` chose an ABR
   * variant on the device, that variant's model.json (the ABR task's variants are of `monitor()`'s DRL,
   * models/abr-drl-player — `TASK_MODELS.abr` in src/deploy/catalog.ts — so a deployment keeps the player's network in
   * a cheaper form; after `initAbr` from another directory, `deploy()` loads no ABR variant unless `tasks.abr.models`
   * names one); null before either
   */
  abrModelUrl: string | null;
}

/** Always there: liveness and what is loaded. */
export interface BaseApi {
  /** round-trip probe: answers `t` */
  ping(t: number): number;
  info(): WorkerInfo;
}

/** One ABR decision request on the decision channel: a VOD policy's, or a live one (`live`). */
export type AbrRequest = { id: number } & (
  | { policy: AbrPolicyName; obs: AbrObservation; live?: undefined; table?: undefined }
  | { live: LiveDecisionRequest; table?: undefined }
  /**
   * the policy's decision table for the fragment still loading (src/abr/decision-table.ts), built in slices of about
   * `sliceMs` (default 1 ms; 0: a pause after every policy call) so that decisions asked for meanwhile are answered
   * between slices; never written to the slot
   */
  | { policy: AbrPolicyName; table: AbrTableRequest; sliceMs?: number; live?: undefined }
);

/**
 * The answer to `AbrRequest` `id`: a level or an error message, with the worker's receive and send times
 * (epoch ms, `performance.timeOrigin + performance.now()`) so the page can tell transit from compute.
 */
export type AbrReply = { id: number; recv: number; sent: number } & (
  | { level: number; error?: undefined; live?: LiveDecision; table?: AbrTable }
  /** `permanent`: the policy cannot serve this stream at all (not a passing failure): the controller hands over */
  | { error: string; permanent?: boolean; level?: undefined; table?: undefined }
);

/** Bytes of the ABR answer slot: Int32 [0] id answered, [1] level (−1: error); Float64 [1] epoch ms written. */
export const ABR_SLOT_BYTES = 16;

/**
 * The ABR answer slot (a view over the shared buffer): the worker stores level and time first and the request id
 * last (`Atomics.store`), so a reader that sees the id (`Atomics.load`) sees that answer's level and time.
 */
export class AbrSlot {
  private i32: Int32Array;
  private f64: Float64Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength < ABR_SLOT_BYTES) throw new RangeError(`ABR slot needs ${ABR_SLOT_BYTES} bytes, got ${buffer.byteLength}`);
    this.i32 = new Int32Array(buffer, 0, 2);
    this.f64 = new Float64Array(buffer, 8, 1);
  }
  /** the worker: answer `id` with `level` (−1 for an error) at epoch ms `at` */
  write(id: number, level: number, at: number): void {
    Atomics.store(this.i32, 1, level);
    this.f64[0] = at;
    Atomics.store(this.i32, 0, id);
  }
  /** the page: the answer to `id` if it is there (level −1: an error, the message tells which) */
  read(id: number): { level: number; at: number } | null {
    if (Atomics.load(this.i32, 0) !== id) return null;
    return { level: Atomics.load(this.i32, 1), at: this.f64[0] };
  }
}

/** The bitrate policies (the DRL model and the baselines). */
export interface AbrApi {
  /**
   * Load tfjs and the DRL bitrate model (model.json URL). Resolves with the tfjs backend in use. `guard`: a stall
   * guard over the DRL's answers, a deployed ABR variant's included (`DrlGuard` in src/abr/drl-guard.ts; none when
   * absent or null — the policy as trained). Rejects with RangeError on a bad guard.
   */
  initAbr(opts: { modelUrl: string; guard?: DrlGuard | null }): Promise<string>;
  /** Level for the next chunk from the named policy. Throws if the policy cannot decide (the caller falls back). */
  decideAbr(policy: AbrPolicyName, obs: AbrObservation): number;
  /**
   * Serve `AbrRequest`s on `port` (transferred), answering `AbrReply`s. With `slot` (a SharedArrayBuffer of
   * `ABR_SLOT_BYTES`, only in a cross-origin isolated page) every answer is also written there before it is posted
   * (layout: `AbrSlot`), so the page can read it synchronously without waiting for its own event loop.
   */
  connectAbr(port: MessagePort, slot?: SharedArrayBuffer): void;
}

/** Live streams (issue 14): the chunk-size forecaster and the latency-aware DRL policy, no tfjs. */
export interface LiveAbrApi {
  /**
   * Load the live DRL policy (`policyUrl`: models/live-abr-drl/model.json, weights.bin beside it) and the
   * chunk-size forecaster (`sizeModelUrl`: models/chunk-size/model.json, weights.bin and head.json beside it).
   * Resolves with "<policy>+<forecaster>"; rejects when a file is missing or does not fit this build.
   */
  initLive(opts: { policyUrl: string; sizeModelUrl: string }): Promise<string>;
  /** Observe the finished chunks, forecast the next 5 at every rung, decide. Throws before `initLive`. */
  decideLive(req: LiveDecisionRequest): LiveDecision;
}

/** The 360° viewport predictor. */
export interface ViewportApi {
  /** Load the viewport model (model.json; train.json beside it gives the spread per horizon). Resolves with its name. */
  initViewport(opts: { modelUrl: string }): Promise<string>;
  /** The attention prior of the video now playing (null clears it). Throws before `initViewport`. */
  setViewportPrior(json: PriorJson | null): Promise<void>;
  /**
   * Centres for 0.2 … 5 s from the 5 Hz history (flat unit vectors, oldest first, ≥ 5) at playback time `t` (s),
   * and the tile probabilities at `tilesAtS`. Throws before `initViewport` or on a malformed history.
   */
  predictViewport(
    hist: Float64Array,
    t: number,
    o: { tilesAtS: number; grid: TileGrid; fov: Fov; deadlineMs?: number; video?: string },
  ): Promise<ViewportModelAnswer>;
  /**
   * Let viewport prediction run on the edge when IELB's rule says so (src/edge/offload.ts): the edge's URL, the
   * negotiated session and token, the device class of the power model. Each prediction then decides device vs edge
   * with measured numbers and falls back to the device the moment the edge fails. Measures the model's local time
   * (after a warm-up) and the round trip (three quotes) before answering. null turns offloading off.
   */
  setOffload(cfg: Omit<OffloadConfig, 'fetch'> | null): Promise<{ quoted: boolean }>;
  /** Offloading counters: predictions run on the edge, locally by decision, locally after an edge failure. */
  offloadStats(): { edge: number; local: number; fallback: number } | null;
}

/** ELCast's QoE-preference profiler. */
export interface ProfileApi {
  /** Load the profile model (model.json; norm.json beside it). */
  initProfile(opts: { modelUrl: string }): Promise<string>;
  /** Predicted behaviour (I messages/h, D hours, N channels per visit) for one request's features (profile/features.ts layout). */
  predictProfile(x: Float32Array): Promise<Behaviour>;
}

/** A tfjs backend's state in this worker ('js' is always there: plain JavaScript over the weights). */
export interface BackendStatus {
  backend: Backend;
  ok: boolean;
  /** why it did not load (no WebGL here, the wasm files missing, ...) */
  error?: string;
}

/** What the app asks of the deployment (src/deploy/): where the models are and each task's requirement. */
export interface DeployOptions {
  /** the models' base URL: the directory holding abr-drl-player/, viewport/, viewport-prior/, profile/, variants/ */
  modelsUrl: string;
  /** the deployment profile (default: fetched from `<modelsUrl>variants/profile.json`) */
  profile?: DeployProfile;
  /**
   * requirement per task; tasks left out are not deployed. `models` overrides the task's models (`TASK_MODELS`):
   * e.g. `abr: { models: ['abr-drl'], … }` deploys the Pensieve-simulator DRL's variants. Without it, the abr task
   * deploys variants of `TASK_MODELS.abr` (monitor()'s `DEFAULT_ABR_MODEL`) and only when the DRL `initAbr` loaded is
   * that model (or none was loaded): another network stays, and `errors` says why
   */
  tasks: Partial<Record<DeployTask, TaskRequirement & { models?: DeployModel[]; edge?: EdgePlacement | null }>>;
  /**
   * backends the choice may use (default ['js', 'cpu']: both ship in the worker bundle; 'wasm' and 'webgl' load
   * `tf-backend-{wasm,webgl}.es2017.min.js` and the wasm binaries from `backendsUrl`, as shipped in the dist/ folders
   * of @tensorflow/tfjs-backend-wasm and -webgl)
   */
  backends?: Backend[];
  /** where tfjs' wasm/webgl backend files are (default: tfjs/ beside the worker script; nothing copies them there yet) */
  backendsUrl?: string;
  /** download and upload bandwidth estimates, bit/s (default 10 Mb/s and 2 Mb/s) */
  bandwidthBps?: number;
  uplinkBps?: number;
  /** load the chosen variants as the worker's models (default true) */
  load?: boolean;
}

/** The deployment the worker made: its speed, the backends, and per task the choice with its reason. */
export interface DeploymentState {
  /** the speed probe and the throttle factor it maps to on the profiled machine */
  speed: SpeedProbe & { factor: number };
  backends: BackendStatus[];
  choices: DeploymentChoice[];
  /** errors loading a chosen variant (the task then keeps what it had) */
  errors: string[];
  /** epoch ms */
  at: number;
}

/** Accuracy/latency-aware deployment: variants, backends, the device's speed, and the choice per task. */
export interface DeployApi {
  /** Load tfjs backends (each answers ok or why not). 'js' and 'cpu' need nothing extra. */
  loadBackends(opts: { backends: Backend[]; backendsUrl?: string }): Promise<BackendStatus[]>;
  /** Measure this thread's speed (a few ms of plain-JS multiply-adds). */
  measureSpeed(budgetMs?: number): SpeedProbe;
  /**
   * Measure the speed, choose a variant + backend (or the edge) per task, load the chosen ones.
   * @throws TypeError / RangeError (before any work) for an unknown task, a missing or non-positive latencyBudgetMs, an
   *   accuracyFloor outside [0, 1] or an empty `models` (src/deploy/select.ts `checkTaskRequirement`)
   */
  deploy(opts: DeployOptions): Promise<DeploymentState>;
  /** The last deployment (null before `deploy`). */
  deployment(): DeploymentState | null;
  /**
   * Time `n` calls of one variant on one backend after `warmup` calls (benchmark): per-call ms. `prior`: the
   * attention prior for prior models. @throws Error when the backend or the variant does not load
   */
  timeVariant(opts: {
    modelsUrl: string;
    model: DeployModel;
    variant: string;
    backend: Backend;
    n: number;
    warmup?: number;
    prior?: PriorJson | null;
    backendsUrl?: string;
  }): Promise<number[]>;
  /**
   * Emulate a CPU `rate` times slower in this worker: each model call and the speed probe spin (rate − 1) times
   * their own duration — the viewport model's local call (the one offloading weighs) rate times its calibrated
   * duration (measured by `setOffload` or its first call), so a host that deschedules the worker for a moment does
   * not turn that moment into rate × as much emulated CPU time. Chromium's DevTools `Emulation.setCPUThrottlingRate` throttles pages only (a worker
   * target answers "Operation is only supported for pages, not workers"), so tests and benchmarks that throttle
   * a page apply the same rate here. 1 turns it off. @throws RangeError for a rate below 1
   */
  emulateCpuThrottling(rate: number): void;
}

/** Everything the one worker hosts. */
export interface WorkerApi extends BaseApi, AbrApi, LiveAbrApi, ViewportApi, ProfileApi, DeployApi {}
