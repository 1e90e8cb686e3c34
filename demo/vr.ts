/**
 * Bootstrap of demo/vr.html: the 360 viewer on the demo's VR stream, with telemetry to the controller. Viewport
 * prediction may be offloaded to the edge's task service (`npm start` runs it beside the controller): the page
 * negotiates a session and the worker places each prediction by IELB's rule; `?offload=0` keeps it on the device,
 * `?device=phone|laptop|desktop` names the power model's class (default laptop), `?throttle=N` slows the worker's
 * models N× (a phone-like device; DevTools' CPU throttling does the same to the whole page).
 */
import type { DeviceClass } from '../src/edge/offload.js';
import { createEdgeplay, negotiate } from '../src/index.js';
import { createVrViewer } from './vr-viewer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const config = (await (await fetch('/api/config')).json()) as {
  controller: string;
  cdnProbe: string;
  edges: Array<{ id: string; probe: string }>;
};
const ep = createEdgeplay({ endpoint: `${config.controller}/v1/telemetry`, consent: 'granted', heartbeatMs: 5000 });
const replaySel = $<HTMLSelectElement>('replay');
const priorBox = $<HTMLInputElement>('prior');
const replayParam = params.get('replay') ?? '';
if (replayParam && replayParam !== 'sample') replaySel.add(new Option(replayParam, replayParam));
replaySel.value = replayParam;
priorBox.checked = params.get('prior') !== '0';
const reload = () => {
  params.set('replay', replaySel.value);
  params.set('prior', priorBox.checked ? '1' : '0');
  location.search = params.toString();
};
replaySel.onchange = reload;
priorBox.onchange = reload;

const device = (['phone', 'laptop', 'desktop'] as const).find((d) => d === params.get('device')) ?? 'laptop';
const neg =
  params.get('offload') === '0'
    ? null
    : await negotiate({
        controller: config.controller,
        viewerId: `vr-${Math.random().toString(36).slice(2, 10)}`,
        channel: 'vr-1',
        src: '/streams/vr/master.m3u8',
        edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
        cdnProbeUrl: config.cdnProbe,
        timeoutMs: 3000,
      }).catch(() => null);
const throttle = Number(params.get('throttle') ?? '1');
const viewer = await createVrViewer({
  container: $('stage'),
  overlay: $<HTMLCanvasElement>('overlay'),
  src: '/streams/vr/master.m3u8',
  contentId: 'edgeplay-vr-1',
  priorUrl: priorBox.checked ? '/streams/vr/prior.json' : undefined,
  workerUrl: '/dist/edgeplay.worker.js',
  hlsWorkerPath: '/vendor/hls.worker.js',
  modelUrl: priorBox.checked ? '/models/viewport-prior/model.json' : '/models/viewport/model.json',
  replay: replayParam
    ? { csvUrl: replayParam === 'sample' ? '/streams/vr/viewers.csv' : replayParam, user: params.get('user') ?? '0' }
    : undefined,
  edgeplay: ep,
  offload: neg ? { url: config.controller, session: neg.session, token: neg.token, device: device as DeviceClass } : undefined,
  workerThrottle: throttle > 1 ? throttle : undefined,
  predictBudgetMs: throttle > 1 ? 50 * throttle : undefined,
});
(window as unknown as { viewer: typeof viewer }).viewer = viewer;
viewer.play().catch(() => {
  const b = $<HTMLButtonElement>('start');
  b.style.display = 'block';
  b.onclick = () => {
    b.style.display = 'none';
    void viewer.play();
  };
});
const stats = $('stats');
setInterval(() => {
  const s = viewer.state;
  const lat = viewer.client.latencies.slice(-50).sort((a, b) => a - b);
  stats.textContent = [
    `input ${s.input}  yaw ${s.yaw.toFixed(1)}°  pitch ${s.pitch.toFixed(1)}°  t ${s.playhead.toFixed(1)} s`,
    `predictor ${s.lastSource ?? '(warming up)'}`,
    `predictions ${s.predictions}  fallbacks ${s.fallbacks}  p50 ${lat.length ? lat[lat.length >> 1].toFixed(2) : '–'} ms`,
    `ran on the device ${s.placements.device}  on the edge ${s.placements.edge}  (last: ${s.lastPlacement ?? '–'}; offloading ${s.offloading === null ? 'off' : s.offloading ? 'on' : 'edge unreachable'})`,
    `1 s prediction error ${s.predError1s == null ? '–' : s.predError1s.toFixed(1) + '°'}`,
    ...(s.notice ? [s.notice] : s.motion === 'ask' ? ['tap to allow turning with your phone'] : []),
  ].join('\n');
}, 250);
