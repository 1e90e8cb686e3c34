/**
 * The piecewise-linear simulator (LTS §5.3, after Liu et al., "A case for a coordinated internet video
 * control plane", SIGCOMM'12: a CDN's QoE is flat while its load is below a threshold and degrades
 * steeply above it). Per CDN and metric: q(N) = base + slope · max(0, N/θ(t) − 1), with θ(t) the CDN's load
 * threshold, which follows its capacity through the day (cdns.ts, incidents included). The base reflects
 * the CDN's setup time and path quality (divided by its path factor of the minute); the slopes are shared. Its one-step greedy optimum is exact
 * (greedy.ts), which is what LTS compares against in Fig. 7.
 */
import type { CdnProfile } from './cdns.js';
import { CdnSim, type CdnQoe } from './env.js';
import type { Traffic } from './traffic.js';

export interface PiecewiseParams {
  /** threshold = onset × capacity (viewers) */
  onset: number;
  /** base QoE at path quality 1: SLatency (s, plus the CDN's setup), BufRatio (%), BufFreq (per 100 s); divided by the path factor */
  baseStartupS: number;
  baseBufRatio: number;
  baseBufFreq: number;
  /** increase per unit of overload (N/θ − 1) */
  slopeStartupS: number;
  slopeBufRatio: number;
  slopeBufFreq: number;
}
export const PIECEWISE_DEFAULTS: PiecewiseParams = {
  onset: 1.2,
  baseStartupS: 3,
  baseBufRatio: 2.5,
  baseBufFreq: 0.6,
  slopeStartupS: 8,
  slopeBufRatio: 25,
  slopeBufFreq: 5,
};

export class PiecewiseSim extends CdnSim {
  readonly kind = 'piecewise' as const;
  constructor(
    traffic: Traffic,
    profiles: CdnProfile[],
    seed = 1,
    readonly params: PiecewiseParams = PIECEWISE_DEFAULTS,
  ) {
    super(traffic, profiles, seed);
  }
  protected resetState(): void {}
  protected commit(): void {}
  /** no state beyond `carried` */
  protected saveCdn(): unknown {
    return null;
  }
  protected loadCdn(): void {}
  /** the load threshold θ of CDN i at minute m (viewers) */
  threshold(i: number, m: number): number {
    return this.params.onset * this.capacity(i, m);
  }
  protected evaluate(i: number, joins: number, minute: number): CdnQoe {
    const p = this.params;
    const prof = this.profiles[i];
    const over = Math.max(0, (this.carried[i] + joins) / this.threshold(i, minute) - 1);
    const path = this.pathFactor(i, minute);
    return {
      slatency: prof.setupS + p.baseStartupS / path + p.slopeStartupS * over,
      bufratio: p.baseBufRatio / path + p.slopeBufRatio * over,
      buffreq: p.baseBufFreq / path + p.slopeBufFreq * over,
    };
  }
}
