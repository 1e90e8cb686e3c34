/**
 * edgeplay: QoE and behaviour telemetry for hls.js, delivered without loss.
 *
 * ```ts
 * import Hls from 'hls.js';
 * import { createEdgeplay } from 'edgeplay';
 *
 * const ep = createEdgeplay({ endpoint: '/v1/telemetry', consent: 'granted' });
 * const hls = new Hls(ep.hlsConfig({ lowLatencyMode: true }));   // switches CMCD on with our ids
 * const view = ep.attach(hls, video, { contentId: 'vod-1', channel: 'news' });
 * hls.loadSource(url); hls.attachMedia(video);
 * ep.recordInteraction('chat');
 * await ep.switchChannel('sports', { src: sportsUrl, contentId: 'live-2' });
 * ```
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';
import { randomId, unitHash } from './core/ids.js';
import type { EventData, TelemetryEvent } from './core/protocol.js';
import { TelemetryPipeline, type Consent, type PipelineStats } from './telemetry/pipeline.js';
import { View, nowMs, type ViewInfo } from './telemetry/view.js';

export type { Consent, PipelineStats } from './telemetry/pipeline.js';
export type { ViewInfo } from './telemetry/view.js';
export type { QoeSummary } from './core/qoe.js';
export type { TelemetryEvent, TelemetryBatch, EventType, EventData } from './core/protocol.js';
export { summarizeView, QoeAccumulator } from './core/qoe.js';
export { View } from './telemetry/view.js';

export { VERSION } from './core/version.js';

export interface EdgeplayOptions {
  /** telemetry endpoint (first-party URL recommended), e.g. '/v1/telemetry' */
  endpoint: string;
  /** nothing is stored or sent until consent is 'granted' (default 'pending') */
  consent?: Consent;
  /** fraction of viewers whose telemetry is sent, decided once per viewer id (default 1) */
  sampleRate?: number;
  /** your own stable viewer id; otherwise a random one kept in localStorage (after consent) */
  viewerId?: string;
  /** a visit ends after this much inactivity (default 30 min) */
  sessionTimeoutMs?: number;
  heartbeatMs?: number;
  flushIntervalMs?: number;
  /** IndexedDB database name of the durable outbox (default 'edgeplay') */
  dbName?: string;
  /** called with every event (dashboards, debugging); not gated by consent — it never leaves the page */
  onEvent?: (e: TelemetryEvent) => void;
  debug?: boolean;
}

export interface AttachOptions extends ViewInfo {}

export interface SwitchChannelOptions {
  /** new source to load into the same Hls instance */
  src?: string;
  contentId?: string;
  title?: string;
  /** call video.play() after loading (default: if it was playing) */
  autoplay?: boolean;
}

const LS_VIEWER = 'edgeplay:viewer';
const LS_SESSION = 'edgeplay:session';

function safeStorage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

export class Edgeplay {
  private opts: Required<Pick<EdgeplayOptions, 'sampleRate' | 'sessionTimeoutMs' | 'heartbeatMs'>> & EdgeplayOptions;
  private viewer: string;
  private session: string;
  private sessionTouched = 0;
  private channelSwitches = 0;
  private pipeline: TelemetryPipeline;
  private view: View | null = null;
  private hls: Hls | null = null;
  private video: HTMLVideoElement | null = null;
  private watch = new Map<string, number>();
  private wasAttached = false;
  private unload: Array<() => void> = [];
  private eventListeners = new Set<(e: TelemetryEvent) => void>();
  readonly tabId = randomId(12);

