/**
 * Decision tables: the policy's answer for every download time of the fragment that is still loading, worked
 * out in the worker while it loads, so that when it has loaded the page only looks the answer up.
 *
 * This is FastMPC's idea (Yin et al., "A Control-Theoretic Approach for Dynamic Adaptive Video Streaming over
 * HTTP", SIGCOMM'15, §4.3: enumerate the controller's decisions offline over a discretised state and look them
 * up at run time) narrowed to the one unknown that is left once the fragment's size is known (its
 * Content-Length arrives with the first progress event): how long the download takes. Everything else the
 * policy sees when the fragment has loaded — the throughput and download-time history, the level, the predicted
 * next sizes, the chunks left — is already fixed; the last throughput sample is bytes / T, the last download
 * time is T, and the buffer drains by T at the playback rate. So the answer is a function of T alone, and the
 * table holds its breakpoints, each located to within `rel` (1 %) of T by bisection in log T.
 *
 * Environment-agnostic: the worker builds tables with its own `decide`, the controller looks them up, tests
 * check them against the policy itself.
 */
import type { AbrObservation } from '../core/abr.js';

/**
 * The policies a table may be built for: those whose answer depends on the observation alone. robustMPC keeps
 * its past throughput-prediction errors, so asking it for a table would feed it observations that never happened.
 */
export const TABLE_POLICIES: readonly string[] = ['drl'];

/** What is fixed while the fragment loads, and how the unknown download time enters the observation. */
export interface AbrTableRequest {
  /**
   * The observation as it will be once the fragment has loaded, except for the download: `throughputs` and
   * `delaysMs` hold the history *before* this fragment (bytes/ms, ms), `bufferS` is the buffer ahead of the
   * playhead when the table was asked for (s, without this fragment), `nextSizes` the predictor's sizes after it
   * has seen this fragment's bytes, `lastQuality` this fragment's level.
   */
  base: AbrObservation;
  /** the fragment's size, bytes (Content-Length) */
  bytes: number;
  /** download time already gone when the table was asked for, ms */
  elapsedMs: number;
  /** how fast the buffer drains meanwhile: the playback rate while playing, 0 before playback or when paused */
  drainRate: number;
  /** seconds of media this fragment adds to the buffer */
  appendS: number;
  /** how many throughput samples the controller keeps (the oldest drop out) */
  keep: number;
  /** the longest download time the table covers, ms (default 60 000) */
  maxMs?: number;
}

/**
 * The policy's answer per download time: cell i covers `edgesMs[i] ≤ T < edgesMs[i + 1]` and answers
 * `levels[i]`; −1 marks a cell narrower than the resolution that holds a breakpoint (no answer: ask the policy).
 */
export interface AbrTable {
  bytes: number;
  edgesMs: number[];
  levels: number[];
  /** how many times the policy was asked to build the table */
  evaluations: number;
}

/**
 * The observation the controller will build when the fragment of `req` has loaded after `downloadMs`.
 * @throws RangeError when `downloadMs` is not positive
 */
export function observationAt(req: AbrTableRequest, downloadMs: number): AbrObservation {
  if (!(downloadMs > 0)) throw new RangeError(`download time must be > 0 ms, got ${downloadMs}`);
  const b = req.base;
  const keep = Math.max(1, req.keep);
  const throughputs = b.throughputs.concat(req.bytes / downloadMs);
  const delaysMs = b.delaysMs.concat(downloadMs);
  if (throughputs.length > keep) throughputs.splice(0, throughputs.length - keep);
  if (delaysMs.length > keep) delaysMs.splice(0, delaysMs.length - keep);
  return { ...b, throughputs, delaysMs, bufferS: bufferAt(req, downloadMs) };
}

/** The buffer (s) the controller will see after a download of `downloadMs`: the drained buffer plus this fragment. */
export function bufferAt(req: AbrTableRequest, downloadMs: number): number {
  const drained = (req.drainRate * Math.max(0, downloadMs - req.elapsedMs)) / 1000;
  return Math.max(0, req.base.bufferS - drained) + req.appendS;
}

/**
 * The table build as steps: each `yield` follows one evaluation of `decide`, so a caller can pause between them
 * (`buildDecisionTableSliced`); the generator's return value is the table. See `buildDecisionTable` for the method.
 * @throws RangeError on a non-positive size, a bad range or resolution (at the first step)
 */
