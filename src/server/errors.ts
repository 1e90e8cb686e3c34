/**
 * The one error a store throws when it cannot answer (Redis or PostgreSQL unreachable, a connection lost
 * mid-query): the controller answers 503 with `Retry-After` (plugins/http.ts) — the player keeps what it has
 * (hls.js retries a steering manifest after its TTL; the SDK keeps a telemetry batch in its outbox and sends it
 * again; a failed negotiation plays from the CDN) — never a 500, never a 404 for a session it could not read.
 */
export class StoreUnavailableError extends Error {
  /** the HTTP status the controller answers with */
  readonly statusCode = 503;
  /** seconds the client should wait before trying again (the Retry-After header) */
  readonly retryAfterS: number;

  /**
   * @param store which store failed ('assignment' | 'telemetry')
   * @param cause the client library's error (its message is kept, for the log)
   */
  constructor(
    readonly store: 'assignment' | 'telemetry',
    cause: unknown,
    retryAfterS = 1,
  ) {
    super(`${store} store unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StoreUnavailableError';
    this.retryAfterS = retryAfterS;
  }
}

/** Run `fn`; any error it throws becomes a StoreUnavailableError of `store` (one already is stays as it is). */
export async function orUnavailable<T>(store: 'assignment' | 'telemetry', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof StoreUnavailableError ? e : new StoreUnavailableError(store, e);
  }
}
