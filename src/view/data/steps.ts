/**
 * The group inspector's data: one training step's examples with their rollouts (answer, reward)
 * and GRPO groups (rewards, advantages, spread) — GET /api/runs/NAME/steps/STEP —, one group's
 * samples as sent to Arbor (prompt messages, completion, reward, advantage) — GET
 * /api/runs/NAME/groups/ID —, and one rollout's trajectory.
 */
import { UsageError } from "../../errors.ts";
import { groupAdvantages } from "../../grpo/advantage.ts";
import { isZeroSpread, unbiasedStandardDeviation } from "../../metrics/group-signal.ts";
import { questionsOf } from "../../report/data.ts";
import { requireRun } from "../../store/manage.ts";
import { parseTrajectory } from "../../report/trajectory.ts";
import type { Store } from "../../store/database.ts";
import { trainingStepsOf } from "../../store/reports.ts";
import { groupRequestOf, rolloutTrajectoryOf, stepGroupsOf, stepRolloutsOf, type GroupRewardRow } from "../../store/view.ts";
import type { GroupPayload, GroupSample, GroupSummary, RolloutPayload, StepExample, StepPayload } from "../types.ts";

function groupSummary(row: GroupRewardRow): GroupSummary {
  const stored = row.advantages !== null && row.advantages.length === row.rewards.length;
  return {
    id: row.id,
    exampleId: row.exampleId,
    module: row.module,
    invocation: row.invocation,
    batchId: row.batchId,
    rewards: row.rewards,
    advantages: stored && row.advantages ? row.advantages : groupAdvantages(row.rewards),
    advantagesComputed: !stored,
    spread: unbiasedStandardDeviation(row.rewards),
    zeroSpread: isZeroSpread(row.rewards),
  };
}

export function stepPayload(store: Store, name: string, step: number): StepPayload {
  const run = requireRun(store, name);
  const groups = stepGroupsOf(store, run.id, step).map(groupSummary);
  const rollouts = stepRolloutsOf(store, run.id, step);
  const ids = [...new Set([...rollouts.map((row) => row.exampleId), ...groups.map((group) => group.exampleId)])];
  const questions = questionsOf(store, run.id, step, ids);
  const examples: StepExample[] = ids.map((exampleId) => ({
    exampleId,
    question: questions.get(exampleId) ?? "",
    rollouts: rollouts
      .filter((row) => row.exampleId === exampleId)
      .map((row) => ({ rolloutIndex: row.rolloutIndex, answer: row.answer, em: row.em, f1: row.f1, reward: row.reward, formatFailures: row.formatFailures })),
    groups: groups.filter((group) => group.exampleId === exampleId),
  }));
  const status = trainingStepsOf(store, run.id).find((row) => row.step === step)?.status ?? null;
  const rewards = rollouts.map((row) => row.reward).filter((reward): reward is number => reward !== null);
  const meanReward = rewards.length > 0 ? rewards.reduce((sum, reward) => sum + reward, 0) / rewards.length : null;
  return { step, status, meanReward, examples };
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The samples of request_json (GRPOChatData: messages, completion {role, content}, reward). */
function samplesOf(requestJson: string | null, advantages: readonly number[]): GroupSample[] {
  if (requestJson === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(requestJson);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map((item, index) => {
    const sample = record(item) ?? {};
    const messages = Array.isArray(sample.messages) ? sample.messages : [];
    const completion = record(sample.completion);
    return {
      messages: messages.map((message) => {
        const entry = record(message) ?? {};
        return { role: String(entry.role ?? ""), content: String(entry.content ?? "") };
      }),
      completion: typeof completion?.content === "string" ? completion.content : typeof sample.completion === "string" ? sample.completion : "",
      reward: typeof sample.reward === "number" ? sample.reward : Number.NaN,
      advantage: advantages[index] ?? Number.NaN,
    };
  });
}

export function groupPayload(store: Store, name: string, groupId: number): GroupPayload {
  const run = requireRun(store, name);
  const found = groupRequestOf(store, run.id, groupId);
  if (!found) throw new UsageError(`run "${name}" has no group ${groupId}`, { fix: "open the step's groups from the training page" });
  const group = groupSummary(found.group);
  return { step: found.group.step, group, samples: samplesOf(found.requestJson, group.advantages) };
}

export function rolloutPayload(store: Store, name: string, step: number, exampleId: string, rolloutIndex: number): RolloutPayload {
  const run = requireRun(store, name);
  const trajectory = parseTrajectory(rolloutTrajectoryOf(store, run.id, step, exampleId, rolloutIndex));
  return { step, exampleId, rolloutIndex, hops: trajectory.hops, failure: trajectory.failure };
}
