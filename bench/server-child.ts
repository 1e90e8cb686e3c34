/** The controller under test for bench:server, in its own process: `tsx bench/server-child.ts PORT [REDIS_URL]`. */
import { parseArgs } from 'node:util';
import { buildServer } from '../src/server/app.js';
import { MemoryTelemetryStore } from '../src/server/store.js';
import { MemoryAssignmentStore, type EdgeConfig } from '../src/server/edges.js';
import { RedisAssignmentStore } from '../src/server/redis-store.js';

// spawned by bench/server.ts with positionals only (strict: any flag is an error)
const {
  positionals: [port, redisUrl],
} = parseArgs({ options: {}, allowPositionals: true, strict: true });
if (!port || !Number.isInteger(Number(port))) throw new Error('usage: tsx bench/server-child.ts PORT [REDIS_URL]');
export const BENCH_EDGES: EdgeConfig[] = [
  { id: 'edge-1', url: 'http://127.0.0.1:9001', setting: 'fat' },
  { id: 'edge-2', url: 'http://127.0.0.1:9002', setting: 'mid' },
];
const assignment = redisUrl ? await RedisAssignmentStore.connect(redisUrl, BENCH_EDGES) : new MemoryAssignmentStore(BENCH_EDGES);
// as `npm run server -- --redis`: with Redis, the assignment store and the rate-limit counters live there
const app = await buildServer({
  store: new MemoryTelemetryStore(),
  edges: BENCH_EDGES,
  assignment,
  ...(assignment instanceof RedisAssignmentStore ? { redis: assignment.client } : {}),
  negotiation: { ratePerS: 1e9 },
});
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => assignment.close())
    .then(() => process.exit(0));
});
