/**
 * The learned cache-tuning agent (edge-intelligence-immersive-media, "Edge Caching for Multimedia Content",
 * "Edge Learning-based Caching Agent"): every interval it sees the window's request statistics, the current
 * size and policy, the hit rates and the cost, and picks one action of the fused space — a size step × a
 * replacement policy. The paper fuses the continuous size and the categorical strategy into one space;
 * here the size change is a multiplicative step from SIZE_STEPS, so the fused space is the product
 * SIZE_STEPS × POLICY_NAMES (15 discrete actions) and one softmax head chooses both together.
 *
 * Reward of an interval (the cost side in money, so it matches the benchmark's cost):
 *   'bytes': (origin bytes saved × egress price − rented GB·h × rent price) / (bytes requested × egress price)
 *            = byte hit rate − rent / (what the origin would have cost): the share of the origin bill saved, net
 *   'hits':  request hit rate − the same normalised rent
 * Either may weigh the rent by w (`RewardSpec.rentWeight`, default 1): w < 1 buys hit rate with money up to the
 * point where a GB more saves only w × its rent, the objective of a target stated as "more hit rate at no higher
 * cost than X" rather than "the least money".
 */
import { POLICY_NAMES } from './policies.js';
import { REUSE_BUCKETS_S, type IntervalStats } from './window.js';
import type { CacheDecision } from './types.js';

/** Prices of the two costs an edge cache trades off (defaults and their sources in CACHE_ECONOMICS). */
export interface CacheEconomics {
  /** $ per GB fetched from the origin (egress into the edge) */
  egressPerGB: number;
  /** $ per GB of cache capacity per hour (rented edge memory) */
  rentPerGBHour: number;
}

/**
 * Default prices: origin transfer to an edge $0.02/GB (cloud inter-region / CDN origin-fetch rates for a
 * small content provider are $0.01–0.09/GB); edge memory $0.015/GB·h (in-memory cache instances rent at about
 * $0.01–0.02 per GB of RAM per hour). Keeping an object pays off when it is requested again within about
 * egress/rent = 1.3 h.
 */
export const CACHE_ECONOMICS: CacheEconomics = { egressPerGB: 0.02, rentPerGBHour: 0.015 };

/** Multiplicative size steps of the fused action (shrink … grow). */
export const SIZE_STEPS = [0.5, 0.8, 1, 1.25, 2] as const;
export const N_ACTIONS = SIZE_STEPS.length * POLICY_NAMES.length;
/** Capacity bounds the agent and the rules stay within (bytes). */
export const SIZE_BOUNDS = { min: 0.25e9, max: 1024e9 };

/** action index → (size step, policy): size-major, so actions 0…2 are ×0.5 with lru, lfu, gdsf */
export function decodeAction(a: number): { step: number; policy: string } {
  if (!(a >= 0 && a < N_ACTIONS)) throw new Error(`cache action ${a} out of range 0…${N_ACTIONS - 1}`);
  return { step: SIZE_STEPS[Math.floor(a / POLICY_NAMES.length)], policy: POLICY_NAMES[a % POLICY_NAMES.length] };
}

/** the decision an action makes from the current capacity (clamped to SIZE_BOUNDS) */
export function applyAction(a: number, capacityBytes: number, bounds = SIZE_BOUNDS): CacheDecision {
  const { step, policy } = decodeAction(a);
  return { capacityBytes: Math.min(bounds.max, Math.max(bounds.min, capacityBytes * step)), policy };
}

/** Money of one interval: rent of the capacity held, egress of the bytes fetched from the origin. */
export function intervalCost(
  econ: CacheEconomics,
  capacityBytes: number,
  spanS: number,
  originBytes: number,
): { rent: number; egress: number; total: number } {
  const rent = (capacityBytes / 1e9) * (spanS / 3600) * econ.rentPerGBHour;
  const egress = (originBytes / 1e9) * econ.egressPerGB;
  return { rent, egress, total: rent + egress };
}

export type RewardKind = 'bytes' | 'hits';

/** A tuner's objective: the reward kind and the weight of the rent in it (see the file header). */
export interface RewardSpec {
  kind: RewardKind;
  /** ≥ 0; 1 = the rent at its price */
  rentWeight: number;
}

/**
 * The reward of an interval (see the file header); 0 requests: −rent normalised by 1 GB of egress.
 * `rentWeight` (≥ 0, default 1) scales the rent term.
 */
export function intervalReward(
  econ: CacheEconomics,
  s: IntervalStats,
  capacityBytes: number,
  kind: RewardKind = 'bytes',
  rentWeight = 1,
): number {
  const { rent } = intervalCost(econ, capacityBytes, s.spanS, 0);
  const bill = (Math.max(s.bytes, 1e9) / 1e9) * econ.egressPerGB;
  const gain = kind === 'bytes' ? (s.bytes ? s.bytesHit / s.bytes : 0) : s.requests ? s.hits / s.requests : 0;
  return gain - (rentWeight * rent) / bill;
}

/**
 * The objective an agent file was trained for (`meta.reward`, `meta.rent_weight`); files without them: bytes, 1.
 * @throws Error for a reward kind or weight this build does not know.
 */
export function agentReward(file: CacheAgentFile): RewardSpec {
  const kind = (file.meta?.reward as RewardKind | undefined) ?? 'bytes';
  const rentWeight = (file.meta?.rent_weight as number | undefined) ?? 1;
  if (kind !== 'bytes' && kind !== 'hits') throw new Error(`cache agent meta.reward: bytes or hits, got ${String(kind)}`);
  if (!(typeof rentWeight === 'number' && rentWeight >= 0))
    throw new Error(`cache agent meta.rent_weight: a number ≥ 0, got ${rentWeight}`);
  return { kind, rentWeight };
}

