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
 */
import type { TelemetryEvent, TypedEvent } from './protocol.js';

export type PlayState = 'starting' | 'playing' | 'paused' | 'rebuffering' | 'seeking' | 'ended';

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
  private playMs = 0;
  private bitrate: number | null = null;
  private bitrateMs = 0;
  private bitrateWeightMs = 0;
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
        break;
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
        if (e.data?.fatal === true) this.fatal++;
        else this.nonfatal++;
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
    if (dt > 0 && this.state === 'playing') {
      this.playMs += dt;
      if (this.bitrate !== null) {
        this.bitrateMs += this.bitrate * dt;
        this.bitrateWeightMs += dt;
      }
    }
    this.stateSince = t;
  }

  private enter(s: PlayState, t: number): void {
    this.stateSince = t;
    this.state = s;
  }

  /** Summary as of the last event, or as of `now` (ms) for a live view. */
  summary(now?: number): QoeSummary {
    let playMs = this.playMs;
    let bMs = this.bitrateMs;
    let bW = this.bitrateWeightMs;
    let rebufMs = this.rebufMs;
    const rebufCount = this.rebufCount;
    const end = Math.max(now ?? this.last ?? 0, this.last ?? 0);
    const tail = end - this.stateSince;
    if (tail > 0 && this.state === 'playing') {
      playMs += tail;
      if (this.bitrate !== null) {
        bMs += this.bitrate * tail;
        bW += tail;
      }
    }
    if (this.state === 'rebuffering' && this.rebufOpenAt !== null) rebufMs += end - this.rebufOpenAt;
    const viewMs = this.start === null ? 0 : Math.max(0, end - this.start);
    const switches = this.up + this.down;
    return {
      view_id: this.viewId,
      content_id: this.contentId,
      channel: this.channel,
      live: this.live,
      events: this.n,
      started_at: this.start,
      view_ms: viewMs,
      play_ms: playMs,
      startup_ms: this.startup,
      ttff_ms: this.ttff,
      exited_before_start: this.startup === null && this.closed,
      rebuffer_count: rebufCount,
      rebuffer_ms: rebufMs,
      rebuffer_ratio_pct: viewMs > 0 ? (100 * rebufMs) / viewMs : 0,
      rebuffer_per_100s: viewMs > 0 ? (rebufCount * 100000) / viewMs : 0,
      bitrate_avg_bps: bW > 0 ? bMs / bW : this.bitrate,
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
    };
  }
}

export function summarizeView(events: TelemetryEvent[], now?: number): QoeSummary {
  const acc = new QoeAccumulator();
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) acc.add(e);
  return acc.summary(now);
}
