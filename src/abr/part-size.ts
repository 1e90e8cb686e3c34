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
 * updated in closed form by the stream's own finished chunks; session 9). Since session 10 the slopes can differ by the
 * stream's rate-control class (`byRateControl`), and since session 11 a class can also have another form of the head
 * (PartHeadSlopes: a hinge in g, a pull to the rung's nominal bytes, the stream's mean of past sizes as the base).
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
   * Optional head form of session 11 (set by `coefficientsFor` from a class's slopes; see PartHeadSlopes): slopes on
   * g when g < 0 (a hinge), slopes on the pull to the rung's nominal bytes, and the weight of the stream's mean of past
   * sizes in the base. Absent: today's linear head on the base forecast.
   */
  ownNeg?: number[];
  crossNeg?: number[];
  ownNominal?: number[];
  crossNominal?: number[];
  baseMean?: number;
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

/**
 * The slopes and intercepts of one rate-control class (PartHeadCoefficients.byRateControl); every per-k array has
 * own's length. The optional fields (session 11) change the head's form for the class (`conditionOnHead`):
 * - `ownNeg`/`crossNeg`: the slope on the surprise g when g < 0; own/cross then apply to g ≥ 0 only (a hinge: on
 *   our encodes a small first part foretells a small chunk more surely than a large one, often an I-frame, a large one);
 * - `ownNominal`/`crossNominal`: the slope on z_r = log(nominal_r / base_r), nominal_r = the rung's declared bitrate
 *   over one chunk (`nominalChunkBytes`): a CBR rate control pulls every segment towards it;
 * - `baseMean` w in [0, 1]: the base is base_r^(1-w) · mean_r^w, with mean_r the stream's mean of past sizes at the
 *   rung (on CBR streams mean of past is the better base than the learned forecaster).
 */
export interface PartHeadSlopes {
  own: number[];
  cross: number[];
  ownBias?: number[];
  crossBias?: number[];
  later?: number[][];
  ownNeg?: number[];
  crossNeg?: number[];
  ownNominal?: number[];
  crossNominal?: number[];
  baseMean?: number;
  /** the share EWMA of the class's streams (PartShareTracker); absent: PartHeadCoefficients.shareAlpha */
  shareAlpha?: number;
}

/** A rung's declared (nominal) bytes per chunk: kbps · 1000 · chunkS / 8, per rung. Throws on a bad rate or duration. */
export function nominalChunkBytes(ladderKbps: ArrayLike<number>, chunkS: number): number[] {
  if (!(chunkS > 0)) throw new Error(`nominalChunkBytes: chunk duration ${chunkS} s must be > 0`);
  return Array.from(ladderKbps, (k) => {
    if (!(k > 0)) throw new Error(`nominalChunkBytes: rung bitrate ${k} kbps must be > 0`);
    return (k * 1000 * chunkS) / 8;
  });
}

/**
 * What the session-11 head forms need besides the forecast (`conditionOnHead`): the stream's mean of past sizes per
 * rung (bytes; null or missing before the first chunk: the base is then the forecast alone) and the rungs' nominal
 * bytes per chunk (`nominalChunkBytes`).
 */
export interface HeadContext {
  meanBytes?: ArrayLike<number> | null;
  nominalBytes?: ArrayLike<number> | null;
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
  const bad = [s.own, s.cross, s.ownBias, s.crossBias, s.later, s.ownNeg, s.crossNeg, s.ownNominal, s.crossNominal].some(
    (x) => x !== undefined && x.length !== K,
  );
  if (bad) throw new Error(`coefficientsFor: the ${rc} slopes are not for k = 1..${K} like own`);
  if (s.shareAlpha !== undefined && !(s.shareAlpha > 0 && s.shareAlpha <= 1))
    throw new Error(`coefficientsFor: the ${rc} shareAlpha ${s.shareAlpha} is outside (0, 1]`);
  if (s.baseMean !== undefined && !(s.baseMean >= 0 && s.baseMean <= 1))
    throw new Error(`coefficientsFor: the ${rc} baseMean ${s.baseMean} is outside [0, 1]`);
  return {
    ...coef,
    own: s.own,
    cross: s.cross,
    ownBias: s.ownBias,
    crossBias: s.crossBias,
    later: s.later ?? coef.later,
    ownNeg: s.ownNeg,
    crossNeg: s.crossNeg,
    ownNominal: s.ownNominal,
    crossNominal: s.crossNominal,
    baseMean: s.baseMean,
    shareAlpha: s.shareAlpha ?? coef.shareAlpha,
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
  private sum: number[] = [];
  private count: number[] = [];
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
    this.sum = Array<number>(this.rungs).fill(0);
    this.count = Array<number>(this.rungs).fill(0);
  }
  /**
   * The mean of the observed chunks' bytes per rung (the `mean_all` forecast of those rungs; HeadContext.meanBytes),
   * NaN at a rung without any; null before any chunk was observed.
   */
  meanBytes(): number[] | null {
    if (!this.count.some((n) => n > 0)) return null;
    return this.sum.map((x, r) => (this.count[r] ? x / this.count[r] : NaN));
  }
  /** A finished chunk: heads[k-1][r] bytes of its first k parts at rung r (null: unknown), sizes[r] its bytes. */
  observe(heads: ReadonlyArray<ArrayLike<number | null>>, sizes: ArrayLike<number | null>): void {
    for (let r = 0; r < this.rungs; r++) {
      const s = sizes[r];
      if (s !== null && s !== undefined && s > 0) {
        this.sum[r] += s;
        this.count[r]++;
      }
    }
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
 * at head.rung; `context`: what the session-11 forms of `coef` need (HeadContext: the stream's mean of past sizes
 * when coef.baseMean > 0, the rungs' nominal bytes when coef has nominal slopes). The base b_r is
 * forecast_r^(1-w) · mean_r^w (w = coef.baseMean, 0 when absent; the forecast alone where the mean is unknown);
 * g = headSurprise(b[head.rung], head.bytes, share); the played rung gets b · exp(a⁺ max(g,0) + a⁻ min(g,0) + n z + c)
 * (a⁻ = ownNeg or own, n = ownNominal or 0, z = log(nominal / b)), the other rungs likewise with the cross slopes.
 * Returns bytes per rung; never below the head's own bytes at its rung. Throws when the head's rung or part count is
 * out of range of the coefficients, or when coef has nominal slopes and context has no nominal bytes for every rung.
 */
export function conditionOnHead(
  forecast: ArrayLike<number>,
  head: ChunkHead,
  share: number,
  coef: PartHeadCoefficients,
  context?: HeadContext,
): number[] {
  const R = forecast.length;
  if (!(head.rung >= 0 && head.rung < R)) throw new Error(`conditionOnHead: rung ${head.rung} outside 0..${R - 1}`);
  if (!(head.parts >= 1 && head.parts <= coef.own.length))
    throw new Error(`conditionOnHead: ${head.parts} parts, coefficients for 1..${coef.own.length}`);
  const k = head.parts - 1;
  const w = coef.baseMean ?? 0;
  const mean = w > 0 ? context?.meanBytes : null;
  const base = Array.from(forecast, (f, r) => {
    const m = mean?.[r];
    return m !== undefined && m > 0 && f > 0 ? Math.exp((1 - w) * Math.log(f) + w * Math.log(m)) : f;
  });
  const nominal = coef.ownNominal || coef.crossNominal ? context?.nominalBytes : null;
  if ((coef.ownNominal || coef.crossNominal) && !(nominal && nominal.length === R && Array.from(nominal).every((x) => x > 0)))
    throw new Error(`conditionOnHead: the coefficients pull to the nominal bytes, but no nominal bytes for the ${R} rungs were given`);
  const z = (r: number) => (nominal && base[r] > 0 ? Math.max(-CLIP, Math.min(CLIP, Math.log(nominal[r] / base[r]))) : 0);
  const x = coef.linOwn && coef.linCross ? headFeatures(base[head.rung], head, share) : null;
  let own: (r: number) => number;
  let cross: (r: number) => number;
  if (x) {
    const o = dot(coef.linOwn![k], x);
    const c = dot(coef.linCross![k], x);
    own = () => o;
    cross = () => c;
  } else {
    const g = headSurprise(base[head.rung], head.bytes, share);
    const term = (pos: number[], neg: number[] | undefined, nom: number[] | undefined, bias: number[] | undefined) => {
      const t = (g >= 0 ? pos[k] : (neg ?? pos)[k]) * g + (bias?.[k] ?? 0);
      return nom ? (r: number) => t + nom[k] * z(r) : () => t;
    };
    own = term(coef.own, coef.ownNeg, coef.ownNominal, coef.ownBias);
    cross = term(coef.cross, coef.crossNeg, coef.crossNominal, coef.crossBias);
  }
  const clip = (e: number) => Math.max(-CLIP, Math.min(CLIP, e));
  const out = base.map((b, r) => b * Math.exp(clip(r === head.rung ? own(r) : cross(r))));
  out[head.rung] = Math.max(out[head.rung], head.bytes);
  return out;
}

const dot = (w: readonly number[], x: readonly number[]) => w.reduce((a, wi, i) => a + wi * x[i], 0);

/** log(head estimate / forecast), clipped to ±3: the surprise the head carries (0 when anything is missing). */
export function headSurprise(forecastBytes: number, headBytes: number, share: number): number {
  if (!(forecastBytes > 0) || !(headBytes > 0) || !(share > 0)) return 0;
  return Math.max(-CLIP, Math.min(CLIP, Math.log(headBytes / share / forecastBytes)));
}
