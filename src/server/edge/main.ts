/**
 * Run one edge cache: `npm run edge -- --origin http://127.0.0.1:8080 [--port 0] [--host 127.0.0.1]
 * [--capacity-gb 16] [--policy lru|lfu|gdsf] [--tuner fixed|size-only|strategy-only|agent]
 * [--agent models/cache-agent/agent.json] [--interval-s 600] [--playlist-ttl-s 1] [--id edge-1]
 * [--controller URL] [--report-ms 2000] [--report-key KEY]`.
 * Prints its URL; `GET /_edge/stats` shows hits, misses, bytes from the origin and the rented size; with
 * `--controller` the edge POSTs the same counters to the controller's `/v1/edges/:id/stats` every report-ms,
 * with the controller's edge key (`--report-key`, default EDGEPLAY_EDGE_KEY; the controller's `--edge-key`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AgentTuner, FixedTuner, SizeRuleTuner, StrategyRuleTuner, type CacheTuner } from '../../assign/cache/index.js';
import { startEdgeCache } from './cache-server.js';

/** The tuner named on a command line (throws on an unknown name or a missing agent file). */
export function tunerByName(name: string, capacityBytes: number, policy: string, agentFile?: string): CacheTuner {
  switch (name) {
    case 'fixed':
      return new FixedTuner(capacityBytes, policy);
    case 'size-only':
      return new SizeRuleTuner(policy);
    case 'strategy-only':
      return new StrategyRuleTuner(capacityBytes);
    case 'agent':
      if (!agentFile) throw new Error('--tuner agent needs --agent FILE (models/cache-agent/agent.json)');
      return new AgentTuner(JSON.parse(readFileSync(agentFile, 'utf8')));
    default:
      throw new Error(`--tuner: fixed, size-only, strategy-only or agent (got ${name})`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: a } = parseArgs({
    options: {
      origin: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'capacity-gb': { type: 'string', default: '16' },
      policy: { type: 'string', default: 'lru' },
      tuner: { type: 'string', default: 'fixed' },
      agent: { type: 'string', default: 'models/cache-agent/agent.json' },
      'interval-s': { type: 'string', default: '600' },
      'playlist-ttl-s': { type: 'string', default: '1' },
      id: { type: 'string', default: 'edge' },
      controller: { type: 'string' },
      'report-ms': { type: 'string', default: '2000' },
      'report-key': { type: 'string' },
    },
  });
  if (!a.origin) throw new Error('--origin URL is required (the server the edge pulls from)');
  const reportKey = a['report-key'] ?? process.env.EDGEPLAY_EDGE_KEY;
  if (a.controller && !reportKey)
    throw new Error('--controller needs --report-key KEY or EDGEPLAY_EDGE_KEY (the controller refuses reports without it)');
  const capacityBytes = Number(a['capacity-gb']) * 1e9;
  const edge = await startEdgeCache({
    origin: a.origin,
    port: Number(a.port),
    host: a.host,
    capacityBytes,
    policy: a.policy,
    tuner: tunerByName(a.tuner!, capacityBytes, a.policy!, a.agent),
    intervalS: Number(a['interval-s']),
    playlistTtlS: Number(a['playlist-ttl-s']),
    id: a.id,
    ...(a.controller ? { report: { controller: a.controller, everyMs: Number(a['report-ms']), key: reportKey } } : {}),
  });
  console.log(
    `edge ${edge.id} on ${edge.url} → ${a.origin} (${a['capacity-gb']} GB, ${a.policy}, tuner ${a.tuner}); stats at ${edge.url}/_edge/stats`,
  );
  const stop = () => void edge.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
