/**
 * Live mode of the ABR simulator (issue 14): a low-latency live stream with LL-HLS parts, driven by a
 * Pensieve throughput trace.
 *
 * - Production: chunk c covers media [c D, (c+1) D); its parts of `partS` seconds are published as they are
 *   encoded, part j at c D + (j+1) partS + encoderDelayS. A chunk is complete (and its per-rung bytes and
 *   coding meta published) with its last part.
 * - The player never fetches past the live edge: it requests chunk c as an LL-HLS preload hint at most one
 *   RTT (80 ms) before the chunk's first part is published; the first byte arrives one RTT after the request
 *   and never before that part exists; the parts follow in order, each no earlier than it is published (the
 *   link idles while it waits); each part's bytes = chunk bytes / parts.
 * - The link follows Pensieve's trace semantics (env.ts: sample k holds over (t[k-1], t[k]], payload 0.95,
 *   wrap) through one cursor that advances with the wall clock — while idle as well as while sending.
 * - Playback starts when the first part arrives (at latency = wall clock - media time) and consumes the
 *   buffer at the playback rate of a rate controller (LoL+'s or hls.js', updated every `tickS`); an empty
 *   buffer stalls until the next part arrives. Latency = wall clock - media time of the playhead, so it grows
 *   by every stall and by (1 - rate) per second played.
 * - One decision per chunk, made when the previous chunk's last part arrived (or, with `decideAfterParts`, once
 *   the chunk's first parts are published, their bytes at the played rung known: abr/part-size.ts), with the observation of
 *   abr/live.ts; the next chunks' sizes come from a SizeSource (true sizes, published sizes of complete chunks
 *   plus a forecaster's predictions for the others, or the declared bitrates).
 * - QoE per chunk: core/live-qoe.ts (dash.js LoL+ evaluator weights), with the rebuffering since the
 *   previous chunk, and latency and playback rate when the chunk's last part is appended.
 * Pure TypeScript, no I/O.
 */
import { liveQoeSegment, liveQoeWeights, type LiveQoeTerms, type LiveQoeWeights } from '../../core/live-qoe.js';
import { LolpRateController, type LiveObservation, type LivePolicy, type RateController } from '../../abr/live.js';
import { nominalBytes, type SizeForecaster } from '../../abr/size-forecast.js';
import type { ChunkMeta } from '../../abr/size-forecast.js';
import {
  coefficientsFor,
  conditionOnHead,
  nominalChunkBytes,
  headSurprise,
  HeadSlopeAdapter,
  PartShareTracker,
  type ChunkHead,
  type PartHeadCoefficients,
  type RateControlClass,
} from '../../abr/part-size.js';
import type { SizeRisk } from '../../abr/size-risk.js';
import { LINK_RTT_MS, PACKET_PAYLOAD_PORTION, type SimTrace } from './env.js';

/** A live stream: true bytes of every chunk at every rung (and its coding meta when known). */
export interface LiveVideo {
  name: string;
  ladderKbps: readonly number[];
  chunkS: number;
  /** sizes[chunk][rung], bytes */
  sizes: number[][];
  meta?: ChunkMeta[][] | null;
  /**
   * heads[k-1][chunk][rung]: bytes of the chunk's first k LL-HLS parts, k = 1..parts (src/sim/abr/parts.ts), when
   * the video has part bytes; the parts are then sent with these bytes instead of chunk bytes / parts.
   */
  heads?: number[][][] | null;
  /** the stream's rate-control class when the packager publishes it (abr/part-size.ts coefficientsFor); absent: unknown */
  rateControl?: RateControlClass | null;
}

/**
 * A cursor on a throughput trace with Pensieve's semantics (env.ts `stepFrom`): `send` transfers bytes at
 * 0.95 of the trace rate, `idle` lets time pass; both wrap to pointer 1 / time 0 at the end of the trace.
 */
