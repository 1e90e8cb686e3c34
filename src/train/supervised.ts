/**
 * Minibatch supervised fitting shared by the imitation stages of the ABR trainers (VoD `abr.ts`: behaviour
 * cloning and DAgger rounds; live `live-abr.ts`: behaviour cloning of the offline optimum).
 */
import * as tf from '@tensorflow/tfjs';
import { permutation } from './ppo.js';

/** How `supervisedEpochs` walks the data. */
export interface EpochOptions {
  /** Number of samples (rows 0..n−1); must be ≥ 1. */
  n: number;
  /** Passes over the data. */
  epochs: number;
  /** Samples per minibatch; the last one of an epoch may be shorter. */
  batch: number;
  /** Seeded uniform [0, 1) source for the per-epoch permutation. */
  rng: () => number;
}

/**
 * Minimises `loss` over `epochs` seeded permutations of the n samples, one optimizer step per minibatch.
 * `loss(ids, size)` receives the batch's row indices as an int32 tensor (owned by this function, disposed
 * after the step) and the batch size, and returns a scalar built inside the optimizer's tape.
 * `onEpoch(epoch, meanLoss)` runs after each epoch (epoch counts from 0).
 * @returns the mean minibatch loss of each epoch, in order.
 * @throws RangeError when n < 1, batch < 1 or epochs < 0.
 */
export function supervisedEpochs(
  opt: tf.Optimizer,
  o: EpochOptions,
  loss: (ids: tf.Tensor1D, size: number) => tf.Scalar,
  onEpoch?: (epoch: number, meanLoss: number) => void,
): number[] {
  if (!(o.n >= 1) || !(o.batch >= 1) || !(o.epochs >= 0))
    throw new RangeError(`supervisedEpochs: need n ≥ 1, batch ≥ 1, epochs ≥ 0 (got n=${o.n}, batch=${o.batch}, epochs=${o.epochs})`);
  const losses: number[] = [];
  for (let ep = 0; ep < o.epochs; ep++) {
    const idx = permutation(o.n, o.rng);
    let sum = 0;
    let nb = 0;
    for (let s = 0; s < o.n; s += o.batch) {
      const slice = idx.slice(s, s + o.batch);
      const ids = tf.tensor1d(slice, 'int32');
      const l = opt.minimize(() => loss(ids, slice.length), true);
      sum += l!.dataSync()[0];
      l!.dispose();
      ids.dispose();
      nb++;
    }
    losses.push(sum / nb);
    onEpoch?.(ep, sum / nb);
  }
  return losses;
}
