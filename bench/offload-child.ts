/**
 * The edge's task service under test for bench:offload, in its own process (the load generator's HTTP client must
 * not share its event loop): `tsx bench/offload-child.ts --slots N --service-ms MS --scheduler NAME --secret S
 * [--models DIR] [--lookahead N] [--handoff message|shared] [--pad-spin-ms MS]` (up to N tasks on deck across the slots,
 * TaskService `lookahead`; how a task reaches its thread, TaskPool `handoff`; the last MS of a task's pad spent in a
 * busy loop instead of asleep, TaskPool `padSpinMs`). Compute slots are a `worker_threads` pool (src/server/task-pool.ts) running the real viewport
 * model, each task holding its thread for `service-ms` (the stand-in for a heavier edge model). Prints `ready PORT`
 * once it listens; SIGTERM closes it.
 */
import { parseArgs } from 'node:util';
import { SCHEDULERS, type SchedulerName } from '../src/assign/auction/index.js';
import { buildServer } from '../src/server/app.js';
import { MemoryTelemetryStore } from '../src/server/store.js';
import { TASK_HANDOFFS, TaskPool, type TaskHandoff } from '../src/server/task-pool.js';
import { TaskService } from '../src/server/tasks.js';

const { values: v } = parseArgs({
  options: {
    slots: { type: 'string', default: '2' },
    'service-ms': { type: 'string', default: '10' },
    scheduler: { type: 'string', default: 'auction' },
    secret: { type: 'string', default: 'bench-offload' },
    models: { type: 'string', default: 'models' },
    lookahead: { type: 'string', default: '0' },
    handoff: { type: 'string', default: 'message' },
    'pad-spin-ms': { type: 'string', default: '0' },
  },
  strict: true,
});
const slots = Number(v.slots);
const serviceMs = Number(v['service-ms']);
if (!(Number.isInteger(slots) && slots >= 1) || !(serviceMs >= 0)) throw new Error('--slots must be an integer ≥ 1, --service-ms ≥ 0');
if (!(SCHEDULERS as readonly string[]).includes(v.scheduler)) throw new Error(`--scheduler: one of ${SCHEDULERS.join(', ')}`);
const lookahead = Number(v.lookahead);
if (!(Number.isInteger(lookahead) && lookahead >= 0)) throw new Error('--lookahead must be an integer ≥ 0');
if (!(TASK_HANDOFFS as readonly string[]).includes(v.handoff)) throw new Error(`--handoff: one of ${TASK_HANDOFFS.join(', ')}`);
const pool = await new TaskPool({
  size: slots,
  modelsDir: v.models,
  padMs: serviceMs,
  padSpinMs: Number(v['pad-spin-ms']),
  lookahead: Math.ceil(lookahead / slots),
  handoff: v.handoff as TaskHandoff,
}).ready();
const tasks = new TaskService({ slots, scheduler: v.scheduler as SchedulerName, executors: { viewport: pool.executor() }, lookahead });
const app = await buildServer({ store: new MemoryTelemetryStore(), negotiation: { secret: v.secret }, tasks });
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
process.stdout.write(`ready ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.close())
    .then(() => process.exit(0));
});
