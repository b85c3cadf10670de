/** Metrics and rewards (docs/specs/metrics.md). */
export { normalizeAnswer } from "./normalize.ts";
export { exactMatch, expandGoldAnswers, f1Score, trainingGoldForm } from "./answer.ts";
export { retrievalRecall, supportF1 } from "./retrieval.ts";
export { averageOf } from "./average.ts";
export {
  FORMAT_FAILURE_REWARD,
  combinedReward,
  scoreExample,
  type ExampleScore,
} from "./reward.ts";
