/**
 * Next-chunk size prediction. HLS playlists carry no segment sizes, so a policy that wants them in the
 * player must predict them. The simple predictor here: each downloaded chunk tells how "heavy" the
 * content is right now (its bytes over the nominal bytes of its level); an EWMA of that ratio times each
 * level's nominal bytes per chunk predicts the next chunk at every level.
 * (A learned predictor is a later issue; it plugs in behind the same interface.)
 */
import { CHUNK_S, type AbrObservation, type AbrPolicy } from '../core/abr.js';

export interface ChunkSizePredictor {
  /** a chunk of `bytes` was downloaded at level `q` */
  observe(q: number, bytes: number): void;
  /** predicted bytes of the next chunk at every level */
  predict(): number[];
  reset(): void;
  /** an independent copy in the same state (optional: the controller's decision tables need it) */
  clone?(): ChunkSizePredictor;
}

export class RatioEwmaPredictor implements ChunkSizePredictor {
  private ratio = 1;
  private seen = 0;
  /** `ladderKbps`: the levels' (average) bitrates; `alpha`: weight of the newest chunk */
  constructor(
    private ladderKbps: readonly number[],
    private alpha = 0.6,
    private chunkS = CHUNK_S,
  ) {}
  private nominal(q: number): number {
    return (this.ladderKbps[q] * 1000 * this.chunkS) / 8;
  }
  observe(q: number, bytes: number): void {
    const r = bytes / this.nominal(q);
    this.ratio = this.seen === 0 ? r : this.alpha * r + (1 - this.alpha) * this.ratio;
    this.seen++;
  }
  predict(): number[] {
    return this.ladderKbps.map((_, q) => this.ratio * this.nominal(q));
  }
  reset(): void {
    this.ratio = 1;
    this.seen = 0;
  }
  clone(): RatioEwmaPredictor {
    const c = new RatioEwmaPredictor(this.ladderKbps, this.alpha, this.chunkS);
    c.ratio = this.ratio;
    c.seen = this.seen;
    return c;
  }
}

/**
 * Runs `inner` on predicted instead of true next-chunk sizes (what the player can know). The
 * downloaded chunk's size is recovered from the observation (throughput x download time).
 */
export class WithPredictedSizes implements AbrPolicy {
  readonly name: string;
  constructor(
    private inner: AbrPolicy,
    private predictor: ChunkSizePredictor,
    name?: string,
  ) {
    this.name = name ?? `${inner.name}-predicted`;
  }
  videoStart(): void {
    this.predictor.reset();
    this.inner.videoStart?.();
  }
  decide(o: AbrObservation): number {
    const n = o.throughputs.length;
    this.predictor.observe(o.lastQuality, o.throughputs[n - 1] * o.delaysMs[n - 1]);
    const predicted = o.remain > 0 ? this.predictor.predict() : o.nextSizes.map(() => 0);
    return this.inner.decide({ ...o, nextSizes: predicted });
  }
}
