/**
 * Page used by `npm run bench:browser-abr -- --live` (bench/browser-abr-live.ts): plays the dev server's LL-HLS
 * live ladder through one trace-shaped session for `duration` seconds of playback and publishes the live QoE of
 * the repo (core/live-qoe.ts: the dash.js LoL+ evaluator / Twitch grand challenge per segment — bitrate, switches,
 * rebuffering, latency, playback-rate change), latency, stalls, playback-rate changes and the worker's decisions.
 *
 * Query: abr = hls (hls.js' default ABR) | edgeplay (the worker's live DRL policy on the meta-learned forecaster,
 * behind createAbrController); catchup = none (hls.js default: no rate control) | lolp (liveCatchup, LoL+ with its
 * dead band) | lolp-nodb (LoL+ without the dead band: every rate change of 0.02 applied) | hls (hls.js'
 * maxLiveSyncPlaybackRate 1.5); trace; duration (s); report (URL the result is POSTed to).
 *
 * Per segment (2 s, four 0.5 s parts): its bitrate is the duration-weighted nominal bitrate of the parts buffered
 * for it (the last one buffered for each part counts; parts hls.js did not report take the level of the segment's
 * last), it is scored when its last part (or the whole segment) is buffered, with the
 * stall time since the previous scored segment, hls.js' `latency` and the playback rate at that moment. Only
 * segments completed after playback started count (the start-up is reported apart). QoE/s = Σ QoE / 1000 / media s.
 *
 * Run validity as on the VOD page (demo/playback-clock.ts): `play_wall_s`, `media_s` and `playback_lag_s`, the media
 * time the wall clock allowed at the element's playback rate that neither played nor fell in a reported stall
 * (bench:browser-abr rejects a run whose lag exceeds --max-lag of its time).
 */
import Hls from 'hls.js';
import {
  createAbrController,
  createEdgeplay,
  liveCatchup,
  startWorker,
  workerAbrPort,
  type AbrDecisionRecord,
  type AbrPort,
  type LiveCatchup,
  type LiveRateChange,
} from '../src/index.js';
import { liveQoeSegment, liveQoeWeights } from '../src/core/live-qoe.js';
import { playbackClock } from './playback-clock.js';

const q = new URLSearchParams(location.search);
const abr = q.get('abr') ?? 'hls';
const catchupMode = q.get('catchup') ?? 'none';
const trace = q.get('trace') ?? 'varying';
const durationS = Number(q.get('duration') ?? 60);
/** the live ladder's nominal bitrates (demo/streams.ts LIVE_LADDER_KBPS) and its segment / part durations */
const LADDER = [300, 750, 1200];
const SEGMENT_S = 2;
const PART_S = 0.5;
const w = liveQoeWeights(LADDER);

const records: AbrDecisionRecord[] = [];
let abrController: unknown;
let port: AbrPort | null = null;
let modelsLoaded = false;
if (abr === 'edgeplay') {
  const wk = startWorker('/dist/edgeplay.worker.js');
  const p = workerAbrPort(wk);
  try {
    await p.initLive(
      new URL('/models/live-abr-drl/model.json', location.href).href,
      new URL('/models/chunk-size/model.json', location.href).href,
    );
    port = p;
    modelsLoaded = true;
  } catch (e) {
    console.warn('live models did not load: hls.js decides', e);
  }
  abrController = createAbrController(Hls, { policy: 'drl', port: () => port, onDecision: (r) => records.push(r) });
}
const video = document.querySelector('video')!;
const ep = createEdgeplay({ endpoint: '/v1/none', consent: 'denied' });
const hls = new Hls(
  ep.hlsConfig({
    lowLatencyMode: true,
    ...(abrController ? { abrController: abrController as never } : {}),
    ...(catchupMode === 'hls' ? { maxLiveSyncPlaybackRate: 1.5 } : {}),
    workerPath: '/vendor/hls.worker.js',
  }),
);
let catchup: LiveCatchup | null = null;
const reasons: Record<string, number> = {};
const onRate = (e: LiveRateChange) => {
  if (!Number.isNaN(startedAt)) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
};
if (catchupMode === 'lolp') catchup = liveCatchup(hls, video, { onRate });
else if (catchupMode === 'lolp-nodb') catchup = liveCatchup(hls, video, { deadBandS: 0, onRate });

