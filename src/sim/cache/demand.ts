/**
 * Edge-cache demand from the Twitch sample (`$EDGEPLAY_DATA/live/twitch100k_sample_train.csv`, README
 * there): each row (a user seen in a channel's chat list at a 10-minute poll) becomes a viewing session at
 * one edge that fetches the HLS segments of what it watches, one every `segmentS` seconds.
 *
 * What the data gives: who watches which channel when — channel popularity (Zipf-like), its daily cycle
 * and flash crowds. What it does not give, and is assumed here (every value in DEMAND_DEFAULTS):
 *  - the watch duration (the sample dropped stop times): lognormal around the population simulator's
 *    stayer median (src/sim/viewers/population.ts), at least long enough to reach the poll that saw it,
 *    cut at the user's next row (one stream at a time);
 *  - live or VOD: the sample records live chat presence only. A share `vodShare` of sessions watch a past
 *    broadcast of the same channel instead (one of its last `vodMaxAgeDays` days with rows, the newest most
 *    likely), from the start with probability `vodFromStart`, else from a random point;
 *  - the rendition: one per session from a ladder (Twitch-like bitrates, most viewers on the top rungs);
 *  - segment sizes: bitrate × duration × a lognormal VBR factor per segment (the same scene complexity in
 *    every rendition).
 * Live viewers of a channel fetch the same segment (the live edge) at about the same time; VOD viewers
 * fetch the broadcast's segments from their own starting point.
 */
import { mulberry32 } from '../../core/random.js';
import type { ObservedRow } from '../viewers/stats.js';

export const SLOT_S = 600;
export const DAY_S = 86400;

export interface DemandParams {
  /**
   * viewers per row: the sample's users were drawn from a population ~50× larger (README); each row is
   * replayed by this many viewers, each with its own join time in the poll interval, watch duration,
   * rendition and live/VOD choice
   */
  scale: number;
  /** seconds of content per object (an HLS segment) */
  segmentS: number;
  /** share of sessions that watch a past broadcast (VOD) instead of the live channel */
  vodShare: number;
  /** a VOD is one of the channel's broadcasts of the last this many days; newer ones more likely (×vodAgeDecay per day) */
  vodMaxAgeDays: number;
  vodAgeDecay: number;
  /** probability a VOD session starts at the beginning of the broadcast */
  vodFromStart: number;
  /** watch duration: lognormal median (s) and sigma of its log; capped at maxWatchS */
  watchMedianS: number;
  watchSigma: number;
  maxWatchS: number;
  /** rendition ladder (Mb/s) and the share of sessions on each rung */
  ladderMbps: number[];
  ladderShare: number[];
  /** sigma of the log of the per-segment VBR factor */
  vbrSigma: number;
  seed: number;
}

export const DEMAND_DEFAULTS: DemandParams = {
  scale: 10, // assumed: an edge serving ten times the sample's users
  segmentS: 60, // assumed: a simulated object is a minute of one rendition (HLS segments of 2–6 s in groups of ~15; a simulation-speed choice)
  vodShare: 0.3, // assumed: no VOD data in the sample
  vodMaxAgeDays: 7, // assumed: Twitch keeps past broadcasts 7 days for most channels
  vodAgeDecay: 0.5,
  vodFromStart: 0.6,
  watchMedianS: 1800, // population.ts stayerWatchMedianS (fitted so most watches span several polls)
  watchSigma: 0.8, // population.ts watchSigma
  maxWatchS: 6 * 3600,
  ladderMbps: [0.6, 1.5, 3, 6], // Twitch-like 360p30 … 1080p60
  ladderShare: [0.05, 0.15, 0.3, 0.5], // assumed: most viewers on the two top rungs
  vbrSigma: 0.3,
  seed: 1,
};

/** A viewing session: `kind` live (stream = channel) or vod (stream = a past broadcast). */
export interface Session {
  user: number;
  channel: number;
  start: number;
  duration: number;
  kind: 'live' | 'vod';
  /** stream id: live = channel index, vod = channels + broadcast index */
  stream: number;
  rendition: number;
  /** vod: first segment index in the broadcast */
  firstIndex: number;
}

/** Requests of a time range, sorted by time (typed arrays of equal length n). */
export interface Requests {
  n: number;
  /** seconds since the start of the sample */
  t: Float64Array;
  /** object id, dense within one `requests` call (the same object has the same id within the call) */
  key: Int32Array;
  bytes: Float64Array;
  /** the content (stream) the object belongs to: the unit whose popularity drifts */
  group: Int32Array;
}

