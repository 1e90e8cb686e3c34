/**
 * The 360° demo stream: an equirectangular scene rendered here frame by frame (the bundled 2018 ffmpeg has
 * no v360 filter) and piped as raw RGB into the bundled ffmpeg → HLS fMP4, two rungs (1024×512 and
 * 512×256), 4 s segments, 24 s. The scene: sky and ground, a latitude/longitude grid, four coloured
 * landmarks on the horizon (yaw 0 red, 90 yellow, 180 blue, −90 magenta) and three moving objects worth
 * looking at (an orange "bird" circling the horizon, a green ball bouncing at yaw 60°, a white drone
 * drifting overhead).
 *
 * Alongside: `viewers.csv` — synthetic head traces of viewers who follow the objects (the viewport data
 * format: user,t,yaw,pitch at 5 Hz), `prior.json` — the attention prior built from viewers 1…N−1 (the
 * edge's heat map), and viewer 0 is kept out of it for the replay mode.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { avcCodecString, cacheDir, ffmpegPath } from './streams.js';
import { AttentionPrior } from '../src/viewport/prior.js';
import { fromYawPitch, toYawPitch, slerp } from '../src/viewport/geometry.js';
import { runCli } from '../src/train/cli/args.js';

export const VR_W = 1024;
export const VR_H = 512;
const FPS = 24;
export const VR_DURATION_S = 24;
const SEG_S = 4;
const RUNGS = [
  { w: 1024, h: 512, kbps: 2000 },
  { w: 512, h: 256, kbps: 600 },
];
const RECIPE = 'vr-v1';

interface Obj {
  yaw: number;
  pitch: number;
  r: number;
  rgb: [number, number, number];
}

/** Object positions at time t (degrees). Exported so the synthetic viewers follow exactly what is drawn. */
export function objectsAt(t: number): Obj[] {
  return [
    { yaw: wrap(-150 + 15 * t), pitch: 10 + 5 * Math.sin(t * 0.8), r: 7, rgb: [255, 140, 20] }, // bird circling
    { yaw: 60, pitch: -20 + 30 * Math.abs(Math.sin(t * 0.9)), r: 6, rgb: [40, 220, 60] }, // bouncing ball
    { yaw: wrap(120 - 6 * t), pitch: 45 - 0.5 * t, r: 9, rgb: [245, 245, 255] }, // drone drifting overhead
  ];
}
const wrap = (d: number) => ((((d + 180) % 360) + 360) % 360) - 180;

function background(): Uint8Array {
  const buf = new Uint8Array(VR_W * VR_H * 3);
  const marks: Array<{ yaw: number; rgb: [number, number, number] }> = [
    { yaw: 0, rgb: [230, 40, 40] },
    { yaw: 90, rgb: [240, 220, 40] },
    { yaw: 180, rgb: [40, 90, 240] },
    { yaw: -90, rgb: [220, 40, 220] },
  ];
  for (let y = 0; y < VR_H; y++) {
    const pitch = 90 - ((y + 0.5) / VR_H) * 180;
    for (let x = 0; x < VR_W; x++) {
      const yaw = ((x + 0.5) / VR_W) * 360 - 180;
      let r: number, g: number, b: number;
      if (pitch >= 0) {
        const k = pitch / 90;
        r = 120 - 80 * k;
        g = 170 - 90 * k;
        b = 230 - 60 * k;
      } else {
        const k = -pitch / 90;
        r = 70 - 40 * k;
        g = 120 - 60 * k;
        b = 60 - 30 * k;
      }
      // grid every 30 degrees (lines ~0.6 deg wide)
      if (Math.abs(((yaw + 180) % 30) - 15) > 14.4 || Math.abs(((pitch + 90) % 30) - 15) > 14.4) {
        r = r * 0.6 + 90;
        g = g * 0.6 + 90;
        b = b * 0.6 + 90;
      }
      for (const m of marks) {
        const dy = Math.abs(wrap(yaw - m.yaw));
        if (dy < 4 && pitch > -15 && pitch < 15) [r, g, b] = m.rgb;
      }
      const o = (y * VR_W + x) * 3;
      buf[o] = r;
      buf[o + 1] = g;
      buf[o + 2] = b;
    }
  }
  return buf;
}

