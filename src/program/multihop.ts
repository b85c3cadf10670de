/**
 * MultiHopQA.forward (docs/specs/program.md §3; `auto` per §4's inferred proposal):
 *   hop 0: query = the question (no LM call); hop h > 0: query = generate_query(question,
 *   collected_info = collected joined "\n", or "No information collected yet" when empty);
 *   retrieve topN documents; record new ids in order of appearance; collected += extract(question,
 *   documents text).key_information (an empty value still counts); with `auto`, ask
 *   DecideInfoCollection after each hop and stop on True or after maxHops. Finally
 *   generate_answer(question, all_information = collected joined "\n").
 * LM calls: 2·N for N fixed hops; 3·hops with auto (hop 0 has no query call, unlike baleen's 3·hops + 1).
 */
import type { NumHops } from "./hops.ts";
import type { Example } from "../data/types.ts";
import type { ChatClient } from "../lm/types.ts";
import { ExitCode, ServiceError, stopsRun } from "../errors.ts";
import { formatDocuments, type RankedDocument, type Retriever } from "../retrieval/types.ts";
import { ModuleRunner, type ModuleCallOutcome } from "./modules.ts";
import { NO_INFORMATION_YET, type Program } from "./signatures.ts";
import type { HopTrace, ModuleName, ProgramResult } from "./types.ts";

export interface MultiHopOptions {
  client: ChatClient;
  retriever: Retriever;
  /** Documents retrieved per hop. */
  topN: number;
  /** A fixed count, "gold" (the example's nHops: leaks the label) or "auto" (the model decides). */
  numHops: NumHops;
  /** Upper bound on hops with "auto". */
  maxHops: number;
  temperature?: number;
  maxTokens?: number;
  model?: string;
  noCache?: boolean;
  signal?: AbortSignal;
  /** Ask this question instead of the example's own (the example still supplies the paragraphs). */
  question?: string;
  /** Whole-example deadline (--example-timeout): past it the run ends as a service failure. */
  deadlineSeconds?: number;
  /** The predictors (--program FILE; default: the reference script's). */
  program?: Program;
  /** DSPy's JSONAdapter fallback after a ChatAdapter reply that does not parse (default on). */
  jsonFallback?: boolean;
}

/** How many hops run at most for this example. */
function hopLimit(numHops: NumHops, maxHops: number, example: Example): number {
  if (numHops === "gold") return Math.max(1, example.nHops);
  if (numHops === "auto") return Math.max(1, maxHops);
  return numHops;
}

/**
 * Run the program on one example. With `deadlineSeconds`, a run that is still going when the
 * deadline passes is abandoned and returned as a service failure (its finished calls are kept);
 * the caller's own signal (Ctrl-C) still throws.
 */
export async function runMultiHop(example: Example, options: MultiHopOptions): Promise<ProgramResult> {
  if (options.deadlineSeconds === undefined) return runHops(example, options);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.deadlineSeconds * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const calls: ProgramResult["calls"] = [];
  try {
    return await runHops(example, { ...options, signal }, calls);
  } catch (error) {
    if (!deadline.signal.aborted || options.signal?.aborted) throw error;
    const message = `example ${example.id} did not finish within ${options.deadlineSeconds} s (--example-timeout)`;
    const last = calls.at(-1)?.module ?? "extract_information";
    return { answer: null, collectedInfo: [], retrievedIds: [], hopsUsed: 0, hops: [], calls, failure: { kind: "deadline", module: last, message } };
  } finally {
    clearTimeout(timer);
  }
}

async function runHops(example: Example, options: MultiHopOptions, callsOut?: ProgramResult["calls"]): Promise<ProgramResult> {
  const question = options.question ?? example.question;
  const runner = new ModuleRunner({
    client: options.client,
    model: options.model,
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    noCache: options.noCache,
    signal: options.signal,
    ...(options.program ? { program: options.program } : {}),
    ...(options.jsonFallback === undefined ? {} : { jsonFallback: options.jsonFallback }),
    ...(callsOut ? { calls: callsOut } : {}),
  });
  const collectedInfo: string[] = [];
  const retrievedIds: string[] = [];
  const hops: HopTrace[] = [];
  let hopsUsed = 0;

  const result = (answer: string | null, failed?: { module: ModuleName; outcome: ModuleCallOutcome }): ProgramResult => ({
    answer,
    collectedInfo: [...collectedInfo],
    retrievedIds: [...retrievedIds],
    hopsUsed,
    hops,
    calls: runner.calls,
    failure: failed?.outcome.failure ? { ...failed.outcome.failure, module: failed.module } : null,
  });

  const limit = hopLimit(options.numHops, options.maxHops, example);
  for (let hop = 0; hop < limit; hop++) {
    let query = question;
    if (hop > 0) {
      const collected = collectedInfo.length > 0 ? collectedInfo.join("\n") : NO_INFORMATION_YET;
      const outcome = await runner.call("generate_query", hop, { question, collected_info: collected });
      if (!outcome.outputs) return result(null, { module: "generate_query", outcome });
      query = outcome.outputs.search_query ?? "";
    }
    let retrieved: RankedDocument[];
    try {
      retrieved = await options.retriever.retrieve(query, example, options.topN, options.signal);
    } catch (error) {
      // A retrieval service that kept failing ends this run as a service failure, keeping the
      // module calls made so far (they are recorded with their attempts); refusals still stop.
      if (!(error instanceof ServiceError) || stopsRun(error) || options.signal?.aborted) throw error;
      const failure = {
        kind: "service" as const,
        service: "retrieval" as const,
        module: "extract_information" as const,
        message: `retrieval failed: ${error.message}`,
        refused: error.exitCode === ExitCode.rejected,
      };
      return { ...result(null), failure };
    }
    for (const document of retrieved) {
      if (!retrievedIds.includes(document.id)) retrievedIds.push(document.id);
    }
    const documentsText = formatDocuments(retrieved);
    const hopTrace: HopTrace = { hop, query, retrieved, documentsText, keyInformation: "" };
    hops.push(hopTrace);

    const extract = await runner.call("extract_information", hop, { question, documents: documentsText });
    if (!extract.outputs) return result(null, { module: "extract_information", outcome: extract });
    hopTrace.keyInformation = extract.outputs.key_information ?? "";
    collectedInfo.push(hopTrace.keyInformation);
    hopsUsed = hop + 1;

    if (options.numHops === "auto") {
      const decide = await runner.call("decide_info_collection", hop, {
        question,
        all_information: collectedInfo.join("\n"),
      });
      if (!decide.outputs) return result(null, { module: "decide_info_collection", outcome: decide });
      hopTrace.enough = decide.outputs.has_collected_enough_info === "True";
      if (hopTrace.enough) break;
    }
  }

  const answer = await runner.call("generate_answer", hopsUsed, {
    question,
    all_information: collectedInfo.join("\n"),
  });
  if (!answer.outputs) return result(null, { module: "generate_answer", outcome: answer });
  return result(answer.outputs.answer ?? "");
}
