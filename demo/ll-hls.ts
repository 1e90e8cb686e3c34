/**
 * The demo's LL-HLS packager (issue 14): turns one rung's fragmented-MP4 stream from the real-time encoder
 * (`-f mp4 -movflags empty_moov+default_base_moof+frag_keyframe -frag_duration 500000`, one moof+mdat per
 * 0.5 s, a keyframe every segment) into Low-Latency HLS: each fragment is published at once as a partial
 * segment (`EXT-X-PART`, RFC 8216bis §4.4.4.9), four parts make a segment, and the media playlist carries
 * `EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK` and `EXT-X-PART-INF` (§4.4.3.7–8) so hls.js
 * plays it in low-latency mode with blocking playlist reloads (`_HLS_msn` / `_HLS_part`, §6.2.5.2), which
 * the dev server answers through `waitFor`. ffmpeg's own HLS muxer writes no partial segments, hence this.
 *
 * Files (in the rung's directory): `init.mp4`, `part_<sn>_<i>.m4s`, `seg_<sn>.m4s` (the concatenated parts
 * of a finished segment, the same bytes) and `index.m3u8`, written atomically (temp file + rename). Segment
 * numbers count from the encoder's first frame, as the coding meta (live-meta.ts) does.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LlHlsOptions {
  /** video frames per part (0.5 s at 24 fps = 12) and per segment (a multiple of it) */
  partFrames: number;
  segmentFrames: number;
  fps: number;
  /** finished segments kept in the playlist */
  window: number;
  /** PART-HOLD-BACK, s (≥ 3 part durations, §4.4.3.8): the latency hls.js aims at in low-latency mode */
  partHoldBackS: number;
  /** wall-clock time of media time 0, ms since the epoch (EXT-X-PROGRAM-DATE-TIME of segment 0) */
  t0Ms: number;
}

interface Part {
  file: string;
  /** the part's bytes while its segment is in production */
  bytes?: Buffer;
  frames: number;
  independent: boolean;
}

const pad = (n: number) => String(n).padStart(6, '0');

/** One rung: feed it the encoder's fMP4 bytes as they come. */
export class LlHlsRung {
  private buf: Buffer = Buffer.alloc(0);
  private pendingMoof: Buffer | null = null;
  private frames = 0; // video frames published so far
  private initDone = false;
  /** parts of the segment being produced */
  private current: Part[] = [];
  private currentSn = 0;
  /** finished segments, oldest first */
  private segments: Array<{ sn: number; frames: number; parts: Part[] }> = [];
  private waiters: Array<{ sn: number; part: number; done: () => void }> = [];

  constructor(
    private dir: string,
    private o: LlHlsOptions,
  ) {}

  /** the newest part published: media sequence number and part index (-1: none yet) */
  get position(): { sn: number; part: number; finished: number } {
    return { sn: this.currentSn, part: this.current.length - 1, finished: this.segments.length ? this.segments.at(-1)!.sn : -1 };
  }

