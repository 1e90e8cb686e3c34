/**
 * The coding-meta dataset generator (`npm run data:encodes`, entry in cli/encodes.ts): our own live-like encodes with the encoder's coding meta, for the chunk-size predictor (issue 14): each
 * video is a seeded sequence of synthetic scenes of very different complexity (test patterns, Mandelbrot
 * zooms, Game of Life, cellular automata, geq plasma, rotations, noise, near-static cards, fades to black),
 * cut at random instants that are not aligned to segment boundaries. It is encoded with the bundled
 * ffmpeg (libx264, one thread, niced) at the live ladder of demo/streams.ts — 300/750/1200 kbps at
 * 320x180/640x360/854x480, 24 fps, 2 s fMP4 HLS segments with a forced key frame every 2 s — under one of
 * three live rate controls drawn per video (capped CRF, ABR with a 1.5x cap, CBR), with or without
 * `-tune zerolatency` (IPPP, no B-frames) and with or without x264 scene-cut I-frames.
 *
 * Per segment and rung it keeps what a packager can publish as the chunk's coding meta: bytes (the .m4s
 * file), frames, mean QP, I/P/B frame counts and their bytes (from `-vstats_file`, decode order; GOPs are
 * closed at segment boundaries), the bytes of the segment's second half, and a scene-change score (the
 * largest `lavfi.scene_score` of the segment's frames, computed once on the source). The media files are
 * deleted after the tables are read.
 *
 * Since session 9 it also keeps the bytes of each segment's four 0.5-s LL-HLS parts (derivePartBytes: the sums of the
 * frames each part holds, plus its share of the segment's container bytes; they sum to the segment's bytes exactly).
 *
 * Output (the chunks dataset format of ../shared/data/chunks/README.md, so `bench:chunks --data` reads it):
 *   <out>/index.csv                 source,video,chunks,chunk_s,rungs,genre_or_note,split
 *   <out>/ours/<video>.csv          chunk,<kbps_1>,...  (bytes)
 *   <out>/ours/<video>.meta.csv     chunk,rung,bytes,frames,qp_mean,i_count,p_count,b_count,i_bytes,p_bytes,b_bytes,tail_bytes,scene
 *   <out>/ours/<video>.parts.csv    chunk,rung,part_1,part_2,part_3,part_4  (bytes; src/sim/abr/parts.ts loadEncodePartVideos)
 * Splits are by video (seeded): 60 % train, 20 % dev, 20 % test. Videos already encoded with the same
 * recipe and with part bytes are skipped (`<video>.done` holds the recipe's hash), so an interrupted run resumes;
 * `--only enc00,...` encodes just those videos. Adding videos (`--videos 16`) keeps the split of the first 10
 * (`--split-videos`); the later ones go to `--extra-split` (default dev; splitVideosOf).
 *
 * Reproducibility. Since session 10 the recipe seeds ffmpeg's `life` and `cellauto` sources (`seed=`, planScenes):
 * unseeded they draw a random grid per run (session 9: a re-encode moved segment bytes by up to 3.6-28.5 % per video).
 * Checked on this box: a second encode of enc10 (cellauto, life) and of enc09 (neither) into another directory gave
 * byte-identical .csv, .parts.csv and .meta.csv tables. enc09 had moved in session 9 as well, so an earlier machine or
 * build differed too (x264/swscale are only bit-exact within one build and CPU feature set). The committed tables: enc00-enc09 are
 * session 9's encode of the unseeded recipe (their `.done` holds its hash, so a full run would re-encode the eight that have life or
 * cellauto, to different bytes; enc09's recipe is unchanged); enc10-enc15 (dev) are session 10's seeded encode:
 * `npm run data:encodes -- --videos 16 --only enc10,enc11,enc12,enc13,enc14,enc15`. 40-150 s per video at nice 19.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { ffmpegPath } from '../demo/streams.js';
import { InputError } from '../src/train/errors.js';

export const ENCODE_LADDER_KBPS = [300, 750, 1200];
const RES: Array<[number, number]> = [
  [320, 180],
  [640, 360],
  [854, 480],
];
const FPS = 24;
const SEG_S = 2;
const W = 854;
const H = 480;

interface Scene {
  kind: string;
  frames: number;
  /** lavfi source */
  src: string;
  /** filters after the source, before format/scale */
  post: string[];
}

