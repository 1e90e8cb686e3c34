/**
 * Low-latency live ABR (issue 14): what a live policy observes, the playback-rate (catch-up) controllers of
 * hls.js and LoL+, and the baseline live policies — hls.js' default rule, a LoL+-like rule, BBA-style
 * buffer-based on chunk sizes, and RobustMPC on the live QoE. Every size-aware policy reads the next
 * chunks' sizes from the observation, so the same policy runs on true, mean-of-past, predicted or
 * declared sizes. Environment-agnostic (simulator, training, worker): no DOM, no Node, no tfjs.
 */
import { liveQoeWeights, type LiveQoeWeights } from '../core/live-qoe.js';
import type { ChunkMeta } from './size-forecast.js';

/** What a live policy sees when it chooses the rung of the next chunk. */
export interface LiveObservation {
  /** rung bitrates, kbps, ascending */
  ladderKbps: readonly number[];
  /** chunk (segment) duration, s */
  chunkS: number;
  /** LL-HLS part duration, s */
  partS: number;
  /** index of the chunk to choose for */
  nextIndex: number;
  /** rung of the previous chunk */
  lastQuality: number;
  /** media buffered ahead of the playhead, s */
  bufferS: number;
  /** live latency now (wall clock - media time of the playhead), s */
  latencyS: number;
  targetLatencyS: number;
  playbackRate: number;
  /** playback is stalled (buffer empty after it started) */
  stalled: boolean;
  /** seconds until the next chunk's first part is published (0 when it already is) */
  waitS: number;
  /** seconds of the next chunk already produced (published parts) */
  producedS: number;
  /** per finished chunk of this session, oldest first: bytes / ms while the link was transferring */
  throughputs: number[];
  /** per finished chunk: bytes / ms from request to last byte, waits for production included */
  wallThroughputs: number[];
  /** per finished chunk: ms from request to last byte */
  delaysMs: number[];
  /**
   * sizes[h][rung]: bytes of chunk nextIndex + h (h = 0..H-1) at every rung — true, published or
   * forecast, depending on the size source the simulator (or player) is run with
   */
  sizes: number[][];
}

export interface LivePolicy {
  readonly name: string;
  /** a new session starts */
  start?(ladderKbps: readonly number[], chunkS: number): void;
  /** rung of the next chunk */
  decide(o: LiveObservation): number;
  /** the policy's own playback-rate controller (default: LoL+'s hybrid controller) */
  rateController?(): RateController;
}

/** Chooses the playback rate from the player state; called every control tick. */
export interface RateController {
  readonly name: string;
  /** a new session; called again after nothing */
  reset(): void;
  rate(s: { latencyS: number; targetLatencyS: number; bufferS: number; stalled: boolean; current: number; chunkS: number }): number;
  /** a stall began (hls.js raises its target latency) */
  onStall?(): void;
  /** target latency this controller aims at, given the configured one */
  target?(configured: number, chunkS: number): number;
}

/**
 * hls.js' latency controller (latency-controller.ts, `onTimeupdate`): with `maxLiveSyncPlaybackRate` > 1
 * it speeds up (never slows down) when latency exceeds the target by > 0.05 s, the forward buffer is
 * > 1 s and the distance is within one target duration: rate = round(20 * 2 / (1 + exp(-0.75 d))) / 20,
 * clamped to [1, max]. Each stall raises the target by `liveSyncOnStallIncrease` (1 s), at most one
 * target duration.
 */