function renderInto(frame: Uint8Array, bg: Uint8Array, dirs: Float32Array, t: number): void {
  frame.set(bg);
  for (const o of objectsAt(t)) {
    const c = fromYawPitch(o.yaw, o.pitch);
    const cosR = Math.cos((o.r * Math.PI) / 180);
    const cosEdge = Math.cos(((o.r + 1.2) * Math.PI) / 180);
    // rows the object can touch
    const y0 = Math.max(0, Math.floor(((90 - (o.pitch + o.r + 2)) / 180) * VR_H));
    const y1 = Math.min(VR_H - 1, Math.ceil(((90 - (o.pitch - o.r - 2)) / 180) * VR_H));
    for (let y = y0; y <= y1; y++) {
      for (let x = 0; x < VR_W; x++) {
        const i = y * VR_W + x;
        const d = dirs[3 * i] * c[0] + dirs[3 * i + 1] * c[1] + dirs[3 * i + 2] * c[2];
        if (d < cosEdge) continue;
        const p = i * 3;
        if (d >= cosR) {
          frame[p] = o.rgb[0];
          frame[p + 1] = o.rgb[1];
          frame[p + 2] = o.rgb[2];
        } else {
          frame[p] = 20;
          frame[p + 1] = 20;
          frame[p + 2] = 20;
        }
      }
    }
  }
}

