/**
 * The offloaded-inference wire format (IELB §4, ../shared/papers/ielb-edge-offloading-auction.txt), declared once
 * as TypeBox schemas with the TypeScript types derived from them: the controller validates with them
 * (src/server/routes/tasks.ts); the device's offload client (src/edge/offload.ts) imports only the types.
 *   POST /v1/tasks         TaskRequest → TaskAnswer (200 done) | TaskRefusal (503: it cannot meet its deadline)
 *   GET  /v1/tasks/quote   TaskQuote: the expected wait and execution time a task would get now
 * Only tasks whose inputs may leave the device are accepted: viewport prediction (head motion). The preference
 * profiler's raw history never leaves the device — there is no such task type on the wire.
 */
import { Type, type Static } from 'typebox';
import { NAME_PATTERN } from './common.js';
import { Dictionary, StringEnum } from './helpers.js';

/** The task types the edge runs (the device never offloads anything else). */
export const OFFLOAD_TASKS = ['viewport'] as const;
export type OffloadTask = (typeof OFFLOAD_TASKS)[number];

/** Request body limit of POST /v1/tasks, bytes (a viewport task is ~1–2 KiB). */
export const TASK_BODY_LIMIT = 16 * 1024;

/** Head-motion history for viewport prediction: 5 Hz unit vectors (x, y, z) flat, oldest first, 5 … 50 samples. */
export const ViewportInputSchema = Type.Object(
  {
    hist: Type.Array(Type.Number({ minimum: -1.001, maximum: 1.001 }), { minItems: 15, maxItems: 150 }),
    /** playback time of the last sample, s */
    t: Type.Number({ minimum: 0, maximum: 1e7 }),
    /** the video (the edge's attention prior for it, when it has one) */
    video: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
  },
  { additionalProperties: false },
);
export type ViewportInput = Static<typeof ViewportInputSchema>;

export const TaskRequestSchema = Type.Object(
  {
    task: StringEnum(OFFLOAD_TASKS),
    /** the negotiated edge session and its token (POST /v1/negotiate) */
    session: Type.String({ pattern: NAME_PATTERN }),
    token: Type.String({ minLength: 1, maxLength: 256 }),
    /** time the device allows the edge for this task (queue + execution), ms */
    deadline_ms: Type.Number({ exclusiveMinimum: 0, maximum: 60000 }),
    input: ViewportInputSchema,
  },
  { additionalProperties: false },
);
export type TaskRequest = Static<typeof TaskRequestSchema>;

export const TaskAnswerSchema = Type.Object({
  status: Type.Literal('done'),
  /** which model answered, e.g. 'viewport' or 'viewport-prior' */
  model: Type.String(),
  /** predicted unit vectors, 3 per 0.2 s step, flat */
  points: Type.Array(Type.Number()),
  /**
   * time the task waited (for a slot, and on a busy thread when the service dispatches ahead), and its execution
   * (the compute thread's own time when it reports one, else the slot time: execution + the hand-off), ms
   */
  queue_ms: Type.Number(),
  exec_ms: Type.Number(),
});
export type TaskAnswer = Static<typeof TaskAnswerSchema>;

export const TaskRefusalSchema = Type.Object({
  status: Type.Literal('refused'),
  error: Type.Literal('refused'),
  message: Type.String(),
});
export type TaskRefusal = Static<typeof TaskRefusalSchema>;

export const TaskQuoteSchema = Type.Object({
  /** expected wait for a slot now, ms */
  wait_ms: Type.Number(),
  /** expected execution time per task type, ms */
  exec_ms: Dictionary(Type.Number()),
  slots: Type.Integer(),
  pending: Type.Integer(),
  scheduler: Type.String(),
});
export type TaskQuote = Static<typeof TaskQuoteSchema>;
