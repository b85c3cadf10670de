/**
 * A fake Arbor HEAD server (docs/specs/arbor.md §2d, §3, §5) for tests, speaking the real wire
 * format strictly:
 *
 *   const arbor = startFakeArbor({ initializeDelayMs: 200 });
 *   arbor.baseUrl        // "http://127.0.0.1:PORT/v1/" (trailing slash, as Arbor needs)
 *   arbor.requests       // every request: { method, path, body, at }
 *   arbor.jobs           // job state: groups received (with their batch ids and metrics), checkpoints…
 *   arbor.inject({ route: "step", status: 500, body: headError("RuntimeError", "boom") })
 *   startFakeArbor({ schedule: faultSchedule({ seed, rate: 0.1, faults: [{ route: "chat", reset: true }] }) })
 *
 * Routes (POST, JSON): /v1/fine_tuning/grpo/{initialize,status,step,checkpoint,terminate,cancel}
 * and /v1/chat/completions. Every GRPO body is checked like pydantic extra="forbid" (unknown key,
 * missing field, wrong type → 422 {"detail":[{type,loc,msg,input}]}); server errors use HEAD's
 * {"type","message","timestamp"} with ValueError/KeyError → 400. No /v1/models (404), no health route.
 *
 * Behaviour: job id grpo:<basename(model).lower()>:<run_name|slug>:<YYYYMMDD>; status "running"
 * (also after terminate), "cancelled" after cancel; pending_batch_ids [] in the initialize
 * answer, then a window of `pendingWindow` ids starting at the number of groups received ([0,1],
 * then [1,2], …, never past max_steps); step checks the group size against num_generations and
 * assigns its own batch ids 0,1,2…; checkpoint records {checkpoint_name, checkpoint_dir:
 * <storage>/<job>/checkpoints/<name>, global_step, requested:true, metadata, timestamp};
 * terminate adds checkpoint_final. Chat answers the job id (or <job>-inference, any prefix of
 * openai/, huggingface/, local:, arbor:) in ChatAdapter format via the fake OpenAI responder, and
 * returns HTTP 200 `null` for a cancelled job or an injected failure.
 *
 * legacy: true imitates Arbor ≤ 0.2.8: initialize ignores extra keys and answers status
 * "created" without pending_batch_ids; …/grpo/status is 404 {"detail":"Not Found"}.
 */
export { headError, stripModelPrefix } from "./arbor-schema.ts";
import { dspyResponder, type FakeChatRequest, type FakeResponder } from "./openai.ts";
import type { FaultSchedule } from "./schedule.ts";
import { CHECKPOINT_REQUEST, dateStamp, headError, json, stripModelPrefix } from "./arbor-schema.ts";
import { INITIALIZE_REQUEST, JOB_REQUEST, STEP_REQUEST, validate, type FieldSpec } from "./arbor-schema.ts";

export type ArborRoute = "initialize" | "status" | "step" | "checkpoint" | "terminate" | "cancel" | "chat";

export interface ArborFault {
  route: ArborRoute;
  /** Answer with this status and body instead of handling the request (200 + null = a chat failure; a string body is sent as text/plain). */
  status?: number;
  body?: unknown;
  /** Wait this long first (then fail with `status`, or handle normally without it). */
  delayMs?: number;
  /** How many requests this fault applies to (default 1). */
  times?: number;
  /** Close the connection without an answer (after `delayMs`). */
  reset?: boolean;
}

export interface ArborRecordedRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export interface FakeCheckpoint {
  checkpoint_name: string;
  checkpoint_dir: string;
  global_step: number;
  requested: true;
  metadata: Record<string, unknown> | null;
  timestamp: number;
}

export interface FakeGroup {
  /** The id the fake assigned (arrival order). */
  assignedBatchId: number;
  /** The id the client sent (HEAD ignores it). */
  requestedBatchId: number;
  batch: unknown[];
  metrics: Record<string, unknown> | null;
}

export interface FakeJob {
  id: string;
  model: string;
  request: Record<string, unknown>;
  numGenerations: number;
  maxSteps: number;
  status: "running" | "cancelled" | "created";
  terminated: boolean;
  groups: FakeGroup[];
  checkpoints: Record<string, FakeCheckpoint>;
  lastCheckpoint: string | null;
}

