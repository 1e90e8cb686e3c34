/**
 * The demo dashboard: hls.js + edgeplay, with live charts (uPlot) of buffer, bitrate, throughput and
 * the shaped link, the view's QoE summary as edgeplay computes it, and the event stream.
 */
import Hls from 'hls.js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { monitor, type AbrDecisionRecord, type TelemetryEvent, type QoeSummary } from '../src/index.js';
import type { EdgeList } from '../src/core/schemas/edges.js';
import type { CdnsAnswer } from '../src/core/schemas/cdns.js';
import { servingPathwayOf } from './serving-pathway.js';
import { abrParam } from './abr-param.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('video');
const params = new URLSearchParams(location.search);

interface Config {
  controller: string;
  live: boolean;
  cdnProbe: string;
  edges: Array<{ id: string; url: string; probe: string }>;
}
const config = (await (await fetch('/api/config')).json()) as Config;

const CHANNELS: Record<string, { url: string; contentId: string; label: string }> = {
  vod: { url: '/streams/vod/master.m3u8', contentId: 'edgeplay-vod-1', label: 'VOD: scenes (192 s, 6 rungs)' },
};
if (config.live)
  CHANNELS.live = {
    url: '/streams/live/master.m3u8',
    contentId: 'edgeplay-live-1',
    label: 'Live: VBR test card (3 rungs, 2 s, coding meta)',
  };

const chanSel = $<HTMLSelectElement>('channel');
for (const [id, c] of Object.entries(CHANNELS)) chanSel.add(new Option(c.label, id));
chanSel.value = params.get('channel') ?? 'vod';
const traceSel = $<HTMLSelectElement>('trace');
traceSel.add(new Option('unshaped (loopback)', ''));
const traces = (await (await fetch('/api/traces')).json()) as Array<{ name: string; source: string }>;
for (const t of traces) traceSel.add(new Option(`${t.name} (${t.source})`, t.name));
traceSel.value = params.get('trace') ?? 'varying';

// one shaped link per page: the trace shapes this viewer's downloads on every pathway (the CDN and the
// edges apply the same link to the same `sess`), so the session id is chosen here, not per request
const SESS = crypto.randomUUID();
let shapedSession: string | null = null;
const srcFor = (ch: string) => {
  const c = CHANNELS[ch];
  const t = traceSel.value;
  return t ? `${c.url}?trace=${encodeURIComponent(t)}&sess=${SESS}` : c.url;
};

// ABR: edgeplay's DRL in the worker by default (its decisions on the dashboard), another policy, or hls.js' own
// (?abr=drl|robustmpc|bola|bb|hls)
const abrSel = $<HTMLSelectElement>('abr');
const { abr, note: abrNote } = abrParam(params.get('abr'));
if (abrNote) console.warn(`[demo] ${abrNote}`);
abrSel.value = abr;
abrSel.onchange = () => {
  params.set('abr', abrSel.value);
  params.set('channel', chanSel.value);
  params.set('trace', traceSel.value);
  location.search = params.toString(); // the ABR controller is chosen when Hls is created
};
const decisions: AbrDecisionRecord[] = [];

// one call wires it all: telemetry, the one worker (ABR policy + profiler), the profiler's weights →
// POST /v1/negotiate → Content Steering in hls.js, CMCD, the view
const m = await monitor(video, {
  Hls,
  src: srcFor(chanSel.value),
  controller: config.controller,
  edgeplay: { consent: $<HTMLInputElement>('consent').checked ? 'granted' : 'pending', heartbeatMs: 5000, debug: true },
  channel: chanSel.value,
  contentId: CHANNELS[chanSel.value].contentId,
  hlsConfig: { maxBufferLength: 30, backBufferLength: 30, workerPath: '/vendor/hls.worker.js' },
  worker: '/dist/edgeplay.worker.js',
  models: '/models/',
  abr: abr === 'hls' ? false : abr,
  onAbrDecision: (r) => decisions.push(r),
  negotiation: {
    edges: config.edges.map((e) => ({ id: e.id, probeUrl: e.probe })),
    cdnProbeUrl: new URL(config.cdnProbe, location.href).href,
    timeoutMs: 2500,
  },
});
const { ep, hls, negotiation: neg } = m;
$<HTMLInputElement>('consent').onchange = (e) => ep.setConsent((e.target as HTMLInputElement).checked ? 'granted' : 'denied');
let servingPathway = '…';
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => {
  servingPathway = servingPathwayOf(d, config.edges, location.href) ?? servingPathway;
});
// the controller moves a viewer through Content Steering after the negotiation: the status line shows the pathway
// priority of the steering manifest hls.js loaded last (also in body[data-steering], for tests), not only the first answer
let steering: string[] | null = null;
hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_e, d) => {
  const p = d.steeringManifest['PATHWAY-PRIORITY'];
  steering = Array.isArray(p) ? p : null;
  document.body.dataset.steering = steering?.join(',') ?? '';
});
hls.on(Hls.Events.MANIFEST_LOADED, (_e, d) => {
  const h = (d.networkDetails as XMLHttpRequest | undefined)?.getResponseHeader?.('x-edgeplay-session');
  shapedSession = h ?? null;
});

