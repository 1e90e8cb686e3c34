/**
 * The mechanistic simulator: QoE degrades because load exceeds what a CDN can serve. Each CDN has a
 * capacity that changes through the day with incidents (cdns.ts); its viewers share it, so each gets
 * e = path × min(1, capacity / viewers) of its own access throughput (a trace of the shared set). How a
 * viewer's playback responds to e — its startup, stalls and buffer — was measured with the ABR simulator and
 * RobustMPC (abr-response.ts), per class of access network (slow / medium / fast thirds of the traces:
 * a viewer's link speed persists). Each CDN keeps, per class, the distribution of its viewers over playback
 * states (buffer bucket × level); every step applies the measured response at the step's e to that distribution: stalls and
 * startups follow, and the distribution moves on (transitions below 0.1 % are dropped, rows renormalised) (viewers with drained buffers stall first when
 * capacity drops; buffers refill when it returns). Responses between the measured e are interpolated.
 */
import { JOINER, STATES, type AbrResponse, type ResponseMix } from './abr-response.js';
import type { CdnProfile } from './cdns.js';
import { CdnSim, type CdnQoe } from './env.js';
import { daySplit, SURVIVE, type Traffic } from './traffic.js';
import { mulberry32 } from '../../core/random.js';

/**
 * Domain randomisation of the training days (session 11): on every reset of a *training* day (dev and test days
 * are never touched) the viewer classes' weights are multiplied by exp(weightsSigma · z_c), z_c ~ N(0, 1), and
 * renormalised, and every CDN's congestion factor e is multiplied by a throughput scale s drawn log-uniformly
 * in [scale[0], scale[1]] (e above the measured grid's top, 1, is clamped to it). Each reset draws anew.
 */
export interface MechanisticRandomisation {
  /** log-normal spread of the class weights (0: the measured weights) */
  weightsSigma?: number;
  /** the throughput scale's range [lo, hi] (lo ≤ hi, both > 0; [1, 1]: none) */
  scale?: [number, number];
}

/** Checks a randomisation: a RangeError naming the bad field. */
export function checkRandomisation(r: MechanisticRandomisation): MechanisticRandomisation {
  const sig = r.weightsSigma ?? 0;
  if (!Number.isFinite(sig) || sig < 0) throw new RangeError(`randomisation: weightsSigma must be a finite number ≥ 0, got ${sig}`);
  const [lo, hi] = r.scale ?? [1, 1];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && hi >= lo))
    throw new RangeError(`randomisation: scale must be [lo, hi] with 0 < lo ≤ hi, got [${lo}, ${hi}]`);
  return { weightsSigma: sig, scale: [lo, hi] };
}

// module-local copies: imported bindings are getters under some loaders, too slow for the inner loops
const NS = STATES;
const NJ = JOINER;
const KEEP = SURVIVE;
/** transitions below this probability are dropped (and the row renormalised): sparse rows, ~10 entries */
const MIN_P = 1e-3;

interface SparseRows {
  /** per grid index: row start offsets (NS + 2), target states, probabilities */
  start: Int32Array[];
  to: Int32Array[];
  p: Float64Array[];
}
const sparseCache = new WeakMap<AbrResponse, SparseRows>();
function sparse(r: AbrResponse): SparseRows {
  let s = sparseCache.get(r);
  if (s) return s;
  s = { start: [], to: [], p: [] };
  for (const nx of r.next) {
    const start = new Int32Array(NS + 2);
    const to: number[] = [],
      pr: number[] = [];
    for (let k = 0; k <= NS; k++) {
      start[k] = to.length;
      let z = 0;
      for (let u = 0; u < NS; u++) if (nx[k * NS + u] >= MIN_P) z += nx[k * NS + u];
      for (let u = 0; u < NS; u++)
        if (nx[k * NS + u] >= MIN_P) {
          to.push(u);
          pr.push(nx[k * NS + u] / z);
        }
    }
    start[NS + 1] = to.length;
    s.start.push(start);
    s.to.push(Int32Array.from(to));
    s.p.push(Float64Array.from(pr));
  }
  sparseCache.set(r, s);
  return s;
}

export class MechanisticSim extends CdnSim {
  readonly kind = 'mechanistic' as const;
  /** viewers per playback state, per CDN and viewer class */
  private pi: Float64Array[][] = [];
  private mix!: ResponseMix;
  private scratch = new Float64Array(NS);
  /** the throughput scale of the current day (1 unless a randomised training day) */
  private scale = 1;
  private resets = 0;
  readonly randomise: MechanisticRandomisation | null;

  /**
   * `response`: one measured response mix (per viewer class), or one per day (training traces on training days, …);
   * `randomise`: domain randomisation of the training days only (MechanisticRandomisation; RangeError on bad values).
   */
  constructor(
    traffic: Traffic,
    profiles: CdnProfile[],
    readonly response: ResponseMix | ((day: number) => ResponseMix),
    seed = 1,
    randomise?: MechanisticRandomisation,
  ) {
    super(traffic, profiles, seed);
    this.randomise = randomise ? checkRandomisation(randomise) : null;
  }

  /** the congestion factor CDN i gives its viewers at minute m with `viewers` on it */
  factor(i: number, m: number, viewers: number): number {
    const p = this.pathFactor(i, m) * this.scale;
    return viewers > 0 ? p * Math.min(1, this.capacity(i, m) / viewers) : p;
  }

