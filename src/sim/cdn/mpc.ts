/**
 * The multi-step oracle (session 12): model-predictive control with full knowledge of the future, the ceiling
 * of any scheduler in a simulator, beyond the one-step greedy optimum (greedy.ts, LTS §5.3).
 *
 * Why one step is myopic: a viewer given a CDN now stays on it for the rest of their session (mean 41 min,
 * traffic.ts), so today's shares set the load every CDN carries into its next capacity dip or incident. The
 * greedy oracle prices only the coming step; this one prices the coming H steps.
 *
 * What it knows: everything the simulator knows, as the greedy oracle does, but H steps ahead instead of one:
 * every coming step's joins (traffic.ts), every CDN's capacity and path factor (cdns.ts, incidents included) and
 * how each CDN's viewers respond (CdnSim.rolloutCdn rolls the simulator's own state forward; nothing is fitted).
 * It never sees past the day's end, and it scores the horizon undiscounted (the bench's QoE is the plain mean).
 *
 * How it plans: the plan over the horizon is piecewise constant in `blocks` blocks, block 0 = the coming step
 * (the decision), the other blocks split steps 1 … H − 1 evenly. The platform's −Σ reward over the plan is a sum
 * over CDNs of a cost depending only on that CDN's own joins (CDNs interact only through the joins they split, and
 * the platform's load is share-independent: CdnSim.platformLoad), so the best shares of ONE block given the others
 * are a separable programme (greedy.ts separableArgmin) over per-CDN H-step rollouts. Block coordinate descent:
 * start from the better of (a) the greedy optimum held over the horizon and (b) the previous decision's plan
 * shifted by a step; then `sweeps` times optimise the blocks from the farthest to block 0. By default (`local`) each
 * block tries offsets around its current value (block 0: ±1/2/4/8/16 points and the greedy optimum's shares; later
 * blocks ±2/5/10) plus the current value, so the plan's cost never rises; with `local: false` each block is searched on
 * a `coarse`-point grid plus the current value, block 0 then refined to 1 point within ±(coarse − 1) (the cost below).
 * Execute block 0, re-plan at the next step (receding horizon). With horizon 1 the plan is the greedy optimum itself
 * (there are no later blocks), so it is the greedy oracle exactly.
 *
 * Cost per decision with `local: false` (m CDNs, grid G = ⌈100/coarse⌉ + 1): about sweeps · m · (G·H·(blocks−1)/2 + (G + 2·coarse)·H)
 * single-CDN simulator steps, e.g. H = 15, 3 blocks, 2 sweeps, coarse 5, m = 3: ≈ 5,500 (the greedy oracle: 303
 * step evaluations), tens of ms in the mechanistic simulator. An oracle for ceilings and reports, never served.
 */
import type { CdnSharePolicy, CdnStepObservation } from '../../assign/cdn/index.js';
import { fromPoints, TOTAL_POINTS } from '../../assign/cdn/mdp.js';
import type { CdnSim } from './env.js';
import { GreedyOracle, separableArgmin } from './greedy.js';
import { DAY_MIN } from './traffic.js';

export interface MpcOptions {
  /** steps looked ahead, the coming one included (≥ 1; cut at the day's end) */
  horizon: number;
  /** piecewise-constant blocks of the plan, block 0 = the coming step (≥ 1; at most the horizon) */
  blocks?: number;
  /** block-coordinate sweeps per decision (≥ 1) */
  sweeps?: number;
  /** grid step of the shares in points (1 … 50); block 0 is refined to 1 point (the full-grid search) */
  coarse?: number;
  /**
   * local search (default): each block's candidates are offsets around the current plan (LOCAL_DECISION for the
   * decision, plus the greedy optimum's shares; LOCAL_PLAN for the later blocks) instead of the whole `coarse` grid,
   * about 4× cheaper; the warm start carries the plan from step to step
   */
  local?: boolean;
}

/** offsets (points) tried around the current plan for the decision's shares (local search) */
export const LOCAL_DECISION = [0, -1, 1, -2, 2, -4, 4, -8, 8, -16, 16] as const;
/** offsets tried around the current plan for the later blocks' shares (local search) */
export const LOCAL_PLAN = [0, -2, 2, -5, 5, -10, 10] as const;

/** The block bounds of a horizon h: [0, 1, …, h], block 0 = [0, 1), the rest splitting [1, h) evenly (one block: [0, h], the shares held). */
export function planBlocks(h: number, blocks: number): number[] {
  if (!Number.isInteger(h) || h < 1) throw new RangeError(`planBlocks: horizon must be an integer ≥ 1, got ${h}`);
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`planBlocks: blocks must be an integer ≥ 1, got ${blocks}`);
  if (blocks === 1) return [0, h];
  const rest = Math.min(blocks - 1, h - 1);
  const out = [0, 1];
  for (let b = 1; b <= rest; b++) out.push(1 + Math.round(((h - 1) * b) / rest));
  return [...new Set(out)];
}

export class MpcOracle implements CdnSharePolicy {
  readonly name: string;
  readonly horizon: number;
  readonly blocks: number;
  readonly sweeps: number;
  readonly coarse: number;
  readonly local: boolean;
  private greedy: GreedyOracle;
  /** the last decision's plan per step (points), for the warm start */
  private prev: number[][] | null = null;
  private prevMinute = -1;