let fatal: string | null = null;
hls.on(Hls.Events.ERROR, (_e, d) => {
  if (d.fatal) fatal = d.details;
});

// ---- stalls (after playback started), rate changes, latency samples
let startedAt = NaN; // performance.now() of the first 'playing'
let stallStart = NaN;
let stallS = 0; // total
let stallSinceSeg = 0; // since the previous scored segment
let stalls = 0;
let rateChanges = 0;
// the media clock against the wall clock (a starved Chromium plays slowly without a 'waiting' event)
const clock = playbackClock(video);
const closeStall = () => {
  // (the stall count is kept by 'waiting'; this only moves its time into the totals)
  if (Number.isNaN(stallStart)) return;
  const s = (performance.now() - stallStart) / 1000;
  stallS += s;
  stallSinceSeg += s;
  stallStart = NaN;
};
video.addEventListener('playing', () => {
  if (Number.isNaN(startedAt)) {
    startedAt = performance.now();
    setTimeout(finish, durationS * 1000);
  }
  closeStall();
});
video.addEventListener('waiting', () => {
  if (!Number.isNaN(startedAt) && Number.isNaN(stallStart)) {
    stallStart = performance.now();
    stalls++;
  }
});
video.addEventListener('ratechange', () => {
  if (!Number.isNaN(startedAt)) rateChanges++;
});

// Wall-clock latency without hls.js' timeline (as test/browser/live-latency.spec.ts): a buffered part (sn, i) ends at
// encoder media time 2 sn + 0.5 (i + 1) s; the playlist's program date of segment sn minus 2 sn s is the encoder's
// spawn on the wall clock (it precedes the first captured frame by the encoder's start-up: the figure errs long by
// that, the same for every run of one bench invocation).
let offset = NaN;
let t0 = NaN;
const wall = () => (Date.now() - t0) / 1000 - (video.currentTime - offset);
const latHls: number[] = [];
const latWall: number[] = [];
const rates: number[] = [];
video.addEventListener('timeupdate', () => {
  if (Number.isNaN(startedAt) || video.paused) return;
  if (hls.latency > 0) latHls.push(hls.latency);
  const wl = wall();
  if (Number.isFinite(wl)) latWall.push(wl);
  rates.push(video.playbackRate);
});

// ---- per-segment QoE
const parts = new Map<number, Map<number, number>>(); // sn -> part index -> kbps
const scored = new Set<number>();
const segs: Array<{ sn: number; kbps: number; latencyS: number; rate: number; rebufferS: number; qoe: number }> = [];
let prevKbps: number | null = null;
const qoe = { bitrate: 0, switch: 0, rebuffer: 0, latency: 0, speed: 0, total: 0 };
let switches = 0;
let loadsBeforeStart = 0;
let partLoads = 0;
let segmentLoads = 0;
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
  if (d.frag.type !== 'main' || typeof d.frag.sn !== 'number' || Number.isNaN(startedAt)) return;
  if (d.part) partLoads++;
  else segmentLoads++;
});
const buffered: Array<[number, number, number, number]> = []; // sn, part index (-1: whole segment), level, s since playback start
hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => {
  const f = d.frag;
  if (f.type !== 'main' || typeof f.sn !== 'number') return;
  buffered.push([f.sn, d.part ? d.part.index : -1, f.level, +((performance.now() - startedAt) / 1000).toFixed(2)]);
  if (d.part) {
    const b = video.buffered;
    if (b.length)
      offset = Math.min(Number.isNaN(offset) ? Infinity : offset, b.end(b.length - 1) - (f.sn * SEGMENT_S + (d.part.index + 1) * PART_S));
    const pf = hls.levels[f.level]?.details?.fragments.find((x) => x.rawProgramDateTime);
    if (pf && typeof pf.sn === 'number') t0 = Date.parse(pf.rawProgramDateTime!) - pf.sn * SEGMENT_S * 1000;
  }
  if (Number.isNaN(startedAt)) {
    loadsBeforeStart++;
    scored.add(f.sn); // a segment (partly) buffered before playback starts is not scored
    return;
  }
  if (scored.has(f.sn)) return;
  const m = parts.get(f.sn) ?? new Map<number, number>();
  parts.set(f.sn, m);
  const kbps = LADDER[f.level] ?? LADDER[LADDER.length - 1];
  const n = Math.round(SEGMENT_S / PART_S);
  if (d.part) m.set(d.part.index, kbps);
  // the segment is complete with its last part or as a whole; hls.js does not report every part it appends (a
  // segment fetched behind the edge shows only its last part): the parts not reported take this one's level
  if (d.part && d.part.index < n - 1) return;
  for (let i = 0; i < n; i++) if (!m.has(i)) m.set(i, kbps);
  scored.add(f.sn);
  parts.delete(f.sn);
  if (!Number.isNaN(stallStart)) {
    // a stall still going on: its time so far belongs to this segment, the rest to the next
    closeStall();
    stallStart = performance.now();
  }
  const segKbps = [...m.values()].reduce((a, b) => a + b, 0) / m.size;
  const latencyS = Math.max(0, hls.latency || 0);
  const t = liveQoeSegment(w, {
    kbps: segKbps,
    prevKbps,
    durationS: SEGMENT_S,
    rebufferS: stallSinceSeg,
    latencyS,
    playbackRate: video.playbackRate,
  });
  for (const k of Object.keys(qoe) as Array<keyof typeof qoe>) qoe[k] += t[k];
  if (prevKbps !== null && prevKbps !== segKbps) switches++;
  segs.push({ sn: f.sn, kbps: segKbps, latencyS, rate: video.playbackRate, rebufferS: stallSinceSeg, qoe: t.total });
  prevKbps = segKbps;
  stallSinceSeg = 0;
});

