/**
 * Caps on what a service may send back (issue 14 item 10), each sized from what can legitimately
 * come back, with room to spare. An answer over its cap fails that call as `too_large` after
 * reading at most the cap (decompressed: a gzip bomb costs the cap, not its expansion). A Parquet
 * download is not capped here: it streams to disk (src/data/hub.ts).
 */

const KIBIBYTE = 1024;
const MEBIBYTE = 1024 * KIBIBYTE;

/**
 * Bytes of a non-2xx body we read: enough for any JSON error (FastAPI, vLLM, OpenAI and Arbor
 * errors are well under 4 KiB) and the start of an HTML error page. The rest is not read; only an
 * excerpt (EXCERPT_CHARACTERS, src/errors.ts) ever reaches a message, a log or the database.
 */
export const ERROR_BODY_READ_BYTES = 64 * KIBIBYTE;

/** The JSON around a completion (id, model, usage, finish_reason, …) with room for extra fields. */
const ENVELOPE_BYTES = 64 * KIBIBYTE;

/**
 * Bytes one generated token can take in a chat completion body. The longest tokens of common
 * vocabularies (Qwen2.5, Llama 3, cl100k) are runs of spaces or punctuation of at most ~128
 * characters; JSON escaping at most doubles printable ASCII (`\"`, `\\`), so 256 bytes per token
 * bounds a completion of `max_tokens` tokens whatever the model writes (reasoning text included:
 * it counts against max_tokens too).
 */
const BYTES_PER_TOKEN = 256;

/** A chat completion of at most `maxTokens` tokens (one choice): 1.1 MiB at the default 4000. */
export function chatCompletionLimitBytes(maxTokens: number): number {
  return ENVELOPE_BYTES + Math.max(1, maxTokens) * BYTES_PER_TOKEN;
}

/**
 * A rerank answer: one small record per document sent ({index, relevance_score}), or at worst
 * the documents echoed back (TEI `return_text`, `return_documents`), so twice what we sent plus
 * the envelope bounds it.
 */
export function rerankLimitBytes(requestBytes: number): number {
  return ENVELOPE_BYTES + 2 * requestBytes;
}

/**
 * An Arbor GRPOStatus: a job id, the pending batch ids (a few per step in flight) and one record
 * per checkpoint (< 1 KiB with musique's metadata; a 500-step run with `--checkpoint
 * improvements` saves at most 50). 1 MiB is over ten times the largest seen.
 */
export const ARBOR_STATUS_LIMIT_BYTES = MEBIBYTE;

/**
 * GET /v1/models: one record (< 1 KiB: id, root, parent, created, max_model_len, permissions) per
 * served model or LoRA adapter; 1 MiB holds a thousand.
 */
export const MODEL_LIST_LIMIT_BYTES = MEBIBYTE;

/**
 * Hub metadata (the Parquet listing: one URL per shard; the tree listing: one entry of < 1 KiB
 * per file, at most 1,000 per page): 4 MiB holds a few thousand shards.
 */
export const HUB_METADATA_LIMIT_BYTES = 4 * MEBIBYTE;
