/**
 * A fake Arbor HEAD server (docs/specs/arbor.md §2d, §3, §5) for tests, speaking the real wire
 * format strictly and behaving like Arbor's own server code did against ../shared/tools/arbor-real:
 *
 *   const arbor = startFakeArbor({ initializeDelayMs: 200, gpus: 3 });
 *   arbor.baseUrl        // "http://127.0.0.1:PORT/v1/" (trailing slash, as Arbor needs)
 *   arbor.requests       // every request: { method, path, body, at }
 *   arbor.jobs           // job state: groups received (with their batch ids and metrics), checkpoints…
 *   arbor.inject({ route: "step", status: 500, body: headError("RuntimeError", "boom") })
 *   arbor.crashTrainer(jobId)   // the trainer process dies: later step/checkpoint/terminate hang
 *   startFakeArbor({ schedule: faultSchedule({ seed, rate: 0.1, faults: [{ route: "chat", reset: true }] }) })
 *
 * Routes (POST, JSON): /v1/fine_tuning/grpo/{initialize,status,step,checkpoint,terminate,cancel}
 * and /v1/chat/completions (arbor-chat.ts). Every GRPO body is checked like pydantic
 * extra="forbid" (unknown key, missing field, wrong type → 422 {"detail":[{type,loc,msg,input}]});
 * server errors use HEAD's {"type","message","timestamp"} with ValueError/KeyError → 400. No
 * /v1/models (404), no health route.
 *
 * Behaviour (the trainer and GPU models are in arbor-trainer.ts):
 * - initialize, in Arbor's order: allocate GPUs (500 GPUAllocationError when too few are free),
 *   launch vLLM, ArborGRPOConfig's check (400; the GPUs stay allocated), start the trainer: one
 *   that fails its own checks never answers, so initialize never answers (GPUs stay allocated).
 *   Job id grpo:<basename(model).lower()>:<run_name|slug>:<YYYYMMDD>; a reused id replaces the
 *   old job, whose processes keep their GPUs busy for good.
 * - The trainer asks for `pendingWindow` ids ahead (< max_steps), consumes each group at once (or,
 *   with `trainStepMs`, trains one group per trainStepMs and asks only `pendingWindow` ids past the
 *   groups it has trained, as Arbor's batch requester does: `trainerTimes` then says how long it
 *   waited for musique's groups), and leaves its loop after as many groups as HF's epoch / accumulation loop trains before max_steps
 *   optimizer steps. A trainer that left or crashed answers nothing: step, checkpoint and terminate
 *   hang while status says "running" with frozen pending ids.
 * - step assigns batch ids 0,1,2… and checks the group size; checkpoint records {checkpoint_name,
 *   checkpoint_dir: <storage>/<job>/checkpoints/<name>, global_step, requested, metadata,
 *   timestamp} (with `writeCheckpoints`, the folder is written as HF's trainer writes it:
 *   arbor-checkpoints.ts); terminate adds checkpoint_final, stops the trainer and keeps vLLM and every GPU;
 *   cancel stops both and frees the GPUs (unknown or cancelled job → 404 {"detail"}).
 *
 * - Job routes run in worker threads at HEAD, and a second job call in flight can SIGTERM the job's
 *   processes (docs/specs/arbor.md §2d): `mostJobCallsInFlight` says how many were ever in flight.
 *
 * legacy: true imitates Arbor ≤ 0.2.8: initialize ignores extra keys and answers status
 * "created" without pending_batch_ids; …/grpo/status is 404 {"detail":"Not Found"}.
 */
export { headError } from "./arbor-schema.ts";
import { chatHandler } from "./arbor-chat.ts";
import { writeCheckpointFolder } from "./arbor-checkpoints.ts";
import { CHECKPOINT_REQUEST, dateStamp, headError, json } from "./arbor-schema.ts";
import { INITIALIZE_REQUEST, JOB_REQUEST, STEP_REQUEST, validate, type FieldSpec } from "./arbor-schema.ts";
import { configError, GpuPool, groupsBeforeTrainerExit, trainerConfigOf, trainerStartError } from "./arbor-trainer.ts";
import { dspyResponder } from "./openai.ts";
import type { ArborFault, ArborRecordedRequest, ArborRoute, FakeArbor, FakeArborOptions, FakeJob, FakeTrainerState } from "./arbor-types.ts";
export type * from "./arbor-types.ts";

const NOT_FOUND = (): Response => json({ detail: "Not Found" }, 404);
const SLUGS = ["brave-otter", "calm-heron", "eager-lynx", "quiet-falcon"];

