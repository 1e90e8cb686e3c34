/**
 * The controller's assignment store interface (async: the Redis store shares it between processes) and
 * its in-memory implementation (the embedded default), a thin wrapper over the capacity ledger of
 * src/assign/edge/ledger.ts. The store holds everything a negotiation needs between two requests — the
 * edges' leases and the negotiation sessions themselves — so a controller process keeps nothing of its own:
 * any process of a fleet answers any steering reload or leave, and a restarted process loses nothing.
 */
import type { EdgeState, ViewerRequest } from '../assign/edge/model.js';
import { CapacityLedger, type EdgeConfig, type Lease, type Reservation } from '../assign/edge/ledger.js';
import type { PreferenceWeights } from '../core/preference.js';
import type { RenditionRef, VariantRef } from '../core/schemas/negotiate.js';

export type { EdgeConfig, Lease, Reservation };

/**
 * A negotiation session: what the controller knows of one viewer's playback between its steering reloads
 * (negotiation.ts decides on it). Plain JSON: the Redis store keeps it as one JSON string.
 */
export interface Session {
  id: string;
  channel: string;
  weights: PreferenceWeights;
  variants: VariantRef[];
  renditions: RenditionRef[];
  /**
   * whether a clone can move every URI the player fetches to an edge: only with the playlist's variants (a
   * media playlist has none, and an empty clone moves nothing) — otherwise the session stays on the CDN
   */
  steerable: boolean;
  req: ViewerRequest;
  /** 'cdn' or the edge id the session is assigned to */
  target: string;
  /** index into VERSIONS */
  version: number;
  /** epoch ms after which the session is forgotten (each steering reload pushes it on) */
  expires: number;
  /** the pathway the last manifest put first (null before the first manifest) */
  advertised: string | null;
  /** steering manifests served so far */
  steered: number;
  /** the player's last measured throughput, Mb/s (null until one arrives) */
  measuredMbps: number | null;
  /** with several CDNs: the CDN pathway serving the viewer when it is not on an edge (null: none chosen yet) */
  cdn: string | null;
  /** CDN pathways the viewer left (a failover): listed last from then on (an array: sessions are stored as JSON) */
  leftCdns: string[];
  /** the CDN the last manifest put first among the CDNs (null before) */
  advertisedCdn: string | null;
}

/**
 * What the controller needs from a store (async: the Redis store shares it between processes). Methods
 * reject when the store cannot be reached (the controller turns that into a 503: errors.ts).
 */
export interface AssignmentStore {
  edges(): EdgeConfig[];
  /** capacity and usage of every edge (live edges only) */
  snapshot(): Promise<EdgeState[]>;
  /** check capacity and reserve atomically; replaces the session's previous lease */
  reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now?: number): Promise<Reservation>;
  renew(session: string, ttlMs: number, now?: number): Promise<boolean>;
  release(session: string): Promise<boolean>;
  lease(session: string): Promise<Lease | null>;
  /** drop expired leases; returns how many */
  sweep(now?: number): Promise<number>;
  markDown(edge: string, down: boolean): Promise<void>;
  /** the session `id`, or null when it is unknown or past its `expires` */
  getSession(id: string): Promise<Session | null>;
  /** store (or replace) a session until its `expires` (epoch ms) */
  putSession(s: Session): Promise<void>;
  /** forget a session; whether it was there */
  dropSession(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The in-memory store behind the async interface: one process (the embedded default). Sessions are kept as
 * the objects the negotiator hands in; expired ones are dropped lazily (at most every 5 s, on a write).
 * Hand one instance to successive `buildServer` calls to keep sessions and leases across a restart of the app.
 */
export class MemoryAssignmentStore implements AssignmentStore {
  readonly sync: CapacityLedger;
  private sessions = new Map<string, Session>();
  private nextSweep = 0;

  constructor(edges: EdgeConfig[]) {
    this.sync = new CapacityLedger(edges);
  }
  edges() {
    return this.sync.edges();
  }
  async snapshot() {
    return this.sync.snapshot();
  }
  async reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now?: number) {
    return this.sync.reserve(session, edge, channel, version, ttlMs, now);
  }
  async renew(session: string, ttlMs: number, now?: number) {
    return this.sync.renew(session, ttlMs, now);
  }
  async release(session: string) {
    return this.sync.release(session);
  }
  async lease(session: string) {
    return this.sync.lease(session);
  }
  async sweep(now?: number) {
    return this.sync.sweep(now);
  }
  async markDown(edge: string, down: boolean) {
    this.sync.markDown(edge, down);
  }
  async getSession(id: string): Promise<Session | null> {
    const s = this.sessions.get(id);
    return s && s.expires > Date.now() ? s : null;
  }
  async putSession(s: Session): Promise<void> {
    const now = Date.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + 5000;
      for (const [k, v] of this.sessions) if (v.expires <= now) this.sessions.delete(k);
    }
    this.sessions.set(s.id, s);
  }
  async dropSession(id: string): Promise<boolean> {
    return this.sessions.delete(id);
  }
  /** sessions held (expired ones included until the next sweep) */
  get sessionCount(): number {
    return this.sessions.size;
  }
  async close() {
    /* nothing to close */
  }
}
