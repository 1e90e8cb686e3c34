/**
 * The content signal: a per-video attention prior built from other viewers' traces of the same video — a
 * popularity heat map over the sphere per time window, the kind of small document an edge server can
 * serve next to the playlist (`AttentionPrior.toJSON()`). Built only from *other* users' traces: the
 * builder takes the traces it is given, and callers (trainer, benchmark) leave the viewer's own out.
 */
import type { Vec3 } from './geometry.js';

export interface PriorJson {
  kind: 'edgeplay-attention-prior';
  /** equirectangular grid, columns × rows (yaw × pitch) */
  grid: [number, number];
  /** seconds of playback per window */
  windowS: number;
  /** viewers the map was built from */
  viewers: number;
  /** per window: [cell index, weight] pairs, weights summing to 1 (empty when nobody watched) */
  windows: Array<Array<[number, number]>>;
}

/** Kernel widths and look-ahead (s) of the prior features fed to the model. */
export const PRIOR_KAPPAS = [2, 10];
export const PRIOR_HORIZONS_S = [0, 1, 2, 3, 4, 5];
export const PRIOR_FEATURES = PRIOR_KAPPAS.length * PRIOR_HORIZONS_S.length * 4;

export class AttentionPrior {
  readonly cols: number;
  readonly rows: number;
  /** unit vector of each cell centre */
  private centres: Float64Array;
  /** per window: cell indices and weights */
  private idx: Uint16Array[];
  private w: Float64Array[];

  constructor(readonly json: PriorJson) {
    if (json?.kind !== 'edgeplay-attention-prior') throw new Error('not an edgeplay attention prior (kind mismatch)');
    [this.cols, this.rows] = json.grid;
    if (!(this.cols > 0 && this.rows > 0 && this.cols * this.rows < 65536)) throw new Error(`bad prior grid ${json.grid}`);
    if (!(json.windowS > 0)) throw new Error('prior windowS must be > 0');
    this.centres = new Float64Array(this.cols * this.rows * 3);
    for (let r = 0; r < this.rows; r++) {
      const pitch = Math.PI / 2 - ((r + 0.5) / this.rows) * Math.PI;
      for (let c = 0; c < this.cols; c++) {
        const yaw = ((c + 0.5) / this.cols) * 2 * Math.PI - Math.PI;
        const o = (r * this.cols + c) * 3;
        this.centres[o] = Math.cos(pitch) * Math.sin(yaw);
        this.centres[o + 1] = Math.sin(pitch);
        this.centres[o + 2] = -Math.cos(pitch) * Math.cos(yaw);
      }
    }
    this.idx = json.windows.map((win) => Uint16Array.from(win, (p) => p[0]));
    this.w = json.windows.map((win) => Float64Array.from(win, (p) => p[1]));
  }

  /** Cell of a unit vector (equirectangular: u = 0.5 + yaw/2π, v = 0.5 − pitch/π). */
  static cellOf(x: number, y: number, z: number, cols: number, rows: number): number {
    const yaw = Math.atan2(x, -z);
    const pitch = Math.asin(Math.max(-1, Math.min(1, y)));
    const c = Math.min(cols - 1, Math.floor((yaw / (2 * Math.PI) + 0.5) * cols));
    const r = Math.min(rows - 1, Math.floor((0.5 - pitch / Math.PI) * rows));
    return r * cols + c;
  }

