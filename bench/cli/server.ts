/** `npm run bench:server -- [options]` (--help lists them): the command line of benchServer (../server.ts). */
import { commandLine, num, runCli } from '../../src/train/cli/args.js';
import { benchServer } from '../server.js';

const cli = {
  name: 'bench:server',
  summary:
    'autocannon against POST /v1/negotiate and a hello route of the same controller (its own process), memory store then\nRedis when redis-server is installed, on loopback. Writes bench/results/server.json.',
  flags: {
    duration: { type: 'string', default: '5', arg: 'S', help: 'seconds per run' },
    connections: { type: 'string', default: '50', arg: 'N', help: 'concurrent connections' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchServer({
    duration: num('duration', v.duration, { min: 1 }),
    connections: num('connections', v.connections, { integer: true, min: 1 }),
    command: commandLine(cli.name),
  });
});
