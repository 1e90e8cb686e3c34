/**
 * The worker's typed message interfaces (comlink's `protocol.ts` idea: one message type per interface).
 * The worker implements `WorkerApi` (exposed with comlink); the main thread wraps it with the same type
 * (worker/client.ts) and hands each model adapter its own port — the adapters (abr/, viewport/, profile/)
 * never import this folder. ABR decisions travel on a dedicated MessageChannel as `AbrRequest` /
 * `AbrReply` (no comlink proxy per decision).
 */
import type { AbrObservation } from '../core/abr.js';
import type { AbrPolicyName } from '../abr/hls-controller.js';
import type { LiveDecision, LiveDecisionRequest } from '../abr/live.js';
import type { ViewportModelAnswer } from '../viewport/client.js';
import type { PriorJson } from '../viewport/prior.js';
import type { Fov, TileGrid } from '../viewport/tiles.js';
import type { Behaviour } from '../core/preference.js';

export interface WorkerInfo {
  /** the SDK version of the worker bundle */
  version: string;
  /** models loaded so far ('abr-drl', 'learned+prior', 'profile', ...) */
  models: string[];
  /** epoch ms the worker started */
  startedAt: number;
  /** the tfjs backend in use, null before any model loaded */
  backend: string | null;
}

/** Always there: liveness and what is loaded. */
export interface BaseApi {
  /** round-trip probe: answers `t` */
  ping(t: number): number;
  info(): WorkerInfo;
}

/** One ABR decision request on the decision channel: a VOD policy's, or a live one (`live`). */
export type AbrRequest = { id: number } & (
  { policy: AbrPolicyName; obs: AbrObservation; live?: undefined } | { live: LiveDecisionRequest }
);

/**
 * The answer to `AbrRequest` `id`: a level or an error message, with the worker's receive and send times
 * (epoch ms, `performance.timeOrigin + performance.now()`) so the page can tell transit from compute.
 */
export type AbrReply = { id: number; recv: number; sent: number } & (
  | { level: number; error?: undefined; live?: LiveDecision }
  /** `permanent`: the policy cannot serve this stream at all (not a passing failure): the controller hands over */
  | { error: string; permanent?: boolean; level?: undefined }
);

/** The bitrate policies (the DRL model and the baselines). */
export interface AbrApi {
  /** Load tfjs and the DRL bitrate model (model.json URL). Resolves with the tfjs backend in use. */
  initAbr(opts: { modelUrl: string }): Promise<string>;
  /** Level for the next chunk from the named policy. Throws if the policy cannot decide (the caller falls back). */
  decideAbr(policy: AbrPolicyName, obs: AbrObservation): number;
  /** Serve `AbrRequest`s on `port` (transferred), answering `AbrReply`s. */
  connectAbr(port: MessagePort): void;
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
  predictViewport(hist: Float64Array, t: number, o: { tilesAtS: number; grid: TileGrid; fov: Fov }): Promise<ViewportModelAnswer>;
}

/** ELCast's QoE-preference profiler. */
export interface ProfileApi {
  /** Load the profile model (model.json; norm.json beside it). */
  initProfile(opts: { modelUrl: string }): Promise<string>;
  /** Predicted behaviour (I messages/h, D hours, N channels per visit) for one request's features (profile/features.ts layout). */
  predictProfile(x: Float32Array): Promise<Behaviour>;
}

/** Everything the one worker hosts. */
export interface WorkerApi extends BaseApi, AbrApi, LiveAbrApi, ViewportApi, ProfileApi {}
