/**
 * Run a share policy through simulated days and score it: per minute the platform's mean viewer QoE
 * (SLatency, BufRatio, BufFreq and the reward −(sum)); QoE of a day = mean reward over its 1,440 steps.
 * Flash-crowd minutes (traffic.ts) are reported separately.
 */
import type { CdnSharePolicy } from '../../assign/cdn/index.js';
import { toPoints } from '../../assign/cdn/mdp.js';
import type { CdnSim } from './env.js';
import { DAY_MIN } from './traffic.js';

export interface DayResult {
  day: number;
  reward: Float64Array;
  slatency: Float64Array;
  bufratio: Float64Array;
  buffreq: Float64Array;
  flash: Uint8Array;
  /** shares per minute (fractions), when kept */
  shares?: number[][];
  /** policy decision time per step (ms, mean) */
  decisionMs: number;
}

export function runDay(sim: CdnSim, policy: CdnSharePolicy, day: number, opts: { keepShares?: boolean } = {}): DayResult {
  sim.reset(day);
  policy.reset?.();
  const out: DayResult = {
    day,
    reward: new Float64Array(DAY_MIN),
    slatency: new Float64Array(DAY_MIN),
    bufratio: new Float64Array(DAY_MIN),
    buffreq: new Float64Array(DAY_MIN),
    flash: sim.traffic.flashCrowds(day),
    shares: opts.keepShares ? [] : undefined,
    decisionMs: 0,
  };
  let ms = 0;
  for (let t = 0; t < DAY_MIN; t++) {
    const t0 = performance.now();
    const shares = policy.step(sim.observation());
    ms += performance.now() - t0;
    const r = sim.step(toPoints(shares));
    out.reward[t] = r.reward;
    out.slatency[t] = r.platform.slatency;
    out.bufratio[t] = r.platform.bufratio;
    out.buffreq[t] = r.platform.buffreq;
    out.shares?.push(r.shares);
  }
  out.decisionMs = ms / DAY_MIN;
  return out;
}

export interface Score {
  /** mean reward (= −(slatency + bufratio + buffreq)) */
  qoe: number;
  slatency: number;
  bufratio: number;
  buffreq: number;
  minutes: number;
}
/** Mean QoE over days' minutes, optionally only the flash-crowd minutes. */
export function score(days: DayResult[], onlyFlash = false): Score {
  const s = { qoe: 0, slatency: 0, bufratio: 0, buffreq: 0, minutes: 0 };
  for (const d of days)
    for (let t = 0; t < d.reward.length; t++) {
      if (onlyFlash && !d.flash[t]) continue;
      s.qoe += d.reward[t];
      s.slatency += d.slatency[t];
      s.bufratio += d.bufratio[t];
      s.buffreq += d.buffreq[t];
      s.minutes++;
    }
  const n = Math.max(1, s.minutes);
  return { qoe: s.qoe / n, slatency: s.slatency / n, bufratio: s.bufratio / n, buffreq: s.buffreq / n, minutes: s.minutes };
}

/** Mean reward of a policy over days (a quick scorer for tuning). */
export function meanReward(sim: CdnSim, policy: CdnSharePolicy, days: number[]): number {
  let s = 0;
  for (const d of days) {
    const r = runDay(sim, policy, d);
    for (let t = 0; t < r.reward.length; t++) s += r.reward[t];
  }
  return s / (days.length * DAY_MIN);
}
