/**
 * Turns the generic ServiceError of fetchOrThrow into a message that says what Arbor refused and
 * what to do (docs/specs/arbor.md §5). Arbor HEAD answers errors as JSON
 * `{"type","message","timestamp"}` (ValueError/KeyError → 400, FileNotFoundError → 404,
 * TimeoutError → 504, ConnectionError → 502, anything else → 500); schema errors and
 * HTTPException keep FastAPI's `{"detail": …}`; LEGACY Arbor answers 500 `Internal Server Error`.
 *
 * Chat failures are not seen here: Arbor returns HTTP 200 with body `null` when vLLM fails or
 * times out (300 s); the LM client (src/lm/client.ts) treats that as a retryable error.
 */
import { ServiceError, excerpt } from "../errors.ts";

export const ARBOR_SERVICE = "Arbor";
const ARBOR_START_COMMAND = "python -m arbor.cli serve --arbor-config arbor.yaml";
/** How to start Arbor, in a message: the command and where its arbor.yaml comes from. */
export const ARBOR_START = `\`${ARBOR_START_COMMAND}\` (\`musique init\` writes arbor.yaml)`;
/** The first release with the batch-id protocol, step metrics and checkpoint records musique relies on. */
const ARBOR_MINIMUM_VERSION = "0.2.16";
export const ARBOR_UPGRADE_COMMAND = `pip install -U "arbor-ai>=${ARBOR_MINIMUM_VERSION}"`;

export type ArborOperation = "initialize" | "status" | "step" | "checkpoint" | "terminate" | "cancel" | "probe";

export interface ArborErrorContext {
  operation: ArborOperation;
  baseUrl: string;
  /** The route URL that failed. */
  url: string;
  jobId?: string;
  /** Whether repeating the request is harmless (only status and probe are). */
  idempotent: boolean;
  /** The seconds flag that bounds this request, for timeout messages. */
  timeoutFlag: string;
}

/** What an error body said, in whichever of Arbor's shapes it came. */
interface ArborErrorBody {
  /** HEAD: the Python exception class. */
  type?: string;
  /** HEAD: str(exception); FastAPI: the detail string. */
  message?: string;
  /** FastAPI 422 items. */
  issues?: Array<{ type: string; location: string; message: string }>;
  raw: string;
}

/**
 * What an error body said, read from the parsed body (`error.json`, src/http/fetch.ts) — never from
 * the message. A body that was not JSON (an HTML error page, LEGACY Arbor's plain text) is kept as
 * its excerpt.
 */
function readArborErrorBody(error: ServiceError): ArborErrorBody {
  const body: ArborErrorBody = { raw: error.body ?? "" };
  const json = error.json;
  if (typeof json !== "object" || json === null || Array.isArray(json)) return body;
  const record = json as Record<string, unknown>;
  if (typeof record.type === "string") body.type = record.type;
  if (typeof record.message === "string") body.message = excerpt(record.message);
  if (typeof record.detail === "string") body.message = excerpt(record.detail);
  if (Array.isArray(record.detail)) {
    body.issues = record.detail.map((item: unknown) => {
      const issue = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {};
      const location = Array.isArray(issue.loc) ? issue.loc.filter((part) => part !== "body").join(".") : "";
      return { type: String(issue.type ?? ""), location, message: excerpt(String(issue.msg ?? "")) };
    });
  }
  return body;
}

function describeIssues(issues: NonNullable<ArborErrorBody["issues"]>): { message: string; unknownKeys: string[] } {
  const unknownKeys = issues.filter((issue) => issue.type === "extra_forbidden").map((issue) => issue.location);
  const missing = issues.filter((issue) => issue.type === "missing").map((issue) => issue.location);
  const other = issues
    .filter((issue) => issue.type !== "extra_forbidden" && issue.type !== "missing")
    .map((issue) => `${issue.location}: ${issue.message || issue.type}`);
  const parts: string[] = [];
  if (unknownKeys.length > 0) parts.push(`unknown key${unknownKeys.length > 1 ? "s" : ""} ${unknownKeys.map((key) => `"${key}"`).join(", ")}`);
  if (missing.length > 0) parts.push(`missing ${missing.map((key) => `"${key}"`).join(", ")}`);
  parts.push(...other);
  return { message: parts.join("; "), unknownKeys };
}

