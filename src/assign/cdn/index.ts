/**
 * Multi-CDN viewer scheduling (LTS, ../shared/papers/lts-multi-cdn-drl.txt §3): once per step (1 min) a
 * policy decides which share of *new* viewers each CDN gets, from each CDN's recent workload and QoE.
 * Environment-agnostic: the controller's scheduler plugin and the CDN simulators (src/sim/cdn) call the same
 * policies. This file is the home of that interface; the policies (LTS actor-critic, its distilled tree,
 * the round-robin and bandit baselines) live beside it.
 */

/** What a CDN scheduling policy sees at the end of a step: per CDN, the last k steps, oldest first. */
export interface CdnStepObservation {
  /** CDN ids, in a fixed order (the order of every array below) */
  cdns: string[];
  /** concurrent viewers per CDN per step */
  workload: number[][];
  /** startup latency (s), BufRatio (%) and BufFreq (stalls per 100 s) per CDN per step (LTS definitions) */
  slatency: number[][];
  bufratio: number[][];
  buffreq: number[][];
  /** the shares in force during the last step (fractions summing to 1) */
  shares: number[];
}

/** A policy returns the shares of new viewers for the next step (fractions, one per CDN, summing to 1). */
export interface CdnSharePolicy {
  readonly name: string;
  /** a new episode (day) starts */
  reset?(): void;
  step(obs: CdnStepObservation): number[];
}
