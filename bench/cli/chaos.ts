/** `npm run bench:chaos -- [options]` (--help lists them): the command line of runChaos (../chaos.ts). */
import { commandLine, InputError, num, runCli } from '../../src/train/cli/args.js';
import { runChaos } from '../chaos.js';

const cli = {
  name: 'bench:chaos',
  summary:
    'Two controller processes on one Redis and one PostgreSQL, simulated viewers behind a round-robin balancer, while\none controller is kill -9ed and restarted, then Redis, then PostgreSQL. Counts batches acknowledged vs stored,\nedge usage vs capacity, steering 404s and CDN fallbacks per fault. Writes bench/results/chaos.json.',
  flags: {
    viewers: { type: 'string', default: '2000', arg: 'N', help: 'simulated viewers' },
    tick: { type: 'string', default: '4000', arg: 'MS', help: "ms between a viewer's steering reloads / telemetry batches" },
    steady: { type: 'string', default: '4000', arg: 'MS', help: 'ms of steady service before the first fault and after each recovery' },
    down: { type: 'string', default: '1500', arg: 'MS', help: 'ms a killed service stays down' },
    resend: { type: 'string', default: '0.1', arg: 'P', help: 'probability an acknowledged batch is sent again' },
    seed: { type: 'string', default: '1', arg: 'N', help: "seed of the viewers' choices" },
    ramp: { type: 'string', default: '60000', arg: 'MS', help: "ms over which the viewers' first views start (0: within the first tick)" },
    sample: { type: 'string', default: '50', arg: 'MS', help: "ms between samples of the edges' usage (a sampler process of its own)" },
  },
} as const;

await runCli(cli, async (v) => {
  const resendP = num('resend', v.resend, { min: 0 });
  if (resendP > 1) throw new InputError(`--resend: a probability, at most 1, got "${v.resend}"`);
  await runChaos({
    viewers: num('viewers', v.viewers, { integer: true, min: 1 }),
    tickMs: num('tick', v.tick, { min: 50 }),
    steadyMs: num('steady', v.steady, { min: 0 }),
    downMs: num('down', v.down, { min: 0 }),
    resendP,
    seed: num('seed', v.seed, { integer: true, min: 1 }),
    rampMs: num('ramp', v.ramp, { min: 0 }),
    sampleMs: num('sample', v.sample, { min: 5 }),
    command: commandLine(cli.name),
  });
});
