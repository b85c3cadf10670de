/**
 * The recorded real DSPy 3.0.2 GRPO step (test/fixtures/dspy-reference/grpo_step.*): musique's
 * rollouts against the replay LM, its groups (groups.ts, default "dspy" samples) in its posting
 * order (postingOrder) equal the groups DSPy posted to Arbor: prompts, completions and rewards,
 * including a JSON-rescued call re-rendered in ChatAdapter format, the "]]" slice quirk, and
 * DSPy's FailedPrediction sample (question-only prompt, the JSON attempt's text, reward −1).
 */
import { describe, expect, test } from "bun:test";
import { createChatClient } from "../../src/lm/client.ts";
import { buildGroups, postingOrder } from "../../src/grpo/groups.ts";
import { runRollouts } from "../../src/grpo/rollouts.ts";
import type { GrpoChatData } from "../../src/grpo/arbor-wire.ts";
import { GoldenRetriever } from "../../src/retrieval/golden.ts";
import { referenceLines, referenceText } from "../helpers/dspy-reference.ts";
import { startReplayLm, type TranscriptRow } from "../fakes/replay-lm.ts";
import { examplesOf } from "../program/parity-helpers.ts";

interface RecordedGroup {
  predictor: string;
  example_id: string;
  invocation: number;
  batch: GrpoChatData[];
}

const MODULE_OF: Record<string, string> = { generate_query: "generate_query", extract_info: "extract_information", generate_answer: "generate_answer" };

async function musiqueGroups(fallbackSamples: "dspy" | "on-policy") {
  const meta = JSON.parse(referenceText("grpo_step.meta.json")) as { selected_example_ids: string[] };
  const rows = referenceLines<TranscriptRow>("grpo_step.transcript.jsonl.gz");
  const examples = await examplesOf(meta.selected_example_ids);
  const selected = meta.selected_example_ids.map((id) => examples.get(id)).filter((example) => example !== undefined);
  const replay = await startReplayLm(rows);
  try {
    const client = createChatClient({
      baseUrls: [replay.baseUrl],
      apiKey: "x",
      model: "fake",
      temperature: 0.7,
      maxTokens: 4000,
      maxRetries: 0,
      requestTimeoutSeconds: 30,
      concurrency: 1,
    });
    const settings = {
      client,
      retriever: new GoldenRetriever(),
      topN: 2,
      numHops: "gold" as const,
      maxHops: 4,
      temperature: 0.7,
      maxTokens: 4000,
      model: "fake",
      reward: "v2" as const,
      concurrency: 1,
    };
    const rollouts = await runRollouts(selected, 8, settings, new AbortController().signal);
    const perExample = rollouts.map((runs) => ({
      exampleId: runs[0]?.example.id ?? "",
      groups: buildGroups(
        runs.map((run) => ({ result: run.result, reward: run.reward })),
        { groupSize: 8, fallbackSamples },
      ).groups,
    }));
    const groups = postingOrder(perExample).map(([example, group]) => ({
      exampleId: perExample[example]?.exampleId ?? "",
      group: perExample[example]?.groups[group],
    }));
    return { groups, log: replay.log, requestsRecorded: rows.length };
  } finally {
    await replay.stop();
  }
}

describe("the recorded DSPy GRPO step", () => {
  test("musique posts DSPy's 20 groups in DSPy's order: same prompts, completions and rewards", async () => {
    const recorded = referenceLines<RecordedGroup>("grpo_step.jsonl.gz");
    const { groups, log, requestsRecorded } = await musiqueGroups("dspy");
    const matched = log.filter((entry) => entry.matched && entry.extraKeys.length === 0).length;
    console.log(`parity grpo_step: requests matched ${matched}/${log.length} sent (DSPy made ${requestsRecorded}); groups ${groups.length}/${recorded.length}`);
    expect(matched).toBe(log.length);
    expect(log.length).toBe(requestsRecorded);
    expect(groups.map((entry) => [entry.group?.module, entry.exampleId, entry.group?.invocation])).toEqual(
      recorded.map((group) => [MODULE_OF[group.predictor], group.example_id, group.invocation]),
    );
    groups.forEach((entry, index) => {
      expect({ group: index, samples: entry.group?.samples }).toEqual({ group: index, samples: recorded[index]?.batch });
    });
  });

  test("--fallback-samples on-policy: a failed call trains on the JSON prompt it was sent and the reply it got", async () => {
    const { groups } = await musiqueGroups("on-policy");
    const failed = groups.find((entry) => entry.group?.module === "generate_answer" && entry.group.samples[0]?.reward === -1);
    const sample = failed?.group?.samples[0];
    expect(sample?.messages.at(-1)?.content).toEndWith("Respond with a JSON object in the following order of fields: `reasoning`, then `answer`.");
    expect(sample?.messages.at(-1)?.content).toContain("[[ ## all_information ## ]]");
    expect(sample?.completion.content).toBe("Sorry, I can't help with that.");
  });
});
