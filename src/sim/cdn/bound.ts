/**
 * An upper bound on the QoE ANY scheduler can reach in the mechanistic simulator (session 12): the same viewers,
 * traffic, access networks and ABR response, but every viewer served as well as the best CDN of the set could
 * serve them at that minute with no load at all. Each minute every viewer gets the congestion factor
 * e = max over the set's CDNs of their path factor (cdns.ts: no capacity limit, so no congestion and no incident),
 * and every joiner the smallest connection setup of the set. No assignment of viewers to the real CDNs gives any
 * viewer a higher e in any minute or a shorter setup, so, as long as a viewer's playback is no worse at a higher
 * e (the measured response is monotone: startups and stalls fall as e rises, abr-response.ts), no scheduler —
 * with any knowledge of the future — scores a day above this world's QoE. It is a relaxation, so it may be loose;
 * the multi-step oracle (mpc.ts) gives the matching lower side.
 *
 * Implemented as a MechanisticSim over two identical "best-of-set" CDNs (the simulators need ≥ 2): the
 * shares do not matter there (every viewer sees the same e), so any policy, e.g. the equal split, plays it.
 */
import { capacityDay, type CapacityDay, type CdnProfile } from './cdns.js';
import { WARMUP_MIN } from './env.js';
import type { ResponseMix } from './abr-response.js';
import { MechanisticSim } from './mechanistic.js';
import type { Traffic } from './traffic.js';

export class UncongestedBoundSim extends MechanisticSim {
  private best: Float64Array = new Float64Array(0);

  /** `profiles`: the real CDN set (≥ 1); `response`, `seed`: as the real MechanisticSim of that set (never randomised). */
  constructor(
    traffic: Traffic,
    readonly real: CdnProfile[],
    response: ResponseMix | ((day: number) => ResponseMix),
    seed = 1,
  ) {
    if (!real.length) throw new Error('UncongestedBoundSim: no CDNs');
    const sup: CdnProfile = {
      ...real[0],
      id: 'best',
      setupS: Math.min(...real.map((p) => p.setupS)),
      incidentProb: 0,
    };
    super(traffic, [sup, { ...sup, id: 'best2' }], response, seed);
  }

  /** the day's best path factor per minute: the maximum over the real CDNs (same days and seed as their simulator) */
  override reset(day: number): void {
    if (!Number.isInteger(day) || day < 0 || day >= this.traffic.days) return super.reset(day); // its error
    const caps: CapacityDay[] = this.real.map((p) => capacityDay(p, day, this.seed, WARMUP_MIN));
    this.best = new Float64Array(caps[0].path.length);
    for (let k = 0; k < this.best.length; k++) this.best[k] = Math.max(...caps.map((c) => c.path[k]));
    super.reset(day);
  }

  /** no capacity limit */
  override capacity(): number {
    return Infinity;
  }
  /** the best real CDN's path factor at minute m */
  override pathFactor(_i: number, m: number): number {
    return this.best[Math.max(0, Math.min(this.best.length - 1, m + WARMUP_MIN))];
  }
}