/**
 * A seeded scene plan of `frames` frames in total. `sourceSeed` seeds ffmpeg's random sources (`life`, `cellauto`:
 * scene i gets `seed=sourceSeed + i`); without it they draw a random seed per run and the bytes are not
 * reproducible. The seed is not drawn from `rng`, so the plan (and every other scene's source) is the same as
 * before seeding.
 */
function planScenes(rng: () => number, frames: number, sourceSeed: number): Scene[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
  const between = (a: number, b: number) => a + (b - a) * rng();
  const scenes: Scene[] = [];
  let left = frames;
  while (left > 0) {
    let n = Math.round(between(3, 16) * FPS);
    if (left - n < 2 * FPS) n = left; // no scene shorter than 2 s at the end
    left -= n;
    const kind = pick(['testsrc2', 'noisy', 'mandelbrot', 'life', 'cellauto', 'plasma', 'rotate', 'card', 'mptest'] as const);
    const s = `${W}x${H}`;
    let src = '';
    const post: string[] = [];
    switch (kind) {
      case 'testsrc2':
        src = `testsrc2=s=${s}:r=${FPS}`;
        break;
      case 'noisy':
        src = `testsrc2=s=${s}:r=${FPS}`;
        post.push(`noise=alls=${Math.round(between(4, 30))}:allf=t`, `hue=H=t*${between(0.1, 1).toFixed(2)}`);
        break;
      case 'mandelbrot':
        src = `mandelbrot=s=${s}:r=${FPS}:maxiter=${pick([128, 256, 384])}:start_scale=${between(1, 3).toFixed(2)}:end_scale=${between(0.001, 0.3).toFixed(3)}`;
        break;
      case 'life':
        src = `life=s=${s}:r=${FPS}:mold=${Math.round(between(0, 20))}:ratio=${between(0.1, 0.6).toFixed(2)}:death_color=#${pick(['000000', '202020', '400000'])}:life_color=#${pick(['80ff80', 'ffffff', 'ff8040'])}:seed=${sourceSeed + scenes.length}`;
        break;
      case 'cellauto':
        src = `cellauto=s=${s}:r=${FPS}:rule=${pick([18, 30, 45, 90, 110, 150])}:random_fill_ratio=${between(0.2, 0.8).toFixed(2)}:scroll=1:seed=${sourceSeed + scenes.length}`;
        break;
      case 'plasma': {
        const a = between(8, 30).toFixed(1);
        const b = between(0.5, 4).toFixed(2);
        src = `nullsrc=s=214x120:r=${FPS}`;
        post.push(
          `geq=lum='128+90*sin(X/${a}+T*${b})*cos(Y/${a}-T)':cb='128+60*sin(T*${b}+X/40)':cr='128+60*cos(T+Y/30)'`,
          `scale=${W}:${H}`,
        );
        break;
      }
      case 'rotate':
        src = `rgbtestsrc=s=${s}:r=${FPS}`;
        post.push(`rotate=a=t*${between(0.1, 1.2).toFixed(2)}:fillcolor=black`);
        break;
      case 'card':
        src = `smptehdbars=s=${s}:r=${FPS}`;
        post.push(`noise=alls=${Math.round(between(0, 6))}:allf=t`);
        break;
      case 'mptest':
        src = `mptestsrc=r=${FPS}`;
        post.push(`scale=${W}:${H}`);
        break;
    }
    // fades to / from black, as at programme breaks
    const dur = n / FPS;
    if (rng() < 0.2 && dur > 3) post.push(`fade=t=in:st=0:d=${between(0.5, 1.5).toFixed(2)}`);
    if (rng() < 0.2 && dur > 3) {
      const d = between(0.5, 1.5);
      post.push(`fade=t=out:st=${(dur - d).toFixed(2)}:d=${d.toFixed(2)}`);
    }
    scenes.push({ kind, frames: n, src, post });
  }
  return scenes;
}

