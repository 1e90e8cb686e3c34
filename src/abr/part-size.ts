/**
 * Part-conditioned chunk-size prediction for LL-HLS (issue 14, phase 2): decide one part later. When the
 * first k parts (0.5 s each) of the chunk being produced are published, their bytes at the rung being played
 * are known (LL-HLS lists each part, with its byte range, in the media playlist as soon as it exists: RFC 8216bis
 * §4.4.4.9 EXT-X-PART). Those bytes carry the chunk's complexity, which the past sizes of a series do not
 * (`bench:chunks --bounds`: knowing one rung's size of the next chunk takes the forecast from 12.8 to 6.9 % MAPE).
 *
 * The model is a closed-form correction of any forecaster's next-chunk forecast f[r] (bytes per rung):
 *   head estimate   e = headBytes / share_k(rung)        share_k = EWMA of the first-k-parts' share of the
 *                                                          rung's past chunks (log domain; pooled over rungs
 *                                                          where the rung's own is not yet known)
 *   surprise        g = clip(log(e / f[rung]), ±3)
 *   prediction      p[r] = f[r] · exp(a_k · g)   for the rung whose parts are known ("own")
 *                   p[r] = f[r] · exp(b_k · g)   for the other rungs ("cross": the common complexity change,
 *                                                 placed by the forecaster's own rung ratios)
 * When the previous chunk at the same rung is known (it is for the player: it played that rung), a linear model
 * over `headFeatures` (the head, the previous chunk's head and size, g, all relative to f) replaces a_k · g / b_k · g.
 * a_k, b_k and the linear weights are least-squares slopes of the forecaster's log error on g, fitted on training videos
 * (src/train/part-size.ts); they shrink the head estimate by how reliable it is after k parts. How reliable it is
 * depends on the stream (under a CBR cap the first part says little about the chunk), so with `adaptLambda` the
 * slopes a_k, b_k are adapted to the stream as it plays (HeadSlopeAdapter: a Gaussian prior on the fitted slopes,
 * updated in closed form by the stream's own finished chunks; session 9).
 * Pure TypeScript: no DOM, no Node, no tfjs.
 */

/** Fitted coefficients for k = 1..K known parts (index k-1). */
export interface PartHeadCoefficients {
  /** LL-HLS part duration the coefficients were fitted at, s */
  partS: number;
  /** own[k-1], cross[k-1]: slopes for the rung whose first k parts are known and for the other rungs */
  own: number[];
  cross: number[];
  /** optional: later[k-1][h-2], the slope on g of the log correction of horizon h = 2..5 at every rung */
  later?: number[][];
  /** optional intercepts (log domain) added to own[k-1] · g and cross[k-1] · g */
  ownBias?: number[];
  crossBias?: number[];
  /** EWMA weight of a new chunk in the share estimate */
  shareAlpha: number;
  /**
   * Optional linear model used when the previous chunk at the head's rung is known (`ChunkHead.prev`): weights
   * over `headFeatures` (HEAD_FEATURES of them) per k, for the played rung (linOwn[k-1]) and the others (linCross[k-1]).
   */
  linOwn?: number[][];
  linCross?: number[][];
  /**
   * Optional per-stream adaptation of own[k-1] and cross[k-1] (session 9; HeadSlopeAdapter): the prior's strength λ
   * in the units of Σ g² of the stream's own past (g, log error) pairs; absent: the slopes are fixed.
   */
  adaptLambda?: number;
  /**
   * Optional slopes per rate-control class of the stream (session 10; `coefficientsFor`): a stream whose class the
   * packager publishes (and that has an entry here) uses these slopes, intercepts and later-horizon slopes instead of
   * own/cross/ownBias/crossBias/later; a stream of unknown class, or of a class without an entry, uses those.
   */
  byRateControl?: Partial<Record<RateControlClass, PartHeadSlopes>>;
}

/**
 * Rate-control class of a stream, as a packager can publish it with the coding meta: `cbr` (a CBR cap pins each
 * segment's bytes, so its first part says little about its size) or `vbr` (ABR with a cap above the target, capped
 * CRF: the bytes follow the content).
 */
export type RateControlClass = 'cbr' | 'vbr';

/** The slopes and intercepts of one rate-control class (PartHeadCoefficients.byRateControl); lengths as own. */
export interface PartHeadSlopes {
  own: number[];
  cross: number[];
  ownBias?: number[];
  crossBias?: number[];
  later?: number[][];
}

/**
 * The rate-control class named by the start of an encode's description (the `genre_or_note` column that
 * `npm run data:encodes` writes, e.g. "cbr zerolatency scenecut; ..."): `cbr` → 'cbr'; `abr`, `capped-crf`, `crf`,
 * `vbr` → 'vbr'; anything else (the shared dataset's genres) → null (unknown).
 */
