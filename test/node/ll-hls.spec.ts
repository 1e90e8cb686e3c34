/**
 * The demo's LL-HLS packager (demo/ll-hls.ts) on the real encoder's fragmented MP4: 0.5 s parts published as
 * they arrive, four make a segment with the same bytes, the playlist's LL-HLS tags, and blocking reloads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlHlsRung } from '../../demo/ll-hls.js';
import { ffmpegPath } from '../../demo/streams.js';

describe('LL-HLS packager', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'llhls-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes 0.5 s parts as they arrive, concatenates them into segments and answers blocking reloads', async () => {
    const rung = new LlHlsRung(dir, {
      partFrames: 12,
      segmentFrames: 48,
      fps: 24,
      window: 6,
      partHoldBackS: 1.5,
      t0Ms: Date.UTC(2026, 0, 1),
    });
    expect(() => rung.waitFor(3, 0, 1000)).toThrowError(RangeError, /more than two segments/);
    const early = rung.waitFor(1, 0, 30000); // part 0 of segment 1: not there yet
    const never = rung.waitFor(2, 0, 200); // 2.5 s of media never reach segment 2
    let settled = false;
    void early.then(() => (settled = true));
    const partsSeen: number[] = [];
    await new Promise<void>((res, rej) => {
      // 2.5 s of media as fast as it encodes (no -re): two segments' worth of fragments minus 1.5 s
      const p = spawn(
        ffmpegPath(),
        [
          ...[
            '-hide_banner',
            '-loglevel',
            'error',
            '-f',
            'lavfi',
            '-i',
            'testsrc2=s=320x180:r=24',
            '-f',
            'lavfi',
            '-i',
            'sine=sample_rate=48000',
          ],
          ...['-t', '2.5', '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
          ...['-g', '48', '-keyint_min', '48', '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '64k', '-f', 'mp4'],
          ...['-movflags', 'empty_moov+default_base_moof+frag_keyframe', '-frag_duration', '500000', '-flush_packets', '1', 'pipe:3'],
        ],
        { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d));
      (p.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        rung.push(d);
        const { sn, part } = rung.position;
        partsSeen.push(sn * 4 + part);
        // segment 1's first part comes after segment 0's four: the reload waiting for it is still held before
        if (sn === 0) expect(settled).toBeFalse();
      });
      p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`ffmpeg exited ${code}: ${err}`))));
    });
    expect(await early).toBeTrue();
    expect(await never).toBeFalse(); // the timeout answers false (the server serves the playlist as it is)
    expect(rung.position).toEqual({ sn: 1, part: 0, finished: 0 });
    expect(Math.max(...partsSeen)).toBe(4);

    const pl = readFileSync(join(dir, 'index.m3u8'), 'utf8').trim().split('\n');
    expect(pl).toContain('#EXT-X-TARGETDURATION:2');
    expect(pl).toContain('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,HOLD-BACK=6.000');
    expect(pl).toContain('#EXT-X-PART-INF:PART-TARGET=0.50000');
    expect(pl).toContain('#EXT-X-MEDIA-SEQUENCE:0');
    expect(pl).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z');
    const parts = pl.filter((l) => l.startsWith('#EXT-X-PART:'));
    expect(parts).toEqual([
      '#EXT-X-PART:DURATION=0.50000,URI="part_000000_0.m4s",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.50000,URI="part_000000_1.m4s"',
      '#EXT-X-PART:DURATION=0.50000,URI="part_000000_2.m4s"',
      '#EXT-X-PART:DURATION=0.50000,URI="part_000000_3.m4s"',
      '#EXT-X-PART:DURATION=0.50000,URI="part_000001_0.m4s",INDEPENDENT=YES',
    ]);
    // the finished segment sits after its parts; the segment in production ends the playlist with the next part's hint
    expect(pl.indexOf('seg_000000.m4s')).toBe(pl.indexOf(parts[3]) + 2);
    expect(pl[pl.indexOf('seg_000000.m4s') - 1]).toBe('#EXTINF:2.00000,');
    expect(pl.at(-1)).toBe('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000001_1.m4s"');
    // a segment is its parts' bytes; the init segment is ftyp + moov
    const seg = readFileSync(join(dir, 'seg_000000.m4s'));
    const cat = Buffer.concat([0, 1, 2, 3].map((i) => readFileSync(join(dir, `part_000000_${i}.m4s`))));
    expect(seg.equals(cat)).toBeTrue();
    expect(seg.toString('latin1', 4, 8)).toBe('moof');
    const init = readFileSync(join(dir, 'init.mp4'));
    expect(init.toString('latin1', 4, 8)).toBe('ftyp');
    expect(init.includes(Buffer.from('moov'))).toBeTrue();
  });
});