  constructor(options: EdgeplayOptions) {
    if (!options || typeof options.endpoint !== 'string' || !options.endpoint) {
      throw new TypeError('edgeplay: options.endpoint (the telemetry URL) is required');
    }
    const sampleRate = options.sampleRate ?? 1;
    if (!(sampleRate >= 0 && sampleRate <= 1)) throw new RangeError(`edgeplay: sampleRate must be in [0, 1], got ${sampleRate}`);
    this.opts = { sessionTimeoutMs: 30 * 60 * 1000, heartbeatMs: 10000, ...options, sampleRate };
    const consent = options.consent ?? 'pending';
    const st = consent === 'granted' ? safeStorage() : null;
    this.viewer = options.viewerId ?? st?.getItem(LS_VIEWER) ?? randomId();
    this.session = randomId();
    if (st) this.persistIds(st);
    if (options.onEvent) this.eventListeners.add(options.onEvent);
    const endpoint = new URL(options.endpoint, typeof location !== 'undefined' ? location.href : undefined).toString();
    this.pipeline = new TelemetryPipeline({
      endpoint,
      consent,
      sampled: unitHash(this.viewer) < sampleRate,
      viewerId: () => this.viewer,
      sessionId: () => this.sessionId,
      flushIntervalMs: options.flushIntervalMs,
      dbName: options.dbName,
      tabId: this.tabId,
      edge: () => this.negotiation,
    });
    if (typeof window !== 'undefined') {
      const onHide = () => this.onPageHide();
      const onShow = (e: PageTransitionEvent) => this.onPageShow(e);
      const onVis = () => {
        if (document.visibilityState === 'hidden') void this.pipeline.flush();
      };
      window.addEventListener('pagehide', onHide);
      window.addEventListener('pageshow', onShow);
      document.addEventListener('visibilitychange', onVis);
      this.unload.push(() => {
        window.removeEventListener('pagehide', onHide);
        window.removeEventListener('pageshow', onShow);
        document.removeEventListener('visibilitychange', onVis);
      });
    }
  }

  private persistIds(st: Storage): void {
    try {
      st.setItem(LS_VIEWER, this.viewer);
      const prev = JSON.parse(st.getItem(LS_SESSION) ?? 'null') as { id: string; at: number; switches?: number } | null;
      if (prev && Date.now() - prev.at < this.opts.sessionTimeoutMs) {
        this.session = prev.id;
        this.channelSwitches = prev.switches ?? 0;
      }
      this.touchSession();
    } catch {
      /* storage full or blocked: ids stay in memory */
    }
  }

  private touchSession(): void {
    const now = Date.now();
    if (now - this.sessionTouched < 1000) return;
    if (this.sessionTouched && now - this.sessionTouched > this.opts.sessionTimeoutMs) {
      this.session = randomId();
      this.channelSwitches = 0;
    }
    this.sessionTouched = now;
    if (this.pipeline?.consentState === 'granted' || (!this.pipeline && this.opts.consent === 'granted')) {
      try {
        safeStorage()?.setItem(LS_SESSION, JSON.stringify({ id: this.session, at: now, switches: this.channelSwitches }));
      } catch {
        /* ignore */
      }
    }
  }

  private negotiation: { session: string; token: string } | null = null;

  /**
   * Tag telemetry with the edge negotiation this playback runs under (from `negotiate()`); the controller
   * checks its signed token and links the batches to the assignment. `null` clears it.
   */
  setNegotiation(neg: { session: string; token: string } | null): void {
    this.negotiation =
      neg && typeof neg.session === 'string' && typeof neg.token === 'string' ? { session: neg.session, token: neg.token } : null;
  }

  /** the current consent state ('pending' | 'granted' | 'denied') */
  get consent(): Consent {
    return this.pipeline.consentState;
  }

  get viewerId(): string {
    return this.viewer;
  }

  get sessionId(): string {
    return this.session;
  }

  get currentView(): View | null {
    return this.view;
  }

  get stats(): PipelineStats {
    return this.pipeline.stats;
  }

  /** Channel switches in this visit (session). */
  get channelSwitchCount(): number {
    return this.channelSwitches;
  }

