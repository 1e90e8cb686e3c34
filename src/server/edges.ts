/**
 * The controller's assignment store interface (async: the Redis store shares it between processes) and
 * its in-memory implementation (the embedded default), a thin wrapper over the capacity ledger of
 * src/assign/edge/ledger.ts.
 */
import type { EdgeState } from '../assign/edge/model.js';
import { CapacityLedger, type EdgeConfig, type Lease, type Reservation } from '../assign/edge/ledger.js';

export type { EdgeConfig, Lease, Reservation };

/** What the controller needs from a store (async: the Redis store shares it between processes). */
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
  close(): Promise<void>;
}

/** The in-memory store behind the async interface. */
export class MemoryAssignmentStore implements AssignmentStore {
  readonly sync: CapacityLedger;
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
  async close() {
    /* nothing to close */
  }
}
