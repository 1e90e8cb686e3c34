/**
 * Node-only loading of a chunk-size dataset in the format of ../shared/data/chunks/README.md ("Files"):
 * `index.csv` (source,video,chunks,chunk_s,rungs,genre_or_note,split) and `<source>/<video>.csv`
 * (header chunk,<kbps_1>,...,<kbps_R>; one row of bytes per chunk). Our own encodes (bench/encodes.ts) add
 * `<source>/<video>.meta.csv` with the coding meta of every (chunk, rung); it is read when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvParse, csvParseRows } from 'd3-dsv';
import type { ChunkMeta } from '../../abr/size-forecast.js';
import { denseFromArtifacts, sizeNetFromArtifacts } from '../../abr/size-model.js';

export interface ChunkVideo {
  source: string;
  video: string;
  split: string;
  /** chunk duration, seconds */
  chunkS: number;
  /** nominal rung bitrates from the CSV header, kbps, ascending */
  ladderKbps: number[];
  /** sizes[chunk][rung], bytes */
  sizes: number[][];
  /** meta[chunk][rung], or null when the dataset has no coding meta */
  meta: ChunkMeta[][] | null;
  note: string;
}

/**
 * Every video of `dir` whose split is in `splits` (all when omitted), in index order.
 * Throws with the missing path when the index or a video file is absent, and on a malformed row.
 */
export function loadChunkDataset(dir: string, splits?: readonly string[]): ChunkVideo[] {
  const indexPath = join(dir, 'index.csv');
  if (!existsSync(indexPath)) throw new Error(`chunk dataset index not found: ${indexPath}`);
  const index = csvParse(readFileSync(indexPath, 'utf8'));
  const out: ChunkVideo[] = [];
  for (const row of index) {
    const split = row.split ?? '';
    if (splits && !splits.includes(split)) continue;
    const source = row.source!;
    const video = row.video!;
    const file = join(dir, source, `${video}.csv`);
    if (!existsSync(file)) throw new Error(`chunk dataset file missing: ${file}`);
    const rows = csvParseRows(readFileSync(file, 'utf8').trim());
    const header = rows[0];
    if (header[0] !== 'chunk') throw new Error(`${file}: header must start with "chunk"`);
    const ladderKbps = header.slice(1).map(Number);
    const sizes = rows.slice(1).map((r, i) => {
      const v = r.slice(1).map(Number);
      if (Number(r[0]) !== i || v.length !== ladderKbps.length || v.some((x) => !(x > 0)))
        throw new Error(`${file}:${i + 2}: expected chunk ${i} and ${ladderKbps.length} positive sizes`);
      return v;
    });
    const metaFile = join(dir, source, `${video}.meta.csv`);
    let meta: ChunkMeta[][] | null = null;
    if (existsSync(metaFile)) {
      meta = sizes.map(() => new Array<ChunkMeta>(ladderKbps.length));
      for (const m of csvParse(readFileSync(metaFile, 'utf8'))) {
        const c = Number(m.chunk);
        const q = Number(m.rung);
        if (!meta[c] || !(q >= 0 && q < ladderKbps.length)) throw new Error(`${metaFile}: chunk ${m.chunk} rung ${m.rung} out of range`);
        meta[c][q] = {
          bytes: Number(m.bytes),
          frames: Number(m.frames),
          qpMean: Number(m.qp_mean),
          iCount: Number(m.i_count),
          pCount: Number(m.p_count),
          bCount: Number(m.b_count),
          iBytes: Number(m.i_bytes),
          pBytes: Number(m.p_bytes),
          bBytes: Number(m.b_bytes),
          tailBytes: Number(m.tail_bytes),
          scene: Number(m.scene),
        };
      }
      for (let c = 0; c < meta.length; c++)
        for (let q = 0; q < ladderKbps.length; q++) if (!meta[c][q]) throw new Error(`${metaFile}: no row for chunk ${c} rung ${q}`);
    }
    out.push({ source, video, split, chunkS: Number(row.chunk_s), ladderKbps, sizes, meta, note: row.genre_or_note ?? '' });
  }
  return out;
}