  push(data: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : Buffer.from(data);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(0);
      if (size < 8) throw new Error(`ll-hls: bad box size ${size}`);
      if (this.buf.length < size) break;
      const box = this.buf.subarray(0, size);
      this.buf = this.buf.subarray(size);
      this.box(box.toString('latin1', 4, 8), Buffer.from(box));
    }
  }

  private initParts: Buffer[] = [];
  private box(type: string, box: Buffer): void {
    if (!this.initDone) {
      if (type === 'ftyp') this.initParts.push(box);
      else if (type === 'moov') {
        this.initParts.push(box);
        writeFileSync(join(this.dir, 'init.mp4'), Buffer.concat(this.initParts));
        this.initDone = true;
      }
      return;
    }
    if (type === 'moof') this.pendingMoof = box;
    else if (type === 'mdat' && this.pendingMoof) {
      this.fragment(this.pendingMoof, box);
      this.pendingMoof = null;
    }
  }

  /** video frames in a moof: the sample count of the video track's trun (track 1: the encoder maps video first) */
  private static videoFrames(moof: Buffer): number {
    let n = 0;
    for (let o = 8; o + 8 <= moof.length;) {
      const s = moof.readUInt32BE(o);
      if (s < 8) break;
      if (moof.toString('latin1', o + 4, o + 8) === 'traf') {
        let track = -1;
        let count = 0;
        for (let q = o + 8; q + 8 <= o + s;) {
          const s2 = moof.readUInt32BE(q);
          if (s2 < 8) break;
          const t2 = moof.toString('latin1', q + 4, q + 8);
          if (t2 === 'tfhd') track = moof.readUInt32BE(q + 12);
          if (t2 === 'trun') count += moof.readUInt32BE(q + 12);
          q += s2;
        }
        if (track === 1) n += count;
      }
      o += s;
    }
    return n;
  }

  private fragment(moof: Buffer, mdat: Buffer): void {
    const frames = LlHlsRung.videoFrames(moof);
    const sn = Math.floor(this.frames / this.o.segmentFrames);
    if (sn !== this.currentSn && this.current.length) this.finish();
    this.currentSn = sn;
    const idx = this.current.length;
    const file = `part_${pad(sn)}_${idx}.m4s`;
    const bytes = Buffer.concat([moof, mdat]);
    writeFileSync(join(this.dir, file), bytes);
    this.current.push({ file, bytes, frames, independent: this.frames % this.o.segmentFrames === 0 });
    this.frames += frames;
    if (this.frames % this.o.segmentFrames === 0) this.finish();
    this.publish();
  }

  private finish(): void {
    const sn = this.currentSn;
    const parts = this.current;
    this.current = [];
    this.currentSn = sn + 1;
    writeFileSync(join(this.dir, `seg_${pad(sn)}.m4s`), Buffer.concat(parts.map((p) => p.bytes!)));
    for (const p of parts) delete p.bytes;
    this.segments.push({ sn, frames: parts.reduce((a, p) => a + p.frames, 0), parts });
    while (this.segments.length > this.o.window + 3) {
      const old = this.segments.shift()!;
      rmSync(join(this.dir, `seg_${pad(old.sn)}.m4s`), { force: true });
      for (const p of old.parts) rmSync(join(this.dir, p.file), { force: true });
    }
  }

  private publish(): void {
    const o = this.o;
    const partTarget = o.partFrames / o.fps;
    const segS = o.segmentFrames / o.fps;
    const shown = this.segments.slice(-o.window);
    if (!shown.length && !this.current.length) return;
    const first = shown.length ? shown[0].sn : this.currentSn;
    const date = (sn: number) => new Date(o.t0Ms + (sn * o.segmentFrames * 1000) / o.fps).toISOString();
    const partLines = (parts: Part[]) =>
      parts.map((p) => `#EXT-X-PART:DURATION=${(p.frames / o.fps).toFixed(5)},URI="${p.file}"${p.independent ? ',INDEPENDENT=YES' : ''}`);
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      `#EXT-X-TARGETDURATION:${Math.ceil(segS)}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${o.partHoldBackS.toFixed(3)},HOLD-BACK=${(3 * segS).toFixed(3)}`,
      `#EXT-X-PART-INF:PART-TARGET=${partTarget.toFixed(5)}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="init.mp4"',
    ];
    // parts are listed for the segments of the last three target durations (§4.4.4.9), and the one in production
    shown.forEach((s, i) => {
      if (i === 0) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${date(s.sn)}`);
      lines.push(...partLines(s.parts));
      lines.push(`#EXTINF:${(s.frames / o.fps).toFixed(5)},`, `seg_${pad(s.sn)}.m4s`);
    });
    // no date before the segment in production: hls.js (1.6) misplaces a dated fragment hint on its timeline; it
    // dates the hint from the previous segment's end
    if (this.current.length)
      lines.push(...(shown.length ? [] : [`#EXT-X-PROGRAM-DATE-TIME:${date(this.currentSn)}`]), ...partLines(this.current));
    // the next part (§4.4.5.3): hls.js needs a tag after the last segment to keep a segment that has just
    // finished from also being taken as the one in production (it would shift it twice on the timeline)
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_${pad(this.currentSn)}_${this.current.length}.m4s"`);
    const file = join(this.dir, 'index.m3u8');
    writeFileSync(file + '.tmp', lines.join('\n') + '\n');
    renameSync(file + '.tmp', file);
    const { sn, part, finished } = this.position;
    this.waiters = this.waiters.filter((w) => {
      const ok = finished >= w.sn || (sn === w.sn && part >= w.part) || sn > w.sn;
      if (ok) w.done();
      return !ok;
    });
  }

  /**
   * A blocking playlist reload (§6.2.5.2): resolves once the playlist holds part `part` of segment `sn`
   * (or segment `sn` finished when `part` is undefined), or after `timeoutMs`. Resolves false at the
   * timeout. Throws RangeError when `sn` is more than two segments beyond the newest (the server answers 400).
   */
  waitFor(sn: number, part: number | undefined, timeoutMs: number): Promise<boolean> {
    const pos = this.position;
    if (sn > pos.sn + 2) throw new RangeError(`_HLS_msn=${sn} is more than two segments beyond the newest (${pos.sn})`);
    const ok = part === undefined ? pos.finished >= sn : pos.finished >= sn || (pos.sn === sn && pos.part >= part) || pos.sn > sn;
    if (ok) return Promise.resolve(true);
    return new Promise((res) => {
      const w = { sn, part: part ?? Infinity, done: () => (clearTimeout(timer), res(true)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        res(false);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}
