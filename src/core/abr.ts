/**
 * ABR constants and QoE_lin of the Pensieve setup (see ../shared/data/abr/README.md), shared by the
 * simulator, the policies, training, benchmarks and the in-player controller.
 */
export const VIDEO_BIT_RATE_KBPS = [300, 750, 1200, 1850, 2850, 4300] as const;
export const LEVELS = VIDEO_BIT_RATE_KBPS.length;
export const CHUNK_S = 4;
export const TOTAL_CHUNKS = 48;
export const DEFAULT_QUALITY = 1;
export const REBUF_PENALTY = 4.3;
export const SMOOTH_PENALTY = 1;

/** QoE_lin of one chunk: bitrate (Mbps) - 4.3 x rebuffer (s) - |bitrate change| (Mbps). */
export function qoeLin(q: number, qPrev: number, rebufS: number, ladder: readonly number[] = VIDEO_BIT_RATE_KBPS): number {
  return ladder[q] / 1000 - REBUF_PENALTY * rebufS - (SMOOTH_PENALTY * Math.abs(ladder[q] - ladder[qPrev])) / 1000;
}

/** What a policy sees before choosing the next chunk's level (Pensieve's state, un-normalised). */
export interface AbrObservation {
  /** level of the chunk just downloaded */
  lastQuality: number;
  /** buffer after that download, seconds */
  bufferS: number;
  /** throughput samples of this video, bytes per ms, oldest first (Pensieve: size / delay_ms) */
  throughputs: number[];
  /** download times of this video, ms, oldest first */
  delaysMs: number[];
  /** sizes in bytes of the next chunk at each level (0 at the end of the video) */
  nextSizes: number[];
  /** chunks left after the one just downloaded */
  remain: number;
  /** index of the next chunk in the video (0-based) */
  nextIndex: number;
  /** total chunks in the video */
  totalChunks: number;
  /** bitrate ladder, kbps, low to high */
  ladderKbps: readonly number[];
  /** rebuffer caused by the last chunk, seconds */
  rebufS: number;
}

export interface AbrPolicy {
  readonly name: string;
  /** a new video starts (the first chunk is always fetched at DEFAULT_QUALITY) */
  videoStart?(): void;
  /** level for the next chunk */
  decide(obs: AbrObservation): number;
}
