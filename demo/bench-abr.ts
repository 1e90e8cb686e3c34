/**
 * Page used by `npm run bench:browser-abr`: plays one shaped stream with one ABR policy and publishes
 * QoE_lin from real playback, decision latencies and main-thread long tasks in `window.benchResult`.
 * It also measures the media clock against the wall clock (`playback_lag_s`, demo/playback-clock.ts: time neither
 * played nor reported as a stall — Chromium starved of CPU plays slower than real time without a 'waiting' event).
 * Query: policy (hls|drl|robustmpc|bola|bb), trace, limit, transmux (worker|inline: hls.js' ESM build
 * transmuxes on the main thread unless `workerPath` is set), refetch (skip: `createStreamController`, no re-fetch after a
 * level switch), abandon (on: the controller's own abandonment, DEFAULT_ABANDON), report (URL to POST the result to).
 */
import Hls from 'hls.js';
import {
  createAbrController,
  createEdgeplay,
  createStreamController,
  DEFAULT_ABANDON,
  DEFAULT_DRL_GUARD,
  startWorker,
  workerAbrPort,
  type AbrDecisionRecord,
  type AbrPolicyName,
  type AbrTableCheck,
} from '../src/index.js';
import { playbackClock } from './playback-clock.js';

const q = new URLSearchParams(location.search);
const policy = (q.get('policy') ?? 'hls') as AbrPolicyName;
const trace = q.get('trace') ?? 'varying';
const limit = Number(q.get('limit') ?? 15);
const modelPath = q.get('model') ?? '/models/abr-drl/model.json';
const LADDER = [300, 750, 1200, 1850, 2850, 4300];

const longTasks: number[] = [];
try {
  new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
} catch {
  /* not supported */
}

