/**
 * musique view's page entry (bundled into the binary by Bun from index.html): picks the page for
 * the address (/ runs, /run/NAME, /run/NAME/training, /compare), renders it from the JSON API, and
 * re-renders it whenever the server says the database changed (server-sent events, live.ts).
 */
import { REPORT_STYLE } from "../../report/style.ts";
import { mountComparePage } from "./compare-page.ts";
import { byId, errorHtml, type Page } from "./dom.ts";
import { connectLive } from "./live.ts";
import { mountRunPage } from "./run-page.ts";
import { mountRunsPage } from "./runs-page.ts";
import { mountTrainingPage } from "./training-page.ts";

function pageFor(app: HTMLElement): Page {
  const path = location.pathname;
  const run = /^\/run\/([^/]+)(\/training)?\/?$/.exec(path);
  if (run?.[1]) {
    const name = decodeURIComponent(run[1]);
    return run[2] ? mountTrainingPage(app, name) : mountRunPage(app, name);
  }
  if (path === "/compare") return mountComparePage(app);
  return mountRunsPage(app);
}

const style = document.createElement("style");
style.textContent = REPORT_STYLE;
document.head.prepend(style);

const app = byId<HTMLElement>(document, "app");
const page = pageFor(app);
let running = false;
let pending = false;

/** Re-render, never two at once: a change during a refresh triggers one more refresh after it. */
async function refresh(): Promise<void> {
  if (running) {
    pending = true;
    return;
  }
  running = true;
  try {
    await page.refresh();
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed ?? "0") + 1);
  } catch (error) {
    app.innerHTML = errorHtml(error);
  } finally {
    running = false;
    if (pending) {
      pending = false;
      void refresh();
    }
  }
}

await refresh();
document.body.dataset.ready = "1";
connectLive(byId<HTMLElement>(document, "live"), () => void refresh());