export interface FakeArborOptions {
  legacy?: boolean;
  /** Initialize blocks this long (vLLM + trainer launch). */
  initializeDelayMs?: number;
  storagePath?: string;
  /** Size of the pending-batch-id window (HEAD: current + one ahead = 2). */
  pendingWindow?: number;
  faults?: ArborFault[];
  /** Seeded random faults (test/fakes/schedule.ts), drawn per request among its route's faults. */
  schedule?: FaultSchedule<ArborFault>;
  responder?: FakeResponder;
  now?: () => Date;
}

export interface FakeArbor {
  url: string;
  baseUrl: string;
  port: number;
  requests: ArborRecordedRequest[];
  jobs: Map<string, FakeJob>;
  inject(...faults: ArborFault[]): void;
  requestsTo(route: ArborRoute): ArborRecordedRequest[];
  stop(): Promise<void>;
}

const NOT_FOUND = (): Response => json({ detail: "Not Found" }, 404);
const SLUGS = ["brave-otter", "calm-heron", "eager-lynx", "quiet-falcon"];

export function startFakeArbor(options: FakeArborOptions = {}): FakeArbor {
  const requests: ArborRecordedRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const faults: ArborFault[] = [...(options.faults ?? [])];
  const storage = options.storagePath ?? "/home/fake/.arbor/storage";
  const window = options.pendingWindow ?? 2;
  const responder = options.responder ?? dspyResponder();
  const now = options.now ?? (() => new Date());
  let slugIndex = 0;
  let completionNumber = 0;

  const takeFault = (route: ArborRoute): ArborFault | undefined => {
    const index = faults.findIndex((fault) => fault.route === route);
    if (index < 0) return options.schedule?.next((fault) => fault.route === route);
    const fault = faults[index] as ArborFault;
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) faults.splice(index, 1);
    else faults[index] = { ...fault, times: left };
    return fault;
  };

  const pending = (job: FakeJob): number[] => {
    if (job.status !== "running" || job.terminated) return [];
    const ids: number[] = [];
    for (let id = job.groups.length; id < job.groups.length + window; id++) {
      if (job.maxSteps <= 0 || id < job.maxSteps) ids.push(id);
    }
    return ids;
  };

  const statusOf = (job: FakeJob, pendingIds: number[] = pending(job)) =>
    options.legacy
      ? {
          job_id: job.id,
          status: job.status,
          current_model: job.id,
          checkpoints: Object.fromEntries(Object.entries(job.checkpoints).map(([name, record]) => [name, record.checkpoint_dir + "/"])),
          last_checkpoint: job.lastCheckpoint,
        }
      : {
          job_id: job.id,
          status: job.status,
          current_model: job.id,
          checkpoints: job.checkpoints,
          last_checkpoint: job.lastCheckpoint,
          pending_batch_ids: pendingIds,
        };

  const checked = (spec: FieldSpec, body: unknown): Response | null => {
    if (options.legacy) return null;
    const issues = validate(spec, body);
    return issues.length > 0 ? json({ detail: issues }, 422) : null;
  };

  const jobOf = (body: unknown): FakeJob | Response => {
    const id = String((body as { job_id?: unknown }).job_id);
    const job = jobs.get(id);
    return job ?? json(headError("KeyError", `'${id}'`), 400);
  };

  const record = (job: FakeJob, name: string, metadata: Record<string, unknown> | null): void => {
    job.checkpoints[name] = {
      checkpoint_name: name,
      checkpoint_dir: `${storage}/${job.id}/checkpoints/${name}`,
      global_step: job.groups.length,
      requested: true,
      metadata,
      timestamp: now().getTime() / 1000,
    };
    job.lastCheckpoint = name;
  };

  const initialize = async (body: unknown): Promise<Response> => {
    const invalid = checked(INITIALIZE_REQUEST, body);
    if (invalid) return invalid;
    const request = body as Record<string, unknown>;
    await Bun.sleep(options.initializeDelayMs ?? 0);
    const trainer = (request.trainer_config ?? {}) as Record<string, unknown>;
    const numGenerations = typeof trainer.num_generations === "number" ? trainer.num_generations : 8;
    const batch = typeof trainer.per_device_train_batch_size === "number" ? trainer.per_device_train_batch_size : 8;
    const accumulation = typeof trainer.gradient_accumulation_steps === "number" ? trainer.gradient_accumulation_steps : 1;
    const gpus = typeof trainer.num_training_gpus === "number" ? trainer.num_training_gpus : 1;
    const effective = batch * gpus * accumulation;
    if (!options.legacy && (numGenerations < 2 || effective % numGenerations !== 0)) {
      return json(
        headError(
          "ValueError",
          `The effective train batch size (${gpus} x ${batch} x ${accumulation}) must be evenly divisible by the number of generations per prompt (${numGenerations}).`,
        ),
        400,
      );
    }
    const model = String(request.model);
    const base = (model.split("/").pop() ?? model).toLowerCase();
    const name =
      typeof request.run_name === "string" ? request.run_name : (SLUGS[slugIndex++ % SLUGS.length] as string);
    const id = `grpo:${base}:${name}:${dateStamp(now())}`;
    const job: FakeJob = {
      id,
      model,
      request,
      numGenerations,
      maxSteps: typeof trainer.max_steps === "number" ? trainer.max_steps : -1,
      status: options.legacy ? "created" : "running",
      terminated: false,
      groups: [],
      checkpoints: {},
      lastCheckpoint: null,
    };
    jobs.set(id, job);
    return json(statusOf(job, []));
  };

  const step = (body: unknown): Response => {
    const invalid = checked(STEP_REQUEST, body);
    if (invalid) return invalid;
    const found = jobOf(body);
    if (found instanceof Response) return found;
    const request = body as { batch: unknown[]; batch_id: number; metrics?: Record<string, unknown> | null };
    for (const item of request.batch) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        return json(headError("ValueError", "Each item in batch must be a dictionary"), 400);
      }
      if (!["messages", "completion", "reward"].every((key) => key in item)) {
        return json(headError("ValueError", "Each item must contain keys: {'messages', 'completion', 'reward'}"), 400);
      }
    }
    if (request.batch.length === 0) return json(headError("IndexError", "list index out of range"), 500);
    if (found.status === "cancelled" || found.terminated) {
      return json(headError("RuntimeError", "Trainer controller is not running for this job"), 500);
    }
    if (request.batch.length !== found.numGenerations) {
      return json(
        headError("ValueError", `Expected ${found.numGenerations} samples in the group, received ${request.batch.length}`),
        400,
      );
    }
    found.groups.push({
      assignedBatchId: found.groups.length,
      requestedBatchId: request.batch_id,
      batch: request.batch,
      metrics: request.metrics ?? null,
    });
    return json(statusOf(found));
  };

  const checkpoint = (body: unknown): Response => {
    const invalid = checked(CHECKPOINT_REQUEST, body);
    if (invalid) return invalid;
    const found = jobOf(body);
    if (found instanceof Response) return found;
    if (found.terminated || found.status === "cancelled") {
      return json(headError("RuntimeError", "Checkpoint request failed: trainer is not running"), 500);
    }
    const request = body as { checkpoint_name: string; metadata?: Record<string, unknown> | null };
    record(found, request.checkpoint_name, request.metadata ?? null);
    return json(statusOf(found));
  };

  const terminate = (body: unknown): Response => {
    const invalid = checked(JOB_REQUEST, body);
    if (invalid) return invalid;
    const found = jobOf(body);
    if (found instanceof Response) return found;
    if (!found.terminated && found.status === "running") record(found, "checkpoint_final", null);
    found.terminated = true;
    return json(statusOf(found));
  };

  const cancel = (body: unknown): Response => {
    const invalid = checked(JOB_REQUEST, body);
    if (invalid) return invalid;
    const id = String((body as { job_id: string }).job_id);
    const job = jobs.get(id);
    if (!job) return json({ detail: `GRPO job ${id} not found` }, 404);
    if (job.status === "cancelled") return json({ detail: `GRPO job ${id} is already cancelled` }, 404);
    job.status = "cancelled";
    return json(statusOf(job));
  };

  const chat = async (body: unknown): Promise<Response> => {
    const request = (body ?? {}) as FakeChatRequest & { n?: number };
    const requested = stripModelPrefix(typeof request.model === "string" ? request.model : "");
    const jobId = requested.endsWith("-inference") ? requested.slice(0, -"-inference".length) : requested;
    const job = jobs.get(jobId);
    if (job?.status === "cancelled") return json(null);
    const count = options.legacy ? 1 : Math.max(1, Number(request.n ?? 1));
    const choices = [];
    let completionTokens = 0;
    for (let index = 0; index < count; index++) {
      const reply = await responder(request);
      const content = typeof reply === "string" ? reply : reply.content;
      completionTokens += Math.ceil((content ?? "").length / 4);
      choices.push({
        index,
        message: { role: "assistant", content },
        finish_reason: typeof reply === "string" ? "stop" : (reply.finishReason ?? "stop"),
      });
    }
    completionNumber += 1;
    const response: Record<string, unknown> = {
      id: `chatcmpl-arbor${completionNumber}`,
      object: "chat.completion",
      created: Math.floor(now().getTime() / 1000),
      model: requested,
      choices,
    };
    if (!options.legacy) response.usage = { prompt_tokens: 100, completion_tokens: completionTokens, total_tokens: 100 + completionTokens };
    return json(response);
  };

  const routes: Record<string, { route: ArborRoute; handle: (body: unknown) => Response | Promise<Response> }> = {
    "/v1/fine_tuning/grpo/initialize": { route: "initialize", handle: initialize },
    "/v1/fine_tuning/grpo/status": {
      route: "status",
      handle: (body) => {
        const invalid = checked(JOB_REQUEST, body);
        if (invalid) return invalid;
        const found = jobOf(body);
        return found instanceof Response ? found : json(statusOf(found));
      },
    },
    "/v1/fine_tuning/grpo/step": { route: "step", handle: step },
    "/v1/fine_tuning/grpo/checkpoint": { route: "checkpoint", handle: checkpoint },
    "/v1/fine_tuning/grpo/terminate": { route: "terminate", handle: terminate },
    "/v1/fine_tuning/grpo/cancel": { route: "cancel", handle: cancel },
    "/v1/chat/completions": { route: "chat", handle: chat },
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: async (httpRequest) => {
      const url = new URL(httpRequest.url);
      const text = await httpRequest.text();
      let body: unknown = null;
      let invalidJson = false;
      try {
        body = text === "" ? null : JSON.parse(text);
      } catch {
        body = text;
        invalidJson = true;
      }
      requests.push({ method: httpRequest.method, path: url.pathname, body, at: Date.now() });
      if (options.legacy && url.pathname === "/monitor/health") return json({ status: "healthy" });
      const entry = routes[url.pathname];
      if (!entry) return NOT_FOUND();
      if (options.legacy && entry.route !== "initialize" && entry.route !== "chat") return NOT_FOUND();
      if (httpRequest.method !== "POST") return json({ detail: "Method Not Allowed" }, 405);
      if (invalidJson) {
        return json({ detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} }] }, 422);
      }
      const fault = takeFault(entry.route);
      if (fault?.delayMs !== undefined) await Bun.sleep(fault.delayMs);
      if (fault?.reset) return new Response(new ReadableStream({ start: (controller) => controller.error() }));
      if (fault?.status !== undefined) {
        if (typeof fault.body === "string") return new Response(fault.body, { status: fault.status, headers: { "content-type": "text/plain" } });
        return json(fault.body === undefined ? headError("RuntimeError", "injected") : fault.body, fault.status);
      }
      return entry.handle(body);
    },
  });

  const port = server.port as number;
  return {
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}/v1/`,
    port,
    requests,
    jobs,
    inject: (...added) => faults.push(...added),
    requestsTo: (route) =>
      requests.filter((entry) => routes[entry.path]?.route === route),
    stop: async () => {
      await server.stop(true);
    },
  };
}
