/**
 * Viewport prediction: sphere geometry, the baselines on synthetic motion, the 5 Hz sampler, the
 * attention prior, tiles and prefetch plans, the learned models' plain-JS forward pass, and the
 * evaluation protocol pinned to the reference numbers of the viewport data README.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fromYawPitch, orthodromic, reyaw, toYawPitch, unyaw } from '../../src/viewport/geometry.js';
import { ConstantVelocity, LinearRegression, NoMotion } from '../../src/viewport/predictors.js';
import { ViewportSampler } from '../../src/viewport/sampler.js';
import { AttentionPrior } from '../../src/viewport/prior.js';
import { DEFAULT_GRID, prefetchPlan, tileProbabilities, visibleTiles } from '../../src/viewport/tiles.js';
import { LearnedViewport, buildViewportModel, inputSize, modelInput } from '../../src/viewport/model.js';
import { FastMlp } from '../../src/core/fast-mlp.js';
import { dataRoot } from '../../src/sim/abr/load.js';
import { loadViewportDir, readIndex, withDerivedDev } from '../../src/sim/viewport/data.js';
import { evaluate, looPriors } from '../../src/sim/viewport/protocol.js';
import { loadModel } from '../../src/train/io.js';
import { embedViewportWeights } from '../../src/train/viewport.js';

const DEG = 180 / Math.PI;
const data = join(dataRoot(), 'viewport');
const have = existsSync(join(data, 'index.csv'));
const why = `viewport data not found under ${data} (set EDGEPLAY_DATA)`;

/** a trace turning at a constant rate about a fixed axis: yaw rate `dps` at pitch `pitch` */
function turning(n: number, dps: number, pitch = 0, yaw0 = 170): Float64Array {
  const out = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) out.set(fromYawPitch(yaw0 + dps * 0.2 * i, pitch), 3 * i);
  return out;
}

describe('viewport geometry', () => {
  it('converts yaw/pitch and back, measures great-circle distance, aligns and restores yaw', () => {
    for (const [y, p] of [
      [0, 0],
      [90, 10],
      [-179.5, -45],
      [180, 80],
      [33.3, -89],
    ]) {
      const v = fromYawPitch(y, p);
      expect(Math.hypot(...v)).toBeCloseTo(1, 12);
      const [y2, p2] = toYawPitch(v);
      expect(p2).toBeCloseTo(p, 9);
      if (Math.abs(p) < 89) expect(Math.abs(((y2 - y + 540) % 360) - 180)).toBeLessThan(1e-9);
    }
    expect(orthodromic(fromYawPitch(0, 0), 0, fromYawPitch(90, 0), 0) * DEG).toBeCloseTo(90, 9);
    expect(orthodromic(fromYawPitch(179, 0), 0, fromYawPitch(-179, 0), 0) * DEG).toBeCloseTo(2, 9); // no wrap trouble
    expect(orthodromic(fromYawPitch(10, 90), 0, fromYawPitch(-150, 90), 0) * DEG).toBeLessThan(1e-6); // the pole
    // x = cos(p) sin(y), y = sin(p), z = -cos(p) cos(y) (the data README's convention)
    const v = fromYawPitch(90, 0);
    expect(v[0]).toBeCloseTo(1, 12);
    expect(fromYawPitch(0, 0)[2]).toBeCloseTo(-1, 12);
    const a = fromYawPitch(37, 12),
      out = [0, 0, 0],
      back = [0, 0, 0];
    const c = Math.cos((37 * Math.PI) / 180),
      s = Math.sin((37 * Math.PI) / 180);
    unyaw(a, 0, c, s, out, 0);
    expect(toYawPitch(out)[0]).toBeCloseTo(0, 9);
    expect(toYawPitch(out)[1]).toBeCloseTo(12, 9);
    reyaw(out, 0, c, s, back, 0);
    for (let k = 0; k < 3; k++) expect(back[k]).toBeCloseTo(a[k], 12);
  });
});

