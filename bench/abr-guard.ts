/**
 * bench:abr-guard — the DRL's stall guards in the player simulator: hls.js' default ABR (its rate rule), the DRL as
 * trained, the DRL with each buffer guard of a grid (src/abr/drl-guard.ts: reserve R s × factor f) and, with
 * `abandon`, the DRL with each abandonment rule of a grid (src/abr/abandon.ts: least gain × margin × first look),
 * every one on every trace of a split, played as hls.js plays our VOD ladder (stage E of bench:abr-sim-real:
 * `runHlsVod`, our stream's sizes, `chunks` fragments; `refetch` 'measured' as plain hls.js re-fetches after a
 * switch, or 'none' as with `createStreamController`). Guards and rules are *selected* on the training traces (the
 * Pensieve train split, the DRL's own training data); the test split is reported only, never selected on.
 * Prints one row per policy (QoE_lin per chunk, bitrate, stall per run) and writes bench/results/abr-guard.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AbrPolicy } from '../src/core/abr.js';
import { RateBased } from '../src/abr/baselines.js';
import { DrlPolicy } from '../src/abr/drl.js';
import { DEFAULT_DRL_GUARD, type DrlGuard } from '../src/abr/drl-guard.js';
import { DEFAULT_ABANDON, type AbandonRule } from '../src/abr/abandon.js';
import { runHlsVod } from '../src/sim/abr/hls-vod.js';
import type { SimTrace } from '../src/sim/abr/env.js';
import { dataRoot, loadVideoSizes } from '../src/sim/abr/load.js';
import { parseTrace } from '../src/core/trace.js';
import { InputError } from '../src/train/errors.js';
import { cacheDir } from '../demo/streams.js';

/** What `benchAbrGuard` runs. */
export interface AbrGuardOptions {
  /** trace split under $EDGEPLAY_DATA/abr/traces (default 'train': the selection split) */
  split?: 'train' | 'test';
  /** reserves to try, s (default 2..6) */
  reserves?: number[];
  /** throughput factors to try (default 0.6..1) */
  factors?: number[];
  /** run the buffer-guard grid (default true) */
  guards?: boolean;
  /** the abandonment grid (default none): least gains, margins and first looks (s) to try, every combination */
  abandon?: { gains: number[]; margins: number[]; loads: number[] } | null;
  /** hls.js' re-fetch after a switch: 'measured' (plain hls.js, default) or 'none' (`createStreamController`) */
  refetch?: 'measured' | 'none';
  /** fragments per run (default 30, as bench:browser-abr's --limit) */
  chunks?: number;
  /** the DRL model directory (default models/abr-drl) */
  model?: string;
  /** results file (default bench/results/abr-guard.json for train, abr-guard-test.json for test) */
  out?: string;
  command?: string;
  log?: (s: string) => void;
}

/** One policy's means over the split's traces. */
export interface AbrGuardRow {
  policy: string;
  guard: DrlGuard | null;
  abandon?: AbandonRule | null;
  qoe_chunk: number;
  bitrate_mean: number;
  stall_s: number;
}

