/**
 * The common frame of the multi-CDN simulators (LTS §4.4, §5): an episode is one day of one-minute steps.
 * In step t, the step's new viewers (joins, src/sim/cdn/traffic.ts) go to the CDNs by the shares the policy
 * chose after step t − 1; every viewer stays for an exponential time (SURVIVE per minute). A CDN's
 * workload in the step is its viewers from earlier steps plus its new ones, and the simulator turns
 * workload into per-CDN QoE (SLatency of the step's joiners, BufRatio and BufFreq of all its viewers):
 * piecewise.ts, mechanistic.ts, learned.ts. The reward is the platform's mean viewer QoE (mdp.ts).
 *
 * Each day starts with WARMUP_MIN minutes of the previous day's traffic at the equal split, so the first
 * decision already sees k = 20 steps of history and a realistic load.
 */
import { CdnHistory, checkPoints, equalPoints, fromPoints, K_STEPS, platformQoe, TOTAL_POINTS } from '../../assign/cdn/mdp.js';
import type { CdnStepObservation } from '../../assign/cdn/index.js';
import { capacityDay, type CapacityDay, type CdnProfile } from './cdns.js';
import { DAY_MIN, SURVIVE, type Traffic } from './traffic.js';

export const WARMUP_MIN = 120;
export type SimKind = 'piecewise' | 'mechanistic' | 'learned';

/** One CDN's QoE in one step (LTS §4.3 units: s, % of time, stalls per 100 s). */
export interface CdnQoe {
  slatency: number;
  bufratio: number;
  buffreq: number;
}

/** What one step produced: per CDN (arrays over CDNs) and for the platform's mean viewer. */
export interface CdnSimStep {
  /** minute of the day (0..1439; negative during the warm-up) */
  minute: number;
  joins: number[];
  workload: number[];
  slatency: number[];
  bufratio: number[];
  buffreq: number[];
  /** shares in force (fractions) */
  shares: number[];
  platform: CdnQoe;
  /** −(SLatency + BufRatio + BufFreq) of the platform's mean viewer (eq. 3) */
  reward: number;
}

/** CDN i's dynamic state in a simulator (CdnSim.snapshotCdn); opaque outside the simulator */
export interface CdnSnapshot {
  carried: number;
  own: unknown;
}

export abstract class CdnSim {
  abstract readonly kind: SimKind;
  readonly cdns: string[];
  readonly m: number;
  day = -1;
  /** the next step's minute of the day */
  minute = 0;
  protected caps: CapacityDay[] = [];
  /** viewers on each CDN at the start of the coming step (after the last step's departures) */
  protected carried: Float64Array;
  readonly history: CdnHistory;

  constructor(
    readonly traffic: Traffic,
    readonly profiles: CdnProfile[],
    /** seed of the capacity noise and incidents (the same seed gives the same days) */
    readonly seed = 1,
  ) {
    if (profiles.length < 2) throw new Error('CdnSim: needs at least two CDNs');
    this.cdns = profiles.map((p) => p.id);
    this.m = profiles.length;
    this.carried = new Float64Array(this.m);
    this.history = new CdnHistory(this.cdns, K_STEPS);
  }

  /** Start day `day` (0..traffic.days − 1): capacities, warm-up at the equal split. Throws on a day outside the traffic. */
  reset(day: number): void {
    if (!Number.isInteger(day) || day < 0 || day >= this.traffic.days)
      throw new Error(`CdnSim.reset: day ${day} outside 0..${this.traffic.days - 1}`);
    this.day = day;
    this.caps = this.profiles.map((p) => capacityDay(p, day, this.seed, WARMUP_MIN));
    const n0 = this.traffic.workload[Math.max(0, day * DAY_MIN - WARMUP_MIN - 1)] * SURVIVE;
    this.carried.fill(n0 / this.m);
    this.history.clear();
    this.resetState();
    const eq = equalPoints(this.m);
    for (let w = -WARMUP_MIN; w < 0; w++) this.stepAt(w, eq);
    this.minute = 0;
  }