chanSel.onchange = () => {
  ep.switchChannel(chanSel.value, { src: srcFor(chanSel.value), contentId: CHANNELS[chanSel.value].contentId, autoplay: true });
  resetCharts();
};
traceSel.onchange = () => {
  ep.switchChannel(chanSel.value, { src: srcFor(chanSel.value), contentId: CHANNELS[chanSel.value].contentId, autoplay: true });
  resetCharts();
};
$<HTMLButtonElement>('btn-reload').onclick = () => traceSel.onchange?.(new Event('change'));
$<HTMLButtonElement>('btn-chat').onclick = () => ep.recordInteraction('chat');
$<HTMLButtonElement>('btn-like').onclick = () => ep.recordInteraction('like');

// ---- charts ----
const WINDOW_S = 120;
let t0 = performance.now();
let xs: number[] = [],
  buf: number[] = [],
  br: (number | null)[] = [],
  thr: (number | null)[] = [],
  bw: (number | null)[] = [],
  link: (number | null)[] = [];
const opts = (title: string, series: uPlot.Series[], log = false): uPlot.Options => ({
  title,
  width: 560,
  height: 220,
  scales: { x: { time: false }, ...(log ? { y: { distr: 3, log: 10 } } : {}) },
  axes: [
    { label: 's' },
    {
      size: 64,
      // short labels (1.5, 20, 300) so nothing is cut off on a log scale spanning kb/s to Gb/s
      values: (_u: uPlot, vals: number[]) =>
        vals.map((v) => (v == null ? '' : v >= 100 ? v.toFixed(0) : v >= 1 ? String(+v.toPrecision(2)) : String(+v.toPrecision(1)))),
    },
  ],
  series: [{}, ...series],
});
const bufPlot = new uPlot(opts('buffer (s)', [{ label: 'buffer', stroke: '#2563eb', width: 2 }]), [xs, buf], $('chart-buffer'));
const ratePlot = new uPlot(
  opts(
    'Mb/s (log scale)',
    [
      { label: 'bitrate', stroke: '#16a34a', width: 2 },
      { label: 'fragment throughput', stroke: '#f59e0b' },
      { label: 'hls.js estimate', stroke: '#7c3aed' },
      { label: 'link (trace)', stroke: '#9ca3af', dash: [4, 4] },
    ],
    true,
  ),
  [xs, br, thr, bw, link],
  $('chart-rate'),
);
function resetCharts() {
  t0 = performance.now();
  xs = [];
  buf = [];
  br = [];
  thr = [];
  bw = [];
  link = [];
}
const fit = () => {
  const w = Math.max(300, ($('chart-buffer').parentElement!.clientWidth - 30) / 2);
  bufPlot.setSize({ width: w, height: 220 });
  ratePlot.setSize({ width: w, height: 220 });
};
addEventListener('resize', fit);
fit();

const kb = (x: number | null | undefined) => (x == null ? null : Math.round(x / 1000));
const mb = (x: number | null | undefined) => (x == null ? null : x / 1e6);
let linkMbps: number | null = null;
setInterval(async () => {
  if (!shapedSession) return (linkMbps = null);
  try {
    const r = await fetch(`/api/sessions/${shapedSession}`);
    if (r.ok) linkMbps = ((await r.json()) as { link_mbps: number }).link_mbps;
  } catch {
    /* dev server gone */
  }
}, 1000);

// the edge caches' counters, as the edges report them to the controller (GET /v1/edges)
let edgeList: EdgeList['edges'] = [];
setInterval(async () => {
  try {
    const r = await fetch(`${config.controller}/v1/edges`);
    if (r.ok) edgeList = ((await r.json()) as EdgeList).edges;
  } catch {
    /* controller down: keep the last list */
  }
  renderEdges();
}, 2000);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const mbytes = (x: number) => `${(x / 1e6).toFixed(1)} MB`;
function renderEdges() {
  $('edges').innerHTML =
    '<tr><th>edge</th><th>hit rate</th><th>hits / coalesced / misses</th><th>served</th><th>from origin</th><th>used / rented</th><th>evictions</th><th>policy</th></tr>' +
    edgeList
      .map((e) => {
        const c = e.cache;
        if (!c) return `<tr><td>${e.id} (${e.setting})</td><td colspan="7">no report yet</td></tr>`;
        return `<tr><td>${e.id} (${e.setting})${!c.alive ? ' (down)' : !e.alive ? ` (silent ${Math.round(e.reported_ms_ago! / 1000)} s)` : ''}</td><td>${pct(c.hitRate)}</td><td>${c.hits} / ${c.coalesced} / ${c.misses}</td><td>${mbytes(c.bytesServed)}</td><td>${mbytes(c.bytesFromOrigin)}</td><td>${mbytes(c.usedBytes)} / ${mbytes(c.capacityBytes)}</td><td>${c.evictions}</td><td>${c.policy} (${c.tuner})</td></tr>`;
      })
      .join('');
}

