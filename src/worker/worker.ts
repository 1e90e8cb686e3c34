/**
 * The edgeplay worker: hosts every on-device model off the main thread, exposed with comlink.
 * tfjs (core + layers + the cpu backend) and the weights load
 * lazily, on the first `initAbr`; the core SDK bundle never contains tfjs.
 */
import * as Comlink from 'comlink';
import { VERSION } from '../core/version.js';
import type { AbrObservation, AbrPolicy } from '../core/abr.js';
import { Bola, BufferBased, RobustMpc } from '../abr/baselines.js';
import type { AbrPolicyName } from '../abr/hls-controller.js';
import type { AbrReply, AbrRequest, WorkerApi } from './protocol.js';

/** A policy that cannot serve a request at all (not a passing failure such as a model still loading). */
class PolicyCannotServe extends Error {}

const startedAt = Date.now();
let backend: string | null = null;
let drl: AbrPolicy | null = null;
let mpcSizes: number[] = [];
const baselines: Partial<Record<AbrPolicyName, AbrPolicy>> = {};

function baseline(name: AbrPolicyName): AbrPolicy {
  let p = baselines[name];
  if (!p) {
    if (name === 'bb') p = new BufferBased();
    else if (name === 'bola') p = new Bola();
    else if (name === 'robustmpc') p = new RobustMpc(null, { sizeOf: (q) => mpcSizes[q] ?? 0, fixOffByOne: true });
    else throw new PolicyCannotServe(`unknown policy ${name}`);
    baselines[name] = p;
  }
  return p;
}

let viewport: import('../viewport/model.js').LearnedViewport | null = null;
/** the viewport model's own mean error (deg) per horizon step on its training data: the tile spread */
let viewportSigma: number[] | null = null;

async function loadTf() {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const layers = await import('@tensorflow/tfjs-layers');
  // small MLPs: the cpu backend answers in well under a millisecond, needs no extra files and no GPU
  // readback (and the forward passes run as plain JS over the weights anyway)
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  backend = tf.getBackend();
  return layers;
}

/** the live policy and forecaster (initLive), with the ladder the forecaster was started on */
let live: {
  policy: import('../abr/live.js').LivePolicy;
  forecaster: import('../abr/size-forecast.js').SizeForecaster;
  ladderKey: string;
} | null = null;

/** fetch a model file next to `base` as JSON or bytes; throws with the URL and status when it is not there */
async function fetchModelFile(base: string, name: string, as: 'json'): Promise<unknown>;
async function fetchModelFile(base: string, name: string, as: 'bytes'): Promise<ArrayBuffer>;
async function fetchModelFile(base: string, name: string, as: 'json' | 'bytes'): Promise<unknown> {
  const url = new URL(name, new URL(base, self.location.href)).href;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return as === 'json' ? r.json() : r.arrayBuffer();
}

let profile: { model: import('@tensorflow/tfjs-layers').LayersModel; norm: import('../profile/model.js').ProfileNorm } | null = null;

