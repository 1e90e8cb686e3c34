/**
 * On-device QoE-preference profiling (ELCast). The Profiler keeps the viewer's own watch history on the
 * device (IndexedDB once telemetry consent is granted, memory before), fed by the SDK's own events: a
 * view's channel, its chat interactions and its play time; visits are the SDK's sessions. For a request
 * it builds ELCast's features with the channel's aggregates from the controller
 * (`GET /v1/channels/:id/stats`), runs the model in the worker and turns the predicted behaviour into the
 * weights (a1 latency, a2 channel switching, a3 bitrate; sum 10). Only those three numbers ever leave the
 * device (in the negotiation); the history never does. Any failure answers the default weights.
 */
import { clear as idbClear, createStore, get as idbGet, set as idbSet, type UseStore } from 'idb-keyval';
import { QoeAccumulator } from '../core/qoe.js';
import type { Consent, TelemetryEvent, TypedEvent } from '../core/protocol.js';
import { withDeadline } from '../core/deadline.js';
import { DEFAULT_WEIGHTS, interactionRate, preferenceWeights, type Behaviour, type PreferenceWeights } from '../core/preference.js';
import { requestFeatures, type ChannelAggregates, type WatchRecord } from './features.js';

/**
 * The profile model behind an asynchronous port — the worker's is `workerProfilePort(worker)`. Every call
 * may reject or be late: the profiler then answers the default weights.
 */
export interface ProfilePort {
  /** load the model (model.json URL; norm.json beside it) */
  init(modelUrl: string): Promise<string>;
  /** predicted behaviour (I messages/h, D hours, N channels per visit) for one request's features (features.ts layout) */
  predict(x: Float32Array): Promise<Behaviour>;
}

/** What the profiler needs from the SDK (an `Edgeplay` is one): its events, the visit id, the consent state. */
export interface ProfilerHost {
  on(type: 'event', fn: (e: TelemetryEvent) => void): () => void;
  readonly sessionId: string;
  readonly consent: Consent;
}

export interface ProfilerOptions {
  /** the SDK instance whose events build the history */
  ep: ProfilerHost;
  /** where the model runs (the worker's `workerProfilePort(worker)`); none: default weights */
  port?: ProfilePort | null;
  /** the profile model's model.json (norm.json beside it) */
  modelUrl?: string;
  /** controller base URL (for /v1/channels/:id/stats) */
  controller?: string;
  /** IndexedDB database name (default 'edgeplay-profile') */
  dbName?: string;
  /** records kept (default 500) */
  maxRecords?: number;
  /** deadline for the worker and the controller, ms (default 2000) */
  budgetMs?: number;
}

export interface ProfileAnswer {
  weights: PreferenceWeights;
  predicted: Behaviour | null;
  medians: Behaviour | null;
  source: 'model' | 'default';
  reason?: string;
}

const STORE = 'records';

export class Profiler {
  private records: WatchRecord[] = [];
  private open = new Map<string, { acc: QoeAccumulator; channel: string; visit: string; at: number; msgs: number }>();
  private ready: Promise<boolean>;
  private off: () => void;
  private loaded: Promise<void>;

  /** @throws TypeError when given `worker` (the option is `port: workerProfilePort(worker)`; a worker alone would never be asked) */
  constructor(private o: ProfilerOptions) {
    if (o && (o as { worker?: unknown }).worker !== undefined)
      throw new TypeError('Profiler: pass port: workerProfilePort(worker), not worker (the worker would never be asked)');
    const port = o.port;
    this.ready =
      port && o.modelUrl
        ? withDeadline(port.init(o.modelUrl), 20000).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
    this.loaded = this.load();
    this.off = o.ep.on('event', (e) => this.onEvent(e));
  }

  /** the viewer's stored history (a copy) */
  history(): WatchRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** add a finished watch directly (imports, tests); the SDK's events do this automatically */
  async addRecord(r: WatchRecord): Promise<void> {
    await this.loaded;
    if (!r || typeof r.channel !== 'string' || !(r.hours >= 0) || !(r.msgs >= 0))
      throw new TypeError('profile record needs channel, visit, at, hours ≥ 0, msgs ≥ 0');
    this.records.push({ channel: r.channel, visit: String(r.visit), at: r.at, hours: r.hours, msgs: r.msgs });
    if (this.records.length > (this.o.maxRecords ?? 500)) this.records.splice(0, this.records.length - (this.o.maxRecords ?? 500));
    await this.persist();
  }