  get done(): boolean {
    return this.minute >= DAY_MIN;
  }

  /** Run the coming step with `points` (integer shares summing to 100). Throws after the day's last step. */
  step(points: readonly number[]): CdnSimStep {
    if (this.day < 0) throw new Error('CdnSim.step before reset');
    if (this.done) throw new Error('CdnSim.step: the day is over');
    checkPoints(points);
    if (points.length !== this.m) throw new Error(`CdnSim.step: ${points.length} shares for ${this.m} CDNs`);
    return this.stepAt(this.minute++, points);
  }

  /** the last k steps, and the minute of the day of the coming step (what a time-of-day model reads) */
  observation(): CdnStepObservation {
    return { ...this.history.observation(), minuteOfDay: this.minute };
  }

  /** joins of the coming step (what the one-step greedy oracle knows) */
  nextJoins(): number {
    return this.traffic.joinsAt(this.day, this.minute);
  }

  /**
   * CDN i's part of −reward in the coming step if it received `points` of the joins (no state change): the
   * reward is −Σ_i peekCost(i, p_i), so the one-step optimum is separable over CDNs (greedy.ts).
   */
  peekCost(i: number, points: number): number {
    const J = this.nextJoins();
    const Ji = (J * points) / TOTAL_POINTS;
    let N = J;
    for (let c = 0; c < this.m; c++) N += this.carried[c];
    const q = this.evaluate(i, Ji, this.minute);
    const Ni = this.carried[i] + Ji;
    return (J > 0 ? (Ji * q.slatency) / J : 0) + (N > 0 ? (Ni * (q.bufratio + q.buffreq)) / N : 0);
  }

  /**
   * The platform's concurrent viewers (all CDNs) in each of the coming `h` steps: Σ_i carried + the step's joins,
   * carried on by SURVIVE. Independent of the shares (viewers only move between CDNs), so it is the
   * denominator of BufRatio/BufFreq in every plan (`rolloutCdn`). Throws when `h` steps run past the day's end.
   */
  platformLoad(h: number): Float64Array {
    this.checkAhead('platformLoad', h);
    const out = new Float64Array(h);
    let n = 0;
    for (let c = 0; c < this.m; c++) n += this.carried[c];
    for (let t = 0; t < h; t++) {
      n += this.traffic.joinsAt(this.day, this.minute + t);
      out[t] = n;
      n *= SURVIVE;
    }
    return out;
  }

  /** a copy of CDN i's dynamic state (its viewers and the simulator's own state of it), for `restoreCdn` */
  snapshotCdn(i: number): CdnSnapshot {
    return { carried: this.carried[i], own: this.saveCdn(i) };
  }
  /** put CDN i back into a state taken by `snapshotCdn` (of this simulator, this day) */
  restoreCdn(i: number, s: CdnSnapshot): void {
    this.carried[i] = s.carried;
    this.loadCdn(i, s.own);
  }

