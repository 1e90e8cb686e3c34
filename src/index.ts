/**
 * edgeplay — the public API (re-exports only; hls.js' exports-named.ts idea).
 *
 * ```ts
 * import Hls from 'hls.js';
 * import { monitor } from 'edgeplay';
 *
 * const m = await monitor(video, { Hls, src: url, controller: 'https://edge.example', worker: '/edgeplay/edgeplay.worker.js' });
 * m.ep.recordInteraction('chat');
 * ```
 * Or wire the parts yourself: `createEdgeplay` (telemetry), `startWorker` + the `worker*Port` functions
 * (models), `createAbrController` (ABR in hls.js), `negotiate` + `steeringConfig` (edge), `Profiler`.
 */
export { VERSION } from './core/version.js';

// the SDK instance and the one-call wiring
export { createEdgeplay, Edgeplay } from './edgeplay.js';
export type {
  EdgeplayOptions,
  AttachOptions,
  SwitchChannelOptions,
  EdgeplayListener,
  ViewportSample,
  DeploymentReport,
} from './edgeplay.js';
export { monitor, DEFAULT_ABR_MODEL, type MonitorOptions, type Monitored } from './monitor.js';

// telemetry: views, QoE, events
export { View } from './telemetry/view.js';
export type { ViewInfo } from './telemetry/view.js';
export type { PipelineStats } from './telemetry/pipeline.js';
export { summarizeView, QoeAccumulator } from './core/qoe.js';
export type { QoeSummary } from './core/qoe.js';
export type { Consent, TelemetryEvent, TelemetryBatch, EventType, EventData, EventDataMap, TypedEvent } from './core/protocol.js';

// the worker and deadlines
export { startWorker, workerAbrPort, workerViewportPort, workerProfilePort, type WorkerHandle, type AbrTiming } from './worker/client.js';
export { withDeadline, DeadlineError } from './core/deadline.js';

// ABR in hls.js
export {
  createAbrController,
  type AbrPolicyName,
  type AbrPort,
  type AbrAnswer,
  type AbrDecisionRecord,
  type AbrTableCheck,
  type AbrAbandonRecord,
  type EdgeplayAbrOptions,
} from './abr/hls-controller.js';
export { buildDecisionTable, buildDecisionTableSliced, lookupDecision, type AbrTable, type AbrTableRequest } from './abr/decision-table.js';
export { DEFAULT_ABANDON, abandonLevel, type AbandonRule, type AbandonState } from './abr/abandon.js';
export {
  createStreamController,
  skipRefetch,
  type RefetchFragment,
  type RefetchSkip,
  type StreamControllerOptions,
} from './abr/hls-stream-controller.js';
export { DEFAULT_DRL_GUARD, guardLevel, type DrlGuard } from './abr/drl-guard.js';
export { liveCatchup, type LiveCatchup, type LiveCatchupOptions, type LiveRateChange } from './abr/live-catchup.js';
export { RatioEwmaPredictor, type ChunkSizePredictor } from './abr/chunk-size.js';
export type { AbrObservation } from './core/abr.js';

// QoE-preference profile (ELCast)
export { Profiler, type ProfilerOptions, type ProfileAnswer, type ProfilePort, type ProfilerHost } from './profile/client.js';
export type { WatchRecord } from './profile/features.js';
export {
  preferenceWeights,
  qoePenalty,
  validWeights,
  interactionRate,
  DEFAULT_WEIGHTS,
  type PreferenceWeights,
  type Behaviour,
  type QoeTerms,
} from './core/preference.js';

// edge negotiation over Content Steering
export {
  negotiate,
  steeringConfig,
  probe,
  injectSteering,
  playlistVariants,
  type Negotiation,
  type NegotiationOptions,
  type EdgeCandidate,
} from './edge/client.js';

export { createEdgeplay as default } from './edgeplay.js';
