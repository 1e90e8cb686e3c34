/**
 * Multi-horizon chunk-size forecasting for live streams (issue 14; "Learning-based Rate Adaption" of
 * ../shared/papers/edge-intelligence-immersive-media.txt): after each finished chunk the forecaster learns
 * its bytes at the rungs that are known (the rung the player fetched, or every rung when the packager
 * publishes them with the chunk's coding meta) and predicts the next k = 1..H chunks' bytes at every rung.
 *
 * This file holds the interface, the simple baselines of ../shared/data/chunks/README.md ("Statistics and
 * the yardstick": last value, mean of past, mean of the last 5, EWMA 0.3) and today's ratio-EWMA, all
 * applied per rung to the rung's own past. The learned, meta-trained forecaster is in size-model.ts.
 * Pure TypeScript: no DOM, no Node, no tfjs.
 */
import type { ChunkSizePredictor } from './chunk-size.js';

/** Coding meta of one chunk at one rung, as the packager can publish it (bench/encodes.ts measures it). */
export interface ChunkMeta {
  /** chunk (segment) bytes */
  bytes: number;
  frames: number;
  /** mean x264 QP over the chunk's frames */
  qpMean: number;
  iCount: number;
  pCount: number;
  bCount: number;
  /** bytes of the I, P and B frames (elementary stream, no container) */
  iBytes: number;
  pBytes: number;
  bBytes: number;
  /** bytes of the frames of the chunk's second half (decode order) */
  tailBytes: number;
  /** largest scene-change score of the chunk's frames (ffmpeg `scene`, 0..1) */
  scene: number;
}

/** What the forecaster knows of the stream before the first chunk. */
export interface StreamInfo {
  /** nominal rung bitrates, kbps, ascending */
  ladderKbps: readonly number[];
  /** chunk duration, seconds */
  chunkS: number;
}

export interface SizeForecaster {
  readonly name: string;
  /** a new stream starts: forget everything */
  start(info: StreamInfo): void;
  /**
   * The next chunk (in playback order) is finished: its bytes per rung (null where unknown) and, when
   * published, its coding meta per rung (null entries or a null array where not).
   */
  observe(sizes: ArrayLike<number | null>, meta?: ReadonlyArray<ChunkMeta | null> | null): void;
  /**
   * Predicted bytes of the next `horizons` chunks: out[h][rung] for the (h+1)-th chunk after the last
   * observed one. Before any chunk was observed: the nominal bytes (kbps x chunk_s / 8).
   */
  forecast(horizons: number): number[][];
}

/** nominal bytes of a chunk at `kbps` */
export const nominalBytes = (kbps: number, chunkS: number) => (kbps * 1000 * chunkS) / 8;

/**
 * Per-rung history with imputation: a rung whose size is unknown for a chunk is filled from a known rung
 * times the running ratio between the two rungs (EWMA of the log ratio over chunks where both were known,
 * the nominal ratio before that). Shared by every forecaster so they all see the same series.
 */
