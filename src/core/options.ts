/**
 * Options over defaults, where an option given as `undefined` keeps its default. A plain spread
 * (`{ ...defaults, ...given }`) lets `{ heartbeatMs: undefined }` (an app spreading its own config with unset fields)
 * replace the default with `undefined` — a 0 ms timer, an IndexedDB outbox named "undefined".
 */
export function withDefaults<D extends object, G extends object>(defaults: D, given: G): D & G {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...defaults, ...set } as D & G;
}
