/**
 * What a dry run (`musique train --dry-run`) has to show instead of scores (issue 17 item 2): its
 * steps' rollouts and GRPO groups, read from the store — per example the question, each
 * rollout's answer and reward, each group's rewards, advantages and spread — and, for the first
 * example of the first steps, each group's samples as they would be sent to Arbor (prompt,
 * completion, reward, advantage), so rewards and prompts can be checked before any GPU time.
 * Shown by `report` (terminal, --json, --html: rollouts-format.ts) and by `musique view`'s run page.
 */
import { isZeroSpread, unbiasedStandardDeviation } from "../metrics/group-signal.ts";
import type { Store } from "../store/database.ts";
import { firstRequestMessagesOf } from "../store/reports.ts";
import { groupRequestOf, stepGroupsOf, stepRolloutsOf, type StepRolloutRow } from "../store/view.ts";
import { questionFromMessages } from "./trajectory.ts";

/** Steps whose first example's group samples are included (prompts are long). */
const SAMPLED_STEPS = 3;

interface RolloutGroup {
  module: string;
  invocation: number;
  rewards: number[];
  /** As stored with the group (null in databases from before advantages were recorded). */
  advantages: number[] | null;
  spread: number;
  zeroSpread: boolean;
}

export interface GroupSamples {
  module: string;
  invocation: number;
  /** The prompt every sample of the group shares. */
  messages: Array<{ role: string; content: string }>;
  samples: Array<{ completion: string; reward: number | null; advantage: number | null }>;
}

export interface RolloutExample {
  exampleId: string;
  question: string;
  rollouts: Array<Pick<StepRolloutRow, "rolloutIndex" | "answer" | "em" | "f1" | "reward" | "formatFailures">>;
  groups: RolloutGroup[];
  /** Only for the first example of the first SAMPLED_STEPS steps. */
  samples: GroupSamples[];
}

export interface RolloutStep {
  step: number;
  examples: RolloutExample[];
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A group's samples as stored in request_json (GRPOChatData: messages, completion, reward). */
function groupSamples(store: Store, runId: number, groupId: number, group: RolloutGroup): GroupSamples {
  const found = groupRequestOf(store, runId, groupId);
  let parsed: unknown = null;
  try {
    parsed = found?.requestJson ? JSON.parse(found.requestJson) : null;
  } catch {
    parsed = null;
  }
  const items = Array.isArray(parsed) ? parsed.map(record) : [];
  const messages = (Array.isArray(items[0]?.messages) ? items[0].messages : []).map((message) => {
    const entry = record(message);
    return { role: String(entry.role ?? ""), content: String(entry.content ?? "") };
  });
  return {
    module: group.module,
    invocation: group.invocation,
    messages,
    samples: items.map((item, index) => {
      const completion = record(item.completion);
      return {
        completion: typeof completion.content === "string" ? completion.content : "",
        reward: typeof item.reward === "number" ? item.reward : null,
        advantage: group.advantages?.[index] ?? null,
      };
    }),
  };
}

/** Every step of a training run with its examples' rollouts and groups (steps with rollouts, in order). */
export function rolloutStepsOf(store: Store, runId: number, steps: readonly number[]): RolloutStep[] {
  return steps.map((step, position) => {
    const groups = stepGroupsOf(store, runId, step);
    const rollouts = stepRolloutsOf(store, runId, step);
    const ids = [...new Set([...rollouts.map((row) => row.exampleId), ...groups.map((group) => group.exampleId)])];
    const messages = firstRequestMessagesOf(store, runId, step, ids);
    return {
      step,
      examples: ids.map((exampleId, index) => {
        const own = groups.filter((group) => group.exampleId === exampleId);
        const summaries = own.map((group) => ({
          module: group.module,
          invocation: group.invocation,
          rewards: group.rewards,
          advantages: group.advantages,
          spread: unbiasedStandardDeviation(group.rewards),
          zeroSpread: isZeroSpread(group.rewards),
        }));
        return {
          exampleId,
          question: questionFromMessages(messages.get(exampleId)),
          rollouts: rollouts
            .filter((row) => row.exampleId === exampleId)
            .map(({ rolloutIndex, answer, em, f1, reward, formatFailures }) => ({ rolloutIndex, answer, em, f1, reward, formatFailures })),
          groups: summaries,
          samples:
            index === 0 && position < SAMPLED_STEPS
              ? own.map((group, groupIndex) => groupSamples(store, runId, group.id, summaries[groupIndex] as RolloutGroup))
              : [],
        };
      }),
    };
  });
}
