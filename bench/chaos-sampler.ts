/**
 * The chaos bench's capacity sampler, a process of its own (bench/chaos.ts spawns it): every `everyMs` it reads
 * the edges' reserved Mb/s from Redis (RedisAssignmentStore.snapshot) and appends one line to `out`:
 * `<epoch ms> <edge>:<used Mb/s>:<capacity Mb/s> …`, or `<epoch ms> down` while Redis does not answer. Its own
 * event loop, so thousands of simulated viewers in the bench process do not thin its samples out.
 *   node --import tsx bench/chaos-sampler.ts <redis URL> <edges JSON> <every ms> <out file>
 * Stops on SIGTERM, or when its parent goes away.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RedisAssignmentStore } from '../src/server/redis-store.js';

const { positionals } = parseArgs({ allowPositionals: true, strict: true, options: {} });
if (positionals.length !== 4) {
  console.error('usage: node --import tsx bench/chaos-sampler.ts <redis URL> <edges JSON> <every ms> <out file>');
  process.exit(2);
}
const [url, edgesJson, everyMs, out] = positionals;
const every = Number(everyMs);
const store = await RedisAssignmentStore.connect(url, JSON.parse(edgesJson));
writeFileSync(out, '');
let stop = false;
process.on('SIGTERM', () => (stop = true));
const parent = process.ppid;
let lines: string[] = [];
let flushedAt = 0; // the first sample is written at once: the bench waits for it before its viewers start
while (!stop && process.ppid === parent) {
  const t = Date.now();
  try {
    const snap = await store.snapshot();
    lines.push(`${t} ${snap.map((e) => `${e.id}:${e.usedMbps}:${e.capMbps}`).join(' ')}`);
  } catch {
    lines.push(`${t} down`);
  }
  if (Date.now() - flushedAt > 500) {
    appendFileSync(out, lines.join('\n') + '\n');
    lines = [];
    flushedAt = Date.now();
  }
  const wait = every - (Date.now() - t);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
if (lines.length) appendFileSync(out, lines.join('\n') + '\n');
await store.close();
process.exit(0);
