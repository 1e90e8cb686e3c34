/** `npm run bench:ingest -- [options]` (--help lists them): the command line of benchIngest (../ingest.ts). */
import { commandLine, num, runCli } from '../../src/train/cli/args.js';
import { benchIngest } from '../ingest.js';

const cli = {
  name: 'bench:ingest',
  summary:
    'autocannon POSTing telemetry batches to 1 and 2 controller processes storing into SQLite, then PostgreSQL (when\ninstalled), and their GET /v1/health in the same run, on loopback. Writes bench/results/ingest.json.',
  flags: {
    duration: { type: 'string', default: '5', arg: 'S', help: 'seconds per run' },
    connections: { type: 'string', default: '50', arg: 'N', help: 'concurrent connections (spread over the processes)' },
    events: { type: 'string', default: '10', arg: 'N', help: 'events per batch' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchIngest({
    duration: num('duration', v.duration, { min: 1 }),
    connections: num('connections', v.connections, { integer: true, min: 1 }),
    eventsPerBatch: num('events', v.events, { integer: true, min: 1 }),
    command: commandLine(cli.name),
  });
});
