/**
 * Run one edge cache: `npm run edge -- --origin http://127.0.0.1:8080 [--port 0] [--host 127.0.0.1]
 * [--capacity-gb 16] [--policy lru|lfu|gdsf] [--tuner fixed|size-only|strategy-only|agent]
 * [--agent models/cache-agent/agent.json] [--interval-s 600] [--playlist-ttl-s 1] [--id edge-1]
 * [--controller URL] [--report-ms 2000] [--report-key KEY]`.
 * Prints its URL; `GET /_edge/stats` shows hits, misses, bytes from the origin and the rented size; with
 * `--controller` the edge POSTs the same counters to the controller's `/v1/edges/:id/stats` every report-ms,
 * with the controller's edge key (`--report-key`, default EDGEPLAY_EDGE_KEY; the controller's `--edge-key`).
 * `--help` lists the flags; a missing `--origin` or a bad value exits 2 naming it (the shared CLI layer,
 * src/train/cli/args.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { AgentTuner, FixedTuner, POLICY_NAMES, SizeRuleTuner, StrategyRuleTuner, type CacheTuner } from '../../assign/cache/index.js';
import { InputError, num, oneOf, PORT, runCli } from '../../train/cli/args.js';
import { startEdgeCache } from './cache-server.js';

/** The tuners `--tuner` names. */
export const TUNERS = ['fixed', 'size-only', 'strategy-only', 'agent'] as const;

/**
 * The tuner named on a command line.
 * @throws InputError on an unknown name, or `agent` without a readable agent file
 */
export function tunerByName(name: string, capacityBytes: number, policy: string, agentFile?: string): CacheTuner {
  switch (oneOf('tuner', name, TUNERS)) {
    case 'fixed':
      return new FixedTuner(capacityBytes, policy);
    case 'size-only':
      return new SizeRuleTuner(policy);
    case 'strategy-only':
      return new StrategyRuleTuner(capacityBytes);
    case 'agent': {
      if (!agentFile) throw new InputError('--tuner agent needs --agent FILE (models/cache-agent/agent.json)');
      if (!existsSync(agentFile)) throw new InputError(`--agent: no such file "${agentFile}"`);
      let agent: unknown;
      try {
        agent = JSON.parse(readFileSync(agentFile, 'utf8'));
      } catch (e) {
        throw new InputError(`--agent ${agentFile}: not an agent file (${(e as Error).message})`);
      }
      return new AgentTuner(agent as ConstructorParameters<typeof AgentTuner>[0]);
    }
  }
}

/**
 * An http(s) URL given as `--flag`, as given.
 * @throws InputError when it is not one
 */
export function httpUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InputError(`--${flag}: expected an http(s) URL such as http://127.0.0.1:8080, got "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InputError(`--${flag}: expected an http(s) URL such as http://127.0.0.1:8080, got "${value}"`);
  return value;
}

/** The command line of `npm run edge` (its --help). */
export const cli = {
  name: 'edge',
  summary:
    "One pull-through edge cache in front of --origin (a dev server, a CDN): GET /_edge/stats shows its counters; with\n--controller it reports them to the controller's POST /v1/edges/:id/stats.",
  flags: {
    origin: { type: 'string', arg: 'URL', help: 'the server the edge pulls from, e.g. http://127.0.0.1:8080 (required)' },
    port: { type: 'string', default: '0', arg: 'N', help: 'port to listen on, 0 for any free one' },
    host: { type: 'string', default: '127.0.0.1', arg: 'HOST', help: 'address to listen on' },
    'capacity-gb': { type: 'string', default: '16', arg: 'GB', help: 'the rented cache size, GB (> 0)' },
    policy: { type: 'string', default: 'lru', arg: 'NAME', help: `replacement policy: ${POLICY_NAMES.join(', ')}` },
    tuner: { type: 'string', default: 'fixed', arg: 'NAME', help: `what sets size and policy every interval: ${TUNERS.join(', ')}` },
    agent: { type: 'string', default: 'models/cache-agent/agent.json', arg: 'FILE', help: 'the agent of --tuner agent' },
    'interval-s': { type: 'string', default: '600', arg: 'S', help: "the tuner's interval, seconds" },
    'playlist-ttl-s': { type: 'string', default: '1', arg: 'S', help: 'how long a live playlist is cached, seconds' },
    id: { type: 'string', default: 'edge', arg: 'ID', help: "the edge's id in its stats and reports" },
    controller: { type: 'string', arg: 'URL', help: 'the controller to report the counters to (needs --report-key)' },
    'report-ms': { type: 'string', default: '2000', arg: 'MS', help: 'ms between two reports to --controller' },
    'report-key': { type: 'string', arg: 'KEY', help: "the controller's edge key (default: $EDGEPLAY_EDGE_KEY)" },
  },
} as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  void runCli(cli, async (a) => {
    if (!a.origin) throw new InputError('--origin URL is required (the server the edge pulls from)');
    const origin = httpUrl('origin', a.origin);
    const controller = a.controller === undefined ? undefined : httpUrl('controller', a.controller);
    const reportKey = a['report-key'] ?? process.env.EDGEPLAY_EDGE_KEY;
    if (controller && !reportKey)
      throw new InputError('--controller needs --report-key KEY or EDGEPLAY_EDGE_KEY (the controller refuses reports without it)');
    // a key without a controller reports nothing; one shorter than the controller's --edge-key minimum is refused there
    if (!controller && a['report-key'] !== undefined)
      throw new InputError(
        '--report-key is for the reports to --controller: without --controller nothing is reported (add --controller URL or drop it)',
      );
    if (controller && reportKey!.length < 16)
      throw new InputError(
        `${a['report-key'] !== undefined ? '--report-key' : 'EDGEPLAY_EDGE_KEY'} must be at least 16 characters (the controller's --edge-key is; a shorter one is refused with 401)`,
      );
    const capacityGb = num('capacity-gb', a['capacity-gb']);
    if (capacityGb <= 0) throw new InputError(`--capacity-gb: must be more than 0, got "${a['capacity-gb']}"`);
    const capacityBytes = capacityGb * 1e9;
    const policy = oneOf('policy', a.policy, POLICY_NAMES);
    const port = num('port', a.port, PORT);
    const intervalS = num('interval-s', a['interval-s'], { min: 0.001 });
    const playlistTtlS = num('playlist-ttl-s', a['playlist-ttl-s'], { min: 0 });
    const everyMs = num('report-ms', a['report-ms'], { min: 1 });
    const tuner = tunerByName(a.tuner, capacityBytes, policy, a.agent);
    const edge = await startEdgeCache({
      origin,
      port,
      host: a.host,
      capacityBytes,
      policy,
      tuner,
      intervalS,
      playlistTtlS,
      id: a.id,
      ...(controller ? { report: { controller, everyMs, key: reportKey } } : {}),
    }).catch((e: NodeJS.ErrnoException) => {
      // a port in use or an address not here: one line saying what, as the controller does
      const why = e.code === 'EADDRINUSE' ? `port ${port} on ${a.host} is in use (choose another with --port N)` : e.message;
      console.error(`[edgeplay] edge not started: ${why}`);
      process.exit(1);
    });
    console.log(
      `edge ${edge.id} on ${edge.url} → ${origin} (${capacityGb} GB, ${policy}, tuner ${a.tuner}); stats at ${edge.url}/_edge/stats`,
    );
    const stop = () => void edge.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
