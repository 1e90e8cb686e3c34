/**
 * The HTTP contract every route of the controller shares (fastify-plugin: it applies to the whole app, not
 * only to this plugin's scope):
 * - `text/plain` bodies are parsed as JSON: browsers send telemetry with sendBeacon / keepalive fetch as a
 *   CORS "simple" request, which cannot be application/json;
 * - errors: a schema violation → 400 `{ error: 'bad_request', message: '<where> <what>', field }` naming the
 *   field (validationAnswer: the unknown property, the bad data key, the allowed value); an empty body or one that is no
 *   JSON → 400 with `field: 'body'`, naming the content type sent; a body over the limit → 413;
 *   a content type it does not parse → 415 `unsupported_media_type` naming it; a rate limit → 429; any other 4xx keeps its status; never a 500 for
 *   bad input (a 500 is a bug, logged); a store that cannot be reached (errors.ts StoreUnavailableError) →
 *   503 `{ error: 'unavailable', message }` with `Retry-After`, so the client tries again;
 * - unknown routes → 404 JSON.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyPluginAsync, FastifySchemaValidationError } from 'fastify';
import { StoreUnavailableError } from '../errors.js';

export interface HttpContractOptions {
  /** the body limit, bytes (for the 413 message) */
  bodyLimit: number;
}

/** Error names of the 4xx answers, by status (any other 4xx is a 'bad_request'). */
const ERROR_NAMES: Record<number, string> = {
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** A value as an answer quotes it. */
const show = (v: unknown) => JSON.stringify(v);

/** A key as one step of a JSON pointer (RFC 6901 §3: `~` → `~0`, `/` → `~1`). */
const pointerStep = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The 400 answer's `field` and `message` for a schema violation: ajv's first error (fastify stops at the first,
 * allErrors false), with what ajv knows but its message leaves out —
 * - additionalProperties: the unknown property (params.additionalProperty) is the field: `body/extra`;
 * - propertyNames (a data key not matching its pattern): the key (the error's propertyName / params.propertyName)
 *   is named and is the field's last step: `body/events/0/data/Bad Key`;
 * - required: the missing property is the field: `body/events/0/seq is required` (not "body must have required
 *   property 'seq'" with field `body/events/0`);
 * - const and enum: the allowed value(s) (params.allowedValue / allowedValues).
 * @param where fastify's validationContext: 'body' | 'querystring' | 'params' | 'headers'
 * @param errors fastify's err.validation (ajv ErrorObjects)
 */
export function validationAnswer(where: string, errors: FastifySchemaValidationError[] | undefined): { field: string; message: string } {
  const first = errors?.[0];
  if (!first) return { field: where, message: `${where} is invalid` };
  const path = `${where}${first.instancePath || ''}`;
  const params = (first.params ?? {}) as Record<string, unknown>;
  // a propertyNames failure comes as the key's own error (with propertyName) and then the propertyNames one
  const key = (first as { propertyName?: unknown }).propertyName ?? (first.keyword === 'propertyNames' ? params.propertyName : undefined);
  if (first.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    const prop = params.additionalProperty;
    return {
      field: `${path}/${pointerStep(prop)}`,
      message: `${path} has an unknown property ${show(prop)} (no additional properties allowed)`,
    };
  }
  if (first.keyword === 'required' && typeof params.missingProperty === 'string') {
    const prop = params.missingProperty;
    return { field: `${path}/${pointerStep(prop)}`, message: `${path}/${pointerStep(prop)} is required` };
  }
  if (typeof key === 'string') {
    const what = first.keyword === 'propertyNames' ? 'is not a valid key' : (first.message ?? 'is invalid');
    return { field: `${path}/${pointerStep(key)}`, message: `${path} key ${show(key)} ${what}` };
  }
  if (first.keyword === 'const' && 'allowedValue' in params)
    return { field: path, message: `${path} must be ${show(params.allowedValue)}` };
  if (first.keyword === 'enum' && Array.isArray(params.allowedValues))
    return { field: path, message: `${path} must be one of ${params.allowedValues.map(show).join(', ')}` };
  return { field: path, message: `${path} ${first.message ?? 'is invalid'}` };
}

const httpContract: FastifyPluginAsync<HttpContractOptions> = async (app, o) => {
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, jsonParser);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const { field, message } = validationAnswer(err.validationContext ?? 'body', err.validation);
      return reply.code(400).send({ error: 'bad_request', message, field });
    }
    const code =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 500
        ? err.statusCode
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 413
          : undefined;
    // a body that is no JSON: fastify's message names application/json whatever was sent (a beacon's text/plain too)
    const notJson =
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'is empty' : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'is not JSON' : null;
    if (notJson) {
      const ct = show(req.headers['content-type'] ?? '');
      return reply
        .code(400)
        .send({ error: 'bad_request', message: `body ${notJson} (content-type ${ct}; expected a JSON document)`, field: 'body' });
    }
    if (code) {
      const message =
        code === 413
          ? `body larger than ${o.bodyLimit} bytes`
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? `content-type ${show(req.headers['content-type'] ?? '')} is not accepted (send application/json or text/plain)`
            : err.message;
      return reply.code(code).send({ error: ERROR_NAMES[code] ?? 'bad_request', message });
    }
    if ((err as unknown) instanceof StoreUnavailableError) {
      const e = err as unknown as StoreUnavailableError;
      app.log.warn(e.message);
      return reply
        .code(503)
        .header('retry-after', String(e.retryAfterS))
        .send({ error: 'unavailable', message: `${e.store} store unavailable, retry in ${e.retryAfterS} s` });
    }
    app.log.error(err);
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
};

export default fp(httpContract, { fastify: '5.x', name: 'edgeplay-http-contract' });
