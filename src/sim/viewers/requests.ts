/**
 * ELCast's profiling data: one row per viewer request (a viewer u joins channel h at time t) with the
 * features of the paper, computed only from what happened before t, and the three targets of that
 * request: interaction frequency I_u (messages/hour over at least a minute, `interactionRate`), watch duration D_u (hours) and channels watched in
 * this visit N_u.
 *   I_u,h  the viewer's past k records on this channel (messages/hour), newest last
 *   T_u,h  the same for watch durations (hours)
 *   I_u,all, T_u,all  the viewer's means over all channels; I_all,h, T_all,h  all viewers' means on h
 *   N_u    the viewer's mean channels per finished visit
 */
import type { Watch } from './population.js';
import { interactionRate } from '../../core/preference.js';
import { K_RECORDS, REQUEST_FEATURES, type RequestData } from '../../profile/features.js';

interface Acc {
  sumI: number;
  sumT: number;
  n: number;
}

export function buildRequests(watches: Watch[]): RequestData {
  const n = watches.length;
  const x = new Float32Array(n * REQUEST_FEATURES);
  const y = new Float32Array(n * 3);
  const t = new Float64Array(n);
  const user = new Int32Array(n);
  const visitSize = new Map<number, number>();
  for (const w of watches) visitSize.set(w.visit, (visitSize.get(w.visit) ?? 0) + 1);
  const userCh = new Map<string, Array<[number, number]>>();
  const userAll = new Map<number, Acc>();
  const chAll = new Map<number, Acc>();
  const userVisits = new Map<number, { visits: number; channels: number; open: Map<number, number> }>();
  // channel aggregates count a watch once it has ended
  let pi = 0;
  const sorted = [...watches].sort((a, b) => a.start - b.start);
  const ends = sorted.map((w) => [w.start + w.duration, w] as [number, Watch]).sort((a, b) => a[0] - b[0]);
  for (let r = 0; r < n; r++) {
    const w = sorted[r];
    while (pi < ends.length && ends[pi][0] <= w.start) {
      const e = ends[pi++][1];
      const a = chAll.get(e.channel) ?? chAll.set(e.channel, { sumI: 0, sumT: 0, n: 0 }).get(e.channel)!;
      a.sumI += interactionRate(e.msgs, e.duration / 3600);
      a.sumT += e.duration / 3600;
      a.n++;
    }
    const key = `${w.user}/${w.channel}`;
    const hist = userCh.get(key) ?? [];
    const o = r * REQUEST_FEATURES;
    for (let j = 0; j < K_RECORDS; j++) {
      const rec = hist[hist.length - K_RECORDS + j];
      x[o + j] = rec ? rec[0] : 0;
      x[o + K_RECORDS + j] = rec ? rec[1] : 0;
    }
    const ua = userAll.get(w.user);
    const ca = chAll.get(w.channel);
    const uv = userVisits.get(w.user) ?? userVisits.set(w.user, { visits: 0, channels: 0, open: new Map() }).get(w.user)!;
    x[o + 2 * K_RECORDS] = ua ? ua.sumI / ua.n : 0;
    x[o + 2 * K_RECORDS + 1] = ca ? ca.sumI / ca.n : 0;
    x[o + 2 * K_RECORDS + 2] = ua ? ua.sumT / ua.n : 0;
    x[o + 2 * K_RECORDS + 3] = ca ? ca.sumT / ca.n : 0;
    x[o + 2 * K_RECORDS + 4] = uv.visits ? uv.channels / uv.visits : 0;
    const D = w.duration / 3600,
      I = interactionRate(w.msgs, D);
    y[r * 3] = I;
    y[r * 3 + 1] = D;
    y[r * 3 + 2] = visitSize.get(w.visit)!;
    t[r] = w.start;
    user[r] = w.user;
    // the viewer's own history: this watch is over before their next request
    hist.push([I, D]);
    if (hist.length > K_RECORDS) hist.shift();
    userCh.set(key, hist);
    const u2 = ua ?? userAll.set(w.user, { sumI: 0, sumT: 0, n: 0 }).get(w.user)!;
    u2.sumI += I;
    u2.sumT += D;
    u2.n++;
    // a visit counts for N_u once its last watch is seen
    const seen = (uv.open.get(w.visit) ?? 0) + 1;
    if (seen === visitSize.get(w.visit)) {
      uv.visits++;
      uv.channels += seen;
      uv.open.delete(w.visit);
    } else uv.open.set(w.visit, seen);
  }
  return { x, y, t, user, n };
}

/** Split by time: requests before the `frac` quantile of time train, the rest test (as ELCast). */
export function splitByTime(d: RequestData, frac = 0.8): { train: number[]; test: number[]; cut: number } {
  const tmin = d.t[0],
    tmax = d.t[d.n - 1];
  const cut = tmin + frac * (tmax - tmin);
  const train: number[] = [],
    test: number[] = [];
  for (let i = 0; i < d.n; i++) (d.t[i] < cut ? train : test).push(i);
  return { train, test, cut };
}