export interface Recipe {
  video: string;
  rc: 'capped-crf' | 'abr' | 'cbr';
  crf: number;
  zerolatency: boolean;
  scenecut: boolean;
  scenes: Scene[];
  args: string[];
}

/**
 * The encode recipe of video `v` (0-based) of the dataset seeded by `SEED`, `SECONDS` long: rate control, x264
 * settings, scene plan and the ffmpeg arguments. Deterministic in (v, SEED, SECONDS): its random sources are seeded
 * (planScenes), so on one machine and ffmpeg build the same recipe gives the same bytes.
 */
export function recipe(v: number, SEED: number, SECONDS: number): Recipe {
  const rng = mulberry32(SEED * 1000 + v);
  const rc = (['capped-crf', 'abr', 'cbr'] as const)[Math.floor(rng() * 3)];
  const crf = 20 + Math.floor(rng() * 7);
  const zerolatency = rng() < 0.35;
  const scenecut = rng() < 0.7;
  const scenes = planScenes(rng, SECONDS * FPS, (SEED * 1000 + v) * 100);
  const video = `enc${String(v).padStart(2, '0')}`;
  const a: string[] = [
    '-y',
    '-hide_banner',
    '-loglevel',
    'error',
    '-filter_threads',
    '1',
    '-vstats_file',
    'vstats.txt',
    '-vstats_version',
    '2',
  ];
  for (const sc of scenes) a.push('-f', 'lavfi', '-t', (sc.frames / FPS).toFixed(6), '-i', sc.src);
  const norm = scenes
    .map((sc, i) => `[${i}:v]${[...sc.post, `scale=${W}:${H}`, 'format=yuv420p', 'setsar=1', `fps=${FPS}`].join(',')}[p${i}]`)
    .join(';');
  const graph =
    `${norm};` +
    scenes.map((_, i) => `[p${i}]`).join('') +
    `concat=n=${scenes.length}:v=1:a=0,split=${RES.length + 1}` +
    RES.map((_, i) => `[s${i}]`).join('') +
    '[sc];' +
    RES.map(([w, h], i) => `[s${i}]scale=${w}:${h}[o${i}]`).join(';') +
    `;[sc]scale=160:90,select='gte(scene\\,0)',metadata=print:key=lavfi.scene_score:file=scene.txt,nullsink`;
  a.push('-filter_complex', graph);
  ENCODE_LADDER_KBPS.forEach((kbps, i) => {
    a.push('-map', `[o${i}]`, '-c:v', 'libx264', '-threads', '1', '-preset', 'veryfast', '-profile:v', 'high');
    if (zerolatency) a.push('-tune', 'zerolatency');
    if (rc === 'capped-crf') a.push('-crf', String(crf), '-maxrate', `${Math.round(kbps * 1.5)}k`, '-bufsize', `${kbps * 2}k`);
    else if (rc === 'abr') a.push('-b:v', `${kbps}k`, '-maxrate', `${Math.round(kbps * 1.5)}k`, '-bufsize', `${kbps * 2}k`);
    else a.push('-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`);
    a.push('-force_key_frames', `expr:gte(t,n_forced*${SEG_S})`, '-g', String(FPS * SEG_S * 4));
    if (!scenecut) a.push('-sc_threshold', '0');
    a.push(
      '-f',
      'hls',
      '-hls_time',
      String(SEG_S),
      '-hls_playlist_type',
      'vod',
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      '-hls_segment_filename',
      `r${i}/seg_%03d.m4s`,
      `r${i}/index.m3u8`,
    );
  });
  return { video, rc, crf, zerolatency, scenecut, scenes, args: a };
}

function run(a: string[], cwd: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('nice', ['-n', '19', ffmpegPath(), ...a], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`ffmpeg exited ${code}: ${err.slice(-2000)}`))));
  });
}

