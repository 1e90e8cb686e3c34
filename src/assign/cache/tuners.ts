/**
 * Who decides the cache's size and policy each interval, and the loop that asks them (TunedCache: used
 * as is by the simulator and by the reference edge). Tuners (edge-intelligence-immersive-media, "Edge
 * Caching for Multimedia Content": the agent against size-only and strategy-only tuning):
 *
 *   FixedTuner     a fixed size and policy
 *   SizeRuleTuner  size-only: the policy stays; the size hill-climbs on the reward (perturb and observe:
 *                  step ×1.25 in the current direction while the interval's reward rises, turn back when it
 *                  falls). A characteristic-time rule (grow while objects are evicted younger than the
 *                  break-even time egress/rent) was tried first and grew to 678 GB: most segments are never
 *                  requested again, so evictions are always "young".
 *   StrategyRuleTuner  strategy-only: the size stays; the policy switches to the next one when the hit rate
 *                  falls more than `drop` below its running mean (reactive rule, at most every `cooldown`
 *                  intervals)
 *   AgentTuner     the learned agent (agent.ts): one fused action per interval
 */
import { agentReward, applyAction, CacheAgentNet, encodeState, intervalCost, intervalReward, SIZE_BOUNDS, STATE_SIZE } from './agent.js';
import type { CacheAgentFile, CacheEconomics, RewardKind, RewardSpec, TunerObservation } from './agent.js';
import { POLICY_NAMES } from './policies.js';
import { ByteCache } from './store.js';
import { LearningWindow, type IntervalStats, type WindowOptions } from './window.js';
import type { AccessHint, CacheDecision, CacheKey } from './types.js';

export interface CacheTuner {
  readonly name: string;
  /**
   * the objective the tuner was trained for: the TunedCache it drives computes the observed reward with it
   * (a trained agent sees the reward it learnt on); none: the TunedCache's own
   */
  readonly reward?: RewardSpec;
  decide(o: TunerObservation): CacheDecision;
}

export class FixedTuner implements CacheTuner {
  readonly name: string;
  constructor(
    private capacityBytes: number,
    private policy: string,
  ) {
    this.name = `fixed-${policy}-${+(capacityBytes / 1e9).toFixed(2)}gb`;
  }
  decide(): CacheDecision {
    return { capacityBytes: this.capacityBytes, policy: this.policy };
  }
}

export class SizeRuleTuner implements CacheTuner {
  readonly name = 'size-only';
  private dir = 1;
  private last = NaN;
  constructor(
    private policy: string,
    private step = 1.25,
    private bounds = SIZE_BOUNDS,
  ) {}
  decide(o: TunerObservation): CacheDecision {
    // perturb and observe: keep moving while the reward improves, turn back when it falls
    if (!Number.isNaN(this.last) && o.reward < this.last) this.dir = -this.dir;
    this.last = o.reward;
    const cap = o.capacityBytes * this.step ** this.dir;
    return { capacityBytes: Math.min(this.bounds.max, Math.max(this.bounds.min, cap)), policy: this.policy };
  }
}

export class StrategyRuleTuner implements CacheTuner {
  readonly name = 'strategy-only';
  private mean = NaN;
  private since = 0;
  constructor(
    private capacityBytes: number,
    private drop = 0.1,
    private cooldown = 3,
    private alpha = 0.1,
  ) {}
  decide(o: TunerObservation): CacheDecision {
    const hr = o.stats.requests ? o.stats.hits / o.stats.requests : NaN;
    let policy = o.policy;
    this.since++;
    if (!Number.isNaN(hr)) {
      if (!Number.isNaN(this.mean) && this.since >= this.cooldown && hr < this.mean * (1 - this.drop)) {
        const i = POLICY_NAMES.indexOf(o.policy as (typeof POLICY_NAMES)[number]);
        policy = POLICY_NAMES[(i + 1) % POLICY_NAMES.length];
        this.since = 0;
      }
      this.mean = Number.isNaN(this.mean) ? hr : this.mean + this.alpha * (hr - this.mean);
    }
    return { capacityBytes: this.capacityBytes, policy };
  }
}

export class AgentTuner implements CacheTuner {
  readonly name = 'agent';
  readonly reward: RewardSpec;
  private net: CacheAgentNet;
  private x = new Float32Array(STATE_SIZE);
  /** the last action taken (for logs and tests) */
  lastAction = -1;
  constructor(file: CacheAgentFile) {
    this.net = new CacheAgentNet(file);
    this.reward = agentReward(file);
  }
  decide(o: TunerObservation): CacheDecision {
    this.lastAction = this.net.act(encodeState(o, this.x));
    return applyAction(this.lastAction, o.capacityBytes);
  }
}