export class TraceLink {
  ptr: number;
  last: number;
  constructor(
    private trace: SimTrace,
    ptr = 1,
  ) {
    if (ptr < 1 || ptr >= trace.bw.length) throw new Error(`TraceLink: pointer ${ptr} outside 1..${trace.bw.length - 1}`);
    this.ptr = ptr;
    this.last = trace.time[ptr - 1];
  }
  private wrap(): void {
    this.ptr += 1;
    if (this.ptr >= this.trace.bw.length) {
      this.ptr = 1;
      this.last = 0;
    }
  }
  /** an independent cursor at the same position on the same trace */
  clone(): TraceLink {
    const c = new TraceLink(this.trace, this.ptr);
    c.last = this.last;
    return c;
  }
  /** seconds to transfer `bytes` from now */
  send(bytes: number): number {
    const { time, bw } = this.trace;
    let sent = 0;
    let delay = 0;
    for (let guard = 0; guard < 10_000_000; guard++) {
      const thr = (bw[this.ptr] * 1e6) / 8;
      const dur = time[this.ptr] - this.last;
      const payload = thr * dur * PACKET_PAYLOAD_PORTION;
      if (sent + payload > bytes) {
        const frac = (bytes - sent) / thr / PACKET_PAYLOAD_PORTION;
        this.last += frac;
        return delay + frac;
      }
      sent += payload;
      delay += dur;
      this.last = time[this.ptr];
      this.wrap();
    }
    throw new Error(`TraceLink: trace ${this.trace.name} delivers nothing`);
  }
  /** let `s` seconds pass without sending */
  idle(s: number): void {
    const { time } = this.trace;
    let left = s;
    while (left > 0) {
      const dur = time[this.ptr] - this.last;
      if (dur > left) {
        this.last += left;
        return;
      }
      left -= dur;
      this.last = time[this.ptr];
      this.wrap();
    }
  }
}

/** Where the policy's next-chunk sizes come from. */
export interface SizeSource {
  readonly name: string;
  /**
   * sizes[h][rung] of chunks from..from+H-1 as known when `origin` chunks are complete (chunks < origin are
   * published: their true bytes; the others predicted). Chunks past the video's end repeat its last chunk.
   */
  sizes(origin: number, from: number, H: number): number[][];
  /**
   * As `sizes`, when the first parts of chunk `from` at one rung are known (the decision is made after them,
   * LiveOptions.decideAfterParts). Sources that cannot use them leave it out (`sizes` is used).
   */
  sizesAfterHead?(origin: number, from: number, H: number, head: ChunkHead): number[][];
  /** Chunk `chunk` was downloaded at `rung`: its true bytes (what the player learns; RiskSizes uses it). */
  downloaded?(chunk: number, rung: number, bytes: number): void;
}

/** The true sizes (an oracle: what the packager will produce). */
export class TrueSizes implements SizeSource {
  readonly name = 'true';
  constructor(private video: LiveVideo) {}
  sizes(_origin: number, from: number, H: number): number[][] {
    const n = this.video.sizes.length;
    return Array.from({ length: H }, (_, h) => this.video.sizes[Math.min(from + h, n - 1)].slice());
  }
}

/** The playlist's declared bitrates: nominal kbps x D / 8 for every chunk (hls.js' and dash.js' view). */
export class DeclaredSizes implements SizeSource {
  readonly name = 'declared';
  private row: number[];
  constructor(video: LiveVideo) {
    this.row = video.ladderKbps.map((k) => nominalBytes(k, video.chunkS));
  }
  sizes(_origin: number, _from: number, H: number): number[][] {
    return Array.from({ length: H }, () => this.row.slice());
  }
}

/**
 * Published sizes of complete chunks plus a forecaster's predictions, precomputed once per video: the
 * forecaster observes chunks 0..o-1 (every rung, with coding meta when the video has it) and its forecast at
 * origin o is kept for o = 0..n.
 */
