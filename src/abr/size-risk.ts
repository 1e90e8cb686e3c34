/**
 * Risk-aware chunk sizes for the live policy (issue 14): instead of the forecaster's point forecast, the policy
 * sees an upper quantile of the chunk's size, so that it is robust to the forecaster's under-predictions (a chunk
 * larger than forecast is what stalls a low-latency player; a smaller one only wastes a little bitrate).
 *
 * The quantile is the forecaster's own, measured on the stream as it plays: after each chunk is downloaded the
 * player knows its true bytes at the rung it fetched, and so the log error e = log(actual / forecast) of the h = 1
 * forecast it decided on. `ErrorQuantile` keeps the last `window` errors and returns their empirical τ-quantile
 * q_τ; the risk-aware sizes are forecast · exp(q_τ) at every rung and horizon (a conformal-style margin, one
 * factor for the stream: the rung ratios of the forecast are kept). `FixedMargin` is the constant-factor baseline.
 * Until `minPoints` errors are known the factor is exp(prior) (default 0: the point forecast).
 * Pure TypeScript: no DOM, no Node, no tfjs.
 */

/** A stream-level size margin: the log factor to multiply the forecast sizes by, learned from observed errors. */
export interface SizeRisk {
  readonly name: string;
  /** forget the stream (a new session) */
  reset(): void;
  /** a chunk was downloaded: the forecast bytes the decision saw at the fetched rung and its true bytes */
  observe(forecastBytes: number, actualBytes: number): void;
  /** the log factor for the next decision (0: the point forecast) */
  logFactor(): number;
  /** apply the factor only to the rungs above the one last fetched (the up-switches a forecast error can stall) */
  readonly upOnly?: boolean;
}

/** The constant margin: sizes · m, whatever the errors. Throws on m <= 0. */
export class FixedMargin implements SizeRisk {
  readonly name: string;
  private readonly lf: number;
  constructor(
    readonly m: number,
    readonly upOnly = false,
  ) {
    if (!(m > 0)) throw new Error(`FixedMargin: factor ${m} must be > 0`);
    this.lf = Math.log(m);
    this.name = `x${m}${upOnly ? 'u' : ''}`;
  }
  reset(): void {}
  observe(): void {}
  logFactor(): number {
    return this.lf;
  }
}

/** Options of ErrorQuantile. */
export interface ErrorQuantileOptions {
  /** errors kept (default 30 chunks: 60 s at 2 s chunks) */
  window?: number;
  /** errors needed before the quantile is used (default 5) */
  minPoints?: number;
  /** the log factor before that (default 0) */
  prior?: number;
  /** the log factor is clipped to [lo, hi] (default [-0.5, 1]) */
  lo?: number;
  hi?: number;
  /** only the rungs above the one last fetched (SizeRisk.upOnly; default false) */
  upOnly?: boolean;
}

/**
 * The τ-quantile of the last `window` log errors log(actual / forecast) (linear interpolation between order
 * statistics, as numpy's default). Throws when τ is outside (0, 1) or window < 1.
 */
export class ErrorQuantile implements SizeRisk {
  readonly name: string;
  private errs: number[] = [];
  private readonly window: number;
  private readonly minPoints: number;
  private readonly prior: number;
  private readonly lo: number;
  private readonly hi: number;
  readonly upOnly: boolean;
  constructor(
    readonly tau: number,
    o: ErrorQuantileOptions = {},
  ) {
    if (!(tau > 0 && tau < 1)) throw new Error(`ErrorQuantile: tau ${tau} outside (0, 1)`);
    this.window = o.window ?? 30;
    this.minPoints = Math.max(1, o.minPoints ?? 5);
    this.prior = o.prior ?? 0;
    this.lo = o.lo ?? -0.5;
    this.hi = o.hi ?? 1;
    if (!(this.window >= 1)) throw new Error(`ErrorQuantile: window ${this.window} must be >= 1`);
    this.upOnly = o.upOnly ?? false;
    this.name = `q${Math.round(tau * 100)}${this.upOnly ? 'u' : ''}`;
  }
  reset(): void {
    this.errs = [];
  }
  observe(forecastBytes: number, actualBytes: number): void {
    if (!(forecastBytes > 0) || !(actualBytes > 0)) return;
    this.errs.push(Math.log(actualBytes / forecastBytes));
    if (this.errs.length > this.window) this.errs.shift();
  }
  logFactor(): number {
    const n = this.errs.length;
    if (n < this.minPoints) return this.prior;
    const s = [...this.errs].sort((a, b) => a - b);
    const x = this.tau * (n - 1);
    const i = Math.floor(x);
    const q = i + 1 < n ? s[i] + (x - i) * (s[i + 1] - s[i]) : s[n - 1];
    return Math.max(this.lo, Math.min(this.hi, q));
  }
}

/**
 * A risk spec of the command lines: `qNN` (ErrorQuantile at τ = NN / 100, e.g. q80) or `xM` (FixedMargin M, e.g.
 * x1.1), either with a `u` suffix for upOnly (q80u, x1.1u). Throws on anything else.
 */
export function parseSizeRisk(spec: string, o: ErrorQuantileOptions = {}): SizeRisk {
  const q = /^q(\d{1,2})(u?)$/.exec(spec);
  if (q && +q[1] > 0) return new ErrorQuantile(+q[1] / 100, { ...o, upOnly: q[2] === 'u' });
  const x = /^x(\d+(?:\.\d+)?)(u?)$/.exec(spec);
  if (x && +x[1] > 0) return new FixedMargin(+x[1], x[2] === 'u');
  throw new Error(`size risk '${spec}': expected qNN (error quantile, e.g. q80) or xM (fixed factor, e.g. x1.1)`);
}