export class HlsLatencyController implements RateController {
  readonly name = 'hls.js';
  private stalls = 0;
  constructor(private maxRate = 1.5) {}
  reset(): void {
    this.stalls = 0;
  }
  onStall(): void {
    this.stalls++;
  }
  target(configured: number, chunkS: number): number {
    return configured + Math.min(this.stalls * 1, chunkS);
  }
  rate(s: { latencyS: number; targetLatencyS: number; bufferS: number; current: number; chunkS: number }): number {
    const target = this.target(s.targetLatencyS, s.chunkS);
    const d = s.latencyS - target;
    const inLiveRange = d < target + s.chunkS;
    if (this.maxRate > 1 && inLiveRange && d > 0.05 && s.bufferS > 1) {
      const r = Math.round((2 / (1 + Math.exp(-0.75 * d))) * 20) / 20;
      return Math.min(Math.min(2, this.maxRate), Math.max(1, r));
    }
    return 1;
  }
}

/** The dead band of `LolpRateController` (hysteresis on the latency drift, dash.js' `minDrift` / step-mode thresholds). */
export interface LolpDeadBand {
  /** latency-based catch-up engages when |latency − target| exceeds this, s (0: no dead band, every drift acts) */
  deadBandS: number;
  /** once engaged it runs until |latency − target| ≤ this (or the drift changes sign), then the rate is 1, s */
  releaseS: number;
  /** smallest rate change applied while engaged (returning to 1 is always applied) */
  minRateChange: number;
}

/**
 * LoL+'s hybrid playback control (dash.js CatchupController, LIVE_CATCHUP_MODE_LOLP): below
 * `playbackBufferMin` of buffer it slows down, rate = (1 - c) + 2c / (1 + exp(-5 (buffer - min)));
 * otherwise, unless latency is within 2 % of the target, rate = (1 - c) + 2c / (1 + exp(-5 (L - target))).
 * c = the catch-up rate (dash.js default 0.5); changes smaller than 0.02 are not applied (dash.js'
 * minPlaybackRateChange for c = 0.5).
 *
 * With a dead band (`deadBand.deadBandS` > 0; the player's default in live-catchup.ts, not the simulator's): the
 * latency branch is a hysteresis, as dash.js gates its catch-up by `minDrift` (|drift| > minDrift, else rate 1)
 * and its step mode by start / stop thresholds: it engages when |L − target| > deadBandS, follows the law above in
 * steps of at least `minRateChange`, and releases to rate 1 when |L − target| ≤ releaseS or the drift changed
 * sign; while released the rate stays 1. The buffer branch keeps its law (a stall costs more than latency) but in
 * steps of at least `minRateChange` too, and releases to 1 once the buffer is back above the minimum.
 */
export class LolpRateController implements RateController {
  readonly name = 'lol+';
  private engagedSign = 0; // sign of the drift the latency branch is correcting; 0 = released
  constructor(
    private c = 0.5,
    private bufferMinS = 0.5,
    private deadBand: LolpDeadBand | null = null,
  ) {
    if (deadBand && !(deadBand.deadBandS >= deadBand.releaseS && deadBand.releaseS >= 0 && deadBand.minRateChange >= 0))
      throw new RangeError('LolpRateController: need deadBandS >= releaseS >= 0 and minRateChange >= 0');
  }
  reset(): void {
    this.engagedSign = 0;
  }
  rate(s: { latencyS: number; targetLatencyS: number; bufferS: number; current: number }): number {
    const sigmoid = (d: number) => 1 - this.c + (2 * this.c) / (1 + Math.exp(-5 * d));
    const db = this.deadBand;
    if (db && db.deadBandS > 0) {
      if (s.bufferS < this.bufferMinS) {
        this.engagedSign = 0;
        const r = sigmoid(s.bufferS - this.bufferMinS);
        return Math.abs(r - s.current) < db.minRateChange ? s.current : r;
      }
      const drift = s.latencyS - s.targetLatencyS;
      if (this.engagedSign === 0 && Math.abs(drift) > db.deadBandS) this.engagedSign = Math.sign(drift);
      else if (this.engagedSign !== 0 && (Math.abs(drift) <= db.releaseS || Math.sign(drift) !== this.engagedSign)) this.engagedSign = 0;
      if (this.engagedSign === 0) return 1;
      const r = sigmoid(drift);
      return Math.abs(r - s.current) < db.minRateChange ? s.current : r;
    }
    let r: number;
    if (s.bufferS < this.bufferMinS) r = sigmoid(s.bufferS - this.bufferMinS);
    else if (Math.abs(s.latencyS - s.targetLatencyS) <= 0.02 * s.targetLatencyS) r = 1;
    else r = sigmoid(s.latencyS - s.targetLatencyS);
    return Math.abs(r - s.current) < 0.02 * (this.c / 0.5) ? s.current : r;
  }
}

