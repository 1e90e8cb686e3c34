/**
 * Accuracy/latency-aware deployment (src/deploy/): the weight compressions (int8 with a per-tensor scale, fp16,
 * magnitude masks), the sparse plain-JS forward pass, the plain-JS profile network, the coarse prior, the speed
 * factor and the per-task choice of variant, backend and placement.
 */
import { deploymentEvents } from '../../src/telemetry/deployment.js';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { dequantizeInt8, fromHalf, magnitudeMask, quantizeInt8, toFloat16, toHalf } from '../../src/deploy/quantize.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ABR_TASK_MODEL,
  DEPLOY_MODELS,
  historyOf,
  parseVariantId,
  TASK_MODELS,
  VARIANTS_OF,
  variantId,
  variantIds,
  variantPath,
} from '../../src/deploy/catalog.js';
import type { DeployProfile, ProfileRow } from '../../src/deploy/catalog.js';
import { DEFAULT_ABR_MODEL } from '../../src/monitor.js';
import { mergeRuns, type BenchRow } from '../../bench/deploy.js';
import { accuracyScale, predictLatency, selectDeployment } from '../../src/deploy/select.js';
import { probeSpeed, speedFactor } from '../../src/deploy/speed.js';
import { FastMlp, type DenseKernel } from '../../src/core/fast-mlp.js';
import { AttentionPrior, coarsenPrior } from '../../src/viewport/prior.js';
import { FastProfile, buildProfileModel, predictProfile, type ProfileNorm } from '../../src/profile/model.js';
import { REQUEST_FEATURES } from '../../src/profile/features.js';
import { mulberry32 } from '../../src/core/random.js';
import { fromYawPitch } from '../../src/viewport/geometry.js';

describe('deployment: weight compression', () => {
  it('int8 with one scale per tensor decodes within half a step, keeps the extreme exactly and zero as zero', () => {
    const rng = mulberry32(3);
    const w = Float32Array.from({ length: 1000 }, () => (rng() - 0.5) * 0.6);
    w[17] = 0;
    const q = quantizeInt8(w);
    const max = Math.max(...Array.from(w, Math.abs));
    expect(q.scale).toBeCloseTo(max / 127, 12);
    const back = dequantizeInt8(q);
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(q.scale / 2 + 1e-7);
    expect(back[17]).toBeCloseTo(0, 6);
    expect(quantizeInt8(new Float32Array(4)).scale).toBe(1);
  });

  it('fp16 rounds to nearest, handles subnormals, overflow and NaN', () => {
    for (const v of [0, 1, -2.5, 0.1, 65504, 6.1e-5, 3e-7, -1e-3]) {
      const back = fromHalf(toHalf(v));
      expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -11, 2 ** -25));
    }
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(fromHalf(toHalf(-1e6))).toBe(-Infinity);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBeTrue();
    expect(toFloat16([1, 2]).length).toBe(2);
  });

  it('a magnitude mask keeps the largest share and refuses a sparsity outside [0, 1)', () => {
    const w = [0.1, -0.5, 0.2, 0.05, -0.9, 0.3, 0.01, 0.4];
    const m = magnitudeMask(w, 0.75);
    expect(Array.from(m)).toEqual([0, 1, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(magnitudeMask(w, 0)).every((x) => x === 1)).toBeTrue();
    expect(() => magnitudeMask(w, 1)).toThrowError(RangeError);
  });
});

