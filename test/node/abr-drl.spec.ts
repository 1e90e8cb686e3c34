/** The committed DRL bitrate model: loads, has the declared shape, and behaves sensibly on synthetic links. */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DrlPolicy, FastActor, FEATURES, features } from '../../src/abr/drl.js';
import { VIDEO_BIT_RATE_KBPS, type AbrObservation } from '../../src/core/abr.js';
import { loadModel } from '../../src/train/io.js';
import { runPolicy } from '../../src/sim/abr/run.js';

const DIR = 'models/abr-drl';

describe('DRL bitrate policy (models/abr-drl)', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    model = await loadModel(DIR);
  });

  it('has a model card and the input width of features()', () => {
    expect(existsSync(`${DIR}/MODEL.md`)).toBeTrue();
    expect(model.inputs[0].shape).toEqual([null, FEATURES]);
    const o: AbrObservation = {
      lastQuality: 2,
      bufferS: 12,
      throughputs: [300, 400],
      delaysMs: [900, 800],
      nextSizes: [1e5, 2e5, 3e5, 5e5, 8e5, 1.2e6],
      remain: 30,
      nextIndex: 18,
      totalChunks: 48,
      ladderKbps: VIDEO_BIT_RATE_KBPS,
      rebufS: 0,
    };
    const f = features(o);
    expect(f.length).toBe(FEATURES);
    expect(Array.from(f).every(Number.isFinite)).toBeTrue();
  });

  it('computes the same logits in plain JavaScript as tfjs', () => {
    const fast = new FastActor(model);
    let seed = 3;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let k = 0; k < 20; k++) {
      const x = Float32Array.from({ length: FEATURES }, () => rnd() * 2 - 0.5);
      const ref = tf.tidy(() => ((model.predict(tf.tensor2d(x, [1, FEATURES])) as tf.Tensor[])[0].dataSync() as Float32Array).slice());
      const got = fast.forward(x);
      for (let j = 0; j < ref.length; j++) expect(Math.abs(got[j] - ref[j])).toBeLessThan(1e-4);
    }
  });

  it('streams high on a fast link and low on a slow one, without long stalls', () => {
    // CBR-like synthetic video: chunk bytes = bitrate x 4 s
    const sizes = VIDEO_BIT_RATE_KBPS.map((k) => Array.from({ length: 49 }, () => (k * 1000 * 4) / 8));
    const flat = (mbps: number) => ({
      name: `flat-${mbps}`,
      time: Array.from({ length: 400 }, (_, i) => i),
      bw: Array.from({ length: 400 }, () => mbps),
    });
    const policy = new DrlPolicy(model);
    const [fast] = runPolicy(policy, [flat(12)], sizes);
    const [slow] = runPolicy(policy, [flat(0.6)], sizes);
    expect(fast.bitrateSum / 47).toBeGreaterThan(3.5); // mostly 4.3 Mbps
    expect(slow.bitrateSum / 47).toBeLessThan(0.76); // at most the 750 kbps rung on average
    expect(fast.rebufSum).toBeLessThan(1);
    expect(slow.rebufSum / 4.3).toBeLessThan(5); // seconds of stall over the whole video
  });
});
