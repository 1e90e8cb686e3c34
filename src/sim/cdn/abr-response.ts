/**
 * How a live viewer's playback responds to its CDN's congestion, measured with the ABR simulator
 * (src/sim/abr: the Pensieve step semantics, `stepFrom`) and a real ABR policy (RobustMPC, src/abr).
 *
 * A viewer's throughput is its access trace (one of the shared traces, random start) times e, the factor
 * its CDN gives it: e = path quality × min(1, capacity / viewers) (src/sim/cdn/mechanistic.ts). Viewers
 * are simulated one by one: they join at a random time in a minute (first chunk at the default level, its
 * download time is the startup latency), then play a live stream (the Pensieve video looped, so the chunk
 * sizes are real; the buffer is capped at the live edge, LIVE_BUFFER_S, instead of Pensieve's 60 s) while e
 * changes from minute to minute (kept with probability 0.7, else redrawn from the grid). At each minute
 * boundary the viewer's state is (buffer bucket, level of the last chunk); each minute yields a sample
 * (state at its start, e, state at its end, stall seconds, stall count).
 *
 * The samples become a Markov response per e in E_GRID: transition probabilities between states, the mean
 * stall time and count per state, and the mean startup latency (the first chunk's download from every
 * session's start at every e), which the mechanistic simulator applies
 * to the distribution of its viewers over states (a fluid model: minutes of simulation cost microseconds).
 * Sparse cells borrow from the bucket's pooled row (shrinkage with ALPHA pseudo-samples).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { DEFAULT_QUALITY, VIDEO_BIT_RATE_KBPS } from '../../core/abr.js';
import { mulberry32 } from '../../core/random.js';
import { RobustMpc } from '../../abr/baselines.js';
import { stepFrom, type SimTrace } from '../abr/env.js';

/** congestion factors at which the response is measured (the simulator interpolates linearly in between) */
export const E_GRID = [0.03, 0.05, 0.07, 0.09, 0.11, 0.14, 0.17, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0] as const;
/** live buffer cap (s): hls.js starts 3 segments (12 s of 4-s segments) behind the live edge */
export const LIVE_BUFFER_S = 12;
/** buffer bucket edges (s): [0,1), [1,2), [2,4), [4,6), [6,8), [8,10), [10, cap] */
export const BUF_EDGES_S = [1, 2, 4, 6, 8, 10] as const;
export const BUCKETS = BUF_EDGES_S.length + 1;
export const LEVELS = VIDEO_BIT_RATE_KBPS.length;
/** viewer states: bucket × level; the joiner pseudo-state is index STATES */
export const STATES = BUCKETS * LEVELS;
export const JOINER = STATES;
const ALPHA = 4;
const MINUTE_MS = 60000;
const CHUNK_S = 4;

export const stateOf = (bufferS: number, level: number): number => {
  let b = 0;
  while (b < BUF_EDGES_S.length && bufferS >= BUF_EDGES_S[b]) b++;
  return b * LEVELS + level;
};

/** The measured response: per e (index into eGrid) and state (0..STATES, the last is the joiner). */
export interface AbrResponse {
  eGrid: number[];
  /** next[e][s * STATES + s'] = P(state s' at the next minute | state s this minute, e) */
  next: Float32Array[];
  /** stallS[e][s]: mean stall seconds in a minute; stallN[e][s]: mean stall count (the joiner row: after its startup) */
  stallS: Float32Array[];
  stallN: Float32Array[];
  /** startupS[e]: mean download time of a joiner's first chunk (s) */
  startupS: Float32Array;
  /** samples per e and state */
  count: Int32Array[];
  /** the stationary state distribution at each e (the "probe" population of a CDN with no viewers) */
  stationary: Float32Array[];
  meta: { traces: number; sessions: number; minutes: number; seed: number; liveBufferS: number };
}