/** The result of one interval of a TunedCache. */
export interface IntervalReport {
  stats: IntervalStats;
  /** capacity and policy in force during the interval */
  capacityBytes: number;
  policy: string;
  reward: number;
  rent: number;
  egress: number;
  /** what the tuner decided for the next interval */
  decision: CacheDecision;
  observation: TunerObservation;
}

export interface TunedCacheOptions {
  capacityBytes: number;
  policy: string;
  econ: CacheEconomics;
  window?: Partial<WindowOptions>;
  /** the reward kind (default 'bytes'); a tuner that declares its own `reward` overrides it and `rentWeight` */
  reward?: RewardKind;
  /** weight of the rent in the reward (≥ 0, default 1) */
  rentWeight?: number;
  /** told of every key that leaves the cache (the edge drops its body) */
  onEvict?: (key: CacheKey) => void;
}

/**
 * A ByteCache with its learning window, its tuner and its bill. Call `request` per request (or `lookup` /
 * `insert` when the body arrives later, as at the edge) and `endInterval` at the end of each interval: it
 * closes the window, computes the reward and the cost, asks the tuner and applies the decision.
 */
export class TunedCache<K extends CacheKey = CacheKey> {
  readonly cache: ByteCache<K>;
  readonly window: LearningWindow<K>;
  readonly econ: CacheEconomics;
  readonly rewardKind: RewardKind;
  readonly rentWeight: number;
  private evAt = { n: 0, idle: 0 };
  /** totals since construction: rented byte·seconds, bytes from the origin, money */
  readonly totals = { byteSeconds: 0, originBytes: 0, rent: 0, egress: 0, intervals: 0 };
  private lastReward = 0;
  private intervalStart = NaN;

  constructor(
    public tuner: CacheTuner,
    o: TunedCacheOptions,
  ) {
    this.cache = new ByteCache<K>(o.capacityBytes, o.policy, o.onEvict as ((k: K) => void) | undefined);
    this.window = new LearningWindow<K>(o.window);
    this.econ = o.econ;
    this.rewardKind = tuner.reward?.kind ?? o.reward ?? 'bytes';
    this.rentWeight = tuner.reward?.rentWeight ?? o.rentWeight ?? 1;
  }

  /** a request answered from the cache or, on a miss, fetched and stored (the simulator's path) */
  request(key: K, group: number | string, bytes: number, now: number, hint?: AccessHint): boolean {
    const hit = this.cache.request(key, bytes, now, hint);
    this.note(key, group, bytes, hit, now);
    return hit;
  }

  /** the edge's path: count a request and whether it hit (the edge inserts on its own when the body arrives) */
  note(key: K, group: number | string, bytes: number, hit: boolean, now: number): void {
    if (Number.isNaN(this.intervalStart)) this.intervalStart = now;
    if (!hit) this.totals.originBytes += bytes;
    this.window.observe(key, group, bytes, hit, now);
  }

  /** close the interval ending at `now` (seconds): reward, cost, the tuner's decision applied */
  endInterval(now: number): IntervalReport {
    if (Number.isNaN(this.intervalStart)) this.intervalStart = now - this.window.opts.intervalS;
    const stats = this.window.close(now);
    const span = Math.max(0, now - this.intervalStart);
    stats.spanS = span > 0 ? span : stats.spanS;
    this.intervalStart = now;
    const capacityBytes = this.cache.capacity,
      policy = this.cache.policy;
    const reward = intervalReward(this.econ, stats, capacityBytes, this.rewardKind, this.rentWeight);
    const cost = intervalCost(this.econ, capacityBytes, stats.spanS, stats.bytes - stats.bytesHit);
    const c = this.cache.counters;
    const nEv = c.evictions - this.evAt.n,
      idle = c.evictedIdleS - this.evAt.idle;
    this.evAt = { n: c.evictions, idle: c.evictedIdleS };
    const observation: TunerObservation = {
      stats,
      capacityBytes,
      usedBytes: this.cache.used,
      policy,
      evictionIdleS: nEv > 0 ? idle / nEv : NaN,
      econ: this.econ,
      reward,
    };
    this.lastReward = reward;
    this.totals.byteSeconds += capacityBytes * stats.spanS;
    this.totals.rent += cost.rent;
    this.totals.egress += cost.egress;
    this.totals.intervals++;
    const decision = this.tuner.decide(observation);
    this.apply(decision);
    return { stats, capacityBytes, policy, reward, rent: cost.rent, egress: cost.egress, decision, observation };
  }

  /** set size and policy now (a decision, or an operator's override) */
  apply(d: CacheDecision): void {
    if (d.policy !== this.cache.policy) this.cache.setPolicy(d.policy);
    if (d.capacityBytes !== this.cache.capacity) this.cache.resize(d.capacityBytes);
  }

  get reward(): number {
    return this.lastReward;
  }
}
