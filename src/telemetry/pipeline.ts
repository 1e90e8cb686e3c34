/**
 * Telemetry pipeline: consent gate -> sampling -> batching -> durable outbox -> delivery.
 *
 * Delivery guarantees: at-least-once transport + idempotent batch ids on the server = every event
 * stored exactly once, across offline periods, server outages and page unloads.
 * - Open batch (memory) is sealed every `flushIntervalMs`, at `maxBatchEvents`, when the page is
 *   hidden, on `flush()` and on `pagehide`. A sealed batch gets its id and never changes again.
 * - Sealed batches go to IndexedDB before they are sent, and are removed only after a 2xx ack.
 * - `fetch` with `keepalive`, retried with exponential backoff and full jitter (Retry-After honoured),
 *   woken up early by the `online` event.
 * - On `pagehide`: seal, spill not-yet-durable batches to localStorage synchronously, and `sendBeacon`
 *   everything outstanding. Beacons carry no ack, so the batches stay in the outbox and the next page
 *   sends them again; the server answers `duplicate: true` for the ones that arrived.
 * - A batch the server rejects as malformed (400/413/422) is dropped with a console error instead of
 *   blocking the queue forever.
 */
import { randomId } from '../core/ids.js';
import { utf8Length } from '../core/bytes.js';
import { withDefaults } from '../core/options.js';
import { LIMITS, PROTOCOL_VERSION, toConsent, type Consent, type TelemetryBatch, type TelemetryEvent } from '../core/protocol.js';
import { DurableQueue, spillKey, type StoredBatch } from './queue.js';

export interface PipelineOptions {
  endpoint: string;
  viewerId: () => string;
  sessionId: () => string;
  consent: Consent;
  /** 0..1, decided once per viewer id */
  sampled: boolean;
  flushIntervalMs?: number;
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  dbName?: string;
  tabId: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** extra request headers (e.g. a session token); sent with fetch, not with beacons */
  headers?: () => Record<string, string>;
  /** the edge negotiation to tag batches with (session + signed token), if any */
  edge?: () => { session: string; token: string } | null;
}

export interface PipelineStats {
  recorded: number;
  sealed: number;
  delivered: number;
  duplicates: number;
  rejected: number;
  failures: number;
  beacons: number;
  pending: number;
  durable: boolean;
}

export class TelemetryPipeline {
  private opts: Required<Omit<PipelineOptions, 'headers' | 'edge'>> & Pick<PipelineOptions, 'headers' | 'edge'>;
  private consent: Consent;
  private held: TelemetryEvent[] = [];
  private open: TelemetryEvent[] = [];
  private openBytes = 0;
  private outbox = new Map<string, Outgoing>();
  private queue: Promise<DurableQueue>;
  private q: DurableQueue | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** the delivery run in progress (one at a time); flush() and destroy() wait for it */
  private pumpRun: Promise<void> | null = null;
  private attempt = 0;
  private destroyed = false;
  readonly stats: PipelineStats = {
    recorded: 0,
    sealed: 0,
    delivered: 0,
    duplicates: 0,
    rejected: 0,
    failures: 0,
    beacons: 0,
    pending: 0,
    durable: false,
  };

  constructor(opts: PipelineOptions) {
    // an option given as undefined (Edgeplay passes `options.dbName` / `options.flushIntervalMs` through) keeps its default
    this.opts = withDefaults(
      { flushIntervalMs: 5000, maxBatchEvents: 100, maxBatchBytes: 48 * 1024, dbName: 'edgeplay', retryBaseMs: 1000, retryMaxMs: 60000 },
      opts,
    );
    this.consent = toConsent(opts.consent, 'edgeplay telemetry pipeline');
    this.queue = this.consent === 'granted' ? this.openQueue() : new Promise(() => undefined);
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
  }

  private openQueue(): Promise<DurableQueue> {
    const p = DurableQueue.open(this.opts.dbName, this.opts.tabId).then(async (q) => {
      this.q = q;
      this.stats.durable = q.durable;
      // durable only in IndexedDB: a memory-only outbox (no IndexedDB) must spill them again at unload
      for (const b of await q.list()) if (!this.outbox.has(b.id)) this.outbox.set(b.id, outgoing(b, q.durable));
      this.stats.pending = this.outbox.size;
      void this.pump();
      return q;
    });
    this.queue = p;
    return p;
  }

