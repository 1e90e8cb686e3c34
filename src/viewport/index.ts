/**
 * edgeplay/viewport — 360° viewport prediction for the player: geometry on unit vectors, baseline
 * predictors, the learned model (run in the worker), the attention prior, tiles and prefetch plans.
 */
export * from './geometry.js';
export {
  NoMotion,
  ConstantVelocity,
  LinearRegression,
  HORIZON_STEPS,
  STEP_S,
  SAMPLE_HZ,
  type ViewportPredictor,
  type PredictContext,
} from './predictors.js';
export { AttentionPrior, type PriorJson } from './prior.js';
export {
  tileProbabilities,
  prefetchPlan,
  visibleTiles,
  tileOf,
  DEFAULT_GRID,
  DEFAULT_FOV,
  type TileGrid,
  type Fov,
  type PrefetchPlan,
  type TileQuality,
} from './tiles.js';
export { ViewportSampler } from './sampler.js';
export {
  ViewportClient,
  defaultSigmaDeg,
  type ViewportPrediction,
  type ViewportClientOptions,
  type ViewportPort,
  type ViewportModelAnswer,
} from './client.js';
