/**
 * Weight interpolation of two trained models of one architecture ("model soup" / WiSE-FT: Wortsman et al., "Robust
 * fine-tuning of zero-shot models", CVPR 2022, §3): θ = (1 − α)·θ_a + α·θ_b, weight by weight. Between a model and a
 * fine-tuned relative of it this often keeps much of both (here: the Pensieve-selected DRL and the one fine-tuned on
 * fast links, models/abr-drl-fast-mix/MODEL.md).
 */
import type * as TF from '@tensorflow/tfjs';

/**
 * Sets `into`'s weights to (1 − alpha)·a + alpha·b (`into` may be `a` or `b`; the sources are read first).
 * @param alpha in [0, 1]: 0 gives a, 1 gives b
 * @throws RangeError when alpha is outside [0, 1]; Error when the models' weight lists or shapes differ
 */
export function interpolateWeights(tf: typeof TF, a: TF.LayersModel, b: TF.LayersModel, alpha: number, into: TF.LayersModel): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const wa = a.getWeights();
  const wb = b.getWeights();
  const wi = into.getWeights();
  if (wa.length !== wb.length || wa.length !== wi.length)
    throw new Error(`models differ: ${wa.length}, ${wb.length} and ${wi.length} weight tensors`);
  for (let i = 0; i < wa.length; i++) {
    const s = (t: TF.Tensor) => t.shape.join('x');
    if (s(wa[i]) !== s(wb[i]) || s(wa[i]) !== s(wi[i]))
      throw new Error(`weight ${i} differs in shape: ${s(wa[i])}, ${s(wb[i])}, ${s(wi[i])}`);
  }
  const mixed = tf.tidy(() => wa.map((w, i) => tf.add(tf.mul(w, 1 - alpha), tf.mul(wb[i], alpha))));
  into.setWeights(mixed);
  tf.dispose(mixed);
}
