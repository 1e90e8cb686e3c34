/**
 * Synthetic throughput traces (Pensieve format: time s, Mb/s), seeded, to widen what an ABR policy sees beyond
 * the shared Pensieve sets (per-trace means 0.13–4.6 Mb/s there, never above 9 Mb/s a sample).
 *
 * Two generators of different shape, so one can train on one and evaluate on the other:
 * - `markovTrace` — Pensieve §5.3's synthetic model: a Markov chain over bandwidth states spaced
 *   log-uniformly in [minMbps, maxMbps]; every second the state moves to a neighbouring state with
 *   probability `switchP` (farther with geometrically smaller weight); inside a state the throughput is
 *   Gaussian around the state's mean with a standard deviation of `noise` × mean (noise drawn per trace in
 *   [0.05, 0.5]); short outages at `outageRate` per minute.
 * - `walkTrace` — an Ornstein–Uhlenbeck random walk of log-throughput around a per-trace mean (LTE-like slow
 *   fades), with occasional deep fades; a family the Markov model never produces.
 * Pure functions of their options (mulberry32), no I/O.
 */
import { mulberry32 } from '../../core/random.js';
import type { SimTrace } from './env.js';

/** Options of `markovTrace`. */
export interface MarkovTraceOptions {
  seed: number;
  /** trace length, s (default 320) */
  durationS?: number;
  /** slowest and fastest state, Mb/s (defaults 0.2 and 20) */
  minMbps?: number;
  maxMbps?: number;
  /** number of states (default 10) */
  states?: number;
  /** per-second probability of leaving the state (default: drawn per trace in [0.02, 0.2]) */
  switchP?: number;
  /** outages (throughput 2 % of the state's) per minute (default 0.3) */
  outageRate?: number;
}