  /**
   * CDN i alone through the steps at minute + offset … minute + offset + joins.length − 1, with joins[τ] new viewers
   * (absolute, not points) in step offset + τ, starting from CDN i's state as it is now: its part of −reward summed
   * over these steps (the same per-step cost as `peekCost`; a plan's −Σ reward is the sum over CDNs, since CDNs
   * interact only through the joins they split). `load` = platformLoad(h) of the coming steps (h ≥ offset +
   * joins.length). With `keep` CDN i is left advanced past these steps (the caller restores it with
   * `restoreCdn`); without, its state is unchanged. What the multi-step oracle (mpc.ts) rolls out with. Throws
   * when the steps run past the day's end or `load` is too short.
   */
  rolloutCdn(i: number, joins: ArrayLike<number>, load: ArrayLike<number>, offset = 0, keep = false): number {
    const h = joins.length;
    this.checkAhead('rolloutCdn', offset + h);
    if (load.length < offset + h) throw new Error(`rolloutCdn: load covers ${load.length} steps, need ${offset + h}`);
    const snap = keep ? null : this.snapshotCdn(i);
    let cost = 0;
    for (let t = 0; t < h; t++) {
      const minute = this.minute + offset + t;
      const J = this.traffic.joinsAt(this.day, minute);
      const Ji = joins[t];
      const q = this.evaluate(i, Ji, minute);
      const N = load[offset + t];
      const Ni = this.carried[i] + Ji;
      cost += (J > 0 ? (Ji * q.slatency) / J : 0) + (N > 0 ? (Ni * (q.bufratio + q.buffreq)) / N : 0);
      if (keep || t < h - 1) {
        this.commit(i, Ji, minute);
        this.carried[i] = SURVIVE * Ni;
      }
    }
    if (snap) this.restoreCdn(i, snap);
    return cost;
  }

  private checkAhead(what: string, h: number): void {
    if (this.day < 0) throw new Error(`CdnSim.${what} before reset`);
    if (!Number.isInteger(h) || h < 0 || this.minute + h > DAY_MIN)
      throw new Error(`CdnSim.${what}: ${h} steps from minute ${this.minute} run past the day's end (${DAY_MIN})`);
  }

  /** capacity of CDN i at minute m of the day (m ≥ −WARMUP_MIN) */
  capacity(i: number, m: number): number {
    const c = this.caps[i];
    return c.cap[Math.max(0, Math.min(c.cap.length - 1, m + c.from))];
  }
  /** path factor of CDN i at minute m of the day */
  pathFactor(i: number, m: number): number {
    const c = this.caps[i];
    return c.path[Math.max(0, Math.min(c.path.length - 1, m + c.from))];
  }
  /** incident start minute of CDN i today, or −1 */
  incident(i: number): number {
    return this.caps[i].incident;
  }

  protected stepAt(minute: number, points: readonly number[]): CdnSimStep {
    const J = this.traffic.joinsAt(this.day, minute);
    const joins: number[] = [],
      workload: number[] = [],
      sl: number[] = [],
      br: number[] = [],
      bf: number[] = [];
    for (let i = 0; i < this.m; i++) {
      const Ji = (J * points[i]) / TOTAL_POINTS;
      const q = this.evaluate(i, Ji, minute);
      joins.push(Ji);
      workload.push(this.carried[i] + Ji);
      sl.push(q.slatency);
      br.push(q.bufratio);
      bf.push(q.buffreq);
    }
    for (let i = 0; i < this.m; i++) {
      this.commit(i, joins[i], minute);
      this.carried[i] = SURVIVE * (this.carried[i] + joins[i]);
    }
    const shares = fromPoints(points);
    this.history.push({ workload, slatency: sl, bufratio: br, buffreq: bf, shares });
    const platform = platformQoe({ joins, workload, slatency: sl, bufratio: br, buffreq: bf });
    return {
      minute,
      joins,
      workload,
      slatency: sl,
      bufratio: br,
      buffreq: bf,
      shares,
      platform,
      reward: -(platform.slatency + platform.bufratio + platform.buffreq),
    };
  }

  /** subclass state for a new day (called before the warm-up; `carried` is already set) */
  protected abstract resetState(): void;
  /** a copy of the subclass's state of CDN i (beyond `carried`), for rollouts (`rolloutCdn`) */
  protected abstract saveCdn(i: number): unknown;
  /** restore what `saveCdn(i)` returned */
  protected abstract loadCdn(i: number, s: unknown): void;
  /** CDN i's QoE in the step at `minute` if it gets `joins` new viewers (no state change) */
  protected abstract evaluate(i: number, joins: number, minute: number): CdnQoe;
  /** advance CDN i's state through the step (called once per step, before `carried` moves on) */
  protected abstract commit(i: number, joins: number, minute: number): void;
}
