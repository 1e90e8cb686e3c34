/**
 * The three.js 360/VR viewer: hls.js (+ edgeplay telemetry) plays an equirectangular stream into a
 * VideoTexture on an inverted sphere; look around with mouse drag, touch, device orientation or WebXR
 * (VRButton). The viewport centre is sampled at 5 Hz on playback time and fed to the viewport predictor
 * in the edgeplay worker (learned model + the video's attention prior; no-motion fallback on the main
 * thread when the worker is absent or late); an overlay shows the predicted viewport and the tile
 * probabilities. Replay mode drives the camera from a head trace (viewport data CSV: user,t,yaw,pitch).
 * With `offload` (a negotiated session) the worker places each prediction on the device or the edge (IELB's rule,
 * src/edge/offload.ts); the overlay, `state.placements` and the telemetry's viewport events say where each ran.
 */
import Hls from 'hls.js';
import {
  Mesh,
  MeshBasicMaterial,
  PerspectiveCamera,
  Quaternion,
  Scene,
  SphereGeometry,
  SRGBColorSpace,
  Vector3,
  VideoTexture,
  WebGLRenderer,
  Euler,
} from 'three';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import type { OffloadConfig } from '../src/edge/offload.js';
import type { Edgeplay } from '../src/index.js';
import { startWorker, workerViewportPort, type WorkerHandle } from '../src/worker/client.js';
import {
  ViewportClient,
  ViewportSampler,
  fromYawPitch,
  toYawPitch,
  orthodromic,
  slerp,
  DEFAULT_GRID,
  type ViewportPrediction,
} from '../src/viewport/index.js';

export interface VrViewerOptions {
  container: HTMLElement;
  src: string;
  /** attention prior JSON of this video (served by the edge) */
  priorUrl?: string;
  workerUrl?: string;
  modelUrl?: string;
  /** drive the camera from a head trace */
  replay?: { csvUrl: string; user?: string };
  edgeplay?: Edgeplay;
  contentId?: string;
  /** hls.js' transmuxer worker (hls.worker.js): the ESM build of hls.js transmuxes on the main thread without it */
  hlsWorkerPath?: string;
  overlay?: HTMLCanvasElement;
  /** keep the drawing buffer (tests read pixels back) */
  preserveDrawingBuffer?: boolean;
  onPrediction?: (p: ViewportPrediction) => void;
  /** deadline for each worker prediction, ms (default 50) */
  predictBudgetMs?: number;
  /** offload predictions to the edge's task service when the rule says so (a negotiated session and its token) */
  offload?: Omit<OffloadConfig, 'fetch'>;
  /** tests: the worker's emulated CPU throttling (`emulateCpuThrottling`), applied before offloading is set up */
  workerThrottle?: number;
}

export interface VrViewerState {
  frames: number;
  yaw: number;
  pitch: number;
  playhead: number;
  samples: number;
  predictions: number;
  lastSource: string | null;
  fallbacks: number;
  /** where the predictions ran: on the device (the worker or the main-thread fallback) or on the edge */
  placements: { device: number; edge: number };
  /** where the latest prediction ran */
  lastPlacement: 'device' | 'edge' | null;
  /** offloading set up in the worker (the edge quoted), null without `offload` */
  offloading: boolean | null;
  /** mean error (deg) of the 1 s predictions checked so far */
  predError1s: number | null;
  replayError: number | null;
  input: 'mouse' | 'touch' | 'device' | 'xr' | 'replay';
  /**
   * device-orientation access: 'open' (no permission needed), 'ask' (iOS 13+: asked on the first tap),
   * 'granted', 'denied', 'unavailable' (no sensor API)
   */
  motion: 'open' | 'ask' | 'granted' | 'denied' | 'unavailable';
  /** why an input does not work, shown on the overlay (null when all is well) */
  notice: string | null;
}

type Sample = { t: number; v: [number, number, number] };

