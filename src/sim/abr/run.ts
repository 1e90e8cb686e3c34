/**
 * Run a policy over every trace of a test environment (Pensieve's rl_test / bb.py / mpc.py loop) and
 * score it: per trace, the sum of QoE_lin over chunks 1..47 (chunk 0 is always at DEFAULT_QUALITY).
 */
import { DEFAULT_QUALITY, VIDEO_BIT_RATE_KBPS, qoeLin, type AbrObservation, type AbrPolicy } from '../../core/abr.js';
import { AbrEnv, type SimTrace, type StepResult } from './env.js';

/** The policy's observation after a simulator step (the same shape the player builds). */
export function observe(
  q: number,
  s: StepResult,
  throughputs: number[],
  delaysMs: number[],
  totalChunks: number,
  ladder: readonly number[] = VIDEO_BIT_RATE_KBPS,
): AbrObservation {
  return {
    lastQuality: q,
    bufferS: s.bufferS,
    throughputs,
    delaysMs,
    nextSizes: s.nextSizes,
    remain: s.remain,
    nextIndex: totalChunks - s.remain,
    totalChunks,
    ladderKbps: ladder,
    rebufS: s.rebufS,
  };
}

export interface ChunkLog {
  timeS: number;
  quality: number;
  bitrateKbps: number;
  bufferS: number;
  rebufS: number;
  chunkBytes: number;
  delayMs: number;
  reward: number;
}

export interface TraceResult {
  trace: string;
  qoeSum: number; // chunks 1..47
  bitrateSum: number; // Mbps, chunks 1..47
  rebufSum: number; // penalty part: 4.3 x seconds
  smoothSum: number; // Mbps changes
  log: ChunkLog[];
}

export function runPolicy(
  policy: AbrPolicy,
  traces: SimTrace[],
  videoSizes: number[][],
  opts: { ladder?: readonly number[]; keepLogs?: boolean } = {},
): TraceResult[] {
  const ladder = opts.ladder ?? VIDEO_BIT_RATE_KBPS;
  const env = new AbrEnv({ traces, videoSizes });
  const results: TraceResult[] = [];
  for (let t = 0; t < traces.length; t++) {
    policy.videoStart?.();
    let q = DEFAULT_QUALITY;
    let last = DEFAULT_QUALITY;
    let time = 0;
    const thr: number[] = [];
    const delays: number[] = [];
    const res: TraceResult = { trace: env.currentTrace.name, qoeSum: 0, bitrateSum: 0, rebufSum: 0, smoothSum: 0, log: [] };
    for (let i = 0; ; i++) {
      const s = env.step(q);
      time += s.delayMs + s.sleepMs;
      const reward = qoeLin(q, last, s.rebufS, ladder);
      if (i > 0) {
        res.qoeSum += reward;
        res.bitrateSum += ladder[q] / 1000;
        res.rebufSum += 4.3 * s.rebufS;
        res.smoothSum += Math.abs(ladder[q] - ladder[last]) / 1000;
      }
      if (opts.keepLogs)
        res.log.push({
          timeS: time / 1000,
          quality: q,
          bitrateKbps: ladder[q],
          bufferS: s.bufferS,
          rebufS: s.rebufS,
          chunkBytes: s.chunkBytes,
          delayMs: s.delayMs,
          reward,
        });
      last = q;
      thr.push(s.chunkBytes / s.delayMs);
      delays.push(s.delayMs);
      const next = policy.decide(observe(q, s, thr, delays, env.totalChunks, ladder));
      if (s.endOfVideo) break;
      q = next;
    }
    results.push(res);
  }
  return results;
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
