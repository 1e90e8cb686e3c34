/**
 * Viewport predictors behind one interface. A predictor sees the last samples of the viewport centre
 * (unit vectors at 5 Hz, oldest first) and answers the centre at each of the next `steps` 0.2 s steps.
 */
import { fromYawPitch, orthodromic, rotateAxis, toYawPitch, type Vec3 } from './geometry.js';

export const SAMPLE_HZ = 5;
export const STEP_S = 1 / SAMPLE_HZ;
/** the protocol's horizon: 25 steps = 0.2 … 5 s */
export const HORIZON_STEPS = 25;

export interface PredictContext {
  /** playback time (s) of the last history sample — used by content-aware predictors */
  t?: number;
}

export interface ViewportPredictor {
  readonly name: string;
  /** history samples this predictor reads (it may be given more; it uses the last ones) */
  readonly historySamples: number;
  /**
   * @param hist flat unit vectors [x0,y0,z0, x1,…] oldest first, length 3·n with n ≥ historySamples
   * @param steps how many 0.2 s steps to predict
   * @returns flat unit vectors for steps 1..steps
   */
  predict(hist: ArrayLike<number>, steps: number, ctx?: PredictContext): Float64Array;
}

export class NoMotion implements ViewportPredictor {
  readonly name = 'no-motion';
  readonly historySamples = 1;
  predict(hist: ArrayLike<number>, steps: number): Float64Array {
    const o = hist.length - 3;
    const out = new Float64Array(steps * 3);
    for (let k = 0; k < steps; k++) {
      out[3 * k] = hist[o];
      out[3 * k + 1] = hist[o + 1];
      out[3 * k + 2] = hist[o + 2];
    }
    return out;
  }
}

/** Constant angular velocity: the rotation from the first to the last of the last `historySamples`, continued. */
export class ConstantVelocity implements ViewportPredictor {
  readonly name = 'const-velocity';
  constructor(readonly historySamples = 5) {}
  predict(hist: ArrayLike<number>, steps: number): Float64Array {
    const n = hist.length / 3;
    const a = (n - this.historySamples) * 3;
    const b = (n - 1) * 3;
    const out = new Float64Array(steps * 3);
    const ax: Vec3 = [
      hist[a + 1] * hist[b + 2] - hist[a + 2] * hist[b + 1],
      hist[a + 2] * hist[b] - hist[a] * hist[b + 2],
      hist[a] * hist[b + 1] - hist[a + 1] * hist[b],
    ];
    const len = Math.hypot(ax[0], ax[1], ax[2]);
    const ang = orthodromic(hist, a, hist, b);
    const perStep = ang / Math.max(1, this.historySamples - 1);
    for (let k = 0; k < steps; k++) {
      if (len < 1e-9 || ang < 1e-9) {
        out[3 * k] = hist[b];
        out[3 * k + 1] = hist[b + 1];
        out[3 * k + 2] = hist[b + 2];
        continue;
      }
      rotateAxis(hist, b, [ax[0] / len, ax[1] / len, ax[2] / len], perStep * (k + 1), out, 3 * k);
    }
    return out;
  }
}

/**
 * Least-squares line through yaw (unwrapped) and pitch of the last `historySamples`, extrapolated (pitch
 * clamped to ±90°): the "linear regression (1 s)" of the viewport data README, which it reproduces.
 */
export class LinearRegression implements ViewportPredictor {
  readonly name = 'linear-regression';
  constructor(readonly historySamples = 5) {}
  predict(hist: ArrayLike<number>, steps: number): Float64Array {
    const n = hist.length / 3;
    const m = this.historySamples;
    const yaws = new Float64Array(m);
    const pitches = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const [y, p] = toYawPitch(hist, (n - m + i) * 3);
      if (i > 0) {
        let d = y - yaws[i - 1];
        d -= 360 * Math.round(d / 360);
        yaws[i] = yaws[i - 1] + d;
      } else yaws[i] = y;
      pitches[i] = p;
    }
    const tMean = (m - 1) / 2;
    let sxx = 0;
    for (let i = 0; i < m; i++) sxx += (i - tMean) ** 2;
    const fit = (v: Float64Array): [number, number] => {
      let mu = 0;
      for (let i = 0; i < m; i++) mu += v[i];
      mu /= m;
      let sxy = 0;
      for (let i = 0; i < m; i++) sxy += (i - tMean) * (v[i] - mu);
      return [mu, sxx > 0 ? sxy / sxx : 0];
    };
    const [my, sy] = fit(yaws);
    const [mp, sp] = fit(pitches);
    const out = new Float64Array(steps * 3);
    for (let k = 0; k < steps; k++) {
      const x = m - 1 + k + 1 - tMean;
      out.set(fromYawPitch(my + sy * x, Math.max(-90, Math.min(90, mp + sp * x))), 3 * k);
    }
    return out;
  }
}
