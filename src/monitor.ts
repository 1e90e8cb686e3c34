/**
 * The common case in one call (as Mux's `monitor(video, { hlsjs })`): `monitor(video, { Hls, src, controller })`
 * creates the SDK instance, starts the one worker, installs the ABR controller, negotiates the edge (with the
 * profiler's weights) and carries the assignment into hls.js as Content Steering, builds the Hls instance
 * with CMCD on, attaches telemetry and starts playback. Every part can be switched off; each part's manual
 * wiring (README, "Using it") stays available. Any part that fails falls back: no worker → hls.js' own ABR
 * and default weights; no controller → the CDN pathway; playback never waits for a model.
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';
import { createEdgeplay, Edgeplay, type EdgeplayOptions } from './edgeplay.js';
import type { View } from './telemetry/view.js';
import { ABR_POLICY_NAMES, createAbrController, type AbrDecisionRecord, type AbrPolicyName, type AbrPort } from './abr/hls-controller.js';
import { negotiate, steeringConfig, type EdgeCandidate, type Negotiation } from './edge/client.js';
import { Profiler } from './profile/client.js';
import { startWorker, workerAbrPort, workerProfilePort, type WorkerHandle } from './worker/client.js';
import { withDeadline } from './core/deadline.js';
import { liveCatchup, type LiveCatchupOptions } from './abr/live-catchup.js';
import { createStreamController } from './abr/hls-stream-controller.js';
import { DEFAULT_ABANDON, type AbandonRule } from './abr/abandon.js';
import { checkName, isName } from './core/schemas/common.js';

/**
 * The DRL model `monitor()` loads from its models directory: models/abr-drl-player (MODEL.md there), the network
 * trained and selected — on training and dev traces only — in the player simulator with exactly the semantics this
 * function plays with (no re-fetch after a switch, `DEFAULT_ABANDON`): dev 0.927 QoE_lin per chunk against 0.729
 * for models/abr-drl, which stays the Pensieve-simulator model. The deployment catalog's ABR task deploys variants of
 * this model (`TASK_MODELS.abr` in src/deploy/catalog.ts; test/node/deploy.spec.ts keeps the two equal). Real playback (BENCHMARKS.md, "Session 10: the wider evaluation, 34 traces") is reported, not used to choose.
 */
export const DEFAULT_ABR_MODEL = 'abr-drl-player';

export interface MonitorOptions {
  /** the app's hls.js constructor (a peer dependency: edgeplay never bundles it) */
  Hls: typeof Hls;
  /** the multivariant playlist (on the CDN) */
  src: string;
  /**
   * base URL of the edgeplay controller: telemetry goes to `${controller}/v1/telemetry` (unless `endpoint`),
   * negotiation to `/v1/negotiate`, the profiler's channel statistics to `/v1/channels/:id/stats`
   */
  controller?: string;
  /** telemetry endpoint (default `${controller}/v1/telemetry`); one of the two is required */
  endpoint?: string;
  /** an existing SDK instance (its endpoint is used), or options for the one monitor() creates */
  edgeplay?: Edgeplay | Omit<EdgeplayOptions, 'endpoint'>;
  /**
   * the channel (telemetry, negotiation, the profiler's channel statistics): 1–128 of `[A-Za-z0-9_.:-]`, e.g. 'bbc-one'
   * (the controller refuses any other name). Default: `contentId` when it is such a name, else 'default'
   * @throws TypeError (from monitor()) for any other name
   */
  channel?: string;
  contentId?: string;
  title?: string;
  /** your hls.js config; edgeplay adds CMCD, the ABR controller and the steering loader */
  hlsConfig?: Partial<HlsConfig>;
  /**
   * the worker bundle (`edgeplay/worker`, dist/edgeplay.worker.js) as a URL, or a started worker to share;
   * false or absent: no on-device models (hls.js' ABR, default weights)
   */
  worker?: string | URL | WorkerHandle | false;
  /** base URL of the models directory (default: `../models/` next to the worker bundle) */
  models?: string | URL;
  /** bitrate policy in the worker: 'drl' (default with a worker), 'robustmpc', 'bola', 'bb', or 'hls'/false for hls.js' own */
  abr?: AbrPolicyName | false;
  /**
   * the DRL model's directory under `models` (default `DEFAULT_ABR_MODEL`, 'abr-drl-player': trained for the player
   * as this function wires it, no re-fetch after a switch and `DEFAULT_ABANDON`); 'abr-drl' is the
   * Pensieve-simulator model. A directory your server does not host: a console warning and hls.js' ABR keeps deciding.
   * One worker holds one VOD DRL network: players sharing a worker play whichever model loaded last.
   * @throws TypeError when it is not a plain directory name
   */
  abrModel?: string;
  /** deadline of one ABR decision, ms (default 20; a later answer falls back to hls.js for that fragment) */
  abrBudgetMs?: number;
  /** false: live streams are decided like VOD (no chunk-size forecaster, no live policy); default true */
  liveAbr?: boolean;
  onAbrDecision?: (r: AbrDecisionRecord) => void;
  /**
   * after a level switch, hls.js 1.7 loads the fragment just buffered once more at the new level (src/abr/hls-stream-controller.ts):
   * 'skip' (default) loads the next one instead (`createStreamController`, unless your hlsConfig brings its own
   * `streamController`); 'hls' leaves hls.js as it is
   */
  refetch?: 'skip' | 'hls';
  /**
   * with an edgeplay bitrate policy, abandon a VOD fragment download that will not arrive before the buffer runs out
   * (src/abr/abandon.ts; default `DEFAULT_ABANDON`); false: hls.js' own emergency abort only
   */
  abandon?: AbandonRule | false;
  /**
   * edge negotiation over Content Steering (default on when `controller` is given): the edges to probe and
   * the CDN's probe URL; false: stay on the CDN
   */
  negotiation?: { edges?: EdgeCandidate[]; cdnProbeUrl?: string; timeoutMs?: number; bandwidthMbps?: number } | false;
  /** the on-device QoE-preference profiler (default on with a worker and a controller) */
  profiler?: boolean;
  /**
   * LoL+ playback-rate control on live streams (`liveCatchup`, src/abr/live-catchup.ts): default on, unless your
   * hlsConfig turns on hls.js' own catch-up (`maxLiveSyncPlaybackRate` > 1); false: off
   */
  liveCatchup?: boolean | LiveCatchupOptions;
  /** call video.play() once loading starts (default true) */
  autoplay?: boolean;
}