export interface ResponseBuildOptions {
  traces: SimTrace[];
  /** video_size[q][chunk] (bytes), looped */
  videoSizes: number[][];
  sessions?: number;
  minutesPerSession?: number;
  seed?: number;
  /** progress callback every 200 sessions */
  progress?: (done: number, total: number) => void;
}

/** Simulate viewers with RobustMPC under changing congestion and estimate the response (see the file comment). */
export function buildAbrResponse(o: ResponseBuildOptions): AbrResponse {
  if (!o.traces.length) throw new Error('buildAbrResponse: no traces');
  const sessions = o.sessions ?? 2400;
  const minutes = o.minutesPerSession ?? 20;
  const seed = o.seed ?? 1;
  const rng = mulberry32(seed);
  const G = E_GRID.length;
  const S1 = STATES + 1;
  const trans = Array.from({ length: G }, () => new Float64Array(S1 * STATES));
  const sumS = Array.from({ length: G }, () => new Float64Array(S1));
  const sumN = Array.from({ length: G }, () => new Float64Array(S1));
  const cnt = Array.from({ length: G }, () => new Int32Array(S1));
  const stS = new Float64Array(G);
  const stC = new Int32Array(G);
  const sizes = o.videoSizes;
  const nChunks = Math.min(...sizes.map((s) => s.length)) - 1;
  // scaled copies of each trace per e (the chunk's download uses the e of the minute it starts in)
  const scaled = new Map<number, Float64Array[]>();
  const bwFor = (ti: number, g: number) => {
    let a = scaled.get(ti);
    if (!a) scaled.set(ti, (a = E_GRID.map((e) => Float64Array.from(o.traces[ti].bw, (x) => x * e))));
    return a[g];
  };
  for (let sess = 0; sess < sessions; sess++) {
    const ti = Math.floor(rng() * o.traces.length);
    const tr = o.traces[ti];
    let ptr = 1 + Math.floor(rng() * (tr.bw.length - 1));
    let last = tr.time[ptr - 1];
    const chunk0 = Math.floor(rng() * nChunks);
    // the startup latency at every e from this start (a first chunk at the default level, empty buffer)
    for (let h = 0; h < G; h++) {
      stS[h] += stepFrom(tr.time, bwFor(ti, h), ptr, last, 0, sizes[DEFAULT_QUALITY][chunk0], 1, LIVE_BUFFER_S * 1000).delayMs / 1000;
      stC[h]++;
    }
    const eOf: number[] = [];
    let g = Math.floor(rng() * G);
    for (let mi = 0; mi <= minutes; mi++) {
      eOf.push(g);
      if (rng() < 0.3) g = Math.floor(rng() * G);
    }
    playViewer(
      tr.time,
      (mi) => bwFor(ti, eOf[mi]),
      ptr,
      last,
      chunk0,
      rng() * MINUTE_MS,
      minutes,
      sizes,
      (mi, from, to, st, sn) => {
        const gAt = eOf[mi];
        trans[gAt][from * STATES + to]++;
        sumS[gAt][from] += st;
        sumN[gAt][from] += sn;
        cnt[gAt][from]++;
      },
    );
    if (o.progress && (sess + 1) % 200 === 0) o.progress(sess + 1, sessions);
  }
  return finishResponse(trans, sumS, sumN, cnt, stS, stC, { traces: o.traces.length, sessions, minutes, seed, liveBufferS: LIVE_BUFFER_S });
}

/**
 * One live viewer with RobustMPC, from its join at `joinMs` (in minute 0; first chunk at the default level)
 * to the end of minute `minutes − 1`: throughput = the trace's samples from `bwOfMinute(m)` for a chunk
 * that starts in minute m (the trace scaled by that minute's e). At each minute boundary `onMinute` gets
 * the minute, the state at its start (JOINER for the join minute), the state at its end, and the stall
 * seconds and count in it (the startup is not a stall). Returns the startup latency (s).
 */
