/**
 * Real HLS streams for the demo and the tests, made with the ffmpeg binary that ships inside
 * `@ffmpeg-installer/linux-x64` (no system ffmpeg needed).
 *
 * - VOD: the Pensieve/ELCast ladder 300/750/1200/1850/2850/4300 kbps, 4 s fMP4 segments, H.264 + AAC,
 *   48 segments (192 s). The content is a sequence of 24 s scenes of very different complexity
 *   (test pattern, Mandelbrot zoom, Game of Life, temporal noise), so segment sizes vary like real VBR.
 *   Generated once into the cache directory; regenerated only when missing or when the recipe changes.
 * - Live: a smaller ladder encoded in real time (`-re`) into Low-Latency HLS (ll-hls.ts: 0.5 s partial
 *   segments, 2 s segments, 6 in the window, old segments deleted, blocking playlist reloads,
 *   EXT-X-PROGRAM-DATE-TIME so the player can measure latency), capped VBR on
 *   content whose complexity changes in a 30 s cycle, with the x264 per-frame statistics and scene scores the
 *   dev server turns into each chunk's coding meta (live-meta.ts).
 *
 * Run alone with `npm run streams` (generates the VOD ladder and the 360 stream of vr-stream.ts, then exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { runCli } from '../src/train/cli/args.js';
import { LiveCodingMeta } from './live-meta.js';
import { LlHlsRung } from './ll-hls.js';

const require = createRequire(import.meta.url);

export const VOD_LADDER_KBPS = [300, 750, 1200, 1850, 2850, 4300] as const;
const VOD_RES = ['320x180', '640x360', '854x480', '1280x720', '1920x1080', '1920x1080'];
export const SEGMENT_S = 4;
export const VOD_SEGMENTS = 48;
const FPS = 24;
const SCENE_S = 24;
const AUDIO_KBPS = 64;

export const LIVE_LADDER_KBPS = [300, 750, 1200] as const;
const LIVE_RES = ['320x180', '640x360', '854x480'];
export const LIVE_SEGMENT_S = 2;
/** LL-HLS part duration, s, and PART-HOLD-BACK (the latency hls.js aims at), s: 3 parts, the spec's minimum */
export const LIVE_PART_S = 0.5;
export const LIVE_PART_HOLD_BACK_S = 1.5;
const LIVE_CYCLE_S = 30;

export function ffmpegPath(): string {
  const fromEnv = process.env.EDGEPLAY_FFMPEG;
  if (fromEnv) return fromEnv;
  try {
    return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return require.resolve('@ffmpeg-installer/linux-x64/ffmpeg');
  }
}

export function cacheDir(): string {
  return resolve(process.env.EDGEPLAY_CACHE ?? join(import.meta.dirname, '..', '.cache'));
}

const SCENES = (s: string) => [
  `testsrc2=s=${s}:r=${FPS}`,
  `mandelbrot=s=${s}:r=${FPS}:maxiter=512`,
  `life=s=${s}:r=${FPS}:mold=10:ratio=0.5:death_color=#202020:life_color=#80ff80`,
  `testsrc2=s=${s}:r=${FPS},noise=alls=18:allf=t`,
  `testsrc2=s=${s}:r=${FPS},hue=H=t/3,noise=alls=5:allf=t`,
  `mandelbrot=s=${s}:r=${FPS}:maxiter=256:start_scale=1.5:end_scale=0.01`,
  `life=s=${s}:r=${FPS}:mold=4:ratio=0.3`,
  `testsrc2=s=${s}:r=${FPS},noise=alls=8:allf=t`,
];

