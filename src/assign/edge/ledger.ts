/**
 * The capacity ledger of the edges: capacities, live usage and reservations as leases (released on leave
 * or expiry, so a vanished client frees capacity). An edge carries a channel once (the top version pulled
 * from the CDN) and transcodes each lower version once; those are shared by its viewers of that channel and
 * freed with the last of them — the cost rule of `edgeDemand` (model.ts). Synchronous and in memory: the
 * controller's embedded store wraps it (src/server/edges.ts), the simulator and the trainer use it directly.
 */
import { EDGE_SETTINGS, VERSIONS, edgeDemand, fits, type EdgeSetting, type EdgeState } from './model.js';

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

export interface Reservation {
  ok: boolean;
  reason?: string;
}

export class CapacityLedger {
  private cfg: Map<string, EdgeConfig>;
  /**
   * live state per edge, kept up to date by reserve/release (snapshot hands these out read-only); its
   * `channels` map is the only record of use: channel → version → viewers at that version
   */
  private live = new Map<string, Omit<EdgeState, 'channels'> & { channels: Map<string, Map<number, number>> }>();
  private leases = new Map<string, Lease>();
  private down = new Set<string>();

  constructor(edges: EdgeConfig[]) {
    for (const e of edges) if (!EDGE_SETTINGS[e.setting]) throw new Error(`edge ${e.id}: unknown setting ${e.setting} (fat | mid | thin)`);
    this.cfg = new Map(edges.map((e) => [e.id, e]));
    for (const e of edges) {
      const cap = EDGE_SETTINGS[e.setting];
      this.live.set(e.id, { id: e.id, capMbps: cap.mbps, capVcpu: cap.vcpu, usedMbps: 0, usedVcpu: 0, channels: new Map() });
    }
  }

  edges(): EdgeConfig[] {
    return [...this.cfg.values()];
  }

  /** live edges' state — read only (the objects are the store's own) */
  snapshot(now = Date.now()): EdgeState[] {
    this.sweep(now); // O(1) until the earliest lease expires
    const out: EdgeState[] = [];
    for (const [id, st] of this.live) if (!this.down.has(id)) out.push(st);
    return out;
  }

  reserve(session: string, edge: string, channel: string, version: number, ttlMs: number, now = Date.now()): Reservation {
    this.sweep(now);
    if (!this.cfg.has(edge)) return { ok: false, reason: `unknown edge ${edge}` };
    if (this.down.has(edge)) return { ok: false, reason: `edge ${edge} is down` };
    if (!(version >= 0 && version < VERSIONS.length)) return { ok: false, reason: `bad version ${version}` };
    const prev = this.leases.get(session);
    if (prev) this.release(session);
    const s = this.live.get(edge)!;
    const carried = s.channels.get(channel);
    const d = edgeDemand(carried, version);
    if (!fits(s, d, 1e-9)) {
      if (prev) this.reserve(session, prev.edge, prev.channel, prev.version, Math.max(1, prev.expires - now), now); // put the old lease back
      return { ok: false, reason: `edge ${edge} is full` };
    }
    const vs = carried ?? s.channels.set(channel, new Map()).get(channel)!;
    vs.set(version, (vs.get(version) ?? 0) + 1);
    s.usedMbps += d.addMbps;
    s.usedVcpu += d.addVcpu;
    this.leases.set(session, { session, edge, channel, version, expires: now + ttlMs });
    if (now + ttlMs < this.minExpiry) this.minExpiry = now + ttlMs;
    return { ok: true };
  }

  renew(session: string, ttlMs: number, now = Date.now()): boolean {
    const l = this.leases.get(session);
    if (!l || l.expires <= now) return false;
    l.expires = now + ttlMs;
    return true; // (a later expiry never makes minExpiry wrong: it is a lower bound)
  }

  release(session: string): boolean {
    const l = this.leases.get(session);
    if (!l) return false;
    this.leases.delete(session);
    const st = this.live.get(l.edge)!;
    const vs = st.channels.get(l.channel)!;
    st.usedMbps -= VERSIONS[l.version].mbps;
    const n = (vs.get(l.version) ?? 1) - 1;
    if (n > 0) vs.set(l.version, n);
    else {
      vs.delete(l.version);
      if (l.version > 0) st.usedVcpu -= VERSIONS[l.version].vcpu;
    }
    if (vs.size === 0) {
      st.channels.delete(l.channel);
      st.usedMbps -= VERSIONS[0].mbps;
    }
    if (st.channels.size === 0) {
      st.usedMbps = 0;
      st.usedVcpu = 0;
    } // no drift when empty
    return true;
  }

  lease(session: string): Lease | null {
    const l = this.leases.get(session);
    return l && l.expires > Date.now() ? { ...l } : null;
  }

  sweep(now = Date.now()): number {
    if (now < this.minExpiry) return 0;
    let n = 0;
    let min = Infinity;
    for (const [s, l] of this.leases) {
      if (l.expires <= now) {
        this.release(s);
        n++;
      } else if (l.expires < min) min = l.expires;
    }
    this.minExpiry = min;
    return n;
  }
  /** earliest expiry among the leases (a sweep before it has nothing to do) */
  private minExpiry = Infinity;

  markDown(edge: string, down: boolean): void {
    if (down) this.down.add(edge);
    else this.down.delete(edge);
  }
}
