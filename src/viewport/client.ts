/**
 * Main-thread viewport prediction: asks the model in the worker (with a deadline) and falls back to
 * no-motion computed locally when the worker is missing, not ready, failing or late — a model never
 * blocks the viewer. Answers the predicted centres for 0.2 … 5 s and tile probabilities.
 */
import { withDeadline } from '../core/deadline.js';
import { HORIZON_STEPS, NoMotion } from './predictors.js';
import { checkTiling, DEFAULT_FOV, DEFAULT_GRID, tileProbabilities, type Fov, type TileGrid } from './tiles.js';
import type { PriorJson } from './prior.js';

/** What the viewport model (in the worker) answers for one prediction. */
export interface ViewportModelAnswer {
  /** unit vectors for steps 1..25 (0.2 s … 5 s), flat */
  points: Float64Array;
  /** probability per tile of being visible at the requested horizon */
  tiles: Float64Array;
  /** the spread used for the tiles (deg) */
  sigmaDeg: number;
  /** the model's name ('learned', 'learned+prior') */
  source: string;
  /** time inside the worker: the model alone, and model + tiles (ms) */
  modelMs: number;
  computeMs: number;
  /** where the model ran when the worker may offload (src/edge/offload.ts): 'device' or 'edge' */
  ranOn?: 'device' | 'edge';
  /** why there (the offloading rule's reason, or the edge failure the device fell back from) */
  placementReason?: string;
}

/**
 * The viewport model behind an asynchronous port — the worker's is `workerViewportPort(worker)`; any other
 * implementation (a server, a test double) works the same. Every call may reject or be late: the client
 * falls back to no-motion.
 */
export interface ViewportPort {
  /** load the model (model.json URL); resolves with the predictor's name */
  init(modelUrl: string): Promise<string>;
  /** the attention prior of the video now playing (null clears it) */
  setPrior(prior: PriorJson | null): Promise<void>;
  /** centres for 0.2 … 5 s from the 5 Hz history at playback time `t`, and tile probabilities at `o.tilesAtS` */
  predict(
    hist: Float64Array,
    t: number,
    o: { tilesAtS: number; grid: TileGrid; fov: Fov; deadlineMs?: number; video?: string },
  ): Promise<ViewportModelAnswer>;
}

export interface ViewportPrediction {
  /** unit vectors for steps 1..25 (0.2 s … 5 s), flat */
  points: Float64Array;
  /** probability per tile of being visible at `tilesAtS` */
  tiles: Float64Array;
  tilesAtS: number;
  /** the spread used for the tiles (deg) */
  sigmaDeg: number;
  /** what answered: the worker's model name, or 'no-motion (fallback: …)' */
  source: string;
  fallback: boolean;
  /** round trip as the page sees it */
  latencyMs: number;
  /** time inside the worker: the model alone, and model + tiles (absent on the fallback path) */
  modelMs?: number;
  computeMs?: number;
  /** where the prediction ran: 'edge' (offloaded, src/edge/offload.ts) or 'device' (the worker or the fallback) */
  ranOn: 'device' | 'edge';
  /** why there, when the worker may offload (the rule's reason, or the edge failure it fell back from) */
  placementReason?: string;
}

/**
 * Fallback spread (deg) by horizon step: a rough fit of no-motion's mean error in the viewport data README
 * (between its Jin2022 and Wu2017 rows: ~10° at 0.2 s, 18° at 1 s, 24° at 2 s, 35° at 5 s).
 */
export function defaultSigmaDeg(step: number): number {
  const h = (step + 1) * 0.2;
  return Math.min(60, 4 + 14 * Math.sqrt(h));
}

export interface ViewportClientOptions {
  /** where the model runs (the worker's `workerViewportPort(worker)`); none: no-motion on the main thread */
  port?: ViewportPort | null;
  /** model.json of the viewport model the port loads */
  modelUrl?: string;
  /** deadline per worker call, ms (default 50) */
  budgetMs?: number;
  grid?: TileGrid;
  fov?: Fov;
  /** horizon for the tile probabilities, s (default 2) */
  tilesAtS?: number;
  /** the video's id, sent with offloaded tasks: an edge holding its attention prior runs its prior models */
  video?: string;
}

