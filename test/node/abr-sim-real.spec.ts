/**
 * The hls-mode benches. bench:abr-sim-real (bench/abr-sim-real.ts): each real run is replayed with the player
 * semantics it was played with (stage F): `+norefetch` runs without the re-fetch after a switch, `+abandon` runs with
 * the controller's abandonment (needs the Pensieve video sizes, $EDGEPLAY_DATA/abr/video, for stage A; pending
 * without them). bench:abr-hls (bench/abr-hls.ts): a model given by absolute path is recorded repo-relative.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAbrSimReal, parseRunPolicy } from '../../bench/abr-sim-real.js';
import { benchAbrHls } from '../../bench/abr-hls.js';
import { RobustMpc } from '../../src/abr/baselines.js';
import { DEFAULT_ABANDON } from '../../src/abr/abandon.js';
import type { AbrObservation, AbrPolicy } from '../../src/core/abr.js';
import { HLS_VOD_LEVELS, runHlsVod } from '../../src/sim/abr/hls-vod.js';
import { dataRoot, loadVideoSizes } from '../../src/sim/abr/load.js';
import { InputError } from '../../src/train/errors.js';

/**
 * Run `fn` with EDGEPLAY_CACHE on a temporary stream cache: our VOD ladder's 48 fragment sizes per level as
 * `sizeOf(the level's bytes at its average rate, fragment index)`, and one trace file of `mbps(second)` for `seconds`
 * (default 300). Restores the environment and removes the directory.
 */
