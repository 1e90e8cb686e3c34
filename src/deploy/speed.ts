/**
 * The device's speed, measured once in a few milliseconds: a fixed plain-JavaScript workload shaped like the
 * models' dense layers (float32 multiply-adds over a 64 × 64 kernel). The deployment profile records the same
 * probe on the reference machine at each CPU throttle (`npm run bench:deploy`), so a device's probe places it
 * between the profiled rows (`speedFactor`). No DOM, no Node: `performance.now()` exists in both.
 */

/** Multiply-adds per probe round. */
const N = 64;
const ROUND_MACS = N * N * 64;

let sink = 0;

/** One round: 64 matrix–vector products (64 × 64), ms. */
function round(w: Float32Array, x: Float32Array, y: Float32Array): number {
  const t0 = performance.now();
  for (let r = 0; r < 64; r++) {
    for (let j = 0; j < N; j++) y[j] = 0;
    for (let i = 0; i < N; i++) {
      const xi = x[i] + r * 1e-6;
      const row = i * N;
      for (let j = 0; j < N; j++) y[j] += xi * w[row + j];
    }
    x[r & (N - 1)] = y[(r * 7) & (N - 1)] * 1e-3;
  }
  sink += y[0];
  return performance.now() - t0;
}

/** What `probeSpeed` measured. */
export interface SpeedProbe {
  /** ms per million multiply-adds: the median of the measured rounds (lower is faster) */
  msPerMmac: number;
  /** rounds measured */
  rounds: number;
  /** wall time the probe took, ms */
  tookMs: number;
}

/**
 * Measure the speed of the calling thread: warm-up, then rounds of 262k multiply-adds until `budgetMs` is spent
 * (at least 5 rounds, at most 200). ~3 ms on a desktop core at the default budget.
 * @param busy an extra cost per round in ms (the worker's emulated CPU throttling, see worker.ts); default none
 */
export function probeSpeed(budgetMs = 3, busy?: (ms: number) => void): SpeedProbe {
  const t0 = performance.now();
  const w = new Float32Array(N * N);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const x = new Float32Array(N).fill(0.5);
  const y = new Float32Array(N);
  round(w, x, y); // warm-up (JIT)
  const times: number[] = [];
  while (times.length < 200 && (times.length < 5 || performance.now() - t0 < budgetMs)) {
    const t1 = performance.now();
    round(w, x, y);
    busy?.(performance.now() - t1);
    times.push(performance.now() - t1);
  }
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1];
  return {
    msPerMmac: Math.max(1e-6, med / (ROUND_MACS / 1e6)),
    rounds: times.length + (sink === Infinity ? 1 : 0),
    tookMs: performance.now() - t0,
  };
}

/** The probe of the profiled machine at each throttle rate (bench/results/deploy.json `probes`). */
export interface ReferenceProbe {
  throttle: number;
  msPerMmac: number;
}

/**
 * Where a device sits among the profiled throttle rates: the throttle rate at which the reference machine
 * probes as slow as this device, by log–log interpolation of (probe, throttle) between the reference points
 * (proportional beyond the ends). 1 = the reference machine unthrottled; 20 ≈ a phone (DevTools' guidance).
 * @throws Error without reference probes
 */
export function speedFactor(device: number, reference: ReferenceProbe[]): number {
  const pts = reference.filter((r) => r.msPerMmac > 0 && r.throttle > 0).sort((a, b) => a.msPerMmac - b.msPerMmac);
  if (!pts.length) throw new Error('no reference probes');
  if (device <= pts[0].msPerMmac) return (pts[0].throttle * device) / pts[0].msPerMmac;
  const last = pts[pts.length - 1];
  if (device >= last.msPerMmac) return (last.throttle * device) / last.msPerMmac;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1],
      b = pts[i];
    if (device <= b.msPerMmac) {
      const f = Math.log(device / a.msPerMmac) / Math.log(b.msPerMmac / a.msPerMmac);
      return Math.exp(Math.log(a.throttle) + f * Math.log(b.throttle / a.throttle));
    }
  }
  return last.throttle;
}