  /** the class weights and throughput scale the current day is simulated with */
  dayConditions(): { weights: number[]; scale: number } {
    return { weights: this.mix.weights.slice(), scale: this.scale };
  }

  protected resetState(): void {
    const base = typeof this.response === 'function' ? this.response(this.day) : this.response;
    this.mix = base;
    this.scale = 1;
    const r = this.randomise;
    if (r && daySplit(this.day) === 'train') {
      const rng = mulberry32((this.seed * 1000003 + this.day * 7919 + this.resets++ * 104729) >>> 0);
      const sig = r.weightsSigma ?? 0;
      if (sig > 0) {
        const w = base.weights.map((x) => {
          const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
          return x * Math.exp(sig * z);
        });
        const z = w.reduce((a, b) => a + b, 0);
        this.mix = { classes: base.classes, weights: w.map((x) => x / z) };
      }
      const [lo, hi] = r.scale ?? [1, 1];
      if (hi > lo) this.scale = Math.exp(Math.log(lo) + rng() * (Math.log(hi) - Math.log(lo)));
      else this.scale = lo;
    }
    const E = this.mix.classes[0].eGrid;
    this.pi = this.profiles.map((_, i) =>
      this.mix.classes.map((r, c) => {
        const [g0, g1, w] = grid(E, this.factor(i, -1, 0));
        const st0 = r.stationary[g0],
          st1 = r.stationary[g1];
        const n = this.carried[i] * this.mix.weights[c];
        return Float64Array.from({ length: NS }, (_, s) => n * ((1 - w) * st0[s] + w * st1[s]));
      }),
    );
  }

  protected evaluate(i: number, joins: number, minute: number): CdnQoe {
    const N = this.carried[i] + joins;
    const E = this.mix.classes[0].eGrid;
    const [g0, g1, w] = grid(E, this.factor(i, minute, N));
    let s = 0,
      c = 0,
      startup = 0;
    for (let k = 0; k < this.mix.classes.length; k++) {
      const r = this.mix.classes[k];
      const wk = this.mix.weights[k];
      const pi = this.pi[i][k];
      const a0 = r.stallS[g0],
        a1 = r.stallS[g1],
        n0 = r.stallN[g0],
        n1 = r.stallN[g1];
      startup += wk * ((1 - w) * r.startupS[g0] + w * r.startupS[g1]);
      if (N > 1e-9) {
        for (let x = 0; x < NS; x++) {
          const v = pi[x];
          if (v === 0) continue;
          s += v * ((1 - w) * a0[x] + w * a1[x]);
          c += v * ((1 - w) * n0[x] + w * n1[x]);
        }
        s += joins * wk * ((1 - w) * a0[NJ] + w * a1[NJ]);
        c += joins * wk * ((1 - w) * n0[NJ] + w * n1[NJ]);
      } else {
        // no viewers: what a probe viewer in the steady state of an idle CDN would see
        const st0 = r.stationary[g0],
          st1 = r.stationary[g1];
        for (let x = 0; x < NS; x++) {
          const v = wk * ((1 - w) * st0[x] + w * st1[x]);
          s += v * ((1 - w) * a0[x] + w * a1[x]);
          c += v * ((1 - w) * n0[x] + w * n1[x]);
        }
      }
    }
    if (N > 1e-9) {
      s /= N;
      c /= N;
    }
    return { slatency: this.profiles[i].setupS + startup, bufratio: (100 * s) / 60, buffreq: (100 * c) / 60 };
  }

  protected commit(i: number, joins: number, minute: number): void {
    const E = this.mix.classes[0].eGrid;
    const [g0, g1, w] = grid(E, this.factor(i, minute, this.carried[i] + joins));
    for (let k = 0; k < this.mix.classes.length; k++) {
      const sp = sparse(this.mix.classes[k]);
      const pi = this.pi[i][k];
      const jk = joins * this.mix.weights[k];
      const out = this.scratch.fill(0);
      for (const [g, wg] of [
        [g0, 1 - w],
        [g1, w],
      ] as const) {
        if (wg === 0) continue;
        const st = sp.start[g],
          to = sp.to[g],
          pr = sp.p[g];
        for (let x = 0; x <= NS; x++) {
          const v = (x === NJ ? jk : pi[x]) * wg;
          if (v === 0) continue;
          for (let j = st[x]; j < st[x + 1]; j++) out[to[j]] += v * pr[j];
        }
      }
      for (let u = 0; u < NS; u++) pi[u] = KEEP * out[u];
    }
  }

  /** CDN i's viewers per class and playback state (copies) */
  protected saveCdn(i: number): unknown {
    return this.pi[i].map((p) => p.slice());
  }
  protected loadCdn(i: number, s: unknown): void {
    const src = s as Float64Array[];
    this.pi[i].forEach((p, k) => p.set(src[k]));
  }

  /** viewers of CDN i per playback state, summed over classes (a copy) */
  states(i: number): Float64Array {
    const out = new Float64Array(NS);
    for (const p of this.pi[i]) for (let u = 0; u < NS; u++) out[u] += p[u];
    return out;
  }
}

/** the grid cell of e: [lower index, upper index, weight of the upper] (clamped to the grid) */
function grid(E: ArrayLike<number>, e: number): [number, number, number] {
  if (e <= E[0]) return [0, 0, 0];
  if (e >= E[E.length - 1]) return [E.length - 1, E.length - 1, 0];
  let g = 0;
  while (E[g + 1] < e) g++;
  return [g, g + 1, (e - E[g]) / (E[g + 1] - E[g])];
}
