/**
 * Part bytes of our own encodes (issue 14, session 9): the 0.5-s LL-HLS parts of each segment derived from the
 * encoder's per-frame sizes (`-vstats_file`, bench/encodes.ts derivePartBytes, parseVstats), read back with the
 * segment check (src/sim/abr/parts.ts loadEncodePartVideos), and the point weighting of the part-size fit over
 * streams of different sources and lengths (src/train/part-size.ts pointWeights). Synthetic files: no encode needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivePartBytes, parseExtraSplit, parseVstats, recipe, splitVideosOf } from '../../bench/encodes.js';
import { ffmpegPath } from '../../demo/streams.js';
import { mulberry32 } from '../../src/core/random.js';
import { loadEncodePartVideos, type PartVideo } from '../../src/sim/abr/parts.js';
import { pointWeights } from '../../src/train/part-size.js';

/** A -vstats_version 2 record as ffmpeg writes it. */
const vline = (out: number, frame: number, q: number, bytes: number, type: string) =>
  `out= ${out} st= ${out} frame= ${String(frame).padStart(5)} q= ${q.toFixed(1)} f_size= ${String(bytes).padStart(6)} s_size=     123kB time= 0.042 br= 100.0kbits/s avg_br= 100.0kbits/s type= ${type}`;

