/**
 * Stopping a command by signal. Ctrl-C (SIGINT), SIGTERM (what Slurm, Kubernetes and Docker send
 * at a time limit or on pre-emption) and SIGHUP (the terminal went away) are handled alike: the
 * first one aborts the command's signal — it stops starting work, records the work in flight,
 * marks the run interrupted, terminates or cancels the Arbor job (--on-interrupt), prints the
 * resume command — and the process exits with that signal's code (README "Exit codes": 130, 143,
 * 129). A second signal exits at once, as does bookkeeping that outlasts the grace period
 * (DEFAULTS.shutdownGraceSeconds).
 */
import { DEFAULTS } from "../config/defaults.ts";
import { ExitCode, InterruptedError } from "../errors.ts";
import { log } from "../log.ts";

const STOP_SIGNALS = { SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated, SIGHUP: ExitCode.hangup } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

const controller = new AbortController();
let received: StopSignal | null = null;
let installed = false;

/** Aborted by the first stop signal; its reason is an InterruptedError naming the signal. */
export const stopSignal: AbortSignal = controller.signal;

/** The exit code of the stop signal received, or null when none was. */
export function signalExitCode(): number | null {
  return received === null ? null : STOP_SIGNALS[received];
}

function handle(name: StopSignal, graceSeconds: number): void {
  if (received !== null) {
    log.warn(`${name} again: exiting at once`);
    process.exit(STOP_SIGNALS[received]);
  }
  received = name;
  const again = name === "SIGINT" ? "press Ctrl-C again to exit at once" : `send ${name} again to exit at once`;
  log.warn(`${name === "SIGINT" ? "" : `${name}: `}stopping after the work in flight is recorded… (${again})`);
  const first = name;
  setTimeout(() => {
    log.error(`bookkeeping did not finish within ${graceSeconds} s of ${first}; exiting (resume the run to continue)`);
    process.exit(STOP_SIGNALS[first]);
  }, graceSeconds * 1000).unref();
  controller.abort(new InterruptedError(`interrupted by ${name}`));
}

/** Handle SIGINT, SIGTERM and SIGHUP from now on (once per process). */
export function installSignalHandlers(graceSeconds: number = DEFAULTS.shutdownGraceSeconds): void {
  if (installed) return;
  installed = true;
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(name, () => handle(name, graceSeconds));
}
