/**
 * One view: a playback of one piece of content (or one live channel) in one <video> with one Hls.
 * Listens to the media element and hls.js, turns what happens into telemetry events, and keeps a
 * local QoE accumulator (the same code the server uses) for the dashboard and `summary()`.
 *
 * Beyond playback state it reports (Mux Data's metric list, see README): the startup breakdown (page load from
 * Navigation Timing, player startup to hls.js ready), the element's displayed size against the decoded video's
 * (up/downscaling) and, per serving host, the requests hls.js made with its own load stats (`requests` events,
 * one per host and heartbeat: what a controller sums per CDN).
 */
import type Hls from 'hls.js';
import type {
  ErrorData,
  FragLoadedData,
  FragLoadingData,
  Fragment,
  LevelLoadedData,
  LevelSwitchedData,
  LoaderStats,
  ManifestLoadedData,
  TrackLoadedData,
} from 'hls.js';
import { randomId } from '../core/ids.js';
import { VERSION } from '../core/version.js';
import { sanitizeData, type EventDataMap, type EventType, type TelemetryEvent } from '../core/protocol.js';
import { QoeAccumulator, type QoeSummary } from '../core/qoe.js';
import { deviceClass } from './device.js';

export interface ViewInfo {
  contentId?: string;
  channel?: string;
  title?: string;
  /** the device class ('desktop' | 'mobile' | 'tv' | 'headset' | 'other'); default: guessed from the user agent */
  device?: string;
}

/** One serving host's requests since the last `requests` report (times in ms). */
interface HostTally {
  cdn: string | null;
  pathway: string | null;
  count: number;
  ok: number;
  segments: number;
  failures: number;
  bytes: number;
  busy: number;
  ttfbSum: number;
  ttfbMax: number;
}

export interface ViewHost {
  emit(e: TelemetryEvent): void;
  heartbeatMs: number;
}

export interface PendingSwitch {
  from: string | null;
  to: string;
  at: number; // epoch ms of the switchChannel() call
  index: number;
}

type AnyHls = Hls & { latency?: number; bandwidthEstimate?: number };

