/**
 * Which model a server really serves under the --model name (issue 14 item 1): what `GET
 * /v1/models` reports for it — `id`, `root` (vLLM: the path or Hub id behind a
 * --served-model-name), `parent` (vLLM: the base model of a LoRA adapter), `created` — where
 * present. The response cache keys on the endpoint and this identity, so an answer is never
 * reused from a different model served under the same name.
 *
 * `created` is left out when it is the time of the answer itself: vLLM and SGLang stamp every
 * /models answer with the current time (OpenAI and Ollama send a fixed date), so keeping it would
 * make every run a new identity. "The time of the answer" is read from the server's own `Date`
 * header (no clock skew), within CREATED_IS_NOW_SECONDS.
 */

export interface ServedModelIdentity {
  id: string;
  root?: string;
  parent?: string;
  created?: number;
}

/** A `created` this close to the answer's Date header is the server stamping "now". */
const CREATED_IS_NOW_SECONDS = 5;

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The ids a /models answer lists, or null when it is not a model list. */
export function listedModelIds(body: unknown): string[] | null {
  const data = isRecord(body) ? body.data : undefined;
  if (!Array.isArray(data)) return null;
  return data.map((item: unknown) => (isRecord(item) ? item.id : undefined)).filter((id): id is string => typeof id === "string");
}

/** The identity of `model` in a /models answer (null when not listed); `date` is the answer's Date header. */
export function servedModelIdentity(body: unknown, model: string, date: string | null): ServedModelIdentity | null {
  const data = isRecord(body) && Array.isArray(body.data) ? body.data : [];
  const entry = data.find((item: unknown) => isRecord(item) && item.id === model);
  if (!isRecord(entry)) return null;
  const identity: ServedModelIdentity = { id: model };
  if (typeof entry.root === "string") identity.root = entry.root;
  if (typeof entry.parent === "string") identity.parent = entry.parent;
  if (typeof entry.created === "number") {
    const answeredAt = date === null ? Number.NaN : Date.parse(date) / 1000;
    const stampedNow = Number.isFinite(answeredAt) && Math.abs(entry.created - answeredAt) <= CREATED_IS_NOW_SECONDS;
    if (!stampedNow) identity.created = entry.created;
  }
  return identity;
}

/** One line for logs: `Qwen/Qwen2.5-7B-Instruct (root /models/ckpt-2)`. */
export function describeIdentity(identity: ServedModelIdentity | null): string {
  if (identity === null) return "(the server lists no models: identified by its URL only)";
  const parts = [identity.root === undefined ? "" : `root ${identity.root}`, identity.parent === undefined ? "" : `parent ${identity.parent}`];
  if (identity.created !== undefined) parts.push(`created ${identity.created}`);
  const details = parts.filter((part) => part !== "").join(", ");
  return details === "" ? identity.id : `${identity.id} (${details})`;
}