function rebuild(
  original: ServiceError,
  context: ArborErrorContext,
  message: string,
  details: { cause?: string; fix: string; retryable?: boolean },
): ServiceError {
  return original.reworded(message, { service: ARBOR_SERVICE, url: context.url, ...details });
}

const LOGS_HINT = "see <storage_path>/<job_id>/logs/grpo_training.log and inference.log on the Arbor machine";

/** The command that cancels `jobId` on the Arbor at `baseUrl` (frees its GPUs). */
export function cancelCommand(baseUrl: string, jobId: string): string {
  const body = JSON.stringify({ job_id: jobId }).replaceAll("'", "'\\''");
  return `curl -X POST ${baseUrl}fine_tuning/grpo/cancel -H 'content-type: application/json' -d '${body}'`;
}

/** A call that did not finish in time or whose connection broke after it was sent (kind timeout / reset). */
function describeInterrupted(error: ServiceError, context: ArborErrorContext, job: string): ServiceError {
  const { operation } = context;
  const what = error.kind === "timeout" ? "did not answer in time" : "broke off the connection";
  const message = `Arbor ${operation}${job} ${what} at ${context.url}`;
  if (context.idempotent) {
    return rebuild(error, context, message, {
      cause: "Arbor is busy (loading a model blocks every request) or hangs",
      fix: `raise ${context.timeoutFlag}, or check that Arbor is not stuck; ${LOGS_HINT}`,
    });
  }
  if (operation === "initialize") {
    const cleanup = context.jobId
      ? `cancel it with \`${cancelCommand(context.baseUrl, context.jobId)}\`, or restart Arbor`
      : "cancel the job (its id is in Arbor's log) or restart Arbor";
    return rebuild(error, context, `${message}; it was not sent again`, {
      cause:
        "Arbor may still be starting the job (launching vLLM and the trainer takes minutes for a large model); " +
        "until it starts or is cancelled, it holds its GPUs",
      fix:
        `check the Arbor log (${LOGS_HINT}); to start over, ${cleanup}; ` +
        `then raise ${context.timeoutFlag} (downloading and loading the model can take many minutes) and run again`,
    });
  }
  return rebuild(error, context, `${message}; it was not sent again`, {
    cause: `the ${operation} request reached Arbor and may still be running or have taken effect, so repeating it could apply it twice`,
    fix: `raise ${context.timeoutFlag}, or check that Arbor is not stuck; ${LOGS_HINT}`,
  });
}

