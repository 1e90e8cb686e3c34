/**
 * The live coding-meta carrier: the dev server's LiveCodingMeta turns the encoder's per-frame statistics
 * and the segment files into one EXT-X-DATERANGE per finished chunk, and parseCodingMeta reads it back.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODING_META_CLASS, formatCodingMeta, parseCodingMeta } from '../../src/abr/coding-meta.js';
import { LiveCodingMeta } from '../../demo/live-meta.js';

/** attribute name -> unquoted value of one EXT-X-DATERANGE line (as hls.js' AttrList holds them) */
function attrs(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.slice(line.indexOf(':') + 1).matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

describe('live coding meta (EXT-X-DATERANGE)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cm-'));
    for (let r = 0; r < 2; r++) mkdirSync(join(dir, `v${r}`));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes each finished chunk once its frames are logged, and the player reads the same numbers back', () => {
    const F = 4; // frames per chunk
    const lines: string[] = [];
    // two rungs, 2 chunks of 4 frames; the first frame is logged with type '?' (the first IDR)
    for (let k = 0; k < 2 * F; k++)
      for (let o = 0; o < 2; o++) {
        const type = k === 0 ? '?' : k % F === 0 ? 'I' : 'P';
        lines.push(
          `out= ${o} st=  0 frame= ${k} q= ${20 + o + k} f_size= ${(o + 1) * (k % F === 0 ? 1000 : 100)} s_size= 1kB time= 0.1 br= 1kbits/s avg_br= 1kbits/s type= ${type}`,
        );
      }
    // the statistics of chunk 1 are not all written yet
    writeFileSync(join(dir, 'vstats.txt'), lines.slice(0, 2 * F + 3).join('\n') + '\n');
    for (let k = 0; k < 2; k++)
      for (let r = 0; r < 2; r++) writeFileSync(join(dir, `v${r}`, `seg_00000${k}.m4s`), Buffer.alloc(5000 * (r + 1) + k));
    const cm = new LiveCodingMeta(dir, 2, F, 2);
    for (let k = 0; k < 2 * F; k++) cm.addScene(k === 5 ? 0.6 : 0.01);
    const playlist = [
      '#EXTM3U',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXTINF:2.000000,',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000+0000',
      'seg_000000.m4s',
      '#EXTINF:2.000000,',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000+0000',
      'seg_000001.m4s',
      '',
    ].join('\n');
    let out = cm.annotate(playlist).split('\n');
    let dr = out.filter((l) => l.startsWith('#EXT-X-DATERANGE'));
    expect(dr.length).toBe(1);
    expect(out.indexOf(dr[0])).toBe(out.indexOf('seg_000000.m4s') - 3); // before the chunk's EXTINF
    const a = parseCodingMeta(attrs(dr[0]), 2)!;
    expect(a.sn).toBe(0);
    expect(a.meta.map((m) => m.bytes)).toEqual([5000, 10000]);
    expect(a.meta.map((m) => m.iCount)).toEqual([1, 1]);
    expect(a.meta.map((m) => m.pCount)).toEqual([3, 3]);
    expect(a.meta.map((m) => m.iBytes)).toEqual([1000, 2000]);
    expect(a.meta.map((m) => m.tailBytes)).toEqual([200, 400]);
    expect(a.meta[1].qpMean).toBeCloseTo(21 + 1.5, 2);
    expect(a.meta[0].scene).toBeCloseTo(0.01, 4);
    // the rest of the statistics arrive: chunk 1 is published too, chunk 0 is unchanged
    writeFileSync(join(dir, 'vstats.txt'), lines.join('\n') + '\n');
    out = cm.annotate(playlist).split('\n');
    dr = out.filter((l) => l.startsWith('#EXT-X-DATERANGE'));
    expect(dr.length).toBe(2);
    const b = parseCodingMeta(attrs(dr[1]), 2)!;
    expect(b.sn).toBe(1);
    expect(b.meta.map((m) => m.bytes)).toEqual([5001, 10001]);
    expect(b.meta[0].scene).toBeCloseTo(0.6, 4);
    expect(cm.published).toBe(2);
    expect(attrs(dr[1])['START-DATE']).toBe('2026-01-01T00:00:02.000+0000');
  });

  it('reads only its own class and ladder', () => {
    const m = {
      bytes: 1,
      frames: 48,
      qpMean: 30,
      iCount: 1,
      pCount: 47,
      bCount: 0,
      iBytes: 1,
      pBytes: 1,
      bBytes: 0,
      tailBytes: 1,
      scene: 0,
    };
    const line = attrs(formatCodingMeta(7, '2026-01-01T00:00:00Z', 2, [m, m, m]));
    expect(line.CLASS).toBe(CODING_META_CLASS);
    expect(parseCodingMeta(line, 3)?.sn).toBe(7);
    expect(parseCodingMeta(line, 2)).toBeNull();
    expect(parseCodingMeta({ ...line, CLASS: 'com.example.ad' }, 3)).toBeNull();
    expect(parseCodingMeta({ ...line, 'X-QP': '30,x,30' }, 3)).toBeNull();
    expect(() => formatCodingMeta(1, 'x', 2, [])).toThrowError(/no rungs/);
  });
});
