/** `npm run bench:browser-abr -- [options]` (--help lists them): the command line of benchBrowserAbr (../browser-abr.ts). */
import { commandLine, listOf, num, oneOf, runCli } from '../../src/train/cli/args.js';
import { benchBrowserAbr } from '../browser-abr.js';

const cli = {
  name: 'bench:browser-abr',
  summary:
    "Shaped streams in headless Chromium with hls.js' default ABR and edgeplay's policies: QoE_lin from real playback, decision\nlatency and its parts, main-thread long tasks. Needs npm run build. Writes bench/results/browser-abr.json.",
  flags: {
    traces: { type: 'string', default: 'norway_bus_1,norway_ferry_2,norway_tram_5', arg: 'LIST', help: 'throughput traces' },
    policies: { type: 'string', default: 'hls,drl', arg: 'LIST', help: 'policies (hls = hls.js default ABR)' },
    limit: { type: 'string', default: '15', arg: 'N', help: 'VOD segments per run' },
    transmux: { type: 'string', default: 'worker', arg: 'worker|inline', help: 'hls.js transmuxing in its worker or inline' },
  },
} as const;

await runCli(cli, async (v) => {
  await benchBrowserAbr({
    traces: listOf('traces', v.traces),
    policies: listOf('policies', v.policies),
    limit: num('limit', v.limit, { integer: true, min: 1 }),
    transmux: oneOf('transmux', v.transmux, ['worker', 'inline']),
    command: commandLine(cli.name),
  });
});