/** Epoch milliseconds with sub-ms precision on a monotonic base. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export class View {
  readonly id: string;
  readonly info: ViewInfo;
  private seq = 0;
  private acc = new QoeAccumulator();
  private startedAt: number;
  private playRequestedAt: number | null = null;
  private firstFrameAt: number | null = null;
  private rebufferAt: number | null = null;
  private seekAt: number | null = null;
  private seekFrom = 0;
  private paused = true;
  private ended = false;
  private closed = false;
  private hb: ReturnType<typeof setInterval> | null = null;
  private bitrate: number | null = null;
  /** level now playing, and per level the bits and seconds of its loaded fragments (for levels that declare no bitrate) */
  private level: number | null = null;
  private measured = new Map<number, { bits: number; s: number }>();
  /** a pause interrupted a stall: if the stall goes on after the resume, it is the same stall */
  private stallInterrupted = false;
  /** a jump the player made by itself is in progress (not a viewer's seek) */
  private playerJump = false;
  /** the element reached its end and has not played since (play() restarts it from the start) */
  private atEnd = false;
  /** when hls.js last said it moved the playhead itself (skipping a buffer hole, nudging a stall), ms */
  private hlsMovedAt = -Infinity;
  private live = false;
  private lastThroughput: number | null = null;
  /** the Content Steering pathway of the last main fragment loaded (null: none yet, or the playlist has no steering) */
  private pathway: string | null = null;
  private listeners: Array<() => void> = [];
  /** requests per serving host since the last report, and when that report was */
  private tally = new Map<string, HostTally>();
  private tallySince: number;
  /** init segments hls.js is loading: it emits FRAG_LOADING for them but no FRAG_LOADED (1.7); counted once they hold data */
  private initLoads = new Set<Fragment>();
  /** the last reported player size (`player_resize` is sent when it changes) */
  private sizeKey = '';
  readonly pendingSwitch: PendingSwitch | null;

  constructor(
    private hls: AnyHls,
    private video: HTMLVideoElement,
    info: ViewInfo,
    private host: ViewHost,
    pendingSwitch: PendingSwitch | null = null,
    startedAt = nowMs(),
    /**
     * `id`: the view id (default: a new one); `cmcdContentId`: the content id CMCD carries, when it differs from
     * `info.contentId`; `initAt`: when the SDK was created (epoch ms), given to the first view of an SDK instance
     * only — that view reports the page load and the player startup time (Mux measures them once per page)
     */
    opts: { id?: string; cmcdContentId?: string | null; initAt?: number | null } = {},
  ) {
    this.id = opts.id ?? randomId();
    this.info = info;
    this.pendingSwitch = pendingSwitch;
    this.startedAt = startedAt;
    this.tallySince = startedAt;
    const HlsCtor = hls.constructor as typeof Hls;
    const initAt = opts.initAt ?? null;
    this.emit(
      'viewstart',
      {
        content_id: info.contentId ?? null,
        channel: info.channel ?? null,
        title: info.title ?? null,
        url: typeof location !== 'undefined' ? location.origin + location.pathname : null,
        sdk: VERSION,
        hls: HlsCtor.version ?? null,
        ...(opts.cmcdContentId ? { cmcd_cid: opts.cmcdContentId } : {}),
        device: info.device ?? deviceClass(),
        ...(initAt !== null && pageLoadMs(initAt) !== null ? { page_load_ms: pageLoadMs(initAt)! } : {}),
      },
      startedAt,
    );
    this.listenMedia();
    this.listenHls(HlsCtor);
    if (initAt !== null) this.watchReady(HlsCtor, initAt);
    this.checkSize();
    if (typeof ResizeObserver === 'function') {
      const ro = new ResizeObserver(() => this.checkSize());
      ro.observe(video);
      this.listeners.push(() => ro.disconnect());
    }
    if (typeof addEventListener === 'function') {
      // a devicePixelRatio change (zoom, another screen) fires the window's resize
      addEventListener('resize', this.checkSize);
      this.listeners.push(() => removeEventListener('resize', this.checkSize));
    }
    if (!video.paused) this.onPlay();
    this.hb = setInterval(() => this.heartbeat(), host.heartbeatMs);
  }

  /** Report the element's displayed size, the device pixel ratio and the decoded video's size when any changed. */
  private checkSize = (): void => {
    const v = this.video;
    const d = {
      width: v.clientWidth,
      height: v.clientHeight,
      dpr: round3(typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1),
      video_width: v.videoWidth,
      video_height: v.videoHeight,
    };
    const k = Object.values(d).join(',');
    if (k === this.sizeKey) return;
    this.sizeKey = k;
    this.emit('player_resize', d);
  };

  /** Player ready = hls.js has the media attached and the manifest parsed (it can take `play()`); timed from the SDK's creation. */
  private watchReady(HlsCtor: typeof Hls, initAt: number): void {
    const E = HlsCtor.Events;
    let attached = !!this.hls.media;
    let parsed = (this.hls.levels?.length ?? 0) > 0;
    const off = () => {
      this.hls.off(E.MEDIA_ATTACHED, onAttached);
      this.hls.off(E.MANIFEST_PARSED, onParsed);
    };
    const check = () => {
      if (!attached || !parsed) return;
      off();
      this.emit('player_ready', { player_startup_ms: Math.round(nowMs() - initAt) });
    };
    const onAttached = () => ((attached = true), check());
    const onParsed = () => ((parsed = true), check());
    this.hls.on(E.MEDIA_ATTACHED, onAttached);
    this.hls.on(E.MANIFEST_PARSED, onParsed);
    this.listeners.push(off);
    check();
  }

  /**
   * Count one request hls.js made (or, `failed`, one it gave up on), under the host of its URL, from hls.js' load stats:
   * retries inside the loader (`stats.retry`) are requests that failed; a successful one adds its bytes, its time to
   * first byte (loading.first − loading.start) and its duration (loading.end − loading.start).
   */
  private countRequest(
    url: string | undefined,
    stats: LoaderStats | undefined,
    net: unknown,
    pathway: string | undefined,
    seg: boolean,
    failed: boolean,
  ): void {
    let host: string;
    try {
      host = new URL(url ?? '', typeof location !== 'undefined' ? location.href : undefined).host;
    } catch {
      return;
    }
    if (!host) return;
    let t = this.tally.get(host);
    if (!t)
      this.tally.set(
        host,
        (t = { cdn: null, pathway: null, count: 0, ok: 0, segments: 0, failures: 0, bytes: 0, busy: 0, ttfbSum: 0, ttfbMax: 0 }),
      );
    const retries = stats?.retry ?? 0;
    t.count += 1 + retries;
    t.failures += retries + (failed ? 1 : 0);
    if (seg) t.segments += 1 + retries;
    if (pathway && pathway !== '.') t.pathway = pathway;
    t.cdn = cdnHeader(net) ?? t.cdn;
    if (failed || !stats) return;
    const L = stats.loading;
    t.ok++;
    t.bytes += stats.loaded;
    t.busy += Math.max(0, L.end - L.start);
    const ttfb = Math.max(0, L.first - L.start);
    t.ttfbSum += ttfb;
    t.ttfbMax = Math.max(t.ttfbMax, ttfb);
  }

  /** Count the init segments whose load completed (hls.js set their data) since the last look. */
  private settleInits(): void {
    for (const f of this.initLoads) {
      if (!f.data) continue;
      this.initLoads.delete(f);
      this.countRequest(f.url, f.stats, null, this.hls.levels?.[f.level]?.pathwayId, false, false);
    }
  }

  /** Send one `requests` event per host that had requests since the last report. */
  private reportRequests(): void {
    this.settleInits();
    const now = nowMs();
    for (const [host, t] of this.tally) {
      if (!t.count) continue;
      this.emit('requests', {
        host,
        cdn: t.cdn ?? t.pathway,
        pathway: t.pathway,
        count: t.count,
        ok: t.ok,
        segments: t.segments,
        failures: t.failures,
        bytes: t.bytes,
        busy_ms: round3(t.busy),
        ttfb_sum_ms: round3(t.ttfbSum),
        ttfb_max_ms: round3(t.ttfbMax),
        interval_ms: Math.round(now - this.tallySince),
      });
    }
    this.tally.clear();
    this.tallySince = now;
  }

  private emit<K extends EventType>(type: K, data?: EventDataMap[K], t = nowMs()): void {
    if (this.closed) return;
    const e: TelemetryEvent = { view_id: this.id, seq: this.seq++, t: Math.round(t * 1000) / 1000, type };
    if (data) e.data = sanitizeData(data);
    // the serving pathway goes with the events the controller's per-CDN QoE is made of (server/cdns.ts)
    if (this.pathway && (type === 'heartbeat' || type === 'startup' || type === 'rebuffer_start' || type === 'rebuffer_end'))
      e.data = { ...(e.data ?? {}), pathway: this.pathway };
    this.acc.add(e);
    this.host.emit(e);
  }

  private on<K extends keyof HTMLMediaElementEventMap>(type: K, fn: () => void): void {
    this.video.addEventListener(type, fn);
    this.listeners.push(() => this.video.removeEventListener(type, fn));
  }

  private listenMedia(): void {
    this.on('resize', this.checkSize); // the decoded video's size changed (a new rendition's first frame)
    this.on('loadedmetadata', this.checkSize);
    this.on('play', () => this.onPlay());
    this.on('playing', () => this.onPlaying());
    this.on('waiting', () => {
      if (this.firstFrameAt === null || this.video.seeking || this.seekAt !== null || this.rebufferAt !== null) return;
      this.rebufferAt = nowMs();
      const continued = this.stallInterrupted;
      this.stallInterrupted = false;
      this.emit('rebuffer_start', { playhead: round3(this.video.currentTime), ...(continued ? { continued } : {}) }, this.rebufferAt);
    });
    this.on('pause', () => {
      if (this.video.ended) return;
      if (this.rebufferAt !== null) this.stallInterrupted = true;
      this.endRebuffer();
      this.paused = true;
      if (this.firstFrameAt !== null) this.emit('pause', { playhead: round3(this.video.currentTime) });
    });
    this.on('seeking', () => {
      if (this.firstFrameAt === null) return;
      this.stallInterrupted = false;
      if (this.seekAt === null && this.isPlayerJump(this.seekFrom, this.video.currentTime)) {
        this.playerJump = true; // not a seek: nothing to time or count
        return;
      }
      this.playerJump = false;
      this.endRebuffer();
      if (this.seekAt === null) {
        this.seekAt = nowMs();
        this.emit('seek_start', { from: round3(this.seekFrom) }, this.seekAt);
      }
    });
    this.on('seeked', () => {
      this.playerJump = false;
      if (this.seekAt === null) return;
      // seek latency: seeking -> media can play again (seeked, then playing if not paused)
      const done = () => {
        if (this.seekAt === null) return;
        const t = nowMs();
        this.emit('seek_end', { to: round3(this.video.currentTime), latency_ms: Math.round(t - this.seekAt) }, t);
        this.seekAt = null;
      };
      if (this.video.paused || this.video.readyState >= 3) done();
      else this.video.addEventListener('playing', done, { once: true });
    });
    this.on('timeupdate', () => {
      if (!this.video.seeking) this.seekFrom = this.video.currentTime;
    });
    this.on('ended', () => {
      this.endRebuffer();
      this.ended = true;
      this.atEnd = true;
      this.paused = true; // the element pauses at the end: play() restarts it (a 'resume')
      this.emit('ended');
    });
    this.on('error', () => {
      const err = this.video.error;
      this.emit('error', {
        fatal: true,
        type: 'media',
        details: err ? `MEDIA_ERR_${err.code}` : 'unknown',
        message: err?.message?.slice(0, 200) ?? null,
      });
    });
  }

  private listenHls(HlsCtor: typeof Hls): void {
    const E = HlsCtor.Events;
    const onSwitched = (_: unknown, d: LevelSwitchedData) => {
      const lvl = this.hls.levels[d.level];
      if (!lvl) return;
      const prev = this.bitrate;
      this.level = d.level;
      // AVERAGE-BANDWIDTH when the playlist has it (what the viewer actually gets), else BANDWIDTH; a level with
      // neither (a media playlist as the source) has the bitrate measured from its fragments, unknown until then
      const declared = lvl.averageBitrate || lvl.bitrate;
      this.bitrate = declared > 0 ? declared : this.measuredBitrate(d.level);
      this.emit('bitrate', {
        bitrate: this.bitrate,
        peak_bitrate: (lvl.maxBitrate || lvl.bitrate) > 0 ? lvl.maxBitrate || lvl.bitrate : null,
        prev_bitrate: prev,
        level: d.level,
        width: lvl.width || null,
        height: lvl.height || null,
        ...(declared > 0 ? {} : { measured: true }),
      });
    };
    const onError = (_: unknown, d: ErrorData) => {
      // a request hls.js gave up on (its loader's own retries are in the stats)
      if (d.type === 'networkError' && /LoadError|LoadTimeOut|TimeOut$/.test(String(d.details))) {
        const url = d.url ?? d.part?.url ?? d.frag?.url ?? d.context?.url;
        const f = d.frag;
        if (f) this.initLoads.delete(f);
        this.countRequest(
          url,
          d.stats ?? (d.part ?? f)?.stats,
          d.networkDetails,
          f ? this.hls.levels?.[f.level]?.pathwayId : undefined,
          !!f && f.sn !== 'initSegment',
          true,
        );
      }
      // hls.js moved the playhead itself: the seek that follows is not the viewer's
      if (!d.fatal && (d.details === E_SEEK_OVER_HOLE || d.details === E_NUDGE)) this.hlsMovedAt = nowMs();
      this.emit('error', { fatal: !!d.fatal, type: String(d.type), details: String(d.details) });
    };
    const onFragLoading = (_: unknown, d: FragLoadingData) => {
      if (d.frag.sn === 'initSegment') this.initLoads.add(d.frag);
    };
    const onFrag = (_: unknown, d: FragLoadedData) => {
      const f = d.frag;
      const s = f.stats;
      const unit = d.part ?? f;
      this.initLoads.delete(f); // an hls.js that does emit FRAG_LOADED for an init segment: counted here, once
      this.settleInits();
      this.countRequest(unit.url, unit.stats, d.networkDetails, this.hls.levels?.[f.level]?.pathwayId, f.sn !== 'initSegment', false);
      const ms = s.loading.end - s.loading.start;
      if (ms > 0 && s.loaded > 0) this.lastThroughput = (s.loaded * 8000) / ms;
      const lvl = this.hls.levels[f.level];
      // hls.js names a level's pathway '.' when the playlist has no Content Steering
      if (f.type === 'main' && lvl && lvl.pathwayId && lvl.pathwayId !== '.') this.pathway = lvl.pathwayId.slice(0, 128);
      if (f.type !== 'main' || f.bitrateTest || !lvl || (lvl.averageBitrate || lvl.bitrate) > 0 || !(f.duration > 0)) return;
      // no declared bitrate: EXT-X-BITRATE (or a byte range's size) when hls.js has it, else bytes × 8 / duration
      const bps = f.bitrate ?? (s.loaded > 0 ? (s.loaded * 8) / f.duration : null);
      if (!(bps && bps > 0)) return;
      const m = this.measured.get(f.level) ?? { bits: 0, s: 0 };
      m.bits += bps * f.duration;
      m.s += f.duration;
      this.measured.set(f.level, m);
      // the level playing now gets its measured bitrate: once, then when it moves by more than 10 %
      if (f.level === this.level) {
        const now = m.bits / m.s;
        if (this.bitrate === null || Math.abs(now - this.bitrate) > 0.1 * this.bitrate) {
          const prev = this.bitrate;
          this.bitrate = Math.round(now);
          this.emit('bitrate', {
            bitrate: this.bitrate,
            peak_bitrate: null,
            prev_bitrate: prev,
            level: f.level,
            width: lvl.width || null,
            height: lvl.height || null,
            measured: true,
          });
        }
      }
    };
    const onLevelLoaded = (_: unknown, d: LevelLoadedData) => {
      this.live = !!d.details?.live;
      // a media playlist given as the source was counted as the manifest request (the same response)
      if (!d.withoutMultiVariant)
        this.countRequest(d.details?.url, d.stats, d.networkDetails, this.hls.levels?.[d.level]?.pathwayId, false, false);
    };
    const onManifest = (_: unknown, d: ManifestLoadedData) => this.countRequest(d.url, d.stats, d.networkDetails, undefined, false, false);
    const onTrack = (_: unknown, d: TrackLoadedData) =>
      this.countRequest(d.details?.url, d.stats, d.networkDetails, undefined, false, false);
    const on = [
      [E.LEVEL_SWITCHED, onSwitched],
      [E.ERROR, onError],
      [E.FRAG_LOADING, onFragLoading],
      [E.FRAG_LOADED, onFrag],
      [E.LEVEL_LOADED, onLevelLoaded],
      [E.MANIFEST_LOADED, onManifest],
      [E.AUDIO_TRACK_LOADED, onTrack],
      [E.SUBTITLE_TRACK_LOADED, onTrack],
    ] as const;
    for (const [ev, fn] of on) this.hls.on(ev, fn as never);
    this.listeners.push(() => {
      for (const [ev, fn] of on) this.hls.off(ev, fn as never);
    });
  }

  /**
   * Whether a jump of the playhead from `from` to `to` (s) is the player's own rather than the viewer's:
   * a loop wrapping around (`video.loop`), the restart when play() follows the end, hls.js moving the
   * playhead itself (skipping a buffer hole or nudging a stall — it reports both as non-fatal errors — or
   * a small step forward into buffered media), or hls.js jumping back to the live edge of a live stream.
   */
  private isPlayerJump(from: number, to: number): boolean {
    const v = this.video;
    const d = v.duration;
    if (to < 1 && ((v.loop && Number.isFinite(d) && from > d - 1.5) || this.atEnd)) return true;
    if (to <= from) return false;
    if (nowMs() - this.hlsMovedAt < 2000) return true;
    if (to - from < 1) {
      for (let i = 0; i < v.buffered.length; i++)
        if (v.buffered.start(i) >= from - 0.05 && Math.abs(v.buffered.start(i) - to) < 0.25) return true;
    }
    const sync = (this.hls as AnyHls & { liveSyncPosition?: number | null }).liveSyncPosition;
    return this.live && typeof sync === 'number' && Number.isFinite(sync) && Math.abs(to - sync) < 1;
  }

  /** the measured bitrate of a level's loaded fragments (bit/s), null before any */
  private measuredBitrate(level: number): number | null {
    const m = this.measured.get(level);
    return m && m.s > 0 ? Math.round(m.bits / m.s) : null;
  }

  private onPlay(): void {
    const t = nowMs();
    if (this.playRequestedAt === null) this.playRequestedAt = t;
    if (this.firstFrameAt !== null && this.paused) this.emit('resume', undefined, t);
    else if (this.firstFrameAt === null) this.emit('play', undefined, t);
    this.paused = false;
  }

  private onPlaying(): void {
    this.paused = false;
    this.stallInterrupted = false;
    this.atEnd = false;
    if (this.firstFrameAt === null) {
      const mark = (t: number) => {
        if (this.firstFrameAt !== null || this.closed) return;
        this.firstFrameAt = t;
        const from = Math.max(this.startedAt, this.playRequestedAt ?? this.startedAt);
        this.emit('startup', { startup_ms: Math.round(t - from), ttff_ms: Math.round(t - this.startedAt) }, t);
        if (this.pendingSwitch) {
          const ps = this.pendingSwitch;
          this.emit('channel_switch', { from: ps.from, to: ps.to, latency_ms: Math.round(t - ps.at), switch_index: ps.index }, t);
        }
      };
      const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: (now: number) => void) => number };
      if (typeof v.requestVideoFrameCallback === 'function') {
        // the first frame actually presented after playback starts
        const playingAt = nowMs();
        v.requestVideoFrameCallback((now) => mark(performance.timeOrigin + now));
        setTimeout(() => mark(playingAt), 1000); // no frame callback (hidden tab): fall back to `playing`
      } else {
        mark(nowMs());
      }
      return;
    }
    this.endRebuffer();
  }

  private endRebuffer(): void {
    if (this.rebufferAt === null) return;
    const t = nowMs();
    this.emit('rebuffer_end', { duration_ms: Math.round(t - this.rebufferAt) }, t);
    this.rebufferAt = null;
  }

  /** Current playback sample: what heartbeats and dashboards show. */
  sample() {
    const v = this.video;
    let buffer = 0;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) >= v.currentTime) buffer = v.buffered.end(i) - v.currentTime;
    }
    const q = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : null;
    const lat = this.live && typeof this.hls.latency === 'number' && this.hls.latency > 0 ? this.hls.latency : null;
    return {
      playhead: round3(v.currentTime),
      buffer_s: round3(buffer),
      bitrate: this.bitrate,
      bw_estimate:
        typeof this.hls.bandwidthEstimate === 'number' && Number.isFinite(this.hls.bandwidthEstimate)
          ? Math.round(this.hls.bandwidthEstimate)
          : null,
      throughput: this.lastThroughput === null ? null : Math.round(this.lastThroughput),
      latency_s: lat === null ? null : round3(lat),
      dropped: q ? q.droppedVideoFrames : null,
      frames: q ? q.totalVideoFrames : null,
      live: this.live,
    };
  }

  private heartbeat(): void {
    if (this.closed) return;
    this.checkSize();
    this.reportRequests();
    const s = this.sample();
    this.emit('heartbeat', {
      playhead: s.playhead,
      buffer_s: s.buffer_s,
      bitrate: s.bitrate,
      bw_estimate: s.bw_estimate,
      latency_s: s.latency_s,
      dropped: s.dropped,
      frames: s.frames,
      live: s.live,
      state: this.acc.summary().state,
    });
  }

  recordInteraction(kind: string, data?: Record<string, unknown>): void {
    this.emit('interaction', { ...(data ?? {}), kind: kind.slice(0, 64) });
  }

  recordViewport(data: EventDataMap['viewport']): void {
    this.emit('viewport', data);
  }

  /** Emit a `deployment` event (Edgeplay.recordDeployment validates and shapes it). */
  recordDeployment(data: EventDataMap['deployment']): void {
    this.emit('deployment', data);
  }

  recordCustom(name: string, data?: Record<string, unknown>): void {
    this.emit('custom', { ...(data ?? {}), name: name.slice(0, 64) });
  }

  summary(): QoeSummary {
    return this.acc.summary(nowMs());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get hasStarted(): boolean {
    return this.firstFrameAt !== null;
  }

  /** End the view (idempotent). */
  end(reason: string): void {
    if (this.closed) return;
    this.endRebuffer();
    if (this.seekAt !== null) this.seekAt = null;
    this.reportRequests();
    const q = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : null;
    this.emit('viewend', {
      reason,
      dropped: q?.droppedVideoFrames ?? null,
      frames: q?.totalVideoFrames ?? null,
      started: this.firstFrameAt !== null,
      ended: this.ended,
    });
    this.closed = true;
    if (this.hb) clearInterval(this.hb);
    for (const off of this.listeners) off();
    this.listeners = [];
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Mux's Page Load Time from Navigation Timing: the page's navigation start (the navigation entry's startTime on the
 * performance timeline, 0) → `initAt` (epoch ms, the SDK's creation). Null without a navigation entry (a worker, an
 * old browser).
 */
function pageLoadMs(initAt: number): number | null {
  if (typeof performance === 'undefined' || typeof performance.getEntriesByType !== 'function') return null;
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav) return null;
  const ms = initAt - performance.timeOrigin - nav.startTime;
  return ms >= 0 ? Math.round(ms) : null;
}

/** The X-CDN response header (Mux's convention for naming the CDN that served a request) when the server exposes it. */
function cdnHeader(net: unknown): string | null {
  try {
    const n = net as { getAllResponseHeaders?: () => string; headers?: { get(k: string): string | null } } | null;
    // getAllResponseHeaders lists only the headers CORS exposes (getResponseHeader would log an error for the others)
    const all = n?.getAllResponseHeaders?.();
    const v = all ? /^x-cdn:[ \t]*(.*?)[ \t]*$/im.exec(all)?.[1] : n?.headers?.get?.('x-cdn');
    return v ? v.slice(0, 64) : null;
  } catch {
    return null;
  }
}
/** hls.js ErrorDetails values of its own playhead moves (string values, so hls.js stays a type-only import) */
const E_SEEK_OVER_HOLE = 'bufferSeekOverHole';
const E_NUDGE = 'bufferNudgeOnStall';