export function playViewer(
  time: ArrayLike<number>,
  bwOfMinute: (minute: number) => ArrayLike<number>,
  ptr0: number,
  last0: number,
  chunk0: number,
  joinMs: number,
  minutes: number,
  sizes: number[][],
  onMinute: (minute: number, from: number, to: number, stallS: number, stallN: number) => void,
): number {
  const nChunks = Math.min(...sizes.map((v) => v.length)) - 1;
  const ladder = VIDEO_BIT_RATE_KBPS;
  const mpc = new RobustMpc(null, { sizeOf: (q, i) => sizes[q][((i % nChunks) + nChunks) % nChunks] });
  const total = 1e9;
  let ptr = ptr0,
    last = last0,
    t = joinMs,
    chunk = chunk0,
    q = DEFAULT_QUALITY,
    buf = 0,
    minute = 0,
    from = JOINER,
    stallS = 0,
    stallN = 0,
    startup = -1;
  const thr: number[] = [];
  const delays: number[] = [];
  for (;;) {
    const s = stepFrom(
      time,
      bwOfMinute(Math.min(minutes - 1, Math.floor(t / MINUTE_MS))),
      ptr,
      last,
      buf,
      sizes[q][chunk % nChunks],
      1,
      LIVE_BUFFER_S * 1000,
    );
    ptr = s.ptr;
    last = s.last;
    const tEnd = t + s.delayMs + s.sleepMs;
    // close the minutes that ended before this chunk arrived (the buffer drains meanwhile)
    while (tEnd >= (minute + 1) * MINUTE_MS && minute < minutes) {
      const bAt = Math.max(0, buf / 1000 - Math.max(0, (minute + 1) * MINUTE_MS - t) / 1000);
      const to = stateOf(bAt, q);
      onMinute(minute, from, to, stallS, stallN);
      stallS = stallN = 0;
      from = to;
      minute++;
    }
    if (startup < 0) startup = s.delayMs / 1000;
    else if (s.rebufS > 0) {
      stallS += s.rebufS;
      stallN++;
    }
    if (minute >= minutes) return startup;
    buf = s.buf;
    t = tEnd;
    thr.push(sizes[q][chunk % nChunks] / s.delayMs);
    delays.push(s.delayMs);
    if (thr.length > 8) {
      thr.shift();
      delays.shift();
    }
    chunk++;
    q = mpc.decide({
      lastQuality: q,
      bufferS: buf / 1000,
      throughputs: thr,
      delaysMs: delays,
      nextSizes: sizes.map((v) => v[chunk % nChunks]),
      remain: total - chunk,
      nextIndex: chunk,
      totalChunks: total,
      ladderKbps: ladder,
      rebufS: s.rebufS,
    });
  }
}

/**
 * A direct panel (the check of the fluid model): `viewers` viewers join in minute 0 and play through
 * `e.length` minutes at the given congestion factors (any values, not only the grid). Returns per minute
 * the mean stall seconds and stall count per viewer, and the mean startup.
 */
export function simulatePanel(
  traces: SimTrace[],
  sizes: number[][],
  e: number[],
  viewers: number,
  seed = 1,
): { stallS: Float64Array; stallN: Float64Array; startupS: number } {
  const rng = mulberry32(seed);
  const M = e.length;
  const stallS = new Float64Array(M),
    stallN = new Float64Array(M);
  const nChunks = Math.min(...sizes.map((v) => v.length)) - 1;
  let startup = 0;
  for (let v = 0; v < viewers; v++) {
    const tr = traces[Math.floor(rng() * traces.length)];
    const ptr = 1 + Math.floor(rng() * (tr.bw.length - 1));
    const scaled = e.map((x) => Float64Array.from(tr.bw, (b) => b * x));
    startup += playViewer(
      tr.time,
      (m) => scaled[m],
      ptr,
      tr.time[ptr - 1],
      Math.floor(rng() * nChunks),
      rng() * MINUTE_MS,
      M,
      sizes,
      (m, _f, _t, st, sn) => {
        stallS[m] += st / viewers;
        stallN[m] += sn / viewers;
      },
    );
  }
  return { stallS, stallN, startupS: startup / viewers };
}

