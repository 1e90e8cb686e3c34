/**
 * The live packager's coding meta (issue 14): follows the real-time encoder's `-vstats_file` (x264 per-frame
 * type, QP and bytes of every rung, `-vstats_version 2`) and the scene scores it prints as they come, and writes
 * each finished chunk's meta at every rung into the live media playlists as an `EXT-X-DATERANGE`
 * (src/abr/coding-meta.ts says why that carrier). A chunk is annotated once it is in the playlist at every
 * rung and the encoder's statistics of all its frames have been written.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatCodingMeta } from '../src/abr/coding-meta.js';
import type { ChunkMeta } from '../src/abr/size-forecast.js';

interface Frame {
  q: number;
  bytes: number;
  type: string;
}

/** Reads the new complete lines of a growing text file. */
class Tail {
  private off = 0;
  private rest = '';
  constructor(private file: string) {}
  lines(): string[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.off) return [];
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.off);
      const n = readSync(fd, buf, 0, buf.length, this.off);
      this.off += n;
      const text = this.rest + buf.subarray(0, n).toString('utf8');
      const parts = text.split('\n');
      this.rest = parts.pop() ?? '';
      return parts;
    } finally {
      closeSync(fd);
    }
  }
}

export class LiveCodingMeta {
  private vstats: Tail;
  /** frames[rung][k] = frame k (decode order = presentation order: zerolatency, no B-frames) */
  private frames: Frame[][];
  private sceneScores: number[] = [];
  private done = new Map<number, ChunkMeta[]>();
  /** chunks annotated so far (each counted once) */
  published = 0;

  constructor(
    private root: string,
    private rungs: number,
    private framesPerChunk: number,
    private chunkS: number,
  ) {
    this.vstats = new Tail(join(root, 'vstats.txt'));
    this.frames = Array.from({ length: rungs }, () => []);
  }

  /** the next frame's scene-change score (ffmpeg `scene`, 0..1; the encoder prints them in presentation order) */
  addScene(score: number): void {
    this.sceneScores.push(score);
  }

  private poll(): void {
    for (const line of this.vstats.lines()) {
      // the encoder's first frame is logged with type '?' (and q 0): it is the stream's first IDR
      const m = /out=\s*(\d+)\s+st=\s*\d+\s+frame=\s*(\d+)\s+q=\s*([\d.-]+)\s+f_size=\s*(\d+).*type=\s*([IPB?])/.exec(line);
      if (!m) continue;
      const o = Number(m[1]);
      if (o < this.rungs) this.frames[o].push({ q: Number(m[3]), bytes: Number(m[4]), type: m[5] === '?' ? 'I' : m[5] });
    }
  }

  /** The meta of chunk `sn` at every rung, or null while it is not complete. */
  meta(sn: number): ChunkMeta[] | null {
    const have = this.done.get(sn);
    if (have) return have;
    this.poll();
    const F = this.framesPerChunk;
    const a = sn * F;
    if (!this.frames.every((f) => f.length >= a + F)) return null;
    // the scene scores come from another filter branch: wait for them, but not beyond two more chunks
    if (this.sceneScores.length < a + F && !this.frames.every((f) => f.length >= a + 3 * F)) return null;
    const out: ChunkMeta[] = [];
    const scene = Math.max(0, ...this.sceneScores.slice(a, a + F));
    for (let r = 0; r < this.rungs; r++) {
      const file = join(this.root, `v${r}`, `seg_${String(sn).padStart(6, '0')}.m4s`);
      if (!existsSync(file)) return null;
      const fr = this.frames[r].slice(a, a + F);
      const sum = (xs: Frame[]) => xs.reduce((s, f) => s + f.bytes, 0);
      const of = (t: string) => fr.filter((f) => f.type === t);
      out.push({
        bytes: statSync(file).size,
        frames: fr.length,
        qpMean: fr.reduce((s, f) => s + f.q, 0) / fr.length,
        iCount: of('I').length,
        pCount: of('P').length,
        bCount: of('B').length,
        iBytes: sum(of('I')),
        pBytes: sum(of('P')),
        bBytes: sum(of('B')),
        tailBytes: sum(fr.slice(F / 2)),
        scene,
      });
    }
    this.done.set(sn, out);
    this.published++;
    for (const k of this.done.keys()) if (k < sn - 64) this.done.delete(k);
    return out;
  }

  /**
   * A live media playlist with a coding-meta DATERANGE before each finished chunk whose meta is complete
   * (placed before the chunk's EXTINF). Master playlists and chunks without a date are left as they are.
   */
  annotate(text: string): string {
    if (!text.includes('#EXTINF')) return text;
    const out: string[] = [];
    let start = -1; // first line of the tags of the coming segment (its EXTINF or PROGRAM-DATE-TIME)
    let date: string | null = null;
    // a segment without its own date starts where the previous one ended (RFC 8216bis §4.4.4.6)
    let nextMs: number | null = null;
    let durS = 0;
    for (const line of text.split('\n')) {
      if ((line.startsWith('#EXTINF') || line.startsWith('#EXT-X-PROGRAM-DATE-TIME:') || line.startsWith('#EXT-X-PART:')) && start < 0)
        start = out.length;
      if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) date = line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length).trim();
      if (line.startsWith('#EXTINF:')) durS = parseFloat(line.slice(8));
      const seg = /^seg_(\d+)\.m4s/.exec(line.trim());
      if (seg) {
        if (!date && nextMs !== null) date = new Date(nextMs).toISOString();
        const meta = date && start >= 0 ? this.meta(Number(seg[1])) : null;
        if (meta) out.splice(start, 0, formatCodingMeta(Number(seg[1]), date!, this.chunkS, meta));
        nextMs = date ? Date.parse(date) + durS * 1000 : null;
        start = -1;
        date = null;
      }
      out.push(line);
    }
    return out.join('\n');
  }
}