export function startFakeArbor(options: FakeArborOptions = {}): FakeArbor {
  const requests: ArborRecordedRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const faults: ArborFault[] = [...(options.faults ?? [])];
  const storage = options.storagePath ?? "/home/fake/.arbor/storage";
  const window = options.pendingWindow ?? 2;
  const now = options.now ?? (() => new Date());
  const gpus = new GpuPool(options.gpus ?? 64);
  const hung = new Map<ArborRecordedRequest, () => void>();
  const jobCallsInFlight = { now: 0, most: 0 };
  let slugIndex = 0;

  const takeFault = (route: ArborRoute): ArborFault | undefined => {
    const index = faults.findIndex((fault) => fault.route === route);
    if (index < 0) return options.schedule?.next((fault) => fault.route === route);
    const fault = faults[index] as ArborFault;
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) faults.splice(index, 1);
    else faults[index] = { ...fault, times: left };
    return fault;
  };

  /** Never answer (until the fake stops): Arbor waiting on a trainer that will not reply. */
  const hang = (entry: ArborRecordedRequest): Promise<Response> =>
    new Promise((resolve) => hung.set(entry, () => resolve(json(headError("RuntimeError", "fake Arbor stopped"), 503))));

  const pending = (job: FakeJob): number[] => {
    if (job.frozenPending) return job.frozenPending;
    if (job.status !== "running" || job.terminated) return [];
    const ids: number[] = [];
    // A timed trainer asks for ids up to `window` past the groups it has trained.
    const trained = options.trainStepMs === undefined ? job.groups.length : job.trainedAt.filter((at) => at <= Date.now()).length;
    for (let id = job.groups.length; id < trained + window; id++) {
      if (job.maxSteps <= 0 || id < job.maxSteps) ids.push(id);
    }
    return ids;
  };

  /** The trainer stops answering; status keeps showing what it last saw. */
  const trainerGone = (job: FakeJob, state: FakeTrainerState): void => {
    if (job.trainerState !== "running") return;
    // A trainer that finished had asked only one id past its last group (its last prefetch).
    job.frozenPending = state === "finished" ? pending(job).slice(0, Math.max(0, window - 1)) : pending(job);
    job.trainerState = state;
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
    if (options.writeCheckpoints) writeCheckpointFolder(`${storage}/${job.id}/checkpoints/${name}`, job);
  };

  const initialize = async (body: unknown, entry: ArborRecordedRequest): Promise<Response> => {
    const invalid = checked(INITIALIZE_REQUEST, body);
    if (invalid) return invalid;
    const request = body as Record<string, unknown>;
    const model = String(request.model);
    const base = (model.split("/").pop() ?? model).toLowerCase();
    const name = typeof request.run_name === "string" ? request.run_name : (SLUGS[slugIndex++ % SLUGS.length] as string);
    const id = `grpo:${base}:${name}:${dateStamp(now())}`;
    const trainer = trainerConfigOf(request);
    const gpuConfig = (request.gpu_config ?? {}) as { multi?: { num_inference_gpus?: number } };
    if (!options.legacy) {
      const old = jobs.get(id);
      if (old) gpus.orphan(id, old.vllmRunning, old.trainerState === "running");
      const allocated = gpus.allocate(id, gpuConfig.multi?.num_inference_gpus ?? 1, trainer.gpus);
      if (typeof allocated === "string") return json(headError("GPUAllocationError", allocated), 500);
    }
    await Bun.sleep(options.initializeDelayMs ?? 0);
    if (!options.legacy) {
      const invalidConfig = configError(trainer);
      if (invalidConfig) return json(headError("ValueError", invalidConfig), 400);
      if (trainerStartError(trainer)) return hang(entry);
    }
    const job: FakeJob = {
      id,
      model,
      request,
      trainer,
      numGenerations: trainer.numGenerations,
      maxSteps: trainer.maxSteps,
      groupsBeforeExit: trainer.maxSteps > 0 ? groupsBeforeTrainerExit(trainer.maxSteps, trainer.batchSize, trainer.accumulation) : Infinity,
      status: options.legacy ? "created" : "running",
      terminated: false,
      trainerState: "running",
      vllmRunning: true,
      frozenPending: null,
      groups: [],
      trainedAt: [],
      receivedAt: [],
      readyAt: Date.now(),
      checkpoints: {},
      lastCheckpoint: null,
    };
    jobs.set(id, job);
    return json(statusOf(job, []));
  };

  const step = (body: unknown, entry: ArborRecordedRequest): Response | Promise<Response> => {
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
    if (request.batch.length !== found.numGenerations) {
      return json(headError("ValueError", `Expected ${found.numGenerations} samples in the group, received ${request.batch.length}`), 400);
    }
    // Arbor hands the group to the trainer over its control socket: no trainer, no answer.
    if (found.trainerState !== "running") return hang(entry);
    found.groups.push({
      assignedBatchId: found.groups.length,
      requestedBatchId: request.batch_id,
      batch: request.batch,
      metrics: request.metrics ?? null,
    });
    found.receivedAt.push(Date.now());
    if (options.trainStepMs !== undefined) found.trainedAt.push(Math.max(Date.now(), found.trainedAt.at(-1) ?? 0) + options.trainStepMs);
    if (found.groups.length >= found.groupsBeforeExit) trainerGone(found, "finished");
    return json(statusOf(found));
  };

  const checkpoint = (body: unknown, entry: ArborRecordedRequest): Response | Promise<Response> => {
    const invalid = checked(CHECKPOINT_REQUEST, body);
    if (invalid) return invalid;
    const found = jobOf(body);
    if (found instanceof Response) return found;
    if (found.trainerState !== "running") return hang(entry);
    const request = body as { checkpoint_name: string; metadata?: Record<string, unknown> | null };
    record(found, request.checkpoint_name, request.metadata ?? null);
    return json(statusOf(found));
  };

  const terminate = (body: unknown, entry: ArborRecordedRequest): Response | Promise<Response> => {
    const invalid = checked(JOB_REQUEST, body);
    if (invalid) return invalid;
    const found = jobOf(body);
    if (found instanceof Response) return found;
    // save_final_checkpoint asks the trainer first: no trainer, no answer.
    if (found.trainerState !== "running") return hang(entry);
    record(found, "checkpoint_final", null);
    trainerGone(found, "stopped");
    found.terminated = true;
    return json(statusOf(found));
  };

  const cancel = (body: unknown): Response => {
    const invalid = checked(JOB_REQUEST, body);
    if (invalid) return invalid;
    const id = String((body as { job_id: string }).job_id);
    const job = jobs.get(id);
    if (!job) return json({ detail: `GRPO job ${id} not found` }, 404);
    if (job.status === "cancelled") return json({ detail: `Cannot cancel job with status cancelled (job_id=${id})` }, 404);
    job.status = "cancelled";
    trainerGone(job, "stopped");
    job.vllmRunning = false;
    gpus.release(id);
    return json(statusOf(job));
  };

  const launched = new Set<string>();
  const chat = chatHandler({
    responder: options.responder ?? dspyResponder(),
    legacy: options.legacy ?? false,
    now,
    job: (id) => jobs.get(id),
    launch: (model) => {
      if (launched.has(model)) return null;
      const allocated = gpus.allocate(`infer:${model}`, 1, 0);
      if (typeof allocated === "string") return allocated;
      launched.add(model);
      return null;
    },
  });

  type Handler = (body: unknown, entry: ArborRecordedRequest) => Response | Promise<Response>;
  const routes: Record<string, { route: ArborRoute; handle: Handler }> = {
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
      const entry = { method: httpRequest.method, path: url.pathname, body, at: Date.now() };
      requests.push(entry);
      if (options.legacy && url.pathname === "/monitor/health") return json({ status: "healthy" });
      const route = routes[url.pathname];
      if (!route) return NOT_FOUND();
      if (options.legacy && route.route !== "initialize" && route.route !== "chat") return NOT_FOUND();
      if (httpRequest.method !== "POST") return json({ detail: "Method Not Allowed" }, 405);
      if (invalidJson) {
        return json({ detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} }] }, 422);
      }
      // Arbor HEAD runs job routes in worker threads: a second one in flight can SIGTERM the job's processes.
      const jobCall = route.route !== "chat";
      if (jobCall) jobCallsInFlight.now += 1;
      jobCallsInFlight.most = Math.max(jobCallsInFlight.most, jobCallsInFlight.now);
      try {
        return await answer(route, body, entry);
      } finally {
        if (jobCall) jobCallsInFlight.now -= 1;
      }
    },
  });

  async function answer(route: { route: ArborRoute; handle: Handler }, body: unknown, entry: ArborRecordedRequest): Promise<Response> {
    const fault = takeFault(route.route);
    if (fault?.delayMs !== undefined) await Bun.sleep(fault.delayMs);
    if (fault?.reset) return new Response(new ReadableStream({ start: (controller) => controller.error() }));
    if (fault?.status !== undefined) {
      if (typeof fault.body === "string") return new Response(fault.body, { status: fault.status, headers: { "content-type": "text/plain" } });
      return json(fault.body === undefined ? headError("RuntimeError", "injected") : fault.body, fault.status);
    }
    const response = await route.handle(body, entry);
    hung.delete(entry);
    return response;
  }

  const port = server.port as number;
  return {
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}/v1/`,
    port,
    requests,
    jobs,
    gpus,
    inject: (...added) => faults.push(...added),
    requestsTo: (route) => requests.filter((entry) => routes[entry.path]?.route === route),
    crashTrainer: (jobId) => {
      const job = jobs.get(jobId);
      if (job) trainerGone(job, "crashed");
    },
    trainerTimes: (jobId) => {
      const job = jobs.get(jobId);
      const first = job?.receivedAt[0];
      if (!job || first === undefined) return { groups: 0, beforeFirstGroupMs: 0, spanMs: 0, waitingMs: 0 };
      // The trainer starts group k at max(its arrival, the end of group k-1): it waited when the arrival came later.
      let waitingMs = 0;
      for (let index = 1; index < job.receivedAt.length; index++) waitingMs += Math.max(0, (job.receivedAt[index] ?? 0) - (job.trainedAt[index - 1] ?? 0));
      return { groups: job.groups.length, beforeFirstGroupMs: first - job.readyAt, spanMs: (job.trainedAt.at(-1) ?? first) - first, waitingMs };
    },
    hanging: () => [...hung.keys()],
    mostJobCallsInFlight: () => jobCallsInFlight.most,
    stop: async () => {
      for (const release of hung.values()) release();
      hung.clear();
      await server.stop(true);
    },
  };
}
