/**
 * The edge-cache simulator: replays a request stream (demand.ts) through a TunedCache (src/assign/cache)
 * whose tuner decides size and policy at the end of every interval. Metrics are counted over the intervals
 * that start at or after `measureFrom` (earlier ones warm the cache).
 */
import {
  CACHE_ECONOMICS,
  TunedCache,
  type CacheEconomics,
  type CacheTuner,
  type IntervalReport,
  type RewardKind,
  type WindowOptions,
} from '../../assign/cache/index.js';
import type { Requests } from './demand.js';

export interface CacheSimOptions {
  /** seconds per decision interval */
  intervalS: number;
  /** starting size and policy */
  capacityBytes: number;
  policy: string;
  econ: CacheEconomics;
  reward: RewardKind;
  /** weight of the rent in the reward (default 1; a tuner's own objective wins, see CacheTuner.reward) */
  rentWeight?: number;
  /** count metrics from this time on (seconds); earlier intervals warm up */
  measureFrom: number;
  /** stop at this time (default: after the last request) */
  end?: number;
  /** offline next-use times (demand.nextUse), for the Belady bound */
  next?: Float64Array;
  window?: Partial<WindowOptions>;
  /** called after every interval (measured or not) */
  onInterval?: (r: IntervalReport, measured: boolean) => void;
}

export const CACHE_SIM_DEFAULTS: Omit<CacheSimOptions, 'capacityBytes' | 'policy' | 'measureFrom'> = {
  intervalS: 600,
  econ: CACHE_ECONOMICS,
  reward: 'bytes',
};

export interface CacheSimResult {
  tuner: string;
  requests: number;
  hitRate: number;
  byteHitRate: number;
  originGB: number;
  meanSizeGB: number;
  /** $ over the measured span: rent + egress */
  cost: number;
  rent: number;
  egress: number;
  meanReward: number;
  intervals: number;
  /** share of measured intervals run under each policy */
  policyShare: Record<string, number>;
}

/** Replay `req` through a cache driven by `tuner`. Throws when nothing falls in the measured span. */
export function runCacheSim(req: Requests, tuner: CacheTuner, o: CacheSimOptions): CacheSimResult {
  const tc = new TunedCache<number>(tuner, {
    capacityBytes: o.capacityBytes,
    policy: o.policy,
    econ: o.econ,
    reward: o.reward,
    rentWeight: o.rentWeight,
    window: { intervalS: o.intervalS, ...o.window },
  });
  const I = o.intervalS;
  const end = o.end ?? (req.n ? req.t[req.n - 1] + 1e-9 : 0);
  let boundary = req.n ? (Math.floor(req.t[0] / I) + 1) * I : end;
  const acc = { n: 0, hits: 0, bytes: 0, bytesHit: 0, rent: 0, egress: 0, byteS: 0, span: 0, reward: 0, k: 0 };
  const pol: Record<string, number> = {};
  const close = (at: number) => {
    const measured = at - I >= o.measureFrom - 1e-9;
    const r = tc.endInterval(at);
    if (measured) {
      const s = r.stats;
      acc.n += s.requests;
      acc.hits += s.hits;
      acc.bytes += s.bytes;
      acc.bytesHit += s.bytesHit;
      acc.rent += r.rent;
      acc.egress += r.egress;
      acc.byteS += r.capacityBytes * s.spanS;
      acc.span += s.spanS;
      acc.reward += r.reward;
      acc.k++;
      pol[r.policy] = (pol[r.policy] ?? 0) + 1;
    }
    o.onInterval?.(r, measured);
  };
  const hint = { next: Infinity };
  for (let i = 0; i < req.n; i++) {
    const t = req.t[i];
    if (t >= end) break;
    while (t >= boundary) {
      close(boundary);
      boundary += I;
    }
    if (o.next) {
      hint.next = o.next[i];
      tc.request(req.key[i], req.group[i], req.bytes[i], t, hint);
    } else tc.request(req.key[i], req.group[i], req.bytes[i], t);
  }
  while (boundary <= end + 1e-9) {
    close(boundary);
    boundary += I;
  }
  if (!acc.k) throw new Error('runCacheSim: no interval in the measured span');
  for (const k of Object.keys(pol)) pol[k] /= acc.k;
  return {
    tuner: tuner.name,
    requests: acc.n,
    hitRate: acc.n ? acc.hits / acc.n : 0,
    byteHitRate: acc.bytes ? acc.bytesHit / acc.bytes : 0,
    originGB: (acc.bytes - acc.bytesHit) / 1e9,
    meanSizeGB: acc.span ? acc.byteS / acc.span / 1e9 : 0,
    cost: acc.rent + acc.egress,
    rent: acc.rent,
    egress: acc.egress,
    meanReward: acc.reward / acc.k,
    intervals: acc.k,
    policyShare: pol,
  };
}