  /** @throws TypeError for a value that is not a consent state (`toConsent`) */
  setConsent(consent: Consent): void {
    const c = toConsent(consent, 'edgeplay telemetry pipeline');
    const was = this.consent;
    this.consent = c;
    if (c === 'denied') {
      this.held = [];
      this.open = [];
      this.openBytes = 0;
    } else if (c === 'granted' && was !== 'granted') {
      void this.openQueue();
      const held = this.held;
      this.held = [];
      for (const e of held) this.append(e);
    }
  }

  setSampled(sampled: boolean): void {
    this.opts.sampled = sampled;
    if (!sampled) this.held = [];
  }

  get consentState(): Consent {
    return this.consent;
  }

  record(e: TelemetryEvent): void {
    if (this.destroyed || this.consent === 'denied' || !this.opts.sampled) return;
    this.stats.recorded++;
    if (this.consent === 'pending') {
      if (this.held.length < 5000) this.held.push(e);
      return;
    }
    this.append(e);
  }

  private append(e: TelemetryEvent): void {
    const size = utf8Length(JSON.stringify(e)) + 1; // bytes on the wire, with the comma
    if (this.open.length && this.openBytes + size > this.opts.maxBatchBytes) this.seal();
    this.open.push(e);
    this.openBytes += size;
    if (this.open.length >= Math.min(this.opts.maxBatchEvents, LIMITS.maxEventsPerBatch)) this.seal();
    else if (!this.flushTimer)
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.seal();
        void this.pump();
      }, this.opts.flushIntervalMs);
  }

  /** Close the open batch: give it an id, make it durable, queue it for delivery. Returns it (if any). */
  private seal(): Outgoing | null {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.open.length === 0 || this.consent !== 'granted') return null;
    const batch: TelemetryBatch = {
      v: PROTOCOL_VERSION,
      batch_id: randomId(),
      viewer_id: this.opts.viewerId(),
      session_id: this.opts.sessionId(),
      sealed_at: Date.now(),
      events: this.open,
    };
    const edge = this.opts.edge?.();
    if (edge) batch.edge = { session: edge.session, token: edge.token };
    this.open = [];
    this.openBytes = 0;
    const stored = outgoing(
      { id: batch.batch_id, body: JSON.stringify(batch), created: batch.sealed_at + this.stats.sealed / 1000, events: batch.events.length },
      false,
    );
    this.outbox.set(stored.id, stored);
    this.stats.sealed++;
    this.stats.pending = this.outbox.size;
    void this.queue
      .then(async (q) => {
        await q.put(stored);
        return q.durable;
      })
      .then(
        (durable) => {
          // in a memory-only outbox (IndexedDB unavailable) the batch stays "not durable": the unload spills it
          stored.durable = durable;
        },
        (err) => console.warn('[edgeplay] outbox write failed', err),
      );
    return stored;
  }

  /**
   * Seal now and deliver everything outstanding, including batches sealed while a send was in flight;
   * resolves when every batch sealed so far is delivered (or rejected), or a retry is scheduled after a
   * failure.
   */
  async flush(): Promise<void> {
    if (this.consent !== 'granted' || this.destroyed) return;
    this.seal();
    await this.queue;
    this.attempt = 0;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    await this.pump();
  }

  private onOnline = () => {
    this.attempt = 0;
    void this.pump();
  };

  /** Start a delivery run, or join the one in progress (it picks up batches sealed meanwhile). */
  private pump(): Promise<void> {
    if (this.pumpRun) return this.pumpRun;
    if (this.destroyed || this.consent !== 'granted' || !this.q) return Promise.resolve();
    if (this.retryTimer) return Promise.resolve(); // a retry is scheduled; `flush()`/`online` clear it
    const q = this.q;
    this.pumpRun = (async () => {
      // oldest first, re-read after every send: what is sealed during a send is delivered in the same run
      for (let b = this.oldest(); b; b = this.oldest()) {
        if (this.consent !== 'granted') return;
        const outcome = await this.send(b);
        if (outcome === 'ok' || outcome === 'rejected') {
          this.outbox.delete(b.id);
          this.stats.pending = this.outbox.size;
          await q.remove(b.id);
          this.attempt = 0;
        } else {
          this.stats.failures++;
          this.scheduleRetry(outcome === 'retry' ? undefined : outcome);
          return;
        }
      }
    })().finally(() => {
      this.pumpRun = null;
    });
    return this.pumpRun;
  }

  private oldest(): Outgoing | undefined {
    let best: Outgoing | undefined;
    for (const b of this.outbox.values()) if (!best || b.created < best.created) best = b;
    return best;
  }

  private scheduleRetry(retryAfterMs?: number): void {
    if (this.destroyed) return;
    this.attempt++;
    const cap = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(16, this.attempt - 1));
    const delay = retryAfterMs ?? Math.max(100, Math.random() * cap);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.pump();
    }, delay);
  }

  private async send(b: Outgoing): Promise<'ok' | 'rejected' | 'retry' | number> {
    // keepalive lets a send outlive the page, but the browser refuses a keepalive body beyond its quota
    // (64 KiB of UTF-8 in flight per page): large bodies, and a body whose keepalive attempt failed, go as
    // a plain request — a body is never retried in a way that cannot succeed
    const keepalive = b.keepalive && b.bytes <= KEEPALIVE_BYTES;
    try {
      const res = await fetch(this.opts.endpoint, {
        method: 'POST',
        body: b.body,
        keepalive,
        headers: { 'content-type': 'text/plain;charset=UTF-8', ...(this.opts.headers?.() ?? {}) },
        credentials: 'omit',
        mode: 'cors',
      });
      if (res.ok) {
        const ack = (await res.json().catch(() => null)) as { duplicate?: boolean } | null;
        this.stats.delivered++;
        if (ack?.duplicate) this.stats.duplicates++;
        return 'ok';
      }
      if (res.status === 400 || res.status === 413 || res.status === 422) {
        this.stats.rejected++;
        console.error(`[edgeplay] telemetry batch ${b.id} rejected by the server (${res.status}): ${await res.text().catch(() => '')}`);
        return 'rejected';
      }
      const ra = Number(res.headers.get('retry-after'));
      return Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, this.opts.retryMaxMs) : 'retry';
    } catch {
      if (keepalive) b.keepalive = false; // it may have been the quota: the next attempt goes without keepalive
      return 'retry';
    }
  }

  /** Synchronous unload path: seal, spill what is not yet durable, beacon everything outstanding. */
  pageHide(): void {
    if (this.consent !== 'granted' || this.destroyed) return;
    this.seal();
    const all = [...this.outbox.values()].sort((a, b) => a.created - b.created);
    this.spill(all.filter((b) => !b.durable));
    if (typeof navigator !== 'undefined' && typeof navigator.sendBeacon === 'function') {
      // the beacon quota is bytes of UTF-8 in flight (64 KiB); what does not fit stays in the outbox for the next page
      let budget = KEEPALIVE_BYTES;
      for (const b of all) {
        if (b.bytes > budget) continue;
        try {
          if (navigator.sendBeacon(this.opts.endpoint, new Blob([b.body], { type: 'text/plain;charset=UTF-8' }))) {
            budget -= b.bytes;
            this.stats.beacons++;
          }
        } catch {
          /* refused: the batch stays in the outbox */
        }
      }
    }
  }

  /** Synchronously keep batches in localStorage for the next page (which imports them into its outbox). */
  private spill(batches: Outgoing[]): void {
    if (!batches.length) return;
    if (this.q) return this.q.spillSync(batches.map(storedOf));
    // queue not open yet: spill directly under this tab's key
    try {
      const key = spillKey(this.opts.dbName, this.opts.tabId);
      const prev = JSON.parse(localStorage.getItem(key) ?? '[]') as StoredBatch[];
      localStorage.setItem(key, JSON.stringify([...prev, ...batches.map(storedOf)]));
    } catch {
      /* nothing more we can do synchronously */
    }
  }

  /** Page became visible again or was restored: resume delivery. */
  pageShow(): void {
    this.attempt = 0;
    void this.pump();
  }

  /**
   * Stop: seal the open batch, and keep whatever is not delivered durable (IndexedDB when it is available,
   * else the localStorage spill the next page imports). `Edgeplay.destroy()` flushes before calling this.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.seal();
    // an IndexedDB outbox finishes its writes by itself; without one, the next page imports the spill
    if (!this.q?.durable) this.spill([...this.outbox.values()].filter((b) => !b.durable));
    this.destroyed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
  }
}

/** Bytes of UTF-8 a keepalive fetch or a beacon may carry (Chromium's quota is 64 KiB in flight per page). */
const KEEPALIVE_BYTES = 60000;

/** A sealed batch on its way: its size on the wire, whether it is durable yet, whether keepalive may carry it. */
interface Outgoing extends StoredBatch {
  bytes: number;
  durable: boolean;
  keepalive: boolean;
}

function outgoing(b: StoredBatch, durable: boolean): Outgoing {
  return { ...b, bytes: utf8Length(b.body), durable, keepalive: true };
}

const storedOf = (b: Outgoing): StoredBatch => ({ id: b.id, body: b.body, created: b.created, events: b.events });
