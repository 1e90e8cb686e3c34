/**
 * An ABR simulator with hls.js' semantics for our VOD stream (the "hls" mode next to Pensieve's `env.ts`), built to
 * predict what `npm run bench:browser-abr` measures in real playback:
 * - the link is the dev server's `ShapedLink` (demo/shaper.ts): trace time = seconds since the session's first
 *   request, wrapping over the trace's span (core/trace.ts `rateAt`), every request waits the RTT (80 ms) before its
 *   first byte, bytes at the trace rate with no payload factor, idle time earns no credit;
 * - hls.js 1.7 requests the next fragment right after the previous one is buffered, unless the forward buffer is at
 *   its target `min(max(8 × maxBufferSize / BANDWIDTH, maxBufferLength), maxMaxBufferLength)` (60 MB, 30 s, 600 s:
 *   65 s at our top level, 600 s at the lowest), checked every 100 ms tick;
 * - the decision for fragment n+1 is taken when fragment n has loaded, with the buffer as the controller builds it
 *   (forward buffer + the fragment's 4 s), the throughput and download-time history (bytes/ms incl. the RTT), and
 *   next sizes predicted from the downloaded ones (`RatioEwmaPredictor` over the levels' AVERAGE-BANDWIDTH) — the
 *   observation `createAbrController` sends the worker; a level switch loads the new level's init segment first
 *   (one more RTT);
 * - hls.js' emergency abort (`AbrController._abandonRulesCheck`): after half a fragment's duration of loading, if the
 *   rest will not arrive before the buffer runs out and a lower level's whole fragment would, the load is abandoned
 *   (its bytes wasted) and the fragment is fetched again at that level;
 * - on a switch up, hls.js fetches the fragment it has just buffered once more, at the new level, and replaces it
 *   (measured in every real run of bench:browser-abr: nearly every up-switch does it, a down-switch seldom — the
 *   fragment lookup at the buffer end picks the same sequence number on the new level); the controller is asked
 *   again after that load;
 * - playback starts when the first fragment is appended; a stall lasts until the next append; QoE_lin is scored as
 *   the bench page scores it (nominal ladder, chunks 1..n−1, real stall seconds).
 * Segment sizes are our stream's (`.cache/streams/vod/video_size_q`, VBR, CV 0.42 at the top) unless given.
 * Pure TypeScript, no I/O.
 */
import { qoeLin, type AbrObservation, type AbrPolicy } from '../../core/abr.js';
import { RatioEwmaPredictor, type ChunkSizePredictor } from '../../abr/chunk-size.js';
import { abandonLevel, type AbandonRule } from '../../abr/abandon.js';
import type { SimTrace } from './env.js';

/** Our VOD ladder as hls.js reads it from the multivariant playlist (demo/streams.ts): BANDWIDTH and AVERAGE-BANDWIDTH, b/s. */
export const HLS_VOD_LEVELS = {
  nominalKbps: [300, 750, 1200, 1850, 2850, 4300],
  peakBps: [569700, 1314700, 2107746, 3170392, 4900780, 7413026],
  averageBps: [363265, 798422, 1236788, 1868632, 2826671, 4248935],
};