export class ForecastSizes implements SizeSource {
  readonly name: string;
  /** table[o][h][rung] */
  private table: Float64Array[];
  private R: number;
  constructor(
    private video: LiveVideo,
    forecaster: SizeForecaster,
    private H = 5,
    name?: string,
  ) {
    this.name = name ?? forecaster.name;
    this.R = video.ladderKbps.length;
    forecaster.start({ ladderKbps: video.ladderKbps, chunkS: video.chunkS });
    this.table = [];
    const n = video.sizes.length;
    for (let o = 0; o <= n; o++) {
      const f = forecaster.forecast(H);
      const row = new Float64Array(H * this.R);
      for (let h = 0; h < H; h++) for (let r = 0; r < this.R; r++) row[h * this.R + r] = f[h][r];
      this.table.push(row);
      if (o < n) forecaster.observe(video.sizes[o], video.meta?.[o] ?? null);
    }
  }
  sizes(origin: number, from: number, H: number): number[][] {
    const n = this.video.sizes.length;
    const o = Math.max(0, Math.min(origin, n));
    const row = this.table[o];
    return Array.from({ length: H }, (_, h) => {
      const c = from + h;
      if (c < o) return this.video.sizes[Math.min(c, n - 1)].slice();
      const k = Math.min(c - o, this.H - 1);
      return Array.from({ length: this.R }, (_, r) => row[k * this.R + r]);
    });
  }
}

/**
 * A forecaster's sizes (ForecastSizes) corrected, for the chunk being produced, by the bytes of its first parts at
 * the rung being played (abr/part-size.ts `conditionOnHead`). The share tracker sees the part bytes of every rung
 * of complete chunks (as the evaluation protocol of train/part-size.ts). A video of known rate control
 * (`LiveVideo.rateControl`) uses that class's slopes when the coefficients have some. Throws when the video has no
 * part bytes.
 */
export class HeadForecastSizes implements SizeSource {
  readonly name: string;
  /** shares[o][k-1][rung] as known when o chunks are complete */
  private shares: number[][][] = [];
  /** the head's coefficients as adapted to the stream when o chunks are complete (HeadSlopeAdapter; coef without adaptLambda) */
  private coefs: PartHeadCoefficients[] = [];
  /** means[o]: the mean of past sizes per rung when o chunks are complete (HeadContext.meanBytes) */
  private means: Array<number[] | null> = [];
  private nominal: number[];
  constructor(
    private video: LiveVideo,
    private base: ForecastSizes,
    private coef: PartHeadCoefficients,
    name = `${base.name}+head`,
  ) {
    this.name = name;
    const heads = video.heads;
    if (!heads) throw new Error(`HeadForecastSizes: ${video.name} has no part bytes`);
    const R = video.ladderKbps.length;
    const P = heads.length;
    const K = Math.min(coef.own.length, P - 1);
    // the slopes of the stream's rate-control class, when the coefficients have some for it
    coef = this.coef = coefficientsFor(coef, video.rateControl);
    const tr = new PartShareTracker(K, R, coef.shareAlpha);
    const adapter = new HeadSlopeAdapter(coef);
    this.nominal = nominalChunkBytes(video.ladderKbps, video.chunkS);
    for (let o = 0; o <= video.sizes.length; o++) {
      this.shares.push(Array.from({ length: K }, (_, k) => Array.from({ length: R }, (_, r) => tr.share(k + 1, r, P))));
      this.coefs.push(adapter.coefficients());
      this.means.push(tr.meanBytes());
      if (o < video.sizes.length && coef.adaptLambda !== undefined) {
        // the finished chunk o teaches the adapter, as in the evaluation protocol (train/part-size.ts)
        const fc = base.sizes(o, o, 1)[0];
        for (let k = 1; k <= K; k++)
          for (let p = 0; p < R; p++) {
            const g = headSurprise(fc[p], heads[k - 1][o][p], this.shares[o][k - 1][p]);
            for (let r = 0; r < R; r++) adapter.observe(k, r === p, g, Math.log(video.sizes[o][r] / fc[r]));
          }
      }
      if (o < video.sizes.length)
        tr.observe(
          heads.slice(0, K).map((h) => h[o]),
          video.sizes[o],
        );
    }
  }
  sizes(origin: number, from: number, H: number): number[][] {
    return this.base.sizes(origin, from, H);
  }
  sizesAfterHead(origin: number, from: number, H: number, head: ChunkHead): number[][] {
    const rows = this.base.sizes(origin, from, H);
    const o = Math.max(0, Math.min(origin, this.video.sizes.length));
    if (from < o || head.parts > this.shares[o].length) return rows; // published already, or more parts than fitted
    const share = this.shares[o][head.parts - 1][head.rung];
    const g = headSurprise(rows[0][head.rung], head.bytes, share);
    rows[0] = conditionOnHead(rows[0], head, share, this.coefs[o], { meanBytes: this.means[o], nominalBytes: this.nominal });
    const later = this.coef.later?.[head.parts - 1];
    if (later)
      for (let h = 1; h < rows.length; h++) {
        if (from + h < o) continue;
        const f = Math.exp(later[Math.min(h, later.length) - 1] * g);
        rows[h] = rows[h].map((x) => x * f);
      }
    return rows;
  }
}