function finishResponse(
  trans: Float64Array[],
  sumS: Float64Array[],
  sumN: Float64Array[],
  cnt: Int32Array[],
  stS: Float64Array,
  stC: Int32Array,
  meta: AbrResponse['meta'],
): AbrResponse {
  const G = E_GRID.length;
  const S1 = STATES + 1;
  const next: Float32Array[] = [];
  const stallS: Float32Array[] = [];
  const stallN: Float32Array[] = [];
  const startupS = new Float32Array(G);
  for (let g = 0; g < G; g++) {
    // pooled rows: per buffer bucket over levels, and over everything (the priors of sparse cells)
    const all = new Float64Array(STATES);
    let allN = 0,
      allS = 0,
      allC = 0;
    for (let s = 0; s < STATES; s++) {
      for (let u = 0; u < STATES; u++) all[u] += trans[g][s * STATES + u];
      allN += cnt[g][s];
      allS += sumS[g][s];
      allC += sumN[g][s];
    }
    const nx = new Float32Array(S1 * STATES);
    const ss = new Float32Array(S1);
    const sn = new Float32Array(S1);
    const prior = (b: number) => {
      const row = new Float64Array(STATES);
      let n = 0,
        s1 = 0,
        c1 = 0;
      for (let l = 0; l < LEVELS; l++) {
        const s = b * LEVELS + l;
        for (let u = 0; u < STATES; u++) row[u] += trans[g][s * STATES + u];
        n += cnt[g][s];
        s1 += sumS[g][s];
        c1 += sumN[g][s];
      }
      // shrink the pooled bucket row towards the global row too
      for (let u = 0; u < STATES; u++) row[u] = (row[u] + (ALPHA * all[u]) / Math.max(allN, 1)) / (n + ALPHA);
      return {
        row,
        stall: (s1 + (ALPHA * allS) / Math.max(allN, 1)) / (n + ALPHA),
        num: (c1 + (ALPHA * allC) / Math.max(allN, 1)) / (n + ALPHA),
      };
    };
    for (let s = 0; s < S1; s++) {
      const p = s < STATES ? prior(Math.floor(s / LEVELS)) : prior(0);
      const n = cnt[g][s];
      let z = 0;
      for (let u = 0; u < STATES; u++) z += nx[s * STATES + u] = (trans[g][s * STATES + u] + ALPHA * p.row[u]) / (n + ALPHA);
      for (let u = 0; u < STATES; u++) nx[s * STATES + u] /= z;
      ss[s] = (sumS[g][s] + ALPHA * p.stall) / (n + ALPHA);
      sn[s] = (sumN[g][s] + ALPHA * p.num) / (n + ALPHA);
    }
    next.push(nx);
    stallS.push(ss);
    stallN.push(sn);
    startupS[g] = stC[g] ? stS[g] / stC[g] : NaN;
  }
  // startup at an e never sampled: nearest sampled e scaled by its throughput ratio
  for (let g = 0; g < G; g++)
    if (!Number.isFinite(startupS[g])) {
      let best = -1;
      for (let h = 0; h < G; h++) if (Number.isFinite(startupS[h]) && (best < 0 || Math.abs(h - g) < Math.abs(best - g))) best = h;
      startupS[g] = best < 0 ? 0 : (startupS[best] * E_GRID[best]) / E_GRID[g];
    }
  const stationary = next.map((nx) => stationaryOf(nx));
  return { eGrid: [...E_GRID], next, stallS, stallN, startupS, count: cnt, stationary, meta };
}

/** stationary distribution of the state chain (power iteration from uniform) */
function stationaryOf(nx: Float32Array): Float32Array {
  let p = new Float64Array(STATES).fill(1 / STATES);
  for (let it = 0; it < 500; it++) {
    const q = new Float64Array(STATES);
    for (let s = 0; s < STATES; s++) {
      const ps = p[s];
      if (ps === 0) continue;
      for (let u = 0; u < STATES; u++) q[u] += ps * nx[s * STATES + u];
    }
    p = q;
  }
  return Float32Array.from(p);
}

