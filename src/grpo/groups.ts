/**
 * GRPO groups from the N rollouts of one example, as DSPy 3.0.2's GRPO builds them with
 * multitask=True and variably_invoked_predictor_grouping_mode="truncate" (program.md §6, arbor.md §3):
 *
 * - One group per (module, invocation index): sample i is rollout i's call of that module at that
 *   invocation; reward = that rollout's whole-program reward.
 * - A call the ChatAdapter parsed: messages = ChatAdapter.format of the call's inputs WITHOUT demos
 *   (DSPy's GRPO formats training data with demos=[]), completion = the canonical ChatAdapter
 *   re-rendering of the PARSED outputs (not the raw text).
 * - A call the JSONAdapter fallback rescued, by `fallbackSamples` (--fallback-samples):
 *   "dspy" (default, DSPy's): exactly as above, the ChatAdapter prompt and the ChatAdapter rendering
 *   of the parsed JSON fields (text the model never wrote);
 *   "on-policy": the JSON prompt as sent and the model's actual JSON reply.
 * - A call that failed every attempt contributes reward −1 (FORMAT_FAILURE_REWARD):
 *   "dspy": DSPy's FailedPrediction sample: the ChatAdapter prompt built from the program's own
 *   arguments, so only `question` (a 3.0.2 quirk: no documents / collected info), and the failed
 *   reply as DSPy keeps it (`lm_response`: the JSON attempt's first {…}, else its text);
 *   "on-policy": the last prompt as sent and the model's reply.
 *   (DSPy 3.0.2 drops the whole rollout when that last JSON reply had some of the fields: its
 *   `present / expected` divides two lists. musique keeps the −1 sample instead.)
 * - truncate: a (module, invocation) pair that some rollout never reached is skipped (DSPy keeps
 *   only the first min-count invocations of each module across rollouts).
 * - A group shorter than N is padded by repeating its own items cyclically, so every group holds
 *   exactly N samples (Arbor refuses any other size).
 *
 * Rollout rewards (set by the caller, rollouts.ts): a rollout that broke the format scores −1 as a
 *   whole, like DSPy's wrapped metric, so its earlier calls carry −1 too.
 * LM errors: a rollout that hit an LM failure is left out of every group of its example. This is
 *   what DSPy ends up doing (Evaluate catches the exception, bootstrap_trace_data drops the
 *   rollout), and its reward would measure a service failure, not the policy. The remaining
 *   rollouts decide truncation, and short groups are padded as above.
 * Posting order (postingOrder): predictor-major like DSPy (generate_query, extract_info,
 *   generate_answer, then decide), then example in step order, then invocation.
 */
import { FORMAT_FAILURE_REWARD } from "../metrics/reward.ts";
import type { FallbackSamples } from "./policies.ts";
import type { ChatMessage } from "../lm/types.ts";
import { format, formatCompletion } from "../program/adapter/index.ts";
import { DEFAULT_PROGRAM, PREDICTOR_NAMES, type Program } from "../program/signatures.ts";
import type { ModuleCallTrace, ModuleName, ProgramResult } from "../program/types.ts";
import type { GrpoChatData } from "./arbor-wire.ts";
import { isServiceFailure } from "../program/types.ts";

/** Reward of a sample whose completion broke the ChatAdapter format (DSPy's format_failure_score). */
export { FORMAT_FAILURE_REWARD };

export interface Rollout {
  result: ProgramResult;
  /** The whole-program reward of this rollout. */
  reward: number;
}

/** The canonical completion text of a parsed call. */
type CompletionRenderer = (call: ModuleCallTrace) => string;

/** formatCompletion of the call's module signature over its parsed outputs. */
export function canonicalCompletion(call: ModuleCallTrace, program: Program = DEFAULT_PROGRAM): string {
  if (call.parsed === null) throw new Error(`call ${call.module}#${call.invocation} has no parsed outputs`);
  return formatCompletion(program[call.module].signature, call.parsed);
}

