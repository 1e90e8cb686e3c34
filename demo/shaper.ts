/**
 * Trace-driven link shaping for the dev server: every shaped session owns one link whose capacity
 * follows a throughput trace (wrapping around), shared round-robin by the session's concurrent
 * downloads, with a fixed request latency (Pensieve's 80 ms RTT by default). Idle time earns no credit.
 */
import type { ServerResponse } from 'node:http';
import { bytesBetween, rateAt, type Trace } from '../src/core/trace.js';

interface Job {
  res: ServerResponse;
  buf: Buffer;
  off: number;
  done: () => void;
}

const TICK_MS = 10;

export class ShapedLink {
  readonly trace: Trace;
  readonly startedAt = Date.now();
  lastUsed = Date.now();
  bytesSent = 0;
  private jobs: Job[] = [];
  private credit = 0;
  private lastTick = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private rr = 0;

  constructor(
    trace: Trace,
    readonly rttMs = 80,
  ) {
    this.trace = trace;
  }

  /** trace time (s) corresponding to wall time `ms` */
  private tt(ms: number): number {
    return (ms - this.startedAt) / 1000;
  }

  /** Current link rate in Mbps (for the dashboard's "link" line). */
  nowMbps(): number {
    return (rateAt(this.trace, this.tt(Date.now())) * 8) / 1e6;
  }

  send(res: ServerResponse, buf: Buffer): Promise<void> {
    this.lastUsed = Date.now();
    return new Promise((resolve) => {
      setTimeout(() => {
        if (res.destroyed) return resolve();
        const job: Job = { res, buf, off: 0, done: resolve };
        res.on('close', () => {
          if (job.off < job.buf.length) {
            this.jobs = this.jobs.filter((j) => j !== job);
            resolve();
          }
        });
        if (this.jobs.length === 0 && !this.timer) {
          this.lastTick = Date.now();
          this.credit = 0;
        }
        this.jobs.push(job);
        this.schedule();
      }, this.rttMs);
    });
  }

  private schedule(): void {
    if (!this.timer && this.jobs.length) this.timer = setTimeout(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    this.timer = null;
    const now = Date.now();
    this.credit += bytesBetween(this.trace, this.tt(this.lastTick), this.tt(now));
    this.lastTick = now;
    this.lastUsed = now;
    while (this.credit >= 1 && this.jobs.length) {
      const share = Math.max(1, Math.floor(this.credit / this.jobs.length));
      const job = this.jobs[this.rr % this.jobs.length];
      const n = Math.min(share, job.buf.length - job.off);
      job.res.write(job.buf.subarray(job.off, job.off + n));
      job.off += n;
      this.credit -= n;
      this.bytesSent += n;
      if (job.off >= job.buf.length) {
        this.jobs = this.jobs.filter((j) => j !== job);
        job.res.end();
        job.done();
      } else {
        this.rr++;
      }
    }
    if (this.jobs.length === 0) this.credit = 0;
    this.schedule();
  }
}
