/** Bootstrap of demo/vr.html: the 360 viewer on the demo's VR stream, with telemetry to the controller. */
import { createEdgeplay } from '../src/index.js';
import { createVrViewer } from './vr-viewer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const config = (await (await fetch('/api/config')).json()) as { controller: string };
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
    `1 s prediction error ${s.predError1s == null ? '–' : s.predError1s.toFixed(1) + '°'}`,
    ...(s.notice ? [s.notice] : s.motion === 'ask' ? ['tap to allow turning with your phone'] : []),
  ].join('\n');
}, 250);
