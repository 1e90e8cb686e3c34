/**
 * Baseline ABR policies behind one interface (used by the simulator and, through the hls.js adapter,
 * by the player).
 * - BufferBased: Pensieve's BB (reservoir 5 s, cushion 10 s).
 * - RobustMpc: test/mpc.py as published, quirks included (see ../shared/data/abr/README.md).
 */
import { LEVELS, type AbrObservation, type AbrPolicy } from '../core/abr.js';

export class BufferBased implements AbrPolicy {
  readonly name = 'bb';
  constructor(
    private reservoirS = 5,
    private cushionS = 10,
  ) {}
  decide(o: AbrObservation): number {
    const top = o.ladderKbps.length - 1;
    if (o.bufferS < this.reservoirS) return 0;
    if (o.bufferS >= this.reservoirS + this.cushionS) return top;
    return Math.trunc((top * (o.bufferS - this.reservoirS)) / this.cushionS);
  }
}

export interface MpcOptions {
  horizon?: number;
  /**
   * Chunk sizes for the look-ahead: `sizeOf(q, index)`. Default: the published quirk reads the
   * simulator's video sizes one chunk ahead (index = last_index + position + 1, 0 beyond 48).
   */
  sizeOf?: (q: number, index: number) => number;
  /** look ahead from the chunk actually requested next (fixes the published off-by-one) */
  fixOffByOne?: boolean;
}

/** RobustMPC (Yin et al. 2015) as in Pensieve's test/mpc.py. */
export class RobustMpc implements AbrPolicy {
  readonly name = 'robustmpc';
  private pastErrors: number[] = [];
  private pastEsts: number[] = [];
  private horizon: number;
  private dl = new Float64Array(0);
  private stack = new Float64Array(0);
  private lastQ = new Int32Array(0);
  private choice = new Int32Array(0);

  constructor(
    private sizes: number[][] | null,
    private opts: MpcOptions = {},
  ) {
    this.horizon = opts.horizon ?? 5;
  }

  private size(q: number, index: number): number {
    if (this.opts.sizeOf) return this.opts.sizeOf(q, index);
    const s = this.sizes?.[q];
    if (!s || index < 0 || index >= s.length) return 0;
    return s[index];
  }

  decide(o: AbrObservation): number {
    const sample = o.throughputs[o.throughputs.length - 1] / 1000; // bytes/ms / 1000 = MB/s
    let err = 0;
    if (this.pastEsts.length > 0) err = Math.abs(this.pastEsts[this.pastEsts.length - 1] - sample) / sample;
    this.pastErrors.push(err);
    const recent = o.throughputs
      .slice(-5)
      .map((x) => x / 1000)
      .filter((x, i, a) => a.slice(0, i + 1).some((y) => y !== 0));
    let inv = 0;
    for (const b of recent) inv += 1 / b;
    const harmonic = 1 / (inv / recent.length);
    const maxErr = Math.max(...this.pastErrors.slice(-5));
    const future = harmonic / (1 + maxErr);
    this.pastEsts.push(harmonic);

    const ladder = o.ladderKbps;
    const levels = ladder.length || LEVELS;
    const lastIndex = o.totalChunks - o.remain;
    let len = this.horizon;
    if (o.totalChunks - lastIndex < len) len = o.totalChunks - lastIndex;
    const start = this.opts.fixOffByOne ? lastIndex - 1 : lastIndex;
    if (len <= 0) return 0;
    // test/mpc.py scores every levels^len combination and keeps the last best in lexicographic order. Here
    // the same combinations are walked depth-first (prefixes share their arithmetic: the same operations in
    // the same order per combination, so the same scores) in reverse lexicographic order, keeping the
    // first strictly best, and a branch is cut when even the top level at every remaining position could
    // not beat the best so far (bitrate sums are exact integers; rebuffering and switches only add): the
    // same decision as the exhaustive loop, several times faster.
    const dl = this.dl.length >= len * levels ? this.dl : (this.dl = new Float64Array(len * levels));
    for (let p = 0; p < len; p++) for (let q = 0; q < levels; q++) dl[p * levels + q] = this.size(q, start + p + 1) / 1e6 / future;
    const st = this.stack.length >= (len + 1) * 4 ? this.stack : (this.stack = new Float64Array((len + 1) * 4));
    const lastQ = this.lastQ.length >= len + 1 ? this.lastQ : (this.lastQ = new Int32Array(len + 1));
    const choice = this.choice.length >= len ? this.choice : (this.choice = new Int32Array(len));
    let top = 0;
    for (let q = 0; q < levels; q++) top = Math.max(top, ladder[q]);
    // st[d*4 + 0..3] = rebuf, buf, brSum, smooth before position d; lastQ[d] = level before position d
    st[0] = 0;
    st[1] = o.bufferS;
    st[2] = 0;
    st[3] = 0;
    lastQ[0] = o.lastQuality;
    let best = -1e8;
    let send = 0;
    let d = 0;
    choice[0] = levels;
    while (d >= 0) {
      const q = --choice[d];
      if (q < 0) {
        d--;
        continue;
      }
      const b = d * 4;
      let rebuf = st[b];
      let buf = st[b + 1];
      const x = dl[d * levels + q];
      if (buf < x) {
        rebuf += x - buf;
        buf = 0;
      } else buf -= x;
      buf += 4;
      const brSum = st[b + 2] + ladder[q];
      const smooth = st[b + 3] + Math.abs(ladder[q] - ladder[lastQ[d]]);
      if (d === len - 1) {
        const reward = brSum / 1000 - 4.3 * rebuf - smooth / 1000;
        if (reward > best) {
          best = reward;
          send = choice[0];
        }
        continue;
      }
      if ((brSum + (len - 1 - d) * top) / 1000 - 4.3 * rebuf - smooth / 1000 <= best) continue;
      const n = b + 4;
      st[n] = rebuf;
      st[n + 1] = buf;
      st[n + 2] = brSum;
      st[n + 3] = smooth;
      lastQ[d + 1] = q;
      d++;
      choice[d] = levels;
    }
    return send;
  }
}

