/**
 * The page side of live updates: one EventSource on /api/events. Every `change` event (the
 * database changed) and every reconnection (changes may have been missed) calls `onChange`.
 */
export function connectLive(indicator: HTMLElement, onChange: () => void): void {
  let source = listen(indicator, onChange);
  // A page left for another keeps no connection open: browsers allow 6 per server, and a page
  // kept for the back button (bfcache) would otherwise hold its stream, so the 7th page opened
  // would wait forever. Coming back reconnects (and re-fetches: changes may have been missed).
  addEventListener("pagehide", () => source.close());
  addEventListener("pageshow", (event: PageTransitionEvent) => {
    if (!event.persisted) return;
    source = listen(indicator, onChange);
    onChange();
  });
}

function listen(indicator: HTMLElement, onChange: () => void): EventSource {
  const source = new EventSource("/api/events");
  let connectedBefore = false;
  source.addEventListener("hello", () => {
    indicator.textContent = "live";
    indicator.className = "live on";
    if (connectedBefore) onChange();
    connectedBefore = true;
  });
  source.addEventListener("change", () => onChange());
  source.addEventListener("error", () => {
    indicator.textContent = "reconnecting…";
    indicator.className = "live off";
  });
  return source;
}