export function rateControlClass(note: string): RateControlClass | null {
  const m = /^\s*(cbr|abr|capped-crf|crf|vbr)\b/i.exec(note);
  if (!m) return null;
  return m[1].toLowerCase() === 'cbr' ? 'cbr' : 'vbr';
}

/**
 * The coefficients a stream of rate-control class `rc` uses: `coef` with own, cross, the intercepts and (when the
 * class has them) the later slopes of `coef.byRateControl[rc]`, and no linear model (it was fitted for the default
 * slopes); `coef` itself when rc is null or has no entry. Throws when the entry's lengths differ from coef.own's.
 */
export function coefficientsFor(coef: PartHeadCoefficients, rc: RateControlClass | null | undefined): PartHeadCoefficients {
  const s = rc ? coef.byRateControl?.[rc] : undefined;
  if (!s) return coef;
  const K = coef.own.length;
  const bad = [s.own, s.cross, s.ownBias, s.crossBias, s.later].some((x) => x !== undefined && x.length !== K);
  if (bad) throw new Error(`coefficientsFor: the ${rc} slopes are not for k = 1..${K} like own`);
  return {
    ...coef,
    own: s.own,
    cross: s.cross,
    ownBias: s.ownBias,
    crossBias: s.crossBias,
    later: s.later ?? coef.later,
    linOwn: undefined,
    linCross: undefined,
  };
}

/**
 * Per-stream adaptation of the head's slopes (a learned-prior closed-form head, as the meta-learned size forecaster
 * of issue 14 adapts its level): after each finished chunk the player knows, for every k and every played rung p,
 * the surprise g its head gave and the base forecast's log error y at every rung. The posterior mean of a slope
 * under a Gaussian prior centred on the fitted one (strength λ = coef.adaptLambda) with the intercept held at the
 * fitted one is a = (λ a0 + Σ g (y - c)) / (λ + Σ g²), per k, for the played rung (own) and the others (cross).
 * `coefficients()` returns `coef` with those slopes (itself when adaptLambda is absent). Throws on k out of range.
 */
export class HeadSlopeAdapter {
  private sgy: number[][];
  private sgg: number[][];
  constructor(readonly coef: PartHeadCoefficients) {
    if (coef.adaptLambda !== undefined && !(coef.adaptLambda > 0))
      throw new Error(`HeadSlopeAdapter: adaptLambda ${coef.adaptLambda} must be > 0`);
    this.sgy = [coef.own.map(() => 0), coef.cross.map(() => 0)];
    this.sgg = [coef.own.map(() => 0), coef.cross.map(() => 0)];
  }
  /** A finished chunk's pair: k parts known, `own` (the rung was the played one) or not, surprise g, log error y. */
  observe(k: number, own: boolean, g: number, y: number): void {
    if (!(k >= 1 && k <= this.coef.own.length)) throw new Error(`HeadSlopeAdapter: k ${k} outside 1..${this.coef.own.length}`);
    if (!Number.isFinite(g) || !Number.isFinite(y)) return;
    const j = own ? 0 : 1;
    const c = (own ? this.coef.ownBias : this.coef.crossBias)?.[k - 1] ?? 0;
    this.sgy[j][k - 1] += g * (y - c);
    this.sgg[j][k - 1] += g * g;
  }
  coefficients(): PartHeadCoefficients {
    const lam = this.coef.adaptLambda;
    if (lam === undefined) return this.coef;
    const post = (a0: number[], j: number) => a0.map((a, k) => (lam * a + this.sgy[j][k]) / (lam + this.sgg[j][k]));
    return { ...this.coef, own: post(this.coef.own, 0), cross: post(this.coef.cross, 1), linOwn: undefined, linCross: undefined };
  }
}

/** Number of features of `headFeatures`. */
export const HEAD_FEATURES = 5;

/**
 * Features of the linear correction, all in log bytes relative to the forecast f of the head's rung:
 * [log(head / f), log(prev head / f), log(prev size / f), g (the share-based surprise), 1].
 */
export function headFeatures(forecastBytes: number, head: ChunkHead, share: number): number[] | null {
  const p = head.prev;
  if (!p || !(p.headBytes > 0) || !(p.bytes > 0) || !(forecastBytes > 0) || !(head.bytes > 0)) return null;
  const c = (x: number) => Math.max(-CLIP, Math.min(CLIP, Math.log(x / forecastBytes)));
  return [c(head.bytes), c(p.headBytes), c(p.bytes), headSurprise(forecastBytes, head.bytes, share), 1];
}

/** The known head of the chunk being produced: its first `parts` parts at `rung` weigh `bytes`. */
export interface ChunkHead {
  rung: number;
  parts: number;
  bytes: number;
  /** the previous chunk at the same rung: bytes of its first `parts` parts and its total bytes, when known */
  prev?: { headBytes: number; bytes: number } | null;
}

