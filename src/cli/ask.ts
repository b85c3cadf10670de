/**
 * `musique ask`: run the program on one example and print its trajectory.
 *   musique ask --datasets sample --index 0 --retriever lexical
 *   musique ask "When was the first branch … established?" --datasets sample
 *   musique ask "Who founded it?" --datasets sample --id 2hop__6827_55848   (over that example's paragraphs)
 */
import { AskSchema, type AskOptions } from "../config/schemas.ts";
import { loadExamples, type Example } from "../data/index.ts";
import { DataError, ExitCode, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { scoreExample } from "../metrics/index.ts";
import { runMultiHop } from "../program/multihop.ts";
import { renderTrajectory, trajectoryOf } from "../program/trajectory.ts";
import { buildChatClient, buildRetriever, loadProgram, multiHopOptions, preflight } from "../run/setup.ts";
import { musiqueCommand, printJson } from "./_command.ts";

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

function overlap(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / Math.max(1, a.size + b.size - shared);
}

/** The example to run: --id, --index, or the one whose question matches the given question. */
function pickExample(examples: readonly Example[], options: Pick<AskOptions, "id" | "index" | "question" | "datasets">): Example {
  if (options.id !== undefined) {
    const found = examples.find((example) => example.id === options.id);
    if (!found) {
      throw new UsageError(`no example with id "${options.id}" in ${options.datasets}`, {
        fix: "list ids with `musique data --datasets … --show 5`, or use --index",
      });
    }
    return found;
  }
  if (options.index !== undefined) {
    const found = examples[options.index];
    if (!found) {
      throw new UsageError(`--index ${options.index} is out of range: ${options.datasets} has ${examples.length} examples`, {
        fix: `use an index from 0 to ${examples.length - 1}`,
      });
    }
    return found;
  }
  if (options.question === "") {
    throw new UsageError("which example? give --id, --index or a question", {
      fix: 'e.g. musique ask --datasets sample --index 0, or musique ask "Who …?" --datasets sample',
    });
  }
  const asked = words(options.question);
  const ranked = examples.map((example) => ({ example, similarity: overlap(asked, words(example.question)) })).sort((a, b) => b.similarity - a.similarity);
  const best = ranked[0];
  if (best && best.similarity >= 0.6) return best.example;
  const closest = ranked
    .slice(0, 3)
    .map((entry) => `${entry.example.id}: ${entry.example.question}`)
    .join("\n         ");
  throw new UsageError(`no question in ${options.datasets} matches "${options.question}"`, {
    cause: `the closest are:\n         ${closest}`,
    fix: "pass --id or --index to ask this question over that example's paragraphs",
  });
}

export default musiqueCommand({
  name: "ask",
  description: "Run the program on one example and print its trajectory (queries, documents, reasoning, answer, scores)",
  schema: AskSchema,
  run: async (options, context) => {
    const program = loadProgram(options.program);
    const retriever = buildRetriever(options);
    await preflight(options, retriever, context.signal);
    const client = buildChatClient(options);

    const loaded = await loadExamples(options.datasets, {
      revision: options.revision,
      seed: options.seed,
      noiseRate: options.noiseRate,
      skipInvalid: options.skipInvalid,
      signal: context.signal,
    });
    if (loaded.examples.length === 0) {
      throw new DataError(`no examples in ${options.datasets}`, { fix: "check --datasets" });
    }
    const example = pickExample(loaded.examples, options);
    const question = options.question === "" ? example.question : options.question;
    log.info(`asking ${example.id} with ${retriever.name} retrieval (top ${options.topN}), hops ${options.numHops}`);

    const result = await runMultiHop(example, { ...multiHopOptions(options, { client, retriever, program }, context.signal), question });
    const scores = scoreExample(example, result, options.reward);
    const trajectory = trajectoryOf(example, question, result, scores);
    if (options.json) printJson(trajectory);
    else process.stdout.write(renderTrajectory(trajectory));
    if (result.failure && result.failure.kind !== "format") {
      const what =
        result.failure.kind === "deadline"
          ? "the example ran past --example-timeout"
          : result.failure.service === "lm"
            ? "the language model failed"
            : "retrieval failed";
      log.error(`${what} in ${result.failure.module}: ${result.failure.message}`);
      return ExitCode.service;
    }
    return ExitCode.ok;
  },
});