describe('viewport baselines', () => {
  it('no-motion repeats the last sample; constant velocity and regression continue a steady turn exactly', () => {
    const tr = turning(5, 30);
    const nm = new NoMotion().predict(tr, 25);
    for (let k = 0; k < 25; k++) expect(orthodromic(nm, 3 * k, tr, 12)).toBeLessThan(1e-12);
    const future = turning(30, 30).subarray(15);
    const cv = new ConstantVelocity(5).predict(tr, 25);
    const lr = new LinearRegression(5).predict(tr, 25);
    for (let k = 0; k < 25; k++) {
      expect(orthodromic(cv, 3 * k, future, 3 * k) * DEG).toBeLessThan(1e-6); // across the ±180° seam
      expect(orthodromic(lr, 3 * k, future, 3 * k) * DEG).toBeLessThan(1e-6);
    }
    // a turn about a tilted axis: constant angular velocity is exact on any great circle
    const tilted = new Float64Array(30 * 3);
    for (let i = 0; i < 30; i++) {
      const a = 0.05 * i;
      const v = [Math.sin(a), Math.sin(a) * 0.6, -Math.cos(a)];
      const n = Math.hypot(...v);
      tilted.set(
        v.map((x) => x / n),
        3 * i,
      );
    }
    // (normalised points of a plane through the origin lie on a great circle; the angle steps are not
    // equal, so check only that the prediction stays on that circle)
    const p = new ConstantVelocity(5).predict(tilted.subarray(0, 15), 10);
    for (let k = 0; k < 10; k++) expect(Math.abs(p[3 * k + 1] - 0.6 * p[3 * k])).toBeLessThan(1e-9); // y = 0.6 x plane
  });
});

describe('viewport sampler', () => {
  it('resamples 60 fps render frames onto the 5 Hz playback grid and restarts on a seek', () => {
    const s = new ViewportSampler(50);
    const at = (t: number) => fromYawPitch(20 * t, 10 * Math.sin(t));
    for (let f = 0; f <= 120; f++) {
      const t = 1.003 + f / 60;
      s.push(t, ...at(t));
    }
    const got = s.latest(10)!;
    expect(got.t).toBeCloseTo(3, 9);
    for (let i = 0; i < 10; i++) {
      const t = 1.2 + 0.2 * i;
      expect(orthodromic(got.xyz, 3 * i, at(t), 0) * DEG).toBeLessThan(0.01); // slerp between frames 16 ms apart
    }
    expect(s.size).toBe(10);
    expect(s.latest(11)).toBeNull();
    s.push(0.5, ...at(0.5)); // seek back
    expect(s.size).toBe(0);
    expect(s.latest(1)).toBeNull();
  });
});

describe('attention prior and tiles', () => {
  it('builds a normalised heat map per window and points its local mean at where viewers look', () => {
    const traces = [0, 1, 2].map((u) => ({ t0: 0, xyz: turning(50, 0, 0, 60 + u) })); // three viewers near yaw 61
    const prior = AttentionPrior.build(traces);
    const hm = prior.heatmap(3.1);
    expect(hm.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(prior.heatmap(99).every((x) => x === 0)).toBeTrue(); // no data there
    const lm = new Float64Array(4);
    prior.localMean(3, fromYawPitch(30, 0), 2, lm, 0);
    const [yaw] = toYawPitch([lm[0], lm[1], lm[2]]);
    expect(Math.abs(yaw - 67.5)).toBeLessThan(8); // the 15-degree cell holding yaw 60-62
    const json = JSON.parse(JSON.stringify(prior.toJSON()));
    expect(new AttentionPrior(json).heatmap(3.1)).toEqual(hm);
    expect(() => new AttentionPrior({ ...json, kind: 'x' })).toThrowError(/kind/);
  });

  it('turns a prediction into tile probabilities and a prefetch plan within budget', () => {
    const c = fromYawPitch(0, 0);
    const vis = visibleTiles(c, 0);
    expect([...vis].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 18, 19, 20, 21]); // 100x90 FOV on 8x4 tiles
    const sharp = tileProbabilities(c, 0);
    for (let t = 0; t < 32; t++) expect(sharp[t]).toBeCloseTo(vis.has(t) ? 1 : 0, 9);
    const wide = tileProbabilities(c, 30);
    expect(wide[11]).toBeGreaterThan(0.9); // a few displacements (Rayleigh tail) leave even the centre tile
    expect(wide[9] + wide[14]).toBeGreaterThan(0); // uncertainty spreads to neighbours
    expect(wide[9]).toBeLessThan(wide[10]);
    const plan = prefetchPlan(wide, 16, 0.25, 1);
    expect(plan.bits).toBeLessThanOrEqual(16);
    expect(plan.allHighBits).toBe(32);
    const high = plan.quality.map((q, i) => (q === 'high' ? i : -1)).filter((i) => i >= 0);
    const minHigh = Math.min(...high.map((i) => wide[i]));
    const maxLow = Math.max(...plan.quality.map((q, i) => (q === 'low' ? wide[i] : 0)));
    expect(minHigh).toBeGreaterThanOrEqual(maxLow);
    expect(DEFAULT_GRID.cols * DEFAULT_GRID.rows).toBe(32);
  });
});

