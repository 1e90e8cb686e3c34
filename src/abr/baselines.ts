/**
 * Baseline ABR policies behind one interface (used by the simulator and, through the hls.js adapter,
 * by the player).
 * - BufferBased: Pensieve's BB (reservoir 5 s, cushion 10 s).
 * - RobustMpc: test/mpc.py as published, quirks included (see ../shared/data/abr/README.md).
 */
import { LEVELS, type AbrObservation, type AbrPolicy } from '../core/abr.js';

export class BufferBased implements AbrPolicy {
  readonly name = 'bb';
  constructor(private reservoirS = 5, private cushionS = 10) {}
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

  constructor(private sizes: number[][] | null, private opts: MpcOptions = {}) {
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
    const recent = o.throughputs.slice(-5).map((x) => x / 1000).filter((x, i, a) => a.slice(0, i + 1).some((y) => y !== 0));
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