/**
 * Risk-aware sizes (abr/size-risk.ts): a base source's sizes of the chunks not yet published, multiplied by the
 * risk's factor exp(q) (with `upOnly`, only at the rungs above the one last fetched). The risk learns from the log
 * errors of the h = 1 forecasts the decisions saw, at the rung then fetched (`downloaded`). Stateful: one instance
 * per session (`reset` forgets the stream).
 */
export class RiskSizes implements SizeSource {
  readonly name: string;
  /** the base h = 1 row the last decision saw, by chunk */
  private seen = new Map<number, number[]>();
  /** the rung of the last download (-1: none yet) */
  private lastRung = -1;
  constructor(
    private base: SizeSource,
    private risk: SizeRisk,
    name = `${base.name}+${risk.name}`,
  ) {
    this.name = name;
    risk.reset();
  }
  reset(): void {
    this.risk.reset();
    this.seen.clear();
    this.lastRung = -1;
  }
  private inflate(origin: number, from: number, rows: number[][]): number[][] {
    if (from >= origin) this.seen.set(from, rows[0].slice());
    const f = Math.exp(this.risk.logFactor());
    const up = this.risk.upOnly ? this.lastRung : -1;
    return rows.map((row, h) => (from + h < origin ? row : row.map((x, r) => (r > up ? x * f : x))));
  }
  sizes(origin: number, from: number, H: number): number[][] {
    return this.inflate(origin, from, this.base.sizes(origin, from, H));
  }
  sizesAfterHead(origin: number, from: number, H: number, head: ChunkHead): number[][] {
    const rows = this.base.sizesAfterHead ? this.base.sizesAfterHead(origin, from, H, head) : this.base.sizes(origin, from, H);
    return this.inflate(origin, from, rows);
  }
  downloaded(chunk: number, rung: number, bytes: number): void {
    const row = this.seen.get(chunk);
    if (row) this.risk.observe(row[rung], bytes);
    this.lastRung = rung;
    this.seen.delete(chunk);
    this.base.downloaded?.(chunk, rung, bytes);
  }
}

export interface LiveOptions {
  /** target latency, s (default 3: the LL-HLS goal) */
  targetLatencyS?: number;
  /** LL-HLS part duration, s (default 0.5); must divide the chunk duration */
  partS?: number;
  /** first chunk of the session (the ones before it are already published) */
  startChunk: number;
  /** chunks to play */
  chunks: number;
  /** playback-rate control period, s (default 0.1) */
  tickS?: number;
  /** time from a part's end of capture to its publication, s (default 0) */
  encoderDelayS?: number;
  /** look-ahead of the size source (default 5) */
  horizon?: number;
  /**
   * Decide one chunk's rung after its first `decideAfterParts` parts are published (default 0: when the previous
   * chunk is in). The player learns those parts' bytes at the rung it is playing from its LL-HLS playlist (a
   * blocking playlist reload answered when the part is published, received half an RTT later) and the size source
   * may use them (SizeSource.sizesAfterHead); the chunk is then requested from its first part, whose bytes are
   * already there.
   */
  decideAfterParts?: number;
  /** rung of the first chunk (default 0) */
  firstQuality?: number;
  /** trace pointer at the session start (default 1) */
  tracePtr?: number;
  /** training: a factor on each part's bytes on the wire (Pensieve's x[0.9, 1.1) delay noise) */
  noise?: () => number;
  /** overrides the policy's own rate controller */
  rateController?: RateController;
  keepLog?: boolean;
}

