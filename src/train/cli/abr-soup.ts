/** `npm run train:abr-soup -- --a DIR --b DIR --alpha X --out DIR`: two DRL ABR models' weights interpolated (../soup.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { commandLine, num, repoRelative, runCli } from './args.js';
import { InputError } from '../errors.js';
import { loadModel, saveModel } from '../io.js';
import { interpolateWeights } from '../soup.js';

const cli = {
  name: 'train:abr-soup',
  summary: "Interpolates two DRL ABR models' weights, (1 − X)·A + X·B, into OUT/{model.json,weights.bin,train.json}.",
  flags: {
    a: { type: 'string', arg: 'DIR', help: 'model A (alpha 0)' },
    b: { type: 'string', arg: 'DIR', help: 'model B (alpha 1)' },
    alpha: { type: 'string', default: '0.5', arg: 'X', help: 'weight of B, in [0, 1]' },
    out: { type: 'string', arg: 'DIR', help: 'output directory' },
  },
} as const;

await runCli(cli, async (v) => {
  if (!v.a || !v.b || !v.out) throw new InputError('train:abr-soup needs --a, --b and --out');
  const alpha = num('alpha', v.alpha, { min: 0 });
  if (alpha > 1) throw new InputError(`--alpha: must be at most 1, got "${v.alpha}"`);
  await tf.setBackend('wasm');
  const load = async (d: string) => {
    try {
      return await loadModel(resolve(d));
    } catch {
      throw new InputError(`no model in ${d}`);
    }
  };
  const a = await load(v.a);
  const b = await load(v.b);
  try {
    interpolateWeights(tf, a, b, alpha, a);
  } catch (e) {
    // two models of different architectures (another model family, another width): the user's choice of directories
    throw new InputError(`${v.a} and ${v.b} cannot be interpolated: ${(e as Error).message} (two DRL ABR models of one architecture)`);
  }
  mkdirSync(resolve(v.out), { recursive: true });
  await saveModel(a, resolve(v.out));
  writeFileSync(
    join(resolve(v.out), 'train.json'),
    JSON.stringify({ command: commandLine(cli.name), a: repoRelative(v.a), b: repoRelative(v.b), alpha }, null, 2) + '\n',
  );
  console.log(`wrote ${v.out}`);
});
