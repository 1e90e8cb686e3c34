/**
 * Regression trees and random forests (CART, squared-error splits, mean leaves — the textbook/sklearn
 * defaults), with features pre-binned into quantile bins so a split search is one pass per feature.
 * Used as the profiler's baselines (decision tree, random forest), all on the same inputs as the CNN.
 */
import { mulberry32 } from '../core/random.js';

export interface TreeOptions {
  maxDepth?: number;
  minLeaf?: number;
  bins?: number;
  featureFraction?: number;
  seed?: number;
}

interface Node {
  f: number;
  thr: number;
  left: number;
  right: number;
  value: number;
}

export class Binner {
  readonly edges: Float64Array[];
  constructor(x: Float32Array, n: number, d: number, rows: ArrayLike<number>, bins = 32) {
    this.edges = [];
    const sample = Array.from(
      { length: Math.min(rows.length, 20000) },
      (_, i) => rows[Math.floor((i * rows.length) / Math.min(rows.length, 20000))],
    );
    for (let f = 0; f < d; f++) {
      const v = sample.map((r) => x[r * d + f]).sort((a, b) => a - b);
      const e: number[] = [];
      for (let b = 1; b < bins; b++) {
        const q = v[Math.floor((b * v.length) / bins)];
        if (!e.length || q > e[e.length - 1]) e.push(q);
      }
      this.edges.push(Float64Array.from(e));
    }
    void n;
  }
  bin(f: number, v: number): number {
    const e = this.edges[f];
    let lo = 0,
      hi = e.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (v < e[m]) hi = m;
      else lo = m + 1;
    }
    return lo; // values < e[0] → 0; ≥ e[last] → e.length
  }
  binAll(x: Float32Array, n: number, d: number): Uint8Array {
    const out = new Uint8Array(n * d);
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) out[i * d + f] = this.bin(f, x[i * d + f]);
    return out;
  }
}

export class RegressionTree {
  private nodes: Node[] = [];
  constructor(
    private binner: Binner,
    private d: number,
  ) {}

  fit(xb: Uint8Array, y: ArrayLike<number>, rows: Int32Array, o: TreeOptions = {}): this {
    const maxDepth = o.maxDepth ?? 10,
      minLeaf = o.minLeaf ?? 20;
    const rng = mulberry32(o.seed ?? 1);
    const nf = Math.max(1, Math.round(this.d * (o.featureFraction ?? 1)));
    const nb = 256;
    const sum = new Float64Array(nb),
      cnt = new Float64Array(nb);
    const grow = (idx: Int32Array, depth: number): number => {
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += y[idx[i]];
      const mean = s / idx.length;
      const me = this.nodes.length;
      this.nodes.push({ f: -1, thr: 0, left: -1, right: -1, value: mean });
      if (depth >= maxDepth || idx.length < 2 * minLeaf) return me;
      // candidate features
      const feats = Array.from({ length: this.d }, (_, i) => i);
      for (let i = feats.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [feats[i], feats[j]] = [feats[j], feats[i]];
      }
      let best = { gain: 1e-12, f: -1, bin: -1 };
      const total = s,
        n = idx.length;
      for (const f of feats.slice(0, nf)) {
        const nbins = this.binner.edges[f].length + 1;
        sum.fill(0, 0, nbins);
        cnt.fill(0, 0, nbins);
        for (let i = 0; i < n; i++) {
          const r = idx[i];
          const b = xb[r * this.d + f];
          sum[b] += y[r];
          cnt[b]++;
        }
        let ls = 0,
          lc = 0;
        for (let b = 0; b < nbins - 1; b++) {
          ls += sum[b];
          lc += cnt[b];
          const rc = n - lc;
          if (lc < minLeaf || rc < minLeaf) continue;
          const rs = total - ls;
          // reduction of the squared error = ls²/lc + rs²/rc − total²/n
          const gain = (ls * ls) / lc + (rs * rs) / rc - (total * total) / n;
          if (gain > best.gain) best = { gain, f, bin: b };
        }
      }
      if (best.f < 0) return me;
      let nl = 0;
      for (let i = 0; i < n; i++) if (xb[idx[i] * this.d + best.f] <= best.bin) nl++;
      const L = new Int32Array(nl),
        R = new Int32Array(n - nl);
      let a = 0,
        c = 0;
      for (let i = 0; i < n; i++) {
        const r = idx[i];
        if (xb[r * this.d + best.f] <= best.bin) L[a++] = r;
        else R[c++] = r;
      }
      const node = this.nodes[me];
      node.f = best.f;
      node.thr = best.bin; // go left when bin(x_f) ≤ thr
      node.left = grow(L, depth + 1);
      node.right = grow(R, depth + 1);
      return me;
    };
    grow(rows, 0);
    return this;
  }

  predictRow(x: ArrayLike<number>, o = 0): number {
    let k = 0;
    for (;;) {
      const nd = this.nodes[k];
      if (nd.f < 0) return nd.value;
      k = this.binner.bin(nd.f, x[o + nd.f]) <= nd.thr ? nd.left : nd.right;
    }
  }

  get size(): number {
    return this.nodes.length;
  }
}

export class RandomForest {
  private trees: RegressionTree[] = [];
  constructor(
    private binner: Binner,
    private d: number,
  ) {}

  fit(xb: Uint8Array, y: ArrayLike<number>, rows: ArrayLike<number>, o: TreeOptions & { trees?: number; sampleSize?: number } = {}): this {
    const rng = mulberry32(o.seed ?? 1);
    const n = o.sampleSize ?? rows.length;
    for (let t = 0; t < (o.trees ?? 50); t++) {
      const boot = new Int32Array(n);
      for (let i = 0; i < n; i++) boot[i] = rows[Math.floor(rng() * rows.length)];
      this.trees.push(
        new RegressionTree(this.binner, this.d).fit(xb, y, boot, {
          ...o,
          featureFraction: o.featureFraction ?? 1 / 3,
          seed: (o.seed ?? 1) * 1000 + t,
        }),
      );
    }
    return this;
  }

  predictRow(x: ArrayLike<number>, o = 0): number {
    let s = 0;
    for (const t of this.trees) s += t.predictRow(x, o);
    return s / this.trees.length;
  }
}
