/**
 * The LTS MDP (../shared/papers/lts-multi-cdn-drl.txt §4, §5.1), shared by training, the simulators and the
 * controller. Shares are kept as integer percentage points (the paper discretises the solution space at 1 %),
 * so they always sum to exactly 100.
 *
 * - State (§4.1): per CDN the past k = 20 steps of workload and QoE (SLatency, BufRatio, BufFreq); we add
 *   the shares in force during those steps (the paper is silent; without them the effect of an action is
 *   not a function of the state).
 * - Action (§4.2): 3m + 1 choices: raise CDN i's share by 1, 5 or 10 points, or keep. The points come
 *   from the CDN that was worst in the last step.
 * - Reward (§4.3, eq. 3): −(α·SLatency + β·BufRatio + γ·BufFreq), α = β = γ = 1, discount 0.99 (§5.1).
 *
 * Where the paper is silent (decided here, tested in test/node/cdn.spec.ts):
 * - "Worst" ranks CDNs by the reward's own weighted sum of the three metrics in the last step
 *   (SLatency + BufRatio + BufFreq; higher is worse); ties go to the CDN with the larger share, then the
 *   lower index. A CDN is never its own donor: raising the worst CDN takes from the worst of the others.
 * - Clipping at 0 %: a donor gives at most what it has; the rest comes from the next-worst CDN, and so on;
 *   if all others are at 0 the raise stops at 100 %. A CDN at 0 % keeps reporting QoE (a probe viewer in
 *   the simulators; the last measured step in the controller), so it can be raised again.
 * - The step reward weights each CDN by its viewers: SLatency by the step's joins on that CDN, BufRatio
 *   and BufFreq by its concurrent viewers (the platform's mean viewer QoE).
 */
import type { CdnStepObservation } from './index.js';

/** history length per CDN (§5.1) */
export const K_STEPS = 20;
/** share raises in percentage points (§4.2) */
export const ACTION_DELTAS = [1, 5, 10] as const;
/** discount factor (§5.1) */
export const GAMMA = 0.99;
/** reward weights α, β, γ (§5.1) */
export const REWARD_WEIGHTS = { slatency: 1, bufratio: 1, buffreq: 1 } as const;
export const TOTAL_POINTS = 100;

/** |A| = 3m + 1 for m CDNs. */
export function actionCount(m: number): number {
  return ACTION_DELTAS.length * m + 1;
}
/** action → raised CDN and points, or null for "keep" (the last action, 3m). Throws on an out-of-range action. */
export function decodeAction(action: number, m: number): { cdn: number; delta: number } | null {
  if (!Number.isInteger(action) || action < 0 || action >= actionCount(m)) throw new Error(`action ${action}: must be in 0..${3 * m}`);
  if (action === ACTION_DELTAS.length * m) return null;
  return { cdn: Math.floor(action / ACTION_DELTAS.length), delta: ACTION_DELTAS[action % ACTION_DELTAS.length] };
}

/** One CDN's QoE cost in one step: the reward's weighted sum (lower is better; the "worst" CDN has the highest). */
export function cdnScore(slatency: number, bufratio: number, buffreq: number): number {
  return REWARD_WEIGHTS.slatency * slatency + REWARD_WEIGHTS.bufratio * bufratio + REWARD_WEIGHTS.buffreq * buffreq;
}

/** Per-CDN QoE of one step (arrays over CDNs) with the weights of each CDN. */
export interface StepQoe {
  /** joins per CDN in the step (weights of SLatency) */
  joins: ArrayLike<number>;
  /** concurrent viewers per CDN (weights of BufRatio and BufFreq) */
  workload: ArrayLike<number>;
  slatency: ArrayLike<number>;
  bufratio: ArrayLike<number>;
  buffreq: ArrayLike<number>;
}
/** The platform's mean viewer QoE of one step: joins-weighted SLatency, viewer-weighted BufRatio / BufFreq. */
export function platformQoe(q: StepQoe): { slatency: number; bufratio: number; buffreq: number } {
  let j = 0,
    n = 0,
    sl = 0,
    br = 0,
    bf = 0;
  for (let i = 0; i < q.joins.length; i++) {
    j += q.joins[i];
    n += q.workload[i];
    sl += q.joins[i] * q.slatency[i];
    br += q.workload[i] * q.bufratio[i];
    bf += q.workload[i] * q.buffreq[i];
  }
  return { slatency: j > 0 ? sl / j : 0, bufratio: n > 0 ? br / n : 0, buffreq: n > 0 ? bf / n : 0 };
}
/** The step reward (eq. 3): −(SLatency + BufRatio + BufFreq) of the platform's mean viewer. */
export function stepReward(q: StepQoe): number {
  const p = platformQoe(q);
  return -cdnScore(p.slatency, p.bufratio, p.buffreq);
}

/**
 * CDN indices worst first: higher score first; ties → larger share first, then lower index.
 * `scores[i]` is cdnScore of CDN i in the last step, `points[i]` its share in points.
 */
export function worstOrder(scores: ArrayLike<number>, points: ArrayLike<number>): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b] - scores[a] || points[b] - points[a] || a - b);
}

/**
 * Apply an action to integer shares (points summing to 100): raise CDN i by δ points taken from the other
 * CDNs worst first (each gives at most what it has). Returns new points (the input is not changed).
 * Throws when the points do not sum to 100 or hold a negative or non-integer value.
 */
export function applyAction(points: readonly number[], action: number, lastScores: ArrayLike<number>): number[] {
  checkPoints(points);
  const m = points.length;
  const a = decodeAction(action, m);
  const out = points.slice();
  if (!a) return out;
  let need = a.delta;
  for (const d of worstOrder(lastScores, points)) {
    if (need === 0) break;
    if (d === a.cdn) continue;
    const take = Math.min(need, out[d]);
    out[d] -= take;
    out[a.cdn] += take;
    need -= take;
  }
  return out;
}