export function* decisionTableSteps(
  decide: (obs: AbrObservation) => number,
  req: AbrTableRequest,
  opts: { coarse?: number; rel?: number } = {},
): Generator<void, AbrTable, void> {
  const coarse = opts.coarse ?? 10;
  const rel = opts.rel ?? 0.01;
  if (!(req.bytes > 0)) throw new RangeError(`fragment size must be > 0 bytes, got ${req.bytes}`);
  if (!(coarse >= 2) || !(rel > 0)) throw new RangeError(`coarse must be ≥ 2 and rel > 0 (got ${coarse}, ${rel})`);
  const lo = Math.max(1, req.elapsedMs);
  const hi = Math.max(lo * 2, req.maxMs ?? 60_000);
  let evaluations = 0;
  const at = (t: number) => {
    evaluations++;
    return decide(observationAt(req, t));
  };
  const edgesMs = [lo];
  const levels: number[] = [];
  const cell = (end: number, level: number) => {
    if (levels.length && levels[levels.length - 1] === level) edgesMs[edgesMs.length - 1] = end;
    else {
      edgesMs.push(end);
      levels.push(level);
    }
  };
  function* refine(a: number, la: number, b: number, lb: number): Generator<void, void, void> {
    if (la === lb) return cell(b, la);
    if (b <= a * (1 + rel)) return cell(b, -1);
    const m = Math.sqrt(a * b);
    const lm = at(m);
    yield;
    yield* refine(a, la, m, lm);
    yield* refine(m, lm, b, lb);
  }
  const step = Math.pow(hi / lo, 1 / (coarse - 1));
  let a = lo;
  let la = at(a);
  yield;
  for (let i = 1; i < coarse; i++) {
    const b = i === coarse - 1 ? hi : lo * Math.pow(step, i);
    const lb = at(b);
    yield;
    yield* refine(a, la, b, lb);
    a = b;
    la = lb;
  }
  return { bytes: req.bytes, edgesMs, levels, evaluations };
}

/**
 * Build the table of `decide`'s answers over download times from `elapsedMs` to `maxMs`: `coarse` log-spaced
 * probes, then each pair of neighbours that answer differently is bisected (in log T) until the breakpoint is
 * bracketed within a factor 1 + `rel`. Between two probes that agree the answer is taken to be constant — true
 * of a policy that never answers a slower download with a higher level; the controller checks each table answer
 * against the policy's own when it comes (`AbrTableCheck`).
 * Cost: `coarse` + about log2(log(step) / log(1 + rel)) evaluations per breakpoint, all at once (the caller is
 * blocked meanwhile: the worker uses `buildDecisionTableSliced`).
 * @throws RangeError on a non-positive size, a bad range or resolution
 */
export function buildDecisionTable(
  decide: (obs: AbrObservation) => number,
  req: AbrTableRequest,
  opts: { coarse?: number; rel?: number } = {},
): AbrTable {
  const steps = decisionTableSteps(decide, req, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same table as `buildDecisionTable`, built in slices of at most about `sliceMs` (default 1 ms; 0 pauses after
 * every evaluation) with `pause()` awaited between slices, so that a decision asked for meanwhile is answered
 * between two slices instead of after the whole build (about 30 policy calls). `pause` should yield to the event
 * loop's queued tasks (the worker posts itself a message); `now` is the clock in ms; `superseded()`, asked after each
 * pause, abandons a build no one will use (a newer fragment's table was asked for).
 * @throws RangeError as `buildDecisionTable`, Error when superseded (as rejections)
 */
export async function buildDecisionTableSliced(
  decide: (obs: AbrObservation) => number,
  req: AbrTableRequest,
  opts: { coarse?: number; rel?: number; sliceMs?: number; pause: () => Promise<void>; now?: () => number; superseded?: () => boolean },
): Promise<AbrTable> {
  const now = opts.now ?? (() => performance.now());
  const sliceMs = opts.sliceMs ?? 1;
  const steps = decisionTableSteps(decide, req, opts);
  let sliceStart = now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (now() - sliceStart >= sliceMs) {
      await opts.pause();
      if (opts.superseded?.()) throw new Error('decision table superseded by a newer request');
      sliceStart = now();
    }
  }
}

/**
 * The table's answer for a download of `downloadMs`, or null outside its range or in a breakpoint's cell.
 */
export function lookupDecision(table: AbrTable, downloadMs: number): number | null {
  const e = table.edgesMs;
  if (!(downloadMs >= e[0]) || !(downloadMs <= e[e.length - 1])) return null;
  let lo = 0;
  let hi = e.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (e[mid] <= downloadMs) lo = mid;
    else hi = mid;
  }
  const level = table.levels[lo];
  return level >= 0 ? level : null;
}