/** bits per second a chunk of `bytes` bytes needs to play in real time */
const bps = (bytes: number, chunkS: number) => (bytes * 8) / chunkS;

/** hls.js' EWMA with a half-life in units of weight (seconds of download). */
class Ewma {
  private alpha: number;
  private est = 0;
  total = 0;
  constructor(halfLife: number) {
    this.alpha = Math.exp(Math.log(0.5) / halfLife);
  }
  sample(weight: number, value: number): void {
    const a = this.alpha ** weight;
    this.est = value * (1 - a) + a * this.est;
    this.total += weight;
  }
  get(): number {
    const zero = 1 - this.alpha ** this.total;
    return this.total && zero ? this.est / zero : this.est;
  }
}

/**
 * hls.js' default live rule (abr-controller.ts `findBestLevel` for live): bandwidth = min(fast, slow) EWMA
 * (half-lives abrEwmaFastLive 3 s / abrEwmaSlowLive 9 s of download time, default estimate 500 kbps), the
 * highest level whose bitrate fits in 0.95 x bandwidth (same or lower level) or 0.7 x (switching up). For
 * live streams hls.js skips the fetch-duration test. The level bitrate is the next chunk's size x 8 / D from
 * the observation (declared sizes = the playlist's BANDWIDTH, as hls.js itself). Catch-up: hls.js' latency
 * controller with maxLiveSyncPlaybackRate 1.5.
 */
export class HlsLiveRule implements LivePolicy {
  readonly name = 'hlsjs';
  private fast = new Ewma(3);
  private slow = new Ewma(9);
  private seen = 0;
  start(): void {
    this.fast = new Ewma(3);
    this.slow = new Ewma(9);
    this.seen = 0;
  }
  rateController(): RateController {
    return new HlsLatencyController(1.5);
  }
  decide(o: LiveObservation): number {
    for (let i = this.seen; i < o.throughputs.length; i++) {
      const s = Math.max(o.delaysMs[i], 50) / 1000;
      this.fast.sample(s, o.throughputs[i] * 8000);
      this.slow.sample(s, o.throughputs[i] * 8000);
    }
    this.seen = o.throughputs.length;
    const bw = this.fast.total >= 0.001 ? Math.min(this.fast.get(), this.slow.get()) : 500000;
    let best = 0;
    for (let q = 0; q < o.ladderKbps.length; q++) {
      const f = q <= o.lastQuality ? 0.95 : 0.7;
      if (bps(o.sizes[0][q], o.chunkS) <= f * bw) best = q;
    }
    return best;
  }
}

/**
 * A LoL+-like rule (Bentaleb et al., "Catching the Moment with LoL+ in Twitch-Like Low-Latency Live
 * Streaming Platforms", IEEE TMM 2021; dash.js `LearningAbrController`): a self-organising map with one
 * neuron per rung whose state is (throughput, latency, rebuffer, switch), normalised by the ladder's
 * magnitude. Each decision picks the neuron nearest to the ideal point (measured throughput, 0, 0, 0) under
 * weights, with the throughput weight raised to 100 for rungs above throughput - 10 kbps or whose download
 * would leave less than 0.5 s of buffer; a rung whose download would underrun the buffer downshifts at
 * once; then the current and the winning neurons (and neighbours, sigma 0.1) move towards the observation
 * (learning rate 0.01). Differences from dash.js: fixed weights 0.4 (its "manual" mode) instead of the
 * randomised dynamic weight selector, so runs are deterministic; the bitrate is the chunk's size x 8 / D
 * from the observation. Throughput: the mean of the last 3 chunks' transfer throughputs.
 */
