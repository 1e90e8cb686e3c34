/**
 * Fast-LTS (the journal version of LTS): a decision tree that imitates the trained policy, read from the
 * same encoded observation (lts.ts encodeObservation) and served when it loses less than 2 % QoE against
 * the network (decided on dev days by `npm run train:cdn`, recorded in the model file). A decision is a
 * dozen comparisons instead of the network's ~300k multiply-adds.
 *
 * The tree is CART for classification (Gini impurity) grown on quantile-binned features (at most 32 bins
 * per feature, the histogram method of LightGBM), so growing it on tens of thousands of states takes seconds.
 */
import type { CdnSharePolicy, CdnStepObservation } from './index.js';
import { checkInputs, encodeObservation, inputsName, inputWidth, type LtsInputs } from './lts.js';
import { actionCount, applyAction, fromPoints, lastScores, toPoints } from './mdp.js';

/** A fitted tree: node i is a leaf when feature[i] < 0 (its action in value[i]); else x[feature] ≤ threshold goes left. */
export interface TreeModel {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface TreeFitOptions {
  maxDepth?: number;
  minLeaf?: number;
  bins?: number;
  /** sample weights (e.g. to weight states by how often they matter); default 1 */
  weights?: Float32Array;
}

/** Predict the class of row x (length = number of features). */
export function treePredict(t: TreeModel, x: ArrayLike<number>): number {
  let i = 0;
  while (t.feature[i] >= 0) i = x[t.feature[i]] <= t.threshold[i] ? t.left[i] : t.right[i];
  return t.value[i];
}
export function treeDepth(t: TreeModel, i = 0): number {
  return t.feature[i] < 0 ? 0 : 1 + Math.max(treeDepth(t, t.left[i]), treeDepth(t, t.right[i]));
}

/**
 * Fit a classification tree. x: n rows × d features (row-major), y: classes in 0..classes−1.
 * Throws on empty data or labels out of range.
 */
export function fitTree(x: Float32Array, d: number, y: Int32Array, classes: number, o: TreeFitOptions = {}): TreeModel {
  const n = y.length;
  if (!n || x.length !== n * d) throw new Error(`fitTree: ${x.length} values for ${n} rows × ${d} features`);
  for (let i = 0; i < n; i++) if (y[i] < 0 || y[i] >= classes) throw new Error(`fitTree: label ${y[i]} outside 0..${classes - 1}`);
  const maxDepth = o.maxDepth ?? 10;
  const minLeaf = o.minLeaf ?? 10;
  const B = Math.min(255, o.bins ?? 32);
  const w = o.weights ?? new Float32Array(n).fill(1);
  // quantile bin edges per feature
  const edges: Float32Array[] = [];
  const bin = new Uint8Array(n * d);
  const col = new Float32Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = x[i * d + f];
    const sorted = Float32Array.from(col).sort();
    const e: number[] = [];
    for (let b = 1; b < B; b++) {
      const v = sorted[Math.floor((b * n) / B)];
      if (!e.length || v > e[e.length - 1]) e.push(v);
    }
    // a value v goes to the first bin whose edge is ≥ v; the split "bin ≤ b" is "x ≤ edge[b]"
    const ef = Float32Array.from(e);
    edges.push(ef);
    for (let i = 0; i < n; i++) {
      const v = col[i];
      let lo = 0,
        hi = ef.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ef[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      bin[i * d + f] = lo;
    }
  }
  const t: TreeModel = { feature: [], threshold: [], left: [], right: [], value: [] };
  const hist = new Float64Array(B * classes);
  const grow = (rows: Int32Array, depth: number): number => {
    const id = t.feature.length;
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    const tot = new Float64Array(classes);
    let W = 0;
    for (const r of rows) {
      tot[y[r]] += w[r];
      W += w[r];
    }
    let major = 0;
    for (let c = 1; c < classes; c++) if (tot[c] > tot[major]) major = c;
    t.value.push(major);
    if (depth >= maxDepth || rows.length < 2 * minLeaf || tot[major] >= W - 1e-9) return id;
    let parentImp = 1;
    for (let c = 0; c < classes; c++) parentImp -= (tot[c] / W) ** 2;
    let bestGain = 1e-9,
      bestF = -1,
      bestB = -1;
    const left = new Float64Array(classes);
    for (let f = 0; f < d; f++) {
      const nb = edges[f].length + 1;
      if (nb < 2) continue;
      hist.fill(0, 0, nb * classes);
      const cntB = new Int32Array(nb);
      for (const r of rows) {
        const b = bin[r * d + f];
        hist[b * classes + y[r]] += w[r];
        cntB[b]++;
      }
      left.fill(0);
      let wl = 0,
        nl = 0;
      for (let b = 0; b < nb - 1; b++) {
        for (let c = 0; c < classes; c++) left[c] += hist[b * classes + c];
        for (let c = 0; c < classes; c++) wl += hist[b * classes + c];
        nl += cntB[b];
        const nr = rows.length - nl;
        const wr = W - wl;
        if (nl < minLeaf || nr < minLeaf || wl <= 0 || wr <= 0) continue;
        let gl = 1,
          gr = 1;
        for (let c = 0; c < classes; c++) {
          gl -= (left[c] / wl) ** 2;
          gr -= ((tot[c] - left[c]) / wr) ** 2;
        }
        const gain = parentImp - (wl / W) * gl - (wr / W) * gr;
        if (gain > bestGain) {
          bestGain = gain;
          bestF = f;
          bestB = b;
        }
      }
    }
    if (bestF < 0) return id;
    const L: number[] = [],
      R: number[] = [];
    for (const r of rows) (bin[r * d + bestF] <= bestB ? L : R).push(r);
    t.feature[id] = bestF;
    t.threshold[id] = edges[bestF][bestB];
    t.left[id] = grow(Int32Array.from(L), depth + 1);
    t.right[id] = grow(Int32Array.from(R), depth + 1);
    return id;
  };
  grow(
    Int32Array.from({ length: n }, (_, i) => i),
    0,
  );
  return t;
}

/** A Fast-LTS file: the tree, the CDNs and encoding it was fitted for. */
export interface FastLtsModel {
  format: 'edgeplay-cdn-fastlts/1';
  cdns: string[];
  k: number;
  workloadScale: number;
  /** the network's inputs beside the per-CDN history, which the tree reads too (absent: the paper's state) */
  inputs?: LtsInputs;
  tree: TreeModel;
  meta?: Record<string, unknown>;
}

/**
 * Fast-LTS as a share policy (same action semantics as LtsPolicy). Throws on other CDNs than the model's, on
 * inputs it does not know, and on a tree reading a feature beyond the width of its recorded inputs.
 */
export class FastLtsPolicy implements CdnSharePolicy {
  readonly name: string;
  readonly inputs: LtsInputs;
  private x: Float32Array;
  lastAction = -1;
  constructor(
    readonly model: FastLtsModel,
    name = 'fast-lts',
  ) {
    if (model.format !== 'edgeplay-cdn-fastlts/1') throw new Error(`FastLtsPolicy: unknown model format ${String(model.format)}`);
    const m = model.cdns.length;
    const A = actionCount(m);
    if (model.tree.value.some((v) => v < 0 || v >= A)) throw new Error(`FastLtsPolicy: a leaf's action is outside 0..${A - 1}`);
    this.inputs = checkInputs(model.inputs);
    const width = inputWidth(m, model.k, this.inputs);
    const far = model.tree.feature.reduce((a, f) => Math.max(a, f), -1);
    if (far >= width)
      throw new Error(
        `FastLtsPolicy: the tree reads feature ${far}, the inputs its file records (${inputsName(this.inputs)}) give ${width}: fitted with other inputs?`,
      );
    this.x = new Float32Array(width);
    this.name = name;
  }
  act(obs: CdnStepObservation): number {
    const ids = this.model.cdns;
    if (obs.cdns.length !== ids.length || obs.cdns.some((c, i) => c !== ids[i]))
      throw new Error(`FastLtsPolicy: fitted for CDNs ${ids.join(',')}, observed ${obs.cdns.join(',')}`);
    encodeObservation(obs, this.model.workloadScale, this.model.k, this.x, this.inputs);
    return (this.lastAction = treePredict(this.model.tree, this.x));
  }
  step(obs: CdnStepObservation): number[] {
    return fromPoints(applyAction(toPoints(obs.shares), this.act(obs), lastScores(obs)));
  }
}