describe('learned viewport model', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('runs the same forward pass in plain JavaScript as tfjs, and starts as no-motion', () => {
    for (const withPrior of [false, true]) {
      const model = buildViewportModel(tf, { withPrior, seed: 3 });
      // give the output layer weights so the check is not trivially zero
      const out = model.getLayer('residual');
      out.setWeights(out.getWeights().map((w) => tf.randomUniform(w.shape, -0.05, 0.05, 'float32', 5)));
      const fast = new FastMlp(model, ['d1', 'd2', 'residual']);
      const hist = turning(10, 25, 5);
      const { x } = modelInput(hist, withPrior, null, 7);
      expect(x.length).toBe(inputSize(withPrior));
      const ref = tf.tidy(() => (model.predict(tf.tensor2d(x, [1, x.length])) as tf.Tensor).dataSync() as Float32Array);
      const got = fast.forward(x);
      for (let j = 0; j < ref.length; j++) expect(Math.abs(got[j] - ref[j])).toBeLessThan(1e-5);
    }
    const fresh = new LearnedViewport(buildViewportModel(tf, { withPrior: false })); // zero residual layer
    const hist = turning(10, 25, 5);
    const p = fresh.predict(hist, 25);
    for (let k = 0; k < 25; k++) expect(orthodromic(p, 3 * k, hist, 27)).toBeLessThan(1e-6);
  });

  it('a warm start embeds a trained model in a wider, longer-history one that computes the same (train:viewport --init-from)', () => {
    for (const withPrior of [false, true]) {
      const small = buildViewportModel(tf, { withPrior, hidden: 8, history: 4, seed: 2 });
      const big = buildViewportModel(tf, { withPrior, hidden: 20, history: 9, seed: 3 });
      // random weights everywhere (the output layer starts at zero), so a copy error shows
      for (const m of [small, big])
        for (const n of ['d1', 'd2', 'residual']) {
          const l = m.getLayer(n);
          l.setWeights(l.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.3, 0.3, 'float32', 7 + i)));
        }
      embedViewportWeights(tf, small, big, withPrior);
      const hist = turning(12, 30, 10);
      const xs = modelInput(hist, withPrior, null, 3, new Float32Array(inputSize(withPrior, 4)), 4).x;
      const xb = modelInput(hist, withPrior, null, 3, new Float32Array(inputSize(withPrior, 9)), 9).x;
      if (withPrior) {
        // the prior features (zero without a prior): give both the same non-zero ones
        for (let j = 0; j < 48; j++) xs[12 + j] = xb[27 + j] = Math.sin(j);
      }
      const ys = tf.tidy(() => (small.predict(tf.tensor2d(xs, [1, xs.length])) as tf.Tensor).dataSync() as Float32Array);
      const yb = tf.tidy(() => (big.predict(tf.tensor2d(xb, [1, xb.length])) as tf.Tensor).dataSync() as Float32Array);
      expect(ys.some((v) => Math.abs(v) > 1e-3)).toBeTrue();
      for (let j = 0; j < ys.length; j++) expect(Math.abs(yb[j] - ys[j])).toBeLessThan(1e-5);
    }
    const narrow = buildViewportModel(tf, { withPrior: false, hidden: 4, history: 4 });
    expect(() => embedViewportWeights(tf, buildViewportModel(tf, { withPrior: false, hidden: 8, history: 4 }), narrow, false)).toThrowError(
      /cannot nest/,
    );
  });

  it('the committed models load, have a model card and stay under 100k parameters', async () => {
    for (const dir of ['models/viewport', 'models/viewport-prior']) {
      expect(existsSync(`${dir}/MODEL.md`))
        .withContext(dir)
        .toBeTrue();
      const m = await loadModel(dir);
      expect(m.countParams()).toBeLessThan(100000);
      const lv = new LearnedViewport(m);
      expect(lv.withPrior).toBe(dir.endsWith('prior'));
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) lv.predict(turning(10, 20 + i * 0.01), 25, { t: 8 });
      expect((performance.now() - t0) / 200).toBeLessThan(1); // ms per prediction, plain JS
    }
  });
});

