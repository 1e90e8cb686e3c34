/**
 * POST /v1/tasks — run an offloaded inference task (IELB §4, src/server/tasks.ts): 200 with the result, 503 when
 * the task cannot meet its deadline here (the device then runs it itself), 403 without a valid session token, 400
 * for a bad body (naming the field; a history that is not whole unit (x, y, z) samples too), 413 over `TASK_BODY_LIMIT`.
 * GET /v1/tasks/quote — the expected wait and execution now (the device's offloading rule reads it).
 * A controller without a task service (started without `--task-slots`) answers both 404 saying so and how to
 * start one that serves them, as GET /v1/cdns does without `--cdns`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TASK_BODY_LIMIT, TaskRequestSchema } from '../../core/schemas/tasks.js';
import type { TaskService } from '../tasks.js';
import { refusalError, refusalStatus, type TokenService } from '../tokens.js';

export interface TaskRoutesOptions {
  /** the inference service; none: the routes answer 404 (no task slots) */
  tasks?: TaskService;
  tokens: TokenService;
}

/** How far a head-motion sample's length may be from 1 (the device's samples are slerped unit vectors, rounded). */
const UNIT_TOLERANCE = 0.05;

/** The 404 of a controller that serves no offloaded tasks. */
export const NO_TASKS = {
  error: 'not_found',
  message: 'this controller runs no offloaded tasks (start it with --task-slots N)',
} as const;

export const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (app, { tasks, tokens }) => {
  if (!tasks) {
    app.post('/v1/tasks', { bodyLimit: TASK_BODY_LIMIT }, async (_req, reply) => reply.code(404).send(NO_TASKS));
    app.get('/v1/tasks/quote', async (_req, reply) => reply.code(404).send(NO_TASKS));
    return;
  }
  app.post('/v1/tasks', { bodyLimit: TASK_BODY_LIMIT, schema: { body: TaskRequestSchema } }, async (req, reply) => {
    const b = req.body;
    const check = tokens.verify(b.session, b.token);
    if (!check.ok)
      return reply
        .code(refusalStatus(check.reason))
        .send({ error: refusalError(check.reason), message: check.message, field: 'body/token' });
    if (b.input.hist.length % 3)
      return reply
        .code(400)
        .send({ error: 'bad_request', message: 'body/input/hist must hold whole (x, y, z) samples', field: 'body/input/hist' });
    // the model reads directions: a zero or unnormalised sample (a device bug) predicted confident garbage
    const h = b.input.hist;
    for (let i = 0; i < h.length; i += 3) {
      const norm = Math.hypot(h[i], h[i + 1], h[i + 2]);
      if (Math.abs(norm - 1) > UNIT_TOLERANCE)
        return reply.code(400).send({
          error: 'bad_request',
          message: `body/input/hist sample ${i / 3} has length ${norm.toFixed(3)}: every sample must be a unit vector`,
          field: `body/input/hist/${i}`,
        });
    }
    const out = await tasks.run(b.task, b.input, b.deadline_ms, b.session);
    if (out.status === 'refused') return reply.code(503).send({ status: 'refused', error: 'refused', message: out.message });
    return out;
  });
  app.get('/v1/tasks/quote', async () => tasks.quote());
  app.addHook('onClose', async () => tasks.close());
};
