/** Training loop of the profile CNN (Node, tfjs): shared by `npm run train:profile` and bench:profile's Twitch run. */
import type * as TF from '@tensorflow/tfjs';
import { mulberry32 } from '../core/random.js';
import { K_RECORDS, REQUEST_FEATURES, type RequestData } from '../profile/features.js';
import { buildProfileModel, fitNorm, normalise, predictProfile, PATCH, type ProfileNorm } from '../profile/model.js';

export interface FitOptions {
  epochs: number;
  seed: number;
  batch?: number;
  lr?: number;
  /** weight of each target (I, D, N) in the loss and in epoch selection; 0 ignores a target */
  targetWeights?: [number, number, number];
  log?: (s: string) => void;
}

export interface FitResult {
  model: TF.LayersModel;
  norm: ProfileNorm;
  epoch: number;
  valMae: number[];
  history: Array<{ epoch: number; loss: number; val_mae: number[] }>;
}

export async function fitProfileCnn(
  tf: typeof TF,
  data: RequestData,
  fitRows: number[],
  valRows: number[],
  o: FitOptions,
): Promise<FitResult> {
  const BATCH = o.batch ?? 1024;
  const tw = o.targetWeights ?? [1, 1, 1];
  const norm = fitNorm(data.x, data.y, fitRows);
  const n = fitRows.length;
  const seq = new Float32Array(n * K_RECORDS * PATCH),
    sc = new Float32Array(n * 5),
    ys = new Float32Array(n * 3);
  fitRows.forEach((r, i) => {
    normalise(data.x, r * REQUEST_FEATURES, norm, seq, i * K_RECORDS * PATCH, sc, i * 5);
    for (let k = 0; k < 3; k++) ys[i * 3 + k] = data.y[r * 3 + k] / norm.yScale[k];
  });
  const model = buildProfileModel(tf, o.seed);
  const opt = tf.train.adam(o.lr ?? 1e-3);
  const rng = mulberry32(o.seed);
  const mae = (rows: number[]) => {
    const p = predictProfile(tf, model, norm, data.x, rows);
    const e = [0, 0, 0];
    rows.forEach((r, i) => {
      for (let k = 0; k < 3; k++) e[k] += Math.abs(p[i * 3 + k] - data.y[r * 3 + k]);
    });
    return e.map((v) => v / rows.length);
  };
  let best: { score: number; epoch: number; mae: number[]; weights: TF.Tensor[] } = {
    score: Infinity,
    epoch: 0,
    mae: [0, 0, 0],
    weights: [],
  };
  const history: FitResult['history'] = [];
  const sb = new Float32Array(BATCH * K_RECORDS * PATCH),
    cb = new Float32Array(BATCH * 5),
    yb = new Float32Array(BATCH * 3);
  const w = tf.tensor1d(tw);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    (opt as unknown as { learningRate: number }).learningRate = (o.lr ?? 1e-3) * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / o.epochs));
    const perm = Uint32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    let lossSum = 0,
      batches = 0;
    for (let b = 0; b + BATCH <= n; b += BATCH) {
      for (let r = 0; r < BATCH; r++) {
        const i = perm[b + r];
        sb.set(seq.subarray(i * K_RECORDS * PATCH, (i + 1) * K_RECORDS * PATCH), r * K_RECORDS * PATCH);
        cb.set(sc.subarray(i * 5, i * 5 + 5), r * 5);
        yb.set(ys.subarray(i * 3, i * 3 + 3), r * 3);
      }
      const loss = tf.tidy(() => {
        const s = tf.tensor3d(sb, [BATCH, K_RECORDS, PATCH]),
          c = tf.tensor2d(cb, [BATCH, 5]),
          y = tf.tensor2d(yb, [BATCH, 3]);
        // L1 on scaled targets: MAE is the yardstick, and the conditional median is what minimises it
        return opt.minimize(() => (model.apply([s, c], { training: true }) as TF.Tensor).sub(y).abs().mul(w).mean() as TF.Scalar, true)!;
      });
      lossSum += (await loss.data())[0];
      loss.dispose();
      batches++;
    }
    const v = mae(valRows);
    const score = v.reduce((a, e, k) => a + (tw[k] * e) / norm.yScale[k], 0);
    history.push({ epoch, loss: lossSum / Math.max(1, batches), val_mae: v });
    o.log?.(
      `epoch ${epoch}/${o.epochs}: loss ${(lossSum / Math.max(1, batches)).toFixed(4)}, validation MAE I ${v[0].toFixed(3)} /h, D ${v[1].toFixed(4)} h, N ${v[2].toFixed(3)}${score < best.score ? ' *' : ''}`,
    );
    if (score < best.score) {
      best.weights.forEach((x) => x.dispose());
      best = { score, epoch, mae: v, weights: model.getWeights().map((x) => x.clone()) };
    }
  }
  w.dispose();
  model.setWeights(best.weights);
  return { model, norm, epoch: best.epoch, valMae: best.mae, history };
}