  /**
   * Build from viewers' traces of one video: each trace is unit vectors at 5 Hz from playback time t0.
   */
  static build(
    traces: Array<{ t0: number; xyz: ArrayLike<number> }>,
    opts: { cols?: number; rows?: number; windowS?: number } = {},
  ): AttentionPrior {
    const cols = opts.cols ?? 24;
    const rows = opts.rows ?? 12;
    const windowS = opts.windowS ?? 1;
    const maps: Array<Map<number, number>> = [];
    for (const tr of traces) {
      const n = tr.xyz.length / 3;
      for (let i = 0; i < n; i++) {
        const t = tr.t0 + i * 0.2;
        const wi = Math.floor(t / windowS + 1e-9);
        const cell = AttentionPrior.cellOf(tr.xyz[3 * i], tr.xyz[3 * i + 1], tr.xyz[3 * i + 2], cols, rows);
        const m = (maps[wi] ??= new Map());
        m.set(cell, (m.get(cell) ?? 0) + 1);
      }
    }
    const windows: Array<Array<[number, number]>> = [];
    for (let wi = 0; wi < maps.length; wi++) {
      const m = maps[wi];
      if (!m) {
        windows.push([]);
        continue;
      }
      let tot = 0;
      for (const v of m.values()) tot += v;
      windows.push([...m].sort((a, b) => a[0] - b[0]).map(([c, v]) => [c, Math.round((v / tot) * 1e4) / 1e4]));
    }
    return new AttentionPrior({ kind: 'edgeplay-attention-prior', grid: [cols, rows], windowS, viewers: traces.length, windows });
  }

  toJSON(): PriorJson {
    return this.json;
  }

  /** Probability per cell for playback time t (zeros when the prior has no data there). */
  heatmap(t: number, out: Float64Array = new Float64Array(this.cols * this.rows)): Float64Array {
    out.fill(0);
    const wi = Math.floor(t / this.json.windowS + 1e-9);
    const idx = this.idx[wi];
    if (!idx) return out;
    const w = this.w[wi];
    for (let k = 0; k < idx.length; k++) out[idx[k]] = w[k];
    return out;
  }

  /**
   * Kernel-weighted mean direction of the prior at playback time t around direction p:
   * Σ w_c·e^{κ(c·p−1)}·c, and its mass Σ w_c·e^{κ(c·p−1)}. Windows are read at their centres and
   * interpolated linearly in time. Writes [mx, my, mz, mass] (world frame) to out.
   */
  localMean(t: number, p: Vec3 | ArrayLike<number>, kappa: number, out: Float64Array, o = 0): void {
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = 0;
    out[o + 3] = 0;
    const u = t / this.json.windowS - 0.5;
    const w0 = Math.floor(u);
    const f = u - w0;
    this.addWindow(w0, 1 - f, p, kappa, out, o);
    this.addWindow(w0 + 1, f, p, kappa, out, o);
  }

  private addWindow(wi: number, share: number, p: Vec3 | ArrayLike<number>, kappa: number, out: Float64Array, o: number): void {
    if (share <= 0) return;
    const idx = this.idx[wi];
    if (!idx) return;
    const w = this.w[wi];
    const c = this.centres;
    for (let k = 0; k < idx.length; k++) {
      const ci = idx[k] * 3;
      const kw = share * w[k] * Math.exp(kappa * (c[ci] * p[0] + c[ci + 1] * p[1] + c[ci + 2] * p[2] - 1));
      out[o] += kw * c[ci];
      out[o + 1] += kw * c[ci + 1];
      out[o + 2] += kw * c[ci + 2];
      out[o + 3] += kw;
    }
  }
}

/**
 * The same prior on a grid `f` times coarser in both directions (f × f cells summed; the deployment's
 * coarse-prior data variant, src/deploy/catalog.ts). Equal to building the prior at the coarse grid from the
 * same traces, up to the 1e-4 rounding of the weights. @throws Error when the grid does not divide by f
 */
export function coarsenPrior(json: PriorJson, f: number): PriorJson {
  const [cols, rows] = json.grid;
  if (!(Number.isInteger(f) && f >= 1 && cols % f === 0 && rows % f === 0))
    throw new Error(`prior grid ${cols}x${rows} does not divide by ${f}`);
  if (f === 1) return json;
  const nc = cols / f;
  const windows = json.windows.map((win) => {
    const m = new Map<number, number>();
    for (const [cell, w] of win) {
      const c = ((cell % cols) / f) | 0,
        r = (Math.floor(cell / cols) / f) | 0;
      const k = r * nc + c;
      m.set(k, (m.get(k) ?? 0) + w);
    }
    return [...m].sort((a, b) => a[0] - b[0]).map(([c, w]) => [c, Math.round(w * 1e4) / 1e4] as [number, number]);
  });
  return { ...json, grid: [nc, rows / f], windows };
}
