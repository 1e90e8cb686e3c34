/** `npm run bench:offload -- [options]` (--help lists them): the command line of benchOffload (../offload.ts). */
import { commandLine, listOf, num, runCli } from '../../src/train/cli/args.js';
import { SCHEDULERS } from '../../src/assign/auction/index.js';
import { TASK_HANDOFFS } from '../../src/server/task-pool.js';
import { benchOffload } from '../offload.js';

const cli = {
  name: 'bench:offload',
  summary:
    'The edge task service over real HTTP on loopback: per scheduler and offered load, response time p50/p95/p99, deadline\nhits, Jain fairness, throughput; then the device-side placement (rule vs local vs edge) per device class.',
  flags: {
    schedulers: { type: 'string', default: SCHEDULERS.join(','), arg: 'LIST', help: 'schedulers' },
    loads: { type: 'string', default: '0.3,0.5,0.8,1,1.2,1.5', arg: 'LIST', help: 'offered loads, fractions of capacity' },
    slots: { type: 'string', default: '2', arg: 'N', help: 'compute slots' },
    'service-ms': { type: 'string', default: '10', arg: 'MS', help: 'slot time per task (model + padding), ms' },
    clients: { type: 'string', default: '30', arg: 'N', help: 'simulated clients' },
    seconds: { type: 'string', default: '6', arg: 'S', help: 'seconds of arrivals per scheduler and load' },
    'sim-seconds': { type: 'string', default: '120', arg: 'S', help: 'seconds of virtual-time arrivals per row of the simulated table' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'arrival seed' },
    'cpu-prof': { type: 'string', arg: 'DIR', help: 'write V8 CPU profiles of the service processes and their threads into DIR' },
    lookahead: {
      type: 'string',
      default: '1',
      arg: 'N',
      help: 'tasks on deck across the compute slots (TaskService lookahead; 0: dispatch only to an idle thread)',
    },
    handoffs: {
      type: 'string',
      default: 'shared',
      arg: 'LIST',
      help: 'how tasks reach the compute threads (message, shared: TaskPool handoff), one service each, side by side',
    },
    'pad-spin-ms': {
      type: 'string',
      default: '0',
      arg: 'LIST',
      help: "the last ms of each task's pad spent computing instead of asleep (a sleeping thread wakes late), one service each",
    },
    rounds: { type: 'string', default: '1', arg: 'N', help: 'runs of every (load, scheduler, hand-off) row, the order rotating each time' },
    out: { type: 'string', default: 'bench/results/offload.json', arg: 'FILE', help: 'results file' },
  },
} as const;

await runCli(cli, async (v) => {
  const loads = v.loads.split(',').map((s, i) => num(`loads[${i}]`, s, { min: 0.01 }));
  await benchOffload({
    schedulers: listOf('schedulers', v.schedulers, SCHEDULERS),
    loads,
    slots: num('slots', v.slots, { integer: true, min: 1 }),
    serviceMs: num('service-ms', v['service-ms'], { min: 1 }),
    clients: num('clients', v.clients, { integer: true, min: 1 }),
    seconds: num('seconds', v.seconds, { min: 0.5 }),
    seed: num('seed', v.seed, { integer: true }),
    simSeconds: num('sim-seconds', v['sim-seconds'], { min: 1 }),
    cpuProfDir: v['cpu-prof'],
    lookahead: num('lookahead', v.lookahead, { integer: true, min: 0 }),
    handoffs: listOf('handoffs', v.handoffs, TASK_HANDOFFS),
    padSpinMs: v['pad-spin-ms'].split(',').map((s, i) => num(`pad-spin-ms[${i}]`, s, { min: 0 })),
    rounds: num('rounds', v.rounds, { integer: true, min: 1 }),
    out: v.out,
    command: commandLine(cli.name),
  });
});