/** What `monitor()` wired, for the app to use and tear down. */
export interface Monitored {
  ep: Edgeplay;
  hls: Hls;
  view: View;
  worker: WorkerHandle | null;
  negotiation: Negotiation | null;
  profiler: Profiler | null;
  /** the bitrate policy in use ('hls' when hls.js decides) */
  abr: AbrPolicyName;
  /** stop playback monitoring: destroys the Hls instance and releases what monitor() created (not a passed-in worker or SDK) */
  destroy(): Promise<void>;
}

/**
 * Wire edgeplay into a `<video>` with sensible defaults (see `MonitorOptions`).
 * @throws TypeError when `video`, `Hls` or `src` is missing, or neither `controller` nor `endpoint` (nor an SDK instance) is given;
 *   when `abr` is no `AbrPolicyName` (nor false), `abrBudgetMs` no number > 0, `abrModel` no plain directory name or `channel`
 *   no 1–128 of `[A-Za-z0-9_.:-]`
 */
export async function monitor(video: HTMLVideoElement, o: MonitorOptions): Promise<Monitored> {
  if (!video || typeof video.addEventListener !== 'function')
    throw new TypeError('edgeplay.monitor: first argument must be a media element');
  if (!o || typeof o.Hls !== 'function') throw new TypeError('edgeplay.monitor: options.Hls (your hls.js constructor) is required');
  if (typeof o.src !== 'string' || !o.src) throw new TypeError('edgeplay.monitor: options.src (the playlist URL) is required');
  // checked before the worker starts (createAbrController would refuse them after it, or never be asked without a worker)
  if (o.abr !== undefined && o.abr !== false && !ABR_POLICY_NAMES.includes(o.abr))
    throw new TypeError(`edgeplay.monitor: options.abr ${JSON.stringify(o.abr)} is none of ${ABR_POLICY_NAMES.join(', ')} (or false)`);
  if (o.abrBudgetMs !== undefined && !(typeof o.abrBudgetMs === 'number' && Number.isFinite(o.abrBudgetMs) && o.abrBudgetMs > 0))
    throw new TypeError(`edgeplay.monitor: options.abrBudgetMs must be a number of ms > 0, got ${String(o.abrBudgetMs)}`);
  if (o.abrModel !== undefined && !/^[\w][\w.-]*$/.test(o.abrModel))
    throw new TypeError(`edgeplay.monitor: options.abrModel names a directory under options.models (e.g. 'abr-drl'), got "${o.abrModel}"`);
  // the controller refuses any other channel name: negotiation would fail (the CDN, silently) and so would its statistics
  if (o.channel !== undefined) checkName('edgeplay.monitor', 'channel', o.channel);
  const base = typeof location !== 'undefined' ? location.href : undefined;
  const controller = o.controller ? new URL(o.controller, base).href.replace(/\/$/, '') : undefined;
  const ownEp = !(o.edgeplay instanceof Edgeplay);
  let ep: Edgeplay;
  if (o.edgeplay instanceof Edgeplay) ep = o.edgeplay;
  else {
    const endpoint = o.endpoint ?? (controller ? `${controller}/v1/telemetry` : undefined);
    if (!endpoint) throw new TypeError('edgeplay.monitor: options.controller or options.endpoint is required');
    ep = createEdgeplay({ ...(o.edgeplay ?? {}), endpoint });
  }
  const cleanup: Array<() => unknown> = [];

  // the one worker: every model runs there, tfjs loads once
  let worker: WorkerHandle | null = null;
  let workerUrl: string | null = null;
  if (o.worker && typeof o.worker === 'object' && 'api' in o.worker) worker = o.worker;
  else if (o.worker) {
    workerUrl = new URL(String(o.worker), base).href;
    try {
      worker = startWorker(workerUrl);
      cleanup.push(() => worker?.terminate());
    } catch (e) {
      console.warn('[edgeplay] the worker did not start; models are off', e);
    }
  }
  const models = o.models ? new URL(String(o.models), base).href : workerUrl ? new URL('../models/', workerUrl).href : null;
  const modelUrl = (name: string) => (models ? new URL(`${name}/model.json`, models).href : undefined);

  // ABR in the worker, hls.js deciding until it is ready (and whenever an answer is late)
  const policy: AbrPolicyName = o.abr === false ? 'hls' : (o.abr ?? (worker ? 'drl' : 'hls'));
  let abrController: unknown;
  if (worker && policy !== 'hls') {
    const port = workerAbrPort(worker);
    cleanup.push(() => port.close());
    let ready = policy !== 'drl';
    const drlUrl = modelUrl(o.abrModel ?? DEFAULT_ABR_MODEL);
    if (policy === 'drl' && drlUrl) {
      withDeadline(port.init(drlUrl), 20000).then(
        () => (ready = true),
        (e) => console.warn('[edgeplay] the DRL bitrate model did not load; hls.js keeps deciding', e),
      );
    }
    // live streams: the chunk-size forecaster and the live DRL policy (plain JS in the worker); until they
    // are loaded (or if they never load) live streams are decided like VOD
    let liveReady = false;
    const liveUrl = modelUrl('live-abr-drl');
    const sizeUrl = modelUrl('chunk-size');
    if (policy === 'drl' && liveUrl && sizeUrl && o.liveAbr !== false) {
      withDeadline(port.initLive(liveUrl, sizeUrl), 20000).then(
        () => (liveReady = true),
        (e) => console.warn('[edgeplay] the live bitrate models did not load; live streams are decided like VOD', e),
      );
    }
    const vodOnly: AbrPort = { decide: (p, obs) => port.decide(p, obs) };
    abrController = createAbrController(o.Hls, {
      policy,
      port: () => (ready ? (liveReady ? port : vodOnly) : null),
      budgetMs: o.abrBudgetMs,
      onDecision: o.onAbrDecision,
      abandon: o.abandon === false ? null : (o.abandon ?? DEFAULT_ABANDON),
    });
  }

  const channel = o.channel ?? (isName(o.contentId) ? o.contentId : 'default');
  const profiler =
    worker && controller && o.profiler !== false
      ? new Profiler({ ep, port: workerProfilePort(worker), modelUrl: modelUrl('profile'), controller })
      : null;
  if (profiler) cleanup.push(() => profiler.destroy());

  // edge or CDN, carried as Content Steering; null on any failure: the CDN at once
  let neg: Negotiation | null = null;
  if (controller && o.negotiation !== false) {
    const n = o.negotiation || {};
    neg = await negotiate({
      controller,
      viewerId: ep.viewerId,
      channel,
      src: new URL(o.src, base).href,
      edges: n.edges,
      cdnProbeUrl: n.cdnProbeUrl,
      bandwidthMbps: n.bandwidthMbps,
      timeoutMs: n.timeoutMs,
      weights: profiler ? () => profiler.weights(channel) : undefined,
    });
    ep.setNegotiation(neg);
    if (neg && typeof window !== 'undefined') {
      const leave = () => void neg?.leave();
      window.addEventListener('pagehide', leave);
      cleanup.push(
        () => window.removeEventListener('pagehide', leave),
        () => neg?.leave(),
      );
    }
  }

  let streamController: unknown = null;
  if (o.refetch !== 'hls' && !o.hlsConfig?.streamController) {
    try {
      streamController = createStreamController(o.Hls);
    } catch (e) {
      console.warn("[edgeplay] hls.js' stream controller cannot be extended here; it keeps re-fetching after a switch", e);
    }
  }
  const config = ep.hlsConfig(
    {
      ...(o.hlsConfig ?? {}),
      ...(abrController ? { abrController: abrController as never } : {}),
      ...(streamController ? { streamController: streamController as never } : {}),
    },
    o.contentId,
  );
  const hls = new o.Hls(steeringConfig(o.Hls, neg, config));
  const view = ep.attach(hls, video, { channel: o.channel, contentId: o.contentId, title: o.title });
  // does nothing on VOD: it acts only while the playing level is live
  if (o.liveCatchup !== false && !((hls.config.maxLiveSyncPlaybackRate ?? 1) > 1)) {
    const c = liveCatchup(hls, video, o.liveCatchup === true || !o.liveCatchup ? {} : o.liveCatchup);
    cleanup.push(() => c.stop());
  }
  hls.loadSource(o.src);
  hls.attachMedia(video);
  if (o.autoplay !== false) video.play().catch(() => undefined);

  return {
    ep,
    hls,
    view,
    worker,
    negotiation: neg,
    profiler,
    abr: abrController ? policy : 'hls',
    async destroy() {
      if (ownEp) await ep.destroy();
      else ep.detach('destroy');
      hls.destroy();
      for (const f of cleanup.reverse()) {
        try {
          await f();
        } catch {
          /* tearing down: nothing to do */
        }
      }
    },
  };
}
