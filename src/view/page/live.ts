/**
 * The page side of live updates: one EventSource on /api/events. Every `change` event (the
 * database changed) and every reconnection (changes may have been missed) calls `onChange`.
 */
export function connectLive(indicator: HTMLElement, onChange: () => void): void {
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
}