interface FrameStat {
  q: number;
  bytes: number;
  type: string;
}

/**
 * `-vstats_version 2` lines: out= N st= N frame= N q= X f_size= N ... type= T, per output in decode order (the
 * order x264 emits packets, which is the order of the samples in each fMP4 fragment). Blank lines are skipped;
 * any other line that is not such a record throws an Error naming the line (a truncated or foreign file must not
 * silently lose frames). Records of outputs >= `outputs` are ignored.
 */
export function parseVstats(text: string, outputs: number): FrameStat[][] {
  const per: FrameStat[][] = Array.from({ length: outputs }, () => []);
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^\s*out=\s*(\d+)\s+st=\s*\d+\s+frame=\s*(\d+)\s+q=\s*([\d.-]+)\s+f_size=\s*(\d+)\s.*type=\s*([IPB])\s*$/.exec(line);
    if (!m) throw new Error(`vstats line ${i + 1}: not a -vstats_version 2 frame record: ${JSON.stringify(line.slice(0, 120))}`);
    const o = Number(m[1]);
    if (o >= outputs) return;
    per[o].push({ q: Number(m[3]), bytes: Number(m[4]), type: m[5] });
  });
  return per;
}

/** LL-HLS part duration of the encodes' parts, s (the live channel's, demo/streams.ts). */
export const ENCODE_PART_S = 0.5;

/** Most container bytes (moof, mdat and segment headers) a segment may carry over its frames' bytes. */
const MAX_OVERHEAD = (frames: number) => 1024 + 32 * frames;

/**
 * Bytes of a segment's LL-HLS parts from its frames' elementary-stream bytes (`-vstats_file` f_size, decode order)
 * and its file size `segmentBytes`: part k (k = 1..parts) holds frames floor((k-1)·n/parts) .. floor(k·n/parts) - 1
 * of the segment's n frames (0.5-s parts of 2-s, 48-frame segments: 12 frames each), plus its share of the
 * segment's container overhead (segmentBytes minus the frames' bytes) in proportion to its frame count; the last
 * part takes the rounding, so the parts sum to `segmentBytes` exactly. Returns `parts` byte counts.
 * Throws an Error naming `where` when there are fewer frames than parts, a frame has no valid size, or the
 * frames do not fit the segment: more bytes than the file, or an overhead above 1024 + 32 bytes per frame (the
 * frames are not this segment's: a shifted or truncated vstats file).
 */
export function derivePartBytes(frameBytes: readonly number[], segmentBytes: number, parts: number, where = 'segment'): number[] {
  const n = frameBytes.length;
  if (!(Number.isInteger(parts) && parts >= 1)) throw new Error(`${where}: parts must be an integer >= 1, got ${parts}`);
  if (n < parts) throw new Error(`${where}: ${n} frames for ${parts} parts`);
  if (!(Number.isInteger(segmentBytes) && segmentBytes > 0)) throw new Error(`${where}: bad segment size ${segmentBytes}`);
  frameBytes.forEach((b, i) => {
    if (!(Number.isInteger(b) && b >= 0)) throw new Error(`${where}: frame ${i} has bad size ${b}`);
  });
  const es = frameBytes.reduce((a, b) => a + b, 0);
  const over = segmentBytes - es;
  if (over < 0) throw new Error(`${where}: its ${n} frames hold ${es} bytes, more than the segment's ${segmentBytes}`);
  if (over > MAX_OVERHEAD(n))
    throw new Error(
      `${where}: ${over} container bytes over its ${n} frames' ${es} (at most ${MAX_OVERHEAD(n)}): frames and segment do not match`,
    );
  const out: number[] = [];
  let used = 0;
  for (let k = 1; k <= parts; k++) {
    const a = Math.floor(((k - 1) * n) / parts);
    const b = Math.floor((k * n) / parts);
    if (k === parts) {
      out.push(segmentBytes - used);
      break;
    }
    let x = Math.round((over * (b - a)) / n);
    for (let i = a; i < b; i++) x += frameBytes[i];
    out.push(x);
    used += x;
  }
  return out;
}

