/**
 * ABR policies in the hls.js-semantics simulator (`npm run bench:abr-hls`, entry in cli/abr-hls.ts): each policy, as
 * the worker serves it, plays our VOD stream (its VBR segment sizes, `chunks` fragments) through every trace of a
 * directory in `HlsVodEnv` (src/sim/abr/hls-vod.ts); QoE_lin per chunk as bench:browser-abr scores real playback,
 * with a 95 % t-interval over traces and the paired difference to robustMPC. `drl:NAME` is the DRL with models/NAME
 * (`drl:DIR`, a path with a slash: any model directory), so a candidate model is compared with the committed one side
 * by side; plain `drl` is models/abr-drl (`monitor()`'s default; the candidate trained for the player is
 * `drl:abr-drl-player`).
 * `refetch` / `abandonRule` choose the player semantics (`monitor()` ships 'none' + `DEFAULT_ABANDON`).
 * Writes bench/results/abr-hls.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { AbrObservation, AbrPolicy } from '../src/core/abr.js';
import { Bola, BufferBased, RateBased, RobustMpc } from '../src/abr/baselines.js';
import { DrlPolicy } from '../src/abr/drl.js';
import { runHlsVod, type HlsVodResult } from '../src/sim/abr/hls-vod.js';
import { dataRoot, loadTraceDir, loadVideoSizes } from '../src/sim/abr/load.js';
import { InputError } from '../src/train/errors.js';
import { dataRelative, repoRelative } from '../src/train/cli/args.js';
import { checkAbandonRule, type AbandonRule } from '../src/abr/abandon.js';
import { cacheDir } from '../demo/streams.js';
import { meanCi } from './stats.js';
import type { ChunkSizePredictor } from '../src/abr/chunk-size.js';
import { ForecasterSizes } from '../src/abr/size-forecast.js';
import { LearnedSizeForecaster } from '../src/abr/size-model.js';
import { loadSizeNet } from '../src/sim/abr/chunks.js';

export interface AbrHlsBenchOptions {
  /** trace directory (default $EDGEPLAY_DATA/abr/traces/test) */
  traces?: string;
  /** policies: bb, rb (hls.js' rule), bola, robustmpc, drl (models/abr-drl), drl:NAME (models/NAME), drl:DIR (a path with a slash) */
  policies?: string[];
  /** fragments per session (default 30, as bench:browser-abr) */
  chunks?: number;
  /** which switches re-fetch the fragment just buffered (`HlsVodOptions.refetch`; default 'up'; 'none' is `monitor()`'s player) */
  refetch?: 'up' | 'measured' | 'none';
  /** the controller's abandonment (`HlsVodOptions.abandonRule`; default null, off; `DEFAULT_ABANDON` is `monitor()`'s) */
  abandonRule?: AbandonRule | null;
  /**
   * the next-fragment sizes every policy sees (`HlsVodOptions.predictor`): 'ratio' (default) is the player's
   * `RatioEwmaPredictor`; 'meta' is the meta-learned forecaster of `sizeModel` behind `ForecasterSizes`
   */
  sizePredictor?: 'ratio' | 'meta';
  /** the forecaster 'meta' reads (default models/chunk-size) */
  sizeModel?: string;
  out?: string | null;
  command?: string;
  log?: (s: string) => void;
}