export interface HlsVodOptions {
  /** bytes per fragment per level (`sizes[q][i]`) */
  sizes: number[][];
  /** fragments played (default all of `sizes[0]`) */
  chunks?: number;
  /** fragment duration, s (default 4) */
  fragS?: number;
  /** RTT before the first byte of every request, ms (default 80, the dev server's) */
  rttMs?: number;
  /** hls.js config (defaults: the bench page's 30 s, hls.js' 60 MB and 600 s) */
  maxBufferLength?: number;
  maxBufferSize?: number;
  maxMaxBufferLength?: number;
  /** level of the first fragment (hls.js' start level on our ladder: 0) */
  startLevel?: number;
  /** ms from the session's first request (the master playlist) to the first fragment request (default 150) */
  startMs?: number;
  /** ms from a fragment's last byte to its append (parse + transmux + append; default 30) */
  appendMs?: number;
  /** ms from an append to the next request (hls.js' tick and the controller; default 40) */
  tickMs?: number;
  /** re-fetch the just-buffered fragment at the new level on a switch up (default true, see above) */
  redownloadOnUpSwitch?: boolean;
  /**
   * which switches re-fetch the just-buffered fragment: 'up' (default: every switch up, as `redownloadOnUpSwitch`
   * says) or 'measured', the rule read off the 70 real runs' load logs (bench/results/browser-abr.json): the first
   * fragment is never fetched again (0 of 18 switches after it); a switch to a level whose playlist hls.js loads for
   * the first time re-fetches (189 of 191 after the first fragment); a switch back to a level already played
   * re-fetches on `revisitShare` of them (196 of 440: 0.45, up and down alike), spread evenly by an accumulator so
   * the simulator stays deterministic; 'none': no switch re-fetches (the player runs `createStreamController`,
   * src/abr/hls-stream-controller.ts)
   */
  refetch?: 'up' | 'measured' | 'none';
  /** with `refetch: 'measured'`: the share of switches to an already played level that re-fetch (default 0.45) */
  revisitShare?: number;
  /** hls.js' emergency abort (default true) */
  abort?: boolean;
  /**
   * the controller's own abandonment (`EdgeplayAbrOptions.abandon`, src/abr/abandon.ts), checked every 100 ms of a
   * load next to hls.js' rule (the earlier one fires); default null (off)
   */
  abandonRule?: AbandonRule | null;
  /** levels' BANDWIDTH and AVERAGE-BANDWIDTH, b/s (default our ladder's) and the nominal ladder for QoE, kbps */
  peakBps?: number[];
  averageBps?: number[];
  nominalKbps?: number[];
  /** throughput samples kept for the policy (default 16, as the controller) */
  history?: number;
  predictor?: (ladderKbps: readonly number[]) => ChunkSizePredictor;
}

/** One fragment as it was loaded. */
export interface HlsVodLoad {
  index: number;
  level: number;
  bytes: number;
  startMs: number;
  endMs: number;
  /** forward buffer at the load's end (or abort), before its fragment is appended, s */
  bufferS: number;
  /** abandoned by the emergency rule (its bytes wasted) */
  aborted: boolean;
}

export interface HlsVodResult {
  trace: string;
  /** level played per fragment */
  levels: number[];
  loads: HlsVodLoad[];
  /** QoE_lin per chunk over chunks 1..n−1, as the bench page scores it */
  qoeChunk: number;
  bitrateMean: number;
  smoothMean: number;
  stallS: number;
  stalls: number;
  switches: number;
  aborts: number;
}

/**
 * The link of one shaped session (demo/shaper.ts semantics, without its 10 ms ticks): when the last of `bytes` arrives
 * for a request made at `t` ms (first byte after the RTT). Zero-rate intervals deliver nothing.
 */
