/**
 * The day split of the cache experiments (days of the Twitch sample, 0–42): training episodes come from the
 * train days, checkpoints and the baselines' settings are chosen on the validation days, and bench:cache
 * reports the held-out test days only. Each span starts with a warm-up day that is simulated but not counted.
 */
import { DAY_S } from './demand.js';

export interface DaySpan {
  /** first simulated day (warm-up: simulated, not counted) */
  warmDay: number;
  /** counted days: from … to (exclusive) */
  from: number;
  to: number;
}

export const CACHE_SPLIT = {
  /** training episodes are drawn from blocks of these days (one request stream per block) */
  trainDays: { from: 0, to: 20 },
  validation: { warmDay: 20, from: 21, to: 24 } as DaySpan,
  test: { warmDay: 34, from: 35, to: 42 } as DaySpan,
};

export const spanSeconds = (s: DaySpan) => ({ start: s.warmDay * DAY_S, measureFrom: s.from * DAY_S, end: s.to * DAY_S });