const IDX_BITS = 2 ** 22;

export interface Demand {
  params: DemandParams;
  sessions: Session[];
  channels: number;
  broadcasts: number;
  /** days covered by the rows (0 … days − 1) */
  days: number;
  /** requests with start ≤ t < end (seconds); object ids are consistent within one call only */
  requests(start: number, end: number): Requests;
}

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** a deterministic VBR factor per (stream, segment index): lognormal with median 1 */
function vbr(stream: number, idx: number, sigma: number): number {
  let h = Math.imul(stream ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(idx + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 13;
  return Math.exp(sigma * normal(mulberry32(h)));
}

/**
 * Build the sessions of every row (seeded). Throws on empty input or inconsistent parameters.
 * @param rows Twitch sample rows (loadTwitchRows)
 */
export function buildDemand(rows: ObservedRow[], params: Partial<DemandParams> = {}): Demand {
  const p: DemandParams = { ...DEMAND_DEFAULTS, ...params };
  if (!rows.length) throw new Error('no Twitch rows');
  if (p.ladderMbps.length !== p.ladderShare.length || p.ladderMbps.length > 8)
    throw new Error('ladderMbps and ladderShare: same length, ≤ 8');
  if (!(p.segmentS > 0)) throw new Error('segmentS must be > 0');
  const rng = mulberry32(p.seed * 2654435761);
  const chIds = new Map<string, number>(),
    userIds = new Map<string, number>();
  const rs = rows
    .map((r) => ({
      user: userIds.get(String(r.user)) ?? userIds.set(String(r.user), userIds.size).get(String(r.user))!,
      channel: chIds.get(String(r.channel)) ?? chIds.set(String(r.channel), chIds.size).get(String(r.channel))!,
      slot: r.slot,
    }))
    .sort((a, b) => a.slot - b.slot || a.user - b.user || a.channel - b.channel);
  const C = chIds.size;
  // broadcasts: (channel, day) with rows; span from the first to the last poll that saw the channel that day
  const bIndex = new Map<number, number>();
  const bSpan: Array<{ channel: number; day: number; start: number; end: number }> = [];
  for (const r of rs) {
    const day = Math.floor(r.slot / 144);
    const k = r.channel * 100000 + day;
    let b = bIndex.get(k);
    if (b === undefined) {
      b = bSpan.length;
      bIndex.set(k, b);
      bSpan.push({ channel: r.channel, day, start: (r.slot - 1) * SLOT_S, end: r.slot * SLOT_S });
    }
    bSpan[b].end = Math.max(bSpan[b].end, (r.slot + 1) * SLOT_S);
  }
  const daysOf = new Map<number, number[]>();
  for (const [i, b] of bSpan.entries()) (daysOf.get(b.channel) ?? daysOf.set(b.channel, []).get(b.channel)!).push(i);
  // next row of the same user (one stream at a time)
  const nextOfUser = new Map<number, number>();
  const nextStart = new Float64Array(rs.length).fill(Infinity);
  const start = new Float64Array(rs.length);
  for (let i = 0; i < rs.length; i++) start[i] = (rs[i].slot - rng()) * SLOT_S; // joined within the 10 min before the poll
  for (let i = rs.length - 1; i >= 0; i--) {
    const j = nextOfUser.get(rs[i].user);
    if (j !== undefined) nextStart[i] = start[j];
    nextOfUser.set(rs[i].user, i);
  }
  const cum: number[] = [];
  for (const sh of p.ladderShare) cum.push((cum[cum.length - 1] ?? 0) + sh);
  const sessions: Session[] = [];
  for (let i = 0; i < rs.length; i++)
    for (let clone = 0; clone < p.scale; clone++) {
      const r = rs[i];
      // the row's own join time for its first viewer; the others join anywhere in the poll interval
      const st = clone === 0 ? start[i] : (r.slot - rng()) * SLOT_S;
      const minD = r.slot * SLOT_S - st + 30;
      let d = Math.min(p.maxWatchS, Math.max(minD, p.watchMedianS * Math.exp(p.watchSigma * normal(rng))));
      if (nextStart[i] > st) d = Math.min(d, nextStart[i] - st);
      const u = rng() * cum[cum.length - 1];
      const rendition = Math.max(
        0,
        cum.findIndex((c) => u < c),
      );
      const day = Math.floor(r.slot / 144);
      let kind: 'live' | 'vod' = 'live',
        stream = r.channel,
        firstIndex = 0;
      if (rng() < p.vodShare) {
        const past = (daysOf.get(r.channel) ?? []).filter((b) => bSpan[b].day < day && bSpan[b].day >= day - p.vodMaxAgeDays);
        if (past.length) {
          // newest first, weight decay^(age − 1)
          let z = 0;
          const w = past.map((b) => (z += p.vodAgeDecay ** (day - bSpan[b].day - 1)));
          const x = rng() * z;
          const b =
            past[
              Math.max(
                0,
                w.findIndex((c) => x < c),
              )
            ];
          const len = bSpan[b].end - bSpan[b].start;
          kind = 'vod';
          stream = C + b;
          const off = rng() < p.vodFromStart ? 0 : rng() * Math.max(0, len - d);
          firstIndex = Math.floor(off / p.segmentS);
          d = Math.min(d, Math.max(p.segmentS, len - off)); // a VOD ends with its broadcast
        }
      }
      sessions.push({ user: r.user * p.scale + clone, channel: r.channel, start: st, duration: d, kind, stream, rendition, firstIndex });
    }
  sessions.sort((a, b) => a.start - b.start);
  const starts = Float64Array.from(sessions, (s) => s.start);
  const days = Math.floor(rs[rs.length - 1].slot / 144) + 1;
  const bytesPerSeg = p.ladderMbps.map((m) => (m * 1e6 * p.segmentS) / 8);

  function requests(a: number, b: number): Requests {
    // sessions that may overlap [a, b): started before b, and no earlier than maxWatchS before a
    let lo = 0,
      hi = starts.length;
    const from = a - p.maxWatchS;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (starts[m] < from) lo = m + 1;
      else hi = m;
    }
    // count first, then fill typed arrays; objects get dense ids and their size once
    let n = 0;
    for (let i = lo; i < sessions.length && sessions[i].start < b; i++) {
      const s = sessions[i];
      const end = Math.min(b, s.start + s.duration);
      const k0 = Math.max(0, Math.ceil((a - s.start) / p.segmentS));
      const k1 = Math.ceil((end - s.start) / p.segmentS);
      if (k1 > k0) n += k1 - k0;
    }
    const ids = new Map<number, number>();
    const sizes: number[] = [];
    const t = new Float64Array(n),
      key = new Int32Array(n),
      group = new Int32Array(n);
    let j = 0;
    for (let i = lo; i < sessions.length && sessions[i].start < b; i++) {
      const s = sessions[i];
      const end = Math.min(b, s.start + s.duration);
      const k0 = Math.max(0, Math.ceil((a - s.start) / p.segmentS));
      for (let k = k0; ; k++) {
        const at = s.start + k * p.segmentS;
        if (at >= end) break;
        const idx = s.kind === 'live' ? Math.floor(at / p.segmentS) : s.firstIndex + k;
        const packed = (s.stream * 8 + s.rendition) * IDX_BITS + idx;
        let id = ids.get(packed);
        if (id === undefined) {
          ids.set(packed, (id = sizes.length));
          sizes.push(Math.round(bytesPerSeg[s.rendition] * vbr(s.stream, idx, p.vbrSigma)));
        }
        t[j] = at;
        key[j] = id;
        group[j++] = s.stream;
      }
    }
    // order by time (0.1 s), ties in generation order: one numeric sort of packed (time, position)
    const span = 2 ** Math.ceil(Math.log2(n + 1));
    if (((b - a) * 10 + 1) * span > Number.MAX_SAFE_INTEGER) throw new Error('requests: range too long for one call');
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = Math.round((t[i] - a) * 10) * span + i;
    order.sort();
    const out: Requests = { n, t: new Float64Array(n), key: new Int32Array(n), bytes: new Float64Array(n), group: new Int32Array(n) };
    for (let i = 0; i < n; i++) {
      const o = order[i] % span;
      out.t[i] = t[o];
      out.key[i] = key[o];
      out.bytes[i] = sizes[key[o]];
      out.group[i] = group[o];
    }
    return out;
  }
  return { params: p, sessions, channels: C, broadcasts: bSpan.length, days, requests };
}

/**
 * Offline next-use times for the Belady bound: for each request i, the time of the next request of the
 * same key within the arrays (Infinity when none).
 */
export function nextUse(r: Requests): Float64Array {
  const next = new Float64Array(r.n);
  const seen = new Float64Array(r.n).fill(Infinity); // ids are dense: < n
  for (let i = r.n - 1; i >= 0; i--) {
    next[i] = seen[r.key[i]];
    seen[r.key[i]] = r.t[i];
  }
  return next;
}
