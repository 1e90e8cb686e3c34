/** `npm run train:part-size -- [options]` (--help lists them): the command line of trainPartSize (../part-size.ts). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MeanOfPast } from '../../abr/size-forecast.js';
import { LearnedSizeForecaster } from '../../abr/size-model.js';
import { chunkDataDir, loadSizeNet } from '../../sim/abr/chunks.js';
import { dataRoot } from '../../sim/abr/load.js';
import { loadEncodePartVideos, loadPartVideos } from '../../sim/abr/parts.js';
import { InputError } from '../errors.js';
import { DEFAULT_FRAMES, trainPartSize } from '../part-size.js';
import { commandLine, listOf, num, oneOf, runCli } from './args.js';

const cli = {
  name: 'train:part-size',
  summary:
    "Fits the part-conditioned chunk-size correction (src/abr/part-size.ts) on the training aitrans_live videos of $EDGEPLAY_DATA/chunks,\nwith part bytes from the challenge frame traces (--frames), alone and with the train encodes of --encodes (part bytes from\nthe encoder's per-frame sizes), over the meta-learned forecaster (--model) and mean of past; selects training set, point\nweighting, share EWMA, fit and per-rate-control slopes (--rate-control) on the dev streams of both (each stream counts equally). Writes OUT/{coef.json, train.json}.",
  flags: {
    data: { type: 'string', arg: 'DIR', help: 'shared chunk dataset (default: $EDGEPLAY_DATA/chunks)' },
    frames: { type: 'string', default: DEFAULT_FRAMES, arg: 'DIR', help: "the challenge's dataset/video_trace" },
    model: { type: 'string', default: 'models/chunk-size', arg: 'DIR', help: 'base forecaster' },
    encodes: {
      type: 'string',
      default: 'bench/coding-meta',
      arg: 'DIR',
      help: "our encodes with part bytes (npm run data:encodes, e.g. bench/coding-meta); '' for the aitrans_live streams only",
    },
    parts: { type: 'string', default: '3', arg: 'K', help: 'fit k = 1..K known parts' },
    weightings: {
      type: 'string',
      default: 'points',
      arg: 'LIST',
      help: 'point weightings of the fit selected on dev (points, source, stream; src/train/part-size.ts PartWeighting)',
    },
    adapt: {
      type: 'string',
      default: '',
      arg: 'LIST',
      help: "prior strengths of the per-stream slope adaptation (HeadSlopeAdapter) selected on dev besides none, e.g. 0.03,0.1,0.3,1,3; '' for none",
    },
    'rate-control': {
      type: 'string',
      default: 'cbr+vbr',
      arg: 'LIST',
      help: 'rate-control class sets selected on dev, e.g. none,cbr,cbr+vbr: each class of a set gets its own slopes, fitted on the train encodes of that class (needs --encodes)',
    },
    forms: {
      type: 'string',
      default: 'linear,hinge,hinge+nominal,mean+linear,mean+hinge,mean+hinge+nominal',
      arg: 'LIST',
      help: "head forms of the class slopes selected per class on its dev streams (session 11; src/train/part-size.ts parseHeadForm); 'linear' with --class-alphas '' is session 10's",
    },
    'class-alphas': {
      type: 'string',
      default: '0.1,0.3,0.6',
      arg: 'LIST',
      help: "share EWMA weights of the class slopes selected with the forms on each class's dev streams (session 11), e.g. 0.1,0.3,0.6; '' for the row's",
    },
    out: { type: 'string', default: 'models/part-size', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  const data = resolve(v.data ?? chunkDataDir(dataRoot()));
  const frames = resolve(v.frames);
  if (!existsSync(join(data, 'index.csv')) || !existsSync(frames))
    throw new InputError(`train:part-size needs ${data}/index.csv and the frame traces in ${frames} (models/part-size/MODEL.md says how)`);
  const net = loadSizeNet(resolve(v.model));
  const aitrans = loadPartVideos(data, frames, ['train']);
  const encodes = v.encodes ? resolve(v.encodes) : null;
  if (encodes && !existsSync(join(encodes, 'index.csv')))
    throw new InputError(`train:part-size: ${encodes}/index.csv missing (npm run data:encodes)`);
  const encTrain = encodes ? loadEncodePartVideos(encodes, ['train']) : [];
  const rateControlSets = listOf('rate-control', v['rate-control']).map((set) =>
    set === 'none' ? [] : set.split('+').map((c) => oneOf('rate-control', c, ['cbr', 'vbr'] as const)),
  );
  if (rateControlSets.some((x) => x.length) && !encTrain.length)
    throw new InputError('train:part-size: --rate-control with a class needs --encodes (the train encodes of known rate control)');
  trainPartSize({
    trainSets: [
      { name: 'aitrans', videos: aitrans },
      ...(encTrain.length ? [{ name: 'aitrans+encodes', videos: [...aitrans, ...encTrain] }] : []),
    ],
    dev: [...loadPartVideos(data, frames, ['dev']), ...(encodes ? loadEncodePartVideos(encodes, ['dev']) : [])],
    bases: [
      { name: 'meta', make: () => new LearnedSizeForecaster(net) },
      { name: 'mean_all', make: () => new MeanOfPast() },
    ],
    K: num('parts', v.parts, { integer: true, min: 1 }),
    weightings: listOf('weightings', v.weightings, ['points', 'source', 'stream'] as const),
    adaptLambdas: listOf('adapt', v.adapt).map((x) => num('adapt', x, { min: 1e-9 })),
    rateControlSets,
    rateControlTrain: encTrain,
    forms: listOf('forms', v.forms),
    classShareAlphas: v['class-alphas']
      ? listOf('class-alphas', v['class-alphas']).map((x) => num('class-alphas', x, { min: 1e-9, max: 1 }))
      : undefined,
    out: v.out,
    command: commandLine(cli.name),
    data: { chunks: data, frames, model: resolve(v.model), ...(encodes ? { encodes } : {}) },
  });
});
