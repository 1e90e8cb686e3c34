/**
 * Edge registry with capacities and live usage, and reservations as leases (released on leave or expiry,
 * so a vanished client frees capacity). An edge carries a channel once (the top version pulled from the
 * CDN) and transcodes each lower version once; those are shared by its viewers of that channel and freed
 * with the last of them. This is the in-memory store (the embedded default).
 */
import { EDGE_SETTINGS, VERSIONS, type EdgeSetting, type EdgeState } from '../core/assignment.js';

export interface EdgeConfig {
  id: string;
  /** origin the edge serves streams from, e.g. http://127.0.0.1:9001 (mirrors the CDN's paths) */
  url: string;
  setting: EdgeSetting;
  /** edge ↔ CDN one-way latency, s (default 0.05) */
  cdnLatencyS?: number;
}

export interface Lease {
  session: string;
  edge: string;
  channel: string;
  version: number;
  expires: number;
}

export interface Reservation { ok: boolean; reason?: string }

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
  readonly sync: SyncMemoryAssignmentStore;
  constructor(edges: EdgeConfig[]) {
    this.sync = new SyncMemoryAssignmentStore(edges);
  }
  edges() { return this.sync.edges(); }
  async snapshot() { return this.sync.snapshot(); }
  async reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now?: number) { return this.sync.reserve(session, edge, channel, version, ttlMs, now); }
  async renew(session: string, ttlMs: number, now?: number) { return this.sync.renew(session, ttlMs, now); }
  async release(session: string) { return this.sync.release(session); }
  async lease(session: string) { return this.sync.lease(session); }
  async sweep(now?: number) { return this.sync.sweep(now); }
  async markDown(edge: string, down: boolean) { this.sync.markDown(edge, down); }
  async close() { /* nothing to close */ }
}

interface ChannelUse { viewers: number; versions: Map<number, number> }

export class SyncMemoryAssignmentStore {
  private cfg: Map<string, EdgeConfig>;
  private use = new Map<string, Map<string, ChannelUse>>(); // edge → channel → use
  private leases = new Map<string, Lease>();
  private down = new Set<string>();

  constructor(edges: EdgeConfig[]) {
    for (const e of edges) if (!EDGE_SETTINGS[e.setting]) throw new Error(`edge ${e.id}: unknown setting ${e.setting} (fat | mid | thin)`);
    this.cfg = new Map(edges.map((e) => [e.id, e]));
    for (const e of edges) this.use.set(e.id, new Map());
  }

  edges(): EdgeConfig[] {
    return [...this.cfg.values()];
  }

  private state(id: string): EdgeState {
    const c = this.cfg.get(id)!;
    const cap = EDGE_SETTINGS[c.setting];
    const channels = new Map<string, Set<number>>();
    let mbps = 0;
    let vcpu = 0;
    for (const [ch, u] of this.use.get(id)!) {
      mbps += VERSIONS[0].mbps; // the channel's pull from the CDN
      const vs = new Set<number>();
      for (const [v, viewers] of u.versions) { vs.add(v); mbps += viewers * VERSIONS[v].mbps; if (v > 0) vcpu += VERSIONS[v].vcpu; }
      channels.set(ch, vs);
    }
    return { id, capMbps: cap.mbps, capVcpu: cap.vcpu, usedMbps: mbps, usedVcpu: vcpu, channels };
  }

  snapshot(): EdgeState[] {
    this.sweep();
    return [...this.cfg.keys()].filter((id) => !this.down.has(id)).map((id) => this.state(id));
  }

  reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now = Date.now()): Reservation {
    this.sweep(now);
    if (!this.cfg.has(edge)) return { ok: false, reason: `unknown edge ${edge}` };
    if (this.down.has(edge)) return { ok: false, reason: `edge ${edge} is down` };
    if (!(version >= 0 && version < VERSIONS.length)) return { ok: false, reason: `bad version ${version}` };
    const prev = this.leases.get(session);
    if (prev) this.release(session);
    const s = this.state(edge);
    const carried = s.channels.get(channel);
    const addMbps = VERSIONS[version].mbps + (carried ? 0 : VERSIONS[0].mbps);
    const addVcpu = version === 0 || carried?.has(version) ? 0 : VERSIONS[version].vcpu;
    if (s.usedMbps + addMbps > s.capMbps + 1e-9 || s.usedVcpu + addVcpu > s.capVcpu + 1e-9) {
      if (prev) this.reserve(session, prev.edge, prev.channel, prev.version, Math.max(1, prev.expires - now), now); // put the old lease back
      return { ok: false, reason: `edge ${edge} is full` };
    }
    const chs = this.use.get(edge)!;
    const u = chs.get(channel) ?? chs.set(channel, { viewers: 0, versions: new Map() }).get(channel)!;
    u.viewers++;
    u.versions.set(version, (u.versions.get(version) ?? 0) + 1);
    this.leases.set(session, { session, edge, channel, version, expires: now + ttlMs });
    return { ok: true };
  }

  renew(session: string, ttlMs: number, now = Date.now()): boolean {
    const l = this.leases.get(session);
    if (!l || l.expires <= now) return false;
    l.expires = now + ttlMs;
    return true;
  }

  release(session: string): boolean {
    const l = this.leases.get(session);
    if (!l) return false;
    this.leases.delete(session);
    const chs = this.use.get(l.edge)!;
    const u = chs.get(l.channel)!;
    u.viewers--;
    const n = (u.versions.get(l.version) ?? 1) - 1;
    if (n > 0) u.versions.set(l.version, n); else u.versions.delete(l.version);
    if (u.viewers <= 0) chs.delete(l.channel);
    return true;
  }

  lease(session: string): Lease | null {
    const l = this.leases.get(session);
    return l && l.expires > Date.now() ? { ...l } : null;
  }

  sweep(now = Date.now()): number {
    let n = 0;
    for (const [s, l] of this.leases) if (l.expires <= now) { this.release(s); n++; }
    return n;
  }

  markDown(edge: string, down: boolean): void {
    if (down) this.down.add(edge); else this.down.delete(edge);
  }
}
