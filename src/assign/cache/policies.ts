/**
 * Replacement policies for the edge cache (edge-intelligence-immersive-media, "Edge Caching for Multimedia
 * Content": the replacement strategy is the categorical half of the agent's action). Each orders the cached
 * objects; the store (store.ts) owns capacity and asks `victim()` until a new object fits.
 *
 *   lru    least recently used
 *   lfu    least frequently used with dynamic aging (LFU-DA, Arlitt et al. 2000): priority L + hits, L rises
 *          to the priority of each evicted object, so yesterday's popular objects age out (plain in-cache
 *          LFU keeps a finished live segment with many hits forever); ties go to the least recent
 *   gdsf   Greedy-Dual-Size-Frequency (Cherkasova 1998) with cost 1 (the hit-rate variant): priority
 *          L + hits / size (size in MB): small objects stay longer, so more requests hit per byte rented
 *   belady Belady's farthest-next-use rule with bypass (an object whose next use is farther than every
 *          cached one is not admitted): needs the offline next-use hint. With objects of different sizes it
 *          is the standard reference, not the exact optimum (that is NP-hard); we report it as the bound.
 */
import type { AccessHint, CacheKey, ReplacementPolicy } from './types.js';

/** The online policies a tuner can switch between (the categorical part of the agent's action), in order. */
export const POLICY_NAMES = ['lru', 'lfu', 'gdsf'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

interface LruNode<K> {
  key: K;
  prev: LruNode<K> | null;
  next: LruNode<K> | null;
}

/** LRU as a doubly linked list (oldest at the head) indexed by a map: O(1) per operation. */
export class LruPolicy<K extends CacheKey = CacheKey> implements ReplacementPolicy<K> {
  readonly name = 'lru';
  private nodes = new Map<K, LruNode<K>>();
  private head: LruNode<K> | null = null;
  private tail: LruNode<K> | null = null;
  private unlink(n: LruNode<K>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = null;
  }
  private append(n: LruNode<K>): void {
    n.prev = this.tail;
    n.next = null;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }
  onHit(key: K): void {
    const n = this.nodes.get(key);
    if (!n) return this.onInsert(key);
    this.unlink(n);
    this.append(n);
  }
  onInsert(key: K): void {
    let n = this.nodes.get(key);
    if (n) this.unlink(n);
    else this.nodes.set(key, (n = { key, prev: null, next: null }));
    this.append(n);
  }
  victim(): K | undefined {
    return this.head?.key;
  }
  onEvict(key: K): void {
    const n = this.nodes.get(key);
    if (!n) return;
    this.unlink(n);
    this.nodes.delete(key);
  }
}

/**
 * Min-heap of keys ordered by (primary, secondary) with lazy deletion: a key's live priority is kept in a
 * map; heap items whose priority is no longer the key's are skipped when they surface. Rebuilt when stale
 * items outnumber live ones, so memory stays O(live keys).
 */
class LazyHeap<K> {
  private p1: number[] = [];
  private p2: number[] = [];
  private keys: K[] = [];
  private live = new Map<K, { a: number; b: number }>();

  get size(): number {
    return this.live.size;
  }
  set(key: K, a: number, b: number): void {
    const cur = this.live.get(key);
    if (cur) {
      cur.a = a;
      cur.b = b;
    } else this.live.set(key, { a, b });
    this.push(key, a, b);
    if (this.keys.length > 2 * this.live.size + 1024) this.rebuild();
  }
  delete(key: K): void {
    this.live.delete(key);
  }
  /** the key's live primary priority */
  primary(key: K): number | undefined {
    return this.live.get(key)?.a;
  }
  /** the live key with the smallest (primary, secondary), not removed */
  peek(): K | undefined {
    while (this.keys.length) {
      const k = this.keys[0];
      const cur = this.live.get(k);
      if (cur && cur.a === this.p1[0] && cur.b === this.p2[0]) return k;
      this.popTop();
    }
    return undefined;
  }
  private push(key: K, a: number, b: number): void {
    const { p1, p2, keys } = this;
    let i = keys.length;
    keys.push(key);
    p1.push(a);
    p2.push(b);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (p1[up] < a || (p1[up] === a && p2[up] <= b)) break;
      p1[i] = p1[up];
      p2[i] = p2[up];
      keys[i] = keys[up];
      i = up;
    }
    p1[i] = a;
    p2[i] = b;
    keys[i] = key;
  }
  private popTop(): void {
    const { p1, p2, keys } = this;
    const a = p1.pop()!,
      b = p2.pop()!,
      key = keys.pop()!;
    const n = keys.length;
    if (!n) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = -1,
        ma = a,
        mb = b;
      if (l < n && (p1[l] < ma || (p1[l] === ma && p2[l] < mb))) {
        m = l;
        ma = p1[l];
        mb = p2[l];
      }
      if (r < n && (p1[r] < ma || (p1[r] === ma && p2[r] < mb))) m = r;
      if (m < 0) break;
      p1[i] = p1[m];
      p2[i] = p2[m];
      keys[i] = keys[m];
      i = m;
    }
    p1[i] = a;
    p2[i] = b;
    keys[i] = key;
  }
  private rebuild(): void {
    this.keys = [];
    this.p1 = [];
    this.p2 = [];
    for (const [k, { a, b }] of this.live) this.push(k, a, b);
  }
}

