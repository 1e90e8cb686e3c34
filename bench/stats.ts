/**
 * Paired statistics for the benchmarks: the mean of a sample with its two-sided Student-t confidence interval
 * (the t quantile from jStat). Used by bench:browser-abr for per-policy means and paired differences over traces.
 */
import jstat from 'jstat';

/** Mean and its two-sided `level` (default 0.95) t-interval; n < 2 gives the mean as both ends. Throws on an empty sample. */
export function meanCi(xs: number[], level = 0.95): { mean: number; low: number; high: number; n: number; sd: number } {
  const n = xs.length;
  if (!n) throw new RangeError('meanCi: empty sample');
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: mean, high: mean, n, sd: 0 };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const t = jstat.jStat.studentt.inv(1 - (1 - level) / 2, n - 1);
  const half = (t * sd) / Math.sqrt(n);
  return { mean, low: mean - half, high: mean + half, n, sd };
}
