/**
 * The training page's charts, from GET /api/runs/NAME/training, drawn with the report's SVG kit
 * (src/report/svg.ts: the same charts as report --html; redrawing a few hundred points per update
 * is cheap, so no charting library is needed). The x axis is "steps completed": step N's
 * rollouts, groups and trainer updates sit at N (the steps completed once it is done), validations
 * at the steps completed when they ran (0 = before training), so the validation after step N
 * shares its x. The reward chart has a click target per step.
 */
import { validationSeries } from "../../report/html.ts";
import { lineChart, type LineSeries } from "../../report/svg.ts";
import type { StepHealth, TrainingPayload } from "../types.ts";
import { escapeHtml, stepName } from "./dom.ts";

const X_LABEL = "steps completed";

/** One x range for every chart of a run: 0 (before training) to its last step or validation. */
function stepDomain(payload: TrainingPayload): [number, number] {
  return [0, Math.max(0, ...payload.steps.map((step) => step.step), ...payload.validations.map((row) => row.step))];
}

function note(id: string, text: string): string {
  return `<p class="note" id="${id}">${escapeHtml(text)}</p>`;
}

function points(steps: readonly StepHealth[], value: (step: StepHealth) => number | null): Array<{ x: number; y: number }> {
  return steps.flatMap((step) => {
    const y = value(step);
    return y === null || Number.isNaN(y) ? [] : [{ x: step.step, y }];
  });
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** Mean reward with a band of ± the mean within-group spread; clicking a step opens it in the inspector. */
export function rewardChart(payload: TrainingPayload, selected: number | null): string {
  const steps = payload.steps.filter((step) => step.meanReward !== null);
  if (steps.length === 0) return note("reward-empty", "No rollouts recorded yet: the first step's rewards appear here as soon as it is written.");
  const series: LineSeries = {
    name: "mean reward (band: ± mean within-group spread)",
    points: points(steps, (step) => step.meanReward),
    band: steps.map((step) => {
      const mean = step.meanReward ?? 0;
      const spread = step.meanGroupSpread ?? 0;
      return { x: step.step, low: mean - spread, high: mean + spread };
    }),
  };
  return lineChart([series], {
    title: "Reward per step (click a step to inspect its groups)",
    xLabel: X_LABEL,
    xDomain: stepDomain(payload),
    yLabel: "reward",
    width: 600,
    stepTargets: { selected, label: (x) => `${stepName(x)}: click to inspect its groups` },
  });
}

export function signalChart(payload: TrainingPayload): string {
  const steps = payload.steps.filter((step) => step.groups > 0);
  if (steps.length === 0) return note("signal-empty", "No GRPO groups recorded yet.");
  return lineChart(
    [
      { name: "mean within-group spread (std)", points: points(steps, (step) => step.meanGroupSpread) },
      { name: "share of groups with zero spread", points: points(steps, (step) => share(step.zeroSpreadGroups, step.groups)) },
    ],
    { title: "Learning signal: reward spread inside each group", xLabel: X_LABEL, xDomain: stepDomain(payload), yLabel: "spread / share", width: 600 },
  );
}

export function failureChart(payload: TrainingPayload): string {
  const steps = payload.steps.filter((step) => step.rollouts > 0);
  if (steps.length === 0) return note("failure-empty", "No rollouts recorded yet.");
  const callShare = (pick: (completion: NonNullable<StepHealth["completion"]>) => number | null) => (step: StepHealth) => {
    const completion = step.completion;
    const part = completion ? pick(completion) : null;
    return completion && part !== null ? share(part, completion.calls) : null;
  };
  const series: LineSeries[] = [
    { name: "rollouts with a format failure", points: points(steps, (step) => share(step.formatFailureRollouts, step.rollouts)) },
    {
      name: "calls cut at --max-tokens",
      points: points(
        steps,
        callShare((completion) => completion.truncated),
      ),
    },
  ];
  if (payload.fallback.recorded) {
    series.push(
      {
        name: "calls that fell back to the JSONAdapter",
        points: points(
          steps,
          callShare((completion) => completion.fallbackCalls),
        ),
      },
      {
        name: "calls the fallback rescued",
        points: points(
          steps,
          callShare((completion) => completion.rescuedCalls),
        ),
      },
    );
  }
  return lineChart(series, {
    title: "Format failures, truncation and fallback",
    xLabel: X_LABEL,
    xDomain: stepDomain(payload),
    yLabel: "share",
    yRange: [0, 1],
    width: 600,
  });
}

export function lengthChart(payload: TrainingPayload): string {
  const steps = payload.steps.filter((step) => (step.completion?.callsWithTokens ?? 0) > 0);
  if (steps.length === 0) {
    return note("length-empty", "Completion length: not recorded (the server returned no token usage, e.g. LEGACY Arbor, or no rollouts yet).");
  }
  return lineChart(
    [
      { name: "mean completion tokens", points: points(steps, (step) => step.completion?.meanTokens ?? null) },
      { name: "longest", points: points(steps, (step) => step.completion?.maxTokens ?? null) },
    ],
    { title: "Completion length per module call", xLabel: X_LABEL, xDomain: stepDomain(payload), yLabel: "tokens", width: 600 },
  );
}

export function moduleChart(payload: TrainingPayload): string {
  if (payload.modules.length === 0) return note("module-empty", "No GRPO groups recorded yet.");
  const series = payload.modules.map((module) => ({ name: module, points: points(payload.steps, (step) => step.rewardByModule[module] ?? null) }));
  return lineChart(series, { title: "Reward per module (mean over its groups)", xLabel: X_LABEL, xDomain: stepDomain(payload), yLabel: "reward", width: 600 });
}

export function validationChart(payload: TrainingPayload): string {
  if (payload.validations.length === 0) {
    const why = payload.run.kind === "dry run" ? "a dry run does not validate" : "no validation has finished yet";
    return note("validation-empty", `Validation: none recorded (${why}).`);
  }
  return lineChart(validationSeries(payload.validations), {
    title: "Validation over steps",
    xLabel: X_LABEL,
    xDomain: stepDomain(payload),
    yLabel: "score",
    width: 600,
  });
}

export function trainerChart(payload: TrainingPayload): string {
  const trainer = payload.trainer;
  if (!trainer.recorded) return note("trainer-metrics", `Trainer loss / KL / grad norm / learning rate: not recorded: ${trainer.reason}.`);
  return Object.entries(trainer.series)
    .map(([name, series]) =>
      lineChart([{ name, points: series.map((point) => ({ x: point.step, y: point.value })) }], {
        title: `Trainer: ${name}`,
        xLabel: X_LABEL,
        xDomain: stepDomain(payload),
        yLabel: name,
        width: 420,
        height: 240,
      }),
    )
    .join("\n");
}

export function fallbackNote(payload: TrainingPayload): string {
  return payload.fallback.recorded ? "" : note("fallback", `JSONAdapter fallback rate: not recorded: ${payload.fallback.reason}.`);
}
