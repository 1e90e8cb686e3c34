/** `npm run bench:browser-abr -- [options]` (--help lists them): the command line of benchBrowserAbr (../browser-abr.ts). */
import { commandLine, InputError, listOf, num, oneOf, runCli } from '../../src/train/cli/args.js';
import { benchBrowserAbr, defaultBenchTraces, devBenchTraces, resummariseBrowserAbr } from '../browser-abr.js';
import { benchBrowserAbrLive, resummariseBrowserAbrLive } from '../browser-abr-live.js';

const cli = {
  name: 'bench:browser-abr',
  summary:
    "Our VOD ladder played in headless Chromium through trace-shaped sessions with hls.js' default ABR and edgeplay's policies on\nevery trace: QoE_lin from real playback with 95 % intervals over traces, paired differences to hls.js and robustMPC,\nstalls, switches, decision latency. Resumable (rerun the same command to continue). Needs npm run build.\nWrites bench/results/browser-abr.json as it goes.\nWith --live: the LL-HLS live ladder instead, hls.js default against edgeplay (the worker's live DRL policy on the\nchunk-size forecaster, LoL+ catch-up) for --duration s of playback per run: the live QoE per second with 95 % intervals\nover traces and paired differences (QoE, latency, stall time, playback-rate changes) to hls.js and between the policies;\nwrites bench/results/browser-abr-live.json.\nWith --summary: play nothing, re-compute the summary of the results file from its rows, print the tables and write it back.",
  flags: {
    traces: {
      type: 'string',
      arg: 'LIST',
      help: 'throughput traces: Pensieve test or training trace names or synth_FAMILY_N (FAMILY walk-hi, markov-hi, markov-train, markov-fast, step-fast) (default: per family of the Pensieve test set the traces at --ranks of mean throughput, plus --synthetic fast-link traces per synthetic family)',
    },
    ranks: {
      type: 'string',
      arg: 'LIST',
      help: 'without --traces or --dev: the ranks of mean throughput picked per family of the Pensieve test set (fractions in [0, 1), a/b or decimal; e.g. 1/6,1/3,1/2,2/3,5/6 = five per family) (default: 1/3,2/3)',
    },
    synthetic: {
      type: 'string',
      arg: 'N',
      help: 'without --traces or --dev: synthetic fast-link traces per family (synth_walk-hi_0..N-1, synth_markov-hi_0..N-1) (default: 1)',
    },
    dev: {
      type: 'boolean',
      help: 'the dev traces instead of the test ones, for choosing between models: the held-out split of the Pensieve training traces (18) plus 6 synthetic traces of the training families at indices no trainer reads (devBenchTraces); results in bench/results/browser-abr-dev.json unless --out; VOD only (not with --live)',
    },
    live: { type: 'boolean', help: 'the live evaluation (LL-HLS live ladder; see above)' },
    policies: {
      type: 'string',
      arg: 'LIST',
      help: 'policies (default hls,robustmpc,bola,drl; hls = hls.js default ABR; also bb, drl+guard = the DRL with its stall guard, POLICY+norefetch = played with createStreamController (no re-fetch after a level switch), POLICY+abandon = with the controller’s own abandonment (not hls), and drl:NAME = the DRL with models/NAME). With --live: default hls,edgeplay; also ABR+CATCHUP with ABR hls|edgeplay and CATCHUP none|lolp|lolp-nodb|hls',
    },
    duration: { type: 'string', default: '60', arg: 'S', help: 'with --live: seconds of playback per run' },
    limit: { type: 'string', default: '30', arg: 'N', help: 'VOD segments per run (4 s each)' },
    repeats: { type: 'string', default: '1', arg: 'N', help: 'runs per trace and policy' },
    parallel: { type: 'string', default: '1', arg: 'N', help: 'Chromium sessions at a time' },
    model: { type: 'string', default: '/models/abr-drl/model.json', arg: 'PATH', help: 'the DRL model as the page loads it' },
    answer: {
      type: 'string',
      default: 'slot',
      arg: 'slot|message',
      help: 'DRL answers read from a SharedArrayBuffer slot (cross-origin isolated page) or over messages',
    },
    tables: {
      type: 'string',
      default: 'on',
      arg: 'on|off',
      help: 'VOD: answer DRL decisions from decision tables the worker builds while each fragment loads (src/abr/decision-table.ts), or not',
    },
    transmux: { type: 'string', default: 'worker', arg: 'worker|inline', help: 'hls.js transmuxing in its worker or inline' },
    out: {
      type: 'string',
      arg: 'FILE',
      help: 'results file, resumed from when it matches (default bench/results/browser-abr.json; with --dev bench/results/browser-abr-dev.json; with --live bench/results/browser-abr-live.json)',
    },
    fresh: { type: 'boolean', help: 'ignore the runs already in the results file' },
    summary: {
      type: 'boolean',
      help: 'play nothing: re-summarise the results file (--out or the default) from its rows and print the tables',
    },
    'max-lag': {
      type: 'string',
      default: '0.03',
      arg: 'F',
      help: 'reject (and run again) a run whose playback fell behind the wall clock by more than this share of its time, unreported as a stall (a starved Chromium plays slowly)',
    },
  },
} as const;

