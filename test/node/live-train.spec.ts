/** The issue-14 trainers on tiny synthetic inputs, and their command lines. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../../src/core/random.js';
import { LiveDrlPolicy } from '../../src/abr/live-drl.js';
import { LearnedSizeForecaster } from '../../src/abr/size-model.js';
import { loadDenseLayers, loadSizeNet, type ChunkVideo } from '../../src/sim/abr/chunks.js';
import { TrueSizes, runLiveSession } from '../../src/sim/abr/live.js';
import type { SimTrace } from '../../src/sim/abr/env.js';
import { trainChunkSize } from '../../src/train/chunks.js';
import { trainLiveAbr } from '../../src/train/live-abr.js';
import { InputError } from '../../src/train/errors.js';

const quiet = () => undefined;
/** a stream whose complexity moves in scenes; 3 rungs, 2 s chunks */
function video(name: string, n: number, seed: number, split: string): ChunkVideo {
  const rng = mulberry32(seed);
  const ladderKbps = [300, 750, 1200];
  let c = 1;
  const sizes = Array.from({ length: n }, () => {
    if (rng() < 0.15) c = 0.4 + 1.2 * rng();
    const wobble = 0.9 + 0.2 * rng();
    return ladderKbps.map((k) => Math.round((c * wobble * k * 1000 * 2) / 8));
  });
  return { source: 'synthetic', video: name, split, chunkS: 2, ladderKbps, sizes, meta: null, note: '' };
}
const trace = (name: string, mbps: number): SimTrace => ({
  name,
  time: Array.from({ length: 200 }, (_, i) => i),
  bw: Array.from({ length: 200 }, (_, i) => mbps * (1 + 0.4 * Math.sin(i / 5))),
});

describe('issue-14 trainers on tiny synthetic inputs', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-live-train-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const train = Array.from({ length: 5 }, (_, i) => video(`t${i}`, 50, i + 1, 'train'));
  const dev = [video('d0', 40, 11, 'dev'), video('d1', 40, 12, 'dev')];

  it('train:chunks — meta-learned and plain: selects on dev, writes a forecaster that loads and forecasts', async () => {
    for (const steps of [1, 0]) {
      const out = join(dir, `chunks${steps}`);
      const r = await trainChunkSize({
        trainVideos: train,
        devVideos: dev,
        innerSteps: steps,
        iters: 16,
        evalEvery: 8,
        batch: 8,
        hidden: 8,
        out,
        log: quiet,
      });
      expect(r.history.map((h) => h.iter)).toEqual([8, 16]);
      expect([8, 16]).toContain(r.selectedIter);
      expect(r.devShared.length).toBe(5);
      const net = loadSizeNet(out);
      expect(net.steps).toBe(steps);
      expect(net.body[0].m).toBe(8);
      const f = new LearnedSizeForecaster(net);
      f.start({ ladderKbps: dev[0].ladderKbps, chunkS: 2 });
      for (let i = 0; i < 12; i++) f.observe(dev[0].sizes[i]);
      for (const row of f.forecast(5)) for (const x of row) expect(Number.isFinite(x) && x > 0).toBeTrue();
      const card = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
      expect(card.inner_steps).toBe(steps);
    }
    await expectAsync(trainChunkSize({ trainVideos: train, devVideos: dev, batch: 12, log: quiet })).toBeRejectedWithError(
      InputError,
      /multiple of 8/,
    );
  });

  it('train:live-abr — imitation then PPO (src/train/ppo.ts); writes an actor the live policy plays', async () => {
    const out = join(dir, 'live');
    // its own forecaster (the spec runs alone too, e.g. with --filter): the smallest meta-learned one
    const sizeDir = join(dir, 'chunks-for-live');
    await trainChunkSize({
      trainVideos: train,
      devVideos: dev,
      innerSteps: 1,
      iters: 8,
      evalEvery: 8,
      batch: 8,
      hidden: 8,
      out: sizeDir,
      log: quiet,
    });
    const sizeNet = loadSizeNet(sizeDir);
    const r = await trainLiveAbr({
      trainVideos: train,
      devVideos: dev,
      trainTraces: [trace('a', 1.5), trace('b', 3)],
      validTraces: [trace('v', 2)],
      sizeNet,
      bcSessions: 4,
      bcEpochs: 3,
      iters: 2,
      envs: 2,
      rollout: 8,
      valueWarmup: 1,
      evalEvery: 1,
      sessionS: 30,
      hidden: 16,
      out,
      log: quiet,
    });
    expect(r.imitationLoss.length).toBe(3);
    expect(r.imitationLoss[2]).toBeLessThan(r.imitationLoss[0]);
    expect(r.history.map((h) => h.iter)).toEqual([1, 2]);
    expect(Number.isFinite(r.mpcValidationQoe)).toBeTrue();
    expect(existsSync(join(out, 'model.json'))).toBeTrue();
    const pol = new LiveDrlPolicy(loadDenseLayers(out, ['s1', 's2', 'score']));
    const v = dev[0];
    const lv = { name: v.video, ladderKbps: v.ladderKbps, chunkS: v.chunkS, sizes: v.sizes };
    const s = runLiveSession(pol, lv, trace('v', 2), new TrueSizes(lv), { startChunk: 5, chunks: 20 });
    expect(s.segments).toBe(20);
    await expectAsync(trainLiveAbr({ trainVideos: [], devVideos: dev, sizeNet, log: quiet })).toBeRejectedWithError(
      InputError,
      /needs training/,
    );
  });

  it('the entry points answer --help and exit 2 on a bad flag', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const help = spawnSync(tsx, ['src/train/cli/live-abr.ts', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--bc-sessions N');
    const bad = spawnSync(tsx, ['bench/cli/live-abr.ts', '--sizes', 'true,oracle'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--sizes: one of true, mean, predicted, declared, got "oracle"');
    const unknown = spawnSync(tsx, ['src/train/cli/chunks.ts', '--inner-step', '3'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--inner-step'");
    const chunks = spawnSync(tsx, ['bench/cli/chunks.ts', '--data', join(tmpdir(), 'no-such-dataset')], { encoding: 'utf8' });
    expect(chunks.status).toBe(2);
    expect(chunks.stderr).toContain('index.csv missing');
  });
});