export interface LiveSegmentLog {
  chunk: number;
  quality: number;
  /** when the request was sent, and when the first / last part of the chunk was published */
  requestS: number;
  firstPartPublishedS: number;
  /** per part: when its transfer started, and when it was published */
  partStartS: number[];
  partPublishedS: number[];
  doneS: number;
  bufferS: number;
  latencyS: number;
  rebufferS: number;
  playbackRate: number;
  qoe: LiveQoeTerms;
}

export interface LiveSessionResult {
  video: string;
  trace: string;
  segments: number;
  /** sums of the QoE terms over the session's chunks, kbit */
  qoe: LiveQoeTerms;
  /** media seconds played-for (segments x D) */
  mediaS: number;
  bitrateKbpsMean: number;
  rebufferS: number;
  stalls: number;
  /** time-averaged latency from the first frame to the end, s */
  latencyMeanS: number;
  latencyEndS: number;
  latencyStartS: number;
  /** seconds of wall clock played at rate r, integrated (1 - r) dt, and stalled seconds */
  rateDeficitS: number;
  switches: number;
  log: LiveSegmentLog[];
}

/**
 * One live session as an environment: `observation()` before each decision (after the first chunk),
 * `step(q)` fetches the next chunk at rung q and returns its QoE; `done` after `chunks` chunks.
 */
export class LiveSession {
  readonly w: LiveQoeWeights;
  readonly D: number;
  readonly partS: number;
  readonly parts: number;
  readonly target: number;
  private link: TraceLink;
  private ctl: RateController;
  private tickS: number;
  private enc: number;
  private H: number;
  t = 0;
  buf = 0;
  pos = 0;
  started = false;
  stalled = false;
  rate = 1;
  private nextTick = 0;
  private stallAcc = 0;
  k = 0;
  lastQ = -1;
  private thr: number[] = [];
  private wallThr: number[] = [];
  private delays: number[] = [];
  readonly result: LiveSessionResult;
  private latInt = 0;
  private latTime = 0;

  constructor(
    readonly video: LiveVideo,
    readonly trace: SimTrace,
    readonly source: SizeSource,
    readonly opts: LiveOptions,
    policyRate?: RateController,
  ) {
    this.D = video.chunkS;
    this.partS = opts.partS ?? 0.5;
    this.parts = Math.round(this.D / this.partS);
    if (Math.abs(this.parts * this.partS - this.D) > 1e-9) this.partS = this.D / this.parts; // e.g. 2.083 s chunks
    this.target = opts.targetLatencyS ?? 3;
    this.tickS = opts.tickS ?? 0.1;
    this.enc = opts.encoderDelayS ?? 0;
    this.H = opts.horizon ?? 5;
    if (opts.startChunk < 0 || opts.startChunk + opts.chunks > video.sizes.length)
      throw new Error(
        `LiveSession: chunks ${opts.startChunk}..${opts.startChunk + opts.chunks - 1} outside ${video.name}'s ${video.sizes.length}`,
      );
    this.w = liveQoeWeights(video.ladderKbps);
    this.link = new TraceLink(trace, opts.tracePtr ?? 1);
    this.ctl = opts.rateController ?? policyRate ?? new LolpRateController();
    this.ctl.reset();
    // join when the first part of the start chunk is published
    this.t = this.publishedAt(opts.startChunk, 0);
    this.nextTick = this.t + this.tickS;
    this.result = {
      video: video.name,
      trace: trace.name,
      segments: 0,
      qoe: { bitrate: 0, switch: 0, rebuffer: 0, latency: 0, speed: 0, total: 0 },
      mediaS: 0,
      bitrateKbpsMean: 0,
      rebufferS: 0,
      stalls: 0,
      latencyMeanS: 0,
      latencyEndS: 0,
      latencyStartS: 0,
      rateDeficitS: 0,
      switches: 0,
      log: [],
    };
  }