function vodRecipe(): string[] {
  const base = '960x540';
  const scenes = SCENES(base);
  const args: string[] = ['-y', '-hide_banner', '-loglevel', 'error'];
  for (const sc of scenes) args.push('-t', String(SCENE_S), '-f', 'lavfi', '-i', sc);
  const total = SCENE_S * scenes.length;
  args.push('-t', String(total), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:beep_factor=4');
  const audioInput = scenes.length;
  const norm = scenes.map((_, i) => `[${i}:v]format=yuv420p,setsar=1[p${i}]`).join(';');
  const concat =
    scenes.map((_, i) => `[p${i}]`).join('') +
    `concat=n=${scenes.length}:v=1:a=0,split=${VOD_LADDER_KBPS.length}` +
    VOD_LADDER_KBPS.map((_, i) => `[s${i}]`).join('');
  const scales = VOD_LADDER_KBPS.map((_, i) => `[s${i}]scale=${VOD_RES[i].replace('x', ':')}[o${i}]`).join(';');
  args.push('-filter_complex', `${norm};${concat};${scales}`);
  VOD_LADDER_KBPS.forEach((kbps, i) => {
    args.push(
      '-map',
      `[o${i}]`,
      '-map',
      `${audioInput}:a`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'high',
      '-b:v',
      `${kbps}k`,
      '-maxrate',
      `${Math.round(kbps * 1.5)}k`,
      '-bufsize',
      `${kbps * 2}k`,
      '-g',
      String(FPS * SEGMENT_S),
      '-keyint_min',
      String(FPS * SEGMENT_S),
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      `${AUDIO_KBPS}k`,
      '-ac',
      '2',
      '-f',
      'hls',
      '-hls_time',
      String(SEGMENT_S),
      '-hls_playlist_type',
      'vod',
      '-hls_segment_type',
      'fmp4',
      '-hls_flags',
      'independent_segments',
      '-hls_segment_filename',
      `v${i}/seg_%03d.m4s`,
      `v${i}/index.m3u8`,
    );
  });
  return args;
}

function run(args: string[], cwd: string, onProgress?: (line: string) => void): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(ffmpegPath(), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      err += s;
      onProgress?.(s);
    });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`ffmpeg exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** RFC 6381 codec string of the H.264 track in an fMP4 init segment (reads the avcC box). */
export function avcCodecString(init: Buffer): string {
  const i = init.indexOf('avcC');
  if (i < 0) return 'avc1.640028';
  const hex = (b: number) => b.toString(16).padStart(2, '0');
  return `avc1.${hex(init[i + 5])}${hex(init[i + 6])}${hex(init[i + 7])}`;
}

interface VariantInfo {
  dir: string;
  kbps: number;
  res: string;
  peak: number;
  avg: number;
  codecs: string;
}

function variantInfo(root: string, dir: string, kbps: number, res: string, segS: number): VariantInfo {
  const files = readdirSync(join(root, dir)).filter((f) => f.endsWith('.m4s'));
  const sizes = files.map((f) => statSync(join(root, dir, f)).size);
  const bps = sizes.map((b) => (b * 8) / segS);
  const init = readFileSync(join(root, dir, 'init.mp4'));
  return {
    dir,
    kbps,
    res,
    peak: Math.round(Math.max(...bps)),
    avg: Math.round(bps.reduce((a, b) => a + b, 0) / Math.max(1, bps.length)),
    codecs: `${avcCodecString(init)},mp4a.40.2`,
  };
}

function writeMaster(root: string, variants: VariantInfo[], extra = ''): void {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (extra) lines.push(extra);
  for (const v of variants) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.peak},AVERAGE-BANDWIDTH=${v.avg},RESOLUTION=${v.res},CODECS="${v.codecs}",FRAME-RATE=${FPS}.000`,
      `${v.dir}/index.m3u8`,
    );
  }
  writeFileSync(join(root, 'master.m3u8'), lines.join('\n') + '\n');
}

const recipeHash = (args: string[]) => createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16);