  /** Watch (playing) time per channel in this page, ms. */
  watchDurations(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.watch);
    if (this.view?.info.channel) {
      const ch = this.view.info.channel;
      out[ch] = (out[ch] ?? 0) + this.view.summary().play_ms;
    }
    return out;
  }

  /**
   * Your Hls config plus what edgeplay needs: CMCD switched on with our session id (and the content id,
   * updated on each attach/switch), so CDN logs join our telemetry.
   */
  hlsConfig<T extends Partial<HlsConfig>>(config?: T, contentId?: string): T & Partial<HlsConfig> {
    const cmcd = { ...(config?.cmcd ?? {}), sessionId: this.session, ...(contentId ? { contentId } : {}) };
    return { ...(config ?? ({} as T)), cmcd };
  }

  setConsent(consent: Consent | boolean): void {
    const c: Consent = consent === true ? 'granted' : consent === false ? 'denied' : consent;
    if (c === 'granted' && this.pipeline.consentState !== 'granted') {
      // Only now may we read or write identifiers on the device: adopt the viewer id of an earlier
      // consented visit (continuity), else keep ours; the sampling decision follows the final id.
      const st = safeStorage();
      if (st && !this.opts.viewerId) {
        try {
          const stored = st.getItem(LS_VIEWER);
          if (stored) this.viewer = stored;
          else st.setItem(LS_VIEWER, this.viewer);
        } catch {
          /* storage blocked: the id stays in memory */
        }
      }
      this.pipeline.setSampled(unitHash(this.viewer) < this.opts.sampleRate);
    }
    this.pipeline.setConsent(c);
    if (c === 'granted') this.touchSession();
  }

  on(type: 'event', fn: (e: TelemetryEvent) => void): () => void {
    if (type !== 'event') throw new TypeError(`edgeplay: unknown listener type ${type}`);
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  private emit = (e: TelemetryEvent) => {
    this.touchSession();
    this.pipeline.record(e);
    for (const fn of this.eventListeners) {
      try {
        fn(e);
      } catch (err) {
        console.error('[edgeplay] onEvent listener threw', err);
      }
    }
  };

  private setCmcd(hls: Hls, contentId?: string): void {
    const cmcd = (hls.config as Partial<HlsConfig>).cmcd;
    if (cmcd) {
      cmcd.sessionId = this.session;
      if (contentId) cmcd.contentId = contentId;
    } else if (this.opts.debug) {
      console.warn('[edgeplay] CMCD is off: build Hls with edgeplay.hlsConfig() so CDN logs join telemetry');
    }
  }

  /** Start a view of `hls` playing into `video`. Call it before (or right after) `hls.loadSource()`. */
  attach(hls: Hls, video: HTMLVideoElement, info: AttachOptions = {}): View {
    if (!hls || typeof (hls as { on?: unknown }).on !== 'function')
      throw new TypeError('edgeplay.attach: first argument must be an Hls instance');
    if (!video || typeof video.addEventListener !== 'function')
      throw new TypeError('edgeplay.attach: second argument must be a media element');
    if (this.view) this.detach('reattach');
    this.hls = hls;
    this.video = video;
    this.setCmcd(hls, info.contentId);
    this.view = new View(hls, video, info, { emit: this.emit, heartbeatMs: this.opts.heartbeatMs });
    return this.view;
  }

  /** End the current view and try to deliver what is outstanding. */
  detach(reason = 'detach'): void {
    const v = this.view;
    if (!v) return;
    this.accountWatch(v);
    v.end(reason);
    this.view = null;
    void this.pipeline.flush();
  }

  private accountWatch(v: View): void {
    const ch = v.info.channel;
    if (ch) this.watch.set(ch, (this.watch.get(ch) ?? 0) + v.summary().play_ms);
  }

  /** Count a viewer interaction (chat message, like, ...) in the current view. */
  recordInteraction(kind: string, data?: Record<string, unknown>): void {
    if (typeof kind !== 'string' || !kind) throw new TypeError('edgeplay.recordInteraction: kind must be a non-empty string');
    if (!this.view) {
      if (this.opts.debug) console.warn('[edgeplay] recordInteraction with no view attached: ignored');
      return;
    }
    this.view.recordInteraction(kind, data);
  }

  /**
   * Report 360° head motion (the viewer calls this about once a second): where the viewport centre is,
   * how fast it moves and how far off the prediction made a second ago was. Dropped with no view attached.
   */
  recordViewport(sample: {
    playhead: number;
    yaw: number;
    pitch: number;
    speed_dps?: number;
    pred_error_deg?: number | null;
    predictor?: string;
  }): void {
    if (!this.view) return;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    if (![sample.playhead, sample.yaw, sample.pitch].every(Number.isFinite))
      throw new TypeError('edgeplay.recordViewport: playhead, yaw and pitch must be finite numbers');
    this.view.recordViewport({
      playhead: r2(sample.playhead),
      yaw: r2(sample.yaw),
      pitch: r2(sample.pitch),
      speed_dps: sample.speed_dps != null && Number.isFinite(sample.speed_dps) ? r2(sample.speed_dps) : null,
      pred_error_deg: sample.pred_error_deg != null && Number.isFinite(sample.pred_error_deg) ? r2(sample.pred_error_deg) : null,
      predictor: typeof sample.predictor === 'string' ? sample.predictor.slice(0, 32) : null,
    });
  }

  /**
   * Switch to another channel in the same player: ends the current view, starts one for `channel`,
   * loads `src` if given, and measures the channel-switching latency (this call -> first frame).
   */
  switchChannel(channel: string, opts: SwitchChannelOptions = {}): View {
    if (typeof channel !== 'string' || !channel) throw new TypeError('edgeplay.switchChannel: channel must be a non-empty string');
    const hls = this.hls;
    const video = this.video;
    if (!hls || !video) throw new Error('edgeplay.switchChannel: attach() a player first');
    const at = nowMs();
    const from = this.view?.info.channel ?? null;
    const wasPlaying = !video.paused;
    if (this.view) {
      this.accountWatch(this.view);
      this.view.end('channel_switch');
    }
    this.channelSwitches++;
    this.sessionTouched = 0;
    this.touchSession();
    this.setCmcd(hls, opts.contentId);
    this.view = new View(
      hls,
      video,
      { channel, contentId: opts.contentId, title: opts.title },
      { emit: this.emit, heartbeatMs: this.opts.heartbeatMs },
      {
        from,
        to: channel,
        at,
        index: this.channelSwitches,
      },
      at,
    );
    if (opts.src) {
      hls.loadSource(opts.src);
      if (opts.autoplay ?? wasPlaying) {
        video.play().catch(() => undefined);
      }
    }
    return this.view;
  }

  /** Seal and send now; resolves when the attempt is over (delivered or scheduled for retry). */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  private onPageHide(): void {
    if (this.view) {
      this.accountWatch(this.view);
      this.view.end('pagehide');
      this.wasAttached = true;
    }
    this.pipeline.pageHide();
  }

  private onPageShow(e: PageTransitionEvent): void {
    if (e.persisted && this.wasAttached && this.hls && this.video && (!this.view || this.view.isClosed)) {
      // restored from the back/forward cache: a new view of the same content
      const info = this.view?.info ?? {};
      this.view = new View(this.hls, this.video, info, { emit: this.emit, heartbeatMs: this.opts.heartbeatMs });
    }
    this.pipeline.pageShow();
  }

  /** Detach, flush, and remove every listener. */
  async destroy(): Promise<void> {
    this.detach('destroy');
    await this.pipeline.flush().catch(() => undefined);
    this.pipeline.destroy();
    for (const off of this.unload) off();
    this.unload = [];
  }
}