export class LolPlusRule implements LivePolicy {
  readonly name = 'lolp';
  private neurons: Array<{ kbps: number; s: number[] }> = [];
  private norm = 1;
  private minBufferS = 0.5;
  start(ladderKbps: readonly number[]): void {
    this.norm = Math.sqrt(ladderKbps.reduce((a, k) => a + k * k, 0));
    this.neurons = ladderKbps.map((k) => ({ kbps: k, s: [k / this.norm, 0, 0, 0] }));
  }
  rateController(): RateController {
    return new LolpRateController();
  }
  private update(winner: number, x: number[]): void {
    const w = this.neurons[winner].s;
    for (const n of this.neurons) {
      let d2 = 0;
      for (let i = 0; i < 4; i++) d2 += (n.s[i] - w[i]) ** 2;
      const h = Math.exp(-d2 / (2 * 0.1 ** 2));
      for (let i = 0; i < 4; i++) n.s[i] += (x[i] - n.s[i]) * 0.01 * h;
    }
  }
  decide(o: LiveObservation): number {
    if (!this.neurons.length) this.start(o.ladderKbps);
    const n = o.throughputs.length;
    let thr = 0;
    const k = Math.min(3, n);
    for (let i = n - k; i < n; i++) thr += o.throughputs[i] * 8; // kbps (bytes/ms x 8)
    thr = k ? thr / k : 500;
    const kbps = (q: number) => bps(o.sizes[0][q], o.chunkS) / 1000;
    const cur = o.lastQuality;
    const dl = (q: number) => (kbps(q) * o.chunkS) / Math.max(thr, 1);
    if (o.bufferS - dl(cur) < this.minBufferS) {
      // downshift to the highest lower rung the throughput carries
      let best = cur;
      let bestK = 0;
      for (let q = 0; q < cur; q++) if (kbps(q) > bestK && thr > kbps(q)) ((best = q), (bestK = kbps(q)));
      return best === cur && cur > 0 && thr <= kbps(cur) ? 0 : best;
    }
    let thrN = thr / this.norm;
    if (thrN > 1) thrN = Math.max(...this.neurons.map((x) => x.s[0]));
    const latN = o.latencyS / 100;
    const rebuf = Math.max(0, dl(cur) - o.bufferS);
    let win = 0;
    let best = Infinity;
    for (let q = 0; q < this.neurons.length; q++) {
      const w = [0.4, 0.4, 0.4, 0.4];
      const next = o.bufferS - dl(q) + o.chunkS;
      if (kbps(q) > thr - 10 || next < this.minBufferS) if (q !== 0) w[0] = 100;
      const s = this.neurons[q].s;
      const d = Math.sqrt(w[0] * (s[0] - thrN) ** 2 + w[1] * s[1] ** 2 + w[2] * s[2] ** 2 + w[3] * s[3] ** 2);
      if (d < best) ((best = d), (win = q));
    }
    const sw = Math.abs(this.neurons[cur].kbps - this.neurons[win].kbps) / this.norm;
    this.update(cur, [thrN, latN, rebuf, sw]);
    this.update(win, [thrN, 0, 0, sw]);
    return win;
  }
}

/**
 * BBA-1 with a chunk map (Huang et al., SIGCOMM 2014) for live: the buffer between a reservoir and
 * reservoir + cushion maps linearly onto chunk sizes between the lowest and the highest rung's next-chunk
 * size; the highest rung whose next chunk is not larger is chosen (rung 0 below the reservoir, the top
 * above the cushion). A live buffer never exceeds the latency, so both are relative to the target latency T:
 * reservoir 0.6 T and cushion 2.5 T by default, the best of a grid (reservoir 0.1..1.5 T, cushion 0.2..4 T)
 * on training videos x training traces (`npm run train:live-abr -- --tune-bb`).
 */
