/**
 * A dense-network forward pass in plain JavaScript, weights read once from a tfjs layers model: the same
 * numbers as `model.predict` (float32), in microseconds instead of a tfjs dispatch per layer. Dense layers
 * named in order; ReLU after every layer but the last (or as given by `relu`). A kernel that is mostly zeros
 * (a magnitude-pruned variant, src/deploy/catalog.ts) is kept as compressed rows: only its non-zero weights
 * are multiplied, so pruning saves time here as well as accuracy-free bytes under compression.
 */
import type * as TF from '@tensorflow/tfjs';

interface DenseWeights {
  w: Float32Array;
  b: Float32Array;
  n: number;
  m: number;
  relu: boolean;
  /** compressed rows (CSR over the n inputs) when at most half the weights are non-zero */
  sparse: { start: Uint32Array; col: Uint16Array; val: Float32Array } | null;
}

/** Weights of one dense layer: kernel n × m (row-major, input-major as tfjs stores it) and bias m. */
export interface DenseKernel {
  kernel: Float32Array;
  bias: Float32Array;
  n: number;
  m: number;
}

/** Read a dense layer's weights from a tfjs model. @throws Error when the layer is missing or not dense */
export function denseKernel(model: TF.LayersModel, name: string): DenseKernel {
  const ws = model.getLayer(name).getWeights();
  if (ws.length !== 2 || ws[0].shape.length !== 2) throw new Error(`layer ${name} is not a dense layer with a bias`);
  const [n, m] = ws[0].shape as [number, number];
  return { kernel: ws[0].dataSync() as Float32Array, bias: ws[1].dataSync() as Float32Array, n, m };
}

function compress(w: Float32Array, n: number, m: number): DenseWeights['sparse'] {
  let nz = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nz++;
  if (nz > w.length / 2 || m > 65535) return null;
  const start = new Uint32Array(n + 1);
  const col = new Uint16Array(nz);
  const val = new Float32Array(nz);
  let k = 0;
  for (let i = 0; i < n; i++) {
    start[i] = k;
    for (let j = 0; j < m; j++) {
      const v = w[i * m + j];
      if (v !== 0) {
        col[k] = j;
        val[k++] = v;
      }
    }
  }
  start[n] = k;
  return { start, col, val };
}

export class FastMlp {
  private layers: DenseWeights[];
  private scratch: Float32Array[];
  readonly inputs: number;
  readonly outputs: number;

  /**
   * @param model a tfjs layers model, or the dense kernels themselves (in order)
   * @param names the dense layers, in order (ignored when kernels are given)
   * @param relu ReLU after each layer (default: all but the last)
   */
  constructor(model: TF.LayersModel | DenseKernel[], names: string[] = [], relu?: boolean[]) {
    const kernels = Array.isArray(model) ? model : names.map((name) => denseKernel(model, name));
    this.layers = kernels.map((k, i) => ({
      w: k.kernel,
      b: k.bias,
      n: k.n,
      m: k.m,
      relu: relu ? relu[i] : i < kernels.length - 1,
      sparse: compress(k.kernel, k.n, k.m),
    }));
    this.scratch = this.layers.map((l) => new Float32Array(l.m));
    this.inputs = this.layers[0].n;
    this.outputs = this.layers[this.layers.length - 1].m;
  }

  /** the share of weights that are zero, over every layer (0 for a dense model, ~0.75 for a pruned one) */
  get sparsity(): number {
    let z = 0,
      t = 0;
    for (const l of this.layers) {
      t += l.w.length;
      for (let i = 0; i < l.w.length; i++) if (l.w[i] === 0) z++;
    }
    return t ? z / t : 0;
  }

  /** outputs for one input vector (the returned array is reused by the next call) */
  forward(x: ArrayLike<number>): Float32Array {
    let inp: ArrayLike<number> = x;
    for (let li = 0; li < this.layers.length; li++) {
      const { w, b, n, m, relu, sparse } = this.layers[li];
      const out = this.scratch[li];
      out.set(b);
      if (sparse) {
        const { start, col, val } = sparse;
        for (let i = 0; i < n; i++) {
          const xi = inp[i];
          if (xi === 0) continue;
          for (let k = start[i], e = start[i + 1]; k < e; k++) out[col[k]] += xi * val[k];
        }
      } else {
        for (let i = 0; i < n; i++) {
          const xi = inp[i];
          if (xi === 0) continue;
          const row = i * m;
          for (let j = 0; j < m; j++) out[j] += xi * w[row + j];
        }
      }
      if (relu) for (let j = 0; j < m; j++) if (out[j] < 0) out[j] = 0;
      inp = out;
    }
    return inp as Float32Array;
  }
}