/** Throws unless `points` are non-negative integers summing to 100. */
export function checkPoints(points: readonly number[]): void {
  let s = 0;
  for (const p of points) {
    if (!Number.isInteger(p) || p < 0) throw new Error(`share points must be non-negative integers: ${points.join(',')}`);
    s += p;
  }
  if (s !== TOTAL_POINTS) throw new Error(`share points must sum to ${TOTAL_POINTS}: ${points.join(',')}`);
}

/**
 * Fractions (or any non-negative weights) → integer points summing to `total` (default 100, the share grid),
 * in proportion to the weights by largest remainder (ties to the lower index). Negative or non-finite entries
 * count as 0; all zero gives the equal split of `total`. A `total` other than 100 divides a number of points
 * among some CDNs (failureGuard's spare points among the uncapped ones). @throws Error on an empty array or a
 * `total` that is not a non-negative integer.
 */
export function toPoints(shares: ArrayLike<number>, total: number = TOTAL_POINTS): number[] {
  const m = shares.length;
  if (!m) throw new Error('toPoints: no CDNs');
  if (!Number.isInteger(total) || total < 0) throw new Error(`toPoints: total must be a non-negative integer (got ${total})`);
  // fast path: fractions already on the 1-point grid
  let sum = 0,
    ok = true;
  const fast = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    const p = Math.round(shares[i] * total);
    if (!(p >= 0) || Math.abs(p - shares[i] * total) > 1e-9) ok = false;
    fast[i] = p;
    sum += p;
  }
  if (ok && sum === total) return fast;
  const clean = Array.from(shares, (x) => (Number.isFinite(x) && x > 0 ? x : 0));
  let tot = clean.reduce((a, b) => a + b, 0);
  if (!(tot > 0)) {
    clean.fill(1);
    tot = m;
  }
  const raw = clean.map((x) => (x / tot) * total);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % m, left--) out[order[k][1]]++;
  return out;
}
export const fromPoints = (points: readonly number[]): number[] => points.map((p) => p / TOTAL_POINTS);
/** The equal split ("original" in LTS §5.1) in points: 100 / m, the remainder to the first CDNs. */
export function equalPoints(m: number): number[] {
  return toPoints(new Array(m).fill(1));
}

/** One step's measurements per CDN, as the controller or a simulator reports them. */
export interface CdnStepRecord {
  workload: ArrayLike<number>;
  slatency: ArrayLike<number>;
  bufratio: ArrayLike<number>;
  buffreq: ArrayLike<number>;
  /** shares in force during the step (fractions) */
  shares: ArrayLike<number>;
}

/**
 * The last `k` steps per CDN, kept for the policies (an environment-agnostic ring). Before `k` steps have
 * been seen, the observation repeats the oldest step it has. Throws when a record's length is not m.
 */
export class CdnHistory {
  private recs: CdnStepRecord[] = [];
  constructor(
    readonly cdns: string[],
    readonly k = K_STEPS,
  ) {
    if (!cdns.length) throw new Error('CdnHistory: no CDNs');
  }
  get length(): number {
    return this.recs.length;
  }
  push(r: CdnStepRecord): void {
    const m = this.cdns.length;
    for (const key of ['workload', 'slatency', 'bufratio', 'buffreq', 'shares'] as const)
      if (r[key].length !== m) throw new Error(`CdnHistory.push: ${key} has ${r[key].length} entries for ${m} CDNs`);
    this.recs.push({
      workload: Array.from(r.workload),
      slatency: Array.from(r.slatency),
      bufratio: Array.from(r.bufratio),
      buffreq: Array.from(r.buffreq),
      shares: Array.from(r.shares),
    });
    if (this.recs.length > this.k) this.recs.shift();
  }
  clear(): void {
    this.recs = [];
  }
  /** the observation over the last k steps; throws before the first push */
  observation(): CdnStepObservation {
    const n = this.recs.length;
    if (!n) throw new Error('CdnHistory: no step recorded yet');
    const m = this.cdns.length;
    const k = this.k;
    const pad = k - n;
    const wl: number[][] = [],
      sl: number[][] = [],
      br: number[][] = [],
      bf: number[][] = [],
      sh: number[][] = [];
    for (let i = 0; i < m; i++) {
      const a = new Array<number>(k),
        b = new Array<number>(k),
        c = new Array<number>(k),
        d = new Array<number>(k),
        e = new Array<number>(k);
      for (let t = 0; t < k; t++) {
        const r = this.recs[t < pad ? 0 : t - pad];
        a[t] = r.workload[i];
        b[t] = r.slatency[i];
        c[t] = r.bufratio[i];
        d[t] = r.buffreq[i];
        e[t] = r.shares[i];
      }
      wl.push(a);
      sl.push(b);
      br.push(c);
      bf.push(d);
      sh.push(e);
    }
    return {
      cdns: this.cdns.slice(),
      workload: wl,
      slatency: sl,
      bufratio: br,
      buffreq: bf,
      shareHistory: sh,
      shares: Array.from(this.recs[n - 1].shares),
    };
  }
}

/** Last-step per-CDN scores of an observation (the ranking input of applyAction). */
export function lastScores(obs: CdnStepObservation): number[] {
  return obs.cdns.map((_, i) => {
    const k = obs.slatency[i].length - 1;
    return cdnScore(obs.slatency[i][k], obs.bufratio[i][k], obs.buffreq[i][k]);
  });
}