/** Where each sample of a group came from. */
type SampleSource = "parsed" | "rescued" | "format_failure" | "padding";

interface SampleOrigin {
  rollout: number;
  source: SampleSource;
}

export interface GrpoGroup {
  module: ModuleName;
  invocation: number;
  /** Exactly groupSize samples. */
  samples: GrpoChatData[];
  /** Parallel to samples. */
  origins: SampleOrigin[];
  formatFailures: number;
  padded: number;
}

interface SkippedPair {
  module: ModuleName;
  invocation: number;
  /** Rollout indexes (among the usable ones) that never reached this call. */
  missingRollouts: number[];
}

export interface GroupBuildResult {
  groups: GrpoGroup[];
  /** (module, invocation) pairs dropped by truncation. */
  skipped: SkippedPair[];
  /** Rollouts left out because of an LM failure. */
  droppedRollouts: number[];
}

export interface GroupBuildOptions {
  /** N: Arbor's num_generations (= --num-rollouts-per-step). */
  groupSize: number;
  renderCompletion?: CompletionRenderer;
  /** The predictors the rollouts ran (their signatures format the training prompts). */
  program?: Program;
  /** How calls rescued by the JSON fallback, or failed, become samples (default "dspy"). */
  fallbackSamples?: FallbackSamples;
}

function hadLmFailure(result: ProgramResult): boolean {
  return isServiceFailure(result.failure) || result.calls.some((call) => call.status === "lm_error");
}

function pairKey(module: ModuleName, invocation: number): string {
  return `${module}#${invocation}`;
}

/** DSPy's training prompt of a call: the ChatAdapter format of its inputs, without demos. */
function chatPromptWithoutDemos(call: ModuleCallTrace, program: Program): ChatMessage[] {
  const predictor = program[call.module];
  if (predictor.demos.length > 0) return format(predictor.signature, call.inputs);
  return (call.adapterAttempts[0]?.messages ?? call.messages).map((message) => ({ role: message.role, content: message.content }));
}

function copy(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.map((message) => ({ role: message.role, content: message.content }));
}

interface SampleSettings {
  render: CompletionRenderer;
  program: Program;
  fallbackSamples: FallbackSamples;
}

function sampleOf(call: ModuleCallTrace, reward: number, settings: SampleSettings): { sample: GrpoChatData; source: SampleSource } | null {
  const onPolicy = settings.fallbackSamples === "on-policy";
  const assistant = (content: string) => ({ role: "assistant" as const, content });
  if (call.status === "ok" && call.parsed !== null) {
    const rescued = call.adapter !== "chat";
    if (rescued && onPolicy) {
      return { sample: { messages: copy(call.messages), completion: assistant(call.rawCompletion ?? ""), reward }, source: "rescued" };
    }
    return {
      sample: { messages: chatPromptWithoutDemos(call, settings.program), completion: assistant(settings.render(call)), reward },
      source: rescued ? "rescued" : "parsed",
    };
  }
  if (call.status === "parse_error") {
    if (onPolicy) {
      return {
        sample: { messages: copy(call.messages), completion: assistant(call.rawCompletion ?? ""), reward: FORMAT_FAILURE_REWARD },
        source: "format_failure",
      };
    }
    const last = call.adapterAttempts.at(-1);
    const question = call.inputs.question;
    const signature = settings.program[call.module].signature;
    const messages = question === undefined ? copy(call.messages) : format(signature, { question });
    const text = last?.failedText ?? call.rawCompletion ?? "";
    return { sample: { messages, completion: assistant(text), reward: FORMAT_FAILURE_REWARD }, source: "format_failure" };
  }
  return null;
}

/** Pad `items` to exactly `size` by repeating its own items cyclically (size ≥ items.length > 0). */
export function padCyclic<T>(items: readonly T[], size: number): T[] {
  if (items.length === 0) throw new Error("cannot pad an empty group");
  const result = items.slice(0, size);
  for (let index = result.length; index < size; index++) result.push(items[index % items.length] as T);
  return result;
}

