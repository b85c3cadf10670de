import { TrainSchema } from "../config/schemas.ts";
import { healthLines } from "../metrics/training-health.ts";
import { nextStepsLines } from "../run/next-steps.ts";
import { runTrain } from "../run/train.ts";
import { printJson, musiqueCommand } from "./_command.ts";

/** `musique train --help`: what it needs, what it checks, how GPUs are held and freed, how to recover (README "Train"). */
const TRAIN_HELP = [
  "Train the program's model with GRPO on an Arbor server (python -m arbor.cli serve --arbor-config arbor.yaml; musique init writes arbor.yaml); --dry-run checks rollouts and groups against any OpenAI-compatible server.",
  "",
  "Arbor: commit 2c1b904 (pyproject 0.2.16; musique's conformance suite runs against it) or the arbor-ai 0.2.16 release; up to 0.2.8 is refused (no …/grpo/status), 0.2.9–0.2.15 are untested.",
  "Checked before any GPU time: --num-rollouts-per-step ≥ 2, ≥ --num-training-gpus × --gradient-accumulation and a multiple of it, dividing --batch-size × --num-training-gpus × --gradient-accumulation (Arbor's trainer rules; the message lists values that work); --temperature > 0; dataset sizes; --base-url is the Arbor server; Arbor answers (waits up to 300 s while Arbor launches a model).",
  "GPUs: Arbor holds a job's GPUs until it is cancelled or restarts. The job a run ends with terminate (its end, Ctrl-C, SIGTERM, SIGHUP) keeps vLLM serving the final weights on all its GPUs. --resume cancels the run's earlier job; any other: curl -X POST <arbor>/v1/fine_tuning/grpo/cancel -H 'content-type: application/json' -d '{\"job_id\":\"JOB\"}', or restart Arbor.",
  'At the end: a health summary (rewards, groups with no reward spread, format failures, JSON fallback; a WARNING when most groups carry no signal) and the commands to serve the best checkpoint with vLLM (LoRA: --enable-lora --lora-modules) and to evaluate and compare it (README "After training").',
  "Recovering: too few free GPUs → cancel the jobs the message names; initialize past --arbor-timeout, a crashed trainer (found by a step Arbor never accepts; the job is cancelled), a failed terminate, a stop signal → musique train --resume RUN (settles the earlier job, records its checkpoint_final, continues in a new job <run>-r<N>).",
].join("\n");

export default musiqueCommand({
  name: "train",
  description: TRAIN_HELP,
  schema: TrainSchema,
  run: async (options, { signal }) => {
    const summary = await runTrain(options, signal);
    if (options.json) {
      printJson(summary);
      return;
    }
    const lines = [`run: ${summary.run}`, `steps completed: ${summary.stepsCompleted}`];
    if (summary.jobId) lines.push(`Arbor job: ${summary.jobId}`);
    if (summary.best)
      lines.push(`best validation: reward ${summary.best.reward.toFixed(4)}, F1 ${summary.best.f1.toFixed(3)} after ${summary.best.step} steps`);
    for (const checkpoint of summary.checkpoints) lines.push(`checkpoint ${checkpoint.name} (after ${checkpoint.step} steps): ${checkpoint.directory ?? "?"}`);
    if (summary.groupsFile) lines.push(`groups: ${summary.groupsFile}`);
    lines.push(`outputs: ${summary.outputDirectory}`, `database: ${summary.database}`);
    lines.push(`health: ${healthLines(summary.health).join("\n")}`, ...summary.warnings.map((warning) => `WARNING: ${warning}`));
    if (summary.next) lines.push(...nextStepsLines(summary.next));
    process.stdout.write(lines.join("\n") + "\n");
  },
});