describe('part bytes of our encodes', () => {
  it('splits a segment into parts of its frames that sum to the segment bytes exactly, overhead shared by frame count', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 20 + Math.floor(rng() * 60);
      const frames = Array.from({ length: n }, (_, i) => (i === 0 ? 20_000 : 0) + Math.floor(rng() * 3000));
      const es = frames.reduce((a, b) => a + b, 0);
      const over = Math.floor(rng() * (1024 + 32 * n));
      const parts = 1 + Math.floor(rng() * 6);
      const p = derivePartBytes(frames, es + over, parts);
      expect(p.length).toBe(parts);
      expect(p.reduce((a, b) => a + b, 0)).toBe(es + over);
      // each part holds its own frames' bytes and about its share of the overhead
      for (let k = 0; k < parts; k++) {
        const a = Math.floor((k * n) / parts);
        const b = Math.floor(((k + 1) * n) / parts);
        const own = frames.slice(a, b).reduce((x, y) => x + y, 0);
        expect(p[k]).toBeGreaterThanOrEqual(own);
        expect(Math.abs(p[k] - own - (over * (b - a)) / n)).toBeLessThanOrEqual(parts);
      }
    }
    // 48 frames, 4 parts: the I-frame makes the first part the largest
    const frames = [30_000, ...new Array<number>(47).fill(1000)];
    const p = derivePartBytes(frames, 77_000 + 400, 4);
    expect(p).toEqual([30_000 + 11_000 + 100, 12_100, 12_100, 12_100]);
  });

  it('rejects frames that do not fit the segment, with the segment named', () => {
    const frames = new Array<number>(48).fill(1000);
    expect(() => derivePartBytes(frames, 47_000, 4, 'enc00 rung 1 segment 3')).toThrowError(
      /enc00 rung 1 segment 3: its 48 frames hold 48000 bytes, more than the segment's 47000/,
    );
    expect(() => derivePartBytes(frames, 48_000 + 1024 + 32 * 48 + 1, 4, 'seg')).toThrowError(/seg: 2561 container bytes .* do not match/);
    expect(() => derivePartBytes(frames.slice(0, 3), 3500, 4, 'seg')).toThrowError(/seg: 3 frames for 4 parts/);
    expect(() => derivePartBytes([...frames.slice(1), NaN], 48_500, 4, 'seg')).toThrowError(/seg: frame 47 has bad size NaN/);
    expect(() => derivePartBytes(frames, 48_500, 0, 'seg')).toThrowError(/parts must be an integer >= 1/);
  });

  it('parses the vstats file per output in order and names a line that is not a frame record', () => {
    const lines = [vline(0, 1, 20, 5000, 'I'), vline(1, 1, 22, 9000, 'I'), vline(0, 2, 25, 700, 'P'), vline(2, 1, 30, 1, 'B'), ''];
    const per = parseVstats(lines.join('\n'), 2);
    expect(per[0]).toEqual([
      { q: 20, bytes: 5000, type: 'I' },
      { q: 25, bytes: 700, type: 'P' },
    ]);
    expect(per[1]).toEqual([{ q: 22, bytes: 9000, type: 'I' }]);
    // a truncated record (the encoder killed mid-write) and a foreign file fail loudly instead of losing frames
    const cut = [lines[0], lines[1].slice(0, 40), lines[2]].join('\n');
    expect(() => parseVstats(cut, 2)).toThrowError(/vstats line 2: not a -vstats_version 2 frame record/);
    expect(() => parseVstats('frame,pkt_size\n1,5000\n', 1)).toThrowError(
      /vstats line 1: not a -vstats_version 2 frame record: "frame,pkt_size"/,
    );
  });

  describe('loadEncodePartVideos', () => {
    let dir: string;
    const sizes = [
      [1000, 2500],
      [1200, 3100],
      [900, 2000],
    ];
    const parts = (c: number, q: number) => {
      const s = sizes[c][q];
      return [Math.round(s * 0.4), Math.round(s * 0.2), Math.round(s * 0.2), s - 2 * Math.round(s * 0.2) - Math.round(s * 0.4)];
    };
    const write = (rows: string[]) =>
      writeFileSync(join(dir, 'ours', 'e0.parts.csv'), ['chunk,rung,part_1,part_2,part_3,part_4', ...rows].join('\n') + '\n');
    const good = () => sizes.flatMap((_, c) => [0, 1].map((q) => [c, q, ...parts(c, q)].join(',')));
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'encparts-'));
      mkdirSync(join(dir, 'ours'));
      writeFileSync(join(dir, 'index.csv'), 'source,video,chunks,chunk_s,rungs,genre_or_note,split\nours,e0,3,2,2,synthetic,dev\n');
      writeFileSync(join(dir, 'ours', 'e0.csv'), ['chunk,300,750', ...sizes.map((s, c) => `${c},${s.join(',')}`)].join('\n') + '\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the heads of every chunk and rung, the last part being the whole segment', () => {
      write(good());
      const [v] = loadEncodePartVideos(dir, ['dev']);
      expect(v.parts).toBe(4);
      expect(v.partS).toBe(0.5);
      expect(v.heads[0][1]).toEqual([480, 1240]);
      expect(v.heads[1][2]).toEqual([540, 1200]);
      expect(v.heads[3]).toEqual(sizes);
      expect(loadEncodePartVideos(dir, ['train'])).toEqual([]);
    });

    it('fails clearly when the parts do not sum to the segment, a row is missing or the file is absent', () => {
      const rows = good();
      rows[3] = rows[3].replace(/,(\d+)$/, (_, x) => `,${Number(x) + 1}`); // chunk 1 rung 1: one byte too many
      write(rows);
      expect(() => loadEncodePartVideos(dir, ['dev'])).toThrowError(
        /e0\.parts\.csv:5: parts of chunk 1 rung 1 sum to 3101 bytes, the segment has 3100/,
      );
      write(good().slice(0, 5));
      expect(() => loadEncodePartVideos(dir, ['dev'])).toThrowError(/e0\.parts\.csv: no parts for chunk 2 rung 1/);
      write([...good().slice(0, 5), '2,1,900,0,500,600']);
      expect(() => loadEncodePartVideos(dir, ['dev'])).toThrowError(/part 2 has bad size 0/);
      rmSync(join(dir, 'ours', 'e0.parts.csv'));
      expect(() => loadEncodePartVideos(dir, ['dev'])).toThrowError(/part bytes missing: .*e0\.parts\.csv .*--only e0/);
    });
  });

  it('weights the fit so that each source or each stream counts the same in total', () => {
    const v = (source: string): PartVideo => ({ source }) as PartVideo;
    const videos = [v('aitrans_live'), v('aitrans_live'), v('ours')];
    // 60 + 30 points of two aitrans streams, 10 of one encode
    const idx = [...new Array<number>(60).fill(0), ...new Array<number>(30).fill(1), ...new Array<number>(10).fill(2)];
    expect(pointWeights(idx, videos, 'points')).toBeUndefined();
    const total = (w: number[], i: number) => w.reduce((a, x, j) => a + (idx[j] === i ? x : 0), 0);
    const src = pointWeights(idx, videos, 'source')!;
    expect(total(src, 0) + total(src, 1)).toBeCloseTo(total(src, 2), 9);
    expect(src.reduce((a, b) => a + b, 0)).toBeCloseTo(idx.length, 9);
    const str = pointWeights(idx, videos, 'stream')!;
    expect(total(str, 0)).toBeCloseTo(total(str, 1), 9);
    expect(total(str, 1)).toBeCloseTo(total(str, 2), 9);
  });
});

