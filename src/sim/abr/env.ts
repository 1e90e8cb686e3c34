/**
 * The Pensieve ABR environment, re-implemented exactly (fixed_env.py for testing, env.py for
 * training: noise and random trace/start). Semantics and constants: ../shared/data/abr/README.md.
 * Pure TypeScript, no I/O; traces and video sizes are passed in.
 */
import { TOTAL_CHUNKS } from '../../core/abr.js';
import { mulberry32 } from '../../core/random.js';

export const PACKET_PAYLOAD_PORTION = 0.95;
export const LINK_RTT_MS = 80;
export const BUFFER_THRESH_MS = 60000;
export const DRAIN_BUFFER_SLEEP_MS = 500;
export const VIDEO_CHUNK_MS = 4000;
export const NOISE_LOW = 0.9;
export const NOISE_HIGH = 1.1;

export interface SimTrace {
  name: string;
  time: Float64Array | number[];
  bw: Float64Array | number[];
}

export interface StepResult {
  delayMs: number;
  sleepMs: number;
  bufferS: number;
  rebufS: number;
  chunkBytes: number;
  nextSizes: number[];
  endOfVideo: boolean;
  remain: number;
}

export interface EnvOptions {
  traces: SimTrace[];
  /** video_size[q][chunk] in bytes; at least TOTAL_CHUNKS (+1 for MPC's look-ahead) entries per level */
  videoSizes: number[][];
  /** training semantics: random trace and start, x[0.9,1.1) noise on each delay */
  train?: boolean;
  seed?: number;
  totalChunks?: number;
}

export class AbrEnv {
  readonly traces: SimTrace[];
  readonly videoSizes: number[][];
  readonly train: boolean;
  readonly totalChunks: number;
  private rng: () => number;
  traceIdx = 0;
  private time: ArrayLike<number>;
  private bw: ArrayLike<number>;
  private ptr = 1;
  private lastTime = 0;
  private bufferMs = 0;
  private chunk = 0;

  constructor(o: EnvOptions) {
    if (!o.traces.length) throw new Error('AbrEnv: no traces');
    this.traces = o.traces;
    this.videoSizes = o.videoSizes;
    this.train = !!o.train;
    this.totalChunks = o.totalChunks ?? TOTAL_CHUNKS;
    this.rng = mulberry32(o.seed ?? 42);
    if (this.train) {
      this.traceIdx = Math.floor(this.rng() * this.traces.length);
    }
    this.time = this.traces[this.traceIdx].time;
    this.bw = this.traces[this.traceIdx].bw;
    if (this.train) {
      this.ptr = 1 + Math.floor(this.rng() * (this.bw.length - 1));
      this.lastTime = this.time[this.ptr - 1];
    } else {
      this.ptr = 1;
      this.lastTime = this.time[0];
    }
  }

  get currentTrace(): SimTrace {
    return this.traces[this.traceIdx];
  }

  /** Restart the current video on trace `idx` at pointer `ptr` (training-style start), buffer empty. */
  resetTo(idx: number, ptr: number): void {
    this.traceIdx = idx;
    this.time = this.traces[idx].time;
    this.bw = this.traces[idx].bw;
    this.ptr = ptr;
    this.lastTime = this.time[ptr - 1];
    this.bufferMs = 0;
    this.chunk = 0;
  }

  get chunkIndex(): number {
    return this.chunk;
  }

  /** The exact position of the simulation (for an expert that plans from here with the trace known). */
  get position(): { chunk: number; ptr: number; last: number; bufMs: number } {
    return { chunk: this.chunk, ptr: this.ptr, last: this.lastTime, bufMs: this.bufferMs };
  }