/** The default chunk dataset: `$EDGEPLAY_DATA/chunks`. */
export const chunkDataDir = (root: string) => join(root, 'chunks');

/** Pooled absolute percentage errors of one forecaster, per horizon (1-based index h-1). */
export interface ForecastErrors {
  /** ape[h-1]: every (video, rung, origin) APE at horizon h, pooled */
  ape: Float64Array[];
  /** the same per source */
  bySource: Map<string, Float64Array[]>;
  videos: number;
}

/**
 * The protocol of ../shared/data/chunks/README.md ("Statistics and the yardstick"): each video is played
 * through the forecaster chunk by chunk (every rung known, with its coding meta when the dataset has it);
 * at every origin i >= `firstOrigin` the forecast for horizon h is compared with chunk i+h-1 (when it
 * exists); APE = |pred - s| / s, pooled over (video, rung, origin).
 */
export function evaluateForecaster(
  videos: readonly ChunkVideo[],
  make: () => import('../../abr/size-forecast.js').SizeForecaster,
  horizons = 5,
  firstOrigin = 5,
): ForecastErrors {
  const pooled: number[][] = Array.from({ length: horizons }, () => []);
  const per = new Map<string, number[][]>();
  const f = make();
  for (const v of videos) {
    const src = per.get(v.source) ?? Array.from({ length: horizons }, () => []);
    per.set(v.source, src);
    f.start({ ladderKbps: v.ladderKbps, chunkS: v.chunkS });
    const n = v.sizes.length;
    for (let i = 0; i < n; i++) {
      if (i >= firstOrigin) {
        const fc = f.forecast(horizons);
        for (let h = 1; h <= horizons; h++) {
          const j = i + h - 1;
          if (j >= n) break;
          for (let r = 0; r < v.ladderKbps.length; r++) {
            const s = v.sizes[j][r];
            const e = Math.abs(fc[h - 1][r] - s) / s;
            pooled[h - 1].push(e);
            src[h - 1].push(e);
          }
        }
      }
      f.observe(v.sizes[i], v.meta?.[i] ?? null);
    }
  }
  return {
    ape: pooled.map((a) => Float64Array.from(a)),
    bySource: new Map([...per].map(([k, a]) => [k, a.map((x) => Float64Array.from(x))])),
    videos: videos.length,
  };
}

/** mean and median of APEs, in % */
export function apeSummary(a: Float64Array): { mape: number; median: number; n: number } {
  if (!a.length) return { mape: NaN, median: NaN, n: 0 };
  let s = 0;
  for (const x of a) s += x;
  const sorted = Float64Array.from(a).sort();
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  return { mape: (100 * s) / a.length, median: 100 * median, n: a.length };
}

/** Load models/chunk-size* (model.json, weights.bin, head.json) as a SizeNet, without tfjs. */
export function loadSizeNet(dir: string): import('../../abr/size-model.js').SizeNet {
  for (const f of ['model.json', 'weights.bin', 'head.json'])
    if (!existsSync(join(dir, f))) throw new Error(`size model incomplete: ${join(dir, f)} missing (run npm run train:chunks)`);
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const w = readFileSync(join(dir, 'weights.bin'));
  const data = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer;
  return sizeNetFromArtifacts(model.weightsManifest[0].weights, data, JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')));
}

/** Dense layers by name from a tfjs layers model directory (model.json + weights.bin), without tfjs. */
export function loadDenseLayers(dir: string, layers: readonly string[]): import('../../abr/size-model.js').DenseArrays[] {
  for (const f of ['model.json', 'weights.bin'])
    if (!existsSync(join(dir, f))) throw new Error(`model incomplete: ${join(dir, f)} missing`);
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const w = readFileSync(join(dir, 'weights.bin'));
  return denseFromArtifacts(
    model.weightsManifest[0].weights,
    w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
    layers,
  );
}