describe('deployment: plain-JS forward passes', () => {
  function kernel(n: number, m: number, rng: () => number, zeroShare = 0): DenseKernel {
    const kernel = Float32Array.from({ length: n * m }, () => (rng() < zeroShare ? 0 : rng() - 0.5));
    return { kernel, bias: Float32Array.from({ length: m }, () => rng() - 0.5), n, m };
  }

  it('a mostly-zero (pruned) network gives the same outputs through its compressed rows as dense', () => {
    const rng = mulberry32(5);
    const sparse = [kernel(30, 40, rng, 0.8), kernel(40, 6, rng, 0.8)];
    const dense = sparse.map((k) => ({ ...k, kernel: k.kernel.slice() }));
    dense.forEach((k) => (k.kernel[0] = k.kernel[0] || 1e-30)); // same numbers, but now counted as one more non-zero
    const a = new FastMlp(sparse);
    expect(a.sparsity).toBeGreaterThan(0.7);
    const x = Float32Array.from({ length: 30 }, () => rng() - 0.5);
    const ya = Array.from(a.forward(x));
    // reference: the plain dense product
    let h: number[] = Array.from(x);
    sparse.forEach((k, li) => {
      const o = Array.from(k.bias);
      for (let i = 0; i < k.n; i++) for (let j = 0; j < k.m; j++) o[j] += h[i] * k.kernel[i * k.m + j];
      h = li < sparse.length - 1 ? o.map((v) => Math.max(0, v)) : o;
    });
    for (let j = 0; j < 6; j++) expect(ya[j]).toBeCloseTo(h[j], 5);
  });

  it('FastProfile equals predictProfile (tfjs) for the shipped and a narrower network', async () => {
    await tf.setBackend('cpu');
    const rng = mulberry32(9);
    const norm: ProfileNorm = {
      mean: Array.from({ length: REQUEST_FEATURES }, () => rng()),
      std: Array.from({ length: REQUEST_FEATURES }, () => 0.5 + rng()),
      yScale: [10, 2, 3],
    };
    for (const widths of [undefined, { conv: 8, fc1: 24, fc2: 12 }]) {
      const model = buildProfileModel(tf, 2, widths);
      const fast = new FastProfile(model);
      const x = Float32Array.from({ length: REQUEST_FEATURES }, () => rng() * 3);
      const ref = predictProfile(tf, model, norm, x, [0]);
      const y = fast.predict(x, norm);
      for (let k = 0; k < 3; k++) expect(y[k]).toBeCloseTo(ref[k], 3);
      model.dispose();
    }
  });
});

describe('deployment: data variants', () => {
  it('a coarsened prior keeps every window’s mass and equals the prior built on the coarse grid', () => {
    const rng = mulberry32(11);
    const traces = Array.from({ length: 6 }, () => {
      const xyz = new Float64Array(150 * 3);
      let yaw = rng() * 360;
      for (let i = 0; i < 150; i++) xyz.set(fromYawPitch((yaw += 2), 20 * (rng() - 0.5)), 3 * i);
      return { t0: 0, xyz };
    });
    const fine = AttentionPrior.build(traces, { cols: 24, rows: 12 }).toJSON();
    const coarse = AttentionPrior.build(traces, { cols: 12, rows: 6 }).toJSON();
    const c = coarsenPrior(fine, 2);
    expect(c.grid).toEqual([12, 6]);
    expect(c.windows.length).toBe(fine.windows.length);
    for (let i = 0; i < c.windows.length; i++) {
      const sum = (w: Array<[number, number]>) => w.reduce((s, [, v]) => s + v, 0);
      expect(sum(c.windows[i])).toBeCloseTo(sum(fine.windows[i]), 2);
      const want = new Map(coarse.windows[i]);
      for (const [cell, v] of c.windows[i]) expect(v).toBeCloseTo(want.get(cell) ?? 0, 2);
    }
    expect(() => coarsenPrior(fine, 5)).toThrowError(/does not divide/);
  });
});