  /** RangeError on options outside their ranges. `name` defaults to 'mpc'. */
  constructor(
    private sim: CdnSim,
    opts: MpcOptions,
    name = 'mpc',
  ) {
    const { horizon, blocks = 3, sweeps = 1, coarse = 5, local = true } = opts;
    if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`MpcOracle: horizon must be an integer ≥ 1, got ${horizon}`);
    if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`MpcOracle: blocks must be an integer ≥ 1, got ${blocks}`);
    if (!Number.isInteger(sweeps) || sweeps < 1) throw new RangeError(`MpcOracle: sweeps must be an integer ≥ 1, got ${sweeps}`);
    if (!Number.isInteger(coarse) || coarse < 1 || coarse > 50)
      throw new RangeError(`MpcOracle: coarse must be an integer in 1..50, got ${coarse}`);
    this.horizon = horizon;
    this.blocks = blocks;
    this.sweeps = sweeps;
    this.coarse = coarse;
    this.local = local;
    this.name = name;
    this.greedy = new GreedyOracle(sim);
  }

  reset(): void {
    this.prev = null;
    this.prevMinute = -1;
  }

  step(_obs: CdnStepObservation): number[] {
    return fromPoints(this.points());
  }

  /** the planned points of the simulator's coming step (no state change) */
  points(): number[] {
    const sim = this.sim;
    const m = sim.m;
    const H = Math.min(this.horizon, DAY_MIN - sim.minute);
    if (H < 1) throw new Error('MpcOracle: the day is over');
    const g = this.greedy.points();
    if (H === 1) return this.remember(sim.minute, [g]);
    const load = sim.platformLoad(H);
    const J = Float64Array.from({ length: H }, (_, t) => sim.traffic.joinsAt(sim.day, sim.minute + t));
    const bounds = planBlocks(H, this.blocks);
    const nb = bounds.length - 1;
    const blockOf = new Int32Array(H);
    for (let b = 0; b < nb; b++) for (let t = bounds[b]; t < bounds[b + 1]; t++) blockOf[t] = b;
    const joinsOf = (plan: number[][], i: number, from: number, b = -1, p = 0): Float64Array => {
      const out = new Float64Array(H - from);
      for (let t = from; t < H; t++) out[t - from] = (J[t] * (blockOf[t] === b ? p : plan[blockOf[t]][i])) / TOTAL_POINTS;
      return out;
    };
    const total = (plan: number[][]) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += sim.rolloutCdn(i, joinsOf(plan, i, 0), load);
      return s;
    };

    // start: the greedy optimum held, or the last plan shifted by one step (when it was made for the step before)
    let plan = Array.from({ length: nb }, () => g.slice());
    let cost = total(plan);
    if (this.prev && this.prevMinute === sim.minute - 1) {
      const prev = this.prev;
      const shifted = Array.from({ length: nb }, (_, b) => prev[Math.min(prev.length - 1, bounds[b] + 1)].slice());
      const c = total(shifted);
      if (c < cost) {
        plan = shifted;
        cost = c;
      }
    }

    const grid: number[] = [];
    for (let p = 0; p < TOTAL_POINTS; p += this.coarse) grid.push(p);
    grid.push(TOTAL_POINTS);
    // the candidates of CDN i's share in block b: the full grid, or offsets around the current plan (and, for the
    // decision, the greedy optimum's share); always the current value, so the plan's cost never rises
    const near = (x: number, offs: readonly number[]) => offs.map((d) => x + d).filter((q) => q >= 0 && q <= TOTAL_POINTS);
    const candidates = (b: number, cur: number[]): number[][] =>
      cur.map((x, i) =>
        this.local ? [...new Set(b === 0 ? [...near(x, LOCAL_DECISION), g[i]] : near(x, LOCAL_PLAN))] : [...new Set([...grid, x])],
      );
    const order = [...Array.from({ length: nb - 1 }, (_, k) => nb - 1 - k), 0];
    for (let s = 0; s < this.sweeps; s++)
      for (const b of order) {
        const s0 = bounds[b];
        // every CDN advanced through the blocks before b under the plan (their cost is the same for every choice)
        const snaps = Array.from({ length: m }, (_, i) => sim.snapshotCdn(i));
        if (s0 > 0) for (let i = 0; i < m; i++) sim.rolloutCdn(i, joinsOf(plan, i, 0).subarray(0, s0), load, 0, true);
        const memo = new Map<number, number>();
        const c = (i: number, p: number) => {
          const key = i * 1000 + p;
          let v = memo.get(key);
          if (v === undefined) memo.set(key, (v = sim.rolloutCdn(i, joinsOf(plan, i, s0, b, p), load, s0)));
          return v;
        };
        const cur = plan[b];
        let best = separableArgmin(c, candidates(b, cur));
        if (b === 0 && this.coarse > 1 && !this.local) {
          const c0 = best;
          best = separableArgmin(
            c,
            c0.map((x, i) => {
              const near: number[] = [];
              for (let q = Math.max(0, x - this.coarse + 1); q <= Math.min(TOTAL_POINTS, x + this.coarse - 1); q++) near.push(q);
              if (!near.includes(cur[i])) near.push(cur[i]);
              return near;
            }),
          );
        }
        const val = (p: number[]) => p.reduce((a, x, i) => a + c(i, x), 0);
        if (val(best) < val(cur) - 1e-12) plan[b] = best;
        for (let i = 0; i < m; i++) sim.restoreCdn(i, snaps[i]);
      }
    return this.remember(
      sim.minute,
      Array.from({ length: H }, (_, t) => plan[blockOf[t]]),
    );
  }

  private remember(minute: number, perStep: number[][]): number[] {
    this.prev = perStep;
    this.prevMinute = minute;
    return perStep[0].slice();
  }
}
