/**
 * Simulator against real playback (`npm run bench:abr-sim-real`, entry in cli/abr-sim-real.ts): for every run of
 * bench/results/browser-abr.json (a trace, a policy, real QoE_lin, bitrate and stalls), the same trace and policy in
 * a ladder of simulators that adds one of hls.js' or our stream's semantics at a time, so each gap between the
 * Pensieve simulator's figure and the real one is measured, not guessed:
 *   A  Pensieve simulator (env.ts), EnvivioDash3 sizes, first fragment at level 1 (what bench:abr scores);
 *   B  the same with our stream's VBR segment sizes (CV 0.42 vs 0.07) and its first fragment at level 0;
 *   C  hls-mode simulator (hls-vod.ts) without the emergency abort, with the decision made on the controller's
 *      observation (predicted sizes, AVERAGE-BANDWIDTH ladder, RTT in every download, hls.js' buffer target);
 *   D  C plus hls.js' emergency abort: the full hls mode;
 *   E  D with the re-fetch after a switch as the real load logs show it (`refetch: 'measured'`, hls-vod.ts);
 *   F  the hls mode as the run was played: no re-fetch for `+norefetch` runs (`createStreamController`), the
 *      measured re-fetch otherwise, and the controller's abandonment (`DEFAULT_ABANDON`) for `+abandon` runs —
 *      for the player `monitor()` ships (`drl+norefetch+abandon`) this is its simulator;
 *   real  the browser run.
 * The validation (issue 15): for a fixed policy (bola, bb), |D − real| per trace in bitrate and in stall seconds
 * against a stated tolerance. Writes bench/results/abr-sim-real.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { VIDEO_BIT_RATE_KBPS, type AbrObservation, type AbrPolicy } from '../src/core/abr.js';
import { Bola, BufferBased, RateBased, RobustMpc } from '../src/abr/baselines.js';
import { DrlPolicy } from '../src/abr/drl.js';
import { AbrEnv, type SimTrace } from '../src/sim/abr/env.js';
import { runHlsVod } from '../src/sim/abr/hls-vod.js';
import { dataRoot, loadVideoSizes } from '../src/sim/abr/load.js';
import { observe } from '../src/sim/abr/run.js';
import { parseTrace } from '../src/core/trace.js';
import { InputError } from '../src/train/errors.js';
import { DEFAULT_ABANDON } from '../src/abr/abandon.js';
import { DEFAULT_DRL_GUARD } from '../src/abr/drl-guard.js';
import { cacheDir } from '../demo/streams.js';

export interface SimRealOptions {
  /** the real runs (default bench/results/browser-abr.json) */
  real?: string;
  /** DRL model directory for `drl` rows (default models/abr-drl; `drl:NAME` rows use models/NAME) */
  model?: string;
  /** tolerance of the validation: bitrate (relative) and stall time (s) per run */
  tolBitrate?: number;
  tolStallS?: number;
  /** results file (default bench/results/abr-sim-real.json; null: none written) */
  out?: string | null;
  /** the command line recorded in the results */
  command?: string;
  log?: (s: string) => void;
}

type Stage = { qoe: number; bitrate: number; stall: number };

/**
 * A run's policy name as bench:browser-abr writes it, `POLICY[+guard][+norefetch][+abandon][:MODEL]`, split into
 * `{ base, guard, norefetch, abandon, model }`: the policy, its flags, and for the DRL its model directory
 * (`defaultModel` unless `:MODEL`, then `models/MODEL`; null for other policies). The guard and the abandonment are
 * replayed with today's `DEFAULT_DRL_GUARD` / `DEFAULT_ABANDON` (what every results file so far recorded).
 * @throws InputError for a name outside that grammar
 */
export function parseRunPolicy(p: string, defaultModel = 'models/abr-drl') {
  const m = /^(hls|robustmpc|bola|bb|drl)(\+guard)?(\+norefetch)?(\+abandon)?(?::([\w-]+))?$/.exec(p);
  if (!m) throw new InputError(`unknown policy "${p}" in the real runs`);
  return {
    base: m[1],
    guard: !!m[2],
    norefetch: !!m[3],
    abandon: !!m[4],
    model: m[1] === 'drl' ? (m[5] ? `models/${m[5]}` : defaultModel) : null,
  };
}

/** The policies as the worker serves them: robustMPC looks ahead with the controller's predicted sizes. */
function playerPolicy(run: string, models: Map<string, TF.LayersModel>, defaultModel?: string): AbrPolicy {
  const { base: name, guard, model } = parseRunPolicy(run, defaultModel);
  if (name === 'bola') return new Bola();
  if (name === 'bb') return new BufferBased();
  if (name === 'hls') return new RateBased();
  if (name === 'robustmpc') {
    let sizes: number[] = [];
    const mpc = new RobustMpc(null, { sizeOf: (q) => sizes[q] ?? 0, fixOffByOne: true });
    return { name, decide: (o: AbrObservation) => ((sizes = o.nextSizes), mpc.decide(o)) };
  }
  const m = models.get(model!);
  if (!m) throw new InputError(`no model for ${run}`);
  return new DrlPolicy(m, name, undefined, guard ? DEFAULT_DRL_GUARD : null);
}