  /**
   * An independent copy of the session as it is now (link cursor, playback state, rate controller, accumulated
   * result), for search over futures (src/sim/abr/live-oracle.ts): stepping the copy leaves this one untouched.
   * The size source is shared (stateless sources only: a RiskSizes throws), and so is `opts.noise` with its random
   * stream (stepping the copy of a noisy session advances the original's noise: search only noise-free sessions). The
   * rate controller is copied field by field (flat state only). The copy keeps no per-segment log.
   */
  clone(): LiveSession {
    if (this.source instanceof RiskSizes) throw new Error('LiveSession.clone: a RiskSizes source is stateful');
    const c = Object.assign(Object.create(LiveSession.prototype) as LiveSession, this);
    c.link = this.link.clone();
    c.ctl = Object.assign(Object.create(Object.getPrototypeOf(this.ctl) as object) as RateController, this.ctl);
    c.thr = this.thr.slice();
    c.wallThr = this.wallThr.slice();
    c.delays = this.delays.slice();
    (c as { result: LiveSessionResult }).result = { ...this.result, qoe: { ...this.result.qoe }, log: [] };
    (c as { opts: LiveOptions }).opts = { ...this.opts, keepLog: false };
    return c;
  }

  /**
   * A copy of the session in the world a causal planner believes in (live-oracle.ts `causalWorld`): as `clone()`, but
   * the link delivers a constant `mbps` Mb/s from now on (Pensieve semantics, 0.95 payload) instead of the trace, and
   * the bytes of chunks nextIndex + h on the wire are `sizes[h]` (the last row for later chunks; h counted from the next
   * chunk), sent as equal parts. The copy shares nothing mutable with this session. Throws on a rate that is not
   * finite and > 0, no rows, or a row whose length is not the ladder's.
   */
  imagined(sizes: readonly (readonly number[])[], mbps: number): LiveSession {
    if (!(Number.isFinite(mbps) && mbps > 0)) throw new Error(`LiveSession.imagined: rate ${mbps} Mb/s is not finite and > 0`);
    const R = this.video.ladderKbps.length;
    if (!sizes.length || sizes.some((r) => r.length !== R || r.some((b) => !(b > 0))))
      throw new Error(`LiveSession.imagined: sizes must be rows of ${R} positive bytes`);
    const c = this.clone();
    const from = this.opts.startChunk + this.k;
    const rows = this.video.sizes.map((row, i) => (i < from ? row : sizes[Math.min(i - from, sizes.length - 1)].slice()));
    (c as { video: LiveVideo }).video = { ...this.video, sizes: rows, heads: null };
    (c as { trace: SimTrace }).trace = { name: `${this.trace.name}@${mbps.toFixed(3)}Mbps`, time: [0, 1e9], bw: [mbps, mbps] };
    c.link = new TraceLink(c.trace, 1);
    return c;
  }

  /** when part j of chunk c is published (s of wall clock since the stream's capture start) */
  publishedAt(c: number, j: number): number {
    return c * this.D + (j + 1) * this.partS + this.enc;
  }

  get done(): boolean {
    return this.k >= this.opts.chunks;
  }

  get latency(): number {
    return this.started ? this.t - this.pos : this.t - this.opts.startChunk * this.D;
  }

  /** chunks complete (published with their sizes and meta) at time t */
  private origin(): number {
    return Math.max(0, Math.floor((this.t - this.enc + 1e-9) / this.D));
  }

