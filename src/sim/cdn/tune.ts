/**
 * Tuning the baselines on training days (LTS §5.1: the "best" weighted round-robin by grid search; the
 * bandits' constants likewise): the best static shares over the 10-point simplex grid, refined on the
 * 2-point grid around the winner; UCB1's (c, ρ) and Discounted UCB's (c, ρ, γ) over small grids.
 */
import { UcbShares, WeightedRoundRobin, type UcbParams } from '../../assign/cdn/baselines.js';
import { TOTAL_POINTS } from '../../assign/cdn/mdp.js';
import type { CdnSim } from './env.js';
import { meanReward } from './run.js';

/** every integer point vector with m entries summing to 100 whose entries are multiples of `step` (within `box` of `around`) */
export function simplexGrid(m: number, step: number, around?: number[], box = Infinity): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const rec = (k: number, left: number) => {
    if (k === m - 1) {
      if (left % step === 0 || left === 0) {
        if (!around || Math.abs(left - around[k]) <= box) out.push([...cur, left]);
      }
      return;
    }
    for (let p = 0; p <= left; p += step) {
      if (around && Math.abs(p - around[k]) > box) continue;
      cur.push(p);
      rec(k + 1, left - p);
      cur.pop();
    }
  };
  rec(0, TOTAL_POINTS);
  return out;
}

export interface Tuned<T> {
  value: T;
  reward: number;
  tried: number;
}

export function bestWrr(sim: CdnSim, days: number[], log?: (s: string) => void): Tuned<number[]> {
  let best = { value: [] as number[], reward: -Infinity, tried: 0 };
  const tryAll = (grid: number[][]) => {
    for (const pts of grid) {
      const r = meanReward(sim, new WeightedRoundRobin(pts), days);
      best.tried++;
      if (r > best.reward) best = { value: pts, reward: r, tried: best.tried };
    }
  };
  tryAll(simplexGrid(sim.m, 10));
  log?.(`wrr ${sim.cdns.join('')}: 10-point grid best ${best.value.join('/')} ${best.reward.toFixed(3)}`);
  tryAll(simplexGrid(sim.m, 2, best.value, 8).filter((p) => p.some((x, i) => x !== best.value[i])));
  log?.(`wrr ${sim.cdns.join('')}: refined ${best.value.join('/')} ${best.reward.toFixed(3)} (${best.tried} ratios)`);
  return best;
}

export const UCB_GRID = {
  c: [0, 0.05, 0.3, 1],
  rho: [0.02, 0.1, 0.3, 1],
  gamma: [0.95, 0.99, 0.997],
};
export function tuneUcb(sim: CdnSim, days: number[], discounted: boolean, log?: (s: string) => void): Tuned<UcbParams> {
  let best: Tuned<UcbParams> = { value: { c: 0, rho: 1, gamma: 1 }, reward: -Infinity, tried: 0 };
  for (const c of UCB_GRID.c)
    for (const rho of UCB_GRID.rho)
      for (const gamma of discounted ? UCB_GRID.gamma : [1]) {
        const p = { c, rho, gamma };
        const r = meanReward(sim, new UcbShares(p), days);
        best.tried++;
        if (r > best.reward) best = { value: p, reward: r, tried: best.tried };
      }
  log?.(
    `${discounted ? 'd-ucb' : 'ucb1'} ${sim.cdns.join('')}: c ${best.value.c} rho ${best.value.rho} gamma ${best.value.gamma} ${best.reward.toFixed(3)}`,
  );
  return best;
}