export async function loadTrace(csvUrl: string, user?: string): Promise<Sample[]> {
  const r = await fetch(csvUrl);
  if (!r.ok) throw new Error(`replay trace ${csvUrl}: HTTP ${r.status}`);
  const lines = (await r.text()).trim().split(/\r?\n/);
  const head = lines[0].split(',');
  const [ui, ti, yi, pi] = ['user', 't', 'yaw', 'pitch'].map((n) => head.indexOf(n));
  if (Math.min(ui, ti, yi, pi) < 0) throw new Error(`replay trace ${csvUrl}: header must have user,t,yaw,pitch`);
  const rows = lines.slice(1).map((l) => l.split(','));
  const u = user ?? rows[0]?.[ui];
  const out = rows.filter((c) => c[ui] === u).map((c) => ({ t: Number(c[ti]), v: fromYawPitch(Number(c[yi]), Number(c[pi])) }));
  if (!out.length) throw new Error(`replay trace ${csvUrl}: no samples for user ${u}`);
  return out;
}

/** the trace's direction at playback time t (great-circle interpolation) */
export function traceAt(tr: Sample[], t: number): [number, number, number] {
  if (t <= tr[0].t) return tr[0].v;
  if (t >= tr[tr.length - 1].t) return tr[tr.length - 1].v;
  let lo = 0,
    hi = tr.length - 1;
  while (hi - lo > 1) {
    const m = (lo + hi) >> 1;
    if (tr[m].t <= t) lo = m;
    else hi = m;
  }
  const out: [number, number, number] = [0, 0, 0];
  slerp(tr[lo].v, 0, tr[hi].v, 0, (t - tr[lo].t) / (tr[hi].t - tr[lo].t), out, 0);
  return out;
}