export function createEdgeplay(options: EdgeplayOptions): Edgeplay {
  return new Edgeplay(options);
}

export default createEdgeplay;

export { startWorker, withDeadline, DeadlineError, type WorkerHandle } from './worker/client.js';
export {
  createAbrController,
  type AbrPolicyName,
  type AbrPort,
  type AbrDecisionRecord,
  type EdgeplayAbrOptions,
} from './abr/hls-controller.js';
export { RatioEwmaPredictor, type ChunkSizePredictor } from './abr/chunk-size.js';
export type { AbrObservation } from './core/abr.js';

import * as Comlink from 'comlink';
import type { WorkerHandle } from './worker/client.js';
import type { AbrPort } from './abr/hls-controller.js';
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
 * it when done. `timings` keeps the breakdown of the last 256 answers.
 */
export function workerAbrPort(w: WorkerHandle): AbrPort & { timings: AbrTiming[]; close(): void } {
  const ch = new MessageChannel();
  const pending = new Map<number, { res: (l: number) => void; rej: (e: Error) => void; t0: number }>();
  const timings: AbrTiming[] = [];
  let next = 0;
  const epoch = () => performance.timeOrigin + performance.now();
  ch.port1.onmessage = (e: MessageEvent) => {
    const t3 = epoch();
    const m = e.data as { id: number; level?: number; error?: string; recv: number; sent: number };
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    timings.push({ toWorkerMs: m.recv - p.t0, computeMs: m.sent - m.recv, backMs: t3 - m.sent, totalMs: t3 - p.t0 });
    if (timings.length > 256) timings.shift();
    if (m.error !== undefined) p.rej(new Error(m.error));
    else p.res(m.level as number);
  };
  void w.api.connectAbr(Comlink.transfer(ch.port2, [ch.port2]));
  return {
    timings,
    decide(policy, obs) {
      return new Promise<number>((res, rej) => {
        const id = ++next;
        // answers that never come (killed worker) must not pile up: the controller has long fallen back
        if (pending.size > 64) pending.delete(pending.keys().next().value as number);
        pending.set(id, { res, rej, t0: epoch() });
        ch.port1.postMessage({ id, policy, obs });
      });
    },
    close() {
      ch.port1.close();
      for (const p of pending.values()) p.rej(new Error('port closed'));
      pending.clear();
    },
  };
}

export { Profiler, type ProfilerOptions, type ProfileAnswer } from './profile/client.js';
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
export type { WatchRecord } from './profile/features.js';
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
