/**
 * The LTS baselines (../shared/papers/lts-multi-cdn-drl.txt §5.1) behind CdnSharePolicy:
 * - EqualSplit: the static equal split (our stand-in for the platform's unknown "original" algorithm,
 *   which the paper guesses is a static round-robin-like ratio).
 * - WeightedRoundRobin: a static ratio; the "best" one comes from a grid search on training days
 *   (src/sim/cdn/tune.ts).
 * - UcbShares: the E2 baselines, UCB1 (Auer et al.) and Discounted UCB (Garivier & Moulines 2008), with each
 *   CDN an arm. How an arm choice becomes a share: every step is 100 pulls of one share point each, given
 *   one at a time to the arm with the highest index (the arm's pull count grows as it receives points, so
 *   its exploration bonus shrinks within the step); the pulls' allocation is the target, and the shares in
 *   force move towards it by a rate ρ (ρ = 1: the allocation itself). After the step, each arm's reward
 *   −(SLatency + BufRatio + BufFreq)/10 of that CDN is credited with the points it served (an arm at 0 %
 *   is credited nothing). Constants c (bonus), ρ and, for D-UCB, the discount γ are tuned on training days.
 */
import type { CdnSharePolicy, CdnStepObservation } from './index.js';
import { equalPoints, fromPoints, lastScores, TOTAL_POINTS, toPoints } from './mdp.js';

export class EqualSplit implements CdnSharePolicy {
  readonly name = 'equal';
  step(obs: CdnStepObservation): number[] {
    return fromPoints(equalPoints(obs.cdns.length));
  }
}

export class WeightedRoundRobin implements CdnSharePolicy {
  readonly name: string;
  private shares: number[];
  /** `points`: the static shares in points (summing to 100; fractions are rounded to points) */
  constructor(points: number[], name = 'wrr') {
    this.shares = fromPoints(toPoints(points));
    this.name = name;
  }
  step(obs: CdnStepObservation): number[] {
    if (obs.cdns.length !== this.shares.length) throw new Error(`${this.name}: ${this.shares.length} shares for ${obs.cdns.length} CDNs`);
    return this.shares.slice();
  }
}

export interface UcbParams {
  /** exploration constant of the index μ + c·√(2 ln n / n_i) */
  c: number;
  /** shares move towards the step's pull allocation at this rate (0 < ρ ≤ 1) */
  rho: number;
  /** discount per step of past pulls and rewards: 1 = UCB1, < 1 = Discounted UCB */
  gamma: number;
}
/** reward scale: an arm's reward is −score / REWARD_SCALE */
export const UCB_REWARD_SCALE = 10;

export class UcbShares implements CdnSharePolicy {
  readonly name: string;
  private n: number[] = [];
  private s: number[] = [];
  constructor(
    readonly params: UcbParams,
    name?: string,
  ) {
    if (!(params.rho > 0 && params.rho <= 1)) throw new Error(`UcbShares: rho ${params.rho} must be in (0, 1]`);
    if (!(params.gamma > 0 && params.gamma <= 1)) throw new Error(`UcbShares: gamma ${params.gamma} must be in (0, 1]`);
    if (!(params.c >= 0)) throw new Error(`UcbShares: c ${params.c} must be ≥ 0`);
    this.name = name ?? (params.gamma < 1 ? 'd-ucb' : 'ucb1');
  }
  reset(): void {
    this.n = [];
    this.s = [];
  }
  step(obs: CdnStepObservation): number[] {
    const m = obs.cdns.length;
    if (this.n.length !== m) {
      this.n = new Array(m).fill(0);
      this.s = new Array(m).fill(0);
    }
    const { c, rho, gamma } = this.params;
    // credit the last step's rewards, weighted by the points each arm served
    const sc = lastScores(obs);
    for (let i = 0; i < m; i++) {
      const pts = obs.shares[i] * TOTAL_POINTS;
      this.n[i] = gamma * this.n[i] + pts;
      this.s[i] = gamma * this.s[i] + (pts * -sc[i]) / UCB_REWARD_SCALE;
    }
    // 100 pulls of one point each to the arm with the highest index
    const alloc = new Array(m).fill(0);
    const cnt = this.n.slice();
    let tot = cnt.reduce((a, b) => a + b, 0);
    for (let p = 0; p < TOTAL_POINTS; p++) {
      let best = 0,
        bi = -Infinity;
      for (let i = 0; i < m; i++) {
        const idx =
          cnt[i] > 0 ? (this.n[i] > 0 ? this.s[i] / this.n[i] : 0) + c * Math.sqrt((2 * Math.log(Math.max(tot, 1))) / cnt[i]) : Infinity;
        if (idx > bi) {
          bi = idx;
          best = i;
        }
      }
      alloc[best]++;
      cnt[best]++;
      tot++;
    }
    return fromPoints(toPoints(obs.shares.map((x, i) => (1 - rho) * x + (rho * alloc[i]) / TOTAL_POINTS)));
  }
}