describe('viewport protocol on the shared data', () => {
  it('reproduces the data README baselines on the dev split (no-motion, constant velocity, regression)', () => {
    if (!have) return pending(why);
    const dev = loadViewportDir(data, (r) => r.split === 'dev' && !r.derived);
    const ref: Record<string, Record<string, number[]>> = {
      jin2022: {
        'no-motion': [2.9, 12.1, 19.2, 23.3, 28.7],
        'const-velocity': [3.0, 16.5, 30.6, 39.6, 50.6],
        'linear-regression': [4.1, 17.0, 29.9, 37.9, 48.1],
      },
      wu2017: {
        'no-motion': [4.4, 19.3, 31.6, 39.5, 49.0],
        'const-velocity': [4.0, 23.4, 44.4, 58.3, 71.4],
        'linear-regression': [5.5, 24.3, 44.0, 56.7, 68.2],
      },
    };
    for (const ds of Object.keys(ref)) {
      for (const p of [new NoMotion(), new ConstantVelocity(5), new LinearRegression(5)]) {
        const r = evaluate(
          p,
          dev.filter((t) => t.dataset === ds),
        );
        [0, 4, 9, 14, 24].forEach((k, i) =>
          expect(Math.abs(r.errorDeg[k] - ref[ds][p.name][i]))
            .withContext(`${ds} ${p.name} step ${k + 1}`)
            .toBeLessThanOrEqual(0.05 + 1e-9),
        );
      }
    }
  });

  it('derives a David dev split that shares no user and no video with its train split', () => {
    if (!have) return pending(why);
    const rows = withDerivedDev(readIndex(data)).filter((r) => r.dataset === 'david_mmsys18');
    const dev = rows.filter((r) => r.split === 'dev');
    const train = rows.filter((r) => r.split === 'train');
    expect(dev.length).toBeGreaterThan(10);
    const tv = new Set(train.map((r) => r.video)),
      tu = new Set(train.map((r) => r.user));
    expect(dev.some((r) => tv.has(r.video) || tu.has(r.user))).toBeFalse();
  });

  it("builds each viewer's prior from the other viewers only", () => {
    if (!have) return pending(why);
    const dev = loadViewportDir(data, (r) => r.split === 'dev' && r.dataset === 'wu2017');
    const priors = looPriors(dev);
    for (const t of dev) {
      const others = dev.filter((o) => o.video === t.video && o !== t).length;
      expect(priors.get(t)!.json.viewers).toBe(others);
    }
  });
});

describe('bench:viewport on any directory in the data format', () => {
  it('runs on a small synthetic dataset (dev only, no train split) and writes the rows', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'vp-synth-'));
    try {
      mkdirSync(join(dir, 'synth'));
      const index = ['dataset,video,user,split,n_samples,t_start,t_end,source,note'];
      for (const video of ['a', 'b']) {
        const lines = ['user,t,yaw,pitch'];
        for (let u = 1; u <= 3; u++) {
          for (let k = 0; k < 200; k++)
            lines.push(`${u},${(k * 0.2).toFixed(1)},${(((u * 40 + k * 1.5 + 180) % 360) - 180).toFixed(2)},0.00`);
          index.push(`synth,${video},${u},dev,200,0.0,39.8,generated,`);
        }
        writeFileSync(join(dir, 'synth', `${video}.csv`), lines.join('\n') + '\n');
      }
      writeFileSync(join(dir, 'index.csv'), index.join('\n') + '\n');
      const out = join(dir, 'out');
      mkdirSync(out);
      execFileSync(
        join(process.cwd(), 'node_modules', '.bin', 'tsx'),
        [join(process.cwd(), 'bench', 'cli', 'viewport.ts'), '--data', dir, '--models', join(process.cwd(), 'models')],
        { cwd: out, stdio: 'pipe' },
      );
      const res = JSON.parse(readFileSync(join(out, 'bench', 'results', 'viewport.json'), 'utf8'));
      const models = new Set(res.rows.map((r: { model: string }) => r.model));
      expect([...models].sort()).toEqual(['const-velocity', 'learned', 'learned+prior', 'linear-regression', 'no-motion']);
      expect(res.rows.every((r: { dataset: string }) => r.dataset === 'synth')).toBeTrue();
      // a steady 7.5 deg/s turn on the horizon: constant velocity is exact, no-motion is 2 s x 7.5 deg off at 2 s
      const at2 = (m: string) => res.rows.find((r: { model: string; horizon_s: unknown }) => r.model === m && r.horizon_s === 2).error_deg;
      expect(at2('const-velocity')).toBeLessThan(0.5);
      expect(Math.abs(at2('no-motion') - 15)).toBeLessThan(1);
      expect(res.tiles.length).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});

describe('ViewportClient / Profiler options', () => {
  it("refuse 'worker' (the option is port: workerViewportPort / workerProfilePort(worker)) but not worker: undefined", async () => {
    const { ViewportClient } = await import('../../src/viewport/client.js');
    const { Profiler } = await import('../../src/profile/client.js');
    expect(() => new ViewportClient({ worker: {} } as never)).toThrowError(TypeError, /workerViewportPort/);
    expect(() => new Profiler({ ep: {} as never, worker: {} } as never)).toThrowError(TypeError, /workerProfilePort/);
    // an app spreading its config with the key unset keeps working (no port: the no-motion fallback)
    const vp = new ViewportClient({ worker: undefined } as never);
    const hist = new Float64Array(30);
    for (let i = 0; i < 10; i++) hist[3 * i + 2] = -1; // 10 samples looking at -Z
    const p = await vp.predict(hist, 1.8);
    expect(p.fallback).toBeTrue();
  });
});
