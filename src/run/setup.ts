/**
 * Building the services a run talks to from resolved options: the LM client (with the
 * response cache), the retriever, and their preflight checks. Shared by ask, evaluate and train.
 */
import { defaultBaseUrl, createChatClient, type OpenAIChatClient } from "../lm/client.ts";
import { describeIdentity } from "../lm/identity.ts";
import { checkModelServed } from "../lm/preflight.ts";
import type { ResponseCache } from "../lm/cache.ts";
import type { ChatClient } from "../lm/types.ts";
import { createRetriever } from "../retrieval/factory.ts";
import type { Retriever } from "../retrieval/types.ts";
import type { RerankApi, RetrieverName } from "../retrieval/names.ts";
import { log } from "../log.ts";
import { existsSync } from "node:fs";
import { writeOutputFile } from "../files.ts";
import type { MultiHopOptions } from "../program/multihop.ts";
import { loadProgramFile, programFileText, savedModules } from "../program/program-file.ts";
import { DEFAULT_PROGRAM, type Program } from "../program/signatures.ts";
import type { NumHops } from "../program/hops.ts";
import type { ConcurrencySetting } from "../config/fields.ts";
import { fixedConcurrency } from "./concurrency.ts";

export interface LanguageModelSettings {
  model: string;
  port: number;
  baseUrl?: string[] | undefined;
  apiKey: string;
  temperature: number;
  maxTokens: number;
  /** Sent only when set (--top-p). */
  topP?: number | undefined;
  maxRetries: number;
  requestTimeout: number;
  concurrency: ConcurrencySetting;
  maxConcurrency: number;
}

export interface RetrievalSettings {
  retriever: RetrieverName;
  rerankUrl: string;
  rerankApi: RerankApi;
  rerankModel: string;
  rerankApiKey?: string | undefined;
  rerankTimeout: number;
  maxRetries: number;
  concurrency: ConcurrencySetting;
  maxConcurrency: number;
}

export function baseUrlsOf(settings: Pick<LanguageModelSettings, "baseUrl" | "port">): string[] {
  return settings.baseUrl && settings.baseUrl.length > 0 ? settings.baseUrl : [defaultBaseUrl(settings.port)];
}

export function buildChatClient(settings: LanguageModelSettings, cache?: ResponseCache): OpenAIChatClient {
  return createChatClient({
    baseUrls: baseUrlsOf(settings),
    apiKey: settings.apiKey,
    model: settings.model,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    maxRetries: settings.maxRetries,
    requestTimeoutSeconds: settings.requestTimeout,
    concurrency: settings.concurrency,
    maxConcurrency: settings.maxConcurrency,
    ...(cache ? { cache } : {}),
  });
}

export function buildRetriever(settings: RetrievalSettings): Retriever {
  return createRetriever({
    retriever: settings.retriever,
    rerankUrl: settings.rerankUrl,
    rerankApi: settings.rerankApi,
    rerankModel: settings.rerankModel,
    ...(settings.rerankApiKey ? { rerankApiKey: settings.rerankApiKey } : {}),
    rerankTimeout: settings.rerankTimeout,
    maxRetries: settings.maxRetries,
    // The rerank service has no adaptive limit: a fixed --concurrency, or --max-concurrency with auto.
    concurrency: fixedConcurrency(settings),
  });
}

/**
 * Fail in seconds, before any run is created, if the LM or the rerank service is not there. The
 * model identities the LM preflight learns go to `client` (they key its response cache).
 */
export async function preflight(settings: LanguageModelSettings, retriever: Retriever, signal?: AbortSignal, client?: OpenAIChatClient): Promise<void> {
  const baseUrls = baseUrlsOf(settings);
  log.info(`checking ${settings.model} at ${baseUrls.join(", ")}`);
  // Both requests are bounded by --request-timeout, the knob their timeout message names.
  const servers = await checkModelServed({ baseUrls, apiKey: settings.apiKey, model: settings.model, requestTimeoutSeconds: settings.requestTimeout }, signal);
  for (const server of servers) log.debug(`${server.baseUrl} serves ${describeIdentity(server.identity)}`);
  client?.learnServers(servers);
  await retriever.preflight(signal);
}

export interface ProgramFlags {
  topN: number;
  numHops: NumHops;
  maxHops: number;
  temperature: number;
  maxTokens: number;
  exampleTimeout: number;
  jsonFallback: boolean;
}

/** The program's options from a command's flags (ask and evaluate run it the same way). */
export function multiHopOptions(
  flags: ProgramFlags,
  services: { client: ChatClient; retriever: Retriever; program?: Program },
  signal: AbortSignal,
): MultiHopOptions {
  return {
    client: services.client,
    retriever: services.retriever,
    topN: flags.topN,
    numHops: flags.numHops,
    maxHops: flags.maxHops,
    temperature: flags.temperature,
    maxTokens: flags.maxTokens,
    deadlineSeconds: flags.exampleTimeout,
    jsonFallback: flags.jsonFallback,
    ...(services.program ? { program: services.program } : {}),
    signal,
  };
}

/** The predictors of `--program FILE` (warnings logged), or the reference script's. */
export function loadProgram(path: string | undefined): Program {
  if (path === undefined) return DEFAULT_PROGRAM;
  const loaded = loadProgramFile(path);
  for (const warning of loaded.warnings) log.warn(`--program ${path}: ${warning}`);
  log.info(
    `program: ${path} (${Object.values(loaded.program)
      .map((predictor) => `${predictor.name} ${predictor.demos.length} demos`)
      .join(", ")})`,
  );
  return loaded.program;
}

/**
 * The program a run uses, written to outputs/{run}/program.json in DSPy's format (DSPy can load
 * it). A resumed run reuses the file it wrote, so it keeps its prompts even if --program changed.
 */
export function programOfRun(run: { resumed: boolean; file: (name: string) => string }, program: Program, numHops: NumHops): Program {
  const path = run.file("program.json");
  if (run.resumed && existsSync(path)) return loadProgram(path);
  writeOutputFile(path, programFileText(program, savedModules(numHops === "auto")), "--output-dir");
  return program;
}
