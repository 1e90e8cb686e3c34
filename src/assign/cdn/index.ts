/**
 * Multi-CDN viewer scheduling (LTS, ../shared/papers/lts-multi-cdn-drl.txt §3–4): once per step (1 min) a
 * policy decides which share of *new* viewers each CDN gets, from each CDN's recent workload and QoE.
 * Environment-agnostic: the controller's scheduler and the CDN simulators (src/sim/cdn) call the same
 * policies. The MDP (state window, actions, reward, "worst" CDN) is in mdp.ts; the policies beside it:
 * lts.ts (the actor-critic network, plain-JS forward), tree.ts (Fast-LTS, the distilled decision tree),
 * baselines.ts (equal split, weighted round-robin, UCB1 and Discounted UCB).
 */

/** What a CDN scheduling policy sees at the end of a step: per CDN, the last steps, oldest first. */
export interface CdnStepObservation {
  /** CDN ids, in a fixed order (the order of every array below) */
  cdns: string[];
  /** concurrent viewers per CDN per step: workload[cdn][step] */
  workload: number[][];
  /** startup latency (s) of the viewers who joined in the step, per CDN per step (LTS §4.3 SLatency) */
  slatency: number[][];
  /** stall time per 100 s of viewing (LTS BufRatio, %), per CDN per step */
  bufratio: number[][];
  /** stalls per 100 s of viewing (LTS BufFreq), per CDN per step */
  buffreq: number[][];
  /** the shares in force during each step (fractions summing to 1): shareHistory[cdn][step] */
  shareHistory: number[][];
  /** the shares in force during the last step (fractions summing to 1; = the last column of shareHistory) */
  shares: number[];
  /**
   * minute of the day (0 ≤ t < 1440, fractions allowed; the simulators: the traffic's day, the controller: UTC) of
   * the step the decision is for. Optional: only a model that reads the time of day (lts.ts LtsInputs) needs it,
   * and refuses an observation without it.
   */
  minuteOfDay?: number;
}

/** A policy returns the shares of new viewers for the next step (fractions, one per CDN, summing to 1). */
export interface CdnSharePolicy {
  readonly name: string;
  /** a new episode (day) starts */
  reset?(): void;
  step(obs: CdnStepObservation): number[];
}
