import { TrainSchema } from "../config/schemas.ts";
import { runTrain } from "../run/train.ts";
import { printJson, musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "train",
  description:
    "Train the program's model with GRPO on an Arbor server (python -m arbor.cli serve --arbor-config arbor.yaml); --dry-run checks rollouts and groups against any OpenAI-compatible server",
  schema: TrainSchema,
  run: async (options, { signal }) => {
    const summary = await runTrain(options, signal);
    if (options.json) {
      printJson(summary);
      return;
    }
    const lines = [`run: ${summary.run}`, `steps completed: ${summary.stepsCompleted}`];
    if (summary.jobId) lines.push(`Arbor job: ${summary.jobId}`);
    if (summary.best) lines.push(`best validation: reward ${summary.best.reward.toFixed(4)}, F1 ${summary.best.f1.toFixed(3)} after step ${summary.best.step}`);
    for (const checkpoint of summary.checkpoints) lines.push(`checkpoint ${checkpoint.name} (step ${checkpoint.step}): ${checkpoint.directory ?? "?"}`);
    if (summary.groupsFile) lines.push(`groups: ${summary.groupsFile}`);
    lines.push(`outputs: ${summary.outputDirectory}`, `database: ${summary.database}`);
    process.stdout.write(lines.join("\n") + "\n");
  },
});