export const api: WorkerApi = {
  /** round-trip probe used by the SDK to budget worker calls */
  ping(t: number): number {
    return t;
  },
  info() {
    return {
      version: VERSION,
      models: [
        ...(drl ? ['abr-drl'] : []),
        ...(live ? ['live-abr-drl', 'chunk-size'] : []),
        ...(viewport ? [viewport.name] : []),
        ...(profile ? ['profile'] : []),
      ],
      startedAt,
      backend,
    };
  },
  /** Load tfjs and the DRL bitrate model (model.json URL). Resolves with the backend in use. */
  async initAbr(opts: { modelUrl: string }): Promise<string> {
    const layers = await loadTf();
    const model = await layers.loadLayersModel(opts.modelUrl);
    const { DrlPolicy } = await import('../abr/drl.js');
    drl = new DrlPolicy(model as never);
    drl.decide({
      lastQuality: 0,
      bufferS: 0,
      throughputs: [1],
      delaysMs: [1],
      nextSizes: [0, 0, 0, 0, 0, 0],
      remain: 1,
      nextIndex: 1,
      totalChunks: 48,
      ladderKbps: [300, 750, 1200, 1850, 2850, 4300],
      rebufS: 0,
    }); // warm-up
    return backend ?? 'cpu';
  },
  /** Level for the next chunk from the named policy. Throws if the policy cannot decide (the caller falls back). */
  decideAbr(policy: AbrPolicyName, obs: AbrObservation): number {
    if (policy === 'drl') {
      if (!drl) throw new Error('DRL model not loaded (initAbr)');
      return drl.decide(obs);
    }
    mpcSizes = obs.nextSizes;
    return baseline(policy).decide(obs);
  },
  /**
   * A dedicated port for ABR decisions: messages `{id, policy, obs}` answered with `{id, level}` or
   * `{id, error}`, plus the worker's receive and send times (epoch ms) so the page can tell transit from
   * compute. A raw MessagePort skips comlink's per-call proxy, listener and id machinery on both sides.
   */
  connectAbr(port: MessagePort): void {
    port.onmessage = (e: MessageEvent<AbrRequest>) => {
      const recv = performance.timeOrigin + performance.now();
      const m = e.data;
      let reply: AbrReply;
      try {
        if (m.live) {
          const d = api.decideLive(m.live);
          reply = { id: m.id, level: d.level, live: d, recv, sent: performance.timeOrigin + performance.now() };
        } else {
          const level = api.decideAbr(m.policy, m.obs);
          reply = { id: m.id, level, recv, sent: performance.timeOrigin + performance.now() };
        }
      } catch (err) {
        reply = {
          id: m?.id,
          error: err instanceof Error ? err.message : String(err),
          permanent: err instanceof PolicyCannotServe,
          recv,
          sent: performance.timeOrigin + performance.now(),
        };
      }
      port.postMessage(reply);
    };
  },
  /** Load the live DRL policy and the chunk-size forecaster from their artifacts (plain JS, no tfjs). */
  async initLive(opts: { policyUrl: string; sizeModelUrl: string }): Promise<string> {
    const [{ denseFromArtifacts, sizeNetFromArtifacts, LearnedSizeForecaster }, { LiveDrlPolicy }] = await Promise.all([
      import('../abr/size-model.js'),
      import('../abr/live-drl.js'),
    ]);
    type Manifest = { weightsManifest: Array<{ weights: Array<{ name: string; shape: number[]; dtype?: string }> }> };
    const [pm, pw, sm, sw, head] = await Promise.all([
      fetchModelFile(opts.policyUrl, 'model.json', 'json') as Promise<Manifest>,
      fetchModelFile(opts.policyUrl, 'weights.bin', 'bytes'),
      fetchModelFile(opts.sizeModelUrl, 'model.json', 'json') as Promise<Manifest>,
      fetchModelFile(opts.sizeModelUrl, 'weights.bin', 'bytes'),
      fetchModelFile(opts.sizeModelUrl, 'head.json', 'json'),
    ]);
    const policy = new LiveDrlPolicy(denseFromArtifacts(pm.weightsManifest[0].weights, pw, ['s1', 's2', 'score']));
    const forecaster = new LearnedSizeForecaster(sizeNetFromArtifacts(sm.weightsManifest[0].weights, sw, head as never));
    live = { policy, forecaster, ladderKey: '' };
    return `${policy.name}+${forecaster.name}`;
  },
  /** Observe the finished chunks, forecast the next 5 at every rung and let the live policy decide. */
  decideLive(req: import('../abr/live.js').LiveDecisionRequest): import('../abr/live.js').LiveDecision {
    if (!live) throw new Error('live models not loaded (initLive)');
    const { ladderKbps, chunkS } = req;
    if (!Array.isArray(ladderKbps) || !ladderKbps.length || !(chunkS > 0))
      throw new PolicyCannotServe('live: empty ladder or chunk duration');
    if (ladderKbps.length > 10) throw new PolicyCannotServe(`live: ${ladderKbps.length} rungs, the policy plays at most 10`);
    const key = `${ladderKbps.join(',')}/${chunkS}`;
    if (req.reset || key !== live.ladderKey) {
      live.forecaster.start({ ladderKbps, chunkS });
      live.policy.start?.(ladderKbps, chunkS);
      live.ladderKey = key;
    }
    for (const f of req.finished) {
      if (f.sizes.length !== ladderKbps.length)
        throw new Error(`live: chunk ${f.sn} has ${f.sizes.length} sizes for ${ladderKbps.length} rungs`);
      live.forecaster.observe(f.sizes, f.meta);
    }
    const forecast = live.forecaster.forecast(5);
    const level = live.policy.decide({ ...req.obs, ladderKbps, chunkS, sizes: forecast });
    return { level, forecast, policy: live.policy.name, forecaster: live.forecaster.name };
  },
  /**
   * Load the viewport model (model.json URL; its train.json beside it gives the spread per horizon).
   * Resolves with the predictor's name ('learned' or 'learned+prior').
   */
  async initViewport(opts: { modelUrl: string }): Promise<string> {
    const layers = await loadTf();
    const model = await layers.loadLayersModel(opts.modelUrl);
    const { LearnedViewport } = await import('../viewport/model.js');
    viewport = new LearnedViewport(model as never);
    try {
      const r = await fetch(new URL('train.json', new URL(opts.modelUrl, self.location.href)));
      const j = r.ok ? await r.json() : null;
      viewportSigma = Array.isArray(j?.train_error_deg) ? j.train_error_deg : null;
    } catch {
      viewportSigma = null;
    }
    return viewport.name;
  },
  /** The attention prior of the video now playing (null clears it). */
  async setViewportPrior(json: import('../viewport/prior.js').PriorJson | null): Promise<void> {
    if (!viewport) throw new Error('viewport model not loaded (initViewport)');
    const { AttentionPrior } = await import('../viewport/prior.js');
    viewport.prior = json ? new AttentionPrior(json) : null;
  },
  /**
   * Predict the viewport centre for 0.2 … 5 s from the 5 Hz history (flat unit vectors, oldest first) at
   * playback time t, and tile probabilities at `tilesAtS`.
   */
  async predictViewport(
    hist: Float64Array,
    t: number,
    o: { tilesAtS: number; grid: import('../viewport/tiles.js').TileGrid; fov: import('../viewport/tiles.js').Fov },
  ) {
    const t0 = performance.now();
    if (!viewport) throw new Error('viewport model not loaded (initViewport)');
    if (!(hist instanceof Float64Array) || hist.length < 15 || hist.length % 3)
      throw new Error('history must be a Float64Array of ≥ 5 unit vectors');
    const { tileProbabilities } = await import('../viewport/tiles.js');
    const { defaultSigmaDeg } = await import('../viewport/client.js');
    const points = viewport.predict(hist, viewport.steps, { t });
    const k = Math.max(0, Math.min(viewport.steps - 1, Math.round(o.tilesAtS / 0.2) - 1));
    const sigmaDeg = viewportSigma?.[k] ?? defaultSigmaDeg(k);
    const modelMs = performance.now() - t0;
    const tiles = tileProbabilities(points, sigmaDeg, o.grid, o.fov, k * 3);
    return { points, tiles, sigmaDeg, source: viewport.name, modelMs, computeMs: performance.now() - t0 };
  },
  /** Load the QoE-preference profiler (model.json URL; norm.json beside it). */
  async initProfile(opts: { modelUrl: string }): Promise<string> {
    const layers = await loadTf();
    const model = await layers.loadLayersModel(opts.modelUrl);
    const r = await fetch(new URL('norm.json', new URL(opts.modelUrl, self.location.href)));
    if (!r.ok) throw new Error(`profile norm.json: HTTP ${r.status}`);
    profile = { model, norm: await r.json() };
    return 'profile';
  },
  /** Predicted (I messages/h, D hours, N channels per visit) for one request's features (requests.ts layout). */
  async predictProfile(x: Float32Array): Promise<{ I: number; D: number; N: number }> {
    if (!profile) throw new Error('profile model not loaded (initProfile)');
    const { REQUEST_FEATURES } = await import('../profile/features.js');
    if (!(x instanceof Float32Array) || x.length !== REQUEST_FEATURES || !x.every(Number.isFinite))
      throw new Error(`features must be a Float32Array of ${REQUEST_FEATURES} finite numbers`);
    const tf = await import('@tensorflow/tfjs-core');
    const { predictProfile } = await import('../profile/model.js');
    const p = predictProfile(tf as never, profile.model as never, profile.norm, x, [0]);
    return { I: p[0], D: p[1], N: p[2] };
  },
};

Comlink.expose(api);
