/**
 * `musique score --gold GOLD.jsonl --predictions PRED.jsonl [--detailed]`: MuSiQue's official
 * evaluation (evaluate_v1.0.py) of a predictions file; prints {"answer_f1","answer_em","support_f1"}
 * (and "by_hops" with --detailed) as JSON.
 */
import { ScoreSchema } from "../config/schemas.ts";
import { evaluateOfficialFiles } from "../metrics/official-files.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "score",
  description: "Score a predictions file with MuSiQue's official metrics (answer EM/F1, support F1)",
  schema: ScoreSchema,
  run: async (options) => {
    printJson(await evaluateOfficialFiles(options.gold, options.predictions, { detailed: options.detailed }));
  },
});
