/**
 * Channel statistics for the on-device profiler (ELCast's I_all,h and T_all,h) and the population medians
 * its weights are relative to (Ī, D̄, N̄), computed from ingested telemetry: when a view ends (its `viewend`
 * arrives) the telemetry store folds its summary — channel, play time, chat interactions — into a table of
 * ended views (`viewRecord` below, the one statement of what is folded in); the answer is computed from that
 * table on every request (`GET /v1/channels/:id/stats`), so every controller process on one database answers
 * the same. N is the number of channels watched (views) per session, as the device counts it.
 */
import { summarizeView } from '../core/qoe.js';
import { median } from '../core/median.js';
import { interactionRate } from '../core/preference.js';
import type { TelemetryEvent } from '../core/protocol.js';

export interface ChannelStatsAnswer {
  channel: string;
  /** views of this channel that have ended */
  views: number;
  /** mean interaction frequency (messages/hour) and mean watch duration (hours) of those views */
  I_all: number | null;
  T_all: number | null;
  /** population medians: interactions/hour, watch hours per view, channels per session */
  medians: { I: number | null; D: number | null; N: number | null };
  population: { views: number; sessions: number };
}

/** What an ended view contributes: its channel ('unknown' when none was given), chat messages per hour, watch hours. */
export interface ViewRecord {
  view_id: string;
  session_id: string;
  channel: string;
  /** chat interactions per hour of play (core/preference.ts interactionRate) */
  i: number;
  /** hours of play */
  d: number;
}

/** The record of an ended view from all its stored events (any order). */
export function viewRecord(viewId: string, sessionId: string, events: TelemetryEvent[]): ViewRecord {
  const s = summarizeView(events);
  const hours = s.play_ms / 3.6e6;
  const msgs = s.interactions.chat ?? 0;
  return { view_id: viewId, session_id: sessionId, channel: s.channel ?? 'unknown', i: interactionRate(msgs, hours), d: hours };
}

/** The answer over a set of ended views (the memory store's computation; the SQL stores compute the same). */
export function channelStatsOf(channel: string, views: Iterable<ViewRecord>): ChannelStatsAnswer {
  let n = 0,
    sumI = 0,
    sumT = 0;
  const is: number[] = [],
    ds: number[] = [];
  const perSession = new Map<string, number>();
  for (const v of views) {
    is.push(v.i);
    ds.push(v.d);
    perSession.set(v.session_id, (perSession.get(v.session_id) ?? 0) + 1);
    if (v.channel !== channel) continue;
    n++;
    sumI += v.i;
    sumT += v.d;
  }
  const med = (v: number[]) => (v.length ? median(v) : null);
  return {
    channel,
    views: n,
    I_all: n ? sumI / n : null,
    T_all: n ? sumT / n : null,
    medians: { I: med(is), D: med(ds), N: med([...perSession.values()]) },
    population: { views: is.length, sessions: perSession.size },
  };
}
