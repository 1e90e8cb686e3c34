/**
 * ByteCache: the accounting half of an edge cache, shared by the reference edge (which keeps the bodies
 * beside it) and the simulator (which keeps none). Capacity is in bytes and never exceeded: an insert
 * evicts the policy's victims until the object fits, an object larger than the capacity is not stored, and
 * a shrink evicts at once. The size and the policy can change at run time (the agent's two decisions,
 * edge-intelligence-immersive-media, "Edge Caching for Multimedia Content"); a new policy adopts the
 * contents in recency order with their hit counts.
 */
import { makePolicy } from './policies.js';
import type { AccessHint, CacheKey, ReplacementPolicy } from './types.js';

export interface CacheEntry {
  bytes: number;
  /** hits since insertion */
  hits: number;
  /** seconds (the caller's clock) */
  inserted: number;
  lastAccess: number;
  /** the entry is stale from this time on (Infinity: never; playlists are short-lived) */
  expires: number;
}

/** Running totals since construction (differences between two reads give an interval's figures). */
export interface CacheCounters {
  requests: number;
  hits: number;
  /** bytes of all requests, and of those that hit */
  bytesRequested: number;
  bytesHit: number;
  insertions: number;
  evictions: number;
  /** misses not stored: larger than the capacity, or refused by the policy's admission */
  bypasses: number;
  /** sum over evictions of the evicted object's idle time (now − last access, seconds) */
  evictedIdleS: number;
}

export class ByteCache<K extends CacheKey = CacheKey> {
  private entries = new Map<K, CacheEntry>();
  private pol: ReplacementPolicy<K>;
  private cap: number;
  private usedBytes = 0;
  readonly counters: CacheCounters = {
    requests: 0,
    hits: 0,
    bytesRequested: 0,
    bytesHit: 0,
    insertions: 0,
    evictions: 0,
    bypasses: 0,
    evictedIdleS: 0,
  };
  private now = 0;

  /**
   * @param capacityBytes ≥ 0
   * @param policy a name (makePolicy) or an instance
   * @param onEvict told of every key that leaves (eviction, expiry, delete): the edge drops the body
   */
  constructor(
    capacityBytes: number,
    policy: string | ReplacementPolicy<K>,
    private onEvict?: (key: K) => void,
  ) {
    if (!(capacityBytes >= 0)) throw new Error(`capacity must be ≥ 0 bytes, got ${capacityBytes}`);
    this.cap = capacityBytes;
    this.pol = typeof policy === 'string' ? makePolicy<K>(policy) : policy;
  }

  get capacity(): number {
    return this.cap;
  }
  get used(): number {
    return this.usedBytes;
  }
  get count(): number {
    return this.entries.size;
  }
  get policy(): string {
    return this.pol.name;
  }
  entry(key: K): CacheEntry | undefined {
    return this.entries.get(key);
  }
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  /** Whether `key` is cached and fresh at `now` (a stale entry is removed). Counts nothing. */
  has(key: K, now: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.expires <= now) {
      this.remove(key, e);
      return false;
    }
    return true;
  }

  /**
   * A request for `key` of `bytes`: counts it and, on a hit, tells the policy. Returns whether it hit.
   * A miss is not inserted here (the edge inserts when the origin answers; `request` does both).
   */
  lookup(key: K, bytes: number, now: number, hint?: AccessHint): boolean {
    this.now = now;
    const c = this.counters;
    c.requests++;
    c.bytesRequested += bytes;
    if (!this.has(key, now)) return false;
    const e = this.entries.get(key)!;
    e.hits++;
    e.lastAccess = now;
    c.hits++;
    c.bytesHit += bytes;
    this.pol.onHit(key, e.bytes, now, hint);
    return true;
  }

  /**
   * Store `key` (after a miss). Evicts victims until it fits; returns false (nothing stored, nothing
   * evicted) when it is larger than the capacity or the policy's admission refuses it.
   * @param ttlS seconds until the entry is stale (default: never)
   */
  insert(key: K, bytes: number, now: number, hint?: AccessHint, ttlS = Infinity): boolean {
    if (!(bytes >= 0)) throw new Error(`object size must be ≥ 0 bytes, got ${bytes}`);
    this.now = now;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    const need = this.usedBytes + bytes - this.cap;
    if (bytes > this.cap || (need > 0 && this.pol.admit && !this.pol.admit(key, bytes, now, hint, need))) {
      this.counters.bypasses++;
      return false;
    }
    this.fit(this.cap - bytes);
    this.entries.set(key, { bytes, hits: hint?.hits ?? 0, inserted: now, lastAccess: now, expires: now + ttlS });
    this.usedBytes += bytes;
    this.counters.insertions++;
    this.pol.onInsert(key, bytes, now, hint);
    return true;
  }

  /** lookup, and insert on a miss; returns whether it hit (the simulator's one call per request) */
  request(key: K, bytes: number, now: number, hint?: AccessHint): boolean {
    if (this.lookup(key, bytes, now, hint)) return true;
    this.insert(key, bytes, now, hint);
    return false;
  }

  /** remove `key` if present (not counted as an eviction) */
  delete(key: K): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.remove(key, e);
    return true;
  }

  /** new capacity in bytes (≥ 0); a shrink evicts at once */
  resize(capacityBytes: number): void {
    if (!(capacityBytes >= 0)) throw new Error(`capacity must be ≥ 0 bytes, got ${capacityBytes}`);
    this.cap = capacityBytes;
    this.fit(this.cap);
  }

  /** switch the replacement policy: the new one adopts the contents, least recently used first */
  setPolicy(policy: string | ReplacementPolicy<K>): void {
    const next = typeof policy === 'string' ? makePolicy<K>(policy) : policy;
    if (next.name === this.pol.name && typeof policy === 'string') return;
    const list = [...this.entries].sort((a, b) => a[1].lastAccess - b[1].lastAccess);
    for (const [k, e] of list) next.onInsert(k, e.bytes, e.lastAccess, { hits: e.hits });
    this.pol = next;
  }

  /** evict victims until at most `limit` bytes are used */
  private fit(limit: number): void {
    while (this.usedBytes > limit) {
      const v = this.pol.victim();
      const e = v === undefined ? undefined : this.entries.get(v);
      if (v === undefined || !e) throw new Error(`policy ${this.pol.name} has no victim while ${this.usedBytes} bytes are used`);
      this.counters.evictions++;
      this.counters.evictedIdleS += Math.max(0, this.now - e.lastAccess);
      this.remove(v, e);
    }
  }

  private remove(key: K, e: CacheEntry): void {
    this.entries.delete(key);
    this.usedBytes -= e.bytes;
    this.pol.onEvict(key);
    this.onEvict?.(key);
  }
}