export class ShapedTraceLink {
  private t0: number;
  private span: number;
  constructor(
    readonly trace: SimTrace,
    readonly rttMs = 80,
    /** trace time (s) at wall time 0: a session that starts elsewhere in the trace (training draws it) */
    readonly offsetS = 0,
  ) {
    this.t0 = trace.time[0];
    this.span = trace.time[trace.time.length - 1] - this.t0;
    if (!(this.span > 0)) throw new RangeError(`trace ${trace.name} spans no time`);
  }
  /** the interval index k (1..n−1) holding trace position x, and the time left in it, s */
  private at(ts: number): { k: number; left: number } {
    const { time } = this.trace;
    const x = ((((ts + this.offsetS - this.t0) % this.span) + this.span) % this.span) + this.t0;
    let lo = 1;
    let hi = time.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (time[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    const left = time[lo] - x;
    return { k: lo, left: left > 1e-12 ? left : time[Math.min(lo + 1, time.length - 1)] - time[lo] || this.span };
  }
  /** bytes/s at wall time `ms` */
  rateAt(ms: number): number {
    return (this.trace.bw[this.at(ms / 1000).k] * 1e6) / 8;
  }
  /** time (ms) the last byte of `bytes` arrives, the transfer starting (first byte) at `startMs` */
  deliver(startMs: number, bytes: number): number {
    let t = startMs / 1000;
    let left = bytes;
    for (let guard = 0; guard < 1e7; guard++) {
      const { k, left: dur } = this.at(t);
      const rate = (this.trace.bw[k] * 1e6) / 8;
      const can = rate * dur;
      if (can >= left && rate > 0) return (t + left / rate) * 1000;
      left -= can;
      t += dur;
    }
    throw new Error(`link of ${this.trace.name} delivers nothing`);
  }
  /** bytes delivered between `a` and `b` ms */
  bytesBetween(a: number, b: number): number {
    let t = a / 1000;
    const end = b / 1000;
    let total = 0;
    while (t < end - 1e-12) {
      const { k, left } = this.at(t);
      const d = Math.min(left, end - t);
      total += ((this.trace.bw[k] * 1e6) / 8) * d;
      t += d;
    }
    return total;
  }
}

/** What `step` reports: the fragment that was played at this position and what happened while it loaded. */
export interface HlsVodStep {
  /** level actually loaded (lower than asked after an emergency abort) */
  level: number;
  /** stall during this step's wait and download, s */
  rebufS: number;
  /** what this step added to the session's QoE_lin (bitrate and smoothness of the levels as buffered, stalls) */
  reward: number;
  done: boolean;
  /** the controller's observation for the next decision (null when done) */
  obs: AbrObservation | null;
}

/**
 * The simulator as an environment: `reset(trace)` loads the first fragment at the start level; every `step(q)`
 * fetches the next fragment at level q (hls.js may abandon it and fetch a lower one) and returns the observation for
 * the decision after it. `result()` scores the session as the bench page does.
 */
export class HlsVodEnv {
  readonly o: Required<Omit<HlsVodOptions, 'predictor' | 'abandonRule'>> & {
    predictor: HlsVodOptions['predictor'];
    abandonRule: AbandonRule | null;
  };
  private link!: ShapedTraceLink;
  private traceName = '';
  /** wall clock, ms */
  private t = 0;
  /** media time appended up to (s) and playhead (s) */
  private bufferedEnd = 0;
  private playhead = 0;
  private playing = false;
  private stallS = 0;
  private stalls = 0;
  private inStall = false;
  private index = 0;
  private levels: number[] = [];
  private loads: HlsVodLoad[] = [];
  private thr: number[] = [];
  private delays: number[] = [];
  /**
   * the forward buffer when the last load ended, before its fragment is appended, s: what `bufferAhead(media)` reads
   * in `createAbrController`'s FRAG_LOADED handler (the observation adds the fragment's duration to it)
   */
  private bufferAtLoad = 0;
  private predictor!: ChunkSizePredictor;
  private ladder: number[];
  private initLoaded = new Set<number>();
  private lastLevel = -1;
  /** `refetch: 'measured'`: the accumulated share of revisit switches not yet re-fetched */
  private revisitAcc = 0;
  /** hls.js' bandwidth estimate for the abort rule, b/s (EWMA as hls.js, fast 3 s / slow 9 s) */
  private bw = { fast: 0, slow: 0, wf: 0, ws: 0 };

  constructor(o: HlsVodOptions) {
    const chunks = o.chunks ?? o.sizes[0].length;
    if (o.sizes.some((s) => s.length < chunks)) throw new RangeError(`sizes must hold ${chunks} fragments per level`);
    this.o = {
      sizes: o.sizes,
      chunks,
      fragS: o.fragS ?? 4,
      rttMs: o.rttMs ?? 80,
      maxBufferLength: o.maxBufferLength ?? 30,
      maxBufferSize: o.maxBufferSize ?? 60e6,
      maxMaxBufferLength: o.maxMaxBufferLength ?? 600,
      startLevel: o.startLevel ?? 0,
      startMs: o.startMs ?? 150,
      appendMs: o.appendMs ?? 30,
      tickMs: o.tickMs ?? 40,
      redownloadOnUpSwitch: o.redownloadOnUpSwitch ?? true,
      refetch: o.refetch ?? 'up',
      revisitShare: o.revisitShare ?? 0.45,
      abort: o.abort ?? true,
      abandonRule: o.abandonRule ?? null,
      peakBps: o.peakBps ?? HLS_VOD_LEVELS.peakBps,
      averageBps: o.averageBps ?? HLS_VOD_LEVELS.averageBps,
      nominalKbps: o.nominalKbps ?? HLS_VOD_LEVELS.nominalKbps,
      history: o.history ?? 16,
      predictor: o.predictor,
    };
    this.ladder = this.o.averageBps.map((b) => b / 1000);
  }

  /** the forward buffer at the current time, s */
  private get buffer(): number {
    return Math.max(0, this.bufferedEnd - this.playhead);
  }

  /** let wall time run to `to` ms: playback drains the buffer, an empty buffer stalls */
  private advance(to: number): void {
    const dt = (to - this.t) / 1000;
    if (dt <= 0) return;
    if (this.playing) {
      const can = this.bufferedEnd - this.playhead;
      if (can >= dt) this.playhead += dt;
      else {
        this.playhead = this.bufferedEnd;
        if (!this.inStall) {
          this.inStall = true;
          this.stalls++;
        }
        this.stallS += dt - Math.max(0, can);
      }
    }
    this.t = to;
  }

  private sampleBw(ms: number, bytes: number): void {
    const bps = (bytes * 8000) / Math.max(ms, 1);
    const w = Math.max(ms, 50) / 1000;
    const af = Math.exp(Math.log(0.5) / 3) ** w;
    const as = Math.exp(Math.log(0.5) / 9) ** w;
    this.bw.fast = bps * (1 - af) + af * this.bw.fast;
    this.bw.slow = bps * (1 - as) + as * this.bw.slow;
    this.bw.wf += w;
    this.bw.ws += w;
  }
  private bwEstimate(): number {
    if (this.bw.wf < 0.001) return 500000;
    const zf = 1 - Math.exp(Math.log(0.5) / 3) ** this.bw.wf;
    const zs = 1 - Math.exp(Math.log(0.5) / 9) ** this.bw.ws;
    return Math.min(this.bw.fast / zf, this.bw.slow / zs);
  }

  /**
   * Start a session on `trace` (at trace time `offsetS`, default its start); loads fragment 0 at the start level.
   * Returns the observation for fragment 1.
   */
  reset(trace: SimTrace, offsetS = 0): AbrObservation {
    this.link = new ShapedTraceLink(trace, this.o.rttMs, offsetS);
    this.traceName = trace.name;
    this.t = 0;
    this.bufferedEnd = 0;
    this.playhead = 0;
    this.playing = false;
    this.stallS = 0;
    this.stalls = 0;
    this.inStall = false;
    this.index = 0;
    this.levels = [];
    this.loads = [];
    this.bufferAtLoad = 0;
    this.thr = [];
    this.delays = [];
    this.initLoaded = new Set();
    this.lastLevel = -1;
    this.revisitAcc = 0;
    this.bw = { fast: 0, slow: 0, wf: 0, ws: 0 };
    this.predictor = this.o.predictor ? this.o.predictor(this.ladder) : new RatioEwmaPredictor(this.ladder);
    this.t = this.o.startMs;
    this.fetch(this.o.startLevel);
    return this.observe();
  }

  /** the observation the controller sends after the fragment just loaded */
  private observe(): AbrObservation {
    const last = this.loads[this.loads.length - 1];
    const remain = this.o.chunks - this.index;
    return {
      lastQuality: last.level,
      // as the controller builds it at FRAG_LOADED: the forward buffer before this fragment is appended plus its
      // duration (until session 12 this read the buffer after the append and added the duration again: 4 s too much)
      bufferS: this.bufferAtLoad + this.o.fragS,
      throughputs: this.thr.slice(),
      delaysMs: this.delays.slice(),
      nextSizes: remain > 0 ? this.predictor.predict() : this.ladder.map(() => 0),
      remain,
      nextIndex: this.index,
      totalChunks: this.o.chunks,
      ladderKbps: this.ladder,
      rebufS: 0,
    };
  }

  /** the true sizes of the next fragment per level (0 at the end) */
  get nextSizes(): number[] {
    return this.o.sizes.map((s) => (this.index < this.o.chunks ? s[this.index] : 0));
  }

  /** the forward buffer target hls.js applies before requesting a fragment of level q, s */
  private maxBufLen(q: number): number {
    const o = this.o;
    return Math.min(Math.max((8 * o.maxBufferSize) / o.peakBps[q], o.maxBufferLength), o.maxMaxBufferLength);
  }

  /**
   * fetch fragment `index` (default the next one) at level q (with the abort rule), append it; the caller has waited
   * for the buffer. A fragment fetched again (`index` < the next one) replaces the buffered one: no buffer is gained.
   */
  private fetch(q: number, index = this.index): void {
    const again = index < this.index;
    const o = this.o;
    let level = q;
    for (;;) {
      if (!this.initLoaded.has(level)) {
        // a level's init segment (about 1 kB) before its first fragment: one more round trip
        this.advance(this.link.deliver(this.t + o.rttMs, 1000));
        this.initLoaded.add(level);
      }
      const bytes = o.sizes[level][index];
      const start = this.t;
      const first = start + o.rttMs;
      const end = this.link.deliver(first, bytes);
      const hlsAbort = o.abort && this.playing && level > 0 ? this.abandonCheck(level, start, first, end) : null;
      const ours = o.abandonRule && this.playing && level > 0 ? this.ruleCheck(o.abandonRule, level, bytes, start, first, end) : null;
      const abortAt = hlsAbort && ours ? (ours.at <= hlsAbort.at ? ours : hlsAbort) : (ours ?? hlsAbort);
      if (abortAt) {
        this.advance(abortAt.at);
        this.loads.push({ index, level, bytes, startMs: start, endMs: abortAt.at, bufferS: this.buffer, aborted: true });
        const loaded = this.link.bytesBetween(first, abortAt.at);
        this.sampleBw(abortAt.at - start, loaded);
        level = abortAt.level;
        continue;
      }
      this.advance(end);
      this.bufferAtLoad = this.buffer;
      this.loads.push({ index, level, bytes, startMs: start, endMs: end, bufferS: this.buffer, aborted: false });
      this.sampleBw(end - start, bytes);
      this.thr.push(bytes / (end - start));
      this.delays.push(end - start);
      if (this.thr.length > o.history) {
        this.thr.shift();
        this.delays.shift();
      }
      this.predictor.observe(level, bytes);
      // parse, transmux and append
      this.advance(end + o.appendMs);
      if (again) {
        // it replaces the buffered copy, unless playback has already passed it
        if (this.playhead < (index + 1) * o.fragS) this.levels[index] = level;
      } else {
        this.bufferedEnd += o.fragS;
        this.inStall = false;
        this.playing = true;
        this.levels.push(level);
        this.index++;
      }
      this.lastLevel = level;
      this.advance(this.t + o.tickMs);
      return;
    }
  }

  /**
   * The controller's abandonment rule (src/abr/abandon.ts) every 100 ms of a load of `bytes` at level `level` (> 0):
   * when it fires, the time and the level switched to; null when the load finishes.
   */
  private ruleCheck(
    rule: AbandonRule,
    level: number,
    bytes: number,
    start: number,
    first: number,
    end: number,
  ): { at: number; level: number } | null {
    const o = this.o;
    for (let at = start + 100; at < end; at += 100) {
      const to = abandonLevel(
        {
          level,
          fragS: o.fragS,
          loadedBytes: at > first ? this.link.bytesBetween(first, at) : 0,
          totalBytes: bytes,
          loadingS: (at - start) / 1000,
          streamingS: Math.max(0, at - first) / 1000,
          ttfbS: o.rttMs / 1000,
          bufferS: Math.max(0, this.bufferedEnd - this.playhead - (at - this.t) / 1000),
          playbackRate: 1,
          ladderBps: o.averageBps,
        },
        rule,
      );
      if (to !== null) return { at, level: to };
    }
    return null;
  }

  /**
   * hls.js' `_abandonRulesCheck`, run every 100 ms of a load at level `level` (> 0) that starts at `start` (first byte
   * at `first`, would end at `end`): when it fires, the time and the level switched to; null when the load finishes.
   */
  private abandonCheck(level: number, start: number, first: number, end: number): { at: number; level: number } | null {
    const o = this.o;
    const ttfbS = o.rttMs / 1000;
    const durS = o.fragS;
    for (let at = start + 100; at < end; at += 100) {
      if (at - start <= Math.max(o.rttMs, (1000 * durS) / 2)) continue;
      const buffer = Math.max(0, this.bufferedEnd - this.playhead - (this.playing ? (at - this.t) / 1000 : 0));
      const loaded = this.link.bytesBetween(first, at);
      const streaming = at - first;
      const loadRate = loaded > 0 && streaming > 0 ? (loaded * 1000) / streaming : 0;
      const expected = Math.max(loaded, Math.round((durS * o.averageBps[level]) / 8));
      const bwEst = this.bwEstimate();
      const fragLoadedDelay = loadRate ? (expected - loaded) / loadRate : (expected * 8) / bwEst + ttfbS;
      if (fragLoadedDelay <= buffer) continue;
      const bwe = loadRate ? loadRate * 8 : bwEst;
      let next = level - 1;
      let nextDelay = Infinity;
      for (; next > 0; next--) {
        nextDelay = ttfbS + (durS * o.peakBps[next]) / bwe;
        if (nextDelay < Math.min(buffer, durS + ttfbS)) break;
      }
      // as hls.js 1.7: when no level above the lowest fits, the loop ends at the lowest level with the delay of the
      // level above it (level 0's own delay is never weighed; until 2026-11-30 this simulator weighed it, and aborted
      // where hls.js does not: in 84 real runs of bench:browser-abr hls.js aborted 7 times, all on a fast link, never on
      // the ~1 Mb/s traces where this simulator aborted)
      if (nextDelay >= fragLoadedDelay || nextDelay > durS * 10) continue;
      // abandon now when far behind, else after the lower fragment's load time if it is still loading then
      const when = fragLoadedDelay > nextDelay * 2 ? at : at + nextDelay * 1000;
      if (when >= end) return null;
      return { at: when, level: next };
    }
    return null;
  }

  /**
   * Fetch the next fragment at level q (after waiting for hls.js' buffer target, 100 ms ticks). Returns what happened
   * and the observation for the next decision.
   */
  step(q: number): HlsVodStep {
    if (this.index >= this.o.chunks) throw new Error('HlsVodEnv: the session has ended (reset first)');
    const level = Math.max(0, Math.min(this.o.peakBps.length - 1, Math.round(q)));
    const score0 = this.score();
    const stall0 = this.stallS;
    // the tick after FRAG_BUFFERED, then every 100 ms while the buffer is at its target
    const target = this.maxBufLen(level);
    while (this.buffer >= target) this.advance(this.t + 100);
    // only a switch that can re-fetch (the fragment just buffered not played yet) is counted by the measured rule
    if (this.index > 0 && this.playhead < this.index * this.o.fragS && this.refetches(level)) this.fetch(level, this.index - 1);
    else this.fetch(level);
    const done = this.index >= this.o.chunks;
    const rebufS = this.stallS - stall0;
    return {
      level: this.lastLevel,
      rebufS,
      reward: this.score() - score0,
      done,
      obs: done ? null : this.observe(),
    };
  }

  /** whether a switch to `level` re-fetches the fragment just buffered (see `HlsVodOptions.refetch`) */
  private refetches(level: number): boolean {
    if (level === this.lastLevel || this.lastLevel < 0 || this.o.refetch === 'none') return false;
    if (this.o.refetch === 'up') return this.o.redownloadOnUpSwitch && level > this.lastLevel;
    if (this.index === 1) return false; // the first fragment is never fetched again (0 of 18 switches after it)
    if (!this.initLoaded.has(level)) return true;
    this.revisitAcc += this.o.revisitShare;
    if (this.revisitAcc < 1) return false;
    this.revisitAcc -= 1;
    return true;
  }

  /** QoE_lin so far: bitrate and smoothness of the levels buffered (chunks 1..), minus 4.3 × the stall time so far */
  private score(): number {
    const L = this.o.nominalKbps;
    const lv = this.levels;
    let s = 0;
    for (let i = 1; i < lv.length; i++) s += qoeLin(lv[i], lv[i - 1], 0, L);
    return s - 4.3 * this.stallS;
  }

  /** The session scored as the bench page scores real playback (nominal ladder, chunks 1..n−1). */
  result(): HlsVodResult {
    const L = this.o.nominalKbps;
    const lv = this.levels;
    let bitrate = 0;
    let smooth = 0;
    let switches = 0;
    for (let i = 1; i < lv.length; i++) {
      bitrate += L[lv[i]] / 1000;
      smooth += Math.abs(L[lv[i]] - L[lv[i - 1]]) / 1000;
      if (lv[i] !== lv[i - 1]) switches++;
    }
    const n = Math.max(1, lv.length - 1);
    return {
      trace: this.traceName,
      levels: lv.slice(),
      loads: this.loads.slice(),
      qoeChunk: (bitrate - 4.3 * this.stallS - smooth) / n,
      bitrateMean: bitrate / n,
      smoothMean: smooth / n,
      stallS: this.stallS,
      stalls: this.stalls,
      switches,
      aborts: this.loads.filter((l) => l.aborted).length,
    };
  }
}

/** Play a whole session of `policy` on `trace` in the hls.js-semantics simulator. */
export function runHlsVod(policy: AbrPolicy, trace: SimTrace, o: HlsVodOptions): HlsVodResult {
  const env = new HlsVodEnv(o);
  policy.videoStart?.();
  let obs: AbrObservation | null = env.reset(trace);
  while (obs) obs = env.step(policy.decide(obs)).obs;
  return env.result();
}