/** Make sure the VOD ladder exists in `<cache>/streams/vod`; returns its directory. */
export async function ensureVod(log: (s: string) => void = console.log): Promise<string> {
  const root = join(cacheDir(), 'streams', 'vod');
  const args = vodRecipe();
  const stamp = join(root, '.complete');
  const hash = recipeHash(args);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return root;
  rmSync(root, { recursive: true, force: true });
  VOD_LADDER_KBPS.forEach((_, i) => mkdirSync(join(root, `v${i}`), { recursive: true }));
  const t0 = Date.now();
  log(
    `[streams] encoding the VOD ladder (${VOD_SEGMENTS * SEGMENT_S} s x ${VOD_LADDER_KBPS.length} rungs) with the bundled ffmpeg; this takes a few minutes, once...`,
  );
  const timer = setInterval(() => {
    const done = existsSync(join(root, 'v5')) ? readdirSync(join(root, 'v5')).filter((f) => f.endsWith('.m4s')).length : 0;
    log(`[streams]   ${done}/${VOD_SEGMENTS} segments, ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 15000);
  try {
    await run(args, root);
  } finally {
    clearInterval(timer);
  }
  const variants = VOD_LADDER_KBPS.map((kbps, i) => variantInfo(root, `v${i}`, kbps, VOD_RES[i], SEGMENT_S));
  writeMaster(root, variants);
  // Per-rung segment sizes in the video_size_q format of the Pensieve data (bytes, one per line).
  VOD_LADDER_KBPS.forEach((_, i) => {
    const dir = join(root, `v${i}`);
    const sizes = readdirSync(dir)
      .filter((f) => f.endsWith('.m4s'))
      .sort()
      .map((f) => statSync(join(dir, f)).size);
    writeFileSync(join(root, `video_size_${i}`), sizes.join('\n') + '\n');
  });
  writeFileSync(stamp, hash + '\n');
  log(`[streams] VOD ladder ready in ${Math.round((Date.now() - t0) / 1000)} s: ${root}`);
  return root;
}

export interface LiveStream {
  dir: string;
  /** each finished chunk's coding meta at every rung, written into the media playlists */
  meta: LiveCodingMeta;
  /**
   * wall clock, ms since the epoch: the encoder's spawn (media time 0 in the playlists' program dates, so a
   * latency measured against them errs long) and the arrival of its first part (`LIVE_PART_S` of media)
   */
  clock: { spawnMs: number; firstPartMs: number | null };
  /** the LL-HLS packager of each rung (blocking playlist reloads: `rungs[i].waitFor`) */
  rungs: LlHlsRung[];
  stop(): void;
  ready: Promise<void>;
}

/**
 * Start the real-time live encoder. The sliding playlist lives in `<cache>/streams/live`. Resolves
 * `ready` once every rung has at least three segments in its playlist.
 */
export function startLive(log: (s: string) => void = console.log): LiveStream {
  const root = join(cacheDir(), 'streams', 'live');
  rmSync(root, { recursive: true, force: true });
  LIVE_LADDER_KBPS.forEach((_, i) => mkdirSync(join(root, `v${i}`), { recursive: true }));
  const args: string[] = [
    '-y',
    '-hide_banner',
    '-nostats',
    // info: the scene scores arrive on stderr, unbuffered (a metadata print file is flushed every 32 kB)
    '-loglevel',
    'info',
    '-vstats_file',
    'vstats.txt',
    '-vstats_version',
    '2',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=640x360:r=${FPS}`,
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=660:sample_rate=48000:beep_factor=2',
  ];
  // VBR content whose complexity changes: a 30 s cycle of calm test card, heavy temporal noise, calm, light noise
  // with a colour sweep; the scene-change score of every frame goes to stderr (the coding meta's scene score)
  const complexity =
    `noise=alls=28:allf=t:enable='between(mod(t,${LIVE_CYCLE_S}),8,16)',` +
    `hue=H=t:enable='between(mod(t,${LIVE_CYCLE_S}),22,28)',noise=alls=9:allf=t:enable='between(mod(t,${LIVE_CYCLE_S}),22,28)'`;
  const split =
    `[0:v]format=yuv420p,${complexity},split=${LIVE_LADDER_KBPS.length + 1}` +
    LIVE_LADDER_KBPS.map((_, i) => `[s${i}]`).join('') +
    '[sc];' +
    LIVE_LADDER_KBPS.map((_, i) => `[s${i}]scale=${LIVE_RES[i].replace('x', ':')}[o${i}]`).join(';') +
    `;[sc]scale=160:90,select='gte(scene\\,0)',metadata=print:key=lavfi.scene_score,nullsink`;
  args.push('-filter_complex', split);
  LIVE_LADDER_KBPS.forEach((kbps, i) => {
    args.push(
      '-map',
      `[o${i}]`,
      '-map',
      '1:a',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      // capped VBR (ABR with a 1.5x peak): segment sizes follow the content, as the forecaster expects
      '-b:v',
      `${kbps}k`,
      '-maxrate',
      `${Math.round(kbps * 1.5)}k`,
      '-bufsize',
      `${kbps * 2}k`,
      '-g',
      String(FPS * LIVE_SEGMENT_S),
      '-keyint_min',
      String(FPS * LIVE_SEGMENT_S),
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      `${AUDIO_KBPS}k`,
      '-ac',
      '2',
      // fragmented MP4 on a pipe, one fragment per 0.5 s part (a keyframe starts each segment): ll-hls.ts
      // publishes every fragment as an LL-HLS partial segment as soon as it arrives
      '-f',
      'mp4',
      '-movflags',
      'empty_moov+default_base_moof+frag_keyframe',
      '-frag_duration',
      String(Math.round(LIVE_PART_S * 1e6)),
      '-flush_packets',
      '1',
      `pipe:${3 + i}`,
    );
  });
  // media time 0 on the wall clock: the spawn, before the encoder reads its first frame (latency measured
  // against these dates errs on the long side)
  const t0Ms = Date.now();
  const p: ChildProcess = spawn(ffmpegPath(), args, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe', ...LIVE_LADDER_KBPS.map(() => 'pipe' as const)],
  });
  const rungs = LIVE_LADDER_KBPS.map(
    (_, i) =>
      new LlHlsRung(join(root, `v${i}`), {
        partFrames: FPS * LIVE_PART_S,
        segmentFrames: FPS * LIVE_SEGMENT_S,
        fps: FPS,
        window: 6,
        partHoldBackS: LIVE_PART_HOLD_BACK_S,
        t0Ms,
      }),
  );
  const clock: LiveStream['clock'] = { spawnMs: t0Ms, firstPartMs: null };
  rungs.forEach((r, i) => {
    const out = p.stdio[3 + i] as NodeJS.ReadableStream | null;
    out?.on('data', (d: Buffer) => {
      try {
        r.push(d);
        if (clock.firstPartMs === null && r.position.part >= 0) clock.firstPartMs = Date.now();
      } catch (e) {
        log(`[live] rung ${i}: ${(e as Error).message}`);
        p.kill('SIGKILL');
      }
    });
  });
  const meta = new LiveCodingMeta(root, LIVE_LADDER_KBPS.length, FPS * LIVE_SEGMENT_S, LIVE_SEGMENT_S);
  let stopped = false;
  let rest = '';
  p.stderr?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    const s = lines
      .filter((l) => {
        const m = /lavfi\.scene_score=([\d.]+)/.exec(l);
        if (m) meta.addScene(Number(m[1]));
        // info level: keep what the error level showed
        return l.trim() && /error|fail|invalid|cannot|unable/i.test(l) && !l.includes('Cannot use rename');
      })
      .join('\n');
    if (!stopped && s) log(`[live] ${s}`);
  });
  const ready = new Promise<void>((res, rej) => {
    const t0 = Date.now();
    const check = () => {
      if (stopped) return rej(new Error('live encoder stopped'));
      const ok = LIVE_LADDER_KBPS.every((_, i) => {
        const pl = join(root, `v${i}`, 'index.m3u8');
        return existsSync(pl) && (readFileSync(pl, 'utf8').match(/#EXTINF/g) ?? []).length >= 3;
      });
      if (ok) {
        const variants = LIVE_LADDER_KBPS.map((kbps, i) => ({
          dir: `v${i}`,
          kbps,
          res: LIVE_RES[i],
          peak: Math.round((kbps + AUDIO_KBPS) * 1100),
          avg: (kbps + AUDIO_KBPS) * 1000,
          codecs: `${avcCodecString(readFileSync(join(root, `v${i}`, 'init.mp4')))},mp4a.40.2`,
        }));
        writeMaster(root, variants);
        return res();
      }
      if (Date.now() - t0 > 60000) return rej(new Error('live encoder produced no playlist in 60 s'));
      setTimeout(check, 250);
    };
    check();
  });
  ready.catch(() => undefined);
  p.on('exit', (code) => {
    if (!stopped) log(`[live] encoder exited (${code})`);
  });
  return {
    dir: root,
    meta,
    clock,
    rungs,
    ready,
    stop() {
      stopped = true;
      p.kill('SIGKILL');
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // no options (strict: anything but --help is an error); not awaited: vr-stream.ts imports this module back
  void runCli(
    { name: 'streams', summary: "Generates the demo's VOD ladder and the 360 stream (cached in .cache/streams), then exits.", flags: {} },
    async () => {
      const dir = await ensureVod();
      await (await import('./vr-stream.js')).ensureVr();
      const sizes = readFileSync(join(dir, 'video_size_5'), 'utf8').trim().split('\n').map(Number);
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      const sd = Math.sqrt(sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / sizes.length);
      console.log(
        `[streams] top rung: ${sizes.length} segments, mean ${Math.round((mean * 8) / SEGMENT_S / 1000)} kbps, CV ${(sd / mean).toFixed(2)}`,
      );
    },
  );
}
