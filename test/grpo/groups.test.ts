import { describe, expect, test } from "bun:test";
import { buildGroups, canonicalCompletion, FORMAT_FAILURE_REWARD, padCyclic, type Rollout } from "../../src/grpo/groups.ts";
import type { CallStatus, ModuleCallTrace, ModuleName, ProgramResult } from "../../src/program/types.ts";

interface CallSpec {
  module: ModuleName;
  invocation?: number;
  status?: CallStatus;
  /** Distinguishes prompts (e.g. a hop's documents). */
  prompt?: string;
  output?: string;
}

const OUTPUT_FIELD: Record<ModuleName, string> = {
  generate_query: "search_query",
  extract_information: "key_information",
  generate_answer: "answer",
  decide_info_collection: "has_collected_enough_info",
};

function call(spec: CallSpec): ModuleCallTrace {
  const status = spec.status ?? "ok";
  const output = spec.output ?? `${spec.module} output`;
  return {
    module: spec.module,
    hop: spec.invocation ?? 0,
    invocation: spec.invocation ?? 0,
    inputs: { question: "Q?" },
    adapter: "chat",
    adapterAttempts: [],
    messages: [
      { role: "system", content: `system of ${spec.module}` },
      { role: "user", content: `[[ ## question ## ]]\nQ?\n\n${spec.prompt ?? "same prompt"}` },
    ],
    rawCompletion: status === "lm_error" ? null : status === "parse_error" ? "I think the answer is 42." : `raw ${output}`,
    parsed: status === "ok" ? { reasoning: "because", [OUTPUT_FIELD[spec.module]]: output } : null,
    status,
    error: status === "ok" ? null : "failed",
    finishReason: status === "lm_error" ? null : "stop",
    truncated: false,
    usage: null,
    latencyMs: 1,
    endpoint: null,
    attempts: 1,
    cached: false,
    startedAt: 0,
  };
}

function rollout(reward: number, specs: CallSpec[], failure: ProgramResult["failure"] = null): Rollout {
  return {
    reward,
    result: {
      answer: failure ? null : "A",
      collectedInfo: [],
      retrievedIds: [],
      hopsUsed: 2,
      hops: [],
      calls: specs.map(call),
      failure,
    },
  };
}

/** A fixed 2-hop run: extract#0, query#0, extract#1, answer#0. */
function twoHop(reward: number, tag = ""): Rollout {
  return rollout(reward, [
    { module: "extract_information", invocation: 0 },
    { module: "generate_query", invocation: 0, output: `query ${tag}` },
    { module: "extract_information", invocation: 1, prompt: `docs ${tag}` },
    { module: "generate_answer", invocation: 0, output: `answer ${tag}` },
  ]);
}

const render = (trace: ModuleCallTrace) => `rendered ${trace.module}#${trace.invocation}: ${Object.values(trace.parsed ?? {}).join("|")}`;

