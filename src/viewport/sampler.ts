/**
 * Turns render-frame orientations into the 5 Hz viewport-centre series the predictors read: every frame
 * hands in (playback time, unit vector); each 0.2 s grid point of playback time between two frames gets
 * the great-circle interpolation of those frames. A seek (time going back, or jumping ahead > 1 s) starts
 * a new series. Paused playback adds no samples (the datasets are sampled on playback time too).
 */
import { slerp } from './geometry.js';
import { STEP_S } from './predictors.js';

export class ViewportSampler {
  private buf: Float64Array;
  private times: Float64Array;
  private n = 0; // samples held (≤ capacity)
  private head = 0; // next write slot
  private lastT = NaN;
  private last = new Float64Array(3);
  private tmp = new Float64Array(3);

  constructor(readonly capacity = 50) {
    this.buf = new Float64Array(capacity * 3);
    this.times = new Float64Array(capacity);
  }

  reset(): void {
    this.n = 0;
    this.head = 0;
    this.lastT = NaN;
  }

  /** one render frame: playback time (s) and the viewport centre (unit vector) */
  push(t: number, x: number, y: number, z: number): void {
    if (!Number.isFinite(t)) return;
    if (Number.isNaN(this.lastT) || t < this.lastT - 1e-6 || t - this.lastT > 1) {
      this.reset();
      this.lastT = t;
      this.last[0] = x;
      this.last[1] = y;
      this.last[2] = z;
      // a series starts on the grid point at or after t
      const g = Math.ceil(t / STEP_S - 1e-6) * STEP_S;
      if (Math.abs(g - t) < 1e-6) this.add(g, x, y, z);
      return;
    }
    if (t === this.lastT) {
      this.last[0] = x;
      this.last[1] = y;
      this.last[2] = z;
      return;
    }
    const cur = [x, y, z];
    for (let k = Math.floor(this.lastT / STEP_S + 1e-6) + 1; k * STEP_S <= t + 1e-6; k++) {
      const g = k * STEP_S;
      slerp(this.last, 0, cur, 0, (g - this.lastT) / (t - this.lastT), this.tmp, 0);
      this.add(g, this.tmp[0], this.tmp[1], this.tmp[2]);
    }
    this.lastT = t;
    this.last[0] = x;
    this.last[1] = y;
    this.last[2] = z;
  }

  private add(t: number, x: number, y: number, z: number): void {
    this.buf[this.head * 3] = x;
    this.buf[this.head * 3 + 1] = y;
    this.buf[this.head * 3 + 2] = z;
    this.times[this.head] = Math.round(t * 10) / 10;
    this.head = (this.head + 1) % this.capacity;
    this.n = Math.min(this.capacity, this.n + 1);
  }

  get size(): number {
    return this.n;
  }

  /** playback time of the newest sample (NaN when there is none) — cheap, for "is there a new one?" */
  get newestT(): number {
    return this.n ? this.times[(this.head - 1 + this.capacity) % this.capacity] : NaN;
  }

  /** the last `count` samples (oldest first) and the playback time of the newest; null when fewer exist */
  latest(count: number): { xyz: Float64Array; t: number } | null {
    if (count > this.n || count <= 0) return null;
    const out = new Float64Array(count * 3);
    for (let i = 0; i < count; i++) {
      const slot = (this.head - count + i + this.capacity) % this.capacity;
      out[3 * i] = this.buf[slot * 3];
      out[3 * i + 1] = this.buf[slot * 3 + 1];
      out[3 * i + 2] = this.buf[slot * 3 + 2];
    }
    return { xyz: out, t: this.times[(this.head - 1 + this.capacity) % this.capacity] };
  }
}
