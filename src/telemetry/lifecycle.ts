/**
 * Page lifecycle for telemetry: `pagehide` (the page may be going away: end the view, seal, spill and
 * beacon synchronously), `pageshow` (possibly restored from the back/forward cache) and the page becoming
 * hidden (seal and send while the page can still run). No-op outside a window.
 */
export interface PageLifecycleHandlers {
  hide(): void;
  show(e: PageTransitionEvent): void;
  /** document.visibilityState became 'hidden' */
  hidden(): void;
}

/** Listen to the page lifecycle; returns the function that removes the listeners. */
export function watchPageLifecycle(h: PageLifecycleHandlers): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const onHide = () => h.hide();
  const onShow = (e: PageTransitionEvent) => h.show(e);
  const onVis = () => {
    if (document.visibilityState === 'hidden') h.hidden();
  };
  window.addEventListener('pagehide', onHide);
  window.addEventListener('pageshow', onShow);
  document.addEventListener('visibilitychange', onVis);
  return () => {
    window.removeEventListener('pagehide', onHide);
    window.removeEventListener('pageshow', onShow);
    document.removeEventListener('visibilitychange', onVis);
  };
}
