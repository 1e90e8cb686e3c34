/**
 * The statistics the viewer-population simulator is calibrated on, computed the same way on the real
 * Twitch data and on simulated viewers "observed" like the Twitch crawler observed real ones (a chat user
 * list polled every 10 minutes: a watch appears as one row at the first poll it spans; shorter watches
 * between two polls are never seen).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../core/random.js';
import { median } from '../../core/median.js';
import type { Population, Watch } from './population.js';

export const SLOT_S = 600;
export interface ObservedRow {
  user: number | string;
  channel: number | string;
  slot: number;
}

/** Twitch sample rows (user, streamer, 10-min start slot). */
export function loadTwitchRows(dir: string): ObservedRow[] {
  const f = join(dir, 'twitch100k_sample_train.csv');
  if (!existsSync(f)) throw new Error(`Twitch sample not found: ${f}`);
  const lines = readFileSync(f, 'utf8').trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const [ui, si, ti] = ['user_id', 'streamer_idx', 'start_slot'].map((n) => head.indexOf(n));
  if (Math.min(ui, si, ti) < 0) throw new Error(`${f}: needs user_id, streamer_idx, start_slot`);
  return lines.slice(1).map((l) => {
    const c = l.split(',');
    return { user: c[ui], channel: c[si], slot: Number(c[ti]) };
  });
}

export interface ChatMessage {
  channel: string;
  sender: string;
  tsMs: number;
}
export function loadTwitchChat(dir: string): ChatMessage[] {
  const f = join(dir, 'twitch_chat2017_train.csv');
  if (!existsSync(f)) throw new Error(`Twitch chat log not found: ${f}`);
  const lines = readFileSync(f, 'utf8').trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const [ci, si, ti, bi] = ['channel', 'sender', 'ts_ms', 'is_bot'].map((n) => head.indexOf(n));
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[bi] !== '1')
    .map((c) => ({ channel: c[ci], sender: c[si], tsMs: Number(c[ti]) }));
}

/** Polled observation of simulated watches. */
export function pollObserve(watches: Watch[]): ObservedRow[] {
  const rows: ObservedRow[] = [];
  for (const w of watches) {
    const first = Math.ceil(w.start / SLOT_S);
    if (first * SLOT_S <= w.start + w.duration) rows.push({ user: w.user, channel: w.channel, slot: first });
  }
  return rows;
}

function slope(freq: number[], n: number): number {
  const m = Math.min(n, freq.length);
  let mx = 0,
    my = 0;
  for (let i = 0; i < m; i++) {
    mx += Math.log(i + 1);
    my += Math.log(freq[i]);
  }
  mx /= m;
  my /= m;
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < m; i++) {
    const dx = Math.log(i + 1) - mx;
    sxy += dx * (Math.log(freq[i]) - my);
    sxx += dx * dx;
  }
  return -sxy / sxx;
}

export interface RowStats {
  zipf_slope_all: number;
  zipf_slope_top100: number;
  zipf_slope_top1000: number;
  median_rows_per_user: number;
  consecutive_different: number;
  daily_peak_trough: number;
  /** polled visits: a user's rows whose start slots are at most one slot apart */
  channels_per_visit_mean: number;
  visits_single_channel: number;
}

export function rowStats(rows: ObservedRow[]): RowStats {
  const byCh = new Map<string, number>();
  const byUser = new Map<string, ObservedRow[]>();
  const hours = new Float64Array(24);
  for (const r of rows) {
    byCh.set(String(r.channel), (byCh.get(String(r.channel)) ?? 0) + 1);
    const k = String(r.user);
    (byUser.get(k) ?? byUser.set(k, []).get(k)!).push(r);
    hours[Math.floor((r.slot % 144) / 6)]++;
  }
  const freq = [...byCh.values()].sort((a, b) => b - a);
  let diff = 0,
    pairs = 0;
  const perVisit: number[] = [];
  for (const l of byUser.values()) {
    l.sort((a, b) => a.slot - b.slot);
    for (let i = 1; i < l.length; i++) {
      pairs++;
      if (l[i].channel !== l[i - 1].channel) diff++;
    }
    let cur = new Set([String(l[0].channel)]);
    for (let i = 1; i < l.length; i++) {
      if (l[i].slot - l[i - 1].slot <= 1) cur.add(String(l[i].channel));
      else {
        perVisit.push(cur.size);
        cur = new Set([String(l[i].channel)]);
      }
    }
    perVisit.push(cur.size);
  }
  return {
    zipf_slope_all: slope(freq, freq.length),
    zipf_slope_top100: slope(freq, 100),
    zipf_slope_top1000: slope(freq, 1000),
    median_rows_per_user: median([...byUser.values()].map((l) => l.length)),
    consecutive_different: diff / pairs,
    daily_peak_trough: Math.max(...hours) / Math.min(...hours),
    channels_per_visit_mean: perVisit.reduce((a, b) => a + b, 0) / perVisit.length,
    visits_single_channel: perVisit.filter((n) => n === 1).length / perVisit.length,
  };
}

