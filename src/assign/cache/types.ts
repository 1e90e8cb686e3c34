/** The cache's shared types (see index.ts for the map of this folder). */

/** Keys of cached objects: strings at the edge server (URL keys), numbers in the simulator (packed ids). */
export type CacheKey = string | number;

/** What a policy may know about an access beyond key and size. */
export interface AccessHint {
  /** time of the next request for this key (offline knowledge: only the Belady bound uses it; Infinity = never) */
  next?: number;
  /** hits recorded for the object so far (used when a policy adopts the contents of another) */
  hits?: number;
}

/**
 * A replacement policy over objects identified by key, each with a size in bytes. The store (store.ts)
 * calls it; times are seconds on any monotonic clock. A policy only orders objects: capacity is the store's.
 */
export interface ReplacementPolicy<K extends CacheKey = CacheKey> {
  readonly name: string;
  /** a request for `key` hit the cache */
  onHit(key: K, bytes: number, now: number, hint?: AccessHint): void;
  /** `key` was inserted after a miss */
  onInsert(key: K, bytes: number, now: number, hint?: AccessHint): void;
  /** the key to evict next (undefined when empty); does not remove it */
  victim(): K | undefined;
  /** `key` left the cache (evicted, expired or deleted) */
  onEvict(key: K): void;
  /**
   * Admission (optional; default admit): asked on a miss only when inserting needs `needBytes` freed.
   * Belady bypasses an object whose next use is farther than every cached one.
   */
  admit?(key: K, bytes: number, now: number, hint: AccessHint | undefined, needBytes: number): boolean;
}

/** What a tuner decides at the end of each interval: the next capacity and the policy to use. */
export interface CacheDecision {
  capacityBytes: number;
  policy: string;
}