  /** playback over dt seconds of wall clock (the link is advanced by the caller) */
  private play(dt: number): void {
    while (dt > 1e-12) {
      const step = Math.min(dt, Math.max(this.nextTick - this.t, 1e-12));
      const l0 = this.latency;
      if (this.started && !this.stalled) {
        const need = this.rate * step;
        if (this.buf >= need) {
          this.buf -= need;
          this.pos += need;
          this.result.rateDeficitS += (1 - this.rate) * step;
        } else {
          const tp = this.buf / this.rate;
          this.pos += this.buf;
          this.result.rateDeficitS += (1 - this.rate) * tp;
          this.buf = 0;
          this.stalled = true;
          this.result.stalls++;
          this.ctl.onStall?.();
          this.stallAcc += step - tp;
          this.result.rebufferS += step - tp;
        }
      } else if (this.stalled) {
        this.stallAcc += step;
        this.result.rebufferS += step;
      }
      this.t += step;
      dt -= step;
      if (this.started) {
        this.latInt += ((l0 + this.latency) / 2) * step;
        this.latTime += step;
      }
      if (this.t >= this.nextTick - 1e-12) {
        this.nextTick += this.tickS;
        if (this.started)
          this.rate = this.ctl.rate({
            latencyS: this.latency,
            targetLatencyS: this.target,
            bufferS: this.buf,
            stalled: this.stalled,
            current: this.rate,
            chunkS: this.D,
          });
      }
    }
  }

  /** idle link and play until wall clock `to` */
  private waitUntil(to: number): void {
    if (to <= this.t) return;
    const dt = to - this.t;
    this.link.idle(dt);
    this.play(dt);
  }

  /**
   * With `decideAfterParts` = k > 0: let time pass until the next chunk's k-th part is published and its playlist
   * entry has arrived (half an RTT later); a no-op otherwise or when that time is past.
   */
  awaitDecisionPoint(): void {
    const k = this.opts.decideAfterParts ?? 0;
    if (k <= 0 || this.done) return;
    const c = this.opts.startChunk + this.k;
    this.waitUntil(this.publishedAt(c, Math.min(k, this.parts) - 1) + LINK_RTT_MS / 2000);
  }

  /** The known head of chunk c at the rung being played, when the decision waits for parts and they are out. */
  private knownHead(c: number): ChunkHead | null {
    const k = Math.min(this.opts.decideAfterParts ?? 0, this.parts - 1);
    const heads = this.video.heads;
    if (k <= 0 || !heads || this.t < this.publishedAt(c, k - 1)) return null;
    const p = this.lastQ < 0 ? (this.opts.firstQuality ?? 0) : this.lastQ;
    return {
      rung: p,
      parts: k,
      bytes: heads[k - 1][c][p],
      prev: c > 0 ? { headBytes: heads[k - 1][c - 1][p], bytes: this.video.sizes[c - 1][p] } : null,
    };
  }

  /** The policy's observation for the next chunk. */
  observation(): LiveObservation {
    const c = this.opts.startChunk + this.k;
    const head = this.knownHead(c);
    const pub0 = this.publishedAt(c, 0);
    const produced = Math.min(this.D, Math.max(0, Math.floor((this.t - c * this.D - this.enc + 1e-9) / this.partS) * this.partS));
    return {
      ladderKbps: this.video.ladderKbps,
      chunkS: this.D,
      partS: this.partS,
      nextIndex: c,
      lastQuality: this.lastQ < 0 ? (this.opts.firstQuality ?? 0) : this.lastQ,
      bufferS: this.buf,
      latencyS: this.latency,
      targetLatencyS: this.ctl.target ? this.ctl.target(this.target, this.D) : this.target,
      playbackRate: this.rate,
      stalled: this.stalled,
      waitS: Math.max(0, pub0 - this.t),
      producedS: produced,
      throughputs: this.thr,
      wallThroughputs: this.wallThr,
      delaysMs: this.delays,
      sizes:
        head && this.source.sizesAfterHead
          ? this.source.sizesAfterHead(this.origin(), c, this.H, head)
          : this.source.sizes(this.origin(), c, this.H),
    };
  }

