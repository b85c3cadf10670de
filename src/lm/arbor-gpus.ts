/**
 * Why an Arbor server has no free GPU, and how to free one (docs/specs/arbor.md §2d, §5), for every
 * message about Arbor's GPUAllocationError: the chat client (a model Arbor would have to launch)
 * and train's initialize (src/grpo/gpu-messages.ts).
 */

/** Does an error text come from Arbor's GPUAllocationError? */
export function isArborGpuShortage(text: string): boolean {
  return /GPUAllocationError|Not enough free GPUs|All GPUs are currently in use|No GPUs available/.test(text);
}

/** What holds Arbor's GPUs. */
export const ARBOR_GPU_HOLDERS =
  "Arbor keeps GPUs allocated to a job until it is cancelled or Arbor restarts: a job ended by terminate (the end of every " +
  "musique train run, and Ctrl-C) keeps vLLM serving its final weights on all of its GPUs, an initialize that never " +
  "answered keeps its GPUs too, and every model Arbor launched for a chat request keeps one";

/** How to free them, at the Arbor base URL `baseUrl` (ending in /v1/). */
export function arborGpuFix(baseUrl: string): string {
  const cancelUrl = new URL("fine_tuning/grpo/cancel", baseUrl.endsWith("/") ? baseUrl : baseUrl + "/").toString();
  const killUrl = new URL("chat/kill", baseUrl.endsWith("/") ? baseUrl : baseUrl + "/").toString();
  return (
    `cancel a GRPO job with \`curl -X POST ${cancelUrl} -H 'content-type: application/json' -d '{"job_id":"JOB"}'\`` +
    ' (`musique train --resume RUN` does this for its own earlier job; job ids: `musique query "SELECT job_id, status FROM arbor_jobs"`)' +
    `, stop launched models with \`curl -X POST ${killUrl} -H 'content-type: application/json' -d '{"job_id":"*"}'\`, or restart Arbor`
  );
}