async function withStreamCache(
  sizeOf: (nominalBytes: number, i: number) => number,
  trace: { name: string; mbps: (t: number) => number; seconds?: number },
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ep-abrhls-'));
  const prevCache = process.env.EDGEPLAY_CACHE;
  try {
    mkdirSync(join(dir, 'streams', 'vod'), { recursive: true });
    HLS_VOD_LEVELS.averageBps.forEach((b, q) =>
      writeFileSync(
        join(dir, 'streams', 'vod', `video_size_${q}`),
        Array.from({ length: 48 }, (_, i) => Math.round(sizeOf((b * 4) / 8, i))).join('\n') + '\n',
      ),
    );
    mkdirSync(join(dir, 'traces'));
    const n = trace.seconds ?? 300;
    writeFileSync(join(dir, 'traces', trace.name), Array.from({ length: n }, (_, t) => `${t}\t${trace.mbps(t)}`).join('\n') + '\n');
    process.env.EDGEPLAY_CACHE = dir;
    await fn(dir);
  } finally {
    if (prevCache === undefined) delete process.env.EDGEPLAY_CACHE;
    else process.env.EDGEPLAY_CACHE = prevCache;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('bench:abr-sim-real', () => {
  it('parses the run names of bench:browser-abr (policy, guard, re-fetch, abandonment, model)', () => {
    expect(parseRunPolicy('drl+norefetch+abandon:abr-drl-player')).toEqual({
      base: 'drl',
      guard: false,
      norefetch: true,
      abandon: true,
      model: 'models/abr-drl-player',
    });
    expect(parseRunPolicy('drl+guard')).toEqual({ base: 'drl', guard: true, norefetch: false, abandon: false, model: 'models/abr-drl' });
    expect(parseRunPolicy('robustmpc+norefetch')).toEqual({
      base: 'robustmpc',
      guard: false,
      norefetch: true,
      abandon: false,
      model: null,
    });
    expect(() => parseRunPolicy('drl+abandon+norefetch')).toThrowError(InputError, /unknown policy/);
  });

  it('replays each run as it was played (stage F): +norefetch+abandon without re-fetch and with the abandonment', async () => {
    const video = join(dataRoot(), 'abr', 'video');
    if (!existsSync(video)) return pending(`${video} not found (set EDGEPLAY_DATA)`);
    const dir = mkdtempSync(join(tmpdir(), 'ep-simreal-'));
    const prevCache = process.env.EDGEPLAY_CACHE;
    try {
      // our "stream": CBR fragments of the hls-mode ladder; a link that swings 0.5–6 Mb/s so robustMPC switches
      mkdirSync(join(dir, 'streams', 'vod'), { recursive: true });
      const sizes = HLS_VOD_LEVELS.averageBps.map((b, q) =>
        Array.from({ length: 48 }, (_, i) => Math.round(((b * 4) / 8) * (1 + 0.3 * Math.sin(i + q)))),
      );
      sizes.forEach((s, q) => writeFileSync(join(dir, 'streams', 'vod', `video_size_${q}`), s.join('\n') + '\n'));
      mkdirSync(join(dir, 'bench-traces'));
      const bw = (i: number) => Math.max(0.5, 3 * (1 + 0.9 * Math.sin(i / 4)));
      writeFileSync(
        join(dir, 'bench-traces', 'swing'),
        Array.from({ length: 400 }, (_, i) => `${i}\t${bw(i).toFixed(3)}`).join('\n') + '\n',
      );
      const realRow = (policy: string) => ({
        policy,
        trace: 'swing',
        qoe_chunk: 1,
        bitrate_mean: 1,
        rebuffer_s: 0,
        rebuffers: 0,
        switches: 0,
      });
      writeFileSync(
        join(dir, 'real.json'),
        JSON.stringify({ config: { limit: 30 }, rows: [realRow('robustmpc+norefetch+abandon'), realRow('robustmpc')] }),
      );
      process.env.EDGEPLAY_CACHE = dir;
      const r = await benchAbrSimReal({ real: join(dir, 'real.json'), out: null, log: () => {} });
      type St = { qoe: number; bitrate: number; stall: number };
      const [mended, plain] = r.rows as Array<Record<string, St>>;
      // the policy as the worker serves it: robustMPC on the controller's predicted sizes
      const mpc = (): AbrPolicy => {
        let next: number[] = [];
        const m = new RobustMpc(null, { sizeOf: (q) => next[q] ?? 0, fixOffByOne: true });
        return { name: 'robustmpc', decide: (o: AbrObservation) => ((next = o.nextSizes), m.decide(o)) };
      };
      const trace = {
        name: 'swing',
        time: Array.from({ length: 400 }, (_, i) => i),
        bw: Array.from({ length: 400 }, (_, i) => +bw(i).toFixed(3)),
      };
      const ours = loadVideoSizes(join(dir, 'streams', 'vod'));
      const asPlayed = runHlsVod(mpc(), trace, { sizes: ours, chunks: 30, refetch: 'none', abandonRule: DEFAULT_ABANDON });
      expect(mended.F_as_played.qoe).toBeCloseTo(asPlayed.qoeChunk, 9);
      expect(mended.F_as_played.stall).toBeCloseTo(asPlayed.stallS, 9);
      // the semantics matter on this link, and a plain run is stage E (the measured re-fetch, no abandonment)
      expect(mended.F_as_played.qoe).not.toBeCloseTo(mended.E_hls_refetch.qoe, 6);
      expect(plain.F_as_played).toEqual(jasmine.objectContaining({ qoe: plain.E_hls_refetch.qoe, stall: plain.E_hls_refetch.stall }));
    } finally {
      if (prevCache === undefined) delete process.env.EDGEPLAY_CACHE;
      else process.env.EDGEPLAY_CACHE = prevCache;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bench:abr-hls --size-predictor meta shows the policies the meta-learned forecaster's sizes, and says what is missing", async () => {
    // strongly VBR: heavy and light fragments alternate in runs, so the two predictors disagree
    const vbr = (nominal: number, i: number) => nominal * (Math.floor(i / 3) % 2 ? 1.7 : 0.3);
    await withStreamCache(vbr, { name: 'mid', mbps: (t) => 1.5 + (t % 7) / 7 }, async (dir) => {
      const run = (sizePredictor: 'ratio' | 'meta', sizeModel?: string) =>
        benchAbrHls({
          traces: join(dir, 'traces'),
          policies: ['robustmpc'],
          chunks: 30,
          sizePredictor,
          sizeModel,
          out: null,
          log: () => {},
        });
      const ratio = await run('ratio');
      const meta = await run('meta');
      expect(ratio.size_predictor).toBe('ratio');
      expect(meta.size_predictor).toBe('meta');
      // robustMPC plans on the sizes it is shown: other sizes, another session
      expect(meta.rows[0].qoe_chunk_mean).not.toBe(ratio.rows[0].qoe_chunk_mean);
      await expectAsync(run('meta', join(dir, 'no-model'))).toBeRejectedWithError(InputError, /needs the chunk-size forecaster: .*missing/);
      await expectAsync(run('bogus' as 'meta')).toBeRejectedWithError(InputError, /sizePredictor: expected ratio or meta/);
    });
  });

  it('bench:abr-hls records a model given by absolute path by its repo-relative path, and refuses unknown semantics', async () => {
    await withStreamCache(
      (nominal) => nominal,
      { name: 'flat', mbps: () => 2, seconds: 200 },
      async (dir) => {
        const abs = join(process.cwd(), 'models', 'abr-drl');
        const r = await benchAbrHls({ traces: join(dir, 'traces'), policies: ['bb', `drl:${abs}`], chunks: 6, out: null, log: () => {} });
        expect(r.rows.map((x) => x.policy)).toEqual(['bb', 'drl:models/abr-drl']);
        expect(r.rows[1].qoe_chunk_mean).toEqual(jasmine.any(Number));
        // a model in another checkout of this project is labelled repo-relative but loaded from where it is
        const other = join(dir, 'other-checkout');
        mkdirSync(join(other, 'models', 'x'), { recursive: true });
        writeFileSync(join(other, 'package.json'), readFileSync('package.json'));
        for (const f of ['model.json', 'weights.bin']) copyFileSync(join('models', 'abr-drl-player', f), join(other, 'models', 'x', f));
        const r2 = await benchAbrHls({
          traces: join(dir, 'traces'),
          policies: ['drl:abr-drl-player', `drl:${join(other, 'models', 'x')}`],
          chunks: 6,
          out: null,
          log: () => {},
        });
        expect(r2.rows.map((x) => x.policy)).toEqual(['drl:abr-drl-player', 'drl:models/x']);
        expect(r2.rows[1].qoe_chunk_mean).toBe(r2.rows[0].qoe_chunk_mean);
        await expectAsync(
          benchAbrHls({ traces: join(dir, 'traces'), policies: ['bb'], refetch: 'often' as 'none', out: null, log: () => {} }),
        ).toBeRejectedWithError(InputError, /refetch/);
      },
    );
  });
});
