/**
 * The evaluation protocol of the viewport data README (Rondon et al.): 5 Hz, history M samples (1 s),
 * horizon H = 25 steps (0.2–5 s); the first `skip` = 30 samples (6 s) of each trace are skipped, then
 * every window is evaluated. A window ends its history at sample i (i ≥ skip) and predicts i+1 … i+H.
 */
import { orthodromic } from '../../viewport/geometry.js';
import { AttentionPrior } from '../../viewport/prior.js';
import { HORIZON_STEPS, type ViewportPredictor } from '../../viewport/predictors.js';
import type { ViewportTrace } from './data.js';

export interface ProtocolOptions {
  /** samples skipped at the start of each trace (default 30) */
  skip?: number;
  /** steps predicted (default 25) */
  steps?: number;
  /** history handed to the predictor (default: max(its own need, 5)) */
  history?: number;
  /** called before each trace's windows (e.g. to hand a content-aware predictor that video's prior) */
  beforeTrace?: (t: ViewportTrace) => void;
}

export interface ProtocolResult {
  /** mean orthodromic error in degrees per step (index k = horizon (k+1)·0.2 s) */
  errorDeg: number[];
  windows: number;
}

export function windowStarts(n: number, skip: number, history: number, steps: number): [number, number] {
  // first history end: at least `skip` and enough samples before it for the history
  return [Math.max(skip, history - 1), n - steps - 1];
}

export function evaluate(p: ViewportPredictor, traces: ViewportTrace[], opts: ProtocolOptions = {}): ProtocolResult {
  const skip = opts.skip ?? 30;
  const steps = opts.steps ?? HORIZON_STEPS;
  const history = opts.history ?? Math.max(p.historySamples, 5);
  const sum = new Float64Array(steps);
  let windows = 0;
  for (const tr of traces) {
    opts.beforeTrace?.(tr);
    const n = tr.xyz.length / 3;
    const [from, to] = windowStarts(n, skip, history, steps);
    for (let i = from; i <= to; i++) {
      const hist = tr.xyz.subarray((i - history + 1) * 3, (i + 1) * 3);
      const pred = p.predict(hist, steps, { t: tr.t0 + i * 0.2 });
      for (let k = 0; k < steps; k++) sum[k] += orthodromic(pred, 3 * k, tr.xyz, (i + 1 + k) * 3);
      windows++;
    }
  }
  return { errorDeg: Array.from(sum, (s) => (windows ? ((s / windows) * 180) / Math.PI : NaN)), windows };
}

/**
 * The attention prior for every trace, leave-one-user-out: built from the *other* traces of the same
 * dataset, video and split — what an edge server would have from earlier viewers of that video. `cols` × `rows`:
 * the prior's grid (default 24 × 12).
 */
export function looPriors(
  traces: ViewportTrace[],
  opts: { maxViewers?: number; minViewers?: number; rng?: () => number; cols?: number; rows?: number } = {},
): Map<ViewportTrace, AttentionPrior> {
  const byVideo = new Map<string, ViewportTrace[]>();
  for (const t of traces) {
    const k = `${t.dataset}/${t.video}/${t.split}`;
    (byVideo.get(k) ?? byVideo.set(k, []).get(k)!).push(t);
  }
  const out = new Map<ViewportTrace, AttentionPrior>();
  for (const group of byVideo.values()) {
    for (const t of group) {
      let others = group.filter((o) => o !== t);
      // training: a random subset of the others, so the model sees priors as thin as a new video's
      if (opts.rng && opts.maxViewers) {
        const lo = Math.min(others.length, opts.minViewers ?? 1);
        const hi = Math.min(others.length, opts.maxViewers);
        const k = lo + Math.floor(opts.rng() * (hi - lo + 1));
        others = others
          .map((o) => [opts.rng!(), o] as const)
          .sort((a, b) => a[0] - b[0])
          .slice(0, k)
          .map((x) => x[1]);
      }
      out.set(t, AttentionPrior.build(others, { cols: opts.cols, rows: opts.rows }));
    }
  }
  return out;
}