/** Pensieve semantics, `chunks` fragments, first at `first`; scored like the bench page (chunks 1..n−1, nominal ladder). */
function pensieve(policy: AbrPolicy, trace: SimTrace, sizes: number[][], chunks: number, first: number): Stage {
  const env = new AbrEnv({ traces: [trace], videoSizes: sizes, totalChunks: chunks });
  policy.videoStart?.();
  const thr: number[] = [];
  const del: number[] = [];
  let q = first;
  let last = first;
  let bitrate = 0;
  let smooth = 0;
  let stall = 0;
  for (let i = 0; ; i++) {
    const s = env.step(q);
    if (i > 0) {
      bitrate += VIDEO_BIT_RATE_KBPS[q] / 1000;
      smooth += Math.abs(VIDEO_BIT_RATE_KBPS[q] - VIDEO_BIT_RATE_KBPS[last]) / 1000;
      stall += s.rebufS;
    }
    last = q;
    thr.push(s.chunkBytes / s.delayMs);
    del.push(s.delayMs);
    const next = policy.decide(observe(q, s, thr, del, chunks));
    if (s.endOfVideo) break;
    q = next;
  }
  const n = chunks - 1;
  return { qoe: (bitrate - 4.3 * stall - smooth) / n, bitrate: bitrate / n, stall };
}