export class LiveBufferBased implements LivePolicy {
  readonly name = 'bb';
  constructor(private opts: { reservoirS?: number; cushionS?: number } = {}) {}
  decide(o: LiveObservation): number {
    const R = o.ladderKbps.length;
    const res = this.opts.reservoirS ?? 0.6 * o.targetLatencyS;
    const cush = this.opts.cushionS ?? 2.5 * o.targetLatencyS;
    if (o.bufferS <= res) return 0;
    if (o.bufferS >= res + cush) return R - 1;
    const lo = o.sizes[0][0];
    const hi = o.sizes[0][R - 1];
    const f = lo + ((hi - lo) * (o.bufferS - res)) / cush;
    let best = 0;
    for (let q = 0; q < R; q++) if (o.sizes[0][q] <= f) best = q;
    return best;
  }
}

/**
 * RobustMPC (Yin et al., SIGCOMM 2015) on the live QoE: throughput = harmonic mean of the last 5 transfer
 * throughputs / (1 + max relative error of the last 5 predictions); over the next `horizon` chunks (sizes
 * from the observation) it plans every rung sequence — rungs within `window` of the last one when the
 * ladder has more than 6 — simulating waits for production, downloads, rebuffering and the latency that
 * rebuffering adds, and scores it with the live QoE (core/live-qoe.ts) at the current playback rate; the
 * first rung of the best plan is played.
 */
export class LiveRobustMpc implements LivePolicy {
  readonly name = 'robustmpc';
  private errors: number[] = [];
  private lastEst: number | null = null;
  private w: LiveQoeWeights | null = null;
  constructor(private opts: { horizon?: number; window?: number } = {}) {}
  start(ladderKbps: readonly number[]): void {
    this.errors = [];
    this.lastEst = null;
    this.w = liveQoeWeights(ladderKbps);
  }
  decide(o: LiveObservation): number {
    const w = (this.w ??= liveQoeWeights(o.ladderKbps));
    const n = o.throughputs.length;
    const sample = n ? o.throughputs[n - 1] : 0;
    if (this.lastEst !== null && sample > 0) this.errors.push(Math.abs(this.lastEst - sample) / sample);
    let inv = 0;
    let m = 0;
    for (let i = Math.max(0, n - 5); i < n; i++)
      if (o.throughputs[i] > 0) {
        inv += 1 / o.throughputs[i];
        m++;
      }
    const harm = m ? m / inv : 62.5; // bytes/ms (62.5 = 500 kbps)
    this.lastEst = harm;
    const maxErr = this.errors.length ? Math.max(...this.errors.slice(-5)) : 0;
    const bw = (harm / (1 + maxErr)) * 1000; // bytes/s
    const R = o.ladderKbps.length;
    const H = Math.min(this.opts.horizon ?? 5, o.sizes.length);
    const win = R > 6 ? (this.opts.window ?? 2) : R;
    const lo = Math.max(0, o.lastQuality - win);
    const hi = Math.min(R - 1, o.lastQuality + win);
    const D = o.chunkS;
    const parts = Math.max(1, Math.round(D / o.partS));
    // production end of chunk nextIndex + p, seconds from now: E0 + p D
    const E0 = o.waitS > 0 ? o.waitS - o.partS + D : Math.max(0, D - o.producedS);
    let best = -Infinity;
    let choice = o.lastQuality;
    // depth-first over rung sequences, carrying time, buffer, latency and score
    const rec = (p: number, t: number, buf: number, lat: number, prev: number, score: number, first: number) => {
      if (p === H) {
        if (score > best) {
          best = score;
          choice = first;
        }
        return;
      }
      const end = E0 + p * D;
      const wait = Math.max(0, end - D + o.partS - t);
      for (let q = lo; q <= hi; q++) {
        const dl = o.sizes[p][q] / bw;
        // parts arrive evenly over the download and are played as they arrive: the worst part decides
        const rebuf = Math.max(0, wait + dl / parts - buf, wait + dl - buf - (D - o.partS));
        const f = Math.max(t + wait + dl, end) - t;
        const b = Math.max(0, buf + D - (f - rebuf));
        const l = lat + rebuf;
        const kb = o.ladderKbps[q];
        const seg =
          w.bitrate * D * kb -
          w.switch * Math.abs(kb - o.ladderKbps[prev]) -
          w.rebuffer * rebuf -
          (l <= w.latencyThresholdS ? w.latencyLow : w.latencyHigh) * l;
        rec(p + 1, t + f, b, l, q, score + seg, p === 0 ? q : first);
      }
    };
    rec(0, 0, o.bufferS, o.latencyS, o.lastQuality, 0, o.lastQuality);
    return choice;
  }
}

