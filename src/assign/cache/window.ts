/**
 * The agent's view of recent requests (edge-intelligence-immersive-media, "Edge Caching for Multimedia
 * Content": "a dynamically-changing learning window of historical requests, so that the agent can learn
 * from both stationary and nonstationary popularity distributions").
 *
 * Requests are observed one by one; at the end of each decision interval `close()` returns the interval's
 * statistics and folds them into the window. The window weighs past intervals by exp(−age / halfLife·ln2);
 * the half-life adapts to drift: the drift of an interval is the total-variation distance between its
 * popularity over content groups (a live channel, a VOD, a playlist's folder) and the window's. Drift above
 * its own running mean + 1 sd halves the half-life (forget faster: popularity moved); below mean − 0.5 sd
 * doubles it (stationary: remember longer). Bounded to [minHalfLifeS, maxHalfLifeS].
 */
import type { CacheKey } from './types.js';

export interface WindowOptions {
  /** seconds per decision interval (informational: rates use the observed span) */
  intervalS: number;
  minHalfLifeS: number;
  maxHalfLifeS: number;
  /** reuse times above this are "old" (the per-key memory spans two generations of this length) */
  reuseHorizonS: number;
}

export const WINDOW_DEFAULTS: WindowOptions = { intervalS: 600, minHalfLifeS: 600, maxHalfLifeS: 86400, reuseHorizonS: 6 * 3600 };

/** Reuse-time bucket upper bounds (s): a request whose key was last requested within each. */
export const REUSE_BUCKETS_S = [60, 600, 3600, 6 * 3600] as const;

export interface IntervalStats {
  /** seconds covered */
  spanS: number;
  requests: number;
  bytes: number;
  hits: number;
  bytesHit: number;
  /** requests per second and bytes per second in the interval */
  reqRate: number;
  byteRate: number;
  /** mean requests per second over the window (before this interval was folded in) */
  windowReqRate: number;
  /** share of requests by the time since the key's previous request: REUSE_BUCKETS_S, then older or never */
  reuse: number[];
  /** share of requests that went to the 10 most requested groups of the interval */
  top10Share: number;
  /** share of requests to groups the window had not seen */
  newGroupShare: number;
  /** total-variation distance between the interval's group popularity and the window's (0…1) */
  drift: number;
  /** the window's half-life after this interval (s) */
  halfLifeS: number;
}

export class LearningWindow<K extends CacheKey = CacheKey> {
  readonly opts: WindowOptions;
  private halfLife: number;
  private groups = new Map<number | string, number>(); // windowed request counts per group
  private groupMass = 0;
  private winReq = 0; // windowed requests
  private winSpan = 0; // windowed seconds
  private cur = new Map<number | string, number>();
  private lastSeen = new Map<K, number>();
  private prevSeen = new Map<K, number>();
  private genStart = -Infinity;
  private start = NaN;
  private last = NaN;
  private n = 0;
  private bytes = 0;
  private hits = 0;
  private bytesHit = 0;
  private reuse = new Float64Array(REUSE_BUCKETS_S.length + 1);
  private driftMean = 0;
  private driftVar = 0;
  private intervals = 0;

  constructor(opts: Partial<WindowOptions> = {}) {
    this.opts = { ...WINDOW_DEFAULTS, ...opts };
    if (!(this.opts.minHalfLifeS > 0 && this.opts.maxHalfLifeS >= this.opts.minHalfLifeS))
      throw new Error('window: need 0 < minHalfLifeS ≤ maxHalfLifeS');
    this.halfLife = Math.sqrt(this.opts.minHalfLifeS * this.opts.maxHalfLifeS);
  }

  get halfLifeS(): number {
    return this.halfLife;
  }

