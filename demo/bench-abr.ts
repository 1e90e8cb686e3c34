/**
 * Page used by `npm run bench:browser-abr`: plays one shaped stream with one ABR policy and publishes
 * QoE_lin from real playback, decision latencies and main-thread long tasks in `window.benchResult`.
 * Query: policy (hls|drl|robustmpc|bola|bb), trace, limit.
 */
import Hls from 'hls.js';
import { createAbrController, createEdgeplay, startWorker, workerAbrPort, type AbrDecisionRecord, type AbrPolicyName } from '../src/index.js';

const q = new URLSearchParams(location.search);
const policy = (q.get('policy') ?? 'hls') as AbrPolicyName;
const trace = q.get('trace') ?? 'varying';
const limit = Number(q.get('limit') ?? 15);
const LADDER = [300, 750, 1200, 1850, 2850, 4300];

const longTasks: number[] = [];
try {
  new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
} catch { /* not supported */ }

const records: AbrDecisionRecord[] = [];
let abrController: unknown;
if (policy !== 'hls') {
  const w = startWorker('/dist/edgeplay.worker.js');
  if (policy === 'drl') await w.api.initAbr({ modelUrl: new URL('/models/abr-drl/model.json', location.href).href });
  const port = workerAbrPort(w);
  abrController = createAbrController(Hls, { policy, port: () => port, onDecision: (r) => records.push(r) });
}
const video = document.querySelector('video')!;
const ep = createEdgeplay({ endpoint: '/v1/none', consent: 'denied' });
const hls = new Hls(ep.hlsConfig({ ...(abrController ? { abrController: abrController as never } : {}), maxBufferLength: 30 }));
const levelBySn = new Map<number, number>();
hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => {
  if (d.frag.type === 'main' && typeof d.frag.sn === 'number') levelBySn.set(d.frag.sn, d.frag.level);
});
const view = ep.attach(hls, video, { contentId: 'bench' });
hls.loadSource(`/streams/vod/master.m3u8?trace=${encodeURIComponent(trace)}&limit=${limit}`);
hls.attachMedia(video);
video.muted = true;
void video.play().catch(() => undefined);
video.addEventListener('ended', () => {
  const s = view.summary();
  const sns = [...levelBySn.keys()].sort((a, b) => a - b);
  const levels = sns.map((sn) => levelBySn.get(sn)!);
  // QoE_lin over the chunks played, as the simulator scores it (chunk 0 excluded), nominal ladder
  let bitrate = 0;
  let smooth = 0;
  for (let i = 1; i < levels.length; i++) {
    bitrate += LADDER[levels[i]] / 1000;
    smooth += Math.abs(LADDER[levels[i]] - LADDER[levels[i - 1]]) / 1000;
  }
  const rebufS = s.rebuffer_ms / 1000;
  const n = Math.max(1, levels.length - 1);
  const lat = records.filter((r) => r.source === 'policy').map((r) => r.latencyMs).sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
  (window as unknown as { benchResult: unknown }).benchResult = {
    policy, trace, chunks: levels.length, qoe_chunk: (bitrate - 4.3 * rebufS - smooth) / n, bitrate_mean: bitrate / n,
    rebuffer_s: rebufS, rebuffers: s.rebuffer_count, smooth_mean: smooth / n, startup_ms: s.startup_ms,
    decisions: records.length, fallbacks: records.filter((r) => r.source === 'fallback').length,
    latency_p50_ms: pct(0.5), latency_p95_ms: pct(0.95), long_tasks: longTasks.length, long_task_max_ms: longTasks.length ? Math.max(...longTasks) : 0,
  };
});