/** Build the GRPO groups of one example from its rollouts. */
export function buildGroups(rollouts: readonly Rollout[], options: GroupBuildOptions): GroupBuildResult {
  const { groupSize } = options;
  if (!Number.isInteger(groupSize) || groupSize < 2) throw new RangeError(`group size must be ≥ 2, got ${groupSize}`);
  const program = options.program ?? DEFAULT_PROGRAM;
  const settings: SampleSettings = {
    render: options.renderCompletion ?? ((call) => canonicalCompletion(call, program)),
    program,
    fallbackSamples: options.fallbackSamples ?? "dspy",
  };

  const droppedRollouts: number[] = [];
  const usable: Array<{ index: number; rollout: Rollout; calls: Map<string, ModuleCallTrace> }> = [];
  // Pairs in order of first appearance over the rollouts' calls (hop order).
  const order: Array<{ module: ModuleName; invocation: number }> = [];
  const seen = new Set<string>();
  rollouts.forEach((rollout, index) => {
    if (hadLmFailure(rollout.result)) {
      droppedRollouts.push(index);
      return;
    }
    const calls = new Map<string, ModuleCallTrace>();
    for (const call of rollout.result.calls) {
      const key = pairKey(call.module, call.invocation);
      if (!calls.has(key)) calls.set(key, call);
      if (!seen.has(key)) {
        seen.add(key);
        order.push({ module: call.module, invocation: call.invocation });
      }
    }
    usable.push({ index, rollout, calls });
  });

  const groups: GrpoGroup[] = [];
  const skipped: SkippedPair[] = [];
  if (usable.length === 0) return { groups, skipped, droppedRollouts };

  for (const { module, invocation } of order) {
    const key = pairKey(module, invocation);
    const missingRollouts = usable.filter((entry) => !entry.calls.has(key)).map((entry) => entry.index);
    if (missingRollouts.length > 0) {
      skipped.push({ module, invocation, missingRollouts });
      continue;
    }
    const items: Array<{ sample: GrpoChatData; origin: SampleOrigin }> = [];
    for (const entry of usable) {
      const call = entry.calls.get(key);
      if (call === undefined) continue;
      const built = sampleOf(call, entry.rollout.reward, settings);
      if (built !== null) items.push({ sample: built.sample, origin: { rollout: entry.index, source: built.source } });
    }
    if (items.length === 0) continue;
    const full = padCyclic(items, groupSize);
    groups.push({
      module,
      invocation,
      samples: full.map((item) => item.sample),
      origins: full.map((item, position) => (position < items.length ? item.origin : { rollout: item.origin.rollout, source: "padding" })),
      formatFailures: items.filter((item) => item.origin.source === "format_failure").length,
      padded: Math.max(0, groupSize - items.length),
    });
  }
  return { groups, skipped, droppedRollouts };
}

/** DSPy's order of predictors in a GRPO step (named_predictors of the program; decide last). */
const PREDICTOR_ORDER: readonly ModuleName[] = Object.keys(PREDICTOR_NAMES).filter((name): name is ModuleName => name in PREDICTOR_NAMES);

/**
 * The order DSPy posts a step's groups in: predictor-major, then example (in the given order),
 * then invocation. Returns [example index, group index] pairs.
 */
export function postingOrder(examples: ReadonlyArray<{ groups: readonly GrpoGroup[] }>): Array<[number, number]> {
  const order: Array<[number, number]> = [];
  for (const module of PREDICTOR_ORDER) {
    examples.forEach((entry, exampleIndex) => {
      const positions = entry.groups
        .map((group, groupIndex) => ({ group, groupIndex }))
        .filter(({ group }) => group.module === module)
        .sort((a, b) => a.group.invocation - b.group.invocation);
      for (const { groupIndex } of positions) order.push([exampleIndex, groupIndex]);
    });
  }
  return order;
}