/** Standard normal from two uniforms (Box–Muller). */
function gauss(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** One trace of the Markov model (see the file comment). Samples every 1 s; throughput floored at 0.02 Mb/s. */
export function markovTrace(name: string, o: MarkovTraceOptions): SimTrace {
  const rng = mulberry32(o.seed);
  const n = o.durationS ?? 320;
  const lo = Math.log(o.minMbps ?? 0.2);
  const hi = Math.log(o.maxMbps ?? 20);
  const k = o.states ?? 10;
  const means = Array.from({ length: k }, (_, i) => Math.exp(lo + ((hi - lo) * i) / (k - 1)));
  const p = o.switchP ?? 0.02 + 0.18 * rng();
  const noise = 0.05 + 0.45 * rng();
  const outage = (o.outageRate ?? 0.3) / 60;
  let s = Math.floor(rng() * k);
  let outLeft = 0;
  const time: number[] = [0];
  const bw: number[] = [means[s]];
  for (let t = 1; t <= n; t++) {
    if (rng() < p) {
      // a neighbour, farther with geometrically smaller weight
      let step = 1;
      while (rng() < 0.5 && step < k - 1) step++;
      s = Math.max(0, Math.min(k - 1, s + (rng() < 0.5 ? -step : step)));
    }
    if (outLeft <= 0 && rng() < outage) outLeft = 1 + Math.floor(rng() * 4);
    let x = means[s] * (1 + noise * gauss(rng));
    if (outLeft > 0) {
      x = means[s] * 0.02;
      outLeft--;
    }
    time.push(t);
    bw.push(Math.max(0.02, x));
  }
  return { name, time, bw };
}

/** Options of `walkTrace`. */
export interface WalkTraceOptions {
  seed: number;
  /** trace length, s (default 320) */
  durationS?: number;
  /** the per-trace mean is drawn log-uniformly in [meanMinMbps, meanMaxMbps] (defaults 3 and 15) */
  meanMinMbps?: number;
  meanMaxMbps?: number;
  /** standard deviation of log-throughput around the mean (default 0.45) */
  sigma?: number;
  /** mean reversion time, s (default 12) */
  tauS?: number;
  /** deep fades (throughput ÷ 8 for 2–6 s) per minute (default 0.5) */
  fadeRate?: number;
  /** sample spacing, s (default 0.5) */
  dtS?: number;
}

/** One trace of the log-throughput random walk (see the file comment). */
export function walkTrace(name: string, o: WalkTraceOptions): SimTrace {
  const rng = mulberry32(o.seed);
  const n = o.durationS ?? 320;
  const dt = o.dtS ?? 0.5;
  const lmin = Math.log(o.meanMinMbps ?? 3);
  const lmax = Math.log(o.meanMaxMbps ?? 15);
  const mu = lmin + (lmax - lmin) * rng();
  const sigma = o.sigma ?? 0.45;
  const tau = o.tauS ?? 12;
  const fade = ((o.fadeRate ?? 0.5) / 60) * dt;
  const a = Math.exp(-dt / tau);
  const sd = sigma * Math.sqrt(1 - a * a);
  let x = mu + sigma * gauss(rng);
  let fadeLeft = 0;
  const time: number[] = [0];
  const bw: number[] = [Math.exp(x)];
  for (let t = dt; t <= n + 1e-9; t += dt) {
    x = mu + a * (x - mu) + sd * gauss(rng);
    if (fadeLeft <= 0 && rng() < fade) fadeLeft = (2 + 4 * rng()) / dt;
    let v = Math.exp(x);
    if (fadeLeft > 0) {
      v /= 8;
      fadeLeft--;
    }
    time.push(Math.round(t * 1000) / 1000);
    bw.push(Math.max(0.02, v));
  }
  return { name, time, bw };
}

/** Options of `stepTrace`. */
export interface StepTraceOptions {
  seed: number;
  /** trace length, s (default 320) */
  durationS?: number;
  /** each regime's rate is drawn log-uniformly in [minMbps, maxMbps] (defaults 1 and 25) */
  minMbps?: number;
  maxMbps?: number;
  /** the per-trace mean holding time of a regime is drawn in [holdMinS, holdMaxS] (defaults 3 and 40) */
  holdMinS?: number;
  holdMaxS?: number;
  /** sample spacing, s (default 1) */
  dtS?: number;
}

/**
 * One trace of a regime-switching link unlike the Markov model's: every regime's rate is drawn afresh
 * log-uniformly over the whole range (a jump may cross it in one step, as a Wi-Fi/cellular handover does),
 * held for an exponential time (mean drawn per trace), with per-sample log-normal jitter (σ drawn per trace in
 * [0.05, 0.35]) and, in a quarter of the regimes, a slow linear ramp towards the next regime's rate.
 * Throughput floored at 0.02 Mb/s. @throws RangeError on a non-positive or inverted range
 */
export function stepTrace(name: string, o: StepTraceOptions): SimTrace {
  const minM = o.minMbps ?? 1;
  const maxM = o.maxMbps ?? 25;
  const holdMin = o.holdMinS ?? 3;
  const holdMax = o.holdMaxS ?? 40;
  const dt = o.dtS ?? 1;
  const n = o.durationS ?? 320;
  if (!(minM > 0 && maxM >= minM)) throw new RangeError(`stepTrace: need 0 < minMbps <= maxMbps, got ${minM}, ${maxM}`);
  if (!(holdMin > 0 && holdMax >= holdMin)) throw new RangeError(`stepTrace: need 0 < holdMinS <= holdMaxS, got ${holdMin}, ${holdMax}`);
  if (!(dt > 0 && n > 0)) throw new RangeError(`stepTrace: need positive dtS and durationS, got ${dt}, ${n}`);
  const rng = mulberry32(o.seed);
  const lo = Math.log(minM);
  const hi = Math.log(maxM);
  const draw = () => Math.exp(lo + (hi - lo) * rng());
  const hold = holdMin + (holdMax - holdMin) * rng();
  const jitter = 0.05 + 0.3 * rng();
  let rate = draw();
  let next = draw();
  let left = -hold * Math.log(Math.max(rng(), 1e-12));
  let span = left;
  let ramp = rng() < 0.25;
  const time: number[] = [];
  const bw: number[] = [];
  for (let t = 0; t <= n + 1e-9; t += dt) {
    if (left <= 0) {
      rate = next;
      next = draw();
      left = span = -hold * Math.log(Math.max(rng(), 1e-12));
      ramp = rng() < 0.25;
    }
    const base = ramp ? rate * (next / rate) ** (1 - left / span) : rate;
    time.push(Math.round(t * 1000) / 1000);
    bw.push(Math.max(0.02, base * Math.exp(jitter * gauss(rng))));
    left -= dt;
  }
  return { name, time, bw };
}

/** The trace as Pensieve-format text (`time\tMb/s` per line). */
export function traceText(t: SimTrace): string {
  let s = '';
  for (let i = 0; i < t.time.length; i++) s += `${+t.time[i].toFixed(3)}\t${+t.bw[i].toFixed(4)}\n`;
  return s;
}

/** The synthetic families by name: which training may draw and which only evaluate (see `syntheticTrace`). */
export const SYNTHETIC_FAMILIES = ['markov-train', 'markov-fast', 'step-fast', 'walk-hi', 'markov-hi'] as const;
export type SyntheticFamily = (typeof SYNTHETIC_FAMILIES)[number];
/** The families training and selection may draw (never `walk-hi`, `markov-hi`: the benchmarks' held-out ones). */
export const SYNTHETIC_TRAIN_FAMILIES = ['markov-train', 'markov-fast', 'step-fast'] as const;
export type SyntheticTrainFamily = (typeof SYNTHETIC_TRAIN_FAMILIES)[number];

/**
 * The families used by training and the benchmarks, by name and index (seeds never overlap between
 * families): `markov-train` (training), `markov-fast` (training: Markov states 0.5–30 Mb/s), `step-fast`
 * (training: `stepTrace`, regimes 1–25 Mb/s), `walk-hi` (3–15 Mb/s, evaluation only: a generator training never
 * uses), `markov-hi` (Markov states 1–40 Mb/s, evaluation only: seeds training never draws).
 * @throws RangeError on an unknown family or an index that is not a non-negative integer
 */
export function syntheticTrace(family: SyntheticFamily, i: number): SimTrace {
  if (!(Number.isInteger(i) && i >= 0)) throw new RangeError(`synthetic trace index must be a non-negative integer, got ${i}`);
  const name = `synth_${family}_${i}`;
  switch (family) {
    case 'markov-train':
      return markovTrace(name, { seed: 1_000_000 + i });
    case 'markov-hi':
      return markovTrace(name, { seed: 2_000_000 + i, minMbps: 1, maxMbps: 40 });
    case 'walk-hi':
      return walkTrace(name, { seed: 3_000_000 + i });
    case 'markov-fast':
      return markovTrace(name, { seed: 5_000_000 + i, minMbps: 0.5, maxMbps: 30 });
    case 'step-fast':
      return stepTrace(name, { seed: 6_000_000 + i });
    default:
      throw new RangeError(`unknown synthetic family "${String(family)}"; known: ${SYNTHETIC_FAMILIES.join(', ')}`);
  }
}
