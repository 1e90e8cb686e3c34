/**
 * The edgeplay worker: hosts every on-device model off the main thread, exposed with comlink.
 * tfjs (core + layers + the cpu backend) and the weights load
 * lazily, on the first `initAbr`; the core SDK bundle never contains tfjs.
 * Deployment (src/deploy/): `deploy()` measures this thread's speed, chooses per task the variant and backend
 * (or the edge) that meet the app's accuracy floor and latency budget at the least cost, and loads them in place
 * of the shipped models; `deployment()` tells what it chose and why. The ABR task's variants are of `monitor()`'s
 * DRL (`TASK_MODELS.abr` = `DEFAULT_ABR_MODEL`, models/abr-drl-player): a deployed one is the same network in a
 * cheaper form; a DRL loaded by `initAbr` from another directory stays unless the app names `tasks.abr.models`.
 * The wasm and webgl tfjs backends are not bundled: they load on demand from `backendsUrl` (`importScripts` of tfjs'
 * es2017 UMD builds onto a global `tf`).
 */
import * as Comlink from 'comlink';
import { VERSION } from '../core/version.js';
import type { AbrObservation, AbrPolicy } from '../core/abr.js';
import { Bola, BufferBased, RobustMpc } from '../abr/baselines.js';
import { buildDecisionTableSliced, TABLE_POLICIES } from '../abr/decision-table.js';
import { checkDrlGuard, guardLevel, type DrlGuard } from '../abr/drl-guard.js';
import type { AbrPolicyName } from '../abr/hls-controller.js';
import { AbrSlot, type AbrReply, type AbrRequest, type BackendStatus, type DeploymentState, type WorkerApi } from './protocol.js';
import { parseVariantId, TASK_MODELS, variantPath, type Backend, type DeployModel, type DeployProfile } from '../deploy/catalog.js';
import { checkTaskRequirement, selectDeployment, type DeploymentChoice } from '../deploy/select.js';
import { probeSpeed, speedFactor } from '../deploy/speed.js';
import type { LoadedVariant } from './variants.js';

/** The directory a model.json URL names (`…/models/abr-drl-player/model.json` → 'abr-drl-player'); null if none. */
function modelDirOf(url: string): string | null {
  const parts = new URL(url, self.location.href).pathname.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] || null : null;
}

/** A policy that cannot serve a request at all (not a passing failure such as a model still loading). */
class PolicyCannotServe extends Error {}