/** Shared shape of the greedy-dual family: priority L + hits × weight(size); L ages on every eviction. */
abstract class GreedyDual<K extends CacheKey> implements ReplacementPolicy<K> {
  abstract readonly name: string;
  private heap = new LazyHeap<K>();
  private hits = new Map<K, number>();
  private inflation = 0;
  private seq = 0;
  protected abstract weight(bytes: number): number;
  private touch(key: K, bytes: number, hits: number): void {
    this.hits.set(key, hits);
    this.heap.set(key, this.inflation + hits * this.weight(bytes), this.seq++);
  }
  onHit(key: K, bytes: number): void {
    this.touch(key, bytes, (this.hits.get(key) ?? 0) + 1);
  }
  onInsert(key: K, bytes: number, _now: number, hint?: AccessHint): void {
    this.touch(key, bytes, 1 + (hint?.hits ?? 0));
  }
  victim(): K | undefined {
    return this.heap.peek();
  }
  onEvict(key: K): void {
    const p = this.heap.primary(key);
    // aging: the cache's L rises to the priority of what it evicts (only on eviction by priority order)
    if (p !== undefined && key === this.heap.peek()) this.inflation = Math.max(this.inflation, p);
    this.heap.delete(key);
    this.hits.delete(key);
  }
}

export class LfuPolicy<K extends CacheKey = CacheKey> extends GreedyDual<K> {
  readonly name = 'lfu';
  protected weight(): number {
    return 1;
  }
}

export class GdsfPolicy<K extends CacheKey = CacheKey> extends GreedyDual<K> {
  readonly name = 'gdsf';
  protected weight(bytes: number): number {
    return 1 / Math.max(bytes / 1e6, 1e-6);
  }
}

export class BeladyPolicy<K extends CacheKey = CacheKey> implements ReplacementPolicy<K> {
  readonly name = 'belady';
  // min-heap on −next: the farthest next use surfaces first
  private heap = new LazyHeap<K>();
  private seq = 0;
  private put(key: K, hint?: AccessHint): void {
    if (hint?.next === undefined) throw new Error('belady needs the next-use hint of every access (offline only)');
    this.heap.set(key, -hint.next, this.seq++);
  }
  onHit(key: K, _b: number, _n: number, hint?: AccessHint): void {
    this.put(key, hint);
  }
  onInsert(key: K, _b: number, _n: number, hint?: AccessHint): void {
    this.put(key, hint);
  }
  victim(): K | undefined {
    return this.heap.peek();
  }
  onEvict(key: K): void {
    this.heap.delete(key);
  }
  admit(_key: K, _bytes: number, _now: number, hint: AccessHint | undefined): boolean {
    const next = hint?.next ?? Infinity;
    if (next === Infinity) return false;
    const far = this.heap.peek();
    return far === undefined || next < -this.heap.primary(far)!;
  }
}

/** A fresh policy by name: one of POLICY_NAMES, or 'belady' (offline). Throws on an unknown name. */
export function makePolicy<K extends CacheKey = CacheKey>(name: string): ReplacementPolicy<K> {
  switch (name) {
    case 'lru':
      return new LruPolicy<K>();
    case 'lfu':
      return new LfuPolicy<K>();
    case 'gdsf':
      return new GdsfPolicy<K>();
    case 'belady':
      return new BeladyPolicy<K>();
    default:
      throw new Error(`unknown replacement policy "${name}" (one of ${[...POLICY_NAMES, 'belady'].join(', ')})`);
  }
}
