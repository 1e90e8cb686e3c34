/** The dashboard's "pathway" label: which pathway served the last main fragment hls.js loaded (demo/app.ts). */

/** Where a URL's port says it came from: a demo edge's id, 'cdn' for the page's own origin, else `port N`. */
function pathwayOfUrl(url: string, edges: ReadonlyArray<{ id: string; url: string }>, pageHref: string): string {
  const port = new URL(url, pageHref).port;
  return edges.find((e) => new URL(e.url).port === port)?.id ?? (port === new URL(pageHref).port ? 'cdn' : `port ${port}`);
}

/**
 * The pathway that served a `FRAG_LOADED` (hls.js' event data `{ frag, part }`): by the port of the URL it came from —
 * the part's for an LL-HLS part, else the fragment's (the demo's edges, the page's origin: 'cdn').
 * @param edges the demo's edges (`/api/config`), id and base URL
 * @param pageHref the dashboard's URL (its port is the CDN pathway's)
 * @returns the edge id, 'cdn', `port N`, or null when the event carries no URL
 */
export function servingPathwayOf(
  d: { frag: { url: string }; part?: { url: string } | null },
  edges: ReadonlyArray<{ id: string; url: string }>,
  pageHref: string,
): string | null {
  // an LL-HLS part: the fragment of a segment still in production has no URL yet (hls.js gives '')
  const url = d.part?.url || d.frag.url;
  return url ? pathwayOfUrl(url, edges, pageHref) : null;
}