/**
 * Viewers differ persistently in their access network (a viewer on a slow link stays slow), which a fluid
 * over playback states alone forgets; so the response is measured per class of traces (the traces split
 * into `n` classes by mean throughput, equal counts) and the simulator keeps one distribution per class.
 */
export interface ResponseMix {
  classes: AbrResponse[];
  /** share of viewers in each class (the classes' shares of the traces) */
  weights: number[];
}
/** traces split into n classes of (nearly) equal size by mean throughput, slowest first */
export function traceClasses(traces: SimTrace[], n = 3): SimTrace[][] {
  const mean = (t: SimTrace) => {
    let s = 0;
    for (let k = 1; k < t.bw.length; k++) s += t.bw[k];
    return s / Math.max(1, t.bw.length - 1);
  };
  const sorted = traces.slice().sort((a, b) => mean(a) - mean(b));
  return Array.from({ length: n }, (_, c) => sorted.slice(Math.floor((c * sorted.length) / n), Math.floor(((c + 1) * sorted.length) / n)));
}
/** a single response as a mix of one class */
export const mixOf = (r: AbrResponse): ResponseMix => ({ classes: [r], weights: [1] });

// ---- serialisation and the on-disk cache (Node) ----

interface ResponseJson {
  eGrid: number[];
  next: number[][];
  stallS: number[][];
  stallN: number[][];
  startupS: number[];
  count: number[][];
  stationary: number[][];
  meta: AbrResponse['meta'];
}
export function responseToJson(r: AbrResponse): ResponseJson {
  const a = (x: ArrayLike<number>) => Array.from(x, (v) => Number(v.toPrecision(6)));
  return {
    eGrid: r.eGrid,
    next: r.next.map(a),
    stallS: r.stallS.map(a),
    stallN: r.stallN.map(a),
    startupS: a(r.startupS),
    count: r.count.map((c) => Array.from(c)),
    stationary: r.stationary.map(a),
    meta: r.meta,
  };
}
export function responseFromJson(j: ResponseJson): AbrResponse {
  if (j.eGrid.length !== E_GRID.length || j.next[0].length !== (STATES + 1) * STATES)
    throw new Error('ABR response: shape does not match this version');
  return {
    eGrid: j.eGrid,
    next: j.next.map((x) => Float32Array.from(x)),
    stallS: j.stallS.map((x) => Float32Array.from(x)),
    stallN: j.stallN.map((x) => Float32Array.from(x)),
    startupS: Float32Array.from(j.startupS),
    count: j.count.map((x) => Int32Array.from(x)),
    stationary: j.stationary.map((x) => Float32Array.from(x)),
    meta: j.meta,
  };
}

/**
 * The response for a trace set, built once and cached as JSON under `cacheDir` (keyed by the traces' names
 * and lengths, the video and the options). Building takes about a minute per 2,400 sessions.
 */
export function cachedAbrResponse(cacheDir: string, o: ResponseBuildOptions & { label: string }): AbrResponse {
  const h = createHash('sha256');
  h.update(JSON.stringify([o.sessions ?? 2400, o.minutesPerSession ?? 20, o.seed ?? 1, E_GRID, BUF_EDGES_S, LIVE_BUFFER_S, 2]));
  for (const t of o.traces) h.update(`${t.name}:${t.bw.length}:${t.bw[1]};`);
  h.update(JSON.stringify(o.videoSizes.map((s) => s.slice(0, 4))));
  const file = `${cacheDir}/cdn-abr-${o.label}-${h.digest('hex').slice(0, 12)}.json`;
  if (existsSync(file)) return responseFromJson(JSON.parse(readFileSync(file, 'utf8')));
  const r = buildAbrResponse(o);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(responseToJson(r)));
  return r;
}
