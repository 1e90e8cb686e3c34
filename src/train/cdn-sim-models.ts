/**
 * Layers of the learned CDN simulator's models (src/sim/cdn/learned.ts) on the tfjs side: the NALU layer
 * (Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018) and the export of LSTM weights in the layout
 * LearnedForward reads.
 */
import * as tf from '@tensorflow/tfjs';
import type { LstmWeights, NaluWeights } from '../sim/cdn/learned.js';

/** NALU (Trask et al. 2018): y = g·(x·W) + (1 − g)·exp(log(|x| + ε)·W), W = tanh(Ŵ)·σ(M̂), g = σ(x·G) */
export class Nalu extends tf.layers.Layer {
  static className = 'Nalu';
  private wHat!: tf.LayerVariable;
  private mHat!: tf.LayerVariable;
  private g!: tf.LayerVariable;
  constructor(
    private units: number,
    private seed = 1,
  ) {
    super({});
  }
  override build(inputShape: tf.Shape): void {
    const d = inputShape[inputShape.length - 1] as number;
    const init = tf.initializers.glorotUniform({ seed: this.seed });
    this.wHat = this.addWeight('wHat', [d, this.units], 'float32', init);
    this.mHat = this.addWeight('mHat', [d, this.units], 'float32', init);
    this.g = this.addWeight('g', [d, this.units], 'float32', init);
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0], this.units];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const W = tf.tanh(this.wHat.read()).mul(tf.sigmoid(this.mHat.read())) as tf.Tensor2D;
      const add = x.matMul(W);
      const mul = tf.exp(tf.minimum(tf.log(tf.abs(x).add(1e-7)).matMul(W), 30));
      const g = tf.sigmoid(x.matMul(this.g.read() as tf.Tensor2D));
      return g.mul(add).add(tf.sub(1, g).mul(mul));
    });
  }
  /** the layer's weights as LearnedCdnModel.nalu */
  weightsOf(): NaluWeights {
    return {
      wHat: Array.from(this.wHat.read().dataSync()),
      mHat: Array.from(this.mHat.read().dataSync()),
      g: Array.from(this.g.read().dataSync()),
    };
  }
}

export function lstmWeightsOf(layer: tf.layers.Layer, units: number): LstmWeights {
  const [k, r, b] = layer.getWeights();
  return { units, kernel: Array.from(k.dataSync()), recurrent: Array.from(r.dataSync()), bias: Array.from(b.dataSync()) };
}