// the multi-CDN scheduler (GET /v1/cdns; 404 without --cdns): the shares in force and each CDN's measured QoE,
// now (table) and per step (charts of the shares and of SLatency + BufRatio + BufFreq, LTS's cost)
const CDN_COLORS = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed'];
let cdnCharts: { shares: uPlot; qoe: uPlot } | null = null;
const num = (x: number | null, d = 2) => (x == null ? '–' : x.toFixed(d));
async function renderCdns() {
  let a: CdnsAnswer;
  try {
    const r = await fetch(`${config.controller}/v1/cdns`);
    if (!r.ok) return void ($('cdns-section').hidden = true);
    a = (await r.json()) as CdnsAnswer;
  } catch {
    return; // controller down: keep what is shown
  }
  $('cdns-section').hidden = false;
  $('cdns').innerHTML =
    `<tr><th>CDN</th><th>share of new viewers</th><th>viewers</th><th>SLatency (s)</th><th>BufRatio</th><th>BufFreq</th></tr>` +
    a.cdns
      .map(
        (c) =>
          `<tr data-cdn="${c.id}"><td>${c.id}</td><td class="share">${pct(c.share)}</td><td>${num(c.workload, 1)}</td><td>${num(c.slatency)}</td><td>${num(c.bufratio)}</td><td>${num(c.buffreq)}</td></tr>`,
      )
      .join('') +
    `<tr><td colspan="6">policy ${a.policy}, a step every ${a.step_ms / 1000} s${a.leader ? '' : ' (decided by another controller)'}</td></tr>`;
  const w = Math.max(300, ($('chart-buffer').parentElement!.clientWidth - 30) / 2);
  if (!cdnCharts) {
    const series = a.cdns.map((c, i) => ({ label: c.id, stroke: CDN_COLORS[i % CDN_COLORS.length], width: 2 }));
    const empty = [[], ...a.cdns.map(() => [])] as uPlot.AlignedData;
    cdnCharts = {
      shares: new uPlot({ ...opts('share of new viewers (%) per step', series), width: w }, empty, $('chart-cdn-shares')),
      qoe: new uPlot({ ...opts('SLatency + BufRatio + BufFreq per step', series), width: w }, empty, $('chart-cdn-qoe')),
    };
  }
  const h = a.history;
  const x = h.map((s) => s.step - (h[0]?.step ?? 0));
  cdnCharts.shares.setData([x, ...a.cdns.map((_, i) => h.map((s) => 100 * s.next[i]))]);
  cdnCharts.qoe.setData([x, ...a.cdns.map((_, i) => h.map((s) => s.slatency[i] + s.bufratio[i] + s.buffreq[i]))]);
}
setInterval(renderCdns, 2000);
void renderCdns();

setInterval(() => {
  const view = ep.currentView;
  if (!view) return;
  const s = view.sample();
  const x = (performance.now() - t0) / 1000;
  xs.push(x);
  buf.push(s.buffer_s);
  br.push(mb(s.bitrate));
  thr.push(mb(s.throughput));
  bw.push(mb(s.bw_estimate));
  link.push(linkMbps);
  while (xs.length && xs[0] < x - WINDOW_S) {
    xs.shift();
    buf.shift();
    br.shift();
    thr.shift();
    bw.shift();
    link.shift();
  }
  bufPlot.setData([xs, buf]);
  ratePlot.setData([xs, br, thr, bw, link]);
  renderQoe(view.summary());
  renderDelivery();
  $('status').textContent =
    `viewer ${ep.viewerId.slice(0, 8)} · session ${ep.sessionId.slice(0, 8)} · view ${view.id.slice(0, 8)} · level ${hls.currentLevel} · ${shapedSession ? `shaped session ${shapedSession}` : 'unshaped'}
 · pathway ${servingPathway}${steering ? ` · steering now ${steering.join(' > ')}` : ''} (${neg ? `negotiated at start: ${neg.assignment.target} at ${neg.assignment.version}, weights ${[neg.weights.a1, neg.weights.a2, neg.weights.a3].map((w) => w.toFixed(1)).join('/')}` : 'no negotiation: CDN'})`;
}, 500);