  private onEvent(ev: TelemetryEvent): void {
    const e = ev as TypedEvent;
    let v = this.open.get(e.view_id);
    if (e.type === 'viewstart') {
      const ch = e.data?.channel ?? e.data?.content_id ?? 'unknown';
      v = { acc: new QoeAccumulator(), channel: ch, visit: this.o.ep.sessionId, at: e.t, msgs: 0 };
      this.open.set(e.view_id, v);
    }
    if (!v) return;
    v.acc.add(ev);
    if (e.type === 'interaction' && e.data?.kind === 'chat') v.msgs++;
    if (e.type === 'viewend') {
      this.open.delete(e.view_id);
      const hours = v.acc.summary().play_ms / 3.6e6;
      void this.addRecord({ channel: v.channel, visit: v.visit, at: v.at, hours, msgs: v.msgs }).catch(() => undefined);
    }
  }

  /** Predicted behaviour and the weights for watching `channel` now. Never throws: falls back to defaults. */
  async profile(channel: string): Promise<ProfileAnswer> {
    await this.loaded;
    const budget = this.o.budgetMs ?? 2000;
    let agg: ChannelAggregates = { I_all: null, T_all: null };
    let medians: Behaviour | null = null;
    try {
      if (this.o.controller) {
        const r = await withDeadline(fetch(`${this.o.controller}/v1/channels/${encodeURIComponent(channel)}/stats`), budget);
        if (r.ok) {
          const j = await r.json();
          agg = { I_all: j.I_all, T_all: j.T_all };
          if (j.medians && [j.medians.I, j.medians.D, j.medians.N].every((x: unknown) => typeof x === 'number')) medians = j.medians;
        }
      }
    } catch {
      /* no aggregates: the model runs with zeros there */
    }
    // no history yet: nothing to profile from — equal weights, not a guess from an empty input
    if (this.records.length === 0)
      return { weights: { ...DEFAULT_WEIGHTS }, predicted: null, medians, source: 'default', reason: 'no history yet' };
    const ready = await withDeadline(this.ready, budget).catch(() => false);
    if (!ready || !this.o.port)
      return { weights: { ...DEFAULT_WEIGHTS }, predicted: null, medians, source: 'default', reason: 'no profile model' };
    try {
      const x = requestFeatures(this.records, channel, agg, this.o.ep.sessionId);
      const predicted = await withDeadline(this.o.port.predict(x), budget);
      // without population medians yet, the history's own medians stand in (weights stay comparable)
      const med = medians ?? fallbackMedians(this.records);
      return { weights: preferenceWeights(predicted, med), predicted, medians: med, source: 'model' };
    } catch (e) {
      return { weights: { ...DEFAULT_WEIGHTS }, predicted: null, medians, source: 'default', reason: (e as Error)?.message ?? String(e) };
    }
  }

  /** just the three weights (what the negotiation sends) */
  async weights(channel: string): Promise<PreferenceWeights> {
    return (await this.profile(channel)).weights;
  }

  /** Forget the viewer's history, on the device and in storage. */
  async clear(): Promise<void> {
    await this.loaded;
    this.records = [];
    this.open.clear();
    const st = this.store();
    if (st) await idbClear(st).catch(() => undefined);
  }

  destroy(): void {
    this.off();
  }

  // ---- storage: one IndexedDB record with the history (idb-keyval), only once consent is granted ----
  private idb: UseStore | null = null;
  private store(): UseStore | null {
    if (this.o.ep.consent !== 'granted' || typeof indexedDB === 'undefined') return null;
    try {
      this.idb ??= createStore(this.o.dbName ?? 'edgeplay-profile', STORE);
    } catch {
      return null;
    }
    return this.idb;
  }
  private async load(): Promise<void> {
    const st = this.store();
    const got = st ? await idbGet<WatchRecord[]>('history', st).catch(() => undefined) : undefined;
    if (Array.isArray(got)) this.records = got.concat(this.records);
  }
  private async persist(): Promise<void> {
    const st = this.store();
    if (st) await idbSet('history', this.records, st).catch(() => undefined);
  }
}

function fallbackMedians(h: WatchRecord[]): Behaviour {
  const med = (v: number[]) => {
    if (!v.length) return 0;
    const s = [...v].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  const visits = new Map<string, number>();
  for (const w of h) visits.set(w.visit, (visits.get(w.visit) ?? 0) + 1);
  return { I: med(h.map((w) => interactionRate(w.msgs, w.hours))), D: med(h.map((w) => w.hours)), N: med([...visits.values()]) || 1 };
}