/** Runs the grid; returns the rows (best guard by QoE first among the guards) and writes the results file. */
export async function benchAbrGuard(o: AbrGuardOptions = {}): Promise<AbrGuardRow[]> {
  const log = o.log ?? ((s: string) => console.log(s));
  const split = o.split ?? 'train';
  const chunks = o.chunks ?? 30;
  const dir = join(dataRoot(), 'abr', 'traces', split);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    throw new InputError(`no traces at ${dir} (set EDGEPLAY_DATA)`);
  }
  const traces: SimTrace[] = names.map((n) => {
    const t = parseTrace(readFileSync(join(dir, n), 'utf8'), n);
    return { name: n, time: t.times, bw: t.mbps };
  });
  const sizes = loadVideoSizes(join(cacheDir(), 'streams', 'vod'));
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const { loadModel } = await import('../src/train/io.js');
  const model = await loadModel(resolve(o.model ?? 'models/abr-drl'));
  const refetch = o.refetch ?? 'measured';
  const run = (policy: string, guard: DrlGuard | null, make: () => AbrPolicy, abandon: AbandonRule | null = null): AbrGuardRow => {
    let q = 0;
    let b = 0;
    let st = 0;
    for (const t of traces) {
      const r = runHlsVod(make(), t, { sizes, chunks, refetch, abandonRule: abandon });
      q += r.qoeChunk;
      b += r.bitrateMean;
      st += r.stallS;
    }
    const n = traces.length;
    const row = { policy, guard, abandon, qoe_chunk: q / n, bitrate_mean: b / n, stall_s: st / n };
    log(
      `${policy.padEnd(30)} qoe/chunk ${row.qoe_chunk.toFixed(4)}  bitrate ${row.bitrate_mean.toFixed(3)}  stall ${row.stall_s.toFixed(3)} s`,
    );
    return row;
  };
  log(
    `bench:abr-guard: ${traces.length} ${split} traces, ${chunks} fragments each, stage E (${refetch === 'measured' ? "hls.js' re-fetch as measured" : 'no re-fetch: createStreamController'})`,
  );
  const rows = [run('hls', null, () => new RateBased()), run('drl', null, () => new DrlPolicy(model, 'drl'))];
  const guards: AbrGuardRow[] = [];
  if (o.guards !== false) {
    for (const reserveS of o.reserves ?? [2, 3, 4, 5, 6])
      for (const factor of o.factors ?? [0.6, 0.7, 0.8, 0.9, 1]) {
        const g = { reserveS, factor };
        guards.push(run(`drl+guard R${reserveS} f${factor}`, g, () => new DrlPolicy(model, 'drl', undefined, g)));
      }
    guards.sort((a, b) => b.qoe_chunk - a.qoe_chunk);
    const best = guards[0];
    const isDefault = (g: DrlGuard | null) => g?.reserveS === DEFAULT_DRL_GUARD.reserveS && g?.factor === DEFAULT_DRL_GUARD.factor;
    log(
      `best guard on ${split}: R ${best.guard!.reserveS} s, f ${best.guard!.factor}: qoe/chunk ${best.qoe_chunk.toFixed(4)} vs the DRL ${rows[1].qoe_chunk.toFixed(4)} (${(100 * (best.qoe_chunk / rows[1].qoe_chunk - 1)).toFixed(1)} %), stall ${best.stall_s.toFixed(2)} vs ${rows[1].stall_s.toFixed(2)} s; the shipped default (R ${DEFAULT_DRL_GUARD.reserveS}, f ${DEFAULT_DRL_GUARD.factor}) ${isDefault(best.guard) ? 'is' : 'is not'} the best`,
    );
  }
  const abandons: AbrGuardRow[] = [];
  if (o.abandon) {
    for (const minGainS of o.abandon.gains)
      for (const marginS of o.abandon.margins)
        for (const minLoadS of o.abandon.loads) {
          const a = { minGainS, marginS, minLoadS };
          abandons.push(run(`drl+abandon G${minGainS} M${marginS} L${minLoadS}`, null, () => new DrlPolicy(model, 'drl'), a));
        }
    abandons.sort((a, b) => b.qoe_chunk - a.qoe_chunk);
    const best = abandons[0];
    const d = DEFAULT_ABANDON;
    const isDefault = (r: AbandonRule | null | undefined) =>
      r?.minGainS === d.minGainS && r?.marginS === d.marginS && r?.minLoadS === d.minLoadS;
    const dflt = abandons.find((r) => isDefault(r.abandon));
    log(
      `best abandonment on ${split}: ${best.policy}: qoe/chunk ${best.qoe_chunk.toFixed(4)} vs the DRL ${rows[1].qoe_chunk.toFixed(4)} (${(100 * (best.qoe_chunk / rows[1].qoe_chunk - 1)).toFixed(1)} %), stall ${best.stall_s.toFixed(2)} vs ${rows[1].stall_s.toFixed(2)} s; the shipped default (G ${d.minGainS}, M ${d.marginS}, L ${d.minLoadS}) ${dflt ? `${dflt.qoe_chunk.toFixed(4)}, rank ${abandons.indexOf(dflt) + 1} of ${abandons.length}` : 'is not in the grid'}`,
    );
  }
  const out = resolve(o.out ?? (split === 'train' ? 'bench/results/abr-guard.json' : `bench/results/abr-guard-${split}.json`));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { command: o.command, split, chunks, refetch, traces: traces.length, rows: [...rows, ...guards, ...abandons] },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${out}`);
  return [...rows, ...guards, ...abandons];
}
