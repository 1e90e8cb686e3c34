/**
 * The one-step greedy optimum (LTS §5.3): with full knowledge of the next step (its joins and every CDN's
 * response to load), choose the integer shares that maximise the next step's reward. The reward is a sum
 * over CDNs of a cost that depends only on that CDN's own share (CdnSim.peekCost), so the optimum over the
 * 1 %-grid is a small dynamic programme. `coarse` > 1 first solves on a coarser grid and then refines each
 * share within ±coarse points of it (for simulators whose cost is expensive to evaluate).
 */
import type { CdnSharePolicy, CdnStepObservation } from '../../assign/cdn/index.js';
import { actionCount, applyAction, fromPoints, lastScores, toPoints, TOTAL_POINTS } from '../../assign/cdn/mdp.js';
import type { CdnSim } from './env.js';

/** min Σ_i cost_i(p_i) s.t. Σ p_i = 100, p_i ∈ allowed_i; returns the points (throws when infeasible) */
export function separableArgmin(cost: (i: number, p: number) => number, allowed: number[][]): number[] {
  const m = allowed.length;
  const INF = Infinity;
  // f[k][s]: best cost of CDNs 0..k with s points; arg[k][s]: CDN k's points
  const f: Float64Array[] = [];
  const arg: Int32Array[] = [];
  for (let k = 0; k < m; k++) {
    const fk = new Float64Array(TOTAL_POINTS + 1).fill(INF);
    const ak = new Int32Array(TOTAL_POINTS + 1).fill(-1);
    for (const p of allowed[k]) {
      const c = cost(k, p);
      if (k === 0) {
        if (c < fk[p]) {
          fk[p] = c;
          ak[p] = p;
        }
        continue;
      }
      const prev = f[k - 1];
      for (let s = p; s <= TOTAL_POINTS; s++) {
        const v = prev[s - p] + c;
        if (v < fk[s]) {
          fk[s] = v;
          ak[s] = p;
        }
      }
    }
    f.push(fk);
    arg.push(ak);
  }
  if (!Number.isFinite(f[m - 1][TOTAL_POINTS])) throw new Error('separableArgmin: no feasible shares');
  const out = new Array(m).fill(0);
  let s = TOTAL_POINTS;
  for (let k = m - 1; k >= 0; k--) {
    out[k] = arg[k][s];
    s -= out[k];
  }
  return out;
}

export class GreedyOracle implements CdnSharePolicy {
  readonly name = 'greedy';
  constructor(
    private sim: CdnSim,
    private coarse = 1,
  ) {}
  step(_obs: CdnStepObservation): number[] {
    return fromPoints(this.points());
  }
  /** the optimal points for the simulator's coming step */
  points(): number[] {
    const m = this.sim.m;
    const memo = new Map<number, number>();
    const cost = (i: number, p: number) => {
      const key = i * 1000 + p;
      let v = memo.get(key);
      if (v === undefined) memo.set(key, (v = this.sim.peekCost(i, p)));
      return v;
    };
    const full = Array.from({ length: TOTAL_POINTS + 1 }, (_, p) => p);
    if (this.coarse <= 1)
      return separableArgmin(
        cost,
        Array.from({ length: m }, () => full),
      );
    const grid = full.filter((p) => p % this.coarse === 0 || p === TOTAL_POINTS);
    const c0 = separableArgmin(
      cost,
      Array.from({ length: m }, () => grid),
    );
    return separableArgmin(
      cost,
      c0.map((p) => full.filter((q) => Math.abs(q - p) <= this.coarse)),
    );
  }
}

/**
 * The next step's cost −reward of each of LTS's 3m + 1 actions (mdp.ts `applyAction` on the shares in force and
 * the last step's scores), with the same full knowledge of the next step as GreedyOracle (CdnSim.peekCost):
 * `out[a]` is Σ_i peekCost(i, shares after a). The expert of GreedyActionOracle and of DAgger (src/train/cdn.ts
 * `daggerCdn`). No state change.
 */
export function actionCosts(sim: CdnSim, obs: CdnStepObservation, out?: Float64Array): Float64Array {
  const m = obs.cdns.length;
  const A = actionCount(m);
  const c = out ?? new Float64Array(A);
  const P = toPoints(obs.shares);
  const sc = lastScores(obs);
  for (let a = 0; a < A; a++) {
    const q = applyAction(P, a, sc);
    let s = 0;
    for (let i = 0; i < m; i++) s += sim.peekCost(i, q[i]);
    c[a] = s;
  }
  return c;
}

/** The greedy action of `actionCosts`: the cheapest, ties to the higher index (keep = 3m first, then larger raises). */
export function greedyAction(costs: ArrayLike<number>): number {
  let best = costs.length - 1;
  for (let a = costs.length - 2; a >= 0; a--) if (costs[a] < costs[best] - 1e-12) best = a;
  return best;
}

/**
 * The one-step greedy optimum within LTS's action space (mdp.ts: raise one CDN by 1, 5 or 10 points taken from
 * the worst, or keep): with the same full knowledge of the next step as GreedyOracle, the action whose shares
 * cost least in it (`actionCosts`, `greedyAction`). What any LTS policy could reach by acting myopically; its
 * distance to GreedyOracle is what moving at most 10 points a step costs (BENCHMARKS.md, "Multi-CDN
 * scheduling": the ceiling).
 */
export class GreedyActionOracle implements CdnSharePolicy {
  readonly name = 'greedy-lts-actions';
  constructor(private sim: CdnSim) {}
  step(obs: CdnStepObservation): number[] {
    const a = greedyAction(actionCosts(this.sim, obs));
    return fromPoints(applyAction(toPoints(obs.shares), a, lastScores(obs)));
  }
}
