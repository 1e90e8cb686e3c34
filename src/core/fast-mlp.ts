/**
 * A dense-network forward pass in plain JavaScript, weights read once from a tfjs layers model: the same
 * numbers as `model.predict` (float32), in microseconds instead of a tfjs dispatch per layer. Dense layers
 * named in order; ReLU after every layer but the last (or as given by `relu`).
 */
import type * as TF from '@tensorflow/tfjs';

interface DenseWeights {
  w: Float32Array;
  b: Float32Array;
  n: number;
  m: number;
  relu: boolean;
}

export class FastMlp {
  private layers: DenseWeights[];
  private scratch: Float32Array[];
  readonly inputs: number;
  readonly outputs: number;

  constructor(model: TF.LayersModel, names: string[], relu?: boolean[]) {
    this.layers = names.map((name, i) => {
      const [k, b] = model.getLayer(name).getWeights();
      const [n, m] = k.shape as [number, number];
      return { w: k.dataSync() as Float32Array, b: b.dataSync() as Float32Array, n, m, relu: relu ? relu[i] : i < names.length - 1 };
    });
    this.scratch = this.layers.map((l) => new Float32Array(l.m));
    this.inputs = this.layers[0].n;
    this.outputs = this.layers[this.layers.length - 1].m;
  }

  /** outputs for one input vector (the returned array is reused by the next call) */
  forward(x: ArrayLike<number>): Float32Array {
    let inp: ArrayLike<number> = x;
    for (let li = 0; li < this.layers.length; li++) {
      const { w, b, n, m, relu } = this.layers[li];
      const out = this.scratch[li];
      out.set(b);
      for (let i = 0; i < n; i++) {
        const xi = inp[i];
        if (xi === 0) continue;
        const row = i * m;
        for (let j = 0; j < m; j++) out[j] += xi * w[row + j];
      }
      if (relu) for (let j = 0; j < m; j++) if (out[j] < 0) out[j] = 0;
      inp = out;
    }
    return inp as Float32Array;
  }
}
