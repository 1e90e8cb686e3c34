/**
 * Throughput traces in the two-column format of the Pensieve data (`time_s throughput_Mbps` per line)
 * and a link that delivers bytes at the rate a trace dictates (wrapping around at its end).
 * Used by the demo's shaping dev server and by the simulators.
 */

export interface Trace {
  name: string;
  /** sample times, seconds, strictly increasing, starting at times[0] */
  times: number[];
  /** throughput in Mbps (10^6 bit/s); sample k holds over (times[k-1], times[k]] */
  mbps: number[];
}

export class TraceFormatError extends Error {}

export function parseTrace(text: string, name = 'trace'): Trace {
  const times: number[] = [];
  const mbps: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/[\s,]+/);
    const t = Number(parts[0]);
    const b = Number(parts[1]);
    if (parts.length < 2 || !Number.isFinite(t) || !Number.isFinite(b) || b < 0) {
      throw new TraceFormatError(`${name}:${i + 1}: expected "time_s throughput_Mbps", got "${line.slice(0, 60)}"`);
    }
    if (times.length && t <= times[times.length - 1]) {
      throw new TraceFormatError(`${name}:${i + 1}: time ${t} does not increase`);
    }
    times.push(t);
    mbps.push(b);
  }
  if (times.length < 2) throw new TraceFormatError(`${name}: needs at least two samples`);
  return { name, times, mbps };
}

/** A synthetic trace from (duration_s, Mbps) steps. */
export function stepTrace(name: string, steps: Array<[number, number]>): Trace {
  const times = [0];
  const mbps = [steps[0][1]];
  let t = 0;
  for (const [dur, rate] of steps) {
    t += dur;
    times.push(t);
    mbps.push(rate);
  }
  return { name, times, mbps };
}

/**
 * Built-in traces for the demo and tests. `stall` alternates a good link with one far below the
 * lowest rung (300 kbps video + 64 kbps audio) so playback must stall; `collapse` falls from 8 to 0.6 Mb/s after
 * 10 s and stays there; `outage` stalls for tens of seconds.
 */
export const BUILTIN_TRACES: Record<string, Trace> = {
  fast: stepTrace('fast', [[60, 20]]),
  '3g': stepTrace('3g', [
    [10, 1.2],
    [10, 0.8],
    [10, 1.6],
    [10, 0.6],
  ]),
  '4g': stepTrace('4g', [
    [10, 6],
    [10, 3],
    [10, 9],
    [10, 4],
  ]),
  varying: stepTrace('varying', [
    [20, 4.5],
    [20, 1.5],
    [20, 0.6],
    [20, 2.5],
    [20, 6],
  ]),
  stall: stepTrace('stall', [
    [10, 8],
    [16, 0.08],
  ]),
  // a good start, then a link that carries the lower rungs but not the top one (for abandoning a download)
  collapse: stepTrace('collapse', [
    [10, 8],
    [50, 0.6],
  ]),
  // one long outage after a good start: a stall that lasts tens of seconds (for pausing during a stall)
  outage: stepTrace('outage', [
    [12, 8],
    [60, 0.02],
  ]),
};

/** Throughput (bytes/s) at trace time `t` seconds (wrapping), using Pensieve's interval convention. */
export function rateAt(trace: Trace, t: number): number {
  const { times, mbps } = trace;
  const t0 = times[0];
  const span = times[times.length - 1] - t0;
  let x = ((((t - t0) % span) + span) % span) + t0;
  // binary search for the first k >= 1 with times[k] >= x
  let lo = 1;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] >= x) hi = mid;
    else lo = mid + 1;
  }
  if (x === t0) x = times[1];
  return (mbps[lo] * 1e6) / 8;
}

/** Bytes the link delivers between trace times a and b (seconds, a <= b), integrating the step function. */
export function bytesBetween(trace: Trace, a: number, b: number): number {
  let total = 0;
  let t = a;
  const { times } = trace;
  const t0 = times[0];
  const span = times[times.length - 1] - t0;
  let guard = 0;
  while (t < b && guard++ < 1e6) {
    const x = ((((t - t0) % span) + span) % span) + t0;
    let k = 1;
    let lo = 1;
    let hi = times.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    k = lo;
    const segEnd = t + (times[k] - x);
    const end = Math.min(b, segEnd > t ? segEnd : b);
    total += ((trace.mbps[k] * 1e6) / 8) * (end - t);
    t = end;
  }
  return total;
}

export function traceMeanMbps(trace: Trace): number {
  const span = trace.times[trace.times.length - 1] - trace.times[0];
  return (bytesBetween(trace, trace.times[0], trace.times[trace.times.length - 1]) * 8) / 1e6 / span;
}
