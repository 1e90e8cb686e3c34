/**
 * Deadlines for asynchronous answers (a worker, the controller, an edge): a late answer is the caller's
 * cue to fall back, so nothing waits on a model or a server. No DOM, no Node.
 */

/** The error a `withDeadline` promise rejects with when the answer is late. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/**
 * Resolve with `p`, or reject with a `DeadlineError` after `ms` milliseconds (whichever comes first).
 * `p` keeps running; its late result is ignored.
 */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((res, rej) => {
    const t = setTimeout(() => rej(new DeadlineError(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        res(v);
      },
      (e) => {
        clearTimeout(t);
        rej(e);
      },
    );
  });
}
