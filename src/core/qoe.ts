/**
 * QoE of one view, computed from its event stream. The same code runs in the browser (live dashboard,
 * `view.summary()`) and on the server (`GET /v1/views/:id`), so both always agree.
 *
 * Definitions:
 * - startup_ms: later of (view start, first play request) -> first frame; ttff_ms: view start -> first frame.
 * - rebuffer_count / rebuffer_ms: stalls after the first frame (waiting -> playing, seeks excluded).
 * - view_ms: view start -> last event (the session time of the LTS paper).
 * - rebuffer_ratio_pct: rebuffer time per 100 s of view time; rebuffer_per_100s: stalls per 100 s (LTS).
 * - bitrate_avg_bps: time-weighted average bitrate over the time spent playing.
 * - switches up/down and their mean magnitude (|delta bitrate| in bps).
 * Mux Data's definitions (https://www.mux.com/docs/guides/data-startup-time-metric, …-smoothness-metric,
 * …-video-quality-metric, …-playback-success-metric; the README maps every Mux metric to a field here):
 * - page_load_ms (navigation start → SDK created), player_startup_ms (SDK created → player ready),
 *   aggregate_startup_ms = page load + player startup + startup_ms (the first view of an SDK instance only).
 * - watch_ms: time the viewer waits for or watches video: play requested → first frame, playing, rebuffering,
 *   seeking (not paused, not ended); rebuffer_percentage = rebuffer time / watch time × 100; rebuffer_per_min per
 *   minute of watch time.
 * - upscale_pct / downscale_pct: time-weighted (over playing time) max(0, s − 1) / max(0, 1 − s) × 100 with
 *   s = min(element width × dpr / video width, element height × dpr / video height), the factor the element scales
 *   the decoded video by (object-fit: contain); max_upscale_pct / max_downscale_pct their largest value played.
 * - rendition_play_ms: playing time per rendition (`<height>p@<kbps>k`, or `level <n>` when unknown).
 * - requests: per serving host, hls.js' load stats summed (core of Mux's request metrics): count, failures, bytes,
 *   mean and max time to first byte, throughput Σ bits / Σ request time; cdn / host: those that delivered most bytes.
 * - the five Viewer Experience Scores (scores.ts, with their sources).
 */
import type { TelemetryEvent, TypedEvent } from './protocol.js';
import { playbackSuccessScore, smoothnessScore, startupTimeScore, videoQualityScore, viewerExperienceScore } from './scores.js';

export type PlayState = 'starting' | 'playing' | 'paused' | 'rebuffering' | 'seeking' | 'ended';

/** What one serving host did for a view (from its `requests` reports). Times in ms, throughput in bit/s. */
export interface HostRequests {
  /** the delivery network's name: X-CDN header, else the Content Steering pathway, else null */
  cdn: string | null;
  pathway: string | null;
  /** requests sent (retries included), of them media segments, and failed ones */
  count: number;
  segments: number;
  failures: number;
  bytes: number;
  /** mean and max time to first byte of the successful requests (Mux: Request Latency, Max Request Latency) */
  ttfb_mean_ms: number | null;
  ttfb_max_ms: number | null;
  /** Σ bits / Σ request time of the successful requests (Mux: Request Throughput) */
  throughput_bps: number | null;
}

export interface QoeSummary {
  view_id: string;
  content_id: string | null;
  channel: string | null;
  live: boolean;
  events: number;
  started_at: number | null;
  view_ms: number;
  play_ms: number;
  startup_ms: number | null;
  ttff_ms: number | null;
  exited_before_start: boolean;
  rebuffer_count: number;
  rebuffer_ms: number;
  rebuffer_ratio_pct: number;
  rebuffer_per_100s: number;
  bitrate_avg_bps: number | null;
  bitrate_last_bps: number | null;
  switch_count: number;
  switch_up: number;
  switch_down: number;
  switch_magnitude_mean_bps: number;
  latency_avg_s: number | null;
  latency_last_s: number | null;
  dropped_frames: number;
  total_frames: number;
  errors_fatal: number;
  errors_nonfatal: number;
  seek_count: number;
  seek_latency_mean_ms: number | null;
  interactions: Record<string, number>;
  channel_switch_latency_ms: number | null;
  ended: boolean;
  state: PlayState;
  device: string | null;
  page_load_ms: number | null;
  player_startup_ms: number | null;
  aggregate_startup_ms: number | null;
  watch_ms: number;
  rebuffer_percentage: number;
  rebuffer_per_min: number;
  /** a fatal error before the first frame (Mux: Video Startup Failure) */
  startup_failed: boolean;
  /** play requested → view end, for an exit before start */
  ebvs_ms: number | null;
  upscale_pct: number | null;
  downscale_pct: number | null;
  max_upscale_pct: number | null;
  max_downscale_pct: number | null;
  rendition_play_ms: Record<string, number>;
  requests: Record<string, HostRequests>;
  /** the delivery network and the host that delivered most bytes of this view */
  cdn: string | null;
  host: string | null;
  score_playback_success: number | null;
  score_startup: number | null;
  score_smoothness: number | null;
  score_video_quality: number | null;
  score_viewer_experience: number | null;
}