export class ViewportClient {
  private ready: Promise<string | null>;
  private modelName: string | null = null;
  private noMotion = new NoMotion();
  readonly latencies: number[] = [];
  lastError: string | null = null;

  /**
   * @throws TypeError when given `worker` (the option is `port: workerViewportPort(worker)`; a worker alone would never be asked);
   *   RangeError for a `tilesAtS` outside [0.2, 5] s (the predicted horizons: the fallback's tiles were all 0 there), a
   *   `budgetMs` that is no number > 0, or a `grid` / `fov` that `checkTiling` refuses
   */
  constructor(private opts: ViewportClientOptions = {}) {
    if (opts && (opts as { worker?: unknown }).worker !== undefined)
      throw new TypeError('ViewportClient: pass port: workerViewportPort(worker), not worker (the worker would never be asked)');
    const { tilesAtS = 2, budgetMs = 50 } = opts ?? {};
    if (!(tilesAtS >= 0.2 && tilesAtS <= HORIZON_STEPS * 0.2))
      throw new RangeError(`ViewportClient: tilesAtS must be in [0.2, 5] s (the predicted horizons), got ${tilesAtS}`);
    if (!(budgetMs > 0 && budgetMs < Infinity))
      throw new RangeError(`ViewportClient: budgetMs must be a number of ms > 0, got ${budgetMs}`);
    checkTiling('ViewportClient', opts?.grid ?? DEFAULT_GRID, opts?.fov ?? DEFAULT_FOV);
    const port = opts.port;
    this.ready =
      port && opts.modelUrl
        ? withDeadline(port.init(opts.modelUrl), 20000).then(
            (name) => (this.modelName = name),
            (e) => {
              this.lastError = `init: ${e?.message ?? e}`;
              return null;
            },
          )
        : Promise.resolve(null);
  }

  /** resolves with the worker model's name once loaded (null when it will not be used) */
  whenReady(): Promise<string | null> {
    return this.ready;
  }

  /** hand the worker the attention prior of the video being played (null clears it) */
  async setPrior(prior: PriorJson | null): Promise<void> {
    const port = this.opts.port;
    if (!port || !(await this.ready)) return;
    await withDeadline(port.setPrior(prior), 5000);
  }

  async predict(hist: Float64Array, t: number): Promise<ViewportPrediction> {
    const t0 = performance.now();
    const at = this.opts.tilesAtS ?? 2;
    const grid = this.opts.grid ?? DEFAULT_GRID;
    const fov = this.opts.fov ?? DEFAULT_FOV;
    const port = this.opts.port;
    if (port && this.modelName) {
      try {
        // an offloading worker must settle (edge or device) within the budget: it gets 80 % of it as its deadline
        const budget = this.opts.budgetMs ?? 50;
        const r = await withDeadline(
          port.predict(hist, t, {
            tilesAtS: at,
            grid,
            fov,
            deadlineMs: 0.8 * budget,
            ...(this.opts.video ? { video: this.opts.video } : {}),
          }),
          budget,
        );
        const latencyMs = performance.now() - t0;
        this.latencies.push(latencyMs);
        if (this.latencies.length > 1000) this.latencies.shift();
        return { ...r, ranOn: r.ranOn ?? 'device', tilesAtS: at, fallback: false, latencyMs };
      } catch (e) {
        this.lastError = (e as Error)?.message ?? String(e);
      }
    }
    const points = this.noMotion.predict(hist, HORIZON_STEPS);
    const k = Math.round(at / 0.2) - 1;
    const sigmaDeg = defaultSigmaDeg(k);
    return {
      points,
      tiles: tileProbabilities(points, sigmaDeg, grid, fov, k * 3),
      tilesAtS: at,
      sigmaDeg,
      source: `no-motion (fallback: ${this.lastError ?? (this.modelName ? 'worker' : 'no model')})`,
      fallback: true,
      latencyMs: performance.now() - t0,
      ranOn: 'device',
    };
  }
}