/** Exponentially weighted moving average with a half-life in units of weight (seconds), as hls.js. */
class Ewma {
  private alpha: number;
  private est = 0;
  total = 0;
  constructor(halfLife: number) {
    this.alpha = halfLife ? Math.exp(Math.log(0.5) / halfLife) : 0;
  }
  sample(weight: number, value: number): void {
    const a = this.alpha ** weight;
    this.est = value * (1 - a) + a * this.est;
    this.total += weight;
  }
  get(): number {
    if (this.total) {
      const zero = 1 - this.alpha ** this.total;
      if (zero) return this.est / zero;
    }
    return this.est;
  }
}

/**
 * Rate-based: the hls.js default rule. Bandwidth = min(fast, slow) EWMA of per-chunk throughput
 * (half-lives 3 s / 9 s of download time); the next level is the highest whose bitrate fits in
 * 0.95 x estimate (same or lower level) or 0.7 x estimate (switching up).
 */
export class RateBased implements AbrPolicy {
  readonly name = 'rb';
  private fast = new Ewma(3);
  private slow = new Ewma(9);
  private seen = 0;
  constructor(
    private opts: {
      fastHalfLife?: number;
      slowHalfLife?: number;
      bwFactor?: number;
      bwUpFactor?: number;
      defaultEstimateBps?: number;
    } = {},
  ) {
    this.fast = new Ewma(opts.fastHalfLife ?? 3);
    this.slow = new Ewma(opts.slowHalfLife ?? 9);
  }
  videoStart(): void {
    this.seen = 0;
    this.fast = new Ewma(this.opts.fastHalfLife ?? 3);
    this.slow = new Ewma(this.opts.slowHalfLife ?? 9);
  }
  /** Bits per second. */
  estimate(): number {
    return this.fast.total >= 0.001 ? Math.min(this.fast.get(), this.slow.get()) : (this.opts.defaultEstimateBps ?? 500000);
  }
  decide(o: AbrObservation): number {
    for (let i = this.seen; i < o.throughputs.length; i++) {
      const ms = Math.max(o.delaysMs[i], 50);
      const bps = o.throughputs[i] * 8000;
      this.fast.sample(ms / 1000, bps);
      this.slow.sample(ms / 1000, bps);
    }
    this.seen = o.throughputs.length;
    const bw = this.estimate();
    const f = this.opts.bwFactor ?? 0.95;
    const up = this.opts.bwUpFactor ?? 0.7;
    let best = 0;
    for (let q = 0; q < o.ladderKbps.length; q++) {
      const factor = q <= o.lastQuality ? f : up;
      if (o.ladderKbps[q] * 1000 <= factor * bw) best = q;
    }
    return best;
  }
}

/**
 * BOLA-BASIC (Spiteri, Urgaonkar, Sitaraman 2016) with dash.js' parameterisation: utilities
 * ln(bitrate) shifted to start at 1, minimum buffer 10 s, buffer target `targetS`.
 */
export class Bola implements AbrPolicy {
  readonly name = 'bola';
  constructor(
    private targetS = 30,
    private minBufferS = 10,
  ) {}
  decide(o: AbrObservation): number {
    const ladder = o.ladderKbps;
    const u = ladder.map((b) => Math.log(b) - Math.log(ladder[0]) + 1);
    const target = Math.max(this.targetS, this.minBufferS + 2 * ladder.length);
    const gp = (u[u.length - 1] - 1) / (target / this.minBufferS - 1);
    const vp = this.minBufferS / gp;
    let best = 0;
    let bestScore = -Infinity;
    for (let q = 0; q < ladder.length; q++) {
      const score = (vp * (u[q] + gp) - o.bufferS) / ladder[q];
      if (score >= bestScore) {
        bestScore = score;
        best = q;
      }
    }
    return best;
  }
}
