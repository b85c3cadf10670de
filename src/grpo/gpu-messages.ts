/**
 * What to tell the user when Arbor has no free GPUs (docs/specs/arbor.md §2d, §5): Arbor answers
 * 500 GPUAllocationError ("Not enough free GPUs. Requested: N, Free: […], Busy: […], Allocated:
 * […]"). GPUs stay allocated to an Arbor job until it is cancelled or Arbor restarts: a job ended
 * with terminate keeps its vLLM serving the final weights on all of its GPUs (inference and
 * training), and an initialize that never answered keeps them too. The message names the jobs
 * this database started at that Arbor and the command that frees each.
 */
import { ServiceError } from "../errors.ts";
import { ARBOR_GPU_HOLDERS, arborGpuFix, isArborGpuShortage } from "../lm/arbor-gpus.ts";
import type { Store } from "../store/database.ts";
import { jobsHoldingGpus } from "../store/jobs.ts";
import { ARBOR_SERVICE } from "./arbor-errors.ts";
import type { InitializeRequest } from "./arbor-wire.ts";

/** Does this error say Arbor could not allocate GPUs? */
function isGpuShortage(error: ServiceError): boolean {
  return error.status === 500 && isArborGpuShortage(error.message);
}

/** What holds Arbor's GPUs (with the jobs this database started there) and how to free them. */
function gpuHoldersText(store: Store | null, baseUrl: string): { holders: string; free: string } {
  const jobs = store ? jobsHoldingGpus(store, baseUrl) : [];
  const listed = jobs.slice(-5).map((job) => `${job.jobId ?? `(initialize of ${job.arborRunName} never answered)`} (run ${job.runName}, ${job.status})`);
  const holders = ARBOR_GPU_HOLDERS + (listed.length > 0 ? `; jobs musique started there that may hold GPUs: ${listed.join(", ")}` : "");
  return { holders, free: arborGpuFix(baseUrl) };
}

/** The GPUAllocationError of an initialize, explained; null when it is another error. */
export function gpuShortage(error: ServiceError, store: Store, baseUrl: string, request: InitializeRequest): ServiceError | null {
  if (!isGpuShortage(error)) return null;
  const { num_inference_gpus: inference, num_training_gpus: training } = request.gpu_config.multi;
  const { holders, free } = gpuHoldersText(store, baseUrl);
  return new ServiceError(
    `Arbor has no ${inference + training} free GPUs for this job (--num-inference-gpus ${inference} + --num-training-gpus ${training}): ${error.message}`,
    {
      service: ARBOR_SERVICE,
      url: error.url,
      status: 500,
      retryable: false,
      cause: holders,
      fix: `${free}; or lower --num-inference-gpus / --num-training-gpus`,
      error,
    },
  );
}