/** Runs the comparison, prints the table, writes the results. Throws InputError for an unknown policy or a missing model. */
export async function benchAbrHls(o: AbrHlsBenchOptions = {}) {
  const log = o.log ?? ((s: string) => console.log(s));
  const dir = resolve(o.traces ?? join(dataRoot(), 'abr', 'traces', 'test'));
  const traces = loadTraceDir(dir);
  const sizes = loadVideoSizes(join(cacheDir(), 'streams', 'vod'));
  const chunks = o.chunks ?? 30;
  const refetch = o.refetch ?? 'up';
  const abandonRule = o.abandonRule ?? null;
  // a model given by path is labelled by its repo-relative path (records hold no machine's absolute path) but loaded
  // from the path as given (another checkout's models/x is not this one's)
  const dirOf = new Map<string, string>();
  const policies = (o.policies ?? ['rb', 'bb', 'bola', 'robustmpc', 'drl']).map((p) => {
    if (!/^drl:.*\//.test(p)) return p;
    const label = `drl:${repoRelative(resolve(p.slice(4)))}`;
    dirOf.set(label, resolve(p.slice(4)));
    return label;
  });
  if (!['up', 'measured', 'none'].includes(refetch)) throw new InputError(`refetch: expected up, measured or none, got "${refetch}"`);
  if (abandonRule) {
    try {
      checkAbandonRule(abandonRule);
    } catch (e) {
      throw new InputError(`abandonRule: ${(e as Error).message}`);
    }
  }
  const sizePredictor = o.sizePredictor ?? 'ratio';
  if (!['ratio', 'meta'].includes(sizePredictor)) throw new InputError(`sizePredictor: expected ratio or meta, got "${sizePredictor}"`);
  let predictor: ((ladderKbps: readonly number[]) => ChunkSizePredictor) | undefined;
  if (sizePredictor === 'meta') {
    let net: ReturnType<typeof loadSizeNet>;
    try {
      net = loadSizeNet(resolve(o.sizeModel ?? 'models/chunk-size'));
    } catch (e) {
      throw new InputError(`size predictor 'meta' needs the chunk-size forecaster: ${(e as Error).message}`);
    }
    // our VOD stream's 4 s fragments (HlsVodOptions.fragS's default)
    predictor = (ladder) => new ForecasterSizes(new LearnedSizeForecaster(net), ladder, 4);
  }
  const models = new Map<string, TF.LayersModel>();
  for (const p of policies) {
    if (!/^(bb|rb|bola|robustmpc|drl)$/.test(p) && !/^drl:[\w./-]+$/.test(p)) throw new InputError(`unknown policy "${p}"`);
    if (!p.startsWith('drl')) continue;
    const name = p.slice(4);
    const mdir = dirOf.get(p) ?? resolve(p === 'drl' ? 'models/abr-drl' : `models/${name}`);
    if (!existsSync(join(mdir, 'model.json'))) throw new InputError(`no model in ${mdir}`);
    const tfmod = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tfmod.setBackend('wasm');
    models.set(p, await (await import('../src/train/io.js')).loadModel(mdir));
  }
  const make = (p: string): AbrPolicy => {
    if (p === 'bb') return new BufferBased();
    if (p === 'rb') return new RateBased();
    if (p === 'bola') return new Bola();
    if (p === 'robustmpc') {
      // as the worker serves it: the look-ahead on the controller's predicted sizes
      let next: number[] = [];
      const mpc = new RobustMpc(null, { sizeOf: (q) => next[q] ?? 0, fixOffByOne: true });
      return { name: p, decide: (obs: AbrObservation) => ((next = obs.nextSizes), mpc.decide(obs)) };
    }
    return new DrlPolicy(models.get(p)!, p);
  };
  const per = new Map<string, HlsVodResult[]>();
  for (const p of policies)
    per.set(
      p,
      traces.map((t) => runHlsVod(make(p), t, { sizes, chunks, refetch, abandonRule, ...(predictor ? { predictor } : {}) })),
    );
  const base = per.get('robustmpc');
  const rows = policies.map((p) => {
    const rs = per.get(p)!;
    const q = meanCi(rs.map((r) => r.qoeChunk));
    const d = base ? meanCi(rs.map((r, i) => r.qoeChunk - base[i].qoeChunk)) : null;
    return {
      policy: p,
      traces: rs.length,
      qoe_chunk_mean: q.mean,
      ci_low: q.low,
      ci_high: q.high,
      bitrate_mean: rs.reduce((a, r) => a + r.bitrateMean, 0) / rs.length,
      stall_s_mean: rs.reduce((a, r) => a + r.stallS, 0) / rs.length,
      switches_mean: rs.reduce((a, r) => a + r.switches, 0) / rs.length,
      diff_vs_robustmpc: d?.mean ?? null,
      diff_rmpc_ci_low: d?.low ?? null,
      diff_rmpc_ci_high: d?.high ?? null,
    };
  });
  const command = o.command ?? 'benchAbrHls (library call)';
  log(
    `${command}\nhls-mode simulator, our VOD stream, ${chunks} fragments, re-fetch ${refetch}, abandonment ${abandonRule ? JSON.stringify(abandonRule) : 'off'}, next sizes ${sizePredictor}, traces ${dataRelative(dir)} (${traces.length}); QoE_lin per chunk, 95 % t-intervals`,
  );
  log('policy              qoe/chunk [95 % CI]          bitrate  stall s  switches  vs robustmpc [95 % CI]');
  const f = (x: number) => x.toFixed(3);
  for (const r of rows)
    log(
      `${r.policy.padEnd(18)}${f(r.qoe_chunk_mean).padStart(7)} [${f(r.ci_low)}, ${f(r.ci_high)}]`.padEnd(47) +
        `${r.bitrate_mean.toFixed(3).padStart(7)}${r.stall_s_mean.toFixed(2).padStart(9)}${r.switches_mean.toFixed(1).padStart(10)}  ` +
        (r.diff_vs_robustmpc === null ? '-' : `${f(r.diff_vs_robustmpc)} [${f(r.diff_rmpc_ci_low!)}, ${f(r.diff_rmpc_ci_high!)}]`),
    );
  const result = { command, traces_dir: dataRelative(dir), chunks, refetch, abandon: abandonRule, size_predictor: sizePredictor, rows };
  const outFile = o.out === undefined ? 'bench/results/abr-hls.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
  }
  return result;
}
