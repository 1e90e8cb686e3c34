/**
 * GET /v1/cdns — the multi-CDN scheduler's state (../cdns.ts): each CDN's share of new viewers, its last
 * measured workload and QoE, and the step history; 404 when the controller runs without `--cdns`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CdnsAnswerSchema, type CdnsAnswer } from '../../core/schemas/cdns.js';
import { ErrorAnswerSchema } from '../../core/schemas/negotiate.js';
import type { CdnScheduler } from '../cdns.js';

export interface CdnRoutesOptions {
  scheduler?: CdnScheduler;
}

export const cdnRoutes: FastifyPluginAsyncTypebox<CdnRoutesOptions> = async (app, { scheduler }) => {
  if (scheduler) {
    scheduler.start();
    app.addHook('onClose', async () => scheduler.stop());
  }
  app.get('/v1/cdns', { schema: { response: { 200: CdnsAnswerSchema, '4xx': ErrorAnswerSchema } } }, async (_req, reply) => {
    if (!scheduler)
      return reply.code(404).send({ error: 'not_found', message: 'this controller schedules no CDNs (start it with --cdns)' });
    const steps = scheduler.steps();
    const last = steps[steps.length - 1];
    const shares = scheduler.shares();
    const answer: CdnsAnswer = {
      step_ms: scheduler.stepMs,
      policy: scheduler.policyName,
      leader: scheduler.leader,
      cdns: scheduler.cdns.map((c, i) => ({
        id: c.id,
        url: c.url,
        share: shares[i],
        workload: last ? last.workload[i] : null,
        slatency: last ? last.slatency[i] : null,
        bufratio: last ? last.bufratio[i] : null,
        buffreq: last ? last.buffreq[i] : null,
      })),
      history: steps,
    };
    return answer;
  });
};