/** What a tuner sees at the end of an interval. */
export interface TunerObservation {
  stats: IntervalStats;
  capacityBytes: number;
  usedBytes: number;
  policy: string;
  /** mean idle time of the objects evicted in the interval (s; NaN: none evicted) */
  evictionIdleS: number;
  econ: CacheEconomics;
  /** the interval's reward (intervalReward) */
  reward: number;
}

export const STATE_SIZE = 15 + REUSE_BUCKETS_S.length + 1 + POLICY_NAMES.length;

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Number.isFinite(x) ? x : hi));

/**
 * The agent's state vector (STATE_SIZE numbers, each about 0…1): traffic level and trend, the interval's hit
 * rates, the reuse-time profile, popularity concentration, new content, drift and the window's length, the
 * size, fill and policy, the normalised rent (the cost), the eviction idle time against the break-even time
 * and the last reward.
 */
export function encodeState(o: TunerObservation, out = new Float32Array(STATE_SIZE)): Float32Array {
  const s = o.stats;
  const gb = o.capacityBytes / 1e9;
  const bill = (Math.max(s.bytes, 1e9) / 1e9) * o.econ.egressPerGB;
  const rent = gb * (s.spanS / 3600) * o.econ.rentPerGBHour;
  const breakEvenS = (o.econ.egressPerGB / o.econ.rentPerGBHour) * 3600;
  let i = 0;
  out[i++] = clip(Math.log10(1 + s.reqRate) / 3, 0, 2);
  out[i++] = clip(Math.log10(1 + s.byteRate / 1e6) / 4, 0, 2);
  out[i++] = clip(s.windowReqRate > 0 ? s.reqRate / s.windowReqRate / 3 : 1 / 3, 0, 1);
  out[i++] = s.requests ? s.hits / s.requests : 0;
  out[i++] = s.bytes ? s.bytesHit / s.bytes : 0;
  for (const r of s.reuse) out[i++] = r;
  out[i++] = s.top10Share;
  out[i++] = s.newGroupShare;
  out[i++] = s.drift;
  out[i++] = clip(Math.log2(s.halfLifeS / 600) / 8, 0, 1);
  out[i++] = clip(Math.log2(Math.max(gb, 1e-3)) / 10, -1, 1);
  out[i++] = o.capacityBytes > 0 ? clip(o.usedBytes / o.capacityBytes, 0, 1) : 0;
  for (const p of POLICY_NAMES) out[i++] = o.policy === p ? 1 : 0;
  out[i++] = clip(rent / bill, 0, 2);
  out[i++] = Number.isNaN(o.evictionIdleS) ? 1 : clip(Math.log2(Math.max(o.evictionIdleS, 1) / breakEvenS) / 6, -1, 1);
  out[i++] = clip(o.reward, -2, 1);
  out[i++] = 1; // bias-like constant: lets a linear read-out shift without relying on the bias alone
  if (i !== STATE_SIZE) throw new Error(`state: wrote ${i} of ${STATE_SIZE}`);
  return out;
}

/** The trained network as plain JSON (models/cache-agent/agent.json): dense ReLU layers, softmax head. */
export interface CacheAgentFile {
  /** inputs (STATE_SIZE), hidden widths, outputs (N_ACTIONS) */
  in: number;
  hidden: number[];
  out: number;
  /** per layer: weights row-major [in × out] and bias */
  layers: Array<{ w: number[]; b: number[] }>;
  /** how it was made (command, data split, selection figure) */
  meta?: Record<string, unknown>;
}

/** Plain-JS forward pass of the policy network: logits over the fused actions. Throws on a shape mismatch. */
export class CacheAgentNet {
  private layers: Array<{ w: Float32Array; b: Float32Array; n: number; m: number }>;
  constructor(file: CacheAgentFile) {
    if (file?.in !== STATE_SIZE || file.out !== N_ACTIONS)
      throw new Error(
        `cache agent weights do not match this build: in ${file?.in} (expected ${STATE_SIZE}), out ${file?.out} (expected ${N_ACTIONS})`,
      );
    const dims = [file.in, ...file.hidden, file.out];
    if (file.layers?.length !== dims.length - 1) throw new Error('cache agent: layer count does not match hidden widths');
    this.layers = file.layers.map((l, k) => {
      const n = dims[k],
        m = dims[k + 1];
      if (l.w.length !== n * m || l.b.length !== m) throw new Error(`cache agent: layer ${k} is not ${n}×${m}`);
      return { w: Float32Array.from(l.w), b: Float32Array.from(l.b), n, m };
    });
  }
  logits(x: ArrayLike<number>): Float32Array {
    let inp: ArrayLike<number> = x;
    this.layers.forEach((l, k) => {
      const out = Float32Array.from(l.b);
      for (let i = 0; i < l.n; i++) {
        const xi = inp[i];
        if (xi === 0) continue;
        for (let j = 0; j < l.m; j++) out[j] += xi * l.w[i * l.m + j];
      }
      if (k < this.layers.length - 1) for (let j = 0; j < l.m; j++) if (out[j] < 0) out[j] = 0;
      inp = out;
    });
    return inp as Float32Array;
  }
  /** the most likely action */
  act(x: ArrayLike<number>): number {
    const z = this.logits(x);
    let best = 0;
    for (let j = 1; j < z.length; j++) if (z[j] > z[best]) best = j;
    return best;
  }
}