/** The names of the baseline live policies `liveBaseline` builds (each policy's `name`), in the order benchmarks list them. */
export const LIVE_BASELINES = ['robustmpc', 'hlsjs', 'lolp', 'bb'] as const;
export type LiveBaselineName = (typeof LIVE_BASELINES)[number];

/**
 * A fresh baseline live policy by name, with its default parameters (bench:live-abr and bench:part-sizes build their
 * baselines here):
 * - `robustmpc`: LiveRobustMpc (Yin et al., SIGCOMM 2015) on the live QoE of core/live-qoe.ts, horizon 5 chunks,
 *   window 2 rungs on ladders of more than 6;
 * - `hlsjs`: HlsLiveRule (hls.js abr-controller.ts live rule and its latency controller, max rate 1.5);
 * - `lolp`: LolPlusRule (Bentaleb et al., IEEE TMM 2021; dash.js LearningAbrController) with LoL+ playback control;
 * - `bb`: LiveBufferBased (BBA-1 chunk map, Huang et al., SIGCOMM 2014), reservoir 0.6 T and cushion 2.5 T of the
 *   target latency T.
 * Each call returns a new object (policies keep per-session state) whose `name` is `name`. Its decide() takes a
 * LiveObservation (bitrates kbps, durations s, throughputs bytes/ms, sizes[h][rung] bytes) and returns a rung index
 * in [0, ladderKbps.length). Throws an Error naming the known baselines when `name` is none of LIVE_BASELINES.
 */
export function liveBaseline(name: string): LivePolicy {
  switch (name as LiveBaselineName) {
    case 'robustmpc':
      return new LiveRobustMpc();
    case 'hlsjs':
      return new HlsLiveRule();
    case 'lolp':
      return new LolPlusRule();
    case 'bb':
      return new LiveBufferBased();
  }
  throw new Error(`unknown live policy ${JSON.stringify(name)}: the baselines are ${LIVE_BASELINES.join(', ')}`);
}

/**
 * One live decision asked of the worker (the player side of issue 14): what happened since the previous
 * request and the player state; the worker feeds `finished` to its chunk-size forecaster, fills the
 * observation's `sizes` with the forecast and asks its live policy.
 */
export interface LiveDecisionRequest {
  /** a new stream or ladder: the forecaster forgets the past */
  reset: boolean;
  ladderKbps: number[];
  chunkS: number;
  /**
   * chunks finished since the previous request, in playback order: bytes per rung (null where unknown) and
   * the coding meta per rung when the packager published it (null otherwise)
   */
  finished: Array<{ sn: number; sizes: Array<number | null>; meta: ChunkMeta[] | null }>;
  /** the observation, `sizes` left for the worker's forecast */
  obs: Omit<LiveObservation, 'sizes'>;
}

/** The worker's answer: the level and the forecast it decided on (bytes[h][rung] of the next chunks). */
export interface LiveDecision {
  level: number;
  forecast: number[][];
  policy: string;
  forecaster: string;
}
