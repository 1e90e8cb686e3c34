/**
 * Node-only: chunks with the bytes of their LL-HLS parts, from the per-frame traces of the ACM MM 2019 Live Video
 * Streaming Challenge (`AItransCompetition/Live-Video-Streaming-Challenge`, `dataset/video_trace/<stream>/frame_trace_<q>`:
 * one frame per line, `time size_bits is_iframe`; the source of the shared chunk dataset's `aitrans_live` videos,
 * ../shared/data/chunks/README.md "Sources" 3). A chunk is one GOP, exactly as the shared dataset builds it (an
 * I-frame up to the next, the incomplete last GOP dropped); its first k parts are its first floor(k · frames / P)
 * frames (P = round(chunk_s / part_s) parts; 12 of 50 frames for k = 1 at 0.5-s parts of 2-s chunks: slightly under
 * a part, never more). Only the streams the shared dataset's index.csv lists in the requested splits are read, and
 * every chunk's total is checked against the dataset's CSV, so the split of the README holds (the held-out stream is
 * never read).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadChunkDataset, type ChunkVideo } from './chunks.js';

/** A chunk video with its part bytes. */
export interface PartVideo extends ChunkVideo {
  /** parts per chunk */
  parts: number;
  partS: number;
  /** heads[k-1][chunk][rung]: bytes of the chunk's first k parts, k = 1..parts (heads[parts-1] = sizes) */
  heads: number[][][];
}

/**
 * The `aitrans_live` videos of the chunk dataset `chunksDir` in `splits`, with part bytes from the frame traces in
 * `framesDir` (the challenge's `dataset/video_trace`). Throws when a trace is missing or its GOPs do not reproduce
 * the dataset's chunk sizes (within 1 byte per chunk).
 */
export function loadPartVideos(chunksDir: string, framesDir: string, splits: readonly string[], partS = 0.5): PartVideo[] {
  const videos = loadChunkDataset(chunksDir, splits).filter((v) => v.source === 'aitrans_live');
  return videos.map((v) => {
    const P = Math.max(1, Math.round(v.chunkS / partS));
    const R = v.ladderKbps.length;
    const n = v.sizes.length;
    const heads: number[][][] = Array.from({ length: P }, () => Array.from({ length: n }, () => new Array<number>(R).fill(0)));
    for (let q = 0; q < R; q++) {
      const file = join(framesDir, v.video, `frame_trace_${q}`);
      if (!existsSync(file)) throw new Error(`frame trace missing: ${file}`);
      const gops: number[][] = [];
      let cur: number[] | null = null;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length < 3) continue;
        const bits = Number(f[1]);
        if (f[2] === '1') {
          if (cur) gops.push(cur);
          cur = [];
        }
        if (cur) cur.push(bits / 8);
      }
      // the incomplete GOP at the end is dropped, as in the dataset
      if (gops.length < n) throw new Error(`${file}: ${gops.length} complete GOPs, the dataset has ${n} chunks`);
      for (let c = 0; c < n; c++) {
        const g = gops[c];
        const total = g.reduce((a, b) => a + b, 0);
        if (Math.abs(total - v.sizes[c][q]) > 1)
          throw new Error(`${file}: GOP ${c} has ${total} bytes, the dataset's chunk ${c} ${v.sizes[c][q]}`);
        let acc = 0;
        let i = 0;
        for (let k = 1; k <= P; k++) {
          const end = k === P ? g.length : Math.floor((k * g.length) / P);
          for (; i < end; i++) acc += g[i];
          heads[k - 1][c][q] = k === P ? v.sizes[c][q] : acc;
        }
      }
    }
    return { ...v, parts: P, partS: v.chunkS / P, heads };
  });
}

/**
 * The videos of our own encodes (`npm run data:encodes`, bench/encodes.ts; default bench/coding-meta) in `splits`, with
 * the part bytes of `<source>/<video>.parts.csv` (`chunk,rung,part_1..part_P`: each 0.5-s LL-HLS part's bytes, derived
 * from the encoder's per-frame sizes by derivePartBytes). Every chunk's parts must sum to its segment bytes in
 * `<video>.csv` exactly. Throws an Error naming the file when a parts file is missing (encoded before part bytes were
 * kept: re-run data:encodes), a row is malformed, or a chunk/rung is missing or does not sum to its segment.
 */
export function loadEncodePartVideos(dir: string, splits: readonly string[]): PartVideo[] {
  return loadChunkDataset(dir, splits).map((v) => {
    const file = join(dir, v.source, `${v.video}.parts.csv`);
    if (!existsSync(file))
      throw new Error(`part bytes missing: ${file} (encoded before parts were kept: npm run data:encodes -- --only ${v.video})`);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const P = header.length - 2;
    if (header[0] !== 'chunk' || header[1] !== 'rung' || P < 2 || header.slice(2).some((h, k) => h !== `part_${k + 1}`))
      throw new Error(`${file}: header must be chunk,rung,part_1..part_P (P >= 2), got ${lines[0]}`);
    const R = v.ladderKbps.length;
    const n = v.sizes.length;
    const heads: number[][][] = Array.from({ length: P }, () => Array.from({ length: n }, () => new Array<number>(R).fill(NaN)));
    lines.slice(1).forEach((line, i) => {
      const f = line.split(',').map(Number);
      const [c, q] = f;
      if (f.length !== P + 2 || !(Number.isInteger(c) && c >= 0 && c < n) || !(Number.isInteger(q) && q >= 0 && q < R))
        throw new Error(`${file}:${i + 2}: expected chunk 0..${n - 1}, rung 0..${R - 1} and ${P} part sizes`);
      let acc = 0;
      for (let k = 1; k <= P; k++) {
        const b = f[k + 1];
        if (!(Number.isInteger(b) && b > 0)) throw new Error(`${file}:${i + 2}: part ${k} has bad size ${line.split(',')[k + 1]}`);
        acc += b;
        heads[k - 1][c][q] = acc;
      }
      if (acc !== v.sizes[c][q])
        throw new Error(`${file}:${i + 2}: parts of chunk ${c} rung ${q} sum to ${acc} bytes, the segment has ${v.sizes[c][q]}`);
    });
    for (let c = 0; c < n; c++)
      for (let q = 0; q < R; q++) if (Number.isNaN(heads[P - 1][c][q])) throw new Error(`${file}: no parts for chunk ${c} rung ${q}`);
    return { ...v, parts: P, partS: v.chunkS / P, heads };
  });
}
