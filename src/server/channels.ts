/**
 * Channel statistics for the on-device profiler (ELCast's I_all,h and T_all,h) and the population medians
 * its weights are relative to (Ī, D̄, N̄), computed from ingested telemetry: when a view ends (its
 * `viewend` arrives) its summary — channel, play time, chat interactions — is folded in; N is the number
 * of channels watched (views) per session, as the device counts it. In memory, rebuilt as views end (a restart starts afresh).
 */
import { summarizeView } from '../core/qoe.js';
import { median } from '../core/median.js';
import { interactionRate } from '../core/preference.js';
import type { StoredEvent } from './store.js';

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

const RESERVOIR = 10000;

export class ChannelStats {
  private byChannel = new Map<string, { sumI: number; sumT: number; n: number }>();
  private sessionViews = new Map<string, number>();
  private iSample: number[] = [];
  private dSample: number[] = [];
  private seen = 0;
  private counted = new Set<string>();

  /** fold in a finished view (idempotent per view id) */
  addView(viewId: string, sessionId: string, events: StoredEvent[]): void {
    if (this.counted.has(viewId)) return;
    this.counted.add(viewId);
    const s = summarizeView(events);
    const channel = s.channel ?? 'unknown';
    const hours = s.play_ms / 3.6e6;
    const msgs = Object.entries(s.interactions)
      .filter(([k]) => k === 'chat')
      .reduce((a, [, v]) => a + v, 0);
    const I = interactionRate(msgs, hours);
    const c = this.byChannel.get(channel) ?? this.byChannel.set(channel, { sumI: 0, sumT: 0, n: 0 }).get(channel)!;
    c.sumI += I;
    c.sumT += hours;
    c.n++;
    this.sessionViews.set(sessionId, (this.sessionViews.get(sessionId) ?? 0) + 1);
    // reservoir samples for the medians (bounded memory)
    this.seen++;
    const slot = this.seen <= RESERVOIR ? this.seen - 1 : Math.floor(Math.random() * this.seen);
    if (slot < RESERVOIR) {
      this.iSample[slot] = I;
      this.dSample[slot] = hours;
    }
    if (this.counted.size > 200000) this.counted.clear();
  }

  get(channel: string): ChannelStatsAnswer {
    const c = this.byChannel.get(channel);
    const med = (v: number[]) => (v.length ? median(v) : null);
    const ns = [...this.sessionViews.values()];
    return {
      channel,
      views: c?.n ?? 0,
      I_all: c ? c.sumI / c.n : null,
      T_all: c ? c.sumT / c.n : null,
      medians: { I: med(this.iSample), D: med(this.dSample), N: med(ns) },
      population: { views: this.seen, sessions: this.sessionViews.size },
    };
  }
}
