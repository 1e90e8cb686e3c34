/**
 * The real-data check of the profiler: on the Twitch sample (no chat, no stop times), predict the channels
 * per visit N_u of each visit from the viewer's earlier visits. Visits are a user's polled rows whose
 * start slots are at most one slot apart. Rows use the profile layout (requests.ts) with what exists:
 *   "I" slots ← the viewer's past k visits' channel counts, "T" slots ← their lengths (slots);
 *   aggregates ← the viewer's mean N and mean length, the first channel's mean N and length over all
 *   earlier visits of all users, and the viewer's mean N again (N_u). Target: (0, 0, N).
 * Dev users: sha256("profile-dev:" + user) mod 5 == 0 (a fifth of the train file's users).
 */
import { createHash } from 'node:crypto';
import { K_RECORDS, REQUEST_FEATURES, type RequestData } from '../../profile/features.js';
import type { ObservedRow } from './stats.js';

export const isDevUser = (user: string | number) => createHash('sha256').update(`profile-dev:${user}`).digest()[0] % 5 === 0;

export function twitchVisitRequests(rows: ObservedRow[]): RequestData & { dev: Uint8Array } {
  const byUser = new Map<string, ObservedRow[]>();
  for (const r of rows) (byUser.get(String(r.user)) ?? byUser.set(String(r.user), []).get(String(r.user))!).push(r);
  const visits: Array<{ user: string; start: number; len: number; n: number; first: string }> = [];
  for (const [u, l] of byUser) {
    l.sort((a, b) => a.slot - b.slot);
    let cur = [l[0]];
    const flush = () =>
      visits.push({
        user: u,
        start: cur[0].slot,
        len: cur[cur.length - 1].slot - cur[0].slot + 1,
        n: new Set(cur.map((r) => String(r.channel))).size,
        first: String(cur[0].channel),
      });
    for (let i = 1; i < l.length; i++) {
      if (l[i].slot - l[i - 1].slot <= 1) cur.push(l[i]);
      else {
        flush();
        cur = [l[i]];
      }
    }
    flush();
  }
  visits.sort((a, b) => a.start - b.start);
  const n = visits.length;
  const x = new Float32Array(n * REQUEST_FEATURES),
    y = new Float32Array(n * 3),
    t = new Float64Array(n),
    user = new Int32Array(n),
    dev = new Uint8Array(n);
  const past = new Map<string, Array<[number, number]>>();
  const ch = new Map<string, { n: number; len: number; c: number }>();
  const ids = new Map<string, number>();
  // channel aggregates only from visits that have ended before this one starts
  const ends = visits.map((v, i) => [v.start + v.len, i] as [number, number]).sort((a, b) => a[0] - b[0]);
  let ei = 0;
  visits.forEach((v, r) => {
    while (ei < ends.length && ends[ei][0] <= v.start) {
      const e = visits[ends[ei++][1]];
      const a = ch.get(e.first) ?? ch.set(e.first, { n: 0, len: 0, c: 0 }).get(e.first)!;
      a.n += e.n;
      a.len += e.len;
      a.c++;
    }
    const h = past.get(v.user) ?? [];
    const o = r * REQUEST_FEATURES;
    for (let j = 0; j < K_RECORDS; j++) {
      const rec = h[h.length - K_RECORDS + j];
      x[o + j] = rec ? rec[0] : 0;
      x[o + K_RECORDS + j] = rec ? rec[1] : 0;
    }
    const mN = h.length ? h.reduce((a, b) => a + b[0], 0) / h.length : 0;
    const mL = h.length ? h.reduce((a, b) => a + b[1], 0) / h.length : 0;
    const ca = ch.get(v.first);
    x[o + 2 * K_RECORDS] = mN;
    x[o + 2 * K_RECORDS + 1] = ca ? ca.n / ca.c : 0;
    x[o + 2 * K_RECORDS + 2] = mL;
    x[o + 2 * K_RECORDS + 3] = ca ? ca.len / ca.c : 0;
    x[o + 2 * K_RECORDS + 4] = mN;
    y[r * 3 + 2] = v.n;
    t[r] = v.start;
    user[r] = ids.get(v.user) ?? ids.set(v.user, ids.size).get(v.user)!;
    dev[r] = isDevUser(v.user) ? 1 : 0;
    h.push([v.n, v.len]);
    past.set(v.user, h); // the whole history: means over all earlier visits, the last k as records
  });
  return { x, y, t, user, n, dev };
}