const view = ep.attach(hls, video, { contentId: 'bench-live' });
hls.loadSource(`/streams/live/master.m3u8?trace=${encodeURIComponent(trace)}`);
hls.attachMedia(video);
video.muted = true;
void video.play().catch(() => undefined);

const pct = (xs: number[], p: number) => {
  const v = xs.slice().sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function finish(): void {
  closeStall();
  const s = view.summary();
  const mediaS = segs.length * SEGMENT_S;
  const playedS = (performance.now() - startedAt) / 1000;
  const lat = records.filter((r) => r.source === 'policy').map((r) => r.latencyMs);
  const lag = clock.report();
  clock.stop();
  const result = {
    abr,
    catchup: catchupMode,
    trace,
    models_loaded: modelsLoaded,
    segments: segs.length,
    played_s: playedS,
    ...lag,
    qoe_s: mediaS ? qoe.total / 1000 / mediaS : null,
    qoe_terms_s: Object.fromEntries(Object.entries(qoe).map(([k, v]) => [k, mediaS ? v / 1000 / mediaS : null])),
    bitrate_mbps: mean(segs.map((x) => x.kbps / 1000)),
    switches,
    rebuffer_s: stallS,
    rebuffers: stalls,
    rebuffer_s_telemetry: s.rebuffer_ms / 1000,
    latency_mean_s: mean(latHls),
    latency_p50_s: pct(latHls, 0.5),
    latency_p90_s: pct(latHls, 0.9),
    wall_latency_p50_s: pct(latWall, 0.5),
    wall_latency_p90_s: pct(latWall, 0.9),
    target_latency_s: hls.targetLatency,
    rate_changes: rateChanges,
    rate_changes_per_min: (rateChanges / playedS) * 60,
    rate_catchup_changes: catchup?.changes ?? null,
    rate_change_reasons: reasons,
    rate_mean: mean(rates),
    startup_ms: s.startup_ms,
    loads_before_start: loadsBeforeStart,
    part_loads: partLoads,
    segment_loads: segmentLoads,
    decisions: records.length,
    live_decisions: records.filter((r) => r.source === 'policy' && r.live).length,
    fallbacks: records.filter((r) => r.source === 'fallback').length,
    decision_p50_ms: pct(lat, 0.5),
    decision_p95_ms: pct(lat, 0.95),
    fatal,
    segs,
    buffered,
  };
  (window as unknown as { benchResult: unknown }).benchResult = result;
  catchup?.stop();
  hls.destroy();
  // a browser run without automation (no DevTools client attached) posts its result to `report`
  const report = q.get('report');
  if (report) void fetch(report, { method: 'POST', mode: 'no-cors', body: JSON.stringify(result) });
}
