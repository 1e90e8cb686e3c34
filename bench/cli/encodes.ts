/** `npm run data:encodes -- [options]` (--help lists them): the command line of encodeDataset (../encodes.ts). */
import { listOf, num, runCli } from '../../src/train/cli/args.js';
import { encodeDataset } from '../encodes.js';

const cli = {
  name: 'data:encodes',
  summary:
    'Encodes seeded synthetic live content at the live ladder (300/750/1200 kbps, 2 s fMP4 segments) with the bundled ffmpeg, niced and\nsingle-threaded, and writes per segment and rung the bytes and the x264 coding meta (QP, I/P/B counts and bytes, tail bytes,\nscene score) in the chunk dataset format. Resumes: videos already encoded with the same recipe are skipped.',
  flags: {
    out: { type: 'string', default: 'bench/coding-meta', arg: 'DIR', help: 'output directory' },
    videos: { type: 'string', default: '10', arg: 'N', help: 'videos' },
    seconds: { type: 'string', default: '96', arg: 'S', help: 'seconds per video (even)' },
    seed: { type: 'string', default: '14', arg: 'N', help: 'seed of scene plans, encoder settings and the split' },
    only: { type: 'string', arg: 'LIST', help: 'encode only these videos, e.g. enc00,enc07 (the others keep their tables)' },
    'split-videos': { type: 'string', default: '10', arg: 'N', help: 'the seeded 60/20/20 split covers the first N videos' },
    'extra-split': {
      type: 'string',
      default: 'dev',
      arg: 'SPLIT',
      help: 'split of the videos after the first --split-videos (train|dev|test), or consecutive blocks SPLIT:N,...,SPLIT, e.g. dev:6,test',
    },
  },
} as const;

await runCli(cli, async (v) => {
  await encodeDataset({
    out: v.out,
    videos: num('videos', v.videos, { integer: true, min: 1 }),
    seconds: num('seconds', v.seconds, { integer: true, min: 20 }),
    seed: num('seed', v.seed, { integer: true }),
    only: v.only ? listOf('only', v.only) : undefined,
    splitVideos: num('split-videos', v['split-videos'], { integer: true, min: 1 }),
    extraSplit: v['extra-split'],
  });
});
