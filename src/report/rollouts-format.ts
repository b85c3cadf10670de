/**
 * A dry run's rollouts and groups (rollouts.ts) in words: terminal lines for `report`, and the
 * HTML section for `report --html` and musique view's run page — per step a table of its examples
 * (question, each rollout's GRPO reward and answer), a table of its groups (rewards, advantages,
 * spread; zero-spread groups marked), and the first example's group samples as they would be
 * sent to Arbor. Browser-safe: it imports only types, escaping and the reward constant.
 */
import { FORMAT_FAILURE_REWARD } from "../metrics/reward.ts";
import { escapeHtml } from "./escape.ts";
import type { GroupSamples, RolloutExample, RolloutStep } from "./rollouts.ts";

/** The reward GRPO gives a rollout: its metric, or −1 when a call broke the format. */
function grpoReward(rollout: Pick<RolloutExample["rollouts"][number], "reward" | "formatFailures">): number | null {
  return rollout.formatFailures > 0 ? FORMAT_FAILURE_REWARD : rollout.reward;
}

/** Rewards or advantages to two decimals, "-" where there are none. */
function numbers(values: ReadonlyArray<number | null> | null): string {
  if (values === null) return "-";
  return values.map((value) => (value === null ? "-" : value.toFixed(2))).join(" ");
}

/** Each distinct answer of an example's rollouts with how many gave it, most frequent first. */
function answerCounts(example: RolloutExample): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const rollout of example.rollouts) counts.set(rollout.answer ?? "(none)", (counts.get(rollout.answer ?? "(none)") ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The terminal lines: per step, one line per example with its rollouts' rewards, zero-spread groups and answers. */
export function rolloutLines(steps: readonly RolloutStep[]): string[] {
  const lines: string[] = [];
  for (const step of steps) {
    lines.push(`step ${step.step}:`);
    for (const example of step.examples) {
      const zero = example.groups.filter((group) => group.zeroSpread).length;
      lines.push(
        `  ${example.exampleId}: rewards ${numbers(example.rollouts.map(grpoReward))}; ` +
          `zero-spread groups ${zero}/${example.groups.length}; answers ${answerCounts(example)
            .map(([answer, count]) => `${JSON.stringify(answer.length > 40 ? `${answer.slice(0, 39)}…` : answer)} ×${count}`)
            .join(", ")}`,
      );
    }
  }
  return lines;
}

function answers(example: RolloutExample): string {
  return answerCounts(example)
    .map(([answer, count]) => `${escapeHtml(answer)} <span class="meta">×${count}</span>`)
    .join("<br>");
}

function samplesHtml(exampleId: string, groups: readonly GroupSamples[]): string {
  if (groups.length === 0) return "";
  const parts = groups.map((group) => {
    const prompt = group.messages.map((message) => `[${message.role}]\n${message.content}`).join("\n\n");
    const rows = group.samples.map(
      (sample, index) =>
        `<tr><td class="number">${index}</td><td class="number">${sample.reward === null ? "-" : sample.reward.toFixed(3)}</td><td class="number">${sample.advantage === null ? "-" : sample.advantage.toFixed(3)}</td><td><pre class="config">${escapeHtml(sample.completion)}</pre></td></tr>`,
    );
    return `<details class="group-samples"><summary>${escapeHtml(group.module)} #${group.invocation}: ${group.samples.length} samples</summary>
<details><summary>prompt (shared by the group)</summary><pre class="config">${escapeHtml(prompt)}</pre></details>
<table><thead><tr><th>sample</th><th>reward</th><th>advantage</th><th>completion</th></tr></thead><tbody>${rows.join("")}</tbody></table></details>`;
  });
  return `<p>The groups of <code>${escapeHtml(exampleId)}</code> as they would be sent to Arbor:</p>${parts.join("\n")}`;
}

function stepHtml(step: RolloutStep): string {
  const examples = step.examples.map(
    (example) =>
      `<tr><td><code>${escapeHtml(example.exampleId)}</code></td><td>${escapeHtml(example.question)}</td><td class="number">${numbers(example.rollouts.map(grpoReward))}</td><td>${answers(example)}</td></tr>`,
  );
  const groups = step.examples.flatMap((example) =>
    example.groups.map(
      (group) =>
        `<tr${group.zeroSpread ? ' class="zero-spread"' : ""}><td><code>${escapeHtml(example.exampleId)}</code></td><td>${escapeHtml(group.module)}</td><td class="number">${group.invocation}</td><td class="number">${numbers(group.rewards)}</td><td class="number">${numbers(group.advantages)}</td><td class="number">${group.spread.toFixed(3)}${group.zeroSpread ? " (no signal)" : ""}</td></tr>`,
    ),
  );
  const first = step.examples.find((example) => example.samples.length > 0);
  return `<h3 id="rollouts-step-${step.step}">Step ${step.step}</h3>
<table class="rollouts"><thead><tr><th>example</th><th>question</th><th>rollout rewards</th><th>answers</th></tr></thead><tbody>${examples.join("")}</tbody></table>
<table class="groups"><thead><tr><th>example</th><th>module</th><th>invocation</th><th>rewards</th><th>advantages</th><th>spread</th></tr></thead><tbody>${groups.join("")}</tbody></table>
${first ? samplesHtml(first.exampleId, first.samples) : ""}`;
}

/** The "Rollouts and groups" section of a dry run. */
export function rolloutsSection(steps: readonly RolloutStep[]): string {
  return `<h2 id="rollouts">Rollouts and groups</h2>
<p>A dry run trains and validates nothing: these are its steps' rollouts with the reward GRPO gives each (the metric; −1 for a
rollout that broke the format) and its groups with their advantages (reward − the group's mean, over the group's spread, as
Arbor computes them). A group whose rewards are all equal has advantages of 0: it teaches nothing.</p>
${steps.map(stepHtml).join("\n") || '<p class="note">No rollouts recorded yet.</p>'}`;
}