/** Time sums that grow with the state a view is in (kept apart so that `summary(now)` can add the tail). */
interface Sums {
  play: number;
  watch: number;
  bitrate: number;
  bitrateW: number;
  up: number;
  down: number;
  scaled: number;
  maxUp: number;
  maxDown: number;
  rend: Record<string, number>;
}

interface HostAcc {
  cdn: string | null;
  pathway: string | null;
  count: number;
  ok: number;
  segments: number;
  failures: number;
  bytes: number;
  busy: number;
  ttfbSum: number;
  ttfbMax: number | null;
}

/** a stored field's value when it is a finite number (stored events are checked only as flat records) */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class QoeAccumulator {
  private viewId = '';
  private contentId: string | null = null;
  private channel: string | null = null;
  private live = false;
  private n = 0;
  private start: number | null = null;
  private last: number | null = null;
  private state: PlayState = 'starting';
  private stateSince = 0;
  /** the viewer's intent (play pressed / paused), kept through seeks and stalls */
  private wantsPlay = false;
  /** level of the rendition now playing (switches are counted when it changes) */
  private level: number | null = null;
  private S: Sums = { play: 0, watch: 0, bitrate: 0, bitrateW: 0, up: 0, down: 0, scaled: 0, maxUp: -1, maxDown: -1, rend: {} };
  private bitrate: number | null = null;
  /** the rendition playing (rendition_play_ms key) and the scale factor the element shows it at (null: unknown) */
  private rend: string | null = null;
  private scale: number | null = null;
  private playAt: number | null = null;
  private device: string | null = null;
  private pageLoad: number | null = null;
  private playerStartup: number | null = null;
  private startupFailed = false;
  private endAt: number | null = null;
  private hosts = new Map<string, HostAcc>();
  private startup: number | null = null;
  private ttff: number | null = null;
  private rebufCount = 0;
  private rebufMs = 0;
  private rebufOpenAt: number | null = null;
  private up = 0;
  private down = 0;
  private magSum = 0;
  private latSum = 0;
  private latN = 0;
  private latLast: number | null = null;
  private dropped = 0;
  private frames = 0;
  private fatal = 0;
  private nonfatal = 0;
  private seeks = 0;
  private seekLatSum = 0;
  private seekLatN = 0;
  private interactions: Record<string, number> = {};
  private chSwitchLatency: number | null = null;
  private endedFlag = false;
  private closed = false;

  /** Events must be added in seq order (the server sorts; the SDK emits in order). */
  add(ev: TelemetryEvent): void {
    this.n++;
    if (!this.viewId) this.viewId = ev.view_id;
    const t = ev.t;
    if (this.start === null) {
      this.start = t;
      this.stateSince = t;
    }
    this.advance(t);
    const e = ev as TypedEvent;
    switch (e.type) {
      case 'viewstart':
        this.start = t;
        this.stateSince = t;
        this.contentId = str(e.data?.content_id);
        this.channel = str(e.data?.channel);
        this.live = e.data?.live === true;
        this.device = str(e.data?.device);
        this.pageLoad = num(e.data?.page_load_ms);
        break;
      case 'player_ready':
        this.playerStartup = num(e.data?.player_startup_ms);
        break;
      case 'player_resize': {
        const d = e.data;
        const w = num(d?.width),
          h = num(d?.height),
          vw = num(d?.video_width),
          vh = num(d?.video_height);
        const dpr = num(d?.dpr) ?? 1;
        // the factor the element scales the decoded picture by (letterboxed: the dimension that fits first)
        this.scale = w && h && vw && vh && dpr > 0 ? Math.min((w * dpr) / vw, (h * dpr) / vh) : null;
        break;
      }
      case 'requests': {
        const d = e.data;
        const host = str(d?.host);
        if (!host) break;
        let a = this.hosts.get(host);
        if (!a)
          this.hosts.set(
            host,
            (a = { cdn: null, pathway: null, count: 0, ok: 0, segments: 0, failures: 0, bytes: 0, busy: 0, ttfbSum: 0, ttfbMax: null }),
          );
        a.cdn = str(d?.cdn) ?? a.cdn;
        a.pathway = str(d?.pathway) ?? a.pathway;
        a.count += num(d?.count) ?? 0;
        a.ok += num(d?.ok) ?? 0;
        a.segments += num(d?.segments) ?? 0;
        a.failures += num(d?.failures) ?? 0;
        a.bytes += num(d?.bytes) ?? 0;
        a.busy += num(d?.busy_ms) ?? 0;
        a.ttfbSum += num(d?.ttfb_sum_ms) ?? 0;
        const mx = num(d?.ttfb_max_ms);
        if (mx !== null && (num(d?.ok) ?? 0) > 0) a.ttfbMax = Math.max(a.ttfbMax ?? mx, mx);
        break;
      }
      case 'startup':
        this.startup = num(e.data?.startup_ms);
        this.ttff = num(e.data?.ttff_ms);
        this.wantsPlay = true;
        this.enter('playing', t);
        break;
      case 'pause':
        this.wantsPlay = false;
        if (this.state === 'rebuffering') this.closeRebuffer(t, null);
        // a pause during a seek takes effect when the seek ends
        if (this.state !== 'seeking') this.enter(this.startup === null ? 'starting' : 'paused', t);
        break;
      case 'resume':
      case 'play':
        if (this.playAt === null) this.playAt = t;
        if (this.startup === null) break;
        this.wantsPlay = true;
        // play pressed during a seek takes effect when the seek ends; after the end, playback restarts
        if (this.state === 'paused' || this.state === 'ended') this.enter('playing', t);
        break;
      case 'rebuffer_start':
        if (this.state !== 'rebuffering') {
          // a stall that continues after a pause interrupted it is the same stall (counted once)
          if (e.data?.continued !== true) this.rebufCount++;
          this.rebufOpenAt = t;
          this.enter('rebuffering', t);
        }
        break;
      case 'rebuffer_end':
        this.closeRebuffer(t, num(e.data?.duration_ms));
        this.enter(this.settled(), t);
        break;
      case 'seek_start':
        if (this.state === 'rebuffering') this.closeRebuffer(t, null);
        this.seeks++;
        this.enter('seeking', t);
        break;
      case 'seek_end': {
        const l = num(e.data?.latency_ms);
        if (l !== null) {
          this.seekLatSum += l;
          this.seekLatN++;
        }
        if (this.state === 'seeking') this.enter(this.settled(), t);
        break;
      }
      case 'bitrate': {
        // a switch is a change of the rendition playing; a new estimate for the same rendition (its bitrate
        // measured from its fragments when the playlist declares none) only updates the value
        const b = num(e.data?.bitrate);
        const level = num(e.data?.level);
        const prev = this.bitrate ?? num(e.data?.prev_bitrate);
        const switched = level !== null && this.level !== null ? level !== this.level : b !== null && prev !== null && prev !== b;
        if (switched) {
          const known = b !== null && prev !== null && b !== prev;
          const dir = known ? Math.sign(b - prev) : level !== null && this.level !== null ? Math.sign(level - this.level) : 0;
          if (dir > 0) this.up++;
          else if (dir < 0) this.down++;
          if (known) this.magSum += Math.abs(b - prev);
        }
        if (level !== null) this.level = level;
        this.bitrate = b; // null: this rendition's bitrate is unknown (its time is left out of the average)
        const hgt = num(e.data?.height);
        this.rend = hgt && b ? `${hgt}p@${Math.round(b / 1000)}k` : this.level !== null ? `level ${this.level}` : null;
        break;
      }
      case 'heartbeat': {
        if (e.data?.live === true) this.live = true;
        const lat = num(e.data?.latency_s);
        if (lat !== null) {
          this.latSum += lat;
          this.latN++;
          this.latLast = lat;
        }
        const dr = num(e.data?.dropped);
        const fr = num(e.data?.frames);
        if (dr !== null) this.dropped = dr;
        if (fr !== null) this.frames = fr;
        break;
      }
      case 'error':
        if (e.data?.fatal === true) {
          this.fatal++;
          if (this.startup === null) this.startupFailed = true;
        } else this.nonfatal++;
        break;
      case 'interaction': {
        const k = str(e.data?.kind) ?? 'other';
        this.interactions[k] = (this.interactions[k] ?? 0) + 1;
        break;
      }
      case 'channel_switch':
        this.chSwitchLatency = num(e.data?.latency_ms);
        break;
      case 'ended':
        this.endedFlag = true;
        this.wantsPlay = false; // the element pauses at the end
        this.enter('ended', t);
        break;
      case 'viewend': {
        this.closed = true;
        this.endAt = t;
        const dr = num(e.data?.dropped);
        const fr = num(e.data?.frames);
        if (dr !== null) this.dropped = dr;
        if (fr !== null) this.frames = fr;
        if (this.state === 'rebuffering') this.closeRebuffer(t, null);
        break;
      }
      default:
        break;
    }
  }

  /** a stall's time is added when it closes; the stall was counted when it started */
  private closeRebuffer(t: number, reported: number | null): void {
    if (this.rebufOpenAt === null) return;
    this.rebufMs += reported ?? t - this.rebufOpenAt;
    this.rebufOpenAt = null;
  }

  /** the state a view returns to after a seek or a stall: what the viewer wants, once it has started */
  private settled(): PlayState {
    return this.startup === null ? 'starting' : this.wantsPlay ? 'playing' : 'paused';
  }

  private advance(t: number): void {
    if (this.last !== null && t < this.last) t = this.last; // clock went backwards: never negative time
    this.last = t;
    const dt = t - this.stateSince;
    if (dt > 0) this.accrue(this.S, dt);
    this.stateSince = t;
  }

  /** Add `dt` ms spent in the current state to the time sums `S`. */
  private accrue(S: Sums, dt: number): void {
    const st = this.state;
    if (st === 'rebuffering' || st === 'seeking' || st === 'playing' || (st === 'starting' && this.playAt !== null)) S.watch += dt;
    if (st !== 'playing') return;
    S.play += dt;
    if (this.bitrate !== null) {
      S.bitrate += this.bitrate * dt;
      S.bitrateW += dt;
    }
    if (this.rend) S.rend[this.rend] = (S.rend[this.rend] ?? 0) + dt;
    if (this.scale !== null) {
      const up = Math.max(0, this.scale - 1),
        down = Math.max(0, 1 - this.scale);
      S.up += up * dt;
      S.down += down * dt;
      S.scaled += dt;
      S.maxUp = Math.max(S.maxUp, up);
      S.maxDown = Math.max(S.maxDown, down);
    }
  }

  private enter(s: PlayState, t: number): void {
    this.stateSince = t;
    this.state = s;
  }

  /** Summary as of the last event, or as of `now` (ms) for a live view. */
  summary(now?: number): QoeSummary {
    const S: Sums = { ...this.S, rend: { ...this.S.rend } };
    let rebufMs = this.rebufMs;
    const rebufCount = this.rebufCount;
    const end = Math.max(now ?? this.last ?? 0, this.last ?? 0);
    const tail = end - this.stateSince;
    if (tail > 0) this.accrue(S, tail);
    if (this.state === 'rebuffering' && this.rebufOpenAt !== null) rebufMs += end - this.rebufOpenAt;
    const viewMs = this.start === null ? 0 : Math.max(0, end - this.start);
    const switches = this.up + this.down;
    const pct = (x: number) => (S.scaled > 0 ? (100 * x) / S.scaled : null);
    const requests: Record<string, HostRequests> = {};
    let top: [string, HostAcc] | null = null;
    for (const [host, a] of this.hosts) {
      requests[host] = {
        cdn: a.cdn,
        pathway: a.pathway,
        count: a.count,
        segments: a.segments,
        failures: a.failures,
        bytes: a.bytes,
        ttfb_mean_ms: a.ok > 0 ? a.ttfbSum / a.ok : null,
        ttfb_max_ms: a.ttfbMax,
        throughput_bps: a.busy > 0 ? (a.bytes * 8000) / a.busy : null,
      };
      if (!top || a.bytes > top[1].bytes) top = [host, a];
    }
    const started = this.startup !== null;
    const ebvs = !started && this.closed && this.playAt !== null && this.endAt !== null ? this.endAt - this.playAt : null;
    const rebufFrac = S.watch > 0 ? rebufMs / S.watch : 0;
    const success = playbackSuccessScore({ failed: this.fatal > 0, started, ended: this.closed, ebvsMs: ebvs });
    const scoreStartup = this.startup !== null ? startupTimeScore(this.startup) : null;
    const scoreSmooth = started ? smoothnessScore(rebufCount, rebufFrac) : null;
    const scoreQuality = started && S.scaled > 0 ? videoQualityScore(S.maxUp, S.up / S.scaled) : null;
    const agg = this.pageLoad !== null && this.playerStartup !== null && this.startup !== null;
    return {
      view_id: this.viewId,
      content_id: this.contentId,
      channel: this.channel,
      live: this.live,
      events: this.n,
      started_at: this.start,
      view_ms: viewMs,
      play_ms: S.play,
      startup_ms: this.startup,
      ttff_ms: this.ttff,
      exited_before_start: this.startup === null && this.closed,
      rebuffer_count: rebufCount,
      rebuffer_ms: rebufMs,
      rebuffer_ratio_pct: viewMs > 0 ? (100 * rebufMs) / viewMs : 0,
      rebuffer_per_100s: viewMs > 0 ? (rebufCount * 100000) / viewMs : 0,
      bitrate_avg_bps: S.bitrateW > 0 ? S.bitrate / S.bitrateW : this.bitrate,
      bitrate_last_bps: this.bitrate,
      switch_count: switches,
      switch_up: this.up,
      switch_down: this.down,
      switch_magnitude_mean_bps: switches > 0 ? this.magSum / switches : 0,
      latency_avg_s: this.latN > 0 ? this.latSum / this.latN : null,
      latency_last_s: this.latLast,
      dropped_frames: this.dropped,
      total_frames: this.frames,
      errors_fatal: this.fatal,
      errors_nonfatal: this.nonfatal,
      seek_count: this.seeks,
      seek_latency_mean_ms: this.seekLatN > 0 ? this.seekLatSum / this.seekLatN : null,
      interactions: { ...this.interactions },
      channel_switch_latency_ms: this.chSwitchLatency,
      ended: this.endedFlag,
      state: this.state,
      device: this.device,
      page_load_ms: this.pageLoad,
      player_startup_ms: this.playerStartup,
      aggregate_startup_ms: agg ? this.pageLoad! + this.playerStartup! + this.startup! : null,
      watch_ms: S.watch,
      rebuffer_percentage: 100 * rebufFrac,
      rebuffer_per_min: S.watch > 0 ? (rebufCount * 60000) / S.watch : 0,
      startup_failed: this.startupFailed,
      ebvs_ms: ebvs,
      upscale_pct: pct(S.up),
      downscale_pct: pct(S.down),
      max_upscale_pct: S.scaled > 0 ? 100 * S.maxUp : null,
      max_downscale_pct: S.scaled > 0 ? 100 * S.maxDown : null,
      rendition_play_ms: S.rend,
      requests,
      cdn: top ? (top[1].cdn ?? top[0]) : null,
      host: top ? top[0] : null,
      score_playback_success: success,
      score_startup: scoreStartup,
      score_smoothness: scoreSmooth,
      score_video_quality: scoreQuality,
      score_viewer_experience: viewerExperienceScore({
        playbackSuccess: success,
        startup: scoreStartup,
        smoothness: scoreSmooth,
        quality: scoreQuality,
      }),
    };
  }
}

export function summarizeView(events: TelemetryEvent[], now?: number): QoeSummary {
  const acc = new QoeAccumulator();
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) acc.add(e);
  return acc.summary(now);
}