const CLIP = 3;

/**
 * Per-rung EWMA of the log share of a chunk's first k parts (k = 1..K) in its bytes. `observe` a finished
 * chunk's head bytes (heads[k-1][rung], null where not known, e.g. rungs the player did not fetch) and total
 * bytes per rung.
 */
export class PartShareTracker {
  private own: Array<Array<number | null>> = [];
  private pooled: Array<number | null> = [];
  constructor(
    readonly K: number,
    readonly rungs: number,
    readonly alpha = 0.3,
  ) {
    if (!(K >= 1 && rungs >= 1 && alpha > 0 && alpha <= 1))
      throw new Error(`PartShareTracker: bad K ${K}, rungs ${rungs} or alpha ${alpha}`);
    this.reset();
  }
  reset(): void {
    this.own = Array.from({ length: this.K }, () => Array<number | null>(this.rungs).fill(null));
    this.pooled = Array<number | null>(this.K).fill(null);
  }
  /** A finished chunk: heads[k-1][r] bytes of its first k parts at rung r (null: unknown), sizes[r] its bytes. */
  observe(heads: ReadonlyArray<ArrayLike<number | null>>, sizes: ArrayLike<number | null>): void {
    for (let k = 1; k <= Math.min(this.K, heads.length); k++) {
      let acc = 0;
      let n = 0;
      for (let r = 0; r < this.rungs; r++) {
        const h = heads[k - 1][r];
        const s = sizes[r];
        if (h === null || s === null || h === undefined || s === undefined || !(h > 0) || !(s > 0)) continue;
        const l = Math.log(Math.min(h, s) / s);
        const o = this.own[k - 1][r];
        this.own[k - 1][r] = o === null ? l : (1 - this.alpha) * o + this.alpha * l;
        acc += l;
        n++;
      }
      if (n) {
        const l = acc / n;
        const p = this.pooled[k - 1];
        this.pooled[k - 1] = p === null ? l : (1 - this.alpha) * p + this.alpha * l;
      }
    }
  }
  /** The expected share of the first k parts at rung r: its own EWMA, else the pooled one, else k / parts. */
  share(k: number, r: number, partsPerChunk: number): number {
    if (!(k >= 1 && k <= this.K)) throw new Error(`PartShareTracker: k ${k} outside 1..${this.K}`);
    const l = this.own[k - 1][r] ?? this.pooled[k - 1];
    return l === null ? Math.min(1, k / partsPerChunk) : Math.exp(l);
  }
}

/**
 * The forecast of the chunk being produced, corrected by its known head (see the file comment).
 * `forecast`: bytes per rung from any SizeForecaster (h = 1); `share`: the expected share of the head's k parts
 * at head.rung. Returns bytes per rung; never below the head's own bytes at its rung. Throws when the head's
 * rung or part count is out of range of the coefficients.
 */
export function conditionOnHead(forecast: ArrayLike<number>, head: ChunkHead, share: number, coef: PartHeadCoefficients): number[] {
  const R = forecast.length;
  if (!(head.rung >= 0 && head.rung < R)) throw new Error(`conditionOnHead: rung ${head.rung} outside 0..${R - 1}`);
  if (!(head.parts >= 1 && head.parts <= coef.own.length))
    throw new Error(`conditionOnHead: ${head.parts} parts, coefficients for 1..${coef.own.length}`);
  const k = head.parts - 1;
  const x = coef.linOwn && coef.linCross ? headFeatures(forecast[head.rung], head, share) : null;
  let own: number;
  let cross: number;
  if (x) {
    own = dot(coef.linOwn![k], x);
    cross = dot(coef.linCross![k], x);
  } else {
    const g = headSurprise(forecast[head.rung], head.bytes, share);
    own = coef.own[k] * g + (coef.ownBias?.[k] ?? 0);
    cross = coef.cross[k] * g + (coef.crossBias?.[k] ?? 0);
  }
  own = Math.max(-CLIP, Math.min(CLIP, own));
  cross = Math.max(-CLIP, Math.min(CLIP, cross));
  const out = Array.from(forecast, (f, r) => f * Math.exp(r === head.rung ? own : cross));
  out[head.rung] = Math.max(out[head.rung], head.bytes);
  return out;
}

const dot = (w: readonly number[], x: readonly number[]) => w.reduce((a, wi, i) => a + wi * x[i], 0);

/** log(head estimate / forecast), clipped to ±3: the surprise the head carries (0 when anything is missing). */
export function headSurprise(forecastBytes: number, headBytes: number, share: number): number {
  if (!(forecastBytes > 0) || !(headBytes > 0) || !(share > 0)) return 0;
  return Math.max(-CLIP, Math.min(CLIP, Math.log(headBytes / share / forecastBytes)));
}
