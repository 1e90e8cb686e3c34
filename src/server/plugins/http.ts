/**
 * The HTTP contract every route of the controller shares (fastify-plugin: it applies to the whole app, not
 * only to this plugin's scope):
 * - `text/plain` bodies are parsed as JSON: browsers send telemetry with sendBeacon / keepalive fetch as a
 *   CORS "simple" request, which cannot be application/json;
 * - errors: a schema violation → 400 `{ error: 'bad_request', message: '<where> <what>', field }` naming the
 *   field; a body over the limit → 413; a rate limit → 429; any other 4xx keeps its status; never a 500 for
 *   bad input (a 500 is a bug, logged);
 * - unknown routes → 404 JSON.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyPluginAsync } from 'fastify';

export interface HttpContractOptions {
  /** the body limit, bytes (for the 413 message) */
  bodyLimit: number;
}

/** Error names of the 4xx answers, by status (any other 4xx is a 'bad_request'). */
const ERROR_NAMES: Record<number, string> = { 404: 'not_found', 413: 'payload_too_large', 429: 'rate_limited' };

const httpContract: FastifyPluginAsync<HttpContractOptions> = async (app, o) => {
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, jsonParser);

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'body';
      const first = err.validation[0];
      const path = first ? `${where}${first.instancePath || ''}` : where;
      return reply.code(400).send({ error: 'bad_request', message: `${path} ${first?.message ?? 'is invalid'}`, field: path });
    }
    const code =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 500
        ? err.statusCode
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 413
          : undefined;
    if (code) {
      const message = code === 413 ? `body larger than ${o.bodyLimit} bytes` : err.message;
      return reply.code(code).send({ error: ERROR_NAMES[code] ?? 'bad_request', message });
    }
    app.log.error(err);
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
};

export default fp(httpContract, { fastify: '5.x', name: 'edgeplay-http-contract' });
