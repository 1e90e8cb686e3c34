/**
 * One view: a playback of one piece of content (or one live channel) in one <video> with one Hls.
 * Listens to the media element and hls.js, turns what happens into telemetry events, and keeps a
 * local QoE accumulator (the same code the server uses) for the dashboard and `summary()`.
 */
import type Hls from 'hls.js';
import type { ErrorData, FragLoadedData, LevelSwitchedData } from 'hls.js';
import { randomId } from '../core/ids.js';
import { VERSION } from '../core/version.js';
import { sanitizeData, type EventDataMap, type EventType, type TelemetryEvent } from '../core/protocol.js';
import { QoeAccumulator, type QoeSummary } from '../core/qoe.js';

export interface ViewInfo {
  contentId?: string;
  channel?: string;
  title?: string;
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
  private listeners: Array<() => void> = [];
  readonly pendingSwitch: PendingSwitch | null;

  constructor(
    private hls: AnyHls,
    private video: HTMLVideoElement,
    info: ViewInfo,
    private host: ViewHost,
    pendingSwitch: PendingSwitch | null = null,
    startedAt = nowMs(),
    /** `id`: the view id (default: a new one); `cmcdContentId`: the content id CMCD carries, when it differs from `info.contentId` */
    opts: { id?: string; cmcdContentId?: string | null } = {},
  ) {
    this.id = opts.id ?? randomId();
    this.info = info;
    this.pendingSwitch = pendingSwitch;
    this.startedAt = startedAt;
    const HlsCtor = hls.constructor as typeof Hls;
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
      },
      startedAt,
    );
    this.listenMedia();
    this.listenHls(HlsCtor);
    if (!video.paused) this.onPlay();
    this.hb = setInterval(() => this.heartbeat(), host.heartbeatMs);
  }

  private emit<K extends EventType>(type: K, data?: EventDataMap[K], t = nowMs()): void {
    if (this.closed) return;
    const e: TelemetryEvent = { view_id: this.id, seq: this.seq++, t: Math.round(t * 1000) / 1000, type };
    if (data) e.data = sanitizeData(data);
    this.acc.add(e);
    this.host.emit(e);
  }

  private on<K extends keyof HTMLMediaElementEventMap>(type: K, fn: () => void): void {
    this.video.addEventListener(type, fn);
    this.listeners.push(() => this.video.removeEventListener(type, fn));
  }

  private listenMedia(): void {
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
      // hls.js moved the playhead itself: the seek that follows is not the viewer's
      if (!d.fatal && (d.details === E_SEEK_OVER_HOLE || d.details === E_NUDGE)) this.hlsMovedAt = nowMs();
      this.emit('error', { fatal: !!d.fatal, type: String(d.type), details: String(d.details) });
    };
    const onFrag = (_: unknown, d: FragLoadedData) => {
      const f = d.frag;
      const s = f.stats;
      const ms = s.loading.end - s.loading.start;
      if (ms > 0 && s.loaded > 0) this.lastThroughput = (s.loaded * 8000) / ms;
      const lvl = this.hls.levels[f.level];
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
    const onLevelLoaded = (_: unknown, d: { details: { live: boolean } }) => {
      this.live = !!d.details?.live;
    };
    this.hls.on(E.LEVEL_SWITCHED, onSwitched);
    this.hls.on(E.ERROR, onError);
    this.hls.on(E.FRAG_LOADED, onFrag);
    this.hls.on(E.LEVEL_LOADED, onLevelLoaded);
    this.listeners.push(() => {
      this.hls.off(E.LEVEL_SWITCHED, onSwitched);
      this.hls.off(E.ERROR, onError);
      this.hls.off(E.FRAG_LOADED, onFrag);
      this.hls.off(E.LEVEL_LOADED, onLevelLoaded);
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
/** hls.js ErrorDetails values of its own playhead moves (string values, so hls.js stays a type-only import) */
const E_SEEK_OVER_HOLE = 'bufferSeekOverHole';
const E_NUDGE = 'bufferNudgeOnStall';
