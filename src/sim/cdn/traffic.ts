/**
 * Viewer traffic for the multi-CDN simulators (LTS §3, §5.1): joins per 10-minute slot of the Twitch
 * sample in `$EDGEPLAY_DATA/live` (43 days, 6,148 slots; a row is a user seen starting a watch in that slot),
 * interpolated to minutes and scaled to a platform; viewers stay for an exponential time (mean
 * SESSION_MEAN_MIN), so the concurrent workload follows the joins with a ~40-minute memory.
 *
 * Days: the sample's day 42 is partial, so days 0–41 are used, in six weeks of seven: per week the first five
 * days train, the sixth is the dev day (model selection) and the seventh the test day (LTS trains on six days
 * and tests on one; our dev day is carved from its six).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SLOT_MIN = 10;
export const DAY_MIN = 1440;
/** full days of the Twitch sample (day 42 stops early) */
export const FULL_DAYS = 42;
/**
 * Mean watch time (min): the viewer-population simulator's stayers (src/sim/viewers/population.ts), lognormal
 * with median 30 min and sigma 0.8, whose mean is 30·e^{0.32} ≈ 41 min; departures are memoryless here so
 * that the simulators' state stays one number (or one distribution) per CDN.
 */
export const SESSION_MEAN_MIN = 41;
/** survival of a viewer over one minute */
export const SURVIVE = Math.exp(-1 / SESSION_MEAN_MIN);
/** platform joins per Twitch-sample row (the sample is 1,616 users; the platform has about 50k concurrent viewers) */
export const VIEWERS_PER_ROW = 700;
/** LTS's flash crowd (§3): more than 20 % growth of concurrent viewers within 10 min and a peak above 5,000 */
export const FLASH_GROWTH = 0.2;
export const FLASH_WINDOW_MIN = 10;
export const FLASH_PEAK = 5000;

export type DaySplit = 'train' | 'dev' | 'test';
/** train (30 days), dev (6) or test (6): day % 7 == 6 tests, day % 7 == 5 selects, the rest train. */
export function daySplit(day: number): DaySplit {
  if (!Number.isInteger(day) || day < 0 || day >= FULL_DAYS) throw new Error(`day ${day}: must be an integer in 0..${FULL_DAYS - 1}`);
  const r = day % 7;
  return r === 6 ? 'test' : r === 5 ? 'dev' : 'train';
}
export function daysOf(split: DaySplit): number[] {
  return Array.from({ length: FULL_DAYS }, (_, d) => d).filter((d) => daySplit(d) === split);
}

/** Joins per 10-minute slot (rows per `start_slot`) of the Twitch sample; throws if the file is missing. */
export function loadJoinSlots(liveDir: string): Float64Array {
  const f = join(liveDir, 'twitch100k_sample_train.csv');
  if (!existsSync(f)) throw new Error(`Twitch sample not found: ${f} (set EDGEPLAY_DATA)`);
  const lines = readFileSync(f, 'utf8').trim().split(/\r?\n/);
  const col = lines[0].split(',').indexOf('start_slot');
  if (col < 0) throw new Error(`${f}: no start_slot column`);
  const slots = lines.slice(1).map((l) => Number(l.split(',')[col]));
  const n = Math.max(...slots) + 1;
  const out = new Float64Array(n);
  for (const s of slots) if (Number.isInteger(s) && s >= 0) out[s]++;
  return out;
}

/**
 * Joins per minute: the slot rates (joins per minute = count / 10) placed at slot centres and interpolated
 * linearly in between (flat before the first centre and after the last), times `scale` platform viewers per
 * row. Returns one value per minute of the slots' span (10 × slots).
 */
export function joinsPerMinute(slots: ArrayLike<number>, scale = VIEWERS_PER_ROW): Float64Array {
  const n = slots.length * SLOT_MIN;
  const out = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    const x = (m + 0.5) / SLOT_MIN - 0.5; // position in slot-centre units
    const i = Math.max(0, Math.min(slots.length - 1, Math.floor(x)));
    const j = Math.min(slots.length - 1, i + 1);
    const f = Math.max(0, Math.min(1, x - i));
    out[m] = ((slots[i] * (1 - f) + slots[j] * f) / SLOT_MIN) * scale;
  }
  return out;
}

/** Concurrent viewers per minute from joins per minute: N(t) = SURVIVE·N(t−1) + J(t), starting from `n0`. */
export function concurrent(joins: ArrayLike<number>, n0 = 0, survive = SURVIVE): Float64Array {
  const out = new Float64Array(joins.length);
  let n = n0;
  for (let t = 0; t < joins.length; t++) out[t] = n = survive * n + joins[t];
  return out;
}

/**
 * Flash-crowd minutes (LTS §3 applied to the platform's concurrent viewers): minute t is in a flash crowd
 * when N(t) > (1 + 20 %)·N(t − 10) and the peak of N over [t, t + 30] exceeds 5,000. Minutes before index
 * 10 compare with the first value.
 */
export function flashCrowdMinutes(
  workload: ArrayLike<number>,
  growth = FLASH_GROWTH,
  window = FLASH_WINDOW_MIN,
  peak = FLASH_PEAK,
): Uint8Array {
  const n = workload.length;
  const out = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    const before = workload[Math.max(0, t - window)];
    if (!(workload[t] > (1 + growth) * before)) continue;
    let mx = 0;
    for (let u = t; u < Math.min(n, t + 31); u++) mx = Math.max(mx, workload[u]);
    if (mx > peak) out[t] = 1;
  }
  return out;
}

/** The platform's traffic: joins per minute over the whole sample, and the day slicing the simulators use. */
export class Traffic {
  /** joins per minute from minute 0 of day 0 */
  readonly joins: Float64Array;
  /** concurrent viewers per minute (all CDNs) */
  readonly workload: Float64Array;
  constructor(joins: Float64Array) {
    if (joins.length < DAY_MIN) throw new Error('Traffic: less than one day of joins');
    this.joins = joins;
    // start from the steady state of the first day's median rate (the crawl's first slot counts everyone
    // already watching as a join, so the first minute's rate is far above the usual)
    const first = Array.from(joins.subarray(0, DAY_MIN)).sort((a, b) => a - b)[DAY_MIN >> 1];
    this.workload = concurrent(joins, (first * SURVIVE) / (1 - SURVIVE));
  }
  static fromDir(liveDir: string, scale = VIEWERS_PER_ROW): Traffic {
    return new Traffic(joinsPerMinute(loadJoinSlots(liveDir), scale));
  }
  get days(): number {
    return Math.floor(this.joins.length / DAY_MIN);
  }
  /** joins of minute `m` of day `day` (m may be negative: the previous day's minutes; clamped to the data) */
  joinsAt(day: number, m: number): number {
    const i = day * DAY_MIN + m;
    return this.joins[Math.max(0, Math.min(this.joins.length - 1, i))];
  }
  /** the flash-crowd flags of one day's minutes (computed on the whole series, so the day's first minutes see the day before) */
  flashCrowds(day: number): Uint8Array {
    const from = Math.max(0, day * DAY_MIN - 40);
    const flags = flashCrowdMinutes(this.workload.subarray(from, Math.min(this.workload.length, (day + 1) * DAY_MIN + 40)));
    return flags.slice(day * DAY_MIN - from, day * DAY_MIN - from + DAY_MIN);
  }
}