/** Synthetic viewers: each follows one object at a time with a lag and head noise, switching now and then. */
export function syntheticViewers(n = 16, seed = 7): string {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let q = s;
    q = Math.imul(q ^ (q >>> 15), q | 1);
    q ^= q + Math.imul(q ^ (q >>> 7), q | 61);
    return ((q ^ (q >>> 14)) >>> 0) / 4294967296;
  };
  const lines = ['user,t,yaw,pitch'];
  for (let u = 0; u < n; u++) {
    let target = Math.floor(rnd() * 3);
    let nextSwitch = 3 + rnd() * 8;
    let v = fromYawPitch(0, 0);
    const follow = 0.25 + rnd() * 0.25; // fraction of the gap closed per 0.2 s
    for (let k = 0; k * 0.2 <= VR_DURATION_S + 1e-9; k++) {
      const t = Math.round(k * 2) / 10;
      if (t >= nextSwitch) {
        target = (target + 1 + Math.floor(rnd() * 2)) % 3;
        nextSwitch = t + 3 + rnd() * 8;
      }
      const o = objectsAt(t)[target];
      const goal = fromYawPitch(o.yaw + (rnd() - 0.5) * 6, o.pitch + (rnd() - 0.5) * 4);
      const nv = [0, 0, 0];
      slerp(v, 0, goal, 0, follow, nv, 0);
      v = nv as [number, number, number];
      const [yaw, pitch] = toYawPitch(v);
      lines.push(`${u},${t.toFixed(1)},${yaw.toFixed(2)},${pitch.toFixed(2)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Make sure the 360 stream exists in `<cache>/streams/vr`; returns its directory. */
export async function ensureVr(log: (s: string) => void = console.log): Promise<string> {
  const root = join(cacheDir(), 'streams', 'vr');
  const stamp = join(root, '.complete');
  const hash = createHash('sha256')
    .update(RECIPE + JSON.stringify(RUNGS) + objectsAt.toString() + background.toString() + syntheticViewers.toString())
    .digest('hex')
    .slice(0, 16);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return root;
  rmSync(root, { recursive: true, force: true });
  RUNGS.forEach((_, i) => mkdirSync(join(root, `v${i}`), { recursive: true }));
  const t0 = Date.now();
  log(`[streams] rendering the 360 stream (${VR_DURATION_S} s equirectangular ${VR_W}x${VR_H}, ${RUNGS.length} rungs)...`);
  const args = [
    '-y',
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${VR_W}x${VR_H}`,
    '-r',
    String(FPS),
    '-i',
    'pipe:0',
    '-filter_complex',
    `[0:v]format=yuv420p,split=${RUNGS.length}${RUNGS.map((_, i) => `[s${i}]`).join('')};` +
      RUNGS.map((r, i) => `[s${i}]scale=${r.w}:${r.h}[o${i}]`).join(';'),
  ];
  RUNGS.forEach((r, i) => {
    args.push(
      '-map',
      `[o${i}]`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'high',
      '-b:v',
      `${r.kbps}k`,
      '-maxrate',
      `${Math.round(r.kbps * 1.5)}k`,
      '-bufsize',
      `${r.kbps * 2}k`,
      '-g',
      String(FPS * SEG_S),
      '-keyint_min',
      String(FPS * SEG_S),
      '-sc_threshold',
      '0',
      '-f',
      'hls',
      '-hls_time',
      String(SEG_S),
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
  const p = spawn(ffmpegPath(), args, { cwd: root, stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<void>((res, rej) => {
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`ffmpeg exited ${code}: ${err.slice(-2000)}`))));
  });
  const bg = background();
  const dirs = new Float32Array(VR_W * VR_H * 3);
  for (let y = 0; y < VR_H; y++)
    for (let x = 0; x < VR_W; x++)
      dirs.set(fromYawPitch(((x + 0.5) / VR_W) * 360 - 180, 90 - ((y + 0.5) / VR_H) * 180), (y * VR_W + x) * 3);
  const frames = VR_DURATION_S * FPS;
  for (let f = 0; f < frames; f++) {
    const frame = new Uint8Array(VR_W * VR_H * 3);
    renderInto(frame, bg, dirs, f / FPS);
    if (!p.stdin.write(frame)) await new Promise((r) => p.stdin.once('drain', r));
  }
  p.stdin.end();
  await done;
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  RUNGS.forEach((r, i) => {
    const segs = readdirSync(join(root, `v${i}`))
      .filter((f) => f.endsWith('.m4s'))
      .map((f) => statSync(join(root, `v${i}`, f)).size);
    const bps = segs.map((b) => (b * 8) / SEG_S);
    const codecs = avcCodecString(readFileSync(join(root, `v${i}`, 'init.mp4')));
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(Math.max(...bps))},AVERAGE-BANDWIDTH=${Math.round(bps.reduce((a, b) => a + b, 0) / bps.length)},RESOLUTION=${r.w}x${r.h},CODECS="${codecs}",FRAME-RATE=${FPS}.000`,
      `v${i}/index.m3u8`,
    );
  });
  writeFileSync(join(root, 'master.m3u8'), lines.join('\n') + '\n');
  const csv = syntheticViewers();
  writeFileSync(join(root, 'viewers.csv'), csv);
  // the prior is built from every viewer but 0, who is the replay viewer
  const rows = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const traces: Array<{ t0: number; xyz: number[] }> = [];
  for (const [u, t, yaw, pitch] of rows) {
    if (u === '0') continue;
    const ui = Number(u) - 1;
    traces[ui] ??= { t0: Number(t), xyz: [] };
    traces[ui].xyz.push(...fromYawPitch(Number(yaw), Number(pitch)));
  }
  writeFileSync(join(root, 'prior.json'), JSON.stringify(AttentionPrior.build(traces).toJSON()));
  writeFileSync(stamp, hash + '\n');
  log(`[streams] 360 stream ready in ${Math.round((Date.now() - t0) / 1000)} s: ${root}`);
  return root;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // no options (strict: anything but --help is an error)
  void runCli(
    {
      name: 'tsx demo/vr-stream.ts',
      summary: 'Generates the 360 demo stream, its synthetic viewers and the attention prior (cached in .cache/streams), then exits.',
      flags: {},
    },
    async () => {
      await ensureVr();
    },
  );
}
