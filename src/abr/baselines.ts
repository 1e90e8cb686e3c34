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
  private combos: Int8Array[] = [];

  constructor(
    private sizes: number[][] | null,
    private opts: MpcOptions = {},
  ) {
    this.horizon = opts.horizon ?? 5;
  }

  private combosFor(levels: number): Int8Array[] {
    if (this.combos.length === levels ** this.horizon) return this.combos;
    const out: Int8Array[] = [];
    const c = new Int8Array(this.horizon);
    const rec = (pos: number) => {
      if (pos === this.horizon) return void out.push(c.slice());
      for (let q = 0; q < levels; q++) {
        c[pos] = q;
        rec(pos + 1);
      }
    };
    rec(0);
    return (this.combos = out);
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
    const lastIndex = o.totalChunks - o.remain;
    let len = this.horizon;
    if (o.totalChunks - lastIndex < len) len = o.totalChunks - lastIndex;
    const start = this.opts.fixOffByOne ? lastIndex - 1 : lastIndex;
    let best = -1e8;
    let send = 0;
    // every 6^5 combination in lexicographic order, truncated to `len`; ties go to the last one
    for (const combo of this.combosFor(ladder.length || LEVELS)) {
      let rebuf = 0;
      let buf = o.bufferS;
      let brSum = 0;
      let smooth = 0;
      let last = o.lastQuality;
      for (let p = 0; p < len; p++) {
        const q = combo[p];
        const dl = this.size(q, start + p + 1) / 1e6 / future;
        if (buf < dl) {
          rebuf += dl - buf;
          buf = 0;
        } else buf -= dl;
        buf += 4;
        brSum += ladder[q];
        smooth += Math.abs(ladder[q] - ladder[last]);
        last = q;
      }
      const reward = brSum / 1000 - 4.3 * rebuf - smooth / 1000;
      if (reward >= best) {
        best = reward;
        send = len > 0 ? combo[0] : 0;
      }
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
