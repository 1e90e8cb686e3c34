/**
 * `Edgeplay`: the SDK instance an app keeps for the page. It owns the viewer's identity and visit
 * (telemetry/identity.ts), the telemetry pipeline (consent, sampling, durable delivery), the page
 * lifecycle wiring, CMCD, and the current `View` of an hls.js player; it tags telemetry with the edge
 * negotiation the playback runs under. `monitor()` (monitor.ts) builds one and wires everything else.
 */
import type Hls from 'hls.js';
import type { HlsConfig } from 'hls.js';
import { isId, randomId, unitHash } from './core/ids.js';
import { withDefaults } from './core/options.js';
import {
  EVENT_TYPES,
  LIMITS,
  toConsent,
  type Consent,
  type EventDataMap,
  type EventType,
  type TelemetryEvent,
  type TypedEvent,
} from './core/protocol.js';
import { TelemetryPipeline, type PipelineStats } from './telemetry/pipeline.js';
import { View, nowMs, type ViewInfo } from './telemetry/view.js';
import { Identity } from './telemetry/identity.js';
import { watchPageLifecycle } from './telemetry/lifecycle.js';
import { applyCmcd, cmcdConfig, cmcdContentId } from './telemetry/cmcd.js';
import { deploymentEvents, type DeploymentReport } from './telemetry/deployment.js';
export type { DeploymentReport };

export interface EdgeplayOptions {
  /** telemetry endpoint (first-party URL recommended), e.g. '/v1/telemetry' */
  endpoint: string;
  /** nothing is stored or sent until consent is 'granted' (default 'pending'); true / false mean 'granted' / 'denied'; any other value throws a TypeError */
  consent?: Consent | boolean;
  /** fraction of viewers whose telemetry is sent, decided once per viewer id (default 1) */
  sampleRate?: number;
  /**
   * your own stable viewer id, 8–64 of `[A-Za-z0-9_-]` (`ID_PATTERN`: the controller refuses a batch with any other,
   * so a shorter id or an e-mail address throws a TypeError here); otherwise a random one kept in localStorage (after consent)
   */
  viewerId?: string;
  /** a visit ends after this much inactivity (default 30 min) */
  sessionTimeoutMs?: number;
  /** heartbeat period of a view, ms (default 10 s) */
  heartbeatMs?: number;
  /** the open batch is sealed and sent after this long, ms (default 5 s) */
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

/** A listener of one event type (or of every event, `'event'`), typed by the event's data. */
export type EdgeplayListener<K extends EventType | 'event'> = (e: K extends EventType ? TypedEvent<K> : TelemetryEvent) => void;

/** A 360° head-motion sample (angles in degrees, playhead in s); see `recordViewport`. */
export interface ViewportSample {
  playhead: number;
  yaw: number;
  pitch: number;
  speed_dps?: number;
  pred_error_deg?: number | null;
  predictor?: string;
  /** where the latest prediction ran (offloading): 'device' or 'edge' */
  placement?: 'device' | 'edge';
  /** share of the predictions since the last report that ran on the edge, 0–1 */
  edge_share?: number | null;
}

export class Edgeplay {
  private opts: Required<Pick<EdgeplayOptions, 'sampleRate' | 'sessionTimeoutMs' | 'heartbeatMs'>> & EdgeplayOptions;
  private identity: Identity;
  private pipeline: TelemetryPipeline;
  private view: View | null = null;
  private hls: Hls | null = null;
  private video: HTMLVideoElement | null = null;
  private watch = new Map<string, number>();
  private wasAttached = false;
  private unload: Array<() => void> = [];
  private listeners = new Map<EventType | 'event', Set<(e: TelemetryEvent) => void>>();
  private negotiation: { session: string; token: string } | null = null;
  readonly tabId = randomId(12);
  /** when this SDK instance was created (epoch ms): Mux's player init time; its first view reports page load and player startup */
  private readonly initAt = nowMs();
  private firstView = true;
  /** the deployment the app reported last: sent again at the start of every view */
  private deployment: EventDataMap['deployment'][] = [];