function rows(el: HTMLTableElement, data: Array<[string, string | number | null]>) {
  el.innerHTML = data.map(([k, v]) => `<tr><td>${k}</td><td>${v ?? '—'}</td></tr>`).join('');
}
const f1 = (x: number | null) => (x == null ? null : x.toFixed(1));
function renderQoe(q: QoeSummary) {
  rows($('qoe'), [
    ['state', q.state],
    ['startup (ms)', q.startup_ms],
    ['view time (s)', f1(q.view_ms / 1000)],
    ['playing time (s)', f1(q.play_ms / 1000)],
    ['rebuffers', q.rebuffer_count],
    ['rebuffer time (s)', f1(q.rebuffer_ms / 1000)],
    ['rebuffer ratio (% of time)', f1(q.rebuffer_ratio_pct)],
    ['rebuffers per 100 s', f1(q.rebuffer_per_100s)],
    ['avg bitrate (kbps)', kb(q.bitrate_avg_bps)],
    ['switches up / down', `${q.switch_up} / ${q.switch_down}`],
    ['live latency (s)', f1(q.latency_last_s)],
    ['dropped / total frames', `${q.dropped_frames} / ${q.total_frames}`],
    ['errors fatal / other', `${q.errors_fatal} / ${q.errors_nonfatal}`],
    ['interactions', JSON.stringify(q.interactions)],
    ['channel switch latency (ms)', q.channel_switch_latency_ms],
    ['channel switches (visit)', ep.channelSwitchCount],
  ]);
}
function renderDelivery() {
  const s = ep.stats;
  rows($('delivery'), [
    ['events recorded', s.recorded],
    ['batches sealed', s.sealed],
    ['delivered', s.delivered],
    ['server duplicates', s.duplicates],
    ['pending in outbox', s.pending],
    ['failed attempts', s.failures],
    ['beacons', s.beacons],
    ['durable (IndexedDB)', String(s.durable)],
  ]);
  if (abr !== 'hls') {
    const last = decisions[decisions.length - 1];
    const lat = decisions
      .filter((d) => d.source === 'policy')
      .map((d) => d.latencyMs)
      .sort((a, b) => a - b);
    $('delivery').insertAdjacentHTML(
      'beforeend',
      `<tr><td>ABR ${abr}: decisions / fallbacks</td><td>${lat.length} / ${decisions.length - lat.length}</td></tr>` +
        `<tr><td>ABR decision latency p50 (ms)</td><td>${lat.length ? lat[Math.floor(lat.length / 2)].toFixed(2) : '—'}</td></tr>` +
        `<tr><td>ABR last decision</td><td>${last ? `${last.source} ${last.level ?? ''} ${last.reason ?? ''}` : '—'}</td></tr>`,
    );
    // live streams: the latency the policy saw and the worker's chunk-size forecast it decided on
    const lv = [...decisions].reverse().find((d) => d.live?.forecast);
    if (lv?.live) {
      const kB = (row: number[]) => row.map((b) => (b / 1000).toFixed(0)).join(' / ');
      const f = lv.live.forecast!;
      $('delivery').insertAdjacentHTML(
        'beforeend',
        `<tr><td>live latency / target (s)</td><td>${lv.live.latencyS.toFixed(2)} / ${lv.live.targetLatencyS.toFixed(1)}</td></tr>` +
          `<tr><td>playback rate (LoL+ catch-up)</td><td id="live-rate">${video.playbackRate.toFixed(2)}</td></tr>` +
          `<tr><td>predicted next chunk #${lv.sn} (kB per rung)</td><td id="forecast-next">${kB(f[0])}</td></tr>` +
          `<tr><td>predicted chunk #${lv.sn + f.length - 1} (kB per rung)</td><td>${kB(f[f.length - 1])}</td></tr>` +
          `<tr><td>coding meta from the playlist</td><td>${lv.live.codingMeta ? 'yes (EXT-X-DATERANGE)' : 'no: fetched sizes only'}</td></tr>`,
      );
    }
  }
}

const list = $('events');
ep.on('event', (e: TelemetryEvent) => {
  if (e.type === 'heartbeat') return;
  const li = document.createElement('li');
  li.textContent = `${new Date(e.t).toISOString().slice(11, 23)} #${e.seq} ${e.type} ${e.data ? JSON.stringify(e.data) : ''}`;
  if (e.type === 'rebuffer_start') li.className = 'stall';
  list.prepend(li);
  while (list.children.length > 200) list.lastChild?.remove();
});

Object.assign(window, { hls, ep });