  /** one request at `now` (seconds) for `key` of content `group`, `bytes` long; `hit` as the cache answered */
  observe(key: K, group: number | string, bytes: number, hit: boolean, now: number): void {
    if (Number.isNaN(this.start)) this.start = now;
    this.last = now;
    this.n++;
    this.bytes += bytes;
    if (hit) {
      this.hits++;
      this.bytesHit += bytes;
    }
    this.cur.set(group, (this.cur.get(group) ?? 0) + 1);
    // two generations of last-seen times: memory O(keys of the last 2 horizons)
    if (now - this.genStart >= this.opts.reuseHorizonS) {
      this.prevSeen = this.lastSeen;
      this.lastSeen = new Map();
      this.genStart = now;
    }
    const prev = this.lastSeen.get(key) ?? this.prevSeen.get(key);
    const dt = prev === undefined ? Infinity : now - prev;
    let b = 0;
    while (b < REUSE_BUCKETS_S.length && dt > REUSE_BUCKETS_S[b]) b++;
    this.reuse[b]++;
    this.lastSeen.set(key, now);
  }

  /** end of an interval at `now`: its statistics; the window then takes them in and adapts its length */
  close(now: number): IntervalStats {
    const span = Math.max(1e-9, Number.isNaN(this.start) ? this.opts.intervalS : Math.max(now - this.start, this.opts.intervalS * 0.5));
    const n = this.n;
    // drift: TV distance between the interval's group shares and the window's
    let tv = 0,
      newReq = 0;
    const counts = [...this.cur.values()].sort((a, b) => b - a);
    for (const [g, c] of this.cur) {
      const w = this.groupMass > 0 ? (this.groups.get(g) ?? 0) / this.groupMass : 0;
      if (!w) newReq += c;
      tv += Math.abs(c / Math.max(n, 1) - w);
    }
    if (this.groupMass > 0) for (const [g, c] of this.groups) if (!this.cur.has(g)) tv += c / this.groupMass;
    const drift = n > 0 && this.groupMass > 0 ? tv / 2 : 0;
    const stats: IntervalStats = {
      spanS: span,
      requests: n,
      bytes: this.bytes,
      hits: this.hits,
      bytesHit: this.bytesHit,
      reqRate: n / span,
      byteRate: this.bytes / span,
      windowReqRate: this.winSpan > 0 ? this.winReq / this.winSpan : n / span,
      reuse: Array.from(this.reuse, (x) => (n ? x / n : 0)),
      top10Share: n ? counts.slice(0, 10).reduce((a, b) => a + b, 0) / n : 0,
      newGroupShare: n && this.groupMass > 0 ? newReq / n : 0,
      drift,
      halfLifeS: this.halfLife,
    };
    // adapt the half-life to the drift, relative to the drift's own running statistics
    if (this.intervals >= 6 && n > 0 && this.groupMass > 0) {
      const sd = Math.sqrt(this.driftVar);
      if (drift > this.driftMean + sd) this.halfLife = Math.max(this.opts.minHalfLifeS, this.halfLife / 2);
      else if (drift < this.driftMean - 0.5 * sd) this.halfLife = Math.min(this.opts.maxHalfLifeS, this.halfLife * 2);
    }
    if (n > 0 && this.groupMass > 0) {
      // the drift's own mean and variance: exact over the first 6 intervals, then exponentially weighted
      this.intervals++;
      const d = drift - this.driftMean;
      if (this.intervals <= 6) {
        this.driftMean += d / this.intervals;
        this.driftVar += (d * (drift - this.driftMean) - this.driftVar) / this.intervals;
      } else {
        const a = 0.05;
        this.driftMean += a * d;
        this.driftVar = (1 - a) * (this.driftVar + a * d * d);
      }
    }
    stats.halfLifeS = this.halfLife;
    // fold the interval into the window
    const decay = Math.exp((-span * Math.LN2) / this.halfLife);
    this.groupMass = 0;
    for (const [g, c] of this.groups) {
      const v = c * decay;
      if (v < 1e-3) this.groups.delete(g);
      else {
        this.groups.set(g, v);
        this.groupMass += v;
      }
    }
    for (const [g, c] of this.cur) {
      this.groups.set(g, (this.groups.get(g) ?? 0) + c);
      this.groupMass += c;
    }
    this.winReq = this.winReq * decay + n;
    this.winSpan = this.winSpan * decay + span;
    this.cur.clear();
    this.reuse.fill(0);
    this.n = this.bytes = this.hits = this.bytesHit = 0;
    this.start = now;
    return stats;
  }
}