export interface ChatStats {
  chatters: number;
  share_over_10: number;
  median_msgs: number;
}

/** Per channel: chatters in a 2 h window and their message counts. */
export function chatStats(counts: number[]): ChatStats {
  const c = counts.filter((x) => x > 0);
  return { chatters: c.length, share_over_10: c.filter((x) => x > 10).length / c.length, median_msgs: median(c) };
}

export function twitchChatStats(msgs: ChatMessage[]): Record<string, ChatStats> {
  const out: Record<string, ChatStats> = {};
  for (const ch of [...new Set(msgs.map((m) => m.channel))].sort()) {
    const cnt = new Map<string, number>();
    for (const m of msgs) if (m.channel === ch) cnt.set(m.sender, (cnt.get(m.sender) ?? 0) + 1);
    out[ch] = chatStats([...cnt.values()]);
  }
  return out;
}

/** The simulated "chat log": every channel's chatters over a 2 h window around the daily peak (pooled). */
export function simulatedChatStats(pop: Population, seed = 5): ChatStats {
  const rng = mulberry32(seed);
  const P = pop.params;
  const counts: number[] = [];
  // a 2 h window around the daily peak on every day; chatters' counts per (day, channel) pooled
  const byWin = new Map<string, Map<number, number>>();
  for (const w of pop.watches) {
    if (w.msgs === 0) continue;
    const day = Math.floor(w.start / 86400);
    for (const d of [day, day + 1]) {
      const t0 = d * 86400 + (P.peakHour - 1) * 3600,
        t1 = t0 + 7200;
      const ov = Math.min(t1, w.start + w.duration) - Math.max(t0, w.start);
      if (ov <= 0) continue;
      let k = 0; // messages fall uniformly in the watch: binomial thinning to the window
      for (let i = 0; i < w.msgs; i++) if (rng() < ov / w.duration) k++;
      const key = `${d}/${w.channel}`;
      const m = byWin.get(key) ?? byWin.set(key, new Map()).get(key)!;
      m.set(w.user, (m.get(w.user) ?? 0) + k);
    }
  }
  for (const m of byWin.values()) for (const v of m.values()) counts.push(v);
  return chatStats(counts);
}

/** ELCast's measured facts, on simulated viewers (all sessions, not polled). */
export function paperStats(pop: Population) {
  const msgs = new Float64Array(pop.params.viewers);
  const visits = new Map<number, { user: number; msgs: number }>();
  const watchSum = new Float64Array(pop.params.viewers);
  const watchN = new Float64Array(pop.params.viewers);
  for (const w of pop.watches) {
    msgs[w.user] += w.msgs;
    const v = visits.get(w.visit) ?? visits.set(w.visit, { user: w.user, msgs: 0 }).get(w.visit)!;
    v.msgs += w.msgs;
    watchSum[w.user] += w.duration;
    watchN[w.user]++;
  }
  const perUserVisitMsgs = new Map<number, number[]>();
  for (const v of visits.values()) (perUserVisitMsgs.get(v.user) ?? perUserVisitMsgs.set(v.user, []).get(v.user)!).push(v.msgs);
  const active = [...perUserVisitMsgs.keys()];
  return {
    never_chat: active.filter((u) => msgs[u] === 0).length / active.length,
    over_10_msgs_per_session:
      active.filter((u) => {
        const l = perUserVisitMsgs.get(u)!;
        return l.reduce((a, b) => a + b, 0) / l.length > 10;
      }).length / active.length,
    watch_about_a_minute: active.filter((u) => watchSum[u] / watchN[u] <= 120).length / active.length,
  };
}