export async function createVrViewer(o: VrViewerOptions) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.loop = true;
  video.crossOrigin = 'anonymous';
  const hls = new Hls(
    o.edgeplay ? o.edgeplay.hlsConfig({ workerPath: o.hlsWorkerPath }, o.contentId ?? 'vr') : { workerPath: o.hlsWorkerPath },
  );
  hls.loadSource(o.src);
  hls.attachMedia(video);
  o.edgeplay?.attach(hls, video, { contentId: o.contentId ?? 'vr', channel: 'vr' });

  const w = o.container.clientWidth || 640;
  const h = o.container.clientHeight || 360;
  const renderer = new WebGLRenderer({ antialias: false, preserveDrawingBuffer: !!o.preserveDrawingBuffer });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
  renderer.setSize(w, h);
  renderer.xr.enabled = true;
  renderer.xr.setReferenceSpaceType('local');
  o.container.appendChild(renderer.domElement);
  renderer.domElement.style.touchAction = 'none';
  const vrButton = VRButton.createButton(renderer);
  o.container.appendChild(vrButton);

  const scene = new Scene();
  const camera = new PerspectiveCamera(75, w / h, 0.1, 1100);
  camera.rotation.order = 'YXZ';
  const geometry = new SphereGeometry(500, 60, 40);
  geometry.scale(-1, 1, 1);
  const texture = new VideoTexture(video);
  texture.colorSpace = SRGBColorSpace;
  const sphere = new Mesh(geometry, new MeshBasicMaterial({ map: texture }));
  sphere.rotation.y = -Math.PI / 2; // frame centre (u = 0.5) faces -Z, so yaw/pitch map as in the data README
  scene.add(sphere);
  const markers = [1, 2, 5].map((s, i) => {
    const m = new Mesh(
      new SphereGeometry(6 - i, 12, 8),
      new MeshBasicMaterial({ color: [0xffee00, 0xffaa00, 0xff5500][i], transparent: true, opacity: 0.8 }),
    );
    m.visible = false;
    scene.add(m);
    return { s, m };
  });

  // ---- input ----
  let yaw = 0,
    pitch = 0;
  let input: VrViewerState['input'] = o.replay ? 'replay' : 'mouse';
  let drag: { x: number; y: number; yaw: number; pitch: number } | null = null;
  const el = renderer.domElement;
  el.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, yaw, pitch };
    input = o.replay ? 'replay' : e.pointerType === 'touch' ? 'touch' : 'mouse';
    try {
      el.setPointerCapture(e.pointerId);
    } catch {
      /* a pointer the browser does not track (synthetic): dragging works without capture */
    }
    askMotion();
  });
  el.addEventListener('pointermove', (e) => {
    if (!drag || o.replay) return;
    const k = camera.fov / el.clientHeight; // degrees per pixel: the scene follows the pointer
    yaw = drag.yaw - (e.clientX - drag.x) * k;
    pitch = Math.max(-85, Math.min(85, drag.pitch + (e.clientY - drag.y) * k));
  });
  el.addEventListener('pointerup', () => {
    drag = null;
  });
  // device orientation (phones): alpha/beta/gamma → camera quaternion, corrected for screen orientation
  let deviceQ: Quaternion | null = null;
  const onOrient = (e: DeviceOrientationEvent) => {
    if (e.alpha == null || e.beta == null || e.gamma == null || o.replay) return;
    const d = Math.PI / 180;
    const q = new Quaternion().setFromEuler(new Euler(e.beta * d, e.alpha * d, -e.gamma * d, 'YXZ'));
    q.multiply(new Quaternion(-Math.SQRT1_2, 0, 0, Math.SQRT1_2)); // the camera looks out of the back of the device
    const screenAngle = ((screen.orientation?.angle ?? 0) * Math.PI) / 180;
    q.multiply(new Quaternion().setFromAxisAngle(new Vector3(0, 0, 1), -screenAngle));
    deviceQ = q;
    input = 'device';
  };
  // iOS 13+ gives orientation events only after DeviceOrientationEvent.requestPermission(), which must be
  // called from a user gesture: the first tap asks; denied (or failing) → dragging keeps working and the
  // overlay says why. Elsewhere the events flow without asking.
  type PermissionApi = { requestPermission?: () => Promise<'granted' | 'denied'> };
  const DOE = typeof DeviceOrientationEvent !== 'undefined' ? (DeviceOrientationEvent as unknown as PermissionApi) : null;
  let motion: VrViewerState['motion'] = !DOE ? 'unavailable' : typeof DOE.requestPermission === 'function' ? 'ask' : 'open';
  let notice: string | null = null;
  let asked = false;
  if (motion === 'open') window.addEventListener('deviceorientation', onOrient);
  const askMotion = () => {
    if (motion !== 'ask' || asked || o.replay) return;
    asked = true;
    DOE!.requestPermission!().then(
      (answer) => {
        motion = answer === 'granted' ? 'granted' : 'denied';
        if (motion === 'granted') window.addEventListener('deviceorientation', onOrient);
        else notice = 'Motion access denied: drag to look around (allow Motion & Orientation Access in Settings to turn with your phone)';
      },
      (err: unknown) => {
        motion = 'denied';
        notice = `Motion access failed (${err instanceof Error ? err.message : String(err)}): drag to look around`;
      },
    );
  };

  // ---- prediction ----
  let worker: WorkerHandle | null = null;
  try {
    worker = o.workerUrl ? startWorker(o.workerUrl) : null;
  } catch {
    worker = null;
  }
  const client = new ViewportClient({
    port: worker ? workerViewportPort(worker) : null,
    modelUrl: o.modelUrl,
    budgetMs: o.predictBudgetMs,
    video: o.contentId ?? 'vr',
  });
  if (o.priorUrl) {
    void (async () => {
      try {
        const r = await fetch(o.priorUrl!);
        if (r.ok) await client.setPrior(await r.json());
      } catch {
        /* no prior: the model runs on motion alone */
      }
    })();
  }
  const replay = o.replay ? await loadTrace(o.replay.csvUrl, o.replay.user) : null;
  const sampler = new ViewportSampler(50);
  const predictions: Array<{ t: number; p: ViewportPrediction }> = [];
  const state: VrViewerState = {
    frames: 0,
    yaw: 0,
    pitch: 0,
    playhead: 0,
    samples: 0,
    predictions: 0,
    lastSource: null,
    fallbacks: 0,
    placements: { device: 0, edge: 0 },
    lastPlacement: null,
    offloading: null,
    predError1s: null,
    replayError: null,
    input,
    motion,
    notice,
  };
  if (worker && (o.offload || o.workerThrottle)) {
    const w = worker;
    void (async () => {
      try {
        if (!(await client.whenReady())) {
          state.offloading = false; // no model in the worker: the main-thread fallback predicts
          return;
        }
        if (o.workerThrottle) await w.api.emulateCpuThrottling(o.workerThrottle);
        // setOffload measures the local time and the edge's round trip before the first decision
        if (o.offload) state.offloading = (await w.api.setOffload(o.offload)).quoted;
      } catch {
        state.offloading = false; // the worker keeps predicting on the device
      }
    })();
  }
  const sinceReport = { device: 0, edge: 0 };
  let inFlight = false;
  let lastPredT = -1;
  let lastReport = -1;
  let lastDrawn: ViewportPrediction | null = null;
  let lastDrawnAt = -Infinity;
  let errSum = 0,
    errN = 0;
  const dir = new Vector3();
  const cur = new Float64Array(3);

  const overlay = o.overlay;
  const ctx = overlay?.getContext('2d') ?? null;
  const drawOverlay = (p: ViewportPrediction | null, t: number) => {
    if (!ctx || !overlay) return;
    const W = overlay.width,
      H = overlay.height;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = 'rgba(0,0,0,0.45)';
    ctx.fillRect(0, 0, W, H);
    const { cols, rows } = DEFAULT_GRID;
    if (p) {
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const pr = p.tiles[r * cols + c];
          ctx.fillStyle = `rgba(255,60,60,${(0.75 * pr).toFixed(3)})`;
          ctx.fillRect((c * W) / cols, (r * H) / rows, W / cols, H / rows);
        }
    }
    ctx.strokeStyle = 'rgba(255,255,255,0.35)';
    for (let c = 1; c < cols; c++) {
      ctx.beginPath();
      ctx.moveTo((c * W) / cols, 0);
      ctx.lineTo((c * W) / cols, H);
      ctx.stroke();
    }
    for (let r = 1; r < rows; r++) {
      ctx.beginPath();
      ctx.moveTo(0, (r * H) / rows);
      ctx.lineTo(W, (r * H) / rows);
      ctx.stroke();
    }
    const dot = (v: ArrayLike<number>, off: number, color: string, rad: number) => {
      const [yw, pt] = toYawPitch(v, off);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc((0.5 + yw / 360) * W, (0.5 - pt / 180) * H, rad, 0, 2 * Math.PI);
      ctx.fill();
    };
    if (replay) for (let k = 1; k <= 25; k += 2) dot(traceAt(replay, t + k * 0.2), 0, 'rgba(80,255,120,0.8)', 2);
    if (p)
      for (let k = 0; k < 25; k++)
        dot(p.points, 3 * k, k === 4 || k === 9 || k === 24 ? '#ffcc00' : 'rgba(255,220,0,0.6)', k === 4 || k === 9 || k === 24 ? 4 : 2);
    if (p) {
      // the predicted viewport 2 s ahead (100° x 90°, outline in equirect, widened by 1/cos(pitch))
      const k = Math.round(p.tilesAtS / 0.2) - 1;
      const [yw, pt] = toYawPitch(p.points, 3 * k);
      const halfW = Math.min(180, 50 / Math.max(0.2, Math.cos((pt * Math.PI) / 180)));
      const top = Math.min(90, pt + 45),
        bottom = Math.max(-90, pt - 45);
      ctx.strokeStyle = '#ffcc00';
      ctx.lineWidth = 1.5;
      for (const shift of [-360, 0, 360])
        ctx.strokeRect(((yw - halfW + shift) / 360 + 0.5) * W, (0.5 - top / 180) * H, ((2 * halfW) / 360) * W, ((top - bottom) / 180) * H);
      ctx.lineWidth = 1;
    }
    dot(cur, 0, '#ffffff', 4);
    ctx.fillStyle = '#fff';
    ctx.font = '11px sans-serif';
    ctx.fillText(`${p?.source ?? '…'}${p ? ` on ${p.ranOn}  ${p.latencyMs.toFixed(1)} ms` : ''}  tiles at ${p?.tilesAtS ?? 2} s`, 4, H - 4);
    if (notice) {
      ctx.fillStyle = 'rgba(120,0,0,0.85)';
      ctx.fillRect(0, 0, W, 30);
      ctx.fillStyle = '#fff';
      ctx.fillText(notice.slice(0, 70), 4, 12);
      if (notice.length > 70) ctx.fillText(notice.slice(70, 140), 4, 25);
    }
  };

  renderer.setAnimationLoop(() => {
    const t = video.currentTime;
    if (replay) {
      const v = traceAt(replay, t);
      const [yw, pt] = toYawPitch(v);
      yaw = yw;
      pitch = pt;
    }
    if (deviceQ && !replay) camera.quaternion.copy(deviceQ);
    else {
      camera.rotation.set((pitch * Math.PI) / 180, (-yaw * Math.PI) / 180, 0);
    }
    const view = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
    if (renderer.xr.isPresenting) input = 'xr';
    view.getWorldDirection(dir);
    cur[0] = dir.x;
    cur[1] = dir.y;
    cur[2] = dir.z;
    [state.yaw, state.pitch] = toYawPitch(cur);
    state.playhead = t;
    state.input = input;
    state.motion = motion;
    state.notice = notice;
    if (!video.paused && video.readyState >= 2) sampler.push(t, dir.x, dir.y, dir.z);
    state.samples = sampler.size;
    if (replay) state.replayError = (orthodromic(cur, 0, traceAt(replay, t), 0) * 180) / Math.PI;
    // a new prediction every 0.2 s of playback once there is 1 s of history
    // (the history is copied out only when a new 5 Hz sample has arrived, not on every frame)
    const latest = sampler.size >= 5 && sampler.newestT !== lastPredT && !inFlight ? sampler.latest(Math.min(10, sampler.size)) : null;
    if (latest) {
      lastPredT = latest.t;
      inFlight = true;
      client
        .predict(latest.xyz, latest.t)
        .then(
          (p) => {
            predictions.push({ t: latest.t, p });
            if (predictions.length > 40) predictions.shift();
            state.predictions++;
            state.lastSource = p.source;
            if (p.fallback) state.fallbacks++;
            state.placements[p.ranOn]++;
            state.lastPlacement = p.ranOn;
            sinceReport[p.ranOn]++;
            for (const { m, s } of markers) {
              const k = Math.round(s / 0.2) - 1;
              m.position.set(p.points[3 * k] * 450, p.points[3 * k + 1] * 450, p.points[3 * k + 2] * 450);
              m.visible = true;
            }
            o.onPrediction?.(p);
          },
          () => undefined,
        )
        .finally(() => {
          inFlight = false;
        });
    }
    // check the 1 s prediction made a second ago against where the viewer looks now; report ~1 Hz
    const past = predictions.find((x) => Math.abs(x.t + 1 - t) < 0.11);
    let err: number | null = null;
    if (past) {
      err = (orthodromic(past.p.points, 3 * 4, cur, 0) * 180) / Math.PI;
      errSum += err;
      errN++;
      state.predError1s = errSum / errN;
    }
    if (!video.paused && Math.floor(t) !== lastReport) {
      lastReport = Math.floor(t);
      const prev = sampler.latest(Math.min(6, sampler.size));
      const speed =
        prev && prev.xyz.length >= 6
          ? (orthodromic(prev.xyz, 0, prev.xyz, prev.xyz.length - 3) * 180) / Math.PI / (0.2 * (prev.xyz.length / 3 - 1))
          : undefined;
      const made = sinceReport.device + sinceReport.edge;
      o.edgeplay?.recordViewport({
        playhead: t,
        yaw: state.yaw,
        pitch: state.pitch,
        speed_dps: speed,
        pred_error_deg: err,
        predictor: state.lastSource ?? undefined,
        placement: state.lastPlacement ?? undefined,
        edge_share: made ? sinceReport.edge / made : null,
      });
      sinceReport.device = sinceReport.edge = 0;
    }
    // the 2D overlay is redrawn for a new prediction and at most 10 times a second otherwise, not per frame
    const shown = predictions[predictions.length - 1]?.p ?? null;
    const wall = performance.now();
    if (shown !== lastDrawn || wall - lastDrawnAt >= 100) {
      drawOverlay(shown, t);
      lastDrawn = shown;
      lastDrawnAt = wall;
    }
    renderer.render(scene, camera);
    state.frames++;
  });

  const onResize = () => {
    const cw = o.container.clientWidth || w,
      ch = o.container.clientHeight || h;
    camera.aspect = cw / ch;
    camera.updateProjectionMatrix();
    renderer.setSize(cw, ch);
  };
  window.addEventListener('resize', onResize);

  return {
    video,
    hls,
    renderer,
    camera,
    scene,
    client,
    sampler,
    state,
    predictions,
    worker,
    setView(y: number, p: number) {
      yaw = y;
      pitch = Math.max(-85, Math.min(85, p));
    },
    play: () => video.play(),
    destroy() {
      renderer.setAnimationLoop(null);
      window.removeEventListener('deviceorientation', onOrient);
      window.removeEventListener('resize', onResize);
      o.edgeplay?.detach();
      hls.destroy();
      worker?.terminate();
      renderer.dispose();
      renderer.domElement.remove();
      vrButton.remove();
    },
  };
}
export type VrViewer = Awaited<ReturnType<typeof createVrViewer>>;
