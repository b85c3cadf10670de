/**
 * GRPO groups from the N rollouts of one example, as DSPy's GRPO builds them with multitask=True
 * and variably_invoked_predictor_grouping_mode="truncate" (program.md §6, arbor.md §3):
 *
 * - One group per (module, invocation index): sample i is rollout i's call of that module at that
 *   invocation. messages = the call's [system, user] messages (ChatAdapter format, no demos);
 *   completion = the canonical ChatAdapter re-rendering of the PARSED outputs (not the raw text);
 *   reward = that rollout's whole-program reward.
 * - A call that broke the format contributes its raw text with reward −1 (FORMAT_FAILURE_REWARD).
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
 */
import { FORMAT_FAILURE_REWARD } from "../metrics/reward.ts";
import { formatCompletion } from "../program/adapter/index.ts";
import { MODULE_SIGNATURES } from "../program/modules.ts";
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
export type CompletionRenderer = (call: ModuleCallTrace) => string;

/** formatCompletion of the call's module signature over its parsed outputs. */
export function canonicalCompletion(call: ModuleCallTrace): string {
  if (call.parsed === null) throw new Error(`call ${call.module}#${call.invocation} has no parsed outputs`);
  return formatCompletion(MODULE_SIGNATURES[call.module], call.parsed);
}

/** Where each sample of a group came from. */
export type SampleSource = "parsed" | "format_failure" | "padding";

export interface SampleOrigin {
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

export interface SkippedPair {
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
}

function hadLmFailure(result: ProgramResult): boolean {
  return isServiceFailure(result.failure) || result.calls.some((call) => call.status === "lm_error");
}

function pairKey(module: ModuleName, invocation: number): string {
  return `${module}#${invocation}`;
}

function sampleOf(call: ModuleCallTrace, reward: number, render: CompletionRenderer): { sample: GrpoChatData; source: SampleSource } | null {
  const messages = call.messages.map((message) => ({ role: message.role, content: message.content }));
  if (call.status === "ok" && call.parsed !== null) {
    return { sample: { messages, completion: { role: "assistant", content: render(call) }, reward }, source: "parsed" };
  }
  if (call.status === "parse_error") {
    return {
      sample: { messages, completion: { role: "assistant", content: call.rawCompletion ?? "" }, reward: FORMAT_FAILURE_REWARD },
      source: "format_failure",
    };
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
  const render = options.renderCompletion ?? canonicalCompletion;

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
      const built = sampleOf(call, entry.rollout.reward, render);
      if (built !== null) items.push({ sample: built.sample, origin: { rollout: entry.index, source: built.source } });
    }
    if (items.length === 0) continue;
    const full = padCyclic(items, groupSize);
    groups.push({
      module,
      invocation,
      samples: full.map((item) => item.sample),
      origins: full.map((item, position) =>
        position < items.length ? item.origin : { rollout: item.origin.rollout, source: "padding" },
      ),
      formatFailures: items.filter((item) => item.origin.source === "format_failure").length,
      padded: Math.max(0, groupSize - items.length),
    });
  }
  return { groups, skipped, droppedRollouts };
}
