/**
 * Edge cache tuning (edge-intelligence-immersive-media, "Edge Caching for Multimedia Content"): the cache
 * size (rented by the byte) and the replacement strategy, chosen together by a learning agent over a window
 * of recent requests. Environment-agnostic: the reference edge (src/server) and the cache simulator
 * (src/sim/cache) use the same policies. This file is the home of those interfaces; the replacement
 * policies (LRU, LFU, GDSF, ...) and the agent live beside it.
 */

/** A replacement policy over objects identified by key, each with a size in bytes. */
export interface ReplacementPolicy {
  readonly name: string;
  /** a request for `key` hit the cache */
  onHit(key: string, bytes: number, now: number): void;
  /** `key` was inserted after a miss */
  onInsert(key: string, bytes: number, now: number): void;
  /** the key to evict next (undefined when empty) */
  victim(): string | undefined;
  onEvict(key: string): void;
}

/** What the tuning agent decides at the end of each window: the next capacity and the policy to use. */
export interface CacheDecision {
  capacityBytes: number;
  policy: string;
}