const records: AbrDecisionRecord[] = [];
// A no-op message posted to the page itself at each decision request: how long the main thread's own
// event loop takes to come back to it (the floor of any answer from a worker).
const loop = new MessageChannel();
const loopDelays: number[] = [];
loop.port1.onmessage = (e) => loopDelays.push(performance.now() - (e.data as number));
let started = false; // set at the first FRAG_LOADED: the warm-up calls made while it loads don't count
const probe = () => {
  if (started) loop.port2.postMessage(performance.now());
};
let abrController: unknown;
const tableChecks: AbrTableCheck[] = [];
let timings: { toWorkerMs: number; computeMs: number; backMs: number }[] = [];
let abandons = 0;
if (policy !== 'hls') {
  const w = startWorker('/dist/edgeplay.worker.js');
  // guard=on: the DRL with its stall guard (DEFAULT_DRL_GUARD)
  if (policy === 'drl')
    await w.api.initAbr({ modelUrl: new URL(modelPath, location.href).href, guard: q.get('guard') === 'on' ? DEFAULT_DRL_GUARD : null });
  const port = workerAbrPort(w, { slot: q.get('answer') !== 'message' });
  timings = port.timings;
  abrController = createAbrController(Hls, {
    policy,
    port: () => {
      probe();
      return port;
    },
    onDecision: (r) => records.push(r),
    onTableCheck: (c) => tableChecks.push(c),
    tables: q.get('tables') !== 'off',
    // abandon=on: the controller's own abandonment of a download that will not arrive in time
    abandon: q.get('abandon') === 'on' ? DEFAULT_ABANDON : null,
    onAbandon: () => abandons++,
  });
}
const video = document.querySelector('video')!;
const ep = createEdgeplay({ endpoint: '/v1/none', consent: 'denied' });
// refetch=skip: hls.js' stream controller without the re-fetch after a level switch (src/abr/hls-stream-controller.ts)
let refetchSkips = 0;
const streamController = q.get('refetch') === 'skip' ? createStreamController(Hls, { onSkip: () => refetchSkips++ }) : null;
const hls = new Hls(
  ep.hlsConfig({
    ...(abrController ? { abrController: abrController as never } : {}),
    ...(streamController ? { streamController: streamController as never } : {}),
    maxBufferLength: 30,
    ...(q.get('transmux') === 'inline' ? {} : { workerPath: '/vendor/hls.worker.js' }),
  }),
);
const levelBySn = new Map<number, number>();
// every main fragment load as it happened (the hls-semantics simulator is validated against these)
const loads: Array<{ sn: number; level: number; bytes: number; start_ms: number; first_ms: number; end_ms: number; buffer_s: number }> = [];
let aborts = 0;
const t00 = performance.now();
hls.on(Hls.Events.FRAG_LOAD_EMERGENCY_ABORTED, () => aborts++);
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
  const f = d.frag;
  if (f.type === 'main' && typeof f.sn === 'number') {
    const st = f.stats;
    let buf = 0;
    const b = video.buffered;
    for (let i = 0; i < b.length; i++)
      if (b.start(i) <= video.currentTime + 0.5 && b.end(i) > video.currentTime) buf = b.end(i) - video.currentTime;
    loads.push({
      sn: f.sn,
      level: f.level,
      bytes: st.loaded,
      start_ms: +(st.loading.start - t00).toFixed(1),
      first_ms: +(st.loading.first - t00).toFixed(1),
      end_ms: +(st.loading.end - t00).toFixed(1),
      buffer_s: +buf.toFixed(3),
    });
  }
});
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
  // runs after the controller's own FRAG_LOADED handler, before any answer can arrive
  if (started || typeof d.frag.sn !== 'number') return;
  timings.length = 0;
  started = true;
  probe();
});
hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => {
  if (d.frag.type === 'main' && typeof d.frag.sn === 'number') levelBySn.set(d.frag.sn, d.frag.level);
});
const view = ep.attach(hls, video, { contentId: 'bench' });
hls.loadSource(`/streams/vod/master.m3u8?trace=${encodeURIComponent(trace)}&limit=${limit}`);
hls.attachMedia(video);
video.muted = true;
void video.play().catch(() => undefined);
// the media clock against the wall clock from the first frame on: on a starved machine Chromium plays slower than
// real time without a 'waiting' event, which hides stalls (bench:browser-abr rejects such runs, --max-lag)
const clock = playbackClock(video);
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
  const lag = clock.report();
  clock.stop();
  let switches = 0;
  for (let i = 1; i < levels.length; i++) if (levels[i] !== levels[i - 1]) switches++;
  const quality = typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality() : null;
  const n = Math.max(1, levels.length - 1);
  const lat = records.filter((r) => r.source === 'policy').map((r) => r.latencyMs);
  const pct = (xs: number[], p: number) => {
    const v = xs.slice().sort((a, b) => a - b);
    return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null;
  };
  const p95 = (xs: number[]) => pct(xs, 0.95);
  (window as unknown as { benchResult: unknown }).benchResult = {
    policy,
    trace,
    chunks: levels.length,
    qoe_chunk: (bitrate - 4.3 * rebufS - smooth) / n,
    bitrate_mean: bitrate / n,
    rebuffer_s: rebufS,
    rebuffers: s.rebuffer_count,
    smooth_mean: smooth / n,
    switches,
    levels: levels.join(''),
    aborts,
    refetch: streamController ? 'skip' : 'hls',
    abandon: q.get('abandon') === 'on' ? DEFAULT_ABANDON : null,
    abandons,
    refetch_skips: refetchSkips,
    dropped_frames: quality?.droppedVideoFrames ?? null,
    total_frames: quality?.totalVideoFrames ?? null,
    loads,
    startup_ms: s.startup_ms,
    // wall time from the first frame to the end, media played, and the media time the wall clock allowed that neither
    // played nor fell in a reported stall, s
    ...lag,
    decisions: records.length,
    fallbacks: records.filter((r) => r.source === 'fallback').length,
    latency_p50_ms: pct(lat, 0.5),
    latency_p95_ms: p95(lat),
    long_tasks: longTasks.length,
    long_task_max_ms: longTasks.length ? Math.max(...longTasks) : 0,
    latencies_ms: lat,
    answers_by_slot: records.filter((r) => r.via === 'slot').length,
    // decision tables (src/abr/decision-table.ts): answers looked up, checked against the policy's own, and replaced
    answers_by_table: records.filter((r) => r.via === 'table').length,
    table_checks: tableChecks.length,
    table_agree: tableChecks.filter((c) => c.table === c.exact).length,
    table_replaced: tableChecks.filter((c) => c.replaced).length,
    cross_origin_isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    loop_p95_ms: p95(loopDelays),
    to_worker_p95_ms: p95(timings.map((t) => t.toWorkerMs)),
    compute_p95_ms: p95(timings.map((t) => t.computeMs)),
    back_p95_ms: p95(timings.map((t) => t.backMs)),
  };
  // a browser run without automation (no DevTools client attached) posts its result to `report`
  const report = q.get('report');
  if (report)
    void fetch(report, {
      method: 'POST',
      mode: 'no-cors',
      body: JSON.stringify((window as unknown as { benchResult: unknown }).benchResult),
    });
});