/** `metadata=print` output: frame:N ... then lavfi.scene_score=X, in presentation order. */
export function parseSceneScores(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/lavfi\.scene_score=([\d.]+)/g)) out.push(Number(m[1]));
  return out;
}

const META_COLS = 'chunk,rung,bytes,frames,qp_mean,i_count,p_count,b_count,i_bytes,p_bytes,b_bytes,tail_bytes,scene';

async function encodeOne(r: Recipe, split: string, OUT: string, SECONDS: number, only?: readonly string[]): Promise<string> {
  const dir = join(OUT, 'ours');
  const work = join(OUT, 'work', r.video);
  const hash = createHash('sha256').update(JSON.stringify(r.args)).digest('hex').slice(0, 16);
  const stamp = join(dir, `${r.video}.done`);
  const partsFile = join(dir, `${r.video}.parts.csv`);
  const note = `${r.rc}${r.rc === 'capped-crf' ? ` crf ${r.crf}` : ''}${r.zerolatency ? ' zerolatency' : ''}${r.scenecut ? ' scenecut' : ''}; ${r.scenes.length} scenes: ${r.scenes.map((s) => s.kind).join(' ')}`;
  const row = `ours,${r.video},${SECONDS / SEG_S},${SEG_S},${RES.length},${note},${split}`;
  if (only && !only.includes(r.video)) return row;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash && existsSync(partsFile)) return row;
  // sizes of an earlier run of the same recipe (before part bytes were kept): the re-encode must reproduce them
  const earlier =
    existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash && existsSync(join(dir, `${r.video}.csv`))
      ? readFileSync(join(dir, `${r.video}.csv`), 'utf8')
      : null;
  rmSync(work, { recursive: true, force: true });
  RES.forEach((_, i) => mkdirSync(join(work, `r${i}`), { recursive: true }));
  await run(r.args, work);
  const frames = parseVstats(readFileSync(join(work, 'vstats.txt'), 'utf8'), RES.length);
  const scene = parseSceneScores(readFileSync(join(work, 'scene.txt'), 'utf8'));
  const per = FPS * SEG_S;
  const nSeg = SECONDS / SEG_S;
  const sizes: number[][] = [];
  const meta: string[] = [META_COLS];
  const P = Math.round(SEG_S / ENCODE_PART_S);
  const partRows: string[] = [`chunk,rung,${Array.from({ length: P }, (_, k) => `part_${k + 1}`).join(',')}`];
  for (let q = 0; q < RES.length; q++) {
    const files = readdirSync(join(work, `r${q}`))
      .filter((f) => f.endsWith('.m4s'))
      .sort();
    if (files.length !== nSeg) throw new Error(`${r.video} rung ${q}: ${files.length} segments, expected ${nSeg}`);
    if (frames[q].length !== SECONDS * FPS) throw new Error(`${r.video} rung ${q}: ${frames[q].length} frames in vstats`);
    sizes.push(files.map((f) => statSync(join(work, `r${q}`, f)).size));
  }
  for (let k = 0; k < nSeg; k++) {
    const sc = Math.max(...scene.slice(k * per, (k + 1) * per), 0);
    for (let q = 0; q < RES.length; q++) {
      const fr = frames[q].slice(k * per, (k + 1) * per);
      const by = (t: string) => fr.filter((f) => f.type === t);
      const sum = (xs: FrameStat[]) => xs.reduce((a, f) => a + f.bytes, 0);
      const qp = fr.reduce((a, f) => a + f.q, 0) / fr.length;
      const tail = sum(fr.slice(per / 2));
      const pb = derivePartBytes(
        fr.map((f) => f.bytes),
        sizes[q][k],
        P,
        `${r.video} rung ${q} segment ${k}`,
      );
      partRows.push([k, q, ...pb].join(','));
      meta.push(
        [
          k,
          q,
          sizes[q][k],
          fr.length,
          qp.toFixed(2),
          by('I').length,
          by('P').length,
          by('B').length,
          sum(by('I')),
          sum(by('P')),
          sum(by('B')),
          tail,
          sc.toFixed(4),
        ].join(','),
      );
    }
  }
  const header = `chunk,${ENCODE_LADDER_KBPS.join(',')}`;
  const rows = Array.from({ length: nSeg }, (_, k) => `${k},${sizes.map((s) => s[k]).join(',')}`);
  const csv = [header, ...rows].join('\n') + '\n';
  if (earlier !== null && earlier !== csv) {
    // libswscale/x264 are not bit-exact across machines and CPU feature sets: say how far the new tables moved
    const old = earlier
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').slice(1).map(Number));
    let changed = 0;
    let worst = 0;
    sizes.forEach((s, q) =>
      s.forEach((x, k) => {
        const o = old[k]?.[q];
        if (o !== x) changed++;
        if (o) worst = Math.max(worst, Math.abs(x - o) / o);
      }),
    );
    console.warn(
      `[data:encodes] ${r.video}: the re-encode differs from the earlier tables of the same recipe at ${changed} of ${nSeg * RES.length} segments (at most ${(100 * worst).toFixed(2)} %); tables rewritten from this encode`,
    );
  }
  writeFileSync(join(dir, `${r.video}.csv`), csv);
  writeFileSync(partsFile, partRows.join('\n') + '\n');
  writeFileSync(join(dir, `${r.video}.meta.csv`), meta.join('\n') + '\n');
  writeFileSync(stamp, hash + '\n');
  rmSync(work, { recursive: true, force: true });
  return row;
}