  /**
   * @throws TypeError without an endpoint, or for a `viewerId` that is not 8–64 of `[A-Za-z0-9_-]`; RangeError for a sample rate outside [0, 1], or a `heartbeatMs` /
   *   `flushIntervalMs` outside (0, 2^31 − 1] ms or a `sessionTimeoutMs` ≤ 0 (NaN too)
   */
  constructor(options: EdgeplayOptions) {
    if (!options || typeof options.endpoint !== 'string' || !options.endpoint) {
      throw new TypeError('edgeplay: options.endpoint (the telemetry URL) is required');
    }
    // the controller refuses every batch whose viewer_id is not an ID_PATTERN id: the SDK would drop them all
    if (options.viewerId !== undefined && !isId(options.viewerId))
      throw new TypeError(`edgeplay: viewerId must be 8–64 characters of [A-Za-z0-9_-], got ${JSON.stringify(options.viewerId)}`);
    const sampleRate = options.sampleRate ?? 1;
    if (!(sampleRate >= 0 && sampleRate <= 1)) throw new RangeError(`edgeplay: sampleRate must be in [0, 1], got ${sampleRate}`);
    // timer periods: 0, a negative, NaN or a delay beyond a timer's 2^31 − 1 ms fires on every tick (a heartbeat event,
    // a sealed batch each time)
    for (const [key, max] of [
      ['heartbeatMs', 2 ** 31 - 1],
      ['flushIntervalMs', 2 ** 31 - 1],
      ['sessionTimeoutMs', Infinity],
    ] as const) {
      const v = options[key];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= max))
        throw new RangeError(`edgeplay: ${key} must be a number of ms in (0, ${max}], got ${String(v)}`);
    }
    // an option given as undefined keeps its default (`heartbeatMs: undefined` must not beat every 0 ms)
    this.opts = { ...withDefaults({ sessionTimeoutMs: 30 * 60 * 1000, heartbeatMs: 10000 }, options), sampleRate };
    const consent = toConsent(options.consent ?? 'pending', 'edgeplay');
    this.identity = new Identity({
      viewerId: options.viewerId,
      sessionTimeoutMs: this.opts.sessionTimeoutMs,
      granted: consent === 'granted',
    });
    if (options.onEvent) this.on('event', options.onEvent);
    const endpoint = new URL(options.endpoint, typeof location !== 'undefined' ? location.href : undefined).toString();
    this.pipeline = new TelemetryPipeline({
      endpoint,
      consent,
      sampled: unitHash(this.identity.viewerId) < sampleRate,
      viewerId: () => this.identity.viewerId,
      sessionId: () => this.identity.sessionId,
      flushIntervalMs: options.flushIntervalMs,
      dbName: options.dbName,
      tabId: this.tabId,
      edge: () => this.negotiation,
    });
    this.unload.push(
      watchPageLifecycle({
        hide: () => this.onPageHide(),
        show: (e) => this.onPageShow(e),
        hidden: () => void this.pipeline.flush(),
      }),
    );
  }

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
    return this.identity.viewerId;
  }

  /** the visit id (a new one after `sessionTimeoutMs` without activity) */
  get sessionId(): string {
    return this.identity.sessionId;
  }

  get currentView(): View | null {
    return this.view;
  }

  get stats(): PipelineStats {
    return this.pipeline.stats;
  }

  /** Channel switches in this visit (session). */
  get channelSwitchCount(): number {
    return this.identity.channelSwitches;
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
   * Your Hls config plus what edgeplay needs: CMCD switched on with the ids of the view `attach()` will start
   * (CMCD `sid` = the view id, CTA-5004's playback session; `cid` = the content id, valid for CMCD), so CDN
   * logs join our telemetry. hls.js fixes the ids of the manifest request when `loadSource()` runs: give the
   * content id here, or attach() before loadSource(); an attach() after it updates every later request.
   */
  hlsConfig<T extends Partial<HlsConfig>>(config?: T, contentId?: string): T & Partial<HlsConfig> {
    return cmcdConfig(config, this.nextViewId, contentId);
  }

  /**
   * Grant (true / 'granted'), deny (false / 'denied') or reset to 'pending' the telemetry consent.
   * @throws TypeError for any other value (nothing changes)
   */
  setConsent(consent: Consent | boolean): void {
    const c = toConsent(consent, 'edgeplay.setConsent');
    if (c === 'granted' && this.pipeline.consentState !== 'granted') {
      // Only now may we read or write identifiers on the device; the sampling decision follows the final id.
      this.identity.grant();
      this.pipeline.setSampled(unitHash(this.identity.viewerId) < this.opts.sampleRate);
    } else if (c !== 'granted') this.identity.revoke();
    this.pipeline.setConsent(c);
  }

  /**
   * Listen to the SDK's events: `'event'` for every event, or one event type with its typed data
   * (`ep.on('rebuffer_end', (e) => e.data?.duration_ms)`). Returns the function that removes the listener.
   * Events never leave the page through listeners.
   */
  on<K extends EventType | 'event'>(type: K, fn: EdgeplayListener<K>): () => void {
    if (type !== 'event' && !isEventType(type)) throw new TypeError(`edgeplay: unknown listener type ${String(type)}`);
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const f = fn as (e: TelemetryEvent) => void;
    set.add(f);
    return () => set.delete(f);
  }

  private emit = (e: TelemetryEvent) => {
    this.identity.touch();
    this.pipeline.record(e);
    for (const set of [this.listeners.get('event'), this.listeners.get(e.type)]) {
      if (!set) continue;
      for (const fn of set) {
        try {
          fn(e);
        } catch (err) {
          console.error('[edgeplay] event listener threw', err);
        }
      }
    }
  };

  /** the id of the next view (pre-allocated: CMCD `sid` of the requests before `attach()`) */
  private nextViewId = randomId();

  /** Start a view (it takes the pre-allocated id) with CMCD pointing at it. */
  private newView(info: ViewInfo, pendingSwitch?: ConstructorParameters<typeof View>[4], startedAt?: number): View {
    const id = this.nextViewId;
    this.nextViewId = randomId();
    const cid = info.contentId ? cmcdContentId(info.contentId) : null;
    const how = applyCmcd(this.hls!, id, info.contentId);
    if (how === 'off' && this.opts.debug)
      console.warn('[edgeplay] CMCD is off: build Hls with edgeplay.hlsConfig() so CDN logs join telemetry');
    if (how === 'late')
      console.warn(
        '[edgeplay] attach() ran after hls.loadSource() and this hls.js keeps the CMCD ids it started with: call attach() first',
      );
    const initAt = this.firstView ? this.initAt : null;
    this.firstView = false;
    const v = new View(this.hls!, this.video!, info, { emit: this.emit, heartbeatMs: this.opts.heartbeatMs }, pendingSwitch, startedAt, {
      id,
      cmcdContentId: cid !== info.contentId ? cid : null,
      initAt,
    });
    for (const d of this.deployment) v.recordDeployment(d);
    return v;
  }

  /**
   * Start a view of `hls` playing into `video`. Call it before `hls.loadSource()` (the manifest request then
   * carries the view's CMCD ids too); called after it, every later request carries them.
   */
  attach(hls: Hls, video: HTMLVideoElement, info: AttachOptions = {}): View {
    if (!hls || typeof (hls as { on?: unknown }).on !== 'function')
      throw new TypeError('edgeplay.attach: first argument must be an Hls instance');
    if (!video || typeof video.addEventListener !== 'function')
      throw new TypeError('edgeplay.attach: second argument must be a media element');
    if (this.view) this.detach('reattach');
    this.hls = hls;
    this.video = video;
    this.view = this.newView(info);
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
   * @throws TypeError when playhead, yaw or pitch is not a finite number
   */
  recordViewport(sample: ViewportSample): void {
    if (!this.view) return;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    if (![sample.playhead, sample.yaw, sample.pitch].every(Number.isFinite))
      throw new TypeError('edgeplay.recordViewport: playhead, yaw and pitch must be finite numbers');
    const data: EventDataMap['viewport'] = {
      playhead: r2(sample.playhead),
      yaw: r2(sample.yaw),
      pitch: r2(sample.pitch),
      speed_dps: sample.speed_dps != null && Number.isFinite(sample.speed_dps) ? r2(sample.speed_dps) : null,
      pred_error_deg: sample.pred_error_deg != null && Number.isFinite(sample.pred_error_deg) ? r2(sample.pred_error_deg) : null,
      predictor: typeof sample.predictor === 'string' ? sample.predictor.slice(0, 32) : null,
      placement: sample.placement === 'device' || sample.placement === 'edge' ? sample.placement : null,
      edge_share:
        sample.edge_share != null && Number.isFinite(sample.edge_share)
          ? Math.round(Math.min(1, Math.max(0, sample.edge_share)) * 1000) / 1000
          : null,
    };
    this.view.recordViewport(data);
  }

  /**
   * Report the models the worker deployed (`worker.api.deploy()` or `deployment()`: the variant and backend chosen
   * per inference task, or the edge, and the selector's reason; "Joint Accuracy- and Latency-aware Model
   * Deployment", src/deploy/select.ts): one `deployment` event per task in the current view, if one is attached, and
   * again at the start of every later view, so that each view says which models it ran with. `null` forgets it.
   * @throws TypeError when `state` has no `choices` array or a choice lacks its task
   */
  recordDeployment(state: DeploymentReport | null): void {
    if (state === null) {
      this.deployment = [];
      return;
    }
    this.deployment = deploymentEvents(state);
    if (this.view) for (const d of this.deployment) this.view.recordDeployment(d);
  }

  /**
   * Switch to another channel in the same player: ends the current view, starts one for `channel`,
   * loads `src` if given, and measures the channel-switching latency (this call -> first frame).
   * @throws Error before `attach()`; TypeError for an empty channel
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
    const index = this.identity.countChannelSwitch();
    this.view = this.newView({ channel, contentId: opts.contentId, title: opts.title }, { from, to: channel, at, index }, at);
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
      this.view = this.newView(this.view?.info ?? {});
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

const EVENT_TYPE_SET: ReadonlySet<string> = new Set<string>(EVENT_TYPES);
const isEventType = (s: unknown): s is EventType => typeof s === 'string' && EVENT_TYPE_SET.has(s);

/** Create the SDK instance (see `EdgeplayOptions`); `monitor()` does this and wires the rest. */
export function createEdgeplay(options: EdgeplayOptions): Edgeplay {
  return new Edgeplay(options);
}