/** The flags that choose what is played (and how): ignored by --summary, so refused with it. */
const PLAY_FLAGS = [
  'traces',
  'ranks',
  'synthetic',
  'policies',
  'duration',
  'limit',
  'repeats',
  'parallel',
  'model',
  'answer',
  'tables',
  'transmux',
  'fresh',
  'max-lag',
] as const;

/** `--ranks`: fractions "a/b" or decimals in [0, 1); throws InputError (exit 2) otherwise. */
function rankList(value: string): number[] {
  return listOf('ranks', value).map((x) => {
    const m = /^(\d+)\/(\d+)$/.exec(x);
    const r = m ? Number(m[1]) / Number(m[2]) : /^\d*\.?\d+$/.test(x) ? Number(x) : NaN;
    if (!(r >= 0 && r < 1)) throw new InputError(`--ranks: "${x}" is not a fraction in [0, 1) (a/b or a decimal)`);
    return r;
  });
}

await runCli(cli, async (v) => {
  // the live evaluation has no dev set: --dev there would play (or summarise) the test traces
  if (v.dev && v.live) throw new InputError('--dev is for the VOD evaluation only (the live one has no dev set): drop --live or --dev');
  if (v.dev && v.traces) throw new InputError('--dev and --traces both choose the traces: pass one');
  // --ranks and --synthetic pick the default test traces: checked always (also with --summary), refused where they pick nothing
  const ranks = rankList(v.ranks ?? '1/3,2/3');
  const synthetic = num('synthetic', v.synthetic ?? '1', { integer: true, min: 0 });
  for (const flag of ['ranks', 'synthetic'] as const)
    if (v[flag] !== undefined && (v.dev || v.traces || v.live))
      throw new InputError(
        `--${flag} picks the default test traces: it does nothing with ${v.dev ? '--dev' : v.traces ? '--traces' : '--live'}; drop one`,
      );
  // --summary plays nothing: a flag that chooses what to play would be ignored there (the file's own runs are summarised)
  if (v.summary) {
    const given = (flag: string) => process.argv.slice(2).some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
    const ignored = PLAY_FLAGS.filter(given);
    if (ignored.length)
      throw new InputError(
        `--summary plays nothing: ${ignored.map((f) => `--${f}`).join(', ')} would be ignored (it re-summarises every run of the results file); drop ${ignored.length > 1 ? 'them' : 'it'}`,
      );
  }
  // dev runs keep their own results file: the default one holds the test evaluation (and a run resumes from its file)
  const vodOut = v.out ?? (v.dev ? 'bench/results/browser-abr-dev.json' : 'bench/results/browser-abr.json');
  if (v.summary) {
    if (v.live) resummariseBrowserAbrLive(v.out ?? 'bench/results/browser-abr-live.json');
    else resummariseBrowserAbr(vodOut);
    return;
  }
  if (v.live) {
    await benchBrowserAbrLive({
      traces: v.traces ? listOf('traces', v.traces) : undefined,
      policies: v.policies ? listOf('policies', v.policies) : undefined,
      duration: num('duration', v.duration, { min: 10 }),
      repeats: num('repeats', v.repeats, { integer: true, min: 1 }),
      out: v.out ?? 'bench/results/browser-abr-live.json',
      fresh: v.fresh,
      maxLag: num('max-lag', v['max-lag'], { min: 0.001 }),
      command: commandLine(cli.name),
    });
    return;
  }
  await benchBrowserAbr({
    traces: v.traces ? listOf('traces', v.traces) : v.dev ? devBenchTraces() : defaultBenchTraces(undefined, ranks, synthetic),
    policies: listOf('policies', v.policies ?? 'hls,robustmpc,bola,drl'),
    limit: num('limit', v.limit, { integer: true, min: 2 }),
    repeats: num('repeats', v.repeats, { integer: true, min: 1 }),
    parallel: num('parallel', v.parallel, { integer: true, min: 1 }),
    model: v.model,
    answer: oneOf('answer', v.answer, ['slot', 'message']),
    tables: oneOf('tables', v.tables, ['on', 'off']),
    transmux: oneOf('transmux', v.transmux, ['worker', 'inline']),
    out: vodOut,
    fresh: v.fresh,
    maxLag: num('max-lag', v['max-lag'], { min: 0.001 }),
    command: commandLine(cli.name),
  });
});