  /** Download chunk `chunkIndex` at level q. */
  step(q: number): StepResult {
    const size = this.videoSizes[q][this.chunk];
    const noise = this.train ? NOISE_LOW + (NOISE_HIGH - NOISE_LOW) * this.rng() : 1;
    const s = stepFrom(this.time, this.bw, this.ptr, this.lastTime, this.bufferMs, size, noise);
    this.ptr = s.ptr;
    this.lastTime = s.last;
    this.bufferMs = s.buf;
    const returnBuffer = this.bufferMs;
    this.chunk += 1;
    const remain = this.totalChunks - this.chunk;
    let end = false;
    if (this.chunk >= this.totalChunks) {
      end = true;
      this.bufferMs = 0;
      this.chunk = 0;
      this.nextTrace();
    }
    const nextSizes = this.videoSizes.map((v) => v[this.chunk]);
    return {
      delayMs: s.delayMs,
      sleepMs: s.sleepMs,
      bufferS: returnBuffer / 1000,
      rebufS: s.rebufS,
      chunkBytes: size,
      nextSizes,
      endOfVideo: end,
      remain,
    };
  }

  private nextTrace(): void {
    if (this.train) {
      this.traceIdx = Math.floor(this.rng() * this.traces.length);
      this.time = this.traces[this.traceIdx].time;
      this.bw = this.traces[this.traceIdx].bw;
      this.ptr = 1 + Math.floor(this.rng() * (this.bw.length - 1));
      this.lastTime = this.time[this.ptr - 1];
    } else {
      this.traceIdx = (this.traceIdx + 1) % this.traces.length;
      this.time = this.traces[this.traceIdx].time;
      this.bw = this.traces[this.traceIdx].bw;
      this.ptr = 1;
      this.lastTime = this.time[0];
    }
  }
}

/**
 * One exact simulator step from an explicit state: download `size` bytes starting at trace pointer
 * `ptr0` / position `last0` (s) with `buf0` ms of buffer; `noise` multiplies the delay (training env).
 * The single implementation of the Pensieve step semantics (used by AbrEnv and the offline optimum).
 * `threshMs` is the buffer above which the player sleeps (Pensieve's 60 s; a live player waits for the
 * live edge instead, so the CDN simulator passes its live buffer cap).
 */
export function stepFrom(
  time: ArrayLike<number>,
  bw: ArrayLike<number>,
  ptr0: number,
  last0: number,
  buf0: number,
  size: number,
  noise = 1,
  threshMs = BUFFER_THRESH_MS,
) {
  let ptr = ptr0;
  let last = last0;
  let delay = 0;
  let sent = 0;
  const n = bw.length;
  for (;;) {
    const thr = (bw[ptr] * 1e6) / 8;
    const dur = time[ptr] - last;
    const payload = thr * dur * PACKET_PAYLOAD_PORTION;
    if (sent + payload > size) {
      const frac = (size - sent) / thr / PACKET_PAYLOAD_PORTION;
      delay += frac;
      last += frac;
      break;
    }
    sent += payload;
    delay += dur;
    last = time[ptr];
    ptr += 1;
    if (ptr >= n) {
      ptr = 1;
      last = 0;
    }
  }
  const delayMs = (delay * 1000 + LINK_RTT_MS) * noise;
  const rebufMs = Math.max(delayMs - buf0, 0);
  let buf = Math.max(buf0 - delayMs, 0) + VIDEO_CHUNK_MS;
  let sleepMs = 0;
  if (buf > threshMs) {
    sleepMs = Math.ceil((buf - threshMs) / DRAIN_BUFFER_SLEEP_MS) * DRAIN_BUFFER_SLEEP_MS;
    buf -= sleepMs;
    let left = sleepMs;
    for (;;) {
      const dur = time[ptr] - last;
      if (dur > left / 1000) {
        last += left / 1000;
        break;
      }
      left -= dur * 1000;
      last = time[ptr];
      ptr += 1;
      if (ptr >= n) {
        ptr = 1;
        last = 0;
      }
    }
  }
  return { ptr, last, buf, rebufS: rebufMs / 1000, delayMs, sleepMs };
}