describe('deployment: choice of variant and placement', () => {
  const row = (variant: string, backend: ProfileRow['backend'], throttle: number, p50: number, acc: number, bytes: number): ProfileRow => ({
    model: 'viewport',
    variant,
    backend,
    throttle,
    rel_accuracy: acc,
    p50_ms: p50,
    p95_ms: p50 * 1.5,
    bytes,
  });
  const rows: ProfileRow[] = [];
  for (const [t, k] of [
    [1, 1],
    [4, 4],
    [20, 20],
  ])
    rows.push(
      row('full', 'js', t, 0.2 * k, 1, 200_000),
      row('int8', 'js', t, 0.2 * k, 0.995, 60_000),
      row('distilled', 'js', t, 0.05 * k, 0.96, 20_000),
      row('full', 'cpu', t, 0.8 * k, 1, 200_000),
    );

  it('names variants and paths consistently', () => {
    expect(parseVariantId(variantId('int8', 'short-history'))).toEqual({ variant: 'int8', data: 'short-history' });
    expect(() => parseVariantId('huge')).toThrowError(/unknown variant/);
    expect(variantIds('viewport-prior')).toContain('large');
    expect(variantPath('viewport', 'full')).toBe('viewport/model.json');
  });

  it('interpolates latency between throttle rates (log–log) and beyond them proportionally', () => {
    const full = rows.filter((r) => r.variant === 'full' && r.backend === 'js');
    expect(predictLatency(full, 4)![0]).toBeCloseTo(0.8, 9);
    expect(predictLatency(full, 2)![0]).toBeCloseTo(0.4, 9);
    expect(predictLatency(full, 40)![0]).toBeCloseTo(8, 9);
    expect(predictLatency([], 1)).toBeNull();
  });

  it('picks the least cost meeting the floor and budget, degrades with a reason, and takes a faster edge', () => {
    const fast = selectDeployment('viewport', { accuracyFloor: 0.99, latencyBudgetMs: 5 }, { rows, factor: 1, backends: ['js', 'cpu'] });
    expect(`${fast.variant}@${fast.backend}`).toBe('int8@js'); // fewer bytes than full, same speed, above the floor
    expect(fast.feasible).toBeTrue();
    const loose = selectDeployment('viewport', { accuracyFloor: 0.9, latencyBudgetMs: 5 }, { rows, factor: 1, backends: ['js'] });
    expect(loose.variant).toBe('distilled');
    // a phone (20×): nothing accurate fits 2 ms, the distilled model does not meet 0.99 → most accurate within budget
    const phone = selectDeployment('viewport', { accuracyFloor: 0.99, latencyBudgetMs: 2 }, { rows, factor: 20, backends: ['js'] });
    expect(phone.feasible).toBeFalse();
    expect(phone.variant).toBe('distilled');
    expect(phone.reason).toMatch(/nothing meets/);
    // the edge as one more placement: meets the floor in budget where no device variant does
    const edge = selectDeployment(
      'viewport',
      { accuracyFloor: 0.99, latencyBudgetMs: 30 },
      {
        rows,
        factor: 200,
        backends: ['js'],
        edge: { variant: 'viewport-prior/large', relAccuracy: 1.05, latencyMs: 20, uploadBytes: 400 },
      },
    );
    expect(edge.placement).toBe('edge');
    expect(edge.model).toBe('viewport-prior');
    const none = selectDeployment('viewport', { latencyBudgetMs: 5 }, { rows: [], factor: 1, backends: ['js'] });
    expect(none.reason).toMatch(/no profile/);
  });

  it('puts the models of one task on one accuracy scale: a cheap plain variant does not beat the more accurate prior model', () => {
    // per-model rel_accuracy: viewport/distilled is 0.98 of *its* full model, which is itself 15 % worse than the
    // prior model's full version (dev mean error 24° vs 20.4°): on the task's scale it is 0.83, under the floor
    const mk = (model: ProfileRow['model'], variant: string, p50: number, acc: number, bytes: number) =>
      [1, 4, 20].map((t): ProfileRow => ({
        model,
        variant,
        backend: 'js',
        throttle: t,
        rel_accuracy: acc,
        p50_ms: p50 * t,
        p95_ms: 1.5 * p50 * t,
        bytes,
      }));
    const two = [
      ...mk('viewport', 'full', 0.2, 1, 120_000),
      ...mk('viewport', 'distilled', 0.05, 0.98, 20_000),
      ...mk('viewport-prior', 'full', 0.25, 1, 180_000),
      ...mk('viewport-prior', 'int8', 0.25, 0.996, 74_000),
    ];
    const fullAccuracy = {
      viewport: { metric: 'dev mean error °', value: 24, higher_is_better: false },
      'viewport-prior': { metric: 'dev mean error °', value: 20.4, higher_is_better: false },
    };
    const c = selectDeployment(
      'viewport',
      { accuracyFloor: 0.97, latencyBudgetMs: 20 },
      { rows: two, factor: 1, backends: ['js'], fullAccuracy },
    );
    expect(`${c.model}/${c.variant}`).toBe('viewport-prior/int8');
    expect(c.rel_accuracy).toBeCloseTo(0.996, 9);
    // without the prior (this video has none) the plain model is the task's best: its own scale again
    const plain = selectDeployment(
      'viewport',
      { accuracyFloor: 0.97, latencyBudgetMs: 20 },
      { rows: two, factor: 1, backends: ['js'], models: ['viewport'], fullAccuracy },
    );
    expect(`${plain.model}/${plain.variant}`).toBe('viewport/distilled');
    expect(plain.rel_accuracy).toBeCloseTo(0.98, 9);
    // the scale itself, and none across metrics
    const s = accuracyScale(['viewport-prior', 'viewport'], fullAccuracy)!;
    expect(s.get('viewport-prior')).toBe(1);
    expect(s.get('viewport')).toBeCloseTo(20.4 / 24, 12);
    expect(
      accuracyScale(['viewport-prior', 'viewport'], { ...fullAccuracy, viewport: { metric: 'MAE', value: 3, higher_is_better: false } }),
    ).toBeNull();
    // a profile without the full versions' scores: no common scale, so the task's preferred model competes alone
    const noScale = selectDeployment('viewport', { accuracyFloor: 0.97, latencyBudgetMs: 20 }, { rows: two, factor: 1, backends: ['js'] });
    expect(noScale.model).toBe('viewport-prior');
    expect(noScale.reason).toMatch(/no common accuracy scale/);
  });

  it('a task chooses among its own models only (the ABR task never takes a viewport variant, nor the older DRL)', () => {
    const abrRows = (model: 'abr-drl' | 'abr-drl-player', ms: number, bytes: number) =>
      [1, 4, 20].map((t): ProfileRow => ({
        model,
        variant: 'full',
        backend: 'js',
        throttle: t,
        rel_accuracy: 1,
        p50_ms: ms * t,
        p95_ms: 1.6 * ms * t,
        bytes,
      }));
    // models/abr-drl's row is cheaper and as accurate relative to its own full model: the task must not take it
    const c = selectDeployment(
      'abr',
      { accuracyFloor: 0.9, latencyBudgetMs: 50 },
      {
        rows: [...rows, ...abrRows('abr-drl', 0.1, 10_000), ...abrRows('abr-drl-player', 0.5, 90_000)],
        factor: 1,
        backends: ['js', 'cpu'],
      },
    );
    expect(c.model).toBe(DEFAULT_ABR_MODEL);
    expect(c.candidates).toBe(1);
    // a profile with the older DRL's rows only offers the task nothing (no silent swap of the player's network)
    const none = selectDeployment(
      'abr',
      { accuracyFloor: 0.9, latencyBudgetMs: 50 },
      { rows: [...rows, ...abrRows('abr-drl', 0.1, 10_000)], factor: 1, backends: ['js'] },
    );
    expect(none.model).toBe('');
    // an app may still name the older DRL itself
    const named = selectDeployment(
      'abr',
      { accuracyFloor: 0.9, latencyBudgetMs: 50 },
      { rows: abrRows('abr-drl', 0.1, 10_000), factor: 1, backends: ['js'], models: ['abr-drl'] },
    );
    expect(named.model).toBe('abr-drl');
  });

  it("the ABR task's model is monitor()'s DEFAULT_ABR_MODEL, with its variants built and profiled", () => {
    // the catalog cannot import monitor.ts (no DOM there): this keeps the two from drifting apart
    expect(TASK_MODELS.abr[0]).toBe(DEFAULT_ABR_MODEL);
    expect(ABR_TASK_MODEL).toBe(DEFAULT_ABR_MODEL);
    expect(TASK_MODELS.abr.length).toBe(1);
    expect(DEPLOY_MODELS).toContain(DEFAULT_ABR_MODEL as (typeof DEPLOY_MODELS)[number]);
    const m = ABR_TASK_MODEL;
    expect(variantPath(m, 'full')).toBe(`${DEFAULT_ABR_MODEL}/model.json`);
    expect(variantPath(m, 'int8')).toBe(`variants/${DEFAULT_ABR_MODEL}/int8/model.json`);
    expect(historyOf(m, 'full')).toBe(8);
    expect(historyOf(m, 'short-history')).toBe(4);
    // every variant's weights ship under models/
    for (const v of VARIANTS_OF[m]) {
      const f = join('models', variantPath(m, v));
      expect(existsSync(f)).withContext(f).toBeTrue();
      const j = JSON.parse(readFileSync(f, 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
      for (const w of j.weightsManifest.flatMap((x) => x.paths))
        expect(existsSync(join(f, '..', w)))
          .withContext(w)
          .toBeTrue();
    }
    // the shipped profile has every (variant × data variant) of it, its dev score, and the selector deploys it at
    // every device class it was profiled for
    const prof = JSON.parse(readFileSync('models/variants/profile.json', 'utf8')) as DeployProfile;
    const ids = new Set(prof.rows.filter((r) => r.model === m).map((r) => r.variant));
    expect([...ids].sort()).toEqual(variantIds(m).sort());
    expect(prof.full_accuracy?.[m]?.higher_is_better).toBeTrue();
    for (const factor of [1, 4, 20]) {
      const c = selectDeployment(
        'abr',
        { accuracyFloor: 0.95, latencyBudgetMs: 1000 },
        { rows: prof.rows, factor, backends: ['js', 'cpu'], fullAccuracy: prof.full_accuracy },
      );
      expect(c.model).withContext(c.reason).toBe(DEFAULT_ABR_MODEL);
      expect(c.feasible).withContext(c.reason).toBeTrue();
    }
  });

  it("bench:deploy --merge replaces the profiled models' rows and keeps every other model's", () => {
    const row = (model: BenchRow['model'], variant: string, p50: number): BenchRow => ({
      model,
      variant,
      backend: 'js',
      throttle: 1,
      rel_accuracy: 1,
      p50_ms: p50,
      p95_ms: p50,
      bytes: 1,
      where: 'worker',
      batch: 1,
    });
    const acc = (model: BenchRow['model'], value: number) => ({ model, variant: 'full', metric: 'm', value, rel_accuracy: 1 });
    const prev = {
      rows: [row('abr-drl', 'full', 1), row('abr-drl-player', 'full', 2), row('viewport', 'int8', 3)],
      accuracy: [acc('abr-drl', 0.5), acc('abr-drl-player', 0.8), acc('viewport', 20)],
    };
    const m = mergeRuns(
      prev,
      ['abr-drl-player'],
      [row('abr-drl-player', 'full', 9), row('abr-drl-player', 'int8', 8)],
      [acc('abr-drl-player', 0.9)],
    );
    expect(m.rows.map((r) => `${r.model}/${r.variant}/${r.p50_ms}`)).toEqual([
      'abr-drl/full/1',
      'viewport/int8/3',
      'abr-drl-player/full/9',
      'abr-drl-player/int8/8',
    ]);
    expect(m.accuracy.map((a) => `${a.model}:${a.value}`)).toEqual(['abr-drl:0.5', 'viewport:20', 'abr-drl-player:0.9']);
    // no earlier run: this run's alone
    expect(mergeRuns(null, ['viewport'], [row('viewport', 'full', 1)], []).rows.length).toBe(1);
  });

  it('places a device between the profiled throttle rates by its speed probe', () => {
    const ref = [
      { throttle: 1, msPerMmac: 1 },
      { throttle: 4, msPerMmac: 4 },
      { throttle: 20, msPerMmac: 20 },
    ];
    expect(speedFactor(2, ref)).toBeCloseTo(2, 9);
    expect(speedFactor(0.5, ref)).toBeCloseTo(0.5, 9);
    expect(speedFactor(40, ref)).toBeCloseTo(40, 9);
    expect(() => speedFactor(1, [])).toThrowError(/no reference/);
    const p = probeSpeed(2);
    expect(p.rounds).toBeGreaterThanOrEqual(5);
    expect(p.msPerMmac).toBeGreaterThan(0);
  });
});

describe('deployment telemetry events (src/telemetry/deployment.ts deploymentEvents)', () => {
  it('shapes each choice into its event: nothing chosen gives nulls and an empty backend, never the text "undefined"', () => {
    const events = deploymentEvents({
      choices: [
        {
          task: 'viewport',
          placement: 'device',
          model: 'viewport',
          variant: 'int8',
          backend: 'wasm',
          rel_accuracy: 0.987654,
          p95_ms: 1.23456,
          bytes: 12345.6,
          factor: 4.00049,
          reason: 'fits',
        },
        // what a worker answers when no variant fits (and what an app may hand over with fields left out)
        {
          task: 'abr',
          placement: 'device',
          model: '',
          variant: '',
          rel_accuracy: NaN,
          p95_ms: Infinity,
          bytes: 0,
          factor: 1,
          reason: 'none fits',
        } as never,
        {
          task: 'viewport-edge',
          placement: 'edge',
          model: 'viewport',
          variant: 'fp32',
          backend: 'edge',
          rel_accuracy: 1,
          p95_ms: 12,
          bytes: 0,
          factor: 20,
          reason: 'ielb',
        },
      ],
      errors: ['abr: no such file', 'viewport-edge: unreachable'],
    });
    expect(events.map((e) => e.task)).toEqual(['viewport', 'abr', 'viewport-edge']);
    expect(events[0]).toEqual({
      task: 'viewport',
      model: 'viewport',
      variant: 'int8',
      backend: 'wasm',
      placement: 'device',
      rel_accuracy: 0.9877,
      p95_ms: 1.235,
      bytes: 12346,
      speed_factor: 4,
      reason: 'fits',
      error: null,
    });
    expect(events[1].backend).toBe('');
    expect(events[1].model).toBeNull();
    expect(events[1].variant).toBeNull();
    expect(events[1].rel_accuracy).toBeNull();
    expect(events[1].p95_ms).toBeNull();
    expect(events[1].error).toBe('abr: no such file');
    // the errors of another task that shares a prefix do not leak: 'viewport' must not take 'viewport-edge: …'
    expect(events[0].error).toBeNull();
    expect(events[2].error).toBe('viewport-edge: unreachable');
    expect(events[2].placement).toBe('edge');
    for (const e of events) expect(JSON.stringify(e)).not.toContain('undefined');
  });

  it('clips long strings and refuses a state without choices or a choice without its task', () => {
    const long = 'x'.repeat(2000);
    const [e] = deploymentEvents({
      choices: [
        {
          task: long,
          placement: 'device',
          model: long,
          variant: long,
          backend: long,
          rel_accuracy: 1,
          p95_ms: 1,
          bytes: 1,
          factor: 1,
          reason: long,
        },
      ],
    });
    expect([e.task.length, e.model!.length, e.variant!.length, e.backend.length, e.reason.length]).toEqual([32, 64, 64, 16, 512]);
    expect(() => deploymentEvents({} as never)).toThrowError(TypeError, /choices/);
    expect(() => deploymentEvents({ choices: [{ task: '' }] } as never)).toThrowError(TypeError, /task/);
  });
});

describe("train:variants for the ABR task's model (src/train/variants.ts)", () => {
  it('builds abr-drl-player’s four variants from player-simulator and Pensieve states, keeping other models’ records and commands', async () => {
    const { trainVariants } = await import('../../src/train/variants.js');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const out = mkdtempSync(join(tmpdir(), 'ep-variants-'));
    try {
      // an earlier run's manifest with another model's record
      const old = { model: 'viewport', variant: 'int8', params: 1, sparsity: 0, bytes: 1 };
      writeFileSync(join(out, 'variants.json'), JSON.stringify({ command: 'earlier run', variants: [old] }));
      const lines: string[] = [];
      const recs = await trainVariants({
        models: [ABR_TASK_MODEL],
        out,
        samples: 1000,
        epochScale: 0.05,
        command: 'this run',
        log: (l) => lines.push(l),
      });
      expect(recs.map((r) => `${r.model}/${r.variant}`)).toEqual(
        ['int8', 'fp16', 'pruned', 'distilled'].map((v) => `${ABR_TASK_MODEL}/${v}`),
      );
      // half the states from the hls.js-semantics simulator with the player's semantics, half from the Pensieve one
      expect(lines.some((l) => /100 states from the hls\.js-semantics simulator/.test(l)))
        .withContext(lines.join('\n'))
        .toBeTrue();
      expect(lines.some((l) => /200 states from the training traces/.test(l)))
        .withContext(lines.join('\n'))
        .toBeTrue();
      for (const v of ['int8', 'fp16', 'pruned', 'distilled'] as const)
        expect(existsSync(join(out, ABR_TASK_MODEL, v, 'model.json')))
          .withContext(v)
          .toBeTrue();
      expect(recs.find((r) => r.variant === 'pruned')!.sparsity).toBeCloseTo(0.75, 2);
      const m = JSON.parse(readFileSync(join(out, 'variants.json'), 'utf8')) as {
        commands: Record<string, string>;
        variants: Array<{ model: string; variant: string }>;
      };
      expect(m.variants.map((r) => `${r.model}/${r.variant}`)).toContain('viewport/int8');
      expect(m.commands).toEqual({ viewport: 'earlier run', [ABR_TASK_MODEL]: 'this run' });
      // without the player simulator's segment sizes it says what is missing
      await expectAsync(
        trainVariants({
          models: [ABR_TASK_MODEL],
          out,
          samples: 1000,
          epochScale: 0.05,
          hlsSizes: join(out, 'nothing'),
          log: () => undefined,
        }),
      ).toBeRejectedWithError(/segment sizes/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