const startedAt = Date.now();
let backend: string | null = null;
let drl: AbrPolicy | null = null;
/** where `drl` was loaded from, and where the deployed ABR variant (which answers for it) was (info) */
let drlUrl: string | null = null;
let deployedAbrUrl: string | null = null;
/** the DRL's stall guard (initAbr), also applied to a deployed ABR variant's answers */
let drlGuard: DrlGuard | null = null;
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
  if (!globalThis.__edgeplayBackend && tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
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

// ---- deployment: variants, backends, emulated throttling ----
/** the variant deployed per task (replaces the shipped model of that task) */
const deployed: { abr?: LoadedVariant; viewport?: LoadedVariant; profile?: LoadedVariant } = {};
let lastDeployment: DeploymentState | null = null;
/** the offload client when the app allows viewport prediction on the edge (setOffload) */
let offloader: import('../edge/offload.js').Offloader | null = null;
const backendState = new Map<Backend, BackendStatus>([['js', { backend: 'js', ok: true }]]);
/** the emulated CPU slowdown (see emulateCpuThrottling) */
let slowdown = 1;

/**
 * Resolves after the tasks queued before it (messages on the decision port among them) have run: a message to
 * ourselves over a MessageChannel (no timer clamping, unlike nested setTimeout).
 */
const yieldChannel = new MessageChannel();
const yieldWaiters: Array<() => void> = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
function yieldToTasks(): Promise<void> {
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
}

/**
 * Spin until `slowdown` × the call's time (what the clock read since t0) has passed since t0: the emulated throttle's
 * share of a call.
 */
function stretch(t0: number): void {
  if (slowdown <= 1) return;
  spinUntil(t0 + (performance.now() - t0) * slowdown);
}

/** Spin (the emulated slow CPU) until `performance.now()` reaches `until` (ms); returns at once when it has. */
function spinUntil(until: number): void {
  while (performance.now() < until) {
    /* busy: the emulated slow CPU */
  }
}

/** The mean time of one call of `f`, ms: calls repeated until `minMs` have passed, so a coarse clock cannot read 0. */
function timeCall(f: () => void, minMs = 2, maxCalls = 10000): number {
  const t0 = performance.now();
  let n = 0;
  do {
    f();
    n++;
  } while (performance.now() - t0 < minMs && n < maxCalls);
  return (performance.now() - t0) / n;
}

/** one viewport model call's time on this device, unthrottled, ms (setOffload or the first throttled call measures it; 0: not yet, reset when the model changes) */
let viewportCallMs = 0;

type GlobalTf = { tf?: Record<string, unknown> & { wasm?: { setWasmPaths(p: string): void } } };

/**
 * Make a tfjs backend usable: 'cpu' is bundled; 'wasm' / 'webgl' come from tfjs' es2017 UMD builds
 * (`tf-backend-wasm.es2017.min.js` + its .wasm files, `tf-backend-webgl.es2017.min.js`) at `backendsUrl`.
 */
async function ensureBackend(name: Backend, backendsUrl?: string): Promise<BackendStatus> {
  const known = backendState.get(name);
  if (known?.ok) return known;
  let st: BackendStatus;
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    if ((name === 'wasm' || name === 'webgl') && !tf.findBackendFactory(name)) {
      const base = new URL(backendsUrl ?? 'tfjs/', self.location.href).href.replace(/\/?$/, '/');
      const g = self as unknown as GlobalTf;
      // tfjs' UMD builds register against a global `tf`: hand them this bundle's tfjs-core (a mutable copy)
      g.tf = { ...tf } as unknown as GlobalTf['tf'];
      // the es2017 builds: the ES5 ones (`tf-backend-*.min.js`) subclass tfjs-core's KernelBackend with a function
      // call, which a native class refuses ("Class constructor … cannot be invoked without 'new'": never loaded)
      (self as unknown as { importScripts(u: string): void }).importScripts(`${base}tf-backend-${name}.es2017.min.js`);
      if (name === 'wasm') g.tf!.wasm!.setWasmPaths(base);
    }
    const prev = tf.getBackend();
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
    await tf.ready();
    if (prev && prev !== name) await tf.setBackend(prev);
    st = { backend: name, ok: true };
  } catch (e) {
    st = { backend: name, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  backendState.set(name, st);
  return st;
}

/** Load a variant on a backend (a tfjs backend becomes the active one). */
async function loadDeployVariant(
  model: import('../deploy/catalog.js').DeployModel,
  variant: string,
  backend: Backend,
  modelsUrl: string,
  backendsUrl?: string,
) {
  const layers = await loadTf();
  const tf = await import('@tensorflow/tfjs-core');
  if (backend !== 'js') {
    const st = await ensureBackend(backend, backendsUrl);
    if (!st.ok) throw new Error(`backend ${backend}: ${st.error}`);
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    await tf.ready();
    globalThis.__edgeplayBackend = backend;
  }
  const { loadVariant } = await import('./variants.js');
  return loadVariant({
    tf: tf as never,
    layers: layers as never,
    modelsUrl: new URL(modelsUrl, self.location.href).href,
    model,
    variant,
    backend,
  });
}

declare global {
  // eslint-disable-next-line no-var
  var __edgeplayBackend: string | undefined;
}

export const api: WorkerApi = {
  /** round-trip probe used by the SDK to budget worker calls */
  ping(t: number): number {
    return t;
  },
  info() {
    return {
      version: VERSION,
      models: [
        ...(deployed.abr ? [`${deployed.abr.model}/${deployed.abr.variant}`] : drl ? [(drlUrl && modelDirOf(drlUrl)) || 'abr-drl'] : []),
        ...(live ? ['live-abr-drl', 'chunk-size'] : []),
        ...(viewport ? [viewport.name] : []),
        ...(deployed.profile ? [`profile/${deployed.profile.variant}`] : profile ? ['profile'] : []),
      ],
      startedAt,
      backend,
      abrModelUrl: deployed.abr ? deployedAbrUrl : drlUrl,
    };
  },
  /** Load tfjs and the DRL bitrate model (model.json URL). Resolves with the backend in use. */
  async initAbr(opts: { modelUrl: string; guard?: DrlGuard | null }): Promise<string> {
    if (opts.guard) checkDrlGuard(opts.guard);
    const { DrlPolicy } = await import('../abr/drl.js');
    const layers = await loadTf();
    const model = await layers.loadLayersModel(opts.modelUrl);
    drlGuard = opts.guard ?? null;
    drl = new DrlPolicy(model as never, 'drl', undefined, drlGuard);
    drlUrl = opts.modelUrl;
    // a deployed ABR variant answers for the DRL only while it is a variant of the network loaded here
    if (deployed.abr && modelDirOf(opts.modelUrl) !== deployed.abr.model) {
      deployed.abr.dispose();
      delete deployed.abr;
      deployedAbrUrl = null;
    }
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
    const t0 = performance.now();
    try {
      if (policy === 'drl') {
        if (deployed.abr) {
          // a deployed variant answers for the DRL: the guard initAbr was given applies to it too
          const level = deployed.abr.run({ kind: 'abr', obs }) as number;
          return drlGuard ? guardLevel(obs, level, drlGuard) : level;
        }
        if (!drl) throw new Error('DRL model not loaded (initAbr)');
        return drl.decide(obs);
      }
      mpcSizes = obs.nextSizes;
      return baseline(policy).decide(obs);
    } finally {
      stretch(t0);
    }
  },
  /**
   * A dedicated port for ABR decisions: messages `{id, policy, obs}` answered with `{id, level}` or
   * `{id, error}`, plus the worker's receive and send times (epoch ms) so the page can tell transit from
   * compute. A raw MessagePort skips comlink's per-call proxy, listener and id machinery on both sides.
   */
  connectAbr(port: MessagePort, shared?: SharedArrayBuffer): void {
    const slot = shared ? new AbrSlot(shared) : null;
    let newestTable = -Infinity; // the id of the newest table request: older builds are abandoned at their next pause
    port.onmessage = (e: MessageEvent<AbrRequest>) => {
      const recv = performance.timeOrigin + performance.now();
      const m = e.data;
      let reply: AbrReply;
      const failed = (err: unknown): AbrReply => ({
        id: m?.id,
        error: err instanceof Error ? err.message : String(err),
        permanent: err instanceof PolicyCannotServe,
        recv,
        sent: performance.timeOrigin + performance.now(),
      });
      if (m?.table) {
        // a table asks the policy dozens of times: only a policy without state between decisions may be asked; it is
        // built in slices with a pause to the event loop between them, so decisions queued meanwhile go first
        const policy = m.policy;
        newestTable = Math.max(newestTable, m.id);
        const build = TABLE_POLICIES.includes(policy)
          ? buildDecisionTableSliced((obs) => api.decideAbr(policy, obs), m.table, {
              sliceMs: m.sliceMs,
              pause: yieldToTasks,
              superseded: () => m.id < newestTable,
            })
          : Promise.reject(
              new Error(`decision tables: policy ${policy} keeps state between decisions (only ${TABLE_POLICIES.join(', ')})`),
            );
        build.then(
          (table) =>
            port.postMessage({ id: m.id, level: -1, table, recv, sent: performance.timeOrigin + performance.now() } satisfies AbrReply),
          (err: unknown) => port.postMessage(failed(err)), // tables never use the slot
        );
        return;
      }
      try {
        if (m.live) {
          const d = api.decideLive(m.live);
          const sent = performance.timeOrigin + performance.now();
          slot?.write(m.id, d.level, sent);
          reply = { id: m.id, level: d.level, live: d, recv, sent };
        } else {
          const level = api.decideAbr(m.policy, m.obs);
          const sent = performance.timeOrigin + performance.now();
          slot?.write(m.id, level, sent);
          reply = { id: m.id, level, recv, sent };
        }
      } catch (err) {
        slot?.write(m?.id, -1, performance.timeOrigin + performance.now());
        reply = failed(err);
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
    const { LearnedViewport, MODEL_HISTORY, inputSize } = await import('../viewport/model.js');
    const { PRIOR_FEATURES } = await import('../viewport/prior.js');
    // the history the model reads, from its input size: 10 samples for the shipped models, 25 for the large variant
    const n = Number(model.inputs[0].shape[1]);
    const h =
      n === inputSize(false) || n === inputSize(true)
        ? MODEL_HISTORY
        : Number.isInteger((n - PRIOR_FEATURES) / 3) && n > PRIOR_FEATURES
          ? (n - PRIOR_FEATURES) / 3
          : n / 3;
    viewport = new LearnedViewport(model as never, undefined, { history: h });
    viewportCallMs = 0; // another model: its call time is measured again
    delete deployed.viewport;
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
    if (deployed.viewport) return deployed.viewport.setPrior(json); // coarsened as the deployed data variant says
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
    o: {
      tilesAtS: number;
      grid: import('../viewport/tiles.js').TileGrid;
      fov: import('../viewport/tiles.js').Fov;
      deadlineMs?: number;
      video?: string;
    },
  ) {
    const t0 = performance.now();
    if (!viewport) throw new Error('viewport model not loaded (initViewport)');
    if (!(hist instanceof Float64Array) || hist.length < 15 || hist.length % 3)
      throw new Error('history must be a Float64Array of ≥ 5 unit vectors');
    const { tileProbabilities } = await import('../viewport/tiles.js');
    const { defaultSigmaDeg } = await import('../viewport/client.js');
    const keep = deployed.viewport ? deployed.viewport.history * 3 : hist.length;
    const vp = viewport;
    const local = () => {
      const input = hist.length > keep ? hist.subarray(hist.length - keep) : hist;
      // under an emulated throttle the call's time must be known even when the clock is too coarse to see it
      if (slowdown > 1 && !viewportCallMs) viewportCallMs = timeCall(() => vp.predict(input, vp.steps, { t }));
      const l0 = performance.now();
      const p = vp.predict(input, vp.steps, { t });
      // the emulated throttle's share of the model call: its calibrated CPU time × the slowdown. Not this call's wall
      // time × the slowdown: on a busy host a call descheduled for 5 ms would then spin for 5 s (1000×), time a slow
      // CPU does not spend, and every prediction would miss its budget (CI with a CPU hog, offload spec)
      if (slowdown > 1) spinUntil(l0 + viewportCallMs * slowdown);
      return p;
    };
    let points: Float64Array;
    let source = vp.name;
    let ranOn: 'device' | 'edge' | undefined;
    let placementReason: string | undefined;
    if (offloader) {
      // the edge gets the last 25 samples (what its large model reads; src/server/tasks.ts), rounded: ~1.2 KiB on the wire
      const send = Array.from(hist.subarray(Math.max(0, hist.length - 75)), (v) => Math.round(v * 1e4) / 1e4);
      const r = await offloader.run(
        'viewport',
        { hist: send, t, ...(o.video ? { video: o.video } : {}) },
        {
          deadlineMs: o.deadlineMs ?? 200,
          local,
          fromEdge: (a) => {
            source = `edge:${a.model}`;
            return Float64Array.from(a.points);
          },
        },
      );
      points = r.result;
      ranOn = r.ranOn;
      placementReason = r.fallback ?? r.decision.reason;
    } else points = local();
    const k = Math.max(0, Math.min(points.length / 3 - 1, Math.round(o.tilesAtS / 0.2) - 1));
    const sigmaDeg = viewportSigma?.[k] ?? defaultSigmaDeg(k);
    const modelMs = performance.now() - t0;
    const tiles = tileProbabilities(points, sigmaDeg, o.grid, o.fov, k * 3);
    return { points, tiles, sigmaDeg, source, modelMs, computeMs: performance.now() - t0, ...(ranOn ? { ranOn, placementReason } : {}) };
  },
  async setOffload(cfg) {
    if (!cfg) {
      offloader = null;
      return { quoted: false };
    }
    const { Offloader } = await import('../edge/offload.js');
    offloader = new Offloader(cfg);
    // the local time before the first decision: two warm-up calls, then the mean of calls repeated for 2 ms (one call
    // can be faster than the worker's coarse clock), times the emulated throttle
    if (viewport) {
      const vp = viewport;
      const h = new Float64Array(30);
      for (let i = 0; i < 10; i++) h[3 * i + 2] = -1;
      for (let i = 0; i < 2; i++) vp.predict(h, vp.steps, { t: 0 });
      viewportCallMs = timeCall(() => vp.predict(h, vp.steps, { t: 0 }));
      offloader.observeLocal('viewport', viewportCallMs * slowdown);
    }
    // the round trip: the least of three quotes (one alone may meet a stalled thread)
    let quoted = false;
    for (let i = 0; i < 3; i++) quoted = (await offloader.refreshQuote()) || quoted;
    return { quoted };
  },
  offloadStats() {
    return offloader ? { ...offloader.stats } : null;
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
    if (!profile && !deployed.profile) throw new Error('profile model not loaded (initProfile)');
    const { REQUEST_FEATURES } = await import('../profile/features.js');
    if (!(x instanceof Float32Array) || x.length !== REQUEST_FEATURES || !x.every(Number.isFinite))
      throw new Error(`features must be a Float32Array of ${REQUEST_FEATURES} finite numbers`);
    const t0 = performance.now();
    let p: ArrayLike<number>;
    if (deployed.profile) p = deployed.profile.run({ kind: 'profile', x }) as Float32Array;
    else {
      const tf = await import('@tensorflow/tfjs-core');
      const { predictProfile } = await import('../profile/model.js');
      p = predictProfile(tf as never, profile!.model as never, profile!.norm, x, [0]);
    }
    stretch(t0);
    return { I: p[0], D: p[1], N: p[2] };
  },

  async loadBackends(opts) {
    const out: BackendStatus[] = [];
    for (const b of opts.backends) out.push(b === 'js' ? backendState.get('js')! : await ensureBackend(b, opts.backendsUrl));
    return out;
  },

  measureSpeed(budgetMs = 3) {
    return probeSpeed(budgetMs, slowdown > 1 ? (ms) => stretch(performance.now() - ms) : undefined);
  },

  async deploy(opts) {
    // the request itself, before the profile is fetched or a backend loads
    if (!opts?.tasks || typeof opts.tasks !== 'object') throw new TypeError("deploy: options.tasks (each task's requirement) is required");
    for (const [task, req] of Object.entries(opts.tasks)) if (req) checkTaskRequirement(task, req);
    const errors: string[] = [];
    const base = new URL(opts.modelsUrl, self.location.href).href.replace(/\/?$/, '/');
    let prof = opts.profile;
    if (!prof) {
      const r = await fetch(new URL('variants/profile.json', base));
      if (!r.ok) throw new Error(`deployment profile ${base}variants/profile.json: HTTP ${r.status}`);
      prof = (await r.json()) as DeployProfile;
    }
    const want = opts.backends ?? ['js', 'cpu'];
    const backends = await api.loadBackends({ backends: want, backendsUrl: opts.backendsUrl });
    const usable = backends.filter((b) => b.ok).map((b) => b.backend);
    const speed = api.measureSpeed(3);
    const factor = speedFactor(speed.msPerMmac, prof.probes);
    const choices: DeploymentChoice[] = [];
    // one tfjs backend at a time in this worker: once a task took one, the others choose among it and 'js'
    let tfjsTaken: Backend | null = null;
    for (const [task, req] of Object.entries(opts.tasks)) {
      if (!req) continue;
      const allowed = usable.filter((b) => b === 'js' || !tfjsTaken || b === tfjsTaken);
      const c = selectDeployment(task, req, {
        rows: prof.rows,
        factor,
        backends: allowed,
        bandwidthBps: opts.bandwidthBps,
        uplinkBps: opts.uplinkBps,
        models: req.models,
        fullAccuracy: prof.full_accuracy,
        edge: req.edge ?? null,
      });
      choices.push(c);
      if (c.placement !== 'device' || !c.model || opts.load === false) continue;
      // the ABR task's variants are of monitor()'s DRL (TASK_MODELS.abr = DEFAULT_ABR_MODEL): a player that loaded
      // another network with initAbr (monitor's `abrModel`) keeps it unless the app named the models itself
      const ownDir = task === 'abr' && drlUrl && !req.models ? modelDirOf(drlUrl) : null;
      if (ownDir !== null && !(TASK_MODELS.abr as readonly string[]).includes(ownDir)) {
        errors.push(
          `abr: the player's DRL is ${ownDir} (initAbr), the profile's ABR variants are of ${TASK_MODELS.abr.join(', ')}: kept ${ownDir} (name tasks.abr.models to deploy ${c.model}/${c.variant})`,
        );
        continue;
      }
      if (c.backend !== 'js' && c.backend !== 'edge') tfjsTaken = c.backend;
      try {
        const v = await loadDeployVariant(c.model as never, c.variant, c.backend as Backend, base, opts.backendsUrl);
        if (task === 'viewport') {
          deployed.viewport?.dispose();
          deployed.viewport = v;
          viewport = v.viewport!;
          viewportCallMs = 0;
          viewportSigma = null;
        } else if (task === 'abr') {
          deployed.abr?.dispose();
          deployed.abr = v;
          // a variant of the ABR task's model (models/abr-drl-player unless tasks.abr.models says otherwise): info()
          // says which network now answers
          deployedAbrUrl = new URL(variantPath(c.model as DeployModel, parseVariantId(c.variant).variant), base).href;
        } else if (task === 'profile') {
          deployed.profile?.dispose();
          deployed.profile = v;
        }
      } catch (e) {
        errors.push(`${task}: ${c.model}/${c.variant}@${c.backend}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    lastDeployment = { speed: { ...speed, factor }, backends, choices, errors, at: Date.now() };
    return lastDeployment;
  },

  deployment() {
    return lastDeployment;
  },

  async timeVariant(o) {
    const v = await loadDeployVariant(o.model, o.variant, o.backend, o.modelsUrl, o.backendsUrl);
    try {
      const { sampleInput } = await import('./variants.js');
      v.setPrior(o.prior ?? null);
      const times: number[] = [];
      const warm = o.warmup ?? 20;
      for (let i = 0; i < warm + o.n; i++) {
        const input = sampleInput(o.model, i);
        const t0 = performance.now();
        v.run(input);
        stretch(t0);
        if (i >= warm) times.push(performance.now() - t0);
      }
      return times;
    } finally {
      v.dispose();
    }
  },

  emulateCpuThrottling(rate: number) {
    if (!(rate >= 1)) throw new RangeError(`throttling rate must be ≥ 1, got ${rate}`);
    slowdown = rate;
  },
};

Comlink.expose(api);