describe("buildGroups", () => {
  test("one group per (module, invocation), in hop order, each exactly N samples", () => {
    const rollouts = [twoHop(1, "a"), twoHop(0, "b"), twoHop(0.5, "c"), twoHop(0.2, "d")];
    const { groups, skipped } = buildGroups(rollouts, { groupSize: 4, renderCompletion: render });
    expect(groups.map((group) => `${group.module}#${group.invocation}`)).toEqual([
      "extract_information#0",
      "generate_query#0",
      "extract_information#1",
      "generate_answer#0",
    ]);
    expect(groups.every((group) => group.samples.length === 4)).toBe(true);
    expect(skipped).toEqual([]);
  });

  test("sample i carries rollout i's messages, its re-rendered parsed outputs, and its whole-program reward", () => {
    const rollouts = [twoHop(1, "a"), twoHop(0, "b")];
    const { groups } = buildGroups(rollouts, { groupSize: 2, renderCompletion: render });
    const answer = groups.find((group) => group.module === "generate_answer");
    expect(answer?.samples.map((sample) => sample.reward)).toEqual([1, 0]);
    expect(answer?.samples[1]?.completion).toEqual({ role: "assistant", content: "rendered generate_answer#0: because|answer b" });
    expect(answer?.samples[0]?.messages).toEqual(rollouts[0]?.result.calls[3]?.messages as never);
  });

  test("the first module's group has identical messages across rollouts", () => {
    const { groups } = buildGroups([twoHop(1, "a"), twoHop(0, "b"), twoHop(1, "c")], { groupSize: 3, renderCompletion: render });
    const first = groups[0];
    const prompts = new Set(first?.samples.map((sample) => JSON.stringify(sample.messages)));
    expect(prompts.size).toBe(1);
  });

  test("the default renderer is the canonical ChatAdapter completion of the parsed outputs", () => {
    const trace = call({ module: "generate_answer", output: "Miquette Giraudy" });
    expect(canonicalCompletion(trace)).toBe("[[ ## reasoning ## ]]\nbecause\n\n[[ ## answer ## ]]\nMiquette Giraudy\n\n[[ ## completed ## ]]\n");
    const { groups } = buildGroups([rollout(1, [{ module: "generate_answer", output: "X" }]), rollout(0, [{ module: "generate_answer", output: "Y" }])], {
      groupSize: 2,
    });
    expect(groups[0]?.samples[0]?.completion.content).toBe("[[ ## reasoning ## ]]\nbecause\n\n[[ ## answer ## ]]\nX\n\n[[ ## completed ## ]]\n");
  });

  test("a parse failure contributes its raw text with reward −1; later calls it never reached are skipped", () => {
    const failed = rollout(
      0,
      [
        { module: "extract_information", invocation: 0 },
        { module: "generate_query", invocation: 0, status: "parse_error" },
      ],
      { kind: "format", module: "generate_query", message: "missing search_query" },
    );
    const { groups, skipped } = buildGroups([twoHop(1, "a"), failed, twoHop(0.5, "c")], { groupSize: 3, renderCompletion: render });
    const query = groups.find((group) => group.module === "generate_query");
    expect(query?.samples[1]).toMatchObject({ completion: { role: "assistant", content: "I think the answer is 42." }, reward: FORMAT_FAILURE_REWARD });
    expect(query?.formatFailures).toBe(1);
    // The failed rollout's earlier call keeps the rollout's reward.
    expect(groups[0]?.samples[1]?.reward).toBe(0);
    expect(skipped).toEqual([
      { module: "extract_information", invocation: 1, missingRollouts: [1] },
      { module: "generate_answer", invocation: 0, missingRollouts: [1] },
    ]);
    expect(groups).toHaveLength(2);
  });

  test("auto hops: a module invoked a varying number of times keeps only the invocations every rollout reached", () => {
    const hops = (count: number, reward: number): Rollout => {
      const specs: CallSpec[] = [];
      for (let hop = 0; hop < count; hop++) {
        specs.push({ module: "extract_information", invocation: hop, prompt: `hop ${hop}` });
        specs.push({ module: "decide_info_collection", invocation: hop, output: hop === count - 1 ? "True" : "False" });
        if (hop < count - 1) specs.push({ module: "generate_query", invocation: hop });
      }
      specs.push({ module: "generate_answer", invocation: 0 });
      return rollout(reward, specs);
    };
    const { groups, skipped } = buildGroups([hops(1, 0.2), hops(3, 1), hops(2, 0.5)], { groupSize: 3, renderCompletion: render });
    expect(groups.map((group) => `${group.module}#${group.invocation}`)).toEqual(["extract_information#0", "decide_info_collection#0", "generate_answer#0"]);
    expect(skipped.map((pair) => `${pair.module}#${pair.invocation}`).sort()).toEqual([
      "decide_info_collection#1",
      "decide_info_collection#2",
      "extract_information#1",
      "extract_information#2",
      "generate_query#0",
      "generate_query#1",
    ]);
    expect(groups.every((group) => group.samples.length === 3)).toBe(true);
  });

  test("fewer rollouts than N: the group is padded by repeating its own items cyclically", () => {
    const rollouts = [twoHop(1, "a"), twoHop(0, "b"), twoHop(0.5, "c")];
    const { groups } = buildGroups(rollouts, { groupSize: 8, renderCompletion: render });
    const answer = groups.find((group) => group.module === "generate_answer");
    expect(answer?.samples.map((sample) => sample.reward)).toEqual([1, 0, 0.5, 1, 0, 0.5, 1, 0]);
    expect(answer?.padded).toBe(5);
    expect(answer?.origins.map((origin) => origin.source)).toEqual(["parsed", "parsed", "parsed", "padding", "padding", "padding", "padding", "padding"]);
    expect(answer?.origins.map((origin) => origin.rollout)).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
  });

  test("more rollouts than N: the group keeps the first N", () => {
    const rollouts = [twoHop(1), twoHop(0), twoHop(0.5)];
    const { groups } = buildGroups(rollouts, { groupSize: 2, renderCompletion: render });
    expect(groups.every((group) => group.samples.length === 2)).toBe(true);
  });

  test("a rollout with an LM failure is left out of every group; the rest are padded to N", () => {
    const broken = rollout(
      0,
      [
        { module: "extract_information", invocation: 0 },
        { module: "generate_query", invocation: 0, status: "lm_error" },
      ],
      { kind: "service", service: "lm", module: "generate_query", message: "Arbor answered null" },
    );
    const { groups, skipped, droppedRollouts } = buildGroups([twoHop(1, "a"), broken, twoHop(0, "c")], {
      groupSize: 3,
      renderCompletion: render,
    });
    expect(droppedRollouts).toEqual([1]);
    expect(skipped).toEqual([]);
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      expect(group.samples).toHaveLength(3);
      expect(group.origins.map((origin) => origin.rollout)).toEqual([0, 2, 0]);
    }
  });

  test("no usable rollout: no groups", () => {
    const broken = rollout(0, [{ module: "extract_information", status: "lm_error" }], {
      kind: "service",
      service: "lm",
      module: "extract_information",
      message: "down",
    });
    expect(buildGroups([broken, broken], { groupSize: 2, renderCompletion: render }).groups).toEqual([]);
  });

  test("a group size below 2 is a programming error", () => {
    expect(() => buildGroups([twoHop(1)], { groupSize: 1, renderCompletion: render })).toThrow(RangeError);
  });

  test("padCyclic repeats items in order", () => {
    expect(padCyclic(["a", "b"], 5)).toEqual(["a", "b", "a", "b", "a"]);
    expect(padCyclic(["a", "b", "c"], 2)).toEqual(["a", "b"]);
  });
});