function writeIndex(OUT: string, rows: readonly string[]): void {
  writeFileSync(join(OUT, 'index.csv'), ['source,video,chunks,chunk_s,rungs,genre_or_note,split', ...rows].join('\n') + '\n');
}

type Split = 'train' | 'dev' | 'test';

/**
 * The splits of the videos after the seeded ones, as `--extra-split` gives them: one split for all of them (`dev`), or
 * consecutive blocks `SPLIT:N,...` whose last block may omit N (all the rest), e.g. `dev:6,test` (session 11: the six
 * dev encodes of session 10 stay dev, every later video is test). Throws InputError on anything else.
 */
export function parseExtraSplit(spec: string): Array<[Split, number]> {
  const blocks = spec.split(',').map((b) => b.trim());
  return blocks.map((b, i) => {
    const m = /^(train|dev|test)(?::(\d+))?$/.exec(b);
    if (!m || (m[2] === undefined && i < blocks.length - 1) || (m[2] !== undefined && !(Number(m[2]) > 0)))
      throw new InputError(
        `--extra-split ${spec}: expected SPLIT or SPLIT:N,...,SPLIT (train|dev|test; N > 0; only the last block without N)`,
      );
    return [m[1] as Split, m[2] === undefined ? Infinity : Number(m[2])];
  });
}

/**
 * Split of each video index 0..videos-1: a seeded (mulberry32(seed)) shuffle of the first min(videos, splitVideos)
 * videos, the first 20 % of it test, the next 20 % dev, the rest train; the later videos get `extra` (a split, or
 * blocks as parseExtraSplit reads them; a video after the last counted block with none open is an InputError). With
 * videos <= splitVideos this is the split the dataset always had.
 */