describe('the encode recipe (session 10): seeded random sources, stable splits', () => {
  it("gives every life and cellauto scene its own seed without moving any scene plan, and adding videos keeps the earlier videos' split", () => {
    const seeds = new Set<number>();
    for (let v = 0; v < 16; v++) {
      const r = recipe(v, 14, 96);
      expect(recipe(v, 14, 96).args).toEqual(r.args);
      for (const a of r.args.filter((x) => /^(life|cellauto)=/.test(x))) {
        const m = /:seed=(\d+)$/.exec(a);
        expect(m).withContext(a).not.toBeNull();
        expect(seeds.has(Number(m![1])))
          .withContext(`seed ${m![1]} used twice`)
          .toBeFalse();
        seeds.add(Number(m![1]));
      }
    }
    expect(seeds.size).toBeGreaterThan(10);
    // the committed dataset: the same scene plans and splits as before seeding
    const index = readFileSync('bench/coding-meta/index.csv', 'utf8').trim().split('\n').slice(1);
    const ten = splitVideosOf(10, 14);
    const sixteen = splitVideosOf(16, 14);
    for (const line of index.slice(0, 10)) {
      const f = line.split(',');
      const v = Number(f[1].slice(3));
      const r = recipe(v, 14, 96);
      expect(f[5]).toContain(`${r.scenes.length} scenes: ${r.scenes.map((s) => s.kind).join(' ')}`);
      expect(f[6]).toBe(ten.get(v)!);
      expect(sixteen.get(v)).toBe(ten.get(v)!);
    }
    for (let v = 10; v < 16; v++) expect(sixteen.get(v)).toBe('dev');
    expect(splitVideosOf(16, 14, 10, 'train').get(12)).toBe('train');
  });

  it('--extra-split blocks (session 11): dev:6,test keeps the six session-10 dev encodes dev and sends every later video to test', () => {
    const s = splitVideosOf(24, 14, 10, 'dev:6,test');
    const ten = splitVideosOf(10, 14);
    for (let v = 0; v < 10; v++) expect(s.get(v)).toBe(ten.get(v)!);
    for (let v = 10; v < 16; v++) expect(s.get(v)).withContext(`video ${v}`).toBe('dev');
    for (let v = 16; v < 24; v++) expect(s.get(v)).withContext(`video ${v}`).toBe('test');
    expect(parseExtraSplit('train:2,dev:1,test')).toEqual([
      ['train', 2],
      ['dev', 1],
      ['test', Infinity],
    ]);
    // every block counted: the videos after them have no split
    expect(() => splitVideosOf(24, 14, 10, 'dev:6,test:2')).toThrowError(/covers 8 videos after the first 10, not 14/);
    for (const bad of ['dev,test', 'dev:0,test', 'holdout', 'dev:6;test', ''])
      expect(() => parseExtraSplit(bad))
        .withContext(bad)
        .toThrowError(/--extra-split/);
  });

  it('a seeded life source renders the same frames twice; the unseeded one (the recipe before session 10) does not', () => {
    const life = recipe(1, 14, 96).args.find((x) => x.startsWith('life='))!;
    const md5 = (src: string) => {
      const p = spawnSync(ffmpegPath(), [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        src,
        '-frames:v',
        '3',
        '-f',
        'md5',
        '-',
      ]);
      expect(p.status).withContext(p.stderr.toString()).toBe(0);
      return p.stdout.toString().trim();
    };
    expect(md5(life)).toMatch(/^MD5=[0-9a-f]{32}$/);
    expect(md5(life)).toBe(md5(life));
    const unseeded = life.replace(/:seed=\d+$/, '');
    expect(md5(unseeded)).not.toBe(md5(unseeded));
  });
});