/** Map a ServiceError from fetchOrThrow to Arbor's failure modes (§5), by its kind and its body. */
export function describeArborError(error: ServiceError, context: ArborErrorContext): ServiceError {
  const { operation, baseUrl } = context;
  const job = context.jobId ? ` (job ${context.jobId})` : "";
  const status = error.status;

  if (error.kind === "timeout" || error.kind === "reset") return describeInterrupted(error, context, job);
  if (error.kind === "unreachable") {
    return rebuild(error, context, `Arbor is not running at ${baseUrl} (${operation} could not connect)`, {
      cause: error.hint ?? "connection refused",
      fix: `start it with ${ARBOR_START} (it listens on port 7453 by default), ` + "or point musique at it with --port or --arbor-url",
    });
  }
  if (status === undefined || error.kind === "malformed" || error.kind === "too_large") return error;

  const body = readArborErrorBody(error);
  const said = body.message ?? body.raw;
  const typed = body.type ? `${body.type}: ${said}` : said;

  if (status === 404) {
    if (operation === "status" || operation === "probe") {
      return rebuild(error, context, `Arbor at ${baseUrl} is too old: it has no fine_tuning/grpo/status route`, {
        cause: `musique speaks the batch-id GRPO protocol of Arbor ≥ 0.2.9 (HEAD, ${ARBOR_MINIMUM_VERSION}+); this server is an older release (≤ 0.2.8)`,
        fix: `upgrade Arbor on the GPU machine: ${ARBOR_UPGRADE_COMMAND}, then restart it with ${ARBOR_START}`,
        retryable: false,
      });
    }
    if (operation === "cancel") {
      return rebuild(error, context, `Arbor cannot cancel${job}: ${said}`, {
        cause: "the job is unknown or already cancelled",
        fix: "nothing to cancel; check the job id with musique runs",
        retryable: false,
      });
    }
    return rebuild(error, context, `Arbor answered 404 for ${operation} at ${context.url}: ${said}`, {
      cause: "the route does not exist: the base URL lacks /v1/ or the server is an older Arbor",
      fix: `use a base URL ending in /v1/ (e.g. http://localhost:7453/v1/) and ${ARBOR_UPGRADE_COMMAND}`,
      retryable: false,
    });
  }

  if (status === 422) {
    const { message, unknownKeys } = describeIssues(body.issues ?? []);
    const what = message || said;
    return rebuild(error, context, `Arbor rejected the ${operation} request${job}: ${what}`, {
      cause:
        unknownKeys.length > 0
          ? `this Arbor version does not know ${unknownKeys.map((key) => `"${key}"`).join(", ")}; musique speaks Arbor HEAD (arbor-ai ${ARBOR_MINIMUM_VERSION}+)`
          : "the request does not match this Arbor version's schema",
      fix: `install the Arbor version musique targets: ${ARBOR_UPGRADE_COMMAND}`,
      retryable: false,
    });
  }

  if (status === 400) {
    if (body.type === "KeyError") {
      return rebuild(error, context, `Arbor does not know job ${said}`, {
        cause: "Arbor was restarted since the job started (jobs live in its memory), or the id is wrong",
        fix: "start a new training run; Arbor cannot resume a job after a restart",
        retryable: false,
      });
    }
    const groupSize = /Expected (\d+) samples in the group, received (\d+)/.exec(said);
    if (groupSize) {
      return rebuild(error, context, `Arbor rejected a GRPO group${job}: ${said}`, {
        cause: `every group must hold exactly num_generations (${groupSize[1]}) samples`,
        fix: "this is a bug in musique's group building; report it with the run's groups",
        retryable: false,
      });
    }
    return rebuild(error, context, `Arbor rejected the ${operation} request${job}: ${typed}`, {
      cause: "Arbor validated the request and refused it",
      fix:
        operation === "initialize"
          ? "check --num-rollouts-per-step, --batch-size, --gradient-accumulation and --num-training-gpus, and the model name"
          : "check that the server is Arbor HEAD (>= 0.2.16); if it is, report this message as a musique bug",
      retryable: false,
    });
  }

  if (status === 504) {
    return rebuild(error, context, `Arbor's trainer did not start within 90 s${job}: ${typed}`, {
      cause: "the training process crashed or is slow to start (out of memory, accelerate/NCCL setup, bad config)",
      fix: `${LOGS_HINT}; the job's GPUs may stay allocated, so restart Arbor before retrying`,
      retryable: false,
    });
  }

  if (status === 502) {
    return rebuild(error, context, `Arbor lost its connection to the trainer or vLLM during ${operation}${job}: ${typed}`, {
      cause: "a worker process died or is unreachable",
      fix: `${LOGS_HINT}; restart Arbor if it persists`,
      retryable: context.idempotent || operation === "step",
    });
  }

  if (status >= 500) {
    const gpu = body.type === "GPUAllocationError" || /GPU/i.test(said);
    const badModel = body.type === "OSError";
    return rebuild(error, context, `Arbor failed during ${operation}${job}: HTTP ${status} ${typed}`.trim(), {
      cause: gpu
        ? "not enough free GPUs for --num-inference-gpus + --num-training-gpus (Arbor counts a GPU free when no process holds memory on it)"
        : badModel
          ? "the model could not be loaded: wrong model id, no access, or no network for the download"
          : body.type
            ? `an unexpected ${body.type} inside Arbor`
            : "Arbor crashed on this request (older Arbor answers every failure as a plain 500)",
      fix: gpu
        ? "free GPUs (nvidia-smi), lower --num-inference-gpus/--num-training-gpus, or restart Arbor with CUDA_VISIBLE_DEVICES set"
        : badModel
          ? "check --model (a Hugging Face id or a local path on the Arbor machine)"
          : LOGS_HINT,
      // Only 503 is plainly transient; other 5xx from Arbor are deterministic failures.
      retryable: status === 503 || (context.idempotent && error.retryable),
    });
  }

  return rebuild(error, context, `Arbor answered HTTP ${status} for ${operation}${job}: ${typed}`, {
    fix: LOGS_HINT,
    retryable: error.retryable && (context.idempotent || status === 429),
  });
}