export function splitVideosOf(videos: number, seed: number, splitVideos = 10, extra: string = 'dev'): Map<number, string> {
  const blocks = parseExtraSplit(extra);
  const n = Math.min(videos, splitVideos);
  const order = Array.from({ length: n }, (_, i) => i);
  const srng = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(srng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nDev = Math.round(n * 0.2);
  const nTest = Math.round(n * 0.2);
  const splitOf = new Map<number, string>();
  order.forEach((v, i) => splitOf.set(v, i < nTest ? 'test' : i < nTest + nDev ? 'dev' : 'train'));
  let b = 0;
  let left = blocks[0][1];
  for (let v = n; v < videos; v++) {
    while (left === 0 && b < blocks.length - 1) left = blocks[++b][1];
    if (left === 0) throw new InputError(`--extra-split ${extra} covers ${v - n} videos after the first ${n}, not ${videos - n}`);
    splitOf.set(v, blocks[b][0]);
    left--;
  }
  return splitOf;
}

export interface EncodesOptions {
  /** output directory (default bench/coding-meta) */
  out?: string;
  /** videos (default 10) and seconds per video (even, >= 20; default 96) */
  videos?: number;
  seconds?: number;
  /** seed of scene plans, encoder settings and the split (default 14) */
  seed?: number;
  /** encode only these videos (e.g. ['enc00']); the others keep their tables and index rows */
  only?: readonly string[];
  /**
   * The seeded 60/20/20 split covers the first `splitVideos` videos (default 10, the committed dataset's); videos
   * after them all go to `extraSplit` (default 'dev'), so adding videos never moves an earlier video to another split.
   */
  splitVideos?: number;
  /** a split, or blocks `SPLIT:N,...,SPLIT` (parseExtraSplit), e.g. `dev:6,test` */
  extraSplit?: string;
  log?: (s: string) => void;
}

/**
 * Encodes (or resumes) the dataset and writes its tables; returns the index rows. Throws InputError on bad
 * options, Error when ffmpeg fails or its statistics do not cover every frame.
 */
export async function encodeDataset(o: EncodesOptions = {}): Promise<string[]> {
  const OUT = resolve(o.out ?? 'bench/coding-meta');
  const VIDEOS = o.videos ?? 10;
  const SECONDS = o.seconds ?? 96;
  const SEED = o.seed ?? 14;
  const SPLIT_N = o.splitVideos ?? 10;
  const EXTRA = o.extraSplit ?? 'dev';
  if (!(VIDEOS > 0) || !(SECONDS >= 20) || SECONDS % 2 !== 0)
    throw new InputError('--videos must be > 0 and --seconds an even number >= 20');
  if (!(Number.isInteger(SPLIT_N) && SPLIT_N >= 1)) throw new InputError(`--split-videos must be an integer >= 1, got ${SPLIT_N}`);
  parseExtraSplit(EXTRA);
  const t0 = Date.now();
  const print = o.log ?? ((s: string) => console.log(s));
  const log = (s: string) => print(`[data:encodes +${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
  mkdirSync(join(OUT, 'ours'), { recursive: true });
  const splitOf = splitVideosOf(VIDEOS, SEED, SPLIT_N, EXTRA);
  const rows: string[] = [];
  for (let v = 0; v < VIDEOS; v++) {
    const r = recipe(v, SEED, SECONDS);
    const started = Date.now();
    rows.push(await encodeOne(r, splitOf.get(v)!, OUT, SECONDS, o.only));
    if (!o.only || o.only.includes(r.video))
      log(`${r.video} (${splitOf.get(v)}; ${rows[rows.length - 1].split(',')[5]}) done in ${Math.round((Date.now() - started) / 1000)} s`);
    // a full run indexes what it has so far (an interrupted run leaves a usable dataset); an --only run keeps the
    // complete index of the earlier run until it has every row
    if (!o.only || v === VIDEOS - 1) writeIndex(OUT, rows);
  }
  rmSync(join(OUT, 'work'), { recursive: true, force: true });
  log(`${VIDEOS} videos x ${SECONDS} s in ${OUT}`);
  return rows;
}