/** Runs the comparison, prints the ladder per policy and the validation, writes the results. */
export async function benchAbrSimReal(o: SimRealOptions = {}) {
  const log = o.log ?? ((s: string) => console.log(s));
  const realFile = resolve(o.real ?? 'bench/results/browser-abr.json');
  if (!existsSync(realFile)) throw new InputError(`${realFile} missing: run npm run bench:browser-abr first`);
  const real = JSON.parse(readFileSync(realFile, 'utf8')) as { rows: Array<Record<string, unknown>>; config: { limit: number } };
  const chunks = real.config.limit;
  const envivio = loadVideoSizes(join(dataRoot(), 'abr', 'video'));
  const ours = loadVideoSizes(join(cacheDir(), 'streams', 'vod'));
  const traceFor = (name: string): SimTrace => {
    for (const d of [
      join(dataRoot(), 'abr', 'traces', 'test'),
      join(dataRoot(), 'abr', 'traces', 'train'),
      join(cacheDir(), 'bench-traces'),
    ]) {
      const f = join(d, name);
      if (existsSync(f)) {
        const t = parseTrace(readFileSync(f, 'utf8'), name);
        return { name, time: t.times, bw: t.mbps };
      }
    }
    throw new InputError(`trace ${name} not found`);
  };
  const policiesIn = [...new Set(real.rows.map((r) => String(r.policy)))];
  const models = new Map<string, TF.LayersModel>();
  if (policiesIn.some((p) => p.startsWith('drl'))) {
    const tfmod = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tfmod.setBackend('wasm');
    const { loadModel } = await import('../src/train/io.js');
    for (const p of policiesIn.filter((x) => x.startsWith('drl'))) {
      const dir = parseRunPolicy(p, o.model).model!;
      if (!models.has(dir)) models.set(dir, await loadModel(resolve(dir)));
    }
  }
  const tolB = o.tolBitrate ?? 0.1;
  const tolS = o.tolStallS ?? 1.5;
  const rows: Array<Record<string, unknown>> = [];
  for (const r of real.rows) {
    const p = String(r.policy);
    const trace = traceFor(String(r.trace));
    const pol = () => playerPolicy(p, models, o.model);
    const how = parseRunPolicy(p, o.model);
    const A = pensieve(pol(), trace, envivio, chunks, 1);
    const B = pensieve(pol(), trace, ours, chunks, 0);
    const C = runHlsVod(pol(), trace, { sizes: ours, chunks, abort: false });
    const D = runHlsVod(pol(), trace, { sizes: ours, chunks });
    const E = runHlsVod(pol(), trace, { sizes: ours, chunks, refetch: 'measured' });
    const F = runHlsVod(pol(), trace, {
      sizes: ours,
      chunks,
      refetch: how.norefetch ? 'none' : 'measured',
      abandonRule: how.abandon ? DEFAULT_ABANDON : null,
    });
    rows.push({
      trace: r.trace,
      policy: p,
      A_pensieve: A,
      B_our_sizes: B,
      C_hls_no_abort: { qoe: C.qoeChunk, bitrate: C.bitrateMean, stall: C.stallS },
      D_hls: {
        qoe: D.qoeChunk,
        bitrate: D.bitrateMean,
        stall: D.stallS,
        stalls: D.stalls,
        switches: D.switches,
        aborts: D.aborts,
        levels: D.levels.join(''),
      },
      E_hls_refetch: {
        qoe: E.qoeChunk,
        bitrate: E.bitrateMean,
        stall: E.stallS,
        stalls: E.stalls,
        switches: E.switches,
        levels: E.levels.join(''),
      },
      F_as_played: {
        qoe: F.qoeChunk,
        bitrate: F.bitrateMean,
        stall: F.stallS,
        stalls: F.stalls,
        switches: F.switches,
        levels: F.levels.join(''),
      },
      real: {
        qoe: r.qoe_chunk,
        bitrate: r.bitrate_mean,
        stall: r.rebuffer_s,
        stalls: r.rebuffers,
        switches: r.switches,
        aborts: r.aborts,
        levels: r.levels,
      },
      within_tolerance:
        Math.abs(D.bitrateMean - Number(r.bitrate_mean)) <= tolB * Number(r.bitrate_mean) &&
        Math.abs(D.stallS - Number(r.rebuffer_s)) <= tolS,
      within_tolerance_E:
        Math.abs(E.bitrateMean - Number(r.bitrate_mean)) <= tolB * Number(r.bitrate_mean) &&
        Math.abs(E.stallS - Number(r.rebuffer_s)) <= tolS,
      within_tolerance_F:
        Math.abs(F.bitrateMean - Number(r.bitrate_mean)) <= tolB * Number(r.bitrate_mean) &&
        Math.abs(F.stallS - Number(r.rebuffer_s)) <= tolS,
    });
  }
  const f = (x: number) => x.toFixed(3).padStart(7);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  log(`QoE_lin per chunk (bitrate Mb/s, stall s), mean over the runs of each policy, ${chunks} fragments:`);
  log(
    `policy${' '.repeat(28)}runs   A pensieve              B our sizes             C hls, no abort         D hls mode              E D + measured re-fetch F as played             real`,
  );
  const perPolicy: Array<Record<string, unknown>> = [];
  for (const p of policiesIn) {
    const rs = rows.filter((r) => r.policy === p);
    const st = (k: string) => {
      const xs = rs.map((r) => r[k] as Stage);
      return {
        qoe: mean(xs.map((x) => Number(x.qoe))),
        bitrate: mean(xs.map((x) => Number(x.bitrate))),
        stall: mean(xs.map((x) => Number(x.stall))),
      };
    };
    const s = {
      A: st('A_pensieve'),
      B: st('B_our_sizes'),
      C: st('C_hls_no_abort'),
      D: st('D_hls'),
      E: st('E_hls_refetch'),
      F: st('F_as_played'),
      real: st('real'),
    };
    const cell = (x: Stage) => `${f(x.qoe)} (${x.bitrate.toFixed(2)}, ${x.stall.toFixed(1)})`.padEnd(24);
    log(
      `${p.padEnd(34)}${String(rs.length).padStart(4)}   ${cell(s.A)}${cell(s.B)}${cell(s.C)}${cell(s.D)}${cell(s.E)}${cell(s.F)}${cell(s.real)}`,
    );
    perPolicy.push({
      policy: p,
      runs: rs.length,
      ...s,
      within_tolerance: rs.filter((r) => r.within_tolerance).length,
      within_tolerance_E: rs.filter((r) => r.within_tolerance_E).length,
      within_tolerance_F: rs.filter((r) => r.within_tolerance_F).length,
    });
  }
  for (const [stage, key, within] of [
    ['D', 'D_hls', 'within_tolerance'],
    ['E', 'E_hls_refetch', 'within_tolerance_E'],
    ['F', 'F_as_played', 'within_tolerance_F'],
  ] as const) {
    log(
      `\nvalidation of the hls mode (${stage}) against real playback, tolerance: bitrate within ${tolB * 100} %, stall within ${tolS} s per run:`,
    );
    for (const p of policiesIn) {
      const rs = rows.filter((r) => r.policy === p);
      const db = rs.map((r) => Math.abs((r[key] as Stage).bitrate - (r.real as Stage).bitrate) / (r.real as Stage).bitrate);
      const ds = rs.map((r) => Math.abs((r[key] as Stage).stall - (r.real as Stage).stall));
      log(
        `${p.padEnd(34)} ${rs.filter((r) => r[within]).length}/${rs.length} runs within; mean |Δbitrate| ${(100 * mean(db)).toFixed(1)} %, mean |Δstall| ${mean(ds).toFixed(2)} s`,
      );
    }
  }
  const result = {
    command: o.command ?? 'benchAbrSimReal (library call)',
    chunks,
    tolerance: { bitrate_rel: tolB, stall_s: tolS },
    per_policy: perPolicy,
    rows,
  };
  const outFile = o.out === undefined ? 'bench/results/abr-sim-real.json' : o.out;
  if (outFile) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
  }
  return result;
}