export class RungHistory {
  /** sizes[rung][chunk], bytes (imputed where unknown) */
  sizes: number[][] = [];
  /** known[rung][chunk] */
  known: boolean[][] = [];
  meta: Array<Array<ChunkMeta | null>> = [];
  /** running sum of sizes[rung][*] */
  sums: number[] = [];
  info: StreamInfo = { ladderKbps: [], chunkS: 1 };
  /** EWMA of log(size_r / size_0) */
  private logRatio: number[] = [];
  get length(): number {
    return this.sizes[0]?.length ?? 0;
  }
  get rungs(): number {
    return this.info.ladderKbps.length;
  }
  start(info: StreamInfo): void {
    this.info = info;
    const R = info.ladderKbps.length;
    this.sizes = Array.from({ length: R }, () => []);
    this.known = Array.from({ length: R }, () => []);
    this.meta = Array.from({ length: R }, () => []);
    this.sums = info.ladderKbps.map(() => 0);
    this.logRatio = info.ladderKbps.map((k) => Math.log(k / info.ladderKbps[0]));
  }
  push(sizes: ArrayLike<number | null>, meta?: ReadonlyArray<ChunkMeta | null> | null): void {
    const R = this.rungs;
    if (sizes.length !== R) throw new Error(`RungHistory: ${sizes.length} sizes for ${R} rungs`);
    const known: number[] = [];
    for (let r = 0; r < R; r++) {
      const s = sizes[r];
      if (s !== null && s !== undefined && s > 0) known.push(r);
    }
    // update the cross-rung ratios where two rungs are known
    if (known.length >= 2 && known.includes(0))
      for (const r of known) if (r > 0) this.logRatio[r] = 0.8 * this.logRatio[r] + 0.2 * Math.log(sizes[r]! / sizes[0]!);
    let base: number; // imputed log size of rung 0
    if (known.length) {
      let acc = 0;
      for (const r of known) acc += Math.log(sizes[r]!) - this.logRatio[r];
      base = acc / known.length;
    } else {
      const n = this.length;
      base = n ? Math.log(this.sizes[0][n - 1]) : Math.log(nominalBytes(this.info.ladderKbps[0], this.info.chunkS));
    }
    for (let r = 0; r < R; r++) {
      const s = sizes[r];
      const ok = s !== null && s !== undefined && s > 0;
      const v = ok ? s : Math.exp(base + this.logRatio[r]);
      this.sizes[r].push(v);
      this.sums[r] += v;
      this.known[r].push(ok);
      this.meta[r].push(meta?.[r] ?? null);
    }
  }
}

/** A forecaster that predicts every horizon with one per-rung statistic of the rung's own past. */
export abstract class PerRungForecaster implements SizeForecaster {
  abstract readonly name: string;
  protected h = new RungHistory();
  start(info: StreamInfo): void {
    this.h.start(info);
    this.reset();
  }
  protected reset(): void {}
  observe(sizes: ArrayLike<number | null>, meta?: ReadonlyArray<ChunkMeta | null> | null): void {
    this.h.push(sizes, meta);
    for (let r = 0; r < this.h.rungs; r++) this.update(r, this.h.sizes[r][this.h.length - 1]);
  }
  /** the rung's newest size */
  protected abstract update(r: number, s: number): void;
  /** the rung's point forecast (bytes) */
  protected abstract level(r: number): number;
  forecast(horizons: number): number[][] {
    const { ladderKbps, chunkS } = this.h.info;
    const row = ladderKbps.map((k, r) => (this.h.length ? this.level(r) : nominalBytes(k, chunkS)));
    return Array.from({ length: horizons }, () => row.slice());
  }
}

/** `last`: the rung's last size. */
export class LastValue extends PerRungForecaster {
  readonly name = 'last';
  private last: number[] = [];
  protected override reset(): void {
    this.last = [];
  }
  protected update(r: number, s: number): void {
    this.last[r] = s;
  }
  protected level(r: number): number {
    return this.last[r];
  }
}

/** `mean_all`: the mean of all past sizes of the rung (the seed paper's "average of the past"). */
export class MeanOfPast extends PerRungForecaster {
  readonly name = 'mean_all';
  private sum: number[] = [];
  private n = 0;
  protected override reset(): void {
    this.sum = [];
    this.n = 0;
  }
  protected update(r: number, s: number): void {
    this.sum[r] = (this.sum[r] ?? 0) + s;
    if (r === 0) this.n++;
  }
  protected level(r: number): number {
    return this.sum[r] / this.n;
  }
}

/** `mean5`: the mean of the rung's last `window` sizes. */
export class MeanOfLast extends PerRungForecaster {
  readonly name: string;
  constructor(private window = 5) {
    super();
    this.name = `mean${window}`;
  }
  protected update(): void {}
  protected level(r: number): number {
    const s = this.h.sizes[r];
    const from = Math.max(0, s.length - this.window);
    let acc = 0;
    for (let j = from; j < s.length; j++) acc += s[j];
    return acc / (s.length - from);
  }
}