  /** Fetch the next chunk at rung q; its QoE terms. Throws when the session is over or q is not a rung. */
  step(q: number, noise = this.opts.noise): LiveQoeTerms {
    if (this.done) throw new Error('LiveSession: session over');
    const R = this.video.ladderKbps.length;
    if (!(q >= 0 && q < R && Number.isInteger(q))) throw new Error(`LiveSession: rung ${q} not in 0..${R - 1}`);
    const c = this.opts.startChunk + this.k;
    // the request goes out as an LL-HLS preload hint at most one RTT before the first part is published;
    // its first byte arrives one RTT later, never before the part exists
    const rtt = LINK_RTT_MS / 1000;
    const pub0 = this.publishedAt(c, 0);
    const req = Math.max(this.t, pub0 - rtt);
    this.waitUntil(req);
    this.waitUntil(Math.max(this.t + rtt, pub0));
    const bytes = this.video.sizes[c][q];
    const heads = this.video.heads;
    const partBytes = (j: number) =>
      heads && heads.length === this.parts ? heads[j][c][q] - (j > 0 ? heads[j - 1][c][q] : 0) : bytes / this.parts;
    let busy = 0;
    const partStart: number[] = [];
    const partPub: number[] = [];
    for (let j = 0; j < this.parts; j++) {
      const pub = this.publishedAt(c, j);
      this.waitUntil(pub);
      partStart.push(this.t);
      partPub.push(pub);
      const dur = this.link.send(partBytes(j) * (noise ? noise() : 1));
      this.play(dur);
      busy += dur;
      this.buf += this.partS;
      if (!this.started) {
        this.started = true;
        this.pos = c * this.D;
        this.buf = this.partS;
        this.result.latencyStartS = this.latency;
        this.rate = 1;
      }
      this.stalled = false;
    }
    const total = this.t - req;
    this.source.downloaded?.(c, q, bytes);
    this.thr.push(bytes / Math.max(busy * 1000, 1e-6));
    this.wallThr.push(bytes / Math.max(total * 1000, 1e-6));
    this.delays.push(total * 1000);
    const kbps = this.video.ladderKbps[q];
    const prev = this.lastQ < 0 ? null : this.video.ladderKbps[this.lastQ];
    const terms = liveQoeSegment(this.w, {
      kbps,
      prevKbps: prev,
      durationS: this.D,
      rebufferS: this.stallAcc,
      latencyS: this.latency,
      playbackRate: this.rate,
    });
    const r = this.result;
    if (this.opts.keepLog)
      r.log.push({
        chunk: c,
        quality: q,
        requestS: req,
        firstPartPublishedS: this.publishedAt(c, 0),
        partStartS: partStart,
        partPublishedS: partPub,
        doneS: this.t,
        bufferS: this.buf,
        latencyS: this.latency,
        rebufferS: this.stallAcc,
        playbackRate: this.rate,
        qoe: terms,
      });
    for (const key of ['bitrate', 'switch', 'rebuffer', 'latency', 'speed', 'total'] as const) r.qoe[key] += terms[key];
    if (prev !== null && prev !== kbps) r.switches++;
    r.segments++;
    r.mediaS += this.D;
    r.bitrateKbpsMean += (kbps - r.bitrateKbpsMean) / r.segments;
    r.latencyEndS = this.latency;
    r.latencyMeanS = this.latTime > 0 ? this.latInt / this.latTime : this.latency;
    this.stallAcc = 0;
    this.lastQ = q;
    this.k++;
    return terms;
  }
}

/** Play a whole session with `policy` (the first chunk at `firstQuality`, then one decision per chunk). */
export function runLiveSession(
  policy: LivePolicy,
  video: LiveVideo,
  trace: SimTrace,
  source: SizeSource,
  opts: LiveOptions,
): LiveSessionResult {
  policy.start?.(video.ladderKbps, video.chunkS);
  const s = new LiveSession(video, trace, source, opts, policy.rateController?.());
  s.step(opts.firstQuality ?? 0);
  while (!s.done) {
    s.awaitDecisionPoint();
    s.step(policy.decide(s.observation()));
  }
  return s.result;
}