/** `ewma`: e[0] = s[0], e[k] = alpha * s[k] + (1 - alpha) * e[k-1] (alpha 0.3 in the data README). */
export class EwmaForecaster extends PerRungForecaster {
  readonly name: string;
  private e: number[] = [];
  constructor(private alpha = 0.3) {
    super();
    this.name = `ewma${alpha}`;
  }
  protected override reset(): void {
    this.e = [];
  }
  protected update(r: number, s: number): void {
    this.e[r] = this.e[r] === undefined ? s : this.alpha * s + (1 - this.alpha) * this.e[r];
  }
  protected level(r: number): number {
    return this.e[r];
  }
}

/**
 * Today's `RatioEwmaPredictor` (chunk-size.ts) as a forecaster: an EWMA (alpha 0.6) of each observed
 * chunk's bytes over its rung's nominal bytes, times each rung's nominal bytes. Observing every rung, it
 * keeps one ratio per rung (then it equals an EWMA 0.6 of the rung's sizes); `observeRung` makes it learn
 * from one rung only, as in the player, predicting the others by the nominal ladder.
 */
export class RatioEwmaForecaster implements SizeForecaster {
  readonly name = 'ratio_ewma';
  private ratio: Array<number | null> = [];
  private info: StreamInfo = { ladderKbps: [], chunkS: 1 };
  constructor(
    private alpha = 0.6,
    private observeRung: number | null = null,
  ) {}
  start(info: StreamInfo): void {
    this.info = info;
    this.ratio = info.ladderKbps.map(() => null);
  }
  observe(sizes: ArrayLike<number | null>): void {
    const { ladderKbps, chunkS } = this.info;
    for (let r = 0; r < ladderKbps.length; r++) {
      const s = sizes[r];
      if (s === null || s === undefined || (this.observeRung !== null && r !== this.observeRung)) continue;
      const x = s / nominalBytes(ladderKbps[r], chunkS);
      const prev = this.ratio[r];
      this.ratio[r] = prev === null ? x : this.alpha * x + (1 - this.alpha) * prev;
    }
  }
  forecast(horizons: number): number[][] {
    const { ladderKbps, chunkS } = this.info;
    const shared = this.observeRung !== null ? this.ratio[this.observeRung] : null;
    const row = ladderKbps.map((k, r) => (shared ?? this.ratio[r] ?? 1) * nominalBytes(k, chunkS));
    return Array.from({ length: horizons }, () => row.slice());
  }
}

/**
 * A multi-horizon forecaster behind the player's next-chunk interface (`ChunkSizePredictor`, chunk-size.ts):
 * VOD as the player fetches it — each downloaded chunk's bytes are known at the rung it was fetched at only
 * (the others null: the forecaster imputes them, e.g. `RungHistory`), and the prediction is the forecaster's
 * horizon 1 at every rung. `WithPredictedSizes(policy, new ForecasterSizes(new LearnedSizeForecaster(net),
 * ladder, chunkS))` runs a policy on the meta-learned forecaster's sizes (bench:abr's `drl-meta`).
 * @param ladderKbps nominal rung bitrates, kbps, ascending (the policy's levels, same order)
 * @param chunkS chunk duration, s
 * @throws RangeError for an empty ladder or a chunk duration ≤ 0
 */
export class ForecasterSizes implements ChunkSizePredictor {
  constructor(
    private forecaster: SizeForecaster,
    private ladderKbps: readonly number[],
    private chunkS: number,
  ) {
    if (!ladderKbps.length) throw new RangeError('ForecasterSizes: the ladder is empty');
    if (!(chunkS > 0)) throw new RangeError(`ForecasterSizes: chunk duration must be > 0 s, got ${chunkS}`);
    this.reset();
  }
  /** a chunk of `bytes` was downloaded at level `q`: the forecaster learns that rung of the chunk */
  observe(q: number, bytes: number): void {
    const s: Array<number | null> = this.ladderKbps.map(() => null);
    if (q >= 0 && q < s.length && bytes > 0) s[q] = bytes;
    this.forecaster.observe(s);
  }
  /** the next chunk's bytes at every level (horizon 1) */
  predict(): number[] {
    return this.forecaster.forecast(1)[0];
  }
  /** a new stream: the forecaster forgets it all */
  reset(): void {
    this.forecaster.start({ ladderKbps: this.ladderKbps, chunkS: this.chunkS });
  }
}
